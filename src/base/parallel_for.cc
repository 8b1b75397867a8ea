#include "base/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace anepilot {
namespace {

// Tells the core that this thread is in a spin-wait loop (cheaper for a
// sibling hyperthread, and for power).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}

// Spins until done() or `budget` has passed (callers re-check under their lock).
// Waking a thread blocked on a condition variable costs 5-50 us (a futex
// call, then the scheduler; most on virtual machines), as much as a whole
// ParallelFor over a small model's operations, so both sides of a job spin a
// little before they block, as OpenMP runtimes and onnxruntime's pool do.
template <typename Done>
void SpinUntil(Done done, std::chrono::microseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (!done()) {
    for (int i = 0; i < 32; ++i) CpuRelax();
    if (std::chrono::steady_clock::now() >= deadline) return;
  }
}

// How long an idle pool thread keeps watching for the next job before it
// sleeps, and how long a caller watches for its job's end. Readers run a few
// parallel phases per model, separated by short serial steps; an idle thread
// costs this much CPU per job at most.
constexpr std::chrono::microseconds kWorkerSpin{250};
constexpr std::chrono::microseconds kCallerSpin{100};

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
    bool sleepers = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      sleepers = sleepers_ > 0;
      fn_ = &fn;
      count_ = count;
      next_.store(0, std::memory_order_relaxed);
      done_ = 0;
      pieces_done_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleepers) wake_.notify_all();  // spinning threads see generation_ change
    size_t mine = Work();
    SpinUntil([&] {
      return pieces_done_.load(std::memory_order_acquire) == count &&
             active_.load(std::memory_order_acquire) == 0;
    }, kCallerSpin);
    std::unique_lock<std::mutex> lock(mu_);
    done_ += mine;
    finished_.wait(lock, [&] { return done_ == count_ && active_.load(std::memory_order_relaxed) == 0; });
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
      pieces_done_.fetch_add(1, std::memory_order_release);
      ++ran;
    }
    return ran;
  }

  void Loop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      auto job_ready = [&] { return generation_.load(std::memory_order_relaxed) != seen && fn_ != nullptr; };
      if (!job_ready()) {
        lock.unlock();
        SpinUntil([&] { return generation_.load(std::memory_order_acquire) != seen; }, kWorkerSpin);
        lock.lock();
        ++sleepers_;
        wake_.wait(lock, job_ready);
        --sleepers_;
      }
      seen = generation_.load(std::memory_order_relaxed);
      active_.fetch_add(1, std::memory_order_relaxed);
      lock.unlock();
      size_t ran = Work();
      lock.lock();
      done_ += ran;
      active_.fetch_sub(1, std::memory_order_release);
      if (done_ == count_ && active_.load(std::memory_order_relaxed) == 0) finished_.notify_all();
    }
  }

  std::mutex busy_;  // held by the caller whose job the pool runs
  std::mutex mu_;
  std::condition_variable wake_, finished_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  size_t done_ = 0;
  // Written under mu_; also read without it by spinning threads.
  std::atomic<unsigned> active_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<size_t> pieces_done_{0};  // this job's pieces finished, by any thread
  unsigned sleepers_ = 0;               // pool threads blocked on wake_ (under mu_)
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
