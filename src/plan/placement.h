// Emulates how Core ML places a program's ops for one MLComputeUnits option on
// one device, then segments it.
//
//  1. Each compute op's candidate unit: cpuOnly -> CPU; cpuAndGPU -> GPU when the
//     GPU can run it, else CPU; cpuAndNeuralEngine -> ANE when this generation's
//     ANE can take it, else CPU; all -> ANE, else GPU, else CPU.
//  2. Islands: a run of ANE ops with a non-ANE neighbour is moved to the
//     fallback unit when the time it saves on the ANE is less than
//     CostModel::island_min_gain times the transitions it costs (Core ML does
//     not split a program for a sliver of ANE work).
//  3. `.all` only: an ANE segment whose ops the GPU can all run goes to the GPU
//     when the GPU is faster by CostModel::all_gpu_over_ane_margin (Core ML's
//     .all is not always ANE-first; ANE_FACTS §7).
//  4. Segments are maximal runs of one unit in program (topological) order;
//     constants belong to no segment. Latency = sum of op times + a dispatch
//     cost per segment + per transition a fixed cost and the bytes crossing
//     units over the copy bandwidth.
//
// Thread-safety: pure functions over immutable inputs; PlacementScratch is
// per-thread.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "anepilot/compute_units.h"
#include "anepilot/plan.h"
#include "plan/ane_capability.h"
#include "plan/op_cost.h"
#include "plan/program_graph.h"

namespace anepilot::plan {

// Why an op ended on its unit (for `plan --ops`).
enum class PlaceWhy : uint8_t {
  kConstant,        // no work at prediction time
  kOptionUnit,      // the option's only / preferred unit (cpuOnly, GPU in cpuAndGPU, ANE)
  kAneRefused,      // the generation's reason (GenerationAnalysis::reason)
  kCpuOnly,         // the GPU cannot run it either (CpuOnlyReason)
  kIsland,          // PLAN-ISLAND: small ANE island merged into its neighbours
  kGpuFaster,       // PLAN-GPU-FASTER: .all chose the GPU for this segment
};

// Per-device op times, indexed by position in ProgramGraph::compute_ops.
struct DeviceTimes {
  std::array<std::vector<double>, kExecUnits> seconds;
  void Compute(const ProgramGraph& graph, const DeviceRates& rates);
};

struct OptionResult {
  std::vector<Unit> units;       // per compute position
  std::vector<PlaceWhy> why;     // per compute position
  size_t segments = 0, transitions = 0;
  std::array<size_t, 4> ops_on{};
  std::array<double, 4> weight_bytes_on{};  // weights read by the ops on each unit
  double latency_s = 0;
  double crossing_bytes = 0;
  double ane_flops = 0;
  std::vector<uint8_t> copied;   // scratch: units each value was copied to
};

// GpuCanRun for each compute position, computed once per model.
std::vector<uint8_t> GpuCapability(const ProgramGraph& graph);

void PlaceOption(const ProgramGraph& graph, const GenerationAnalysis& ane,
                 const std::vector<uint8_t>& gpu_ok, const DeviceTimes& times,
                 const DeviceRates& rates, const CostModel& model, ComputeUnits option,
                 OptionResult* out);

}  // namespace anepilot::plan
