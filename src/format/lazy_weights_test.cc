// Inspecting a model with a multi-GB weight file must not read the weights:
// only blob headers are touched through the memory map. A 3 GiB sparse
// weight file (no disk cost) holds one blob; reading the model in a child
// process must raise the child's peak resident memory by far less than that.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "anepilot/model_reader.h"
#include "base/test_paths.h"
#include "format/weight_file_builder_for_tests.h"

namespace anepilot::format {
namespace {

namespace fs = std::filesystem;

long PeakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(LazyWeights, MultiGigabyteWeightsAreNotRead) {
  fs::path dir = fs::path(anepilot::testing::ScratchDir("lazy")) / "big.mlmodelc";
  fs::create_directories(dir / "weights");
  const uint64_t kElements = 1536ull * 1024 * 1024;  // fp16[1536, 1024, 1024] = 3 GiB
  testing::WeightFileBuilder header;
  uint64_t at = header.AddBlob(/*fp16*/ 1, 0);
  header.Put64(at + 8, kElements * 2);
  {
    std::ofstream out(dir / "weights/weight.bin", std::ios::binary);
    out.write(header.bytes().data(), 128);
  }
  fs::resize_file(dir / "weights/weight.bin", 128 + kElements * 2);  // sparse: no disk blocks
  {
    std::ofstream mil(dir / "model.mil");
    mil << "program(1.0)\n{\n  func main<ios16>(tensor<fp16, [1, 1024]> x) {\n"
           "    tensor<fp16, [1536, 1024, 1024]> w = const()[name = tensor<string, []>(\"w\"), "
           "val = tensor<fp16, [1536, 1024, 1024]>(BLOBFILE(path = tensor<string, []>("
           "\"@model_path/weights/weight.bin\"), offset = tensor<uint64, []>(64)))];\n"
           "  } -> (w);\n}\n";
  }

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    long before = PeakRssKb();
    auto m = ReadModel(dir.string());
    long grown_mb = (PeakRssKb() - before) / 1024;
    bool ok = m.ok() && m->weights.state == ir::WeightsInfo::State::kPresent &&
              m->weights.referenced_bytes == kElements * 2;
    _exit(!ok ? 2 : grown_mb < 64 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 2) << "the model did not read, or its weights were not checked";
  EXPECT_NE(WEXITSTATUS(status), 1) << "reading the model raised peak memory by 64 MB or more";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace anepilot::format
