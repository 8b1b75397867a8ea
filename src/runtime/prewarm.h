// Prewarm: specialize a list of models ahead of use (at launch, in a
// background task) so that their first real load is warm.
//
// One model at a time, on one background thread: specialization can take
// hundreds of MB, and two at once is how apps get killed by the memory limit.
// What "warm one model" means is the caller's function (the runtime's: store
// the compiled model, load it with its chosen configuration under the crash
// guard, unload it).
//
// Cancel() stops before the next model (the one in progress finishes: a Core
// ML load cannot be interrupted). Progress is reported after each model from
// the background thread.
//
// Thread-safety: all methods may be called from any thread. The destructor
// cancels and waits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "anepilot/status.h"

namespace anepilot::runtime {

struct PrewarmProgress {
  size_t index = 0;   // of the model just handled
  size_t done = 0;    // models handled so far (including this one)
  size_t total = 0;
  std::string item;   // the model path
  Status status;      // its result
};

struct PrewarmSummary {
  size_t warmed = 0;
  size_t failed = 0;
  size_t skipped = 0;  // not started because of Cancel()
  bool cancelled = false;
};

class Prewarmer {
 public:
  using WarmFn = std::function<Status(const std::string& item)>;
  using ProgressFn = std::function<void(const PrewarmProgress&)>;

  // Starts at once on a background thread.
  Prewarmer(std::vector<std::string> items, WarmFn warm, ProgressFn progress = {});
  ~Prewarmer();
  Prewarmer(const Prewarmer&) = delete;
  Prewarmer& operator=(const Prewarmer&) = delete;

  void Cancel() { cancel_.store(true); }
  // Blocks until every model is handled or skipped.
  PrewarmSummary Wait();
  bool finished() const;

 private:
  void Run();

  std::vector<std::string> items_;
  WarmFn warm_;
  ProgressFn progress_;
  std::atomic<bool> cancel_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;   // guarded by mu_
  PrewarmSummary summary_;  // guarded by mu_ once finished_
  std::thread thread_;
};

}  // namespace anepilot::runtime
