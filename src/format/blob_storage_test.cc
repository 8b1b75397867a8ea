#include "format/blob_storage.h"

#include <gtest/gtest.h>

#include "base/test_paths.h"
#include "format/weight_file_builder_for_tests.h"

namespace anepilot::format {
namespace {

using ir::DType;
using testing::WeightFileBuilder;

constexpr uint32_t kFp16 = 1, kFp32 = 2, kInt8 = 4, kUInt4 = 11;

TEST(BlobStorage, CodesMapToMilTypes) {
  EXPECT_EQ(DTypeForBlobCode(kFp16), DType::kFloat16);
  EXPECT_EQ(DTypeForBlobCode(kFp32), DType::kFloat32);
  EXPECT_EQ(DTypeForBlobCode(3), DType::kUInt8);
  EXPECT_EQ(DTypeForBlobCode(kInt8), DType::kInt8);
  EXPECT_EQ(DTypeForBlobCode(kUInt4), DType::kUInt4);
  EXPECT_EQ(DTypeForBlobCode(14), DType::kInt32);
  EXPECT_FALSE(DTypeForBlobCode(0).has_value());
  EXPECT_FALSE(DTypeForBlobCode(18).has_value());
}

TEST(BlobStorage, ValidBlobPassesEveryCheck) {
  WeightFileBuilder b;
  uint64_t first = b.AddBlob(kFp16, 2 * 64 * 3);
  uint64_t second = b.AddBlob(kInt8, 10);
  auto file = BlobFile::View(b.bytes(), "w.bin");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->declared_count(), 2u);
  auto h = file->Check(first, {DType::kFloat16, 2 * 64 * 3});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->data_offset, first + 64);
  EXPECT_TRUE(file->Check(second, {DType::kInt8, 10}).ok());
  // Unknown expectations are not checked.
  EXPECT_TRUE(file->Check(second, {}).ok());
}

TEST(BlobStorage, ShortFileAndWrongVersionAreCorrupt) {
  auto tiny = BlobFile::View(std::string(10, '\0'), "w.bin");
  ASSERT_FALSE(tiny.ok());
  EXPECT_EQ(tiny.status().code(), StatusCode::kCorruptWeights);
  EXPECT_NE(tiny.status().message().find("w.bin: 10 bytes"), std::string::npos);

  WeightFileBuilder b;
  b.Put32(4, 1);  // espresso blob_v1, not ML Program storage
  auto v1 = BlobFile::View(b.bytes(), "w.bin");
  ASSERT_FALSE(v1.ok());
  EXPECT_NE(v1.status().message().find("version 1, expected 2"), std::string::npos);
}

TEST(BlobStorage, OffsetPastEndIsReported) {
  WeightFileBuilder b;
  b.AddBlob(kFp16, 64);
  auto file = BlobFile::View(b.bytes(), "w.bin");
  ASSERT_TRUE(file.ok());
  auto h = file->Check(4096, {DType::kFloat16, 64});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kCorruptWeights);
  EXPECT_NE(h.status().message().find("past the end of the file (192 bytes)"), std::string::npos)
      << h.status().message();
  auto inside = file->Check(0, {});
  ASSERT_FALSE(inside.ok());
  EXPECT_NE(inside.status().message().find("inside the 64-byte storage header"), std::string::npos);
}

TEST(BlobStorage, BadSentinelIsReported) {
  WeightFileBuilder b;
  uint64_t at = b.AddBlob(kFp16, 64);
  b.Put32(at, 0x12345678);
  auto file = BlobFile::View(b.bytes(), "w.bin");
  ASSERT_TRUE(file.ok());
  auto h = file->Check(at, {DType::kFloat16, 64});
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("bad sentinel 0x12345678"), std::string::npos);
}

TEST(BlobStorage, TypeSizeAndDataRangeMismatches) {
  WeightFileBuilder b;
  uint64_t at = b.AddBlob(kFp16, 128);
  auto file = BlobFile::View(b.bytes(), "w.bin");
  ASSERT_TRUE(file.ok());

  auto type = file->Check(at, {DType::kFloat32, 128});
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find("holds fp16 data (type code 1) but the program declares fp32"),
            std::string::npos) << type.status().message();

  auto size = file->Check(at, {DType::kFloat16, 256});
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find("blob size 128 bytes, but the declared tensor needs 256"),
            std::string::npos);

  WeightFileBuilder c;
  uint64_t big = c.AddBlob(kFp16, 64);
  c.Put64(big + 8, 1ull << 40);  // size claims far more than the file holds
  auto lying = BlobFile::View(c.bytes(), "w.bin");
  ASSERT_TRUE(lying.ok());
  auto range = lying->Check(big, {});
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("runs past the end of the file"), std::string::npos);

  c.Put32(big + 4, 99);
  auto code = lying->Check(big, {});
  ASSERT_FALSE(code.ok());
  EXPECT_NE(code.status().message().find("unknown blob data type code 99"), std::string::npos);
}

TEST(BlobStorage, CorpusWeightFileHeaders) {
  ANEPILOT_REQUIRE_SHARED();
  std::string path = anepilot::testing::CorpusDir() +
      "/autonerf-superpoint/superpoint.mlpackage/Data/com.apple.CoreML/weights/weight.bin";
  auto file = BlobFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->size(), 2603392u);
  EXPECT_EQ(file->declared_count(), 24u);  // bytes 0..3 of the file: 0x18
  // The first blob follows the storage header: fp16, data right after its header.
  auto h = file->HeaderAt(64);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->sentinel, kBlobSentinel);
  EXPECT_EQ(h->dtype_code, kFp16);
  EXPECT_EQ(h->data_offset, 128u);
}

TEST(BlobStorage, MissingFileIsNotFound) {
  auto file = BlobFile::Open("/nonexistent/weights/weight.bin");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace anepilot::format
