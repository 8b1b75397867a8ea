// Risks of one device: rule findings (grouped by rule) turned into risks for
// the options they concern, plus the planner's own: memory over the app limit,
// runtime weight transforms, structural ANE fallbacks, custom layers.
//
// Which options a rule finding concerns: every option that uses the Neural
// Engine (cpuAndNeuralEngine, all). Core ML compiles the model's ANE program
// before it runs anything, so a crash or compile failure hits both, even when
// the planner would have put that op's segment on the GPU under `.all`.
//
// Thread-safety: pure function.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "anepilot/plan.h"
#include "plan/ane_capability.h"
#include "plan/placement.h"
#include "plan/program_graph.h"

namespace anepilot::plan {

// The device-independent part, computed once per (ANE generation, platform):
// findings grouped by rule with their ops, structural fallbacks, the runtime
// weight transform (its message is completed per device).
std::vector<Risk> GenerationRisks(const ProgramGraph& graph, const GenerationAnalysis& ane, bool macos);

struct RiskInputs {
  const knowledge::Device* device = nullptr;
  std::array<double, 4> peak_memory_bytes{};   // per option
  const CostModel* cost = nullptr;
  // The runtime weight transform's cost on this device (0 when none).
  double transform_seconds_per_prediction = 0;
  double transform_load_seconds = 0;
};

// `generation_risks` completed for one device (memory against its app limit,
// the weight transform's cost on it), most severe first (ties: more ops first).
std::vector<Risk> ComputeRisks(const std::vector<Risk>& generation_risks, const RiskInputs& in);

// Fills OptionPlan::risk / has_risk / top_risk from `risks`.
void SummarizeRisks(const std::vector<Risk>& risks, std::array<OptionPlan, 4>* options);

// "crash", "compile_failure", ... for a rule effect.
std::string_view RiskKindFor(knowledge::RuleEffect effect);

}  // namespace anepilot::plan
