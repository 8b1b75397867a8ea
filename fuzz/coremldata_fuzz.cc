// libFuzzer target: the scan of a compiled model's coremldata.bin for its
// embedded model description (src/format/mlmodelc_coremldata.h). Any input
// must yield a description or nothing, never a crash, leak or sanitizer
// report; a description found must satisfy what the reader promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "format/mlmodelc_coremldata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto found = anepilot::format::ReadCoremlDataDescription(bytes);
  if (!found) return 0;
  const auto& d = found->description;
  if (d.inputs.empty() && d.outputs.empty()) std::abort();
  for (const auto* list : {&d.inputs, &d.outputs}) {
    for (const auto& f : *list) {
      if (f.name.empty()) std::abort();
    }
  }
  if (found->offset < 12 || found->offset > size) std::abort();
  return 0;
}
