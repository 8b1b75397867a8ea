// libFuzzer target: weight blob storage (weights/weight.bin) headers. The
// input is the weight file; every 64-byte-aligned offset is checked against
// expectations derived from the input, as ReadModel does for each BLOBFILE
// reference. Must never read out of bounds or crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "format/blob_storage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using anepilot::format::BlobExpectation;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto file = anepilot::format::BlobFile::View(bytes, "weight.bin");
  if (!file.ok()) return 0;
  for (uint64_t offset = 0; offset <= size + 64 && offset < 64 * 256; offset += 64) {
    BlobExpectation expect;
    if (offset + 12 <= size) {
      expect.dtype = static_cast<anepilot::ir::DType>(data[offset + 8] % 24);
      expect.size_bytes = static_cast<uint64_t>(data[offset + 9]) << (data[offset + 10] % 64);
    }
    (void)file->Check(offset, expect);
    (void)file->HeaderAt(offset + (size % 7));  // unaligned offsets too
  }
  (void)file->Check(UINT64_MAX - 10, {});
  return 0;
}
