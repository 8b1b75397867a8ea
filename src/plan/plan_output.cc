// PlanToJson / PlanToText (declared in anepilot/plan.h). The JSON layout is
// documented field by field in docs/plan.md; change it only with a version bump.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "anepilot/plan.h"

namespace anepilot::plan {
namespace {

using nlohmann::ordered_json;

double Round(double v, double scale = 1000) { return std::round(v * scale) / scale; }

ordered_json OptionJson(const OptionPlan& o, bool include_ops) {
  ordered_json j;
  j["latency_ms"] = Round(o.latency_ms);
  j["cold_load_ms"] = Round(o.cold_load_ms);
  j["warm_load_ms"] = Round(o.warm_load_ms);
  j["peak_memory_mb"] = Round(o.peak_memory_mb);
  j["segments"] = o.segments;
  j["transitions"] = o.transitions;
  j["ops"] = {{"cpu", o.ops_on[static_cast<size_t>(Unit::kCpu)]},
              {"gpu", o.ops_on[static_cast<size_t>(Unit::kGpu)]},
              {"ane", o.ops_on[static_cast<size_t>(Unit::kAne)]}};
  j["risk"] = o.has_risk ? ordered_json(std::string(knowledge::SeverityName(o.risk))) : ordered_json(nullptr);
  j["top_risk"] = o.has_risk ? ordered_json(o.top_risk) : ordered_json(nullptr);
  if (include_ops && !o.placement.empty()) {
    ordered_json ops = ordered_json::array();
    for (const OpPlacement& p : o.placement) {
      ops.push_back({{"function", p.function}, {"op", p.op_name}, {"type", p.op_type},
                     {"unit", std::string(UnitName(p.unit))}, {"why", p.why}});
    }
    j["placement"] = std::move(ops);
  }
  return j;
}

ordered_json UnitsJson(const std::vector<ComputeUnits>& units) {
  ordered_json a = ordered_json::array();
  for (ComputeUnits u : units) a.push_back(std::string(ComputeUnitsName(u)));
  return a;
}

std::string Seconds(double ms) {
  double s = ms / 1e3;
  if (s >= 100) return fmt::format("{:.0f}", s);
  if (s >= 10) return fmt::format("{:.1f}", s);
  return fmt::format("{:.2f}", s);
}

std::string Millis(double ms) {
  if (ms >= 1000) return fmt::format("{:.0f}", ms);
  if (ms >= 10) return fmt::format("{:.1f}", ms);
  return fmt::format("{:.2f}", ms);
}

// Left-aligned columns separated by two spaces.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    if (width.size() < r.size()) width.resize(r.size(), 0);
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string Order(const Recommendation& rec) {
  std::string s;
  for (ComputeUnits u : rec.order) s += fmt::format("{}{}", s.empty() ? "" : " > ", ComputeUnitsName(u));
  return s;
}

std::string Strategy(const Recommendation& rec) {
  std::string s(LoadingStrategyName(rec.strategy));
  if (rec.strategy == LoadingStrategy::kFastFirstThenSwap && rec.serve_first && rec.swap_to) {
    s += fmt::format(" ({} -> {})", ComputeUnitsName(*rec.serve_first), ComputeUnitsName(*rec.swap_to));
  }
  return s;
}

}  // namespace

std::string PlanToJson(const ModelPlan& plan, bool include_ops) {
  ordered_json j;
  j["schema"] = "anepilot.plan";
  j["version"] = 1;
  j["model"] = {{"path", plan.model_path}, {"kind", plan.model_kind},
                {"planned_ops", plan.planned_ops}, {"compute_ops", plan.compute_ops},
                {"weights_mb", Round(plan.weights_mb)}};
  j["os"] = plan.os;
  j["notes"] = plan.notes;
  const WeightTransformSummary& w = plan.weight_transform;
  j["weight_transform"] = {{"transform_ops", w.transform_ops}, {"consumers", w.consumers},
                           {"weight_bytes", w.weight_bytes}, {"examples", w.examples}};
  ordered_json devices = ordered_json::array();
  for (const DevicePlan& d : plan.devices) {
    ordered_json dj;
    dj["identifier"] = d.device->identifier;
    dj["name"] = d.device->name;
    dj["chip"] = d.chip->name;
    dj["ane_generation"] = d.chip->ane_generation;
    dj["resolution_warning"] = d.resolution_warning.empty() ? ordered_json(nullptr)
                                                           : ordered_json(d.resolution_warning);
    const Recommendation& rec = d.recommendation;
    ordered_json blocked = ordered_json::array();
    for (const BlockedOption& b : rec.blocked) {
      blocked.push_back({{"units", std::string(ComputeUnitsName(b.units))}, {"reason", b.reason}, {"rule", b.rule}});
    }
    dj["recommendation"] = {
        {"order", UnitsJson(rec.order)},
        {"strategy", std::string(LoadingStrategyName(rec.strategy))},
        {"serve_first", rec.serve_first ? ordered_json(std::string(ComputeUnitsName(*rec.serve_first))) : ordered_json(nullptr)},
        {"swap_to", rec.swap_to ? ordered_json(std::string(ComputeUnitsName(*rec.swap_to))) : ordered_json(nullptr)},
        {"prewarm", rec.prewarm},
        {"rationale", rec.rationale},
        {"blocked", std::move(blocked)}};
    ordered_json opts;
    for (ComputeUnits u : kAllComputeUnits) opts[std::string(ComputeUnitsName(u))] = OptionJson(d.option(u), include_ops);
    dj["options"] = std::move(opts);
    ordered_json risks = ordered_json::array();
    for (const Risk& r : d.risks) {
      risks.push_back({{"kind", r.kind}, {"severity", std::string(knowledge::SeverityName(r.severity))},
                       {"rule", r.rule_id}, {"confidence", Round(r.confidence, 100)},
                       {"message", r.message}, {"evidence", r.evidence}, {"advice", r.advice},
                       {"ops", r.ops}, {"op_count", r.op_count}, {"options", UnitsJson(r.options)}});
    }
    dj["risks"] = std::move(risks);
    devices.push_back(std::move(dj));
  }
  j["devices"] = std::move(devices);
  return j.dump(2) + "\n";
}

std::string PlanToText(const ModelPlan& plan, const std::string& detail_device, bool include_ops) {
  std::string out = fmt::format("{}: {} ops ({} compute), weights {:.1f} MB, planned for OS {}\n",
                                plan.model_path, plan.planned_ops, plan.compute_ops, plan.weights_mb, plan.os);
  for (const std::string& n : plan.notes) out += fmt::format("note: {}\n", n);
  const WeightTransformSummary& w = plan.weight_transform;
  if (w.transform_ops + w.consumers > 0) {
    out += fmt::format("runtime weight transform: {} ops recompute {:.1f} MB of weights per prediction for {} ops",
                       w.transform_ops, w.weight_bytes / 1e6, w.consumers);
    if (!w.examples.empty()) out += fmt::format(", e.g. {}", w.examples.front());
    out += "\n";
  }
  out += "\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"DEVICE", "CHIP", "USE", "LOADING", "LATENCY ms cpu/gpu/ne/all", "COLD LOAD s gpu/ne",
                  "WARM s gpu/ne", "TOP RISK"});
  for (const DevicePlan& d : plan.devices) {
    auto lat = [&](ComputeUnits u) {
      bool blocked = std::any_of(d.recommendation.blocked.begin(), d.recommendation.blocked.end(),
                                 [u](const BlockedOption& b) { return b.units == u; });
      return Millis(d.option(u).latency_ms) + (blocked ? "!" : "");
    };
    const OptionPlan& gpu = d.option(ComputeUnits::kCpuAndGpu);
    const OptionPlan& ne = d.option(ComputeUnits::kCpuAndNeuralEngine);
    std::string top = "-";
    if (!d.risks.empty()) {
      const Risk& r = d.risks.front();
      top = fmt::format("{} {}: {}", knowledge::SeverityName(r.severity), r.kind, r.rule_id);
    }
    rows.push_back({d.device->identifier + " " + d.device->name,
                    d.chip->name + "/" + d.chip->ane_generation, Order(d.recommendation),
                    Strategy(d.recommendation),
                    fmt::format("{}/{}/{}/{}", lat(ComputeUnits::kCpuOnly), lat(ComputeUnits::kCpuAndGpu),
                                lat(ComputeUnits::kCpuAndNeuralEngine), lat(ComputeUnits::kAll)),
                    fmt::format("{}/{}", Seconds(gpu.cold_load_ms), Seconds(ne.cold_load_ms)),
                    fmt::format("{}/{}", Seconds(gpu.warm_load_ms), Seconds(ne.warm_load_ms)), top});
  }
  out += Table(rows);
  out += "(! = blocked: a high-risk crash, compile failure or memory overrun)\n";

  for (const DevicePlan& d : plan.devices) {
    if (detail_device.empty() || d.device->identifier != detail_device) continue;
    out += fmt::format("\n== {} ({}, {} {}, ANE {}) ==\n", d.device->identifier, d.device->name,
                       d.chip->name, d.chip->ane_generation, d.chip->ane_generation);
    if (!d.resolution_warning.empty()) out += fmt::format("warning: {}\n", d.resolution_warning);
    out += fmt::format("use: {}; loading: {}\n  {}\n", Order(d.recommendation), Strategy(d.recommendation),
                       d.recommendation.rationale);
    for (const BlockedOption& b : d.recommendation.blocked) {
      out += fmt::format("blocked {}: {} [{}]\n", ComputeUnitsName(b.units), b.reason, b.rule);
    }
    std::vector<std::vector<std::string>> orows;
    orows.push_back({"OPTION", "LATENCY ms", "COLD s", "WARM s", "PEAK MB", "SEGMENTS", "TRANSITIONS",
                     "OPS cpu/gpu/ane", "RISK"});
    for (ComputeUnits u : kAllComputeUnits) {
      const OptionPlan& o = d.option(u);
      orows.push_back({std::string(ComputeUnitsName(u)), Millis(o.latency_ms), Seconds(o.cold_load_ms),
                       Seconds(o.warm_load_ms), fmt::format("{:.0f}", o.peak_memory_mb),
                       std::to_string(o.segments), std::to_string(o.transitions),
                       fmt::format("{}/{}/{}", o.ops_on[1], o.ops_on[2], o.ops_on[3]),
                       o.has_risk ? fmt::format("{} ({})", knowledge::SeverityName(o.risk), o.top_risk) : "-"});
    }
    out += Table(orows);
    out += "risks:\n";
    for (const Risk& r : d.risks) {
      std::string opts;
      for (ComputeUnits u : r.options) opts += fmt::format("{}{}", opts.empty() ? "" : ",", ComputeUnitsName(u));
      out += fmt::format("  [{}] {} {} (confidence {:.2f}; options {}; {} ops)\n    {}\n",
                         knowledge::SeverityName(r.severity), r.kind, r.rule_id, r.confidence, opts,
                         r.op_count, r.message);
      if (!r.ops.empty()) {
        std::string ops;
        for (const auto& o : r.ops) ops += fmt::format("{}{}", ops.empty() ? "" : ", ", o);
        out += fmt::format("    ops: {}{}\n", ops, r.op_count > r.ops.size() ? ", ..." : "");
      }
      if (!r.evidence.empty()) out += fmt::format("    evidence: {}\n", r.evidence);
      if (!r.advice.empty()) out += fmt::format("    advice: {}\n", r.advice);
    }
    if (include_ops) {
      const OptionPlan& all = d.option(ComputeUnits::kAll);
      const OptionPlan& ne = d.option(ComputeUnits::kCpuAndNeuralEngine);
      const OptionPlan& gpu = d.option(ComputeUnits::kCpuAndGpu);
      std::vector<std::vector<std::string>> prow;
      prow.push_back({"OP", "TYPE", "cpuAndGPU", "cpuAndNE", "all", "WHY (all)", "WHY (cpuAndNE)"});
      for (size_t k = 0; k < all.placement.size(); ++k) {
        const OpPlacement& p = all.placement[k];
        prow.push_back({p.function + "/" + p.op_name, p.op_type, std::string(UnitName(gpu.placement[k].unit)),
                        std::string(UnitName(ne.placement[k].unit)), std::string(UnitName(p.unit)), p.why,
                        ne.placement[k].why});
      }
      out += "ops (constants omitted):\n" + Table(prow);
    }
  }
  return out;
}

}  // namespace anepilot::plan
