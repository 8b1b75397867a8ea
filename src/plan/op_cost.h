// Per-op latency on one unit of one device: a roofline (the slower of compute
// at the unit's class efficiency and memory traffic at the unit's share of the
// chip's bandwidth) plus a fixed per-op cost. Constants come from CostModel;
// chip figures from the device catalog.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>

#include "anepilot/device_catalog.h"
#include "anepilot/plan.h"
#include "plan/cost_model.h"
#include "plan/program_graph.h"

namespace anepilot::plan {

// Compute units that execute work (Unit without kNone); index = Unit - 1.
inline constexpr size_t kExecUnits = 3;
inline size_t ExecIndex(Unit u) { return static_cast<size_t>(u) - 1; }

// A device's rates, derived once per device.
struct DeviceRates {
  std::array<double, kExecUnits> peak_flops{};     // FLOP/s at efficiency 1 (CPU, GPU, ANE)
  std::array<double, kExecUnits> bandwidth{};      // bytes/s the unit streams at
  std::array<const UnitCost*, kExecUnits> unit{};  // constants per unit
  double transition_bandwidth = 1;                 // bytes/s for copies between units
  double transition_fixed_s = 0;
  double cpu_gflops = 1;                           // CPU peak (latency)
  // Time factor for load-time CPU work (ANE compile, GPU kernel preparation):
  // reference CPU GFLOPS / this chip's, divided by the per-core gain of its
  // year over the reference year (docs/plan.md, "Load"). 1 on the reference chip.
  double load_cpu_scale = 1;
};

DeviceRates RatesFor(const knowledge::Device& device, const knowledge::Chip& chip,
                     const CostModel& model);

// Seconds for `op` on `unit` (kCpu, kGpu or kAne). Constants cost 0.
inline double OpSeconds(const PlanOp& op, Unit unit, const DeviceRates& r) {
  if (op.is_constant() || unit == Unit::kNone) return 0;
  size_t u = ExecIndex(unit);
  const UnitCost& c = *r.unit[u];
  double compute = op.flops / (r.peak_flops[u] * c.efficiency[static_cast<size_t>(op.op_class)]);
  double bytes = op.op_class == OpClass::kView ? 0.0 : op.bytes;
  double memory = bytes / r.bandwidth[u];
  return (compute > memory ? compute : memory) + c.op_overhead_us * 1e-6;
}

// Seconds to move `bytes` from one unit to another (one transition).
inline double TransitionSeconds(double bytes, const DeviceRates& r) {
  return r.transition_fixed_s + bytes / r.transition_bandwidth;
}

}  // namespace anepilot::plan
