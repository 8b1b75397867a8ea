#include "plan/recommend.h"

#include <fmt/format.h>

#include <algorithm>

namespace anepilot::plan {

bool BlocksOption(const Risk& r) {
  if (r.severity < Severity::kHigh) return false;
  return r.kind == "crash" || r.kind == "compile_failure" || r.kind == "memory";
}

Recommendation Recommend(const std::array<OptionPlan, 4>& options, const std::vector<Risk>& risks,
                         const CostModel& model) {
  Recommendation rec;
  std::vector<ComputeUnits> allowed;
  for (ComputeUnits u : kAllComputeUnits) {
    const Risk* blocking = nullptr;
    for (const Risk& r : risks) {  // most severe first
      if (BlocksOption(r) && std::find(r.options.begin(), r.options.end(), u) != r.options.end()) {
        blocking = &r;
        break;
      }
    }
    if (blocking != nullptr && u != ComputeUnits::kCpuOnly) {
      const Risk& r = *blocking;
      std::string more = r.op_count > 1 ? fmt::format(" (and {} more ops)", r.op_count - 1) : "";
      rec.blocked.push_back({u, fmt::format("{} ({}): {}{}", r.kind, knowledge::SeverityName(r.severity),
                                            r.message, more),
                             r.rule_id});
      continue;
    }
    allowed.push_back(u);
  }
  std::stable_sort(allowed.begin(), allowed.end(), [&](ComputeUnits a, ComputeUnits b) {
    return options[static_cast<size_t>(a)].latency_ms < options[static_cast<size_t>(b)].latency_ms;
  });
  rec.order = allowed;

  const ComputeUnits best = rec.order.front();
  const OptionPlan& b = options[static_cast<size_t>(best)];
  // The option to serve from while the ANE specializes: the fastest
  // (steady-state) unblocked option that does not use the ANE; all of them
  // load without the on-device ANE compile.
  std::optional<ComputeUnits> quick;
  for (ComputeUnits u : rec.order) {
    if (!UsesNeuralEngine(u)) {
      quick = u;
      break;
    }
  }
  if (UsesNeuralEngine(best) && quick &&
      b.cold_load_ms >= model.swap_cold_ratio * options[static_cast<size_t>(*quick)].cold_load_ms &&
      b.cold_load_ms >= model.swap_min_cold_s * 1e3) {
    rec.strategy = LoadingStrategy::kFastFirstThenSwap;
    rec.serve_first = quick;
    rec.swap_to = best;
    rec.prewarm = true;
    const OptionPlan& q = options[static_cast<size_t>(*quick)];
    rec.rationale = fmt::format(
        "{} is fastest ({:.1f} ms vs {:.1f} ms on {}) but its cold load (~{:.1f} s, on-device ANE "
        "compile) is {:.0f}x {}'s (~{:.1f} s): serve from {} first, specialize {} in the background, swap "
        "when it is faster",
        ComputeUnitsName(best), b.latency_ms, q.latency_ms, ComputeUnitsName(*quick), b.cold_load_ms / 1e3,
        b.cold_load_ms / std::max(1e-9, q.cold_load_ms), ComputeUnitsName(*quick), q.cold_load_ms / 1e3,
        ComputeUnitsName(*quick), ComputeUnitsName(best));
  } else if (b.cold_load_ms >= model.prewarm_cold_s * 1e3) {
    rec.strategy = LoadingStrategy::kPrewarm;
    rec.prewarm = true;
    rec.rationale = fmt::format("{} is fastest ({:.1f} ms); its cold load (~{:.1f} s) is worth doing ahead of use",
                                ComputeUnitsName(best), b.latency_ms, b.cold_load_ms / 1e3);
  } else {
    rec.strategy = LoadingStrategy::kSingle;
    rec.rationale = fmt::format("{} is fastest ({:.1f} ms) and loads in ~{:.2f} s", ComputeUnitsName(best),
                                b.latency_ms, b.cold_load_ms / 1e3);
  }
  if (!rec.blocked.empty()) {
    std::string names;
    for (const auto& x : rec.blocked) names += fmt::format("{}{}", names.empty() ? "" : ", ", ComputeUnitsName(x.units));
    rec.rationale += fmt::format("; blocked: {}", names);
  }
  return rec;
}

}  // namespace anepilot::plan
