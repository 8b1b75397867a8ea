// Semantic checks of a Policy, shared by the parser and by code that builds
// policies (the planner). Every message names the JSON path at fault.
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "anepilot/policy.h"

namespace anepilot {
namespace {

bool IsLowerHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

class Validator {
 public:
  explicit Validator(std::string_view source) : source_(source) {}

  Status Error(const std::string& path, const std::string& what) const {
    return InvalidData(fmt::format("{}: {}: {}", source_, path, what));
  }

  Status Number(const std::optional<double>& v, const std::string& path) const {
    if (!v) return Status::Ok();
    if (!std::isfinite(*v) || *v < 0) {
      return Error(path, fmt::format("{} must be a finite number >= 0", *v));
    }
    return Status::Ok();
  }

  Status Choices(const std::vector<UnitChoice>& choices, const std::string& path) const {
    if (choices.empty()) return Error(path, "must list at least one compute-unit option");
    std::set<ComputeUnits> seen;
    for (size_t i = 0; i < choices.size(); ++i) {
      std::string p = fmt::format("{}[{}]", path, i);
      const UnitChoice& c = choices[i];
      if (!seen.insert(c.units).second) {
        return Error(p + ".units", fmt::format("\"{}\" is listed twice", ComputeUnitsName(c.units)));
      }
      ANEPILOT_RETURN_IF_ERROR(Number(c.expected_latency_ms, p + ".expected_latency_ms"));
      ANEPILOT_RETURN_IF_ERROR(Number(c.expected_cold_load_ms, p + ".expected_cold_load_ms"));
      ANEPILOT_RETURN_IF_ERROR(Number(c.expected_warm_load_ms, p + ".expected_warm_load_ms"));
      ANEPILOT_RETURN_IF_ERROR(Number(c.expected_peak_memory_mb, p + ".expected_peak_memory_mb"));
    }
    return Status::Ok();
  }

  Status Loading(const LoadingPlan& l, const std::vector<UnitChoice>& choices,
                 const std::string& path) const {
    if (!std::isfinite(l.swap_min_gain) || l.swap_min_gain < 0 || l.swap_min_gain > 10) {
      return Error(path + ".swap_min_gain",
                   fmt::format("{} is outside [0, 10] (0.1 means: swap when 10% faster)",
                               l.swap_min_gain));
    }
    auto listed = [&](ComputeUnits u) {
      for (const auto& c : choices) {
        if (c.units == u) return true;
      }
      return false;
    };
    if (l.strategy == LoadingStrategy::kFastFirstThenSwap) {
      if (!l.serve_first) return Error(path + ".serve_first", "required by fast_first_then_swap");
      if (!l.swap_to) return Error(path + ".swap_to", "required by fast_first_then_swap");
      if (*l.serve_first == *l.swap_to) {
        return Error(path + ".swap_to", "must differ from serve_first");
      }
    }
    if (l.serve_first && !listed(*l.serve_first)) {
      return Error(path + ".serve_first", fmt::format("\"{}\" is not one of the choices",
                                                      ComputeUnitsName(*l.serve_first)));
    }
    if (l.swap_to && !listed(*l.swap_to)) {
      return Error(path + ".swap_to",
                   fmt::format("\"{}\" is not one of the choices", ComputeUnitsName(*l.swap_to)));
    }
    return Status::Ok();
  }

  Status Match(const PolicyMatch& m, const std::string& path) const {
    const std::string& d = m.device;
    if (d.empty()) return Error(path + ".device", "must not be empty (use \"*\" for any device)");
    auto star = d.find('*');
    if (star != std::string::npos && star != d.size() - 1) {
      return Error(path + ".device",
                   fmt::format("\"{}\": '*' is allowed only at the end (\"iPhone14,*\")", d));
    }
    if (m.chip && m.chip->empty()) return Error(path + ".chip", "must not be empty when present");
    if (m.os_build && m.os_build->empty()) {
      return Error(path + ".os_build", "must not be empty when present");
    }
    if (m.os_min && m.os_max && *m.os_max < *m.os_min) {
      return Error(path + ".os_max", fmt::format("{} is below os_min {}", m.os_max->ToString(),
                                                 m.os_min->ToString()));
    }
    return Status::Ok();
  }

  Status Rule(const PolicyRule& r, const std::string& path) const {
    ANEPILOT_RETURN_IF_ERROR(Match(r.match, path + ".match"));
    ANEPILOT_RETURN_IF_ERROR(Choices(r.choices, path + ".choices"));
    ANEPILOT_RETURN_IF_ERROR(Loading(r.loading, r.choices, path + ".loading"));
    for (size_t i = 0; i < r.blocked.size(); ++i) {
      std::string p = fmt::format("{}.blocked[{}]", path, i);
      if (r.blocked[i].units == ComputeUnits::kCpuOnly) {
        return Error(p + ".units", "cpuOnly cannot be blocked: it is the last resort on every device");
      }
      if (r.blocked[i].reason.empty()) return Error(p + ".reason", "must say why (not empty)");
    }
    return Status::Ok();
  }

 private:
  std::string_view source_;
};

}  // namespace

Status ValidatePolicy(const Policy& policy, std::string_view source) {
  Validator v(source);
  if (policy.version != kPolicyVersion) {
    return v.Error("version", fmt::format("version {} is not supported (expected {})",
                                          policy.version, kPolicyVersion));
  }
  std::set<std::string> hashes;
  for (size_t i = 0; i < policy.models.size(); ++i) {
    const ModelPolicy& m = policy.models[i];
    std::string path = fmt::format("models[{}]", i);
    if (!IsLowerHex64(m.model_hash)) {
      return v.Error(path + ".model_hash",
                     fmt::format("\"{}\" is not a SHA-256 (64 lowercase hex characters)",
                                 m.model_hash));
    }
    if (!hashes.insert(m.model_hash).second) {
      return v.Error(path + ".model_hash", "the same model_hash appears twice; merge the rules");
    }
    for (size_t j = 0; j < m.rules.size(); ++j) {
      ANEPILOT_RETURN_IF_ERROR(v.Rule(m.rules[j], fmt::format("{}.rules[{}]", path, j)));
    }
  }
  const DefaultPolicy& d = policy.default_policy;
  ANEPILOT_RETURN_IF_ERROR(v.Choices(d.choices, "default.choices"));
  bool has_safe = false;
  for (const auto& c : d.choices) {
    has_safe |= c.units == ComputeUnits::kCpuAndGpu || c.units == ComputeUnits::kCpuOnly;
  }
  if (!has_safe) {
    return v.Error("default.choices",
                   "must include cpuAndGPU or cpuOnly (the default must be safe on every device)");
  }
  ANEPILOT_RETURN_IF_ERROR(v.Loading(d.loading, d.choices, "default.loading"));
  return Status::Ok();
}

}  // namespace anepilot
