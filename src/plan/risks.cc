#include "plan/risks.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace anepilot::plan {
namespace {

constexpr size_t kExampleOps = 5;
constexpr const char* kTransformRule = "ANE-RUNTIME-WEIGHT-TRANSFORM";
const std::vector<ComputeUnits> kAneOptions = {ComputeUnits::kCpuAndNeuralEngine, ComputeUnits::kAll};

class RiskGroups {
 public:
  Risk& Get(const std::string& key, bool* created) {
    auto it = index_.find(key);
    *created = it == index_.end();
    if (*created) {
      index_.emplace(key, risks_.size());
      risks_.emplace_back();
      return risks_.back();
    }
    return risks_[it->second];
  }
  void AddOp(Risk& r, const std::string& label) {
    ++r.op_count;
    if (r.ops.size() < kExampleOps) r.ops.push_back(label);
  }
  std::vector<Risk> Take() { return std::move(risks_); }

 private:
  std::unordered_map<std::string, size_t> index_;
  std::vector<Risk> risks_;
};

void FromFinding(const knowledge::RuleFinding& f, Risk* r) {
  r->kind = std::string(RiskKindFor(f.effect));
  r->severity = f.severity;
  r->rule_id = f.rule_id;
  r->confidence = f.confidence;
  r->message = f.message;
  r->evidence = f.evidence;
  r->advice = f.advice;
  r->options = kAneOptions;
}

struct PlannerRule {
  const char* id;
  const char* message;
  const char* advice;
  const char* evidence;
};

const PlannerRule* FindPlannerRule(std::string_view id) {
  static const PlannerRule kRules[] = {
      {"PLAN-FP32-COMPUTE", "produces fp32 tensors: the ANE computes in fp16, so these ops run on the GPU or CPU",
       "convert with compute_precision=FLOAT16 or cast to fp16 before the op",
       "shared/knowledge/ANE_FACTS.md §3 (apple/coreai-models neural_engine_rules.md)"},
      {"PLAN-NON-FLOAT", "integer / bool work (shapes, indices) runs on the CPU",
       "compute shapes at conversion time (fixed input shapes) so no integer ops remain",
       "Core ML executes integer ops on the CPU (coremltools docs, typed execution)"},
      {"PLAN-DYNAMIC-SHAPE", "output shape not known at compile time: never on the ANE",
       "use fixed or enumerated input shapes",
       "shared/knowledge/ANE_FACTS.md §4 (maderix/ANE docs/ANE_INTERNALS.md)"},
      {"PLAN-CONTROL-FLOW", "control flow (cond / while_loop) never runs on the ANE",
       "unroll loops or move control flow out of the model",
       "shared/knowledge/ANE_FACTS.md §4 (maderix/ANE docs/ANE_INTERNALS.md)"},
      {"PLAN-CUSTOM-LAYER", "custom layer: runs the app's own code on the CPU",
       "replace the custom layer with MIL ops the ANE supports",
       "Core ML custom layers (MLCustomLayer) execute on the CPU unless they implement Metal encoding"},
  };
  for (const auto& r : kRules) {
    if (id == r.id) return &r;
  }
  return nullptr;
}

}  // namespace

std::string_view RiskKindFor(knowledge::RuleEffect effect) {
  switch (effect) {
    case knowledge::RuleEffect::kLeavesAne: return "silent_fallback";
    case knowledge::RuleEffect::kCompileFailure: return "compile_failure";
    case knowledge::RuleEffect::kCrash: return "crash";
    case knowledge::RuleEffect::kSlow: return "slow";
    case knowledge::RuleEffect::kPrecisionHazard: return "precision_hazard";
    case knowledge::RuleEffect::kCacheMiss: return "cache_miss";
  }
  return "silent_fallback";
}

std::vector<Risk> GenerationRisks(const ProgramGraph& g, const GenerationAnalysis& a, bool macos) {
  RiskGroups groups;
  bool created = false;

  for (const auto& [op, f] : a.findings) {
    Risk& r = groups.Get(f.rule_id, &created);
    if (created) FromFinding(f, &r);
    groups.AddOp(r, g.OpLabel(op));
  }
  for (const auto& f : macos ? a.model_findings_macos : a.model_findings_ios) {
    Risk& r = groups.Get(f.rule_id, &created);
    if (created) FromFinding(f, &r);
  }

  // Structural fallbacks the planner decided (reasons with a PLAN-* id).
  for (uint32_t i : g.compute_ops) {
    int32_t reason = a.reason[i];
    if (reason < 0) continue;
    const std::string& id = a.reasons[static_cast<size_t>(reason)];
    const PlannerRule* rule = FindPlannerRule(id);
    if (rule == nullptr) continue;
    Risk& r = groups.Get(id, &created);
    if (created) {
      r.kind = id == "PLAN-CUSTOM-LAYER" ? "cpu_only_op" : "silent_fallback";
      r.severity = id == "PLAN-CUSTOM-LAYER" ? Severity::kMedium : Severity::kLow;
      r.rule_id = id;
      r.confidence = 0.8;
      r.message = fmt::format("{}: {}", g.OpLabel(i), rule->message);
      r.evidence = rule->evidence;
      r.advice = rule->advice;
      r.options = id == "PLAN-CUSTOM-LAYER"
                      ? std::vector<ComputeUnits>(kAllComputeUnits.begin(), kAllComputeUnits.end())
                      : kAneOptions;
    }
    groups.AddOp(r, g.OpLabel(i));
  }

  // Runtime weight transform (constexpr_* -> op -> conv): one risk, under the
  // knowledge rule's id when the rule matched, with this device's cost.
  size_t transforms = 0, consumers = 0;
  std::vector<uint32_t> transform_ops;
  for (uint32_t i : g.compute_ops) {
    const PlanOp& p = g.ops[i];
    if (p.role == OpRole::kRuntimeTransform) ++transforms;
    else if (p.weight_is_runtime) ++consumers;
    else continue;
    transform_ops.push_back(i);
  }
  if (!transform_ops.empty()) {
    Risk& r = groups.Get(kTransformRule, &created);
    if (created) {
      r.rule_id = kTransformRule;
      r.severity = Severity::kMedium;
      r.confidence = 0.7;
      r.evidence =
          "shared/knowledge/ANE_FACTS.md §3: weight transforms computed at run time "
          "(constexpr_affine_dequantize -> pow -> conv) are not folded; the transform and the conv "
          "land on the CPU (FaceApp problem-3, measured in Xcode)";
      r.advice =
          "apply the transform (e.g. the pow) to the weights before quantizing, so the model holds "
          "final weights and constexpr_* feeds the conv directly";
      for (uint32_t i : transform_ops) groups.AddOp(r, g.OpLabel(i));
    }
    r.kind = "runtime_weight_transform";
    r.options.assign(kAllComputeUnits.begin(), kAllComputeUnits.end());
    // The message (with this device's cost) is written by ComputeRisks; keep the counts.
    r.message = fmt::format("{}|{}", transforms, consumers);
  }
  return groups.Take();
}

std::vector<Risk> ComputeRisks(const std::vector<Risk>& generation_risks, const RiskInputs& in) {
  std::vector<Risk> risks = generation_risks;
  for (Risk& r : risks) {
    if (r.kind != "runtime_weight_transform") continue;
    size_t bar = r.message.find('|');
    std::string transforms = r.message.substr(0, bar), consumers = r.message.substr(bar + 1);
    r.message = fmt::format(
        "{} ops recompute decompressed constexpr_* weights at every prediction and {} ops consume "
        "them, on the CPU: ~{:.1f} ms per prediction on {} (the transforms plus their consumers' "
        "CPU time over the fastest other unit); ~{:.2f} s at load to decompress the weights",
        transforms, consumers, in.transform_seconds_per_prediction * 1e3, in.device->name,
        in.transform_load_seconds);
  }

  // Memory against the device's per-app limit.
  double limit = in.device->app_memory_limit_mb * 1e6;
  if (limit > 0) {
    for (ComputeUnits u : kAllComputeUnits) {
      double peak = in.peak_memory_bytes[static_cast<size_t>(u)];
      Severity s = Severity::kInfo;
      if (peak > in.cost->memory_high_fraction * limit) s = Severity::kHigh;
      else if (peak > in.cost->memory_medium_fraction * limit) s = Severity::kMedium;
      else continue;
      Risk r;
      r.kind = "memory";
      r.severity = s;
      r.rule_id = "PLAN-MEMORY";
      r.confidence = 0.5;
      r.message = fmt::format("{}: predicted peak memory {:.0f} MB vs an app limit of ~{:.0f} MB on {}",
                              ComputeUnitsName(u), peak / 1e6, limit / 1e6, in.device->name);
      r.evidence = "data/devices.json app_memory_limit (estimate); peak = weights + live intermediates";
      r.advice = "reduce the input resolution or split the model; fp16 / quantized weights";
      r.options = {u};
      risks.push_back(std::move(r));
    }
  }

  std::stable_sort(risks.begin(), risks.end(), [](const Risk& x, const Risk& y) {
    if (x.severity != y.severity) return x.severity > y.severity;
    return x.op_count > y.op_count;
  });
  return risks;
}

void SummarizeRisks(const std::vector<Risk>& risks, std::array<OptionPlan, 4>* options) {
  for (const Risk& r : risks) {
    for (ComputeUnits u : r.options) {
      OptionPlan& o = (*options)[static_cast<size_t>(u)];
      if (!o.has_risk || r.severity > o.risk) {
        o.has_risk = true;
        o.risk = r.severity;
        o.top_risk = r.op_count > 0
                         ? fmt::format("{}: {} ({} ops)", r.kind, r.rule_id, r.op_count)
                         : fmt::format("{}: {}", r.kind, r.rule_id);
      }
    }
  }
}

}  // namespace anepilot::plan
