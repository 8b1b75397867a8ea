// The policy file: what `anepilot plan --policy OUT` writes and the on-device
// runtime reads. Defined once, here: the C++ types, JSON parse + validation +
// serialisation, and the matching of a device / OS / model to a Decision.
// Every field is documented, with an example, in docs/policy.md.
//
// Errors: parsing and validation return kParseError (not JSON) or
// kInvalidData (JSON that breaks the schema) with a message that names the
// source file and the JSON path at fault, e.g.
//   policy.json: models[0].rules[2].choices[1].units: "cpuAndANE" is not a
//   compute-unit option (cpuOnly, cpuAndGPU, cpuAndNeuralEngine, all)
// The runtime never stops on a bad policy: LoadPolicyOrSafeDefault returns the
// safe default together with the error.
//
// Thread-safety: all types are values. A PolicyIndex is immutable after
// construction; Decide may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anepilot/compute_units.h"
#include "anepilot/result.h"
#include "anepilot/status.h"

namespace anepilot {

inline constexpr std::string_view kPolicySchema = "anepilot.policy";
inline constexpr int kPolicyVersion = 1;
// Environment variable read by PolicyOverrideFromEnvironment.
inline constexpr const char* kPolicyOverrideEnv = "ANEPILOT_POLICY_OVERRIDE";

// How the runtime loads the chosen configuration.
//  kSingle: load choices[0] (then the next on failure) and serve from it.
//  kFastFirstThenSwap: serve from `serve_first` (the fastest to load) while
//    `swap_to` loads in the background; swap when it is faster by
//    `swap_min_gain` and its output validates.
//  kPrewarm: like kSingle, but the model should be specialised ahead of use.
enum class LoadingStrategy : uint8_t { kSingle, kFastFirstThenSwap, kPrewarm };
std::string_view LoadingStrategyName(LoadingStrategy s);  // "single", ...
std::optional<LoadingStrategy> ParseLoadingStrategy(std::string_view text);

// An OS version "18", "18.2" or "18.2.1". Missing parts are 0.
struct OsVersion {
  int major = 0, minor = 0, patch = 0;
  friend auto operator<=>(const OsVersion&, const OsVersion&) = default;
  std::string ToString() const;  // "18.2" (patch printed only when non-zero)
};
// nullopt unless `text` is 1-3 dot-separated non-negative integers.
std::optional<OsVersion> ParseOsVersion(std::string_view text);

// Which devices / OS a rule applies to. Every present field must match.
struct PolicyMatch {
  // "iPhone14,7" (exact), "iPhone14,*" (prefix: any text ending in '*'), "*".
  std::string device = "*";
  std::optional<std::string> chip;      // "A15"; case-insensitive exact match
  std::optional<OsVersion> os_min;      // inclusive
  std::optional<OsVersion> os_max;      // inclusive; "18" means 18.0.0 exactly,
                                        // write "18.99" for "any 18.x"
  std::optional<std::string> os_build;  // "22C152"; exact
};

// One compute-unit option with the planner's expectations (all optional; the
// runtime uses them to decide swaps and to report predicted vs measured).
struct UnitChoice {
  ComputeUnits units = ComputeUnits::kCpuAndGpu;
  std::optional<double> expected_latency_ms;
  std::optional<double> expected_cold_load_ms;
  std::optional<double> expected_warm_load_ms;
  std::optional<double> expected_peak_memory_mb;
  friend bool operator==(const UnitChoice&, const UnitChoice&) = default;
};
// A choice with no expectations.
inline UnitChoice ChoiceOf(ComputeUnits units) {
  UnitChoice c;
  c.units = units;
  return c;
}

struct LoadingPlan {
  LoadingStrategy strategy = LoadingStrategy::kSingle;
  std::optional<ComputeUnits> serve_first;  // required for kFastFirstThenSwap
  std::optional<ComputeUnits> swap_to;      // required for kFastFirstThenSwap
  double swap_min_gain = 0.1;               // swap only if >= 10% faster; [0, 10]
  friend bool operator==(const LoadingPlan&, const LoadingPlan&) = default;
};

// A configuration the runtime must not try for this rule's devices.
// cpuOnly can never be blocked (validation rejects it): it is the last resort.
struct BlockedUnits {
  ComputeUnits units = ComputeUnits::kAll;
  std::string reason;  // for people: "ANE compiler crashes on A15 (iOS 17)"
  std::string rule;    // the knowledge rule id that justified it, may be empty
  friend bool operator==(const BlockedUnits&, const BlockedUnits&) = default;
};

struct PolicyRule {
  std::string id;  // optional; reported in Decision::matched_rule when set
  PolicyMatch match;
  std::vector<UnitChoice> choices;  // best first; non-empty; no duplicates
  LoadingPlan loading;
  std::vector<BlockedUnits> blocked;
};

struct ModelPolicy {
  std::string model_hash;  // 64 lowercase hex chars: sha256 of the model content
  std::string model_name;  // for people
  std::vector<PolicyRule> rules;
};

// Used when no rule matches (or no policy could be read).
struct DefaultPolicy {
  std::vector<UnitChoice> choices;  // must contain cpuAndGPU or cpuOnly
  LoadingPlan loading;
};

struct Policy {
  int version = kPolicyVersion;
  std::string generated_by;  // "anepilot 0.1.0"
  std::string generated_at;  // optional ISO-8601 time
  std::vector<ModelPolicy> models;
  DefaultPolicy default_policy;  // JSON field "default"
};

// The safe default: choices [cpuAndGPU, cpuOnly], strategy single.
DefaultPolicy SafeDefaultPolicy();
// A policy with no models and the safe default.
Policy SafeDefaultOnlyPolicy();

// Parses and validates. `source` names the text in messages ("policy.json").
// kParseError for invalid JSON, kInvalidData for a schema violation.
// Unknown fields are ignored (forward compatibility within a version); a
// different "schema" or a "version" other than 1 is kInvalidData.
Result<Policy> ParsePolicy(std::string_view json_text, std::string_view source = "policy.json");
// Reads `path` and parses it; kNotFound / kIoError name the path.
Result<Policy> LoadPolicyFile(const std::string& path);
// The checks ParsePolicy applies, for policies built in code (the planner).
Status ValidatePolicy(const Policy& policy, std::string_view source = "policy");
// Deterministic pretty JSON (2-space indent, fields in schema order).
// ParsePolicy(SerializePolicy(p)) reproduces p exactly.
std::string SerializePolicy(const Policy& policy);
// Validates, then writes atomically (temp file, fsync, rename).
Status WritePolicyFile(const Policy& policy, const std::string& path);

// What the runtime knows about where it runs.
struct DeviceContext {
  std::string device;      // hw identifier, "iPhone14,7"
  std::string chip;        // "A15"; empty when unknown (chip rules then never match)
  std::string os_version;  // "18.2"; unparsable/empty: OS-range rules never match
  std::string os_build;    // "22C152"
};

// The answer for one (device, OS, model).
struct Decision {
  // Ordered, best first; the rule's blocked units removed; never empty; always
  // ends with at least one safe option (cpuAndGPU or cpuOnly): if the rule
  // left none, cpuAndGPU then cpuOnly are appended (unless blocked; cpuOnly
  // never is).
  std::vector<UnitChoice> choices;
  LoadingPlan loading;
  std::vector<BlockedUnits> blocked;  // what the rule blocked, for telemetry
  // Rule id when set, else its JSON path "models[3].rules[1]"; "default" when
  // nothing matched; "override" when a local override forced the choices.
  std::string matched_rule;
  bool from_default = false;
  bool overridden = false;
};

// A policy indexed for lookup: by model hash, then exact device, then the
// wildcard / chip rules in precedence order. Decide costs O(rules for that
// model and device) and is far under 1 ms for thousands of rules.
//
// Precedence (most specific wins): device exact > device prefix (longer
// prefix first) > chip-only (device "*" with chip) > "*". Within the same
// device level: os_build > OS range (os_min/os_max) > no OS constraint. Ties:
// the rule that comes first in the file.
class PolicyIndex {
 public:
  PolicyIndex();  // the safe default only
  explicit PolicyIndex(Policy policy);  // `policy` should be validated
  PolicyIndex(PolicyIndex&&) noexcept;
  PolicyIndex& operator=(PolicyIndex&&) noexcept;
  ~PolicyIndex();

  Decision Decide(const DeviceContext& device, std::string_view model_hash) const;
  const Policy& policy() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads, validates and indexes `path`. Never fails: on any error the index
// holds the safe default and `status` says what was wrong (naming the file
// and field), so the runtime keeps going and can report it.
struct PolicyLoad {
  PolicyIndex index;
  Status status;
};
PolicyLoad LoadPolicyOrSafeDefault(const std::string& path);

// A local override for testing: forces the choice list (and optionally the
// strategy), bypassing the policy's rules and blocks (the crash guard still
// applies). Text forms:
//   "units=cpuOnly"                          one unit
//   "units=cpuAndNeuralEngine,cpuAndGPU;strategy=single"
//   {"units": ["all", "cpuOnly"], "strategy": "fast_first_then_swap",
//    "serve_first": "cpuAndGPU", "swap_to": "all"}
struct PolicyOverride {
  std::vector<ComputeUnits> units;  // non-empty
  std::optional<LoadingPlan> loading;
};
// kInvalidArgument naming the offending part for malformed text.
Result<PolicyOverride> ParsePolicyOverride(std::string_view text);
// nullopt when ANEPILOT_POLICY_OVERRIDE is unset or empty; an error when set
// but malformed.
Result<std::optional<PolicyOverride>> PolicyOverrideFromEnvironment();
// The decision the override forces (matched_rule "override").
Decision ApplyOverride(const Decision& decision, const PolicyOverride& override_spec);

}  // namespace anepilot
