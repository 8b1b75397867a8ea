// Load time and memory of one placed option (latency comes from PlaceOption).
//
// Cold load (first load, nothing cached):
//   CPU part  = cpu_load_fixed + cpu_load_per_100_ops * n_cpu/100 + cpu_load_per_gb * GB(cpu weights)
//   GPU part  = gpu_load_fixed + gpu_load_per_100_ops * n_gpu/100 * cpu_scale
//               + gpu_load_per_gb * GB(gpu weights)
//   ANE part  = (the warm ANE load below) + ane_compile_fixed_s
//               + ane_compile_s_per_100_ops * (n_ane/100)^ane_compile_exponent
//               * cpu_scale                                          (the on-device compile)
//               + ane_compile_s_per_gb_weights * GB(ane weights)
//   + decompress_s_per_gb * GB(constexpr_* outputs)                 (weight decompression)
// cpu_scale = DeviceRates::load_cpu_scale: ane_compile_reference_cpu_gflops /
//   the chip's CPU GFLOPS / (1 + load_cpu_gain_per_year)^(chip year -
//   ane_compile_reference_year): more cores and a newer core compile faster.
// Warm load (compiled / specialized model cached): the CPU part, the GPU part
// times gpu_warm_fraction, ane_warm_load_fixed + ane_warm_load_s_per_gb * GB(ane
// weights), and the decompression.
// Memory: all weights + peak live intermediates + an extra copy of the ANE's
// weights (ane_copy_memory_fraction).
#pragma once

#include "plan/op_cost.h"
#include "plan/placement.h"
#include "plan/program_graph.h"

namespace anepilot::plan {

struct LoadEstimate {
  double cold_s = 0, warm_s = 0;
};

// `lut_jit_on_ane`: palettized (constexpr_lut_to_dense) weights are
// decompressed just in time by the ANE (iOS 17 / macOS 14 and later,
// ANE_FACTS §3): for options that use the ANE they cost no decompression at
// load and stay compressed in memory. Earlier OS versions decompress them at
// load like every other constexpr_*.
LoadEstimate EstimateLoad(const ProgramGraph& graph, const OptionResult& placed,
                          const DeviceRates& rates, const CostModel& model, bool lut_jit_on_ane);

double EstimatePeakMemoryBytes(const ProgramGraph& graph, const OptionResult& placed,
                               const CostModel& model, bool lut_jit_on_ane);

}  // namespace anepilot::plan
