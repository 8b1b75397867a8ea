#include "anepilot/result.h"
#include "anepilot/status.h"
#include "base/mapped_file.h"
#include "base/sha256.h"

#include <gtest/gtest.h>

namespace anepilot {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  ANEPILOT_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Status, CarriesCodeAndContext) {
  Status s = CorruptModel("truncated at byte 12").WithContext("m.mlmodel");
  EXPECT_EQ(s.code(), StatusCode::kCorruptModel);
  EXPECT_EQ(s.ToString(), "corrupt_model: m.mlmodel: truncated at byte 12");
  EXPECT_EQ(ExitCodeFor(s), 6);
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd: 3");
}

TEST(MappedFile, MissingPathIsNotFound) {
  auto f = MappedFile::Open("/nonexistent/anepilot/file");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  auto d = MappedFile::Open("/tmp");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kIoError);
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace anepilot

#include "anepilot/compute_units.h"

namespace anepilot {
namespace {
TEST(ComputeUnits, ParsesSwiftAndCoremltoolsSpellings) {
  EXPECT_EQ(ParseComputeUnits("cpuAndNeuralEngine"), ComputeUnits::kCpuAndNeuralEngine);
  EXPECT_EQ(ParseComputeUnits("CPU_AND_NE"), ComputeUnits::kCpuAndNeuralEngine);
  EXPECT_EQ(ParseComputeUnits(".cpuAndGPU"), ComputeUnits::kCpuAndGpu);
  EXPECT_EQ(ParseComputeUnits("ALL"), ComputeUnits::kAll);
  EXPECT_FALSE(ParseComputeUnits("gpu").has_value());
  for (auto u : kAllComputeUnits) EXPECT_EQ(ParseComputeUnits(ComputeUnitsName(u)), u);
}
}  // namespace
}  // namespace anepilot
