#include "base/deferred_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/durable_file.h"

namespace anepilot {
namespace {

// fsync of an existing path; a vanished path is fine (see the header).
Status SyncPathIfPresent(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return IoError(path + ": open for fsync failed: " + std::strerror(errno));
  }
  Status s = SyncFileDescriptor(fd, path);
  ::close(fd);
  return s;
}

}  // namespace

DeferredSync::~DeferredSync() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeferredSync::SyncFile(std::string path) {
  Run([path = std::move(path)] { return SyncPathIfPresent(path, O_RDONLY); });
}

void DeferredSync::SyncDirectory(std::string dir) {
  Run([dir = std::move(dir)] { return SyncPathIfPresent(dir, O_RDONLY | O_DIRECTORY); });
}

void DeferredSync::Run(std::function<Status()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
    ++queued_;
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  work_cv_.notify_one();
}

void DeferredSync::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = queued_;
  done_cv_.wait(lock, [&] { return completed_ >= target; });
}

uint64_t DeferredSync::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

uint64_t DeferredSync::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

Status DeferredSync::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void DeferredSync::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and everything queued has run
    std::function<Status()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    Status s = job();
    lock.lock();
    ++completed_;
    if (!s.ok()) {
      ++failures_;
      last_error_ = s;
    }
    done_cv_.notify_all();
  }
}

}  // namespace anepilot
