#include "runtime/clock.h"

#include <thread>

namespace anepilot::runtime {

Nanos RealClock::Now() const {
  return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now().time_since_epoch());
}

void RealClock::SleepFor(Nanos d) {
  if (d.count() > 0) std::this_thread::sleep_for(d);
}

Clock& SystemClock() {
  static RealClock* clock = new RealClock();
  return *clock;
}

}  // namespace anepilot::runtime
