// Reading a serialized Core ML `Model` protobuf (the bytes of a .mlmodel file,
// or of an .mlpackage's Data/com.apple.CoreML/model.mlmodel) into the IR.
//
// Internal to the format module: the public entry point is
// anepilot::ReadModel (include/anepilot/model_reader.h), which detects the
// container and calls ParseModelSpec with the model file's bytes.
#pragma once

#include <string>
#include <string_view>

#include "anepilot/ir.h"
#include "anepilot/result.h"

namespace anepilot::format {

// Parses serialized Core ML Model protobuf bytes into an ir::Model: spec
// version, kind, description (inputs, outputs, states, training inputs,
// predicted feature names, class labels), metadata, updatable flag, program
// (ML Program functions, or NeuralNetwork layers as function "main"),
// pipeline stages (recursively), custom layers.
//
// Does NOT set container/path/weights.state (the caller does); blob
// references are left as written in the model
// ("@model_path/weights/weight.bin", offset). `file` is used only in error
// messages.
//
// Errors: kCorruptModel when the bytes are not a parseable Model protobuf
// (truncated, random) or nest deeper than the reader allows; kUnsupported
// when the spec sets no model type. Never crashes on hostile input.
// `decode_threads` as DecodeMilProgram's `threads` (ReadOptions::decode_threads).
// Thread-safe: no shared state.
Result<ir::Model> ParseModelSpec(std::string_view bytes, const std::string& file, unsigned decode_threads = 0);

}  // namespace anepilot::format
