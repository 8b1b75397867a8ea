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

AllGenerationFindings EvaluateAllGenerations(const ProgramGraph& graph,
                                             const knowledge::AneRuleSet& rules,
                                             const knowledge::ModelFacts& facts) {
  std::unordered_map<std::string, bool> catch_all_rule;
  for (const knowledge::AneRule& r : rules.rules()) catch_all_rule[r.id] = r.only_if_no_other;
  AllGenerationFindings all;
  all.finding_begin.assign(graph.ops.size() + 1, 0);
  for (uint32_t i = 0; i < graph.ops.size(); ++i) {
    const PlanOp& p = graph.ops[i];
    all.finding_begin[i] = static_cast<uint32_t>(all.findings.size());
    knowledge::OpContext ctx{graph.graphs[p.graph].get(), graph.function_names[p.function], &facts};
    rules.EvaluateAllGenerations(*p.op, ctx, &all.findings);
  }
  all.finding_begin[graph.ops.size()] = static_cast<uint32_t>(all.findings.size());
  all.catch_all.reserve(all.findings.size());
  for (const knowledge::RuleFinding& f : all.findings) {
    auto it = catch_all_rule.find(f.rule_id);
    all.catch_all.push_back(it != catch_all_rule.end() && it->second);
  }
  return all;
}

GenerationAnalysis AnalyzeGeneration(const ProgramGraph& graph,
                                     const knowledge::AneRuleSet& rules,
                                     const knowledge::ModelFacts& facts,
                                     const AllGenerationFindings& all, int generation) {
  GenerationAnalysis a;
  a.generation = generation;
  a.ane_ok.assign(graph.ops.size(), 0);
  a.reason.assign(graph.ops.size(), -1);
  a.finding_begin.assign(graph.ops.size() + 1, 0);
  ReasonTable reasons(&a.reasons);
  for (uint32_t i = 0; i < graph.ops.size(); ++i) {
    const PlanOp& p = graph.ops[i];
    const size_t first = a.findings.size();
    a.finding_begin[i] = static_cast<uint32_t>(first);
    // Keep this generation's findings, in rule order, as EvaluateInto would.
    for (uint32_t f = all.finding_begin[i]; f < all.finding_begin[i + 1]; ++f) {
      const knowledge::RuleFinding& finding = all.findings[f];
      if (!finding.AppliesTo(generation)) continue;
      if (all.catch_all[f]) {
        bool covered = false;
        for (size_t k = first; k < a.findings.size(); ++k) {
          covered = covered || a.findings[k].second.effect == finding.effect;
        }
        if (covered) continue;
      }
      a.findings.emplace_back(i, finding);
    }
    if (p.is_constant()) continue;
    const char* why = CpuOnlyReason(p);
    if (*why == '\0') {
      if (p.control_flow) why = "PLAN-CONTROL-FLOW";
      else if (p.fp32) why = "PLAN-FP32-COMPUTE";
      else if (p.dynamic_shape) why = "PLAN-DYNAMIC-SHAPE";
    }
    const std::string* rule_reason = nullptr;
    for (size_t k = first; k < a.findings.size(); ++k) {
      const knowledge::RuleFinding& f = a.findings[k].second;
      if (f.effect == knowledge::RuleEffect::kLeavesAne ||
          f.effect == knowledge::RuleEffect::kCompileFailure) {
        rule_reason = &f.rule_id;
        break;
      }
    }
    if (rule_reason != nullptr) {
      a.reason[i] = reasons.Id(*rule_reason);
    } else if (*why != '\0') {
      a.reason[i] = reasons.Id(why);
    } else {
      a.ane_ok[i] = 1;
    }
  }
  a.finding_begin[graph.ops.size()] = static_cast<uint32_t>(a.findings.size());
  std::string gen = fmt::format("H{}", generation);
  a.model_findings_ios = rules.EvaluateModel(facts, gen, knowledge::Platform::kIos);
  a.model_findings_macos = rules.EvaluateModel(facts, gen, knowledge::Platform::kMacos);
  return a;
}

}  // namespace anepilot::plan
