// Small value helpers of the policy schema: names, OS versions, the safe
// default.
#include <charconv>

#include <fmt/format.h>

#include "anepilot/policy.h"

namespace anepilot {

std::string_view LoadingStrategyName(LoadingStrategy s) {
  switch (s) {
    case LoadingStrategy::kSingle: return "single";
    case LoadingStrategy::kFastFirstThenSwap: return "fast_first_then_swap";
    case LoadingStrategy::kPrewarm: return "prewarm";
  }
  return "single";
}

std::optional<LoadingStrategy> ParseLoadingStrategy(std::string_view text) {
  for (auto s : {LoadingStrategy::kSingle, LoadingStrategy::kFastFirstThenSwap,
                 LoadingStrategy::kPrewarm}) {
    if (text == LoadingStrategyName(s)) return s;
  }
  return std::nullopt;
}

std::string OsVersion::ToString() const {
  if (patch != 0) return fmt::format("{}.{}.{}", major, minor, patch);
  return fmt::format("{}.{}", major, minor);
}

std::optional<OsVersion> ParseOsVersion(std::string_view text) {
  int parts[3] = {0, 0, 0};
  int n = 0;
  while (true) {
    if (n == 3 || text.empty()) return std::nullopt;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    int value = 0;
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr == begin || value < 0) return std::nullopt;
    parts[n++] = value;
    text.remove_prefix(static_cast<size_t>(ptr - begin));
    if (text.empty()) break;
    if (text.front() != '.') return std::nullopt;
    text.remove_prefix(1);
  }
  return OsVersion{parts[0], parts[1], parts[2]};
}

DefaultPolicy SafeDefaultPolicy() {
  DefaultPolicy d;
  d.choices = {ChoiceOf(ComputeUnits::kCpuAndGpu),
               ChoiceOf(ComputeUnits::kCpuOnly)};
  d.loading.strategy = LoadingStrategy::kSingle;
  return d;
}

Policy SafeDefaultOnlyPolicy() {
  Policy p;
  p.generated_by = "anepilot safe default";
  p.default_policy = SafeDefaultPolicy();
  return p;
}

}  // namespace anepilot
