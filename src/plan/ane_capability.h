// Which ops one Neural Engine generation can take, and every rule finding for
// that generation. Findings depend only on (op, generation, model facts), so
// this is computed once per generation and shared by its devices.
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

// Per op: 1 when some rule that can match its type is bounded by ANE
// generation (so its findings differ between generations). Computed from the
// rule set's data, once per model.
std::vector<uint8_t> GenerationSensitiveOps(const ProgramGraph& graph, const knowledge::AneRuleSet& rules);

// Evaluates the rules for `generation`. When `reference` (another generation's
// analysis of the same graph) is given, ops not marked in `sensitive` reuse its
// result instead of being evaluated again: their findings cannot differ.
GenerationAnalysis AnalyzeGeneration(const ProgramGraph& graph,
                                     const knowledge::AneRuleSet& rules,
                                     const knowledge::ModelFacts& facts, int generation,
                                     const GenerationAnalysis* reference = nullptr,
                                     const std::vector<uint8_t>* sensitive = nullptr);

}  // namespace anepilot::plan
