// An exclusive flock() on a file, released when the object dies (or when
// the process dies: the kernel drops flock locks of dead processes, which is
// what lets the guard tell a live marker from a dead one).
#pragma once

#include <string>

#include "anepilot/result.h"

namespace anepilot::guard_internal {

class FileLock {
 public:
  // Opens (creating) `path` and blocks until the lock is held. kIoError on failure.
  static Result<FileLock> Acquire(const std::string& path);

  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// flock(LOCK_EX | LOCK_NB) on an open descriptor: true if acquired, false if
// another open file description holds it. kIoError for other failures.
Result<bool> TryLockDescriptor(int fd, const std::string& path_for_errors);

}  // namespace anepilot::guard_internal
