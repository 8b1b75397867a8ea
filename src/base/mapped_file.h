// Read-only view of a whole file. Backed by mmap, so bytes are paged in only
// when touched: a multi-GB weight file costs address space, not memory, until
// someone reads a blob. A small file opened to be read whole (Paging::kWhole,
// at most kCopyMaxBytes) is instead copied into a heap buffer with read(),
// which costs less than mapping, populating and unmapping it (a 370 KB model
// spec: ~20 us against ~35-45 us, measured on Linux 6.18). Movable, not
// copyable; the view dies with the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "anepilot/result.h"

namespace anepilot {

class MappedFile {
 public:
  // Errors: kNotFound if `path` does not exist, kIoError if it is a directory
  // or cannot be opened / mapped (message names the path and errno text).
  // kLazy: pages are read when touched (weight files). kWhole: the caller
  // reads the whole file at once (a model spec), so it is paged in up front.
  enum class Paging { kLazy, kWhole };
  static constexpr size_t kCopyMaxBytes = size_t{1} << 20;
  static Result<MappedFile> Open(const std::string& path, Paging paging = Paging::kLazy);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const std::string& path() const { return path_; }

 private:
  void Reset();
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;  // data_ is a mapping to unmap, else a buffer to delete[]
};

// Reads a small file whole into a string (manifests, metadata, MIL text).
// Same errors as MappedFile::Open.
Result<std::string> ReadFileToString(const std::string& path);

}  // namespace anepilot
