#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace anepilot {

namespace {
std::string ErrnoText() { return std::strerror(errno); }
}  // namespace

namespace {

// Opens `path` read-only and stats it: the shared start of Open and
// ReadFileToString, with their errors.
Result<int> OpenRegularFile(const std::string& path, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound(path + ": no such file");
    return IoError(path + ": cannot open: " + ErrnoText());
  }
  if (::fstat(fd, st) != 0) {
    std::string err = ErrnoText();
    ::close(fd);
    return IoError(path + ": cannot stat: " + err);
  }
  if (S_ISDIR(st->st_mode)) {
    ::close(fd);
    return IoError(path + ": is a directory, expected a file");
  }
  return fd;
}

// Reads up to *size bytes of `fd` into `buffer`; *size becomes the count
// read (less if the file shrank since it was stat'ed).
Status ReadAll(int fd, const std::string& path, uint8_t* buffer, size_t* size) {
  size_t done = 0;
  while (done < *size) {
    ssize_t n = ::read(fd, buffer + done, *size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError(path + ": cannot read: " + ErrnoText());
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  *size = done;
  return Status::Ok();
}

}  // namespace

Result<MappedFile> MappedFile::Open(const std::string& path, Paging paging) {
  struct stat st {};
  ANEPILOT_ASSIGN_OR_RETURN(int fd, OpenRegularFile(path, &st));
  MappedFile f;
  f.path_ = path;
  f.size_ = static_cast<size_t>(st.st_size);
  if (paging == Paging::kWhole && f.size_ > 0 && f.size_ <= kCopyMaxBytes) {
    auto* buffer = new uint8_t[f.size_];
    f.data_ = buffer;
    Status read = ReadAll(fd, path, buffer, &f.size_);
    ::close(fd);
    if (!read.ok()) return read;
    return f;
  }
  if (f.size_ > 0) {
    int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
    // One call maps every page (from the page cache) instead of one fault per
    // 4 KiB page touched later: a 370 KB model file took ~90 faults per read.
    if (paging == Paging::kWhole) flags |= MAP_POPULATE;
#endif
    void* p = ::mmap(nullptr, f.size_, PROT_READ, flags, fd, 0);
    if (p == MAP_FAILED) {
      std::string err = ErrnoText();
      ::close(fd);
      return IoError(path + ": cannot map: " + err);
    }
#ifndef MAP_POPULATE
    if (paging == Paging::kWhole) ::madvise(p, f.size_, MADV_WILLNEED);
#endif
    f.data_ = static_cast<const uint8_t*>(p);
    f.mapped_ = true;
  }
  ::close(fd);  // the mapping keeps the file alive
  return f;
}

MappedFile::MappedFile(MappedFile&& other) noexcept { *this = std::move(other); }

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    Reset();
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, false);
  }
  return *this;
}

MappedFile::~MappedFile() { Reset(); }

void MappedFile::Reset() {
  if (data_ != nullptr && mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (data_ != nullptr && !mapped_) delete[] data_;
  data_ = nullptr;
  size_ = 0;
  mapped_ = false;
}

Result<std::string> ReadFileToString(const std::string& path) {
  // read(), not a mapping: for the small files this serves (manifests,
  // metadata) a mapping costs more system calls and a page fault.
  struct stat st {};
  ANEPILOT_ASSIGN_OR_RETURN(int fd, OpenRegularFile(path, &st));
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t size = text.size();
  Status read = ReadAll(fd, path, reinterpret_cast<uint8_t*>(text.data()), &size);
  ::close(fd);
  if (!read.ok()) return read;
  text.resize(size);
  return text;
}

}  // namespace anepilot
