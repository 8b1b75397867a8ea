#include <fmt/format.h>

#include <map>
#include <memory>
#include <tuple>

#include "anepilot/data_dir.h"
#include "anepilot/plan.h"
#include "plan/ane_capability.h"
#include "plan/cost.h"
#include "plan/cost_model.h"
#include "plan/op_cost.h"
#include "plan/placement.h"
#include "plan/program_graph.h"
#include "plan/recommend.h"
#include "plan/risks.h"

namespace anepilot::plan {
namespace {

std::string WhyText(PlaceWhy why, Unit unit, ComputeUnits option, const PlanOp& op,
                    const GenerationAnalysis& a, uint32_t index) {
  switch (why) {
    case PlaceWhy::kConstant: return "constant";
    case PlaceWhy::kOptionUnit:
      if (unit == Unit::kAne) return "ANE supports it";
      return fmt::format("{} runs it on the {}", ComputeUnitsName(option), UnitName(unit));
    case PlaceWhy::kAneRefused:
      return a.reason[index] >= 0 ? a.reasons[static_cast<size_t>(a.reason[index])] : "ANE refused";
    case PlaceWhy::kCpuOnly: {
      std::string r = CpuOnlyReason(op);
      if (!r.empty()) return r;
      return a.reason[index] >= 0 ? a.reasons[static_cast<size_t>(a.reason[index])] : "CPU only";
    }
    case PlaceWhy::kIsland: return "PLAN-ISLAND";
    case PlaceWhy::kGpuFaster: return "PLAN-GPU-FASTER";
  }
  return "";
}

// The runtime weight transform's per-prediction cost on one device: the
// transform ops on the CPU, plus what their consumers lose by running on the
// CPU instead of the fastest other unit.
double TransformSecondsPerPrediction(const ProgramGraph& g, const DeviceTimes& t) {
  double s = 0;
  for (size_t k = 0; k < g.compute_ops.size(); ++k) {
    const PlanOp& p = g.ops[g.compute_ops[k]];
    double cpu = t.seconds[ExecIndex(Unit::kCpu)][k];
    if (p.role == OpRole::kRuntimeTransform) {
      s += cpu;
    } else if (p.weight_is_runtime) {
      double best = std::min(t.seconds[ExecIndex(Unit::kGpu)][k], t.seconds[ExecIndex(Unit::kAne)][k]);
      s += std::max(0.0, cpu - best);
    }
  }
  return s;
}

WeightTransformSummary SummarizeTransform(const ProgramGraph& g) {
  WeightTransformSummary w;
  for (uint32_t i : g.compute_ops) {
    const PlanOp& p = g.ops[i];
    if (p.role == OpRole::kRuntimeTransform) {
      ++w.transform_ops;
      w.weight_bytes += static_cast<uint64_t>(p.out_bytes);
    } else if (p.weight_is_runtime) {
      ++w.consumers;
      if (w.examples.size() < 3) {
        for (uint32_t j = p.producers_begin; j < p.producers_end; ++j) {
          const PlanOp& prod = g.ops[g.producers[j]];
          if (prod.role == OpRole::kRuntimeTransform) {
            w.examples.push_back(fmt::format("{} -> {}", g.OpLabel(g.producers[j]), g.OpLabel(i)));
            break;
          }
        }
      }
    }
  }
  return w;
}

// What makes two devices' placement and costs identical (see RatesFor).
using RatesKey = std::tuple<const knowledge::Chip*, double, bool>;  // chip, device GPU TFLOPS, lut_jit

// The device-independent part of a DevicePlan for one RatesKey.
struct PlacedDevice {
  std::array<OptionPlan, 4> options;
  std::array<double, 4> peak_memory_bytes{};
  double transform_seconds_per_prediction = 0;
};

}  // namespace

std::string_view UnitName(Unit unit) {
  switch (unit) {
    case Unit::kNone: return "const";
    case Unit::kCpu: return "CPU";
    case Unit::kGpu: return "GPU";
    case Unit::kAne: return "ANE";
  }
  return "const";
}

Result<Planner> Planner::Load(const PlannerFiles& files) {
  Planner p;
  {
    auto catalog = files.devices.empty() ? knowledge::DeviceCatalog::LoadDefault()
                                         : knowledge::DeviceCatalog::Load(files.devices);
    if (!catalog.ok()) return catalog.status();
    p.catalog_ = std::make_shared<const knowledge::DeviceCatalog>(std::move(catalog).value());
  }
  {
    auto rules = files.rules.empty() ? knowledge::AneRuleSet::LoadDefault()
                                     : knowledge::AneRuleSet::Load(files.rules);
    if (!rules.ok()) return rules.status();
    p.rules_ = std::make_shared<const knowledge::AneRuleSet>(std::move(rules).value());
  }
  std::string cost_path = files.cost_model;
  if (cost_path.empty()) {
    ANEPILOT_ASSIGN_OR_RETURN(std::string dir, FindDataDir());
    cost_path = dir + "/cost_model.json";
  }
  ANEPILOT_ASSIGN_OR_RETURN(CostModel cost, LoadCostModel(cost_path));
  p.cost_ = std::make_shared<const CostModel>(std::move(cost));
  return p;
}

Result<ModelPlan> Planner::Plan(const ir::Model& model, const PlanOptions& options) const {
  std::string os = options.os.empty() ? std::string(kDefaultPlanOs) : options.os;
  if (!ParseOsVersion(os)) {
    return InvalidArgument(fmt::format(
        "--os \"{}\": not an OS version; write the major version with optional minor and patch, "
        "e.g. 17, 18.2 or 18.2.1", os));
  }
  const OsVersion os_version = *ParseOsVersion(os);
  ANEPILOT_ASSIGN_OR_RETURN(auto resolved, catalog_->ResolveList(options.devices));
  ANEPILOT_ASSIGN_OR_RETURN(ProgramGraph graph, BuildProgramGraph(model));
  const knowledge::ModelFacts facts = knowledge::ModelFacts::FromModel(model);
  const CostModel& cost = *cost_;

  ModelPlan plan;
  plan.model_path = model.path;
  plan.model_kind = model.kind;
  plan.os = os;
  plan.os_given = !options.os.empty();
  plan.planned_ops = graph.ops.size();
  plan.compute_ops = graph.compute_ops.size();
  plan.weights_mb = graph.weight_bytes / 1e6;
  plan.weight_transform = SummarizeTransform(graph);
  plan.notes = graph.notes;
  if (!model.custom_layers.empty()) {
    plan.notes.push_back(fmt::format("{} custom layer class(es): their ops run on the CPU",
                                     model.custom_layers.size()));
  }

  const std::vector<uint8_t> gpu_ok = GpuCapability(graph);
  const AllGenerationFindings all_findings = EvaluateAllGenerations(graph, *rules_, facts);
  std::map<int, std::unique_ptr<GenerationAnalysis>> generations;
  std::map<std::pair<int, bool>, std::vector<Risk>> generation_risks;
  DeviceTimes times;
  OptionResult placed;
  std::map<RatesKey, PlacedDevice> rates_cache;
  plan.devices.reserve(resolved.size());
  for (size_t d = 0; d < resolved.size(); ++d) {
    const knowledge::Device& device = *resolved[d].device;
    const knowledge::Chip& chip = catalog_->ChipOf(device);
    auto& gen = generations[chip.ane_generation_number];
    if (!gen) {
      gen = std::make_unique<GenerationAnalysis>(
          AnalyzeGeneration(graph, *rules_, facts, all_findings, chip.ane_generation_number));
    }
    // LUT weights decompress on the ANE from iOS 17 (Macs: assumed on a current macOS).
    const bool lut_jit = !knowledge::RunsIos(device.family) || os_version >= OsVersion{17, 0, 0};
    const bool detail = !options.detail_device.empty() &&
                        (device.identifier == options.detail_device ||
                         (resolved.size() == 1 && d == 0));
    DevicePlan dp;
    dp.device = &device;
    dp.chip = &chip;
    dp.resolution_warning = resolved[d].warning;
    RiskInputs ri;
    // Placement, latency, load and memory depend on the device only through
    // RatesFor's inputs (its chip and GPU figure) and lut_jit: devices that
    // share them share the result, computed once.
    const RatesKey rates_key{&chip, device.gpu_fp16_tflops, lut_jit};
    auto cached = rates_cache.find(rates_key);
    if (cached == rates_cache.end() || detail) {
      const DeviceRates rates = RatesFor(device, chip, cost);
      times.Compute(graph, rates);
      PlacedDevice computed;
      for (ComputeUnits u : kAllComputeUnits) {
        PlaceOption(graph, *gen, gpu_ok, times, rates, cost, u, &placed);
        OptionPlan& o = computed.options[static_cast<size_t>(u)];
        o.units = u;
        o.segments = placed.segments;
        o.transitions = placed.transitions;
        o.ops_on = placed.ops_on;
        o.latency_ms = placed.latency_s * 1e3;
        LoadEstimate load = EstimateLoad(graph, placed, rates, cost, lut_jit);
        o.cold_load_ms = load.cold_s * 1e3;
        o.warm_load_ms = load.warm_s * 1e3;
        double peak = EstimatePeakMemoryBytes(graph, placed, cost, lut_jit);
        o.peak_memory_mb = peak / 1e6;
        computed.peak_memory_bytes[static_cast<size_t>(u)] = peak;
        if (detail) {
          o.placement.reserve(graph.compute_ops.size());
          for (size_t k = 0; k < graph.compute_ops.size(); ++k) {
            uint32_t i = graph.compute_ops[k];
            const PlanOp& p = graph.ops[i];
            o.placement.push_back({graph.function_names[p.function], p.op->name.str(), p.op->type.str(),
                                   placed.units[k],
                                   WhyText(placed.why[k], placed.units[k], u, p, *gen, i)});
          }
        }
      }
      if (plan.weight_transform.transform_ops + plan.weight_transform.consumers > 0) {
        computed.transform_seconds_per_prediction = TransformSecondsPerPrediction(graph, times);
      }
      if (detail) {
        dp.options = std::move(computed.options);
        cached = rates_cache.end();
        ri.peak_memory_bytes = computed.peak_memory_bytes;
        ri.transform_seconds_per_prediction = computed.transform_seconds_per_prediction;
      } else {
        cached = rates_cache.emplace(rates_key, std::move(computed)).first;
      }
    }
    if (cached != rates_cache.end()) {
      dp.options = cached->second.options;
      ri.peak_memory_bytes = cached->second.peak_memory_bytes;
      ri.transform_seconds_per_prediction = cached->second.transform_seconds_per_prediction;
    }
    ri.device = &device;
    ri.cost = &cost;
    const bool macos = !knowledge::RunsIos(device.family);
    auto key = std::make_pair(chip.ane_generation_number, macos);
    auto base = generation_risks.find(key);
    if (base == generation_risks.end()) {
      base = generation_risks.emplace(key, GenerationRisks(graph, *gen, macos)).first;
    }
    if (plan.weight_transform.transform_ops + plan.weight_transform.consumers > 0) {
      ri.transform_load_seconds = cost.decompress_s_per_gb * graph.compressed_weight_bytes / 1e9;
    }
    dp.risks = ComputeRisks(base->second, ri);
    SummarizeRisks(dp.risks, &dp.options);
    dp.recommendation = Recommend(dp.options, dp.risks, cost);
    plan.devices.push_back(std::move(dp));
    if (options.progress) options.progress(static_cast<double>(d + 1) / resolved.size());
  }
  return plan;
}

std::optional<Severity> HighestRisk(const ModelPlan& plan) {
  std::optional<Severity> worst;
  for (const DevicePlan& d : plan.devices) {
    for (const Risk& r : d.risks) {
      if (!worst || r.severity > *worst) worst = r.severity;
    }
  }
  return worst;
}

}  // namespace anepilot::plan
