#include "plan/cost.h"

#include <cmath>

namespace anepilot::plan {
namespace {
constexpr double kGb = 1e9;
}

LoadEstimate EstimateLoad(const ProgramGraph& graph, const OptionResult& placed,
                          const DeviceRates& rates, const CostModel& m, bool lut_jit_on_ane) {
  const double n_cpu = static_cast<double>(placed.ops_on[static_cast<size_t>(Unit::kCpu)]);
  const double n_gpu = static_cast<double>(placed.ops_on[static_cast<size_t>(Unit::kGpu)]);
  const double n_ane = static_cast<double>(placed.ops_on[static_cast<size_t>(Unit::kAne)]);
  const double w_cpu = placed.weight_bytes_on[static_cast<size_t>(Unit::kCpu)] / kGb;
  const double w_gpu = placed.weight_bytes_on[static_cast<size_t>(Unit::kGpu)] / kGb;
  const double w_ane = placed.weight_bytes_on[static_cast<size_t>(Unit::kAne)] / kGb;

  // Loading (shader / kernel preparation, weight layout) runs on the CPU: it
  // scales with the CPU like the ANE compile does.
  const double cpu_scale = rates.load_cpu_scale;
  double cpu = m.cpu_load_fixed_s + m.cpu_load_s_per_100_ops * n_cpu / 100 + m.cpu_load_s_per_gb * w_cpu;
  double gpu = 0, ane_cold = 0, ane_warm = 0;
  if (n_gpu > 0) {
    gpu = m.gpu_load_fixed_s + m.gpu_load_s_per_100_ops * n_gpu / 100 * cpu_scale +
          m.gpu_load_s_per_gb * w_gpu;
  }
  if (n_ane > 0) {
    ane_warm = m.ane_warm_load_fixed_s + m.ane_warm_load_s_per_gb * w_ane;
    ane_cold = ane_warm + m.ane_compile_fixed_s + m.ane_compile_s_per_100_ops * std::pow(n_ane / 100, m.ane_compile_exponent) *
                   cpu_scale +
               m.ane_compile_s_per_gb_weights * w_ane;
  }
  const bool jit = lut_jit_on_ane && n_ane > 0;
  double decompressed = graph.compressed_weight_bytes - (jit ? graph.lut_weight_bytes : 0);
  double decompress = m.decompress_s_per_gb * decompressed / kGb;
  LoadEstimate e;
  e.cold_s = cpu + gpu + ane_cold + decompress;
  e.warm_s = cpu + gpu * m.gpu_warm_fraction + ane_warm + decompress;
  return e;
}

double EstimatePeakMemoryBytes(const ProgramGraph& graph, const OptionResult& placed,
                               const CostModel& m, bool lut_jit_on_ane) {
  const bool jit = lut_jit_on_ane && placed.ops_on[static_cast<size_t>(Unit::kAne)] > 0;
  double weights = graph.weight_bytes - (jit ? graph.lut_weight_bytes - graph.lut_stored_bytes : 0);
  return weights + graph.peak_intermediate_bytes +
         m.ane_copy_memory_fraction * placed.weight_bytes_on[static_cast<size_t>(Unit::kAne)];
}

}  // namespace anepilot::plan
