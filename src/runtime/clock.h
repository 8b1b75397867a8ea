// Time as the runtime sees it, injected so that tests run without sleeping.
//
// RealClock reads std::chrono::steady_clock and really sleeps. FakeClock's time
// only moves when someone sleeps on it (or Advance() is called): a simulated
// 3-second Neural Engine compile costs a unit test nothing. Both are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace anepilot::runtime {

using Nanos = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time since an arbitrary origin.
  virtual Nanos Now() const = 0;
  // Blocks the calling thread for `d` (on a fake clock: advances time instead).
  virtual void SleepFor(Nanos d) = 0;
};

class RealClock final : public Clock {
 public:
  Nanos Now() const override;
  void SleepFor(Nanos d) override;
};

// The process-wide real clock (never destroyed).
Clock& SystemClock();

class FakeClock final : public Clock {
 public:
  Nanos Now() const override { return Nanos(now_.load()); }
  // Returns at once; the clock moves forward by `d`. With several threads
  // sleeping, their sleeps add up (time is a shared counter, not per thread).
  void SleepFor(Nanos d) override { now_.fetch_add(d.count()); }
  void Advance(Nanos d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> now_{0};
};

// Milliseconds as a double, for reports and telemetry.
inline double ToMillis(Nanos d) { return static_cast<double>(d.count()) / 1e6; }
inline Nanos FromMillis(double ms) { return Nanos(static_cast<int64_t>(ms * 1e6)); }

}  // namespace anepilot::runtime
