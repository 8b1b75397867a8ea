// Which ops one Neural Engine generation can take, and every rule finding for
// that generation. Findings depend only on (op, generation, model facts): each
// op is evaluated once for every generation (EvaluateAllGenerations), then each
// generation's analysis is filtered from that, once, and shared by its devices.
//
// An op leaves the ANE when a rule finding says so (effect leaves_ane or
// compile_failure), or for the planner's own structural reasons, each with a
// PLAN-* id documented in docs/plan.md:
//   PLAN-FP32-COMPUTE       produces fp32 tensors (the ANE computes in fp16; ANE_FACTS §3)
//   PLAN-NON-FLOAT          integer / bool / shape work (never on ANE or GPU: CPU)
//   PLAN-DYNAMIC-SHAPE      an output shape not known at compile time (ANE_FACTS §4)
//   PLAN-CONTROL-FLOW       cond / while_loop (ANE_FACTS §4)
//   PLAN-RUNTIME-WEIGHT-TRANSFORM  computes on decompressed weights each prediction (ANE_FACTS §3)
//   PLAN-RUNTIME-WEIGHT     its weight is such a result (the conv after the pow)
//   PLAN-CUSTOM-LAYER       NeuralNetwork custom layer: CPU (the app's own code)
// Ops with a crash finding stay on the ANE: Core ML would try them (and die);
// the risk is reported instead.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "anepilot/ane_rules.h"
#include "plan/program_graph.h"

namespace anepilot::plan {

struct GenerationAnalysis {
  int generation = 0;
  std::vector<uint8_t> ane_ok;      // per op index (constants: 0, unused)
  std::vector<int32_t> reason;      // per op: index into `reasons`, -1 none
  std::vector<std::string> reasons; // rule ids
  std::vector<std::pair<uint32_t, knowledge::RuleFinding>> findings;  // (op index, finding), by op
  std::vector<uint32_t> finding_begin;  // per op: first index into `findings` (size ops + 1)
  std::vector<knowledge::RuleFinding> model_findings_ios, model_findings_macos;
};

// GPU / CPU fallback reasons (device-independent): true when the GPU can run it.
bool GpuCanRun(const PlanOp& op);
// Why an op that is not on the GPU / ANE sits on the CPU (a PLAN-* id), or "".
const char* CpuOnlyReason(const PlanOp& op);

// Every op's rule findings for all ANE generations at once: each op is
// evaluated once (AneRuleSet::EvaluateAllGenerations); AnalyzeGeneration then
// keeps, per generation, the findings that apply to it. Computed once per
// model; read-only afterwards.
struct AllGenerationFindings {
  std::vector<knowledge::RuleFinding> findings;  // by op, each with its generation bounds
  std::vector<uint32_t> finding_begin;           // per op: first index into `findings` (size ops + 1)
  std::vector<uint8_t> catch_all;                // per finding: 1 when its rule is only_if_no_other
};

AllGenerationFindings EvaluateAllGenerations(const ProgramGraph& graph,
                                             const knowledge::AneRuleSet& rules,
                                             const knowledge::ModelFacts& facts);

// The analysis of `generation` from the findings of every generation: the same
// result as evaluating the rules for that generation alone (a catch-all
// finding is dropped when an earlier finding for the op with the same effect
// applies to the generation, as EvaluateInto does).
GenerationAnalysis AnalyzeGeneration(const ProgramGraph& graph,
                                     const knowledge::AneRuleSet& rules,
                                     const knowledge::ModelFacts& facts,
                                     const AllGenerationFindings& all, int generation);

}  // namespace anepilot::plan
