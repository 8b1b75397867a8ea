// Neural Engine rules: what leaves the ANE, fails to compile, crashes, is slow
// or loses precision, per ANE generation. The knowledge lives in
// data/ane_rules.json (schema "anepilot.ane_rules", version 1, documented in
// docs/knowledge.md), each rule with its evidence and a confidence; this
// header loads it and evaluates it against IR ops.
//
//   ANEPILOT_ASSIGN_OR_RETURN(auto rules, AneRuleSet::LoadDefault());
//   ModelFacts facts = ModelFacts::FromModel(model);
//   for (const ir::Function& fn : model.program.functions) {
//     ir::GraphIndex index(fn);
//     OpContext ctx{&index, fn.name, &facts};
//     for (const std::string& gen : catalog.AneGenerations())        // once per generation,
//       for (const ir::Op* op : index.Ops())                          // not once per device
//         for (RuleFinding& f : rules.Evaluate(*op, ctx, gen)) ...
//     // or, fastest: rules.EvaluateAllGenerations(*op, ctx, &findings) once per op,
//     // then keep finding.AppliesTo(generation) per generation.
//   }
//   auto whole_model = rules.EvaluateModel(facts, "H14", Platform::kIos);
//
// Performance contract: rules are indexed by op type at load time, so an op
// only meets the rules for its type plus the wildcard rules; an op that
// matches nothing costs a hash lookup and a few comparisons and allocates
// nothing. Findings depend only on (op, generation, model facts), never on the
// device, so callers evaluate each op once per ANE generation (8 today), or
// once for all generations with EvaluateAllGenerations, and share the result
// among the devices of a generation. Measured by bench/knowledge_bench.cc
// (numbers in docs/knowledge.md).
//
// Ownership / thread-safety: an AneRuleSet is immutable after Load and cheap to
// copy (shares its compiled rules). Evaluate may be called concurrently.
// Errors: only Load/Parse fail; evaluation never fails (a condition that cannot
// be decided, e.g. an unknown shape, does not match).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anepilot/ane_generation.h"
#include "anepilot/ir.h"
#include "anepilot/result.h"

namespace anepilot::knowledge {

// What a rule predicts happens when it matches.
enum class RuleEffect : uint8_t {
  kLeavesAne,        // "leaves_ane": the op runs on CPU/GPU instead (a segment break)
  kCompileFailure,   // "compile_failure": the ANE compile fails; Core ML falls back (slow load)
  kCrash,            // "crash": the process is killed (ANE compiler / memory), no fallback
  kSlow,             // "slow": runs, but slowly (or compiles very slowly)
  kPrecisionHazard,  // "precision_hazard": fp16 overflow / precision loss
  kCacheMiss,        // "cache_miss": the compiled model cache will not be hit
};
std::string_view RuleEffectName(RuleEffect effect);  // the data file's spelling

enum class Severity : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity severity);    // "info", "low", "medium", "high", "critical"

// Operating system of the device a model-level rule is evaluated for.
enum class Platform : uint8_t { kIos, kMacos };  // iOS also covers iPadOS
std::string_view PlatformName(Platform platform);  // "iOS", "macOS"

// Whole-model facts that rules consult; computed once per model.
struct ModelFacts {
  bool ml_program = true;           // false for NeuralNetwork layers (op types are layer kinds)
  std::string opset;                // main function's opset ("CoreML6", "ios17"); empty for NN
  uint64_t model_bytes = 0;         // weights (file, else referenced) + inline weights
  int64_t max_rank = 0;             // highest rank of any op output / function input
  std::string max_rank_value;       // a value with that rank
  std::vector<std::string> range_flexible_inputs;       // inputs with Flexibility::kRange
  std::vector<std::string> enumerated_flexible_inputs;  // inputs with Flexibility::kEnumerated
  size_t max_enumerated_shapes = 0; // most enumerated shapes of any input
  bool has_custom_layers = false;
  std::string container;            // "mlmodel", "mlpackage", "mlmodelc" (ir::ContainerName)
  size_t compute_ops = 0;           // ops that run at prediction time (not const / constexpr_*)

  // Computes the facts of `model` (its program and, for pipelines, its
  // stages' programs). Never fails; unknown sizes count as 0.
  static ModelFacts FromModel(const ir::Model& model);
};

// What Evaluate may consult besides the op itself.
struct OpContext {
  const ir::GraphIndex* graph = nullptr;  // index of the op's function (required; must outlive the call)
  std::string_view function_name;         // used in messages: "main/conv_3 (conv)"
  const ModelFacts* model = nullptr;      // optional; conditions on model facts do not match without it
};

// One rule matched. Every finding cites its rule.
struct RuleFinding {
  std::string rule_id;              // "ANE-GATHER-CPU"
  RuleEffect effect = RuleEffect::kLeavesAne;
  Severity severity = Severity::kInfo;
  double confidence = 0;            // 0..1, the rule's
  // Names the op and the value that triggered it, e.g.
  // `main/matmul_0_cast_fp16 (matmul): output fp16[1, 8, 4096, 4096] is 256 MiB (> 64 MiB): <rule description>`.
  std::string message;
  std::string function, op_name, op_type;  // empty for model-level findings
  std::string evidence;             // the rule's evidence entries joined with "; "
  std::string advice;
  // The rule's generation bounds (0 = unbounded), so a finding from
  // EvaluateAllGenerations can be filtered per generation.
  int min_generation = 0;
  int max_generation = 0;
  bool AppliesTo(int generation_number) const;
};

// A loaded rule (read-only view; the conditions are internal).
struct AneRule {
  std::string id;
  std::string description;
  bool model_scope = false;           // true: evaluated by EvaluateModel, not per op
  RuleEffect effect = RuleEffect::kLeavesAne;
  Severity severity = Severity::kInfo;
  double confidence = 0;
  int min_generation = 0;             // inclusive ANE generation numbers (11..18); 0 = unbounded
  int max_generation = 0;
  std::vector<std::string> platforms; // empty = any; else "iOS" / "macOS"
  std::vector<std::string> op_types;  // op rules: the types matched ("*" = any non-constant op)
  std::vector<std::string> evidence;  // at least one
  std::string advice;
  // "only_if_no_other": a catch-all (e.g. ANE-OP-NOT-SUPPORTED) that is
  // reported only when no other rule with the same effect matched the op.
  bool only_if_no_other = false;

  bool AppliesTo(int generation_number) const;
};

class AneRuleSet {
 public:
  // Reads and validates a rules file. Errors as DeviceCatalog::Load:
  // kNotFound/kIoError, kParseError, kInvalidData naming file + JSON path
  // (`data/ane_rules.json: rules[3].effect: unknown effect "explodes"`).
  static Result<AneRuleSet> Load(const std::string& path);
  // Load(FindDataDir() + "/ane_rules.json").
  static Result<AneRuleSet> LoadDefault();
  static Result<AneRuleSet> Parse(std::string_view json_text, std::string_view label);

  int version() const;
  const std::vector<AneRule>& rules() const;
  const AneRule* FindRule(std::string_view id) const;

  // Findings of every op-scope rule that applies to `ane_generation` ("H14")
  // and matches `op`. Constant producers (const, constexpr_*) are evaluated
  // like any op but only rules naming their type explicitly can match them.
  // An unknown or malformed generation matches only rules without bounds.
  std::vector<RuleFinding> Evaluate(const ir::Op& op, const OpContext& ctx,
                                    std::string_view ane_generation) const;
  // Same, appending to *out (no allocation when nothing matches); generation
  // as a number (AneGenerationNumber("H14") == 14).
  void EvaluateInto(const ir::Op& op, const OpContext& ctx, int generation_number,
                    std::vector<RuleFinding>* out) const;

  // Fastest path for planning many generations: evaluates each op-scope
  // rule's conditions once (conditions never depend on the generation) and
  // appends one finding per matching rule with its generation bounds; the
  // caller keeps, per generation g, the findings with AppliesTo(g). Costs one
  // EvaluateInto, not one per generation. Same findings as EvaluateInto for
  // every g, except that a catch-all (only_if_no_other) is dropped only when a
  // same-effect finding covers all of the catch-all's generations.
  void EvaluateAllGenerations(const ir::Op& op, const OpContext& ctx, std::vector<RuleFinding>* out) const;

  // Findings of the model-scope rules (model size on iOS, flexible inputs,
  // rank > 5, custom layers) for a device of `ane_generation` running `platform`.
  std::vector<RuleFinding> EvaluateModel(const ModelFacts& facts, std::string_view ane_generation,
                                         Platform platform) const;

  // The data file's op-type whitelist: true when `op_type` is one the ANE
  // executes (ML Program op names if ml_program, else NeuralNetwork layer
  // kinds). Ops outside it match the rule "ANE-OP-NOT-SUPPORTED".
  bool AneSupportsOpType(std::string_view op_type, bool ml_program) const;
  // True for ops that compute nothing at prediction time: "const" and the
  // constexpr_* family (decompressed at load).
  bool IsConstantProducer(std::string_view op_type) const;

  struct Compiled;  // internal: conditions and the op-type index

 private:
  // generation_number -1: every generation (EvaluateAllGenerations).
  void EvaluateOp(const ir::Op& op, const OpContext& ctx, int generation_number,
                  std::vector<RuleFinding>* out) const;

  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace anepilot::knowledge
