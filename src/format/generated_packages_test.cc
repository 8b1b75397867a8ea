// Packages generated with coremltools (tests/fixtures/make_weight_packages.py)
// exercise every blob data type coremltools writes: fp32, fp16, int8 / uint8
// quantized data, 1, 2, 3, 4 and 6-bit palettized indices. Every blob of every
// package must validate, and a header altered to another type must not.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "anepilot/model_reader.h"
#include "base/mapped_file.h"
#include "base/test_paths.h"
#include "format/blob_references.h"
#include "format/blob_storage.h"

namespace anepilot::format {
namespace {

namespace fs = std::filesystem;

class GeneratedPackages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(anepilot::testing::ScratchDir("ct-packages"));
    std::string cmd = ANEPILOT_PYTHON " " ANEPILOT_SOURCE_DIR "/tests/fixtures/make_weight_packages.py " +
                      *dir_ + " > " + *dir_ + "/log.txt 2>&1";
    generated_ = std::system(cmd.c_str()) == 0;
  }
  void SetUp() override {
    if (generated_) return;
    if (anepilot::testing::InCi()) FAIL() << "make_weight_packages.py failed; see " << *dir_ << "/log.txt";
    GTEST_SKIP() << "coremltools unavailable (make_weight_packages.py failed, see " << *dir_ << "/log.txt)";
  }
  static std::vector<std::string> Names() {
    std::vector<std::string> names;
    std::ifstream in(*dir_ + "/packages.txt");
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) names.push_back(line);
    }
    return names;
  }
  static std::string* dir_;
  static bool generated_;
};
std::string* GeneratedPackages::dir_ = nullptr;
bool GeneratedPackages::generated_ = false;

void CollectBlobOffsets(const ir::Block& block, std::set<uint64_t>* out) {
  for (const ir::Op& op : block.ops) {
    for (const auto& [key, c] : op.attributes) {
      if (c.blob) out->insert(c.blob->offset);
    }
    for (const ir::Argument& arg : op.inputs) {
      for (const ir::Binding& b : arg.bindings) {
        if (b.constant && b.constant->blob) out->insert(b.constant->blob->offset);
      }
    }
    for (const ir::Block& nested : op.blocks) CollectBlobOffsets(nested, out);
  }
}

TEST_F(GeneratedPackages, EveryBlobTypeValidates) {
  std::vector<std::string> names = Names();
  ASSERT_GE(names.size(), 9u);
  std::set<ir::DType> seen;
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    auto m = ReadModel(*dir_ + "/" + name + ".mlpackage");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->weights.state, ir::WeightsInfo::State::kPresent);
    EXPECT_GT(m->weights.blob_count, 0u);
    auto file = BlobFile::Open(m->weights.path);
    ASSERT_TRUE(file.ok());
    std::set<uint64_t> offsets;
    CollectBlobOffsets(m->program.functions.at(0).body, &offsets);
    EXPECT_EQ(offsets.size(), m->weights.blob_count);
    for (uint64_t offset : offsets) {
      auto h = file->HeaderAt(offset);
      ASSERT_TRUE(h.ok());
      seen.insert(*DTypeForBlobCode(h->dtype_code));
    }
  }
  for (ir::DType t : {ir::DType::kFloat32, ir::DType::kFloat16, ir::DType::kInt8, ir::DType::kUInt8,
                      ir::DType::kUInt1, ir::DType::kUInt2, ir::DType::kUInt3, ir::DType::kUInt4,
                      ir::DType::kUInt6}) {
    EXPECT_TRUE(seen.count(t)) << "no blob of type " << ir::DTypeName(t);
  }
}

TEST_F(GeneratedPackages, SubByteTypeMismatchIsCaught) {
  fs::path pkg = fs::path(*dir_) / "palettized_3bit.mlpackage";
  auto m = ReadModel(pkg.string());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto bytes = ReadFileToString(m->weights.path);
  ASSERT_TRUE(bytes.ok());
  // Find the first uint3 blob header (type code 12) and relabel it uint4 (11).
  std::string altered = *bytes;
  size_t at = 64;
  while (at + 8 <= altered.size() && !(altered[at] == '\xef' && altered[at + 4] == 12)) at += 64;
  ASSERT_LT(at + 8, altered.size());
  altered[at + 4] = 11;
  {
    std::ofstream out(m->weights.path, std::ios::binary | std::ios::trunc);
    out << altered;
  }
  auto bad = ReadModel(pkg.string());
  {
    std::ofstream out(m->weights.path, std::ios::binary | std::ios::trunc);
    out << *bytes;
  }
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruptWeights);
  EXPECT_NE(bad.status().message().find("blob holds uint4 data (type code 11) but the program declares uint3"),
            std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace anepilot::format
