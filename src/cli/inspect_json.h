// `anepilot inspect --json`: the summary as a versioned JSON document. The
// schema is documented field by field in docs/inspect-json.md; bump
// kInspectSchemaVersion on any change that is not a pure addition.
#pragma once

#include <nlohmann/json.hpp>

#include "analysis/model_summary.h"
#include "anepilot/ir.h"

namespace anepilot::cli {

inline constexpr int kInspectSchemaVersion = 1;

// The document {"schema": "anepilot.inspect", "version": 1, ...}. When
// `with_ops` is set, `model` (the IR the summary came from) adds an "ops"
// array per model and stage: every op of every function in program order
// (nested blocks after their parent), with its output names, dtypes and shapes.
nlohmann::ordered_json InspectToJson(const analysis::ModelSummary& summary,
                                     const ir::Model& model, bool with_ops);

// A tensor shape as JSON: known dims as numbers, symbolic dims as their
// symbol string, unknown dims as null; null for an unranked tensor.
nlohmann::ordered_json ShapeToJson(const ir::TensorType& t);

}  // namespace anepilot::cli
