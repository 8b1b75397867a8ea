// Reading a compiled model folder (.mlmodelc), what apps ship:
//  - ML Program: model.mil (text, see mil_text_parser.h) + metadata.json +
//    weights/weight.bin when present;
//  - NeuralNetwork (espresso): model.espresso.net / .shape / .weights +
//    coremldata.bin (a private binary format, not read) + metadata.json when
//    the compiler wrote one.
#pragma once

#include <string>

#include "anepilot/ir.h"
#include "anepilot/model_reader.h"
#include "anepilot/result.h"

namespace anepilot::format {

// Errors: kParseError (model.mil syntax, "<file>:<line>:<col>: ..."; malformed
// metadata.json), kCorruptWeights (blob checks), kUnsupported for a compiled
// folder holding neither model.mil nor model.espresso.net (says which files
// it has). What cannot be read is listed in Model::warnings and
// Model::description_note, never silently dropped.
Result<ir::Model> ReadCompiledModel(const std::string& dir, const ReadOptions& options);

}  // namespace anepilot::format
