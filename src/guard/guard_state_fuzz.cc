// libFuzzer entry point for the crash guard's state file parser: any bytes
// give a Status or a state that serialises back to bytes parsing to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/sha256.h"
#include "guard/guard_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anepilot::guard_internal;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto state = ParseGuardState(text, "fuzz");
  if (!state.ok()) {
    // Let the fuzzer reach the body: also try it behind a valid checksum.
    std::string body(text);
    std::string wrapped = "anepilot.guard 1 sha256=" + anepilot::Sha256Hex(body) + "\n" + body;
    state = ParseGuardState(wrapped, "fuzz");
    if (!state.ok()) return 0;
  }
  std::string again = SerializeGuardState(*state);
  auto back = ParseGuardState(again, "roundtrip");
  if (!back.ok() || SerializeGuardState(*back) != again) std::abort();
  return 0;
}
