#include "plan/ane_capability.h"

#include <fmt/format.h>

#include <unordered_map>

namespace anepilot::plan {
namespace {

class ReasonTable {
 public:
  explicit ReasonTable(std::vector<std::string>* names) : names_(names) {}
  int32_t Id(const std::string& name) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    int32_t id = static_cast<int32_t>(names_->size());
    names_->push_back(name);
    ids_.emplace(name, id);
    return id;
  }

 private:
  std::vector<std::string>* names_;
  std::unordered_map<std::string, int32_t> ids_;
};

}  // namespace

const char* CpuOnlyReason(const PlanOp& op) {
  if (op.custom) return "PLAN-CUSTOM-LAYER";
  if (op.role == OpRole::kRuntimeTransform) return "PLAN-RUNTIME-WEIGHT-TRANSFORM";
  if (op.weight_is_runtime) return "PLAN-RUNTIME-WEIGHT";
  if (!op.float_compute) return "PLAN-NON-FLOAT";
  return "";
}

bool GpuCanRun(const PlanOp& op) { return *CpuOnlyReason(op) == '\0'; }

std::vector<uint8_t> GenerationSensitiveOps(const ProgramGraph& graph, const knowledge::AneRuleSet& rules) {
  bool wildcard_bounded = false;
  std::unordered_map<std::string, bool> bounded_types;
  for (const knowledge::AneRule& r : rules.rules()) {
    if (r.model_scope) continue;
    bool bounded = r.min_generation != 0 || r.max_generation != 0;
    for (const std::string& t : r.op_types) {
      if (t == "*") wildcard_bounded = wildcard_bounded || bounded;
      else bounded_types[t] = bounded_types[t] || bounded;
    }
  }
  std::vector<uint8_t> sensitive(graph.ops.size(), 1);
  if (wildcard_bounded) return sensitive;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    auto it = bounded_types.find(graph.ops[i].op->type);
    sensitive[i] = it != bounded_types.end() && it->second;
  }
  return sensitive;
}

GenerationAnalysis AnalyzeGeneration(const ProgramGraph& graph,
                                     const knowledge::AneRuleSet& rules,
                                     const knowledge::ModelFacts& facts, int generation,
                                     const GenerationAnalysis* reference,
                                     const std::vector<uint8_t>* sensitive) {
  GenerationAnalysis a;
  a.generation = generation;
  a.ane_ok.assign(graph.ops.size(), 0);
  a.reason.assign(graph.ops.size(), -1);
  a.finding_begin.assign(graph.ops.size() + 1, 0);
  ReasonTable reasons(&a.reasons);
  std::vector<knowledge::RuleFinding> found;
  for (uint32_t i = 0; i < graph.ops.size(); ++i) {
    const PlanOp& p = graph.ops[i];
    a.finding_begin[i] = static_cast<uint32_t>(a.findings.size());
    if (reference != nullptr && sensitive != nullptr && !(*sensitive)[i]) {
      a.ane_ok[i] = reference->ane_ok[i];
      if (reference->reason[i] >= 0) {
        a.reason[i] = reasons.Id(reference->reasons[static_cast<size_t>(reference->reason[i])]);
      }
      for (uint32_t f = reference->finding_begin[i]; f < reference->finding_begin[i + 1]; ++f) {
        a.findings.push_back(reference->findings[f]);
      }
      continue;
    }
    found.clear();
    knowledge::OpContext ctx{graph.graphs[p.graph].get(), graph.function_names[p.function], &facts};
    rules.EvaluateInto(*p.op, ctx, generation, &found);
    if (p.is_constant()) {
      for (auto& f : found) a.findings.emplace_back(i, std::move(f));
      continue;
    }
    const char* why = CpuOnlyReason(p);
    if (*why == '\0') {
      if (p.control_flow) why = "PLAN-CONTROL-FLOW";
      else if (p.fp32) why = "PLAN-FP32-COMPUTE";
      else if (p.dynamic_shape) why = "PLAN-DYNAMIC-SHAPE";
    }
    std::string rule_reason;
    for (const auto& f : found) {
      if (f.effect == knowledge::RuleEffect::kLeavesAne ||
          f.effect == knowledge::RuleEffect::kCompileFailure) {
        rule_reason = f.rule_id;
        break;
      }
    }
    if (!rule_reason.empty()) {
      a.reason[i] = reasons.Id(rule_reason);
    } else if (*why != '\0') {
      a.reason[i] = reasons.Id(why);
    } else {
      a.ane_ok[i] = 1;
    }
    for (auto& f : found) a.findings.emplace_back(i, std::move(f));
  }
  a.finding_begin[graph.ops.size()] = static_cast<uint32_t>(a.findings.size());
  std::string gen = fmt::format("H{}", generation);
  a.model_findings_ios = rules.EvaluateModel(facts, gen, knowledge::Platform::kIos);
  a.model_findings_macos = rules.EvaluateModel(facts, gen, knowledge::Platform::kMacos);
  return a;
}

}  // namespace anepilot::plan
