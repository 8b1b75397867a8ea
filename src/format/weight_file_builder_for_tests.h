// Test helper: builds Core ML blob storage files (weights/weight.bin) byte by
// byte, so tests can make valid files and precisely broken ones. Header-only;
// used by *_test.cc and fuzz seeds only.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace anepilot::format::testing {

class WeightFileBuilder {
 public:
  WeightFileBuilder() { bytes_.assign(64, '\0'); Put32(4, 2); }

  // Appends a blob (metadata header + `data_bytes` bytes of data, 64-aligned)
  // and returns the offset of its metadata header (what BLOBFILE refers to).
  uint64_t AddBlob(uint32_t dtype_code, uint64_t data_bytes) {
    uint64_t header = bytes_.size();
    bytes_.resize(header + 64, '\0');
    Put32(header, 0xDEADBEEF);
    Put32(header + 4, dtype_code);
    Put64(header + 8, data_bytes);
    Put64(header + 16, header + 64);
    bytes_.resize(header + 64 + ((data_bytes + 63) / 64) * 64, '\x5a');
    Put32(0, ++count_);
    return header;
  }

  void Put32(uint64_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void Put64(uint64_t at, uint64_t v) {
    Put32(at, static_cast<uint32_t>(v));
    Put32(at + 4, static_cast<uint32_t>(v >> 32));
  }

  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
  uint32_t count_ = 0;
};

}  // namespace anepilot::format::testing
