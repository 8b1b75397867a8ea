// The cost model's free constants, read from data/cost_model.json (schema
// "anepilot.cost_model", version 1). Every constant is data: tools/calibrate.py
// fits them on ../shared/calibration/latency.csv and writes the file with the
// provenance of each group. docs/plan.md explains the formulas they feed.
//
// Thread-safety: a plain value, immutable after Parse.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "anepilot/result.h"

namespace anepilot::plan {

// Op classes with distinct efficiency on each unit.
enum class OpClass : uint8_t {
  kConv, kMatmul, kElementwise, kTranscendental, kReduction, kDataMovement, kView, kPool,
  kGather, kOther,
};
inline constexpr size_t kOpClassCount = 10;
std::string_view OpClassName(OpClass c);  // "conv", "matmul", ... (the JSON keys)

// Per compute unit (CPU, GPU, ANE) constants.
struct UnitCost {
  std::array<double, kOpClassCount> efficiency{};  // fraction of peak FLOPs reached, by class
  double bandwidth_fraction = 0.5;   // of the chip's memory bandwidth this unit streams at
  double op_overhead_us = 0;         // fixed cost per op
  double segment_dispatch_us = 0;    // fixed cost per segment run on this unit
};

struct CostModel {
  std::string provenance;            // where the numbers come from (for --json / docs)
  std::string fitted_on;             // calibration data set, date
  UnitCost cpu, gpu, ane;
  double cpu_gflops_per_performance_core = 50;
  double cpu_gflops_per_efficiency_core = 8;
  // From this ANE generation on, the catalog's TOPS figure is int8 (twice fp16).
  int ane_tops_int8_from_generation = 16;
  double ane_peak_fraction_fp16 = 1.0;  // scale of the fp16 TOPS figure actually usable

  double transition_fixed_us = 60;
  double transition_bandwidth_fraction = 0.3;

  // Placement heuristics.
  double island_min_gain = 2.0;        // keep an ANE island only if it saves > this x its transitions
  double all_gpu_over_ane_margin = 1.25;  // .all runs a segment on GPU if GPU is this much faster

  // Load time.
  double ane_compile_fixed_s = 0.3;        // the out-of-process compile's fixed cost
  double ane_compile_s_per_100_ops = 10;   // cold ANE compile of a 100-op ANE graph on the reference CPU
  double ane_compile_exponent = 1.7;       // superlinear growth in ANE graph size
  double ane_compile_s_per_gb_weights = 5; // weights to lay out for the ANE
  double ane_compile_reference_cpu_gflops = 200;  // CPU speed the constants were fitted at
  // Per-core CPU speed grows by this fraction per chip year (the compiler is
  // CPU work); the constants are for a chip of ane_compile_reference_year.
  double load_cpu_gain_per_year = 0.15;
  int ane_compile_reference_year = 2022;
  double ane_warm_load_fixed_s = 0.05;
  double ane_warm_load_s_per_gb = 2.0;
  double gpu_load_fixed_s = 0.1;
  double gpu_load_s_per_100_ops = 0.5;
  double gpu_load_s_per_gb = 4.0;
  double gpu_warm_fraction = 0.3;          // warm GPU load vs its cold load
  double cpu_load_fixed_s = 0.05;
  double cpu_load_s_per_100_ops = 0.05;
  double cpu_load_s_per_gb = 2.0;
  double decompress_s_per_gb = 1.0;        // constexpr_* decompression at load, CPU

  // Loading strategy.
  double swap_cold_ratio = 3.0;     // fast_first_then_swap when the best unit's cold load is this many
  double swap_min_cold_s = 1.0;     //   times the fastest-loading safe unit's, and at least this long
  double prewarm_cold_s = 1.0;      // prewarm hint when the first choice's cold load exceeds this

  // Memory.
  double ane_copy_memory_fraction = 1.0;   // extra weight copy held for the ANE
  double memory_high_fraction = 0.9;       // peak above this share of the app limit: high risk
  double memory_medium_fraction = 0.6;
};

// Parses and validates (every field required, positive where it must be).
// Errors: kParseError (not JSON), kInvalidData naming `label` and the field.
Result<CostModel> ParseCostModel(std::string_view json_text, std::string_view label);
// Reads `path` (kNotFound / kIoError) and parses it.
Result<CostModel> LoadCostModel(const std::string& path);

}  // namespace anepilot::plan
