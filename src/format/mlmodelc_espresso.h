// The espresso files of a compiled NeuralNetwork (.mlmodelc):
//   model.espresso.net     JSON: {"layers": [{"type", "name", "bottom": "a,b",
//                          "top": "c", <layer parameters>}], "storage", ...}
//   model.espresso.shape   JSON: {"layer_shapes": {blob: {n, k, h, w, seq?, _rank?}}}
//   model.espresso.weights binary weights (layout not read)
#pragma once

#include <string>
#include <string_view>

#include "anepilot/ir.h"
#include "anepilot/status.h"

namespace anepilot::format {

// Turns the layer list of model.espresso.net into ops of a function "main"
// (op type = espresso layer type, e.g. "convolution", "pool"; inputs =
// "bottom" blobs; outputs = "top" blobs; scalar layer parameters become
// attributes). `shape_json` (may be empty) gives output shapes as
// [n, k, h, w], or [seq, n, k, h, w] when a seq extent is recorded; element
// types are not recorded by espresso and stay unknown. The function's inputs
// are the blobs read by some layer and written by none (with their recorded
// shapes), its outputs the blobs written and read by none.
// Errors: kParseError for malformed JSON, kCorruptModel when "layers" is
// missing or not an array. `net_file` / `shape_file` prefix messages.
Status ReadEspressoNet(std::string_view net_json, const std::string& net_file,
                       std::string_view shape_json, const std::string& shape_file,
                       ir::Model* model);

}  // namespace anepilot::format
