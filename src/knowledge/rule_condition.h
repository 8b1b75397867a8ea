// The compiled form of data/ane_rules.json: conditions as plain structs and
// an op-type index. Internal to the knowledge module.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "anepilot/ane_rules.h"

namespace anepilot::knowledge {

// Where a value the rules look at comes from (see ValueSource in value_source.h).
enum class ValueSource : uint8_t {
  kConst,               // an immediate or a "const" op
  kConstexpr,           // a constexpr_* op (decompressed once, at load)
  kConstexprTransform,  // computed at prediction time from constexpr_* (and const) values only
  kConstTransform,      // computed at prediction time from const values only (unfolded)
  kActivation,          // depends on a model input (or could not be traced)
};
std::string_view ValueSourceName(ValueSource s);  // "const", "constexpr", "constexpr_transform", ...

// One condition of a rule's "match". All conditions of a rule must hold.
struct RuleCondition {
  enum class Subject : uint8_t {
    kOutputs,     // any (or all) output tensors
    kInputs,      // any (or all) tensor input bindings (values and immediates)
    kTensors,     // inputs and outputs
    kInput,       // the input named by `names` (first binding)
    kAttribute,   // the attribute / constant input named by one of `names`
    kOp,          // the op itself
    kConsumers,   // ops reading any output
    kModel,       // ModelFacts
  };
  enum class Property : uint8_t {
    kRank, kDType, kDim, kElements, kBytes, kShapeKnown, kSource,  // tensors
    kValue,                                                        // attribute numbers
    kOpType, kAneSupported,                                        // op / consumers
    kModelBytes, kMaxRank, kRangeFlexibleInputs, kEnumeratedFlexibleInputs, kMaxEnumeratedShapes,
    kCustomLayers, kMlProgram, kComputeOps, kContainer,            // model
  };
  enum class Cmp : uint8_t { kGt, kGe, kLt, kLe, kEq, kNe, kIn, kNotIn };

  Subject subject = Subject::kOutputs;
  std::vector<std::string> names;   // kInput / kAttribute: parameter / attribute names
  Property property = Property::kRank;
  std::vector<int> axes_from_end;   // kDim: 1 = last axis; empty = any axis
  Cmp cmp = Cmp::kEq;
  bool all = false;                 // quantifier over tensors / axes / elements (default: any)
  bool is_text = false;             // compare strings (dtype, op_type, source, container) or numbers
  std::vector<double> numbers;      // one value, or the set for in / not_in
  std::vector<std::string> texts;
};

struct CompiledRule {
  AneRule rule;
  std::vector<RuleCondition> conditions;
  std::string evidence_joined;
  bool wildcard = false;            // op_types == ["*"]
};

}  // namespace anepilot::knowledge

// Defined here so rule_loader.cc and rule_eval.cc share it; opaque to users.
struct anepilot::knowledge::AneRuleSet::Compiled {
  int version = 0;
  std::vector<AneRule> rules;                 // views, same order as `compiled`
  std::vector<CompiledRule> compiled;
  std::unordered_map<std::string, std::vector<size_t>> by_op_type;  // explicit op types
  std::vector<size_t> wildcard;               // op rules matching "*"
  std::vector<size_t> catch_all;              // "*" rules with only_if_no_other, run last
  std::vector<size_t> model_rules;
  std::vector<std::string> ml_program_ops;    // whitelist, sorted
  std::vector<std::string> neural_network_ops;
  std::vector<std::string> constant_ops;      // exact names
  std::vector<std::string> constant_prefixes; // "constexpr_"
};
