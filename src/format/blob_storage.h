// Core ML's weight blob storage (format version 2): the `weights/weight.bin`
// file of ML Program packages and compiled models.
//
// Layout (little-endian, every record 64-byte aligned):
//   offset 0:  storage header, 64 bytes: uint32 blob count, uint32 version (2),
//              56 reserved bytes.
//   offset N:  per blob, a 64-byte metadata header at the offset the program
//              references (BLOBFILE offset): uint32 sentinel 0xDEADBEEF,
//              uint32 data type code, uint64 data size in bytes, uint64 file
//              offset of the data, 40 reserved bytes (not checked: real files
//              carry arbitrary bytes there).
//
// BlobFile only reads headers: the data itself is never touched, so a
// multi-GB file costs address space, not memory (see MappedFile).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anepilot/ir.h"
#include "anepilot/result.h"
#include "base/mapped_file.h"

namespace anepilot::format {

inline constexpr uint32_t kBlobSentinel = 0xDEADBEEF;
inline constexpr uint32_t kBlobStorageVersion = 2;
inline constexpr uint64_t kBlobHeaderBytes = 64;

// The element type a blob data type code stands for; nullopt for codes this
// reader does not know.
std::optional<ir::DType> DTypeForBlobCode(uint32_t code);

// One blob's 64-byte metadata header, as stored.
struct BlobHeader {
  uint32_t sentinel = 0;
  uint32_t dtype_code = 0;
  uint64_t size_bytes = 0;
  uint64_t data_offset = 0;
};

// What a program expects at a blob reference: used to check a header.
struct BlobExpectation {
  ir::DType dtype = ir::DType::kUnknown;  // kUnknown: not checked
  std::optional<uint64_t> size_bytes;     // nullopt: shape not fully known, not checked
};

// A weight file opened for header inspection. Movable, not copyable. Either
// owns a memory map (Open) or views caller-owned bytes (View, which must
// outlive the BlobFile). Thread-safe for concurrent const use.
class BlobFile {
 public:
  // Maps `path` and checks the storage header (size >= 64, version 2).
  // Errors: kNotFound / kIoError from mapping; kCorruptWeights
  // "<path>: ..." when the storage header is short or has another version.
  static Result<BlobFile> Open(const std::string& path);
  // Same checks over bytes already in memory; `name` is used in messages.
  static Result<BlobFile> View(std::string_view bytes, std::string name);

  const std::string& name() const { return name_; }
  uint64_t size() const { return bytes_.size(); }
  uint32_t declared_count() const { return count_; }

  // Reads the metadata header at `offset`. Errors: kCorruptWeights (without
  // the file-name prefix; the caller adds the op context) when the 64 bytes
  // at `offset` are not inside the file.
  Result<BlobHeader> HeaderAt(uint64_t offset) const;

  // Reads and checks the header at `offset` against `expected`: sentinel,
  // known data type, type consistent with expected.dtype, size equal to
  // expected.size_bytes, data range inside the file. Returns the header.
  // Errors: kCorruptWeights whose message says what is wrong (no prefix).
  Result<BlobHeader> Check(uint64_t offset, const BlobExpectation& expected) const;

 private:
  static Result<BlobFile> FromBytes(std::string_view bytes, std::string name);
  MappedFile map_;
  std::string_view bytes_;
  std::string name_;
  uint32_t count_ = 0;
};

}  // namespace anepilot::format
