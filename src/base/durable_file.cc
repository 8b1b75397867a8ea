#include "base/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include <atomic>
#include <fstream>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace anepilot {
namespace {

Status ErrnoStatus(std::string_view op, const std::string& path) {
  return IoError(fmt::format("{}: {} failed: {}", path, op, std::strerror(errno)));
}

}  // namespace

Status SyncFileDescriptor(int fd, const std::string& path_for_errors) {
#if defined(__APPLE__)
  if (::fcntl(fd, F_FULLFSYNC) == 0) return Status::Ok();
  // Some file systems (network, FUSE) do not support F_FULLFSYNC.
#endif
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return ErrnoStatus("fsync", path_for_errors);
  }
  return Status::Ok();
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory", dir);
  Status s = SyncFileDescriptor(fd, dir);
  ::close(fd);
  return s;
}

Status WriteFully(int fd, std::string_view data, const std::string& path_for_errors) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path_for_errors);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string BootSessionId() {
  static const std::string id = [] {
    std::string value;
#if defined(__APPLE__)
    char buf[128] = {};
    size_t size = sizeof buf - 1;
    if (::sysctlbyname("kern.bootsessionuuid", buf, &size, nullptr, 0) == 0) value = buf;
#else
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::getline(in, value);
#endif
    return value;
  }();
  return id;
}

std::string DirectoryOf(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteFileAtomically(const std::string& path, std::string_view contents, bool durable) {
  static std::atomic<uint64_t> counter{0};
  std::string temp = fmt::format("{}.tmp.{}.{}", path, static_cast<long>(::getpid()),
                                 counter.fetch_add(1));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", temp);
  Status s = WriteFully(fd, contents, temp);
  if (s.ok() && durable) s = SyncFileDescriptor(fd, temp);
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus("close", temp);
  if (s.ok() && ::rename(temp.c_str(), path.c_str()) != 0) s = ErrnoStatus("rename to " + path, temp);
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  if (durable) return SyncDirectory(DirectoryOf(path));
  return Status::Ok();
}

}  // namespace anepilot
