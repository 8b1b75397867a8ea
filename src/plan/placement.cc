#include "plan/placement.h"

#include <algorithm>

namespace anepilot::plan {

void DeviceTimes::Compute(const ProgramGraph& graph, const DeviceRates& rates) {
  const size_t n = graph.compute_ops.size();
  constexpr Unit kUnits[kExecUnits] = {Unit::kCpu, Unit::kGpu, Unit::kAne};
  for (size_t u = 0; u < kExecUnits; ++u) {
    seconds[u].resize(n);
    for (size_t k = 0; k < n; ++k) {
      seconds[u][k] = OpSeconds(graph.ops[graph.compute_ops[k]], kUnits[u], rates);
    }
  }
}

std::vector<uint8_t> GpuCapability(const ProgramGraph& graph) {
  std::vector<uint8_t> ok(graph.compute_ops.size());
  for (size_t k = 0; k < ok.size(); ++k) ok[k] = GpuCanRun(graph.ops[graph.compute_ops[k]]);
  return ok;
}

namespace {

double Time(const DeviceTimes& t, Unit u, size_t k) { return t.seconds[ExecIndex(u)][k]; }

}  // namespace

void PlaceOption(const ProgramGraph& graph, const GenerationAnalysis& ane,
                 const std::vector<uint8_t>& gpu_ok, const DeviceTimes& times,
                 const DeviceRates& rates, const CostModel& model, ComputeUnits option,
                 OptionResult* out) {
  const auto& C = graph.compute_ops;
  const size_t n = C.size();
  out->units.assign(n, Unit::kCpu);
  out->why.assign(n, PlaceWhy::kOptionUnit);
  const bool use_ane = UsesNeuralEngine(option);
  const bool use_gpu = UsesGpu(option);

  // 1. Candidate units.
  for (size_t k = 0; k < n; ++k) {
    bool ane_ok = use_ane && ane.ane_ok[C[k]];
    if (ane_ok) {
      out->units[k] = Unit::kAne;
    } else if (use_gpu && gpu_ok[k]) {
      out->units[k] = Unit::kGpu;
      if (use_ane) out->why[k] = PlaceWhy::kAneRefused;
    } else {
      out->units[k] = Unit::kCpu;
      if (option != ComputeUnits::kCpuOnly) {
        out->why[k] = gpu_ok[k] ? PlaceWhy::kAneRefused : PlaceWhy::kCpuOnly;
      }
    }
  }

  auto fallback = [&](size_t k) { return use_gpu && gpu_ok[k] ? Unit::kGpu : Unit::kCpu; };

  if (use_ane) {
    // 2. Islands, then 3. GPU-faster segments (.all).
    const double dispatch_ane = rates.unit[ExecIndex(Unit::kAne)]->segment_dispatch_us * 1e-6;
    size_t s = 0;
    while (s < n) {
      if (out->units[s] != Unit::kAne) { ++s; continue; }
      size_t e = s;
      while (e + 1 < n && out->units[e + 1] == Unit::kAne) ++e;
      int boundaries = (s > 0 ? 1 : 0) + (e + 1 < n ? 1 : 0);
      double t_ane = dispatch_ane, t_fallback = 0;
      bool all_gpu = true;
      for (size_t k = s; k <= e; ++k) {
        t_ane += Time(times, Unit::kAne, k);
        t_fallback += Time(times, fallback(k), k);
        all_gpu = all_gpu && gpu_ok[k];
      }
      if (boundaries > 0) {
        const PlanOp& first = graph.ops[C[s]];
        const PlanOp& last = graph.ops[C[e]];
        double crossing = (s > 0 ? first.in_bytes : 0) + (e + 1 < n ? last.out_bytes : 0);
        double cost = boundaries * rates.transition_fixed_s + crossing / rates.transition_bandwidth;
        if (t_fallback - t_ane < model.island_min_gain * cost) {
          for (size_t k = s; k <= e; ++k) {
            out->units[k] = fallback(k);
            out->why[k] = PlaceWhy::kIsland;
          }
          s = e + 1;
          continue;
        }
      }
      if (option == ComputeUnits::kAll && all_gpu) {
        double t_gpu = rates.unit[ExecIndex(Unit::kGpu)]->segment_dispatch_us * 1e-6;
        for (size_t k = s; k <= e; ++k) t_gpu += Time(times, Unit::kGpu, k);
        if (t_gpu * model.all_gpu_over_ane_margin < t_ane) {
          for (size_t k = s; k <= e; ++k) {
            out->units[k] = Unit::kGpu;
            out->why[k] = PlaceWhy::kGpuFaster;
          }
        }
      }
      s = e + 1;
    }
  }

  // 4. Segments, transitions, latency.
  out->segments = 0;
  out->transitions = 0;
  out->ops_on = {};
  out->weight_bytes_on = {};
  out->crossing_bytes = 0;
  out->ane_flops = 0;
  double seconds = 0;
  Unit previous = Unit::kNone;
  for (size_t k = 0; k < n; ++k) {
    Unit u = out->units[k];
    ++out->ops_on[static_cast<size_t>(u)];
    out->weight_bytes_on[static_cast<size_t>(u)] += graph.ops[C[k]].weight_bytes;
    seconds += Time(times, u, k);
    if (u == Unit::kAne) out->ane_flops += graph.ops[C[k]].flops;
    if (u != previous) {
      ++out->segments;
      seconds += rates.unit[ExecIndex(u)]->segment_dispatch_us * 1e-6;
      if (previous != Unit::kNone) {
        ++out->transitions;
        seconds += rates.transition_fixed_s;
      }
      previous = u;
    }
  }
  // Bytes crossing units: each compute value once per destination unit.
  if (out->transitions > 0) {
    const std::vector<int32_t>& position = graph.position;
    std::vector<uint8_t>& copied = out->copied;
    copied.assign(n, 0);
    for (size_t k = 0; k < n; ++k) {
      const PlanOp& op = graph.ops[C[k]];
      Unit u = out->units[k];
      for (uint32_t j = op.producers_begin; j < op.producers_end; ++j) {
        int32_t pk = position[graph.producers[j]];
        if (pk < 0 || out->units[pk] == u) continue;
        uint8_t bit = static_cast<uint8_t>(1u << static_cast<unsigned>(u));
        if (copied[pk] & bit) continue;
        copied[pk] |= bit;
        out->crossing_bytes += graph.ops[C[pk]].out_bytes;
      }
    }
    seconds += out->crossing_bytes / rates.transition_bandwidth;
  }
  out->latency_s = seconds;
}

}  // namespace anepilot::plan
