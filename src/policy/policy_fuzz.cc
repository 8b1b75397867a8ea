// libFuzzer entry point for the policy parser: any byte string must give a
// Status or a policy that validates and survives a serialise/parse round trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "anepilot/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = anepilot::ParsePolicy(text, "fuzz.json");
  if (!policy.ok()) return 0;
  std::string again = anepilot::SerializePolicy(*policy);
  auto back = anepilot::ParsePolicy(again, "roundtrip.json");
  if (!back.ok() || anepilot::SerializePolicy(*back) != again) std::abort();
  anepilot::PolicyIndex index(std::move(policy).value());
  auto d = index.Decide({"iPhone14,7", "A15", "18.2", "22C152"}, std::string(64, 'a'));
  if (d.choices.empty()) std::abort();
  return 0;
}
