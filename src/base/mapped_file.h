// Read-only view of a whole file. Backed by mmap, so bytes are paged in only
// when touched: a multi-GB weight file costs address space, not memory, until
// someone reads a blob. Movable, not copyable; the view dies with the object.
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
};

// Reads a small file whole into a string (manifests, metadata, MIL text).
// Same errors as MappedFile::Open.
Result<std::string> ReadFileToString(const std::string& path);

}  // namespace anepilot
