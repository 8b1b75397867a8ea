#include "base/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace anepilot {
namespace {

// One job at a time: pieces are claimed through an atomic counter by the
// caller and by the pool's threads; the caller waits until every claimed
// piece is done. A second caller arriving while a job runs does its pieces
// itself (busy_ is taken with try_lock), so the pool never queues.
class Pool {
 public:
  static Pool& Get() {
    // Leaked on purpose: joining at static destruction would race with
    // other static destructors; the threads sleep until the process ends.
    static Pool* pool = new Pool();
    return *pool;
  }

  void Run(size_t count, const std::function<void(size_t)>& fn) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock() || workers_ == 0) {
      for (size_t i = 0; i < count; ++i) fn(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      count_ = count;
      next_.store(0, std::memory_order_relaxed);
      done_ = 0;
      ++generation_;
    }
    wake_.notify_all();
    size_t mine = Work();
    std::unique_lock<std::mutex> lock(mu_);
    done_ += mine;
    finished_.wait(lock, [&] { return done_ == count_ && active_ == 0; });
    fn_ = nullptr;
  }

 private:
  Pool() {
    unsigned want = std::min(kMaxPoolThreads, UsefulThreads() - 1);
    for (unsigned i = 0; i < want; ++i) {
      try {
        std::thread(&Pool::Loop, this).detach();
        ++workers_;
      } catch (const std::system_error&) {
        break;  // fewer helpers; the caller does the rest
      }
    }
  }

  // Claims and runs pieces until none are left; returns how many it ran.
  size_t Work() {
    size_t ran = 0;
    for (size_t i = next_.fetch_add(1); i < count_; i = next_.fetch_add(1)) {
      (*fn_)(i);
      ++ran;
    }
    return ran;
  }

  void Loop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      wake_.wait(lock, [&] { return generation_ != seen && fn_ != nullptr; });
      seen = generation_;
      ++active_;
      lock.unlock();
      size_t ran = Work();
      lock.lock();
      done_ += ran;
      --active_;
      if (done_ == count_ && active_ == 0) finished_.notify_all();
    }
  }

  std::mutex busy_;  // held by the caller whose job the pool runs
  std::mutex mu_;
  std::condition_variable wake_, finished_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  size_t done_ = 0;
  unsigned active_ = 0;
  uint64_t generation_ = 0;
  unsigned workers_ = 0;
};

}  // namespace

unsigned UsefulThreads() {
  // Asked once: hardware_concurrency() reads /sys on Linux, and every model
  // read asks.
  static const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxPoolThreads + 1);
  return n;
}

void ParallelFor(size_t count, const std::function<void(size_t)>& fn) {
  if (count == 0) return;
  if (count == 1 || UsefulThreads() == 1) {
    for (size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  Pool::Get().Run(count, fn);
}

void ParallelForRanges(size_t n, unsigned parts, const std::function<void(size_t, size_t, size_t)>& fn) {
  ParallelFor(parts, [&](size_t part) { fn(part, n * part / parts, n * (part + 1) / parts); });
}

}  // namespace anepilot
