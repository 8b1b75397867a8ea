#include "plan/cost_model.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"

namespace anepilot::plan {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, kOpClassCount> kClassNames = {
    "conv", "matmul", "elementwise", "transcendental", "reduction",
    "data_movement", "view", "pool", "gather", "other"};

// Reads numbers out of one JSON object, remembering the first error.
class FieldReader {
 public:
  FieldReader(std::string_view label) : label_(label) {}

  const json* Object(const json& parent, const std::string& path, const char* key) {
    if (!status_.ok()) return nullptr;
    auto it = parent.find(key);
    if (it == parent.end() || !it->is_object()) {
      Fail(fmt::format("{}{}: missing or not an object", path, key));
      return nullptr;
    }
    return &*it;
  }

  void Number(const json* obj, const std::string& path, const char* key, double lo, double hi,
              double* out) {
    if (!status_.ok() || obj == nullptr) return;
    auto it = obj->find(key);
    if (it == obj->end() || !it->is_number()) {
      Fail(fmt::format("{}{}: missing or not a number", path, key));
      return;
    }
    double v = it->get<double>();
    if (!(v >= lo && v <= hi)) {
      Fail(fmt::format("{}{}: {} is outside [{}, {}]", path, key, v, lo, hi));
      return;
    }
    *out = v;
  }

  void Unit(const json& root, const char* key, UnitCost* unit) {
    const json* u = Object(root, "", key);
    std::string path = std::string(key) + ".";
    const json* eff = u ? Object(*u, path, "efficiency") : nullptr;
    for (size_t c = 0; c < kOpClassCount; ++c) {
      std::string name(kClassNames[c]);
      Number(eff, path + "efficiency.", name.c_str(), 1e-6, 1.0, &unit->efficiency[c]);
    }
    Number(u, path, "bandwidth_fraction", 1e-3, 1.0, &unit->bandwidth_fraction);
    Number(u, path, "op_overhead_us", 0, 1e6, &unit->op_overhead_us);
    Number(u, path, "segment_dispatch_us", 0, 1e7, &unit->segment_dispatch_us);
  }

  void Fail(std::string what) {
    if (status_.ok()) {
      status_ = InvalidData(fmt::format("{}: {} (see docs/plan.md, data/cost_model.json)", label_, what));
    }
  }
  const Status& status() const { return status_; }

 private:
  std::string label_;
  Status status_;
};

}  // namespace

std::string_view OpClassName(OpClass c) { return kClassNames[static_cast<size_t>(c)]; }

Result<CostModel> ParseCostModel(std::string_view json_text, std::string_view label) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return ParseError(fmt::format("{}: JSON syntax error at byte {}: {}", label, e.byte, e.what()));
  }
  if (!root.is_object()) return InvalidData(fmt::format("{}: not a JSON object", label));
  if (root.value("schema", "") != "anepilot.cost_model") {
    return InvalidData(fmt::format("{}: schema: expected \"anepilot.cost_model\"", label));
  }
  if (!root.contains("version") || !root["version"].is_number_integer() || root["version"] != 1) {
    return InvalidData(fmt::format("{}: version: expected 1", label));
  }
  CostModel m;
  if (root.contains("provenance") && root["provenance"].is_string()) m.provenance = root["provenance"];
  if (root.contains("fitted_on") && root["fitted_on"].is_string()) m.fitted_on = root["fitted_on"];

  FieldReader r(label);
  r.Unit(root, "cpu", &m.cpu);
  r.Unit(root, "gpu", &m.gpu);
  r.Unit(root, "ane", &m.ane);
  const json* cpu = r.Object(root, "", "cpu");
  r.Number(cpu, "cpu.", "gflops_per_performance_core", 0.1, 1e4, &m.cpu_gflops_per_performance_core);
  r.Number(cpu, "cpu.", "gflops_per_efficiency_core", 0.0, 1e4, &m.cpu_gflops_per_efficiency_core);
  const json* ane = r.Object(root, "", "ane");
  double int8_gen = 16;
  r.Number(ane, "ane.", "tops_int8_from_generation", 11, 99, &int8_gen);
  m.ane_tops_int8_from_generation = static_cast<int>(int8_gen);
  r.Number(ane, "ane.", "peak_fraction_fp16", 1e-3, 1.0, &m.ane_peak_fraction_fp16);

  const json* tr = r.Object(root, "", "transition");
  r.Number(tr, "transition.", "fixed_us", 0, 1e6, &m.transition_fixed_us);
  r.Number(tr, "transition.", "bandwidth_fraction", 1e-3, 1.0, &m.transition_bandwidth_fraction);

  const json* pl = r.Object(root, "", "placement");
  r.Number(pl, "placement.", "island_min_gain", 0, 100, &m.island_min_gain);
  r.Number(pl, "placement.", "all_gpu_over_ane_margin", 1.0, 100, &m.all_gpu_over_ane_margin);

  const json* ld = r.Object(root, "", "load");
  const std::string lp = "load.";
  r.Number(ld, lp, "ane_compile_fixed_s", 0, 1e4, &m.ane_compile_fixed_s);
  r.Number(ld, lp, "ane_compile_s_per_100_ops", 0, 1e5, &m.ane_compile_s_per_100_ops);
  r.Number(ld, lp, "ane_compile_exponent", 0.5, 4, &m.ane_compile_exponent);
  r.Number(ld, lp, "ane_compile_s_per_gb_weights", 0, 1e5, &m.ane_compile_s_per_gb_weights);
  r.Number(ld, lp, "ane_compile_reference_cpu_gflops", 1, 1e5, &m.ane_compile_reference_cpu_gflops);
  r.Number(ld, lp, "load_cpu_gain_per_year", 0, 1, &m.load_cpu_gain_per_year);
  double reference_year = 2022;
  r.Number(ld, lp, "ane_compile_reference_year", 2010, 2100, &reference_year);
  m.ane_compile_reference_year = static_cast<int>(reference_year);
  r.Number(ld, lp, "ane_warm_load_fixed_s", 0, 1e3, &m.ane_warm_load_fixed_s);
  r.Number(ld, lp, "ane_warm_load_s_per_gb", 0, 1e3, &m.ane_warm_load_s_per_gb);
  r.Number(ld, lp, "gpu_load_fixed_s", 0, 1e3, &m.gpu_load_fixed_s);
  r.Number(ld, lp, "gpu_load_s_per_100_ops", 0, 1e3, &m.gpu_load_s_per_100_ops);
  r.Number(ld, lp, "gpu_load_s_per_gb", 0, 1e3, &m.gpu_load_s_per_gb);
  r.Number(ld, lp, "gpu_warm_fraction", 0, 1, &m.gpu_warm_fraction);
  r.Number(ld, lp, "cpu_load_fixed_s", 0, 1e3, &m.cpu_load_fixed_s);
  r.Number(ld, lp, "cpu_load_s_per_100_ops", 0, 1e3, &m.cpu_load_s_per_100_ops);
  r.Number(ld, lp, "cpu_load_s_per_gb", 0, 1e3, &m.cpu_load_s_per_gb);
  r.Number(ld, lp, "decompress_s_per_gb", 0, 1e3, &m.decompress_s_per_gb);

  const json* st = r.Object(root, "", "strategy");
  r.Number(st, "strategy.", "swap_cold_ratio", 1, 1e3, &m.swap_cold_ratio);
  r.Number(st, "strategy.", "swap_min_cold_s", 0, 1e4, &m.swap_min_cold_s);
  r.Number(st, "strategy.", "prewarm_cold_s", 0, 1e4, &m.prewarm_cold_s);

  const json* mem = r.Object(root, "", "memory");
  r.Number(mem, "memory.", "ane_copy_memory_fraction", 0, 4, &m.ane_copy_memory_fraction);
  r.Number(mem, "memory.", "high_fraction", 0.01, 10, &m.memory_high_fraction);
  r.Number(mem, "memory.", "medium_fraction", 0.01, 10, &m.memory_medium_fraction);
  if (!r.status().ok()) return r.status();
  return m;
}

Result<CostModel> LoadCostModel(const std::string& path) {
  std::string text;
  ANEPILOT_ASSIGN_OR_RETURN(text, ReadFileToString(path));
  return ParseCostModel(text, path);
}

}  // namespace anepilot::plan
