// Durability off the caller's path: one background thread that fsyncs the
// files and directories queued to it, in order.
//
// Why: a write(2) or rename(2) reaches the kernel's page cache before it
// returns, and the page cache survives the death of the process however it
// dies (SIGSEGV, abort, SIGKILL, jetsam). Only an OS crash or a power cut can
// lose it, and fsync is what guards against those. Queuing the fsync here lets
// a caller (the crash guard arming a marker, the compiled-model store
// installing an entry) return as soon as its change is safe against a process
// death, and be safe against power loss a few milliseconds later.
//
// Contract:
//   - Jobs run one at a time, in the order they were queued (FIFO), so "fsync
//     the state, then unlink what it accounts for" keeps its order.
//   - SyncFile / SyncDirectory of a path that no longer exists is a no-op, not
//     an error (the file's owner may have removed it meanwhile).
//   - Flush() returns once every job queued before the call has run.
//   - The destructor runs every queued job, then joins the thread.
//   - A failing job is counted (failures()) and its status kept
//     (last_error()); nobody waits for a job, so nothing else reports it.
// The thread starts with the first queued job: an unused DeferredSync costs
// nothing. Do not fork() while jobs are queued (the child has no thread).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "anepilot/status.h"

namespace anepilot {

class DeferredSync {
 public:
  DeferredSync() = default;
  ~DeferredSync();
  DeferredSync(const DeferredSync&) = delete;
  DeferredSync& operator=(const DeferredSync&) = delete;

  // fsync (F_FULLFSYNC on Apple) of the file at `path`, if it still exists.
  void SyncFile(std::string path);
  // fsync of the directory, making creates / renames / unlinks in it durable.
  void SyncDirectory(std::string dir);
  // Any other job (e.g. "write a completion marker once the entry is durable",
  // or removing a temp directory that need not delay the caller).
  void Run(std::function<Status()> job);

  // Blocks until every job queued before this call has run.
  void Flush();

  uint64_t completed() const;  // jobs run so far
  uint64_t failures() const;
  Status last_error() const;

 private:
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::function<Status()>> jobs_;  // guarded by mu_
  uint64_t queued_ = 0;                        // guarded by mu_
  uint64_t completed_ = 0;                     // guarded by mu_
  uint64_t failures_ = 0;                      // guarded by mu_
  Status last_error_;                          // guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  std::thread thread_;                         // started by the first job
};

}  // namespace anepilot
