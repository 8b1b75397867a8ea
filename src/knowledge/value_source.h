// Tracing where an op's operands come from: constants, load-time decompressed
// constants (constexpr_*), run-time transforms of constants (a weight computed
// at every prediction, e.g. constexpr_affine_dequantize -> pow -> conv), or
// activations.
#pragma once

#include <string_view>

#include "anepilot/ir.h"
#include "knowledge/rule_condition.h"

namespace anepilot::knowledge {

// True for ops that compute nothing at prediction time: "const", any
// constexpr_* op, and NeuralNetwork's loadConstant / loadConstantND. Must agree
// with constant_op_types / constant_op_prefixes of data/ane_rules.json (a test
// checks it).
bool IsConstantProducerType(std::string_view op_type);

// Source of the value named `name` in `graph`. Walks producers at most
// `max_depth` ops back; a chain longer than that counts as an activation
// (constant-only chains are short; this bounds the cost per op).
ValueSource SourceOfValue(const ir::GraphIndex& graph, std::string_view name, int max_depth = 4);

// Source of what `op` computes (as if its output were traced).
ValueSource SourceOfOp(const ir::GraphIndex& graph, const ir::Op& op, int max_depth = 4);

}  // namespace anepilot::knowledge
