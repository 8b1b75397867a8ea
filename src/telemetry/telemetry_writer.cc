// The crash-safe, bounded, thread-safe JSON-lines writer.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "base/durable_file.h"
#include "telemetry/telemetry.h"

namespace anepilot {
namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Errno(std::string_view op, const std::string& path) {
  return IoError(fmt::format("{}: {} failed: {}", path, op, std::strerror(errno)));
}

// Holds flock on the rotation lock file for its lifetime.
class RotationLock {
 public:
  explicit RotationLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0) {
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~RotationLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace

struct TelemetryWriter::Impl {
  TelemetryWriterOptions options;
  std::string current_path;
  std::string lock_path;
  std::mutex mu;
  int fd = -1;

  std::string RotatedPath(int n) const {
    return fmt::format("{}/{}.{}.jsonl", options.dir, options.base_name, n);
  }

  Status OpenCurrent() {
    if (fd >= 0) ::close(fd);
    fd = ::open(current_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("open", current_path);
    return Status::Ok();
  }

  // True when another process rotated the file under us (our descriptor no
  // longer names the current path).
  bool Stale() const {
    struct stat mine, named;
    if (::fstat(fd, &mine) != 0 || ::stat(current_path.c_str(), &named) != 0) return true;
    return mine.st_ino != named.st_ino || mine.st_dev != named.st_dev;
  }

  Status RotateIfNeeded(size_t incoming) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return Errno("fstat", current_path);
    if (st.st_size == 0 || static_cast<uint64_t>(st.st_size) + incoming <= options.max_file_bytes) {
      return Status::Ok();
    }
    RotationLock lock(lock_path);
    if (!lock.ok()) return Errno("open lock", lock_path);
    if (Stale()) {  // someone else rotated; append to the new file
      ANEPILOT_RETURN_IF_ERROR(OpenCurrent());
      if (::fstat(fd, &st) != 0) return Errno("fstat", current_path);
      if (static_cast<uint64_t>(st.st_size) + incoming <= options.max_file_bytes) return Status::Ok();
    }
    int keep = options.keep_files;
    if (keep == 1) {
      if (::unlink(current_path.c_str()) != 0 && errno != ENOENT) return Errno("unlink", current_path);
    } else {
      ::unlink(RotatedPath(keep - 1).c_str());
      for (int n = keep - 2; n >= 1; --n) {
        if (::rename(RotatedPath(n).c_str(), RotatedPath(n + 1).c_str()) != 0 && errno != ENOENT) {
          return Errno("rename", RotatedPath(n));
        }
      }
      if (::rename(current_path.c_str(), RotatedPath(1).c_str()) != 0) {
        return Errno("rename", current_path);
      }
    }
    return OpenCurrent();
  }

  Status Sync() {
#if defined(__linux__)
    if (::fdatasync(fd) != 0) return Errno("fdatasync", current_path);
    return Status::Ok();
#else
    return SyncFileDescriptor(fd, current_path);
#endif
  }
};

Result<std::unique_ptr<TelemetryWriter>> TelemetryWriter::Open(TelemetryWriterOptions options) {
  if (options.dir.empty()) return InvalidArgument("telemetry: options.dir is empty");
  if (options.base_name.empty() || options.base_name.find('/') != std::string::npos) {
    return InvalidArgument(fmt::format("telemetry: base_name \"{}\" must be a plain file name",
                                       options.base_name));
  }
  if (options.keep_files < 1) {
    return InvalidArgument(fmt::format("telemetry: keep_files {} must be >= 1", options.keep_files));
  }
  if (options.max_file_bytes < 1024) {
    return InvalidArgument(fmt::format("telemetry: max_file_bytes {} must be >= 1024",
                                       options.max_file_bytes));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return IoError(fmt::format("{}: cannot create telemetry directory: {}", options.dir, ec.message()));
  auto impl = std::make_unique<Impl>();
  impl->current_path = fmt::format("{}/{}.jsonl", options.dir, options.base_name);
  impl->lock_path = fmt::format("{}/{}.lock", options.dir, options.base_name);
  impl->options = std::move(options);
  ANEPILOT_RETURN_IF_ERROR(impl->OpenCurrent());
  return std::unique_ptr<TelemetryWriter>(new TelemetryWriter(std::move(impl)));
}

TelemetryWriter::TelemetryWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TelemetryWriter::~TelemetryWriter() {
  if (impl_->fd >= 0) ::close(impl_->fd);
}

const std::string& TelemetryWriter::current_path() const { return impl_->current_path; }

Status TelemetryWriter::Write(const TelemetryEvent& event) {
  std::string line;
  if (event.ts_ms == 0) {
    TelemetryEvent stamped = event;
    stamped.ts_ms = impl_->options.now_ms ? impl_->options.now_ms() : SystemNowMs();
    line = SerializeTelemetryEvent(stamped);
  } else {
    line = SerializeTelemetryEvent(event);
  }
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(impl_->mu);
  ANEPILOT_RETURN_IF_ERROR(impl_->RotateIfNeeded(line.size()));
  // One write() of the whole line on an O_APPEND descriptor: the line lands
  // whole or (after a kill) not at all, and never interleaves with another.
  ssize_t n;
  do {
    n = ::write(impl_->fd, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno("write", impl_->current_path);
  if (static_cast<size_t>(n) != line.size()) {
    // Terminate the partial line so the next event starts clean; the reader
    // skips the fragment.
    (void)::write(impl_->fd, "\n", 1);
    return IoError(fmt::format("{}: short write ({} of {} bytes; disk full?)", impl_->current_path,
                               n, line.size()));
  }
  if (impl_->options.sync_each_event) return impl_->Sync();
  return Status::Ok();
}

Status TelemetryWriter::Sync() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Sync();
}

}  // namespace anepilot
