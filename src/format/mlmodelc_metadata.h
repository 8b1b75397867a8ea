// metadata.json of a compiled model (.mlmodelc): what coremlc records about
// the model it compiled: IO feature descriptions (with shapes and flexible
// ranges), specification version, model type, user-defined metadata, class
// name, functions of a multifunction model. Older compilers did not write it.
//
// The file is a JSON array holding one object:
//   [{"specificationVersion": 7, "modelType": {"name": "MLModelType_mlProgram"},
//     "inputSchema": [{"name", "type": "MultiArray", "dataType": "Float16",
//                      "shape": "[1, 10]", "isOptional": "0",
//                      "hasShapeFlexibility": "1", "shapeRange": "[[1, -1], ...]",
//                      "shortDescription"}], "outputSchema": [...], "stateSchema": [...],
//     "userDefinedMetadata": {...}, "generatedClassName": "...",
//     "functions": [{"name", "inputSchema", ...}], "defaultFunctionName": "..."}]
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "anepilot/ir.h"
#include "anepilot/status.h"

namespace anepilot::format {

// Fills model->spec_version, kind, inputs, outputs, states, metadata,
// is_updatable from metadata.json text, and appends to model->description_note
// the generated class name and, for multifunction models, the functions and
// the default one. Fields it does not know are ignored; a feature field with
// an unexpected form (e.g. a shape that is not a list of integers) becomes a
// warning in model->warnings, not an error.
// Errors: kParseError for malformed JSON; kCorruptModel when the top level is
// not an array of one object (or an object). `file` prefixes messages.
Status ApplyCompiledMetadata(std::string_view json, const std::string& file, ir::Model* model);

}  // namespace anepilot::format
