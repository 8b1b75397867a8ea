// The planner: for each device of the lineup and each MLComputeUnits option,
// where every op of a model runs, what that costs (latency, cold / warm load,
// memory), what can go wrong (risks, each citing a knowledge rule), and which
// units and loading strategy to use. `anepilot plan` prints it; BuildPolicy
// turns it into the policy file the on-device runtime reads.
//
//   ANEPILOT_ASSIGN_OR_RETURN(auto planner, anepilot::plan::Planner::Load({}));
//   ANEPILOT_ASSIGN_OR_RETURN(auto model, anepilot::ReadModel(path));
//   ANEPILOT_ASSIGN_OR_RETURN(auto plan, planner.Plan(model, {.devices = "iPhone14,7"}));
//
// Everything here is a prediction from public evidence (data/devices.json,
// data/ane_rules.json, data/cost_model.json); docs/plan.md describes the model
// and its measured error.
//
// Ownership: a Planner owns its catalog, rules and cost model. A ModelPlan
// holds pointers into the Planner's catalog (DevicePlan::device / chip): keep
// the Planner alive while the plan is used.
// Thread-safety: a Planner is immutable after Load; Plan may run concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anepilot/ane_rules.h"
#include "anepilot/compute_units.h"
#include "anepilot/device_catalog.h"
#include "anepilot/ir.h"
#include "anepilot/policy.h"
#include "anepilot/result.h"

namespace anepilot::plan {

// Where one op runs. kNone: constants (const, folded constant chains, load-time
// constexpr_* decompression) cost nothing at prediction time.
enum class Unit : uint8_t { kNone, kCpu, kGpu, kAne };
std::string_view UnitName(Unit unit);  // "const", "CPU", "GPU", "ANE"

using knowledge::Severity;

// One risk of running the model on a device, grouped by cause (rule).
struct Risk {
  // "crash", "compile_failure", "silent_fallback", "precision_hazard",
  // "cache_miss", "slow", "memory", "runtime_weight_transform", "cpu_only_op".
  std::string kind;
  Severity severity = Severity::kInfo;
  std::string rule_id;                 // knowledge rule or planner rule (PLAN-*)
  double confidence = 0;
  std::string message;                 // first finding's message (names an op)
  std::string evidence;
  std::string advice;
  std::vector<std::string> ops;        // "main/matmul_0 (matmul)", the first few
  size_t op_count = 0;                 // all ops this risk is about
  std::vector<ComputeUnits> options;   // the options it applies to
};

// How one op is placed under one option (kept only for the detail device).
struct OpPlacement {
  std::string function, op_name, op_type;
  Unit unit = Unit::kNone;
  std::string why;  // rule id or planner reason ("ANE-GATHER-CPU", "PLAN-ISLAND")
};

struct OptionPlan {
  ComputeUnits units = ComputeUnits::kCpuOnly;
  size_t segments = 0;      // maximal runs of compute ops on one unit
  size_t transitions = 0;   // unit changes between consecutive segments
  std::array<size_t, 4> ops_on{};   // compute ops per Unit (index = Unit)
  double latency_ms = 0;            // steady-state prediction
  double cold_load_ms = 0;          // first load (ANE: on-device compile)
  double warm_load_ms = 0;          // load with the compiled / specialized cache hit
  double peak_memory_mb = 0;        // weights + peak live intermediates (+ ANE copies)
  Severity risk = Severity::kInfo;  // highest severity of the risks for this option
  bool has_risk = false;
  std::string top_risk;             // short: "crash: ANE-ATTN-SCORES-H14 (15 ops)"
  std::vector<OpPlacement> placement;  // filled for PlanOptions::detail_device only
};

struct BlockedOption {
  ComputeUnits units = ComputeUnits::kAll;
  std::string reason;
  std::string rule;
};

struct Recommendation {
  std::vector<ComputeUnits> order;      // best first; never empty (ends with a safe option)
  std::vector<BlockedOption> blocked;   // high-risk options, with reasons
  LoadingStrategy strategy = LoadingStrategy::kSingle;
  std::optional<ComputeUnits> serve_first, swap_to;  // fast_first_then_swap
  bool prewarm = false;                 // the first choice's cold load is long: specialize ahead of use
  std::string rationale;
};

struct DevicePlan {
  const knowledge::Device* device = nullptr;
  const knowledge::Chip* chip = nullptr;
  std::string resolution_warning;       // the device was chosen for the query (nearest family...)
  std::array<OptionPlan, 4> options;    // index = ComputeUnits
  std::vector<Risk> risks;              // most severe first
  Recommendation recommendation;
  const OptionPlan& option(ComputeUnits u) const { return options[static_cast<size_t>(u)]; }
};

// The runtime weight transform of quantized models (constexpr_* -> op -> conv).
struct WeightTransformSummary {
  size_t transform_ops = 0;           // ops computing on decompressed weights at every prediction
  size_t consumers = 0;               // ops whose weights are such a result (conv, matmul...)
  uint64_t weight_bytes = 0;          // decompressed bytes recomputed per prediction
  std::vector<std::string> examples;  // "main/pow_3 (pow) -> main/conv_3 (conv)"
};

struct ModelPlan {
  std::string model_path;
  std::string model_kind;
  std::string os;                       // the OS version planned for ("18")
  bool os_given = false;                // PlanOptions::os was set (the policy then matches from it on)
  size_t planned_ops = 0;               // all ops walked (including constants)
  size_t compute_ops = 0;               // ops that compute at prediction time
  double weights_mb = 0;
  WeightTransformSummary weight_transform;
  std::vector<std::string> notes;       // what was not planned and why
  std::vector<DevicePlan> devices;      // in the order requested
};

struct PlanOptions {
  std::string devices = "all";          // DeviceCatalog::ResolveList syntax
  std::string os;                       // "17", "18.2"; empty: the latest the planner knows
  std::string detail_device;            // identifier: keep per-op placement for this device
  // Called with the fraction done (0..1) while planning many devices; may be empty.
  std::function<void(double)> progress;
};

// Paths overriding the data files; empty = the default data directory.
struct PlannerFiles {
  std::string devices, rules, cost_model;
};

struct CostModel;  // src/plan/cost_model.h

class Planner {
 public:
  // Loads and validates the three data files. Errors: those of
  // DeviceCatalog::Load / AneRuleSet::Load, and for the cost model kNotFound,
  // kParseError, kInvalidData naming the file and field.
  static Result<Planner> Load(const PlannerFiles& files);

  // Errors: kInvalidArgument for an unknown device list or OS string (the
  // message lists the accepted forms); kUnsupported "cannot plan: <kind> runs
  // on CPU only" for classic models with no program (tree ensembles, text
  // classifiers, ...).
  Result<ModelPlan> Plan(const ir::Model& model, const PlanOptions& options) const;

  const knowledge::DeviceCatalog& catalog() const { return *catalog_; }
  const knowledge::AneRuleSet& rules() const { return *rules_; }
  const CostModel& cost_model() const { return *cost_; }

 private:
  std::shared_ptr<const knowledge::DeviceCatalog> catalog_;
  std::shared_ptr<const knowledge::AneRuleSet> rules_;
  std::shared_ptr<const CostModel> cost_;
};

// The OS version used when PlanOptions::os is empty.
inline constexpr std::string_view kDefaultPlanOs = "18";

// The policy file for `plan`: one rule per planned device (exact identifier;
// from the planned OS version on when --os was given, else any OS), the recommendation's order, loading plan and
// blocked options. `model_hash` is ModelContentHash's result.
Policy BuildPolicy(const ModelPlan& plan, const std::string& model_hash,
                   const std::string& model_name);

// sha256 identifying a model's content: of the file for .mlmodel; for a
// package or compiled model, of its spec file followed by its weight file(s)
// (sorted relative paths and bytes), so renaming or moving it keeps the hash.
Result<std::string> ModelContentHash(const std::string& path);

// Machine output (schema "anepilot.plan", version 1; docs/plan.md).
std::string PlanToJson(const ModelPlan& plan, bool include_ops);
// Human output: the lineup table, then for `detail_device` its risks and, if
// `include_ops`, each op's unit and why.
std::string PlanToText(const ModelPlan& plan, const std::string& detail_device, bool include_ops);

// The highest risk severity on any device's recommended first choice or any
// option; used by --fail-on.
std::optional<Severity> HighestRisk(const ModelPlan& plan);

}  // namespace anepilot::plan
