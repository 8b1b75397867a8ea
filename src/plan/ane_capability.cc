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

GenerationAnalysis AnalyzeGeneration(const ProgramGraph& graph,
                                     const knowledge::AneRuleSet& rules,
                                     const knowledge::ModelFacts& facts, int generation) {
  GenerationAnalysis a;
  a.generation = generation;
  a.ane_ok.assign(graph.ops.size(), 0);
  a.reason.assign(graph.ops.size(), -1);
  ReasonTable reasons(&a.reasons);
  std::vector<knowledge::RuleFinding> found;
  for (uint32_t i = 0; i < graph.ops.size(); ++i) {
    const PlanOp& p = graph.ops[i];
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
  std::string gen = fmt::format("H{}", generation);
  a.model_findings_ios = rules.EvaluateModel(facts, gen, knowledge::Platform::kIos);
  a.model_findings_macos = rules.EvaluateModel(facts, gen, knowledge::Platform::kMacos);
  return a;
}

}  // namespace anepilot::plan
