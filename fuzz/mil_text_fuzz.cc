// libFuzzer target: the model.mil text parser. Any input must parse or give a
// kParseError, never crash, recurse without bound or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/mil_text_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto program = anepilot::format::ParseMilText(text, "model.mil");
  if (!program.ok() && program.status().code() != anepilot::StatusCode::kParseError) __builtin_trap();
  return 0;
}
