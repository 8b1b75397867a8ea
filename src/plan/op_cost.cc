#include "plan/op_cost.h"

#include <algorithm>
#include <cmath>

namespace anepilot::plan {

DeviceRates RatesFor(const knowledge::Device& device, const knowledge::Chip& chip,
                     const CostModel& m) {
  DeviceRates r;
  double bw = std::max(1.0, chip.memory_bandwidth_gbps) * 1e9;
  double cpu = chip.cpu_performance_cores * m.cpu_gflops_per_performance_core +
               chip.cpu_efficiency_cores * m.cpu_gflops_per_efficiency_core;
  r.cpu_gflops = std::max(1.0, cpu);
  const double year_gain = std::pow(1 + m.load_cpu_gain_per_year,
                                    chip.year > 0 ? chip.year - m.ane_compile_reference_year : 0);
  r.load_cpu_scale = m.ane_compile_reference_cpu_gflops / r.cpu_gflops / year_gain;
  double gpu_tflops = device.gpu_fp16_tflops > 0 ? device.gpu_fp16_tflops : chip.gpu_fp16_tflops;
  // The catalog quotes Apple's TOPS; from A17 Pro / M4 on that figure is int8,
  // twice the fp16 rate the planner's fp16 models see.
  double ane_tops = chip.ane_tops;
  if (chip.ane_generation_number >= m.ane_tops_int8_from_generation) ane_tops /= 2;
  r.peak_flops = {r.cpu_gflops * 1e9, std::max(0.01, gpu_tflops) * 1e12,
                  std::max(0.01, ane_tops * m.ane_peak_fraction_fp16) * 1e12};
  r.unit = {&m.cpu, &m.gpu, &m.ane};
  for (size_t u = 0; u < kExecUnits; ++u) r.bandwidth[u] = bw * r.unit[u]->bandwidth_fraction;
  r.transition_bandwidth = bw * m.transition_bandwidth_fraction;
  r.transition_fixed_s = m.transition_fixed_us * 1e-6;
  return r;
}

}  // namespace anepilot::plan
