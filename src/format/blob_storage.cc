#include "format/blob_storage.h"

#include <fmt/format.h>

#include <cstring>

namespace anepilot::format {

namespace {

uint32_t LoadU32(const char* p) {
  uint8_t b[4];
  std::memcpy(b, p, 4);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

uint64_t LoadU64(const char* p) {
  return uint64_t{LoadU32(p)} | uint64_t{LoadU32(p + 4)} << 32;
}

std::string_view BlobTypeName(uint32_t code) {
  auto dtype = DTypeForBlobCode(code);
  return dtype ? ir::DTypeName(*dtype) : std::string_view("unknown");
}

}  // namespace

std::optional<ir::DType> DTypeForBlobCode(uint32_t code) {
  using ir::DType;
  switch (code) {
    case 1: return DType::kFloat16;
    case 2: return DType::kFloat32;
    case 3: return DType::kUInt8;
    case 4: return DType::kInt8;
    case 5: return DType::kBFloat16;
    case 6: return DType::kInt16;
    case 7: return DType::kUInt16;
    case 8: return DType::kInt4;
    case 9: return DType::kUInt1;
    case 10: return DType::kUInt2;
    case 11: return DType::kUInt4;
    case 12: return DType::kUInt3;
    case 13: return DType::kUInt6;
    case 14: return DType::kInt32;
    case 15: return DType::kUInt32;
    case 16: return DType::kFloat8E4M3;
    case 17: return DType::kFloat8E5M2;
    default: return std::nullopt;
  }
}

Result<BlobFile> BlobFile::Open(const std::string& path) {
  ANEPILOT_ASSIGN_OR_RETURN(MappedFile map, MappedFile::Open(path));
  std::string_view bytes = map.view();
  ANEPILOT_ASSIGN_OR_RETURN(BlobFile file, FromBytes(bytes, path));
  file.map_ = std::move(map);  // the mapping's address does not change on move
  return file;
}

Result<BlobFile> BlobFile::View(std::string_view bytes, std::string name) {
  return FromBytes(bytes, std::move(name));
}

Result<BlobFile> BlobFile::FromBytes(std::string_view bytes, std::string name) {
  if (bytes.size() < kBlobHeaderBytes) {
    return CorruptWeights(fmt::format(
        "{}: {} bytes, too short for the 64-byte blob storage header; the weight file is "
        "truncated or not a Core ML weight file", name, bytes.size()));
  }
  uint32_t version = LoadU32(bytes.data() + 4);
  if (version != kBlobStorageVersion) {
    return CorruptWeights(fmt::format(
        "{}: blob storage version {}, expected {}; not a Core ML ML Program weight file",
        name, version, kBlobStorageVersion));
  }
  BlobFile file;
  file.bytes_ = bytes;
  file.name_ = std::move(name);
  file.count_ = LoadU32(bytes.data());
  return file;
}

Result<BlobHeader> BlobFile::HeaderAt(uint64_t offset) const {
  if (offset < kBlobHeaderBytes) {
    return CorruptWeights(fmt::format(
        "offset {} lies inside the 64-byte storage header", offset));
  }
  if (offset > bytes_.size() || bytes_.size() - offset < kBlobHeaderBytes) {
    return CorruptWeights(fmt::format(
        "metadata header [{}, {}) lies past the end of the file ({} bytes)", offset,
        offset + kBlobHeaderBytes, bytes_.size()));
  }
  const char* p = bytes_.data() + offset;
  BlobHeader h;
  h.sentinel = LoadU32(p);
  h.dtype_code = LoadU32(p + 4);
  h.size_bytes = LoadU64(p + 8);
  h.data_offset = LoadU64(p + 16);
  return h;
}

Result<BlobHeader> BlobFile::Check(uint64_t offset, const BlobExpectation& expected) const {
  ANEPILOT_ASSIGN_OR_RETURN(BlobHeader h, HeaderAt(offset));
  if (h.sentinel != kBlobSentinel) {
    return CorruptWeights(fmt::format(
        "bad sentinel 0x{:08x} (expected 0xdeadbeef): the offset does not point at a blob "
        "header; the weight file does not belong to this model or is corrupt", h.sentinel));
  }
  auto stored = DTypeForBlobCode(h.dtype_code);
  if (!stored) {
    return CorruptWeights(fmt::format("unknown blob data type code {}", h.dtype_code));
  }
  if (expected.dtype != ir::DType::kUnknown && *stored != expected.dtype) {
    return CorruptWeights(fmt::format(
        "blob holds {} data (type code {}) but the program declares {}",
        BlobTypeName(h.dtype_code), h.dtype_code, ir::DTypeName(expected.dtype)));
  }
  if (expected.size_bytes && h.size_bytes != *expected.size_bytes) {
    return CorruptWeights(fmt::format(
        "blob size {} bytes, but the declared tensor needs {} bytes", h.size_bytes,
        *expected.size_bytes));
  }
  if (h.data_offset > bytes_.size() || bytes_.size() - h.data_offset < h.size_bytes) {
    return CorruptWeights(fmt::format(
        "data [{}, {}) runs past the end of the file ({} bytes)", h.data_offset,
        h.data_offset + h.size_bytes, bytes_.size()));
  }
  return h;
}

}  // namespace anepilot::format
