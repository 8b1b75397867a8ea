// libFuzzer target for the .mlmodel protobuf reader: any byte string must
// yield a model or an error Status, never a crash, hang or leak.
//
//   CC=clang CXX=clang++ cmake -DANEPILOT_FUZZ=ON -B build-fuzz && ninja -C build-fuzz anepilot_mlmodel_fuzz
//   build-fuzz/fuzz/anepilot_mlmodel_fuzz CORPUS_DIR   (seed it with small .mlmodel files)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "format/mlmodel_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto model = anepilot::format::ParseModelSpec(bytes, "fuzz.mlmodel");
  if (model.ok()) {
    // Walk the result so conversion bugs surface as sanitizer reports.
    size_t ops = 0;
    for (const auto& fn : model->program.functions) ops += fn.CountOps();
    for (const auto& f : model->inputs) (void)f.type.ToString();
    (void)ops;
  }
  return 0;
}
