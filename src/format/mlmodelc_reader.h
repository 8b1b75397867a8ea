// Reading a compiled model folder (.mlmodelc), what apps ship:
//  - ML Program: model.mil (text, see mil_text_parser.h) + metadata.json +
//    weights/weight.bin when present;
//  - NeuralNetwork (espresso): model.espresso.net / .shape / .weights +
//    metadata.json when the compiler wrote one;
//  - without metadata.json, IO and metadata come from the model description
//    embedded in coremldata.bin (mlmodelc_coremldata.h), else are inferred;
//  - compiled pipelines / classic models: only that description.
#pragma once

#include <string>

#include "anepilot/ir.h"
#include "anepilot/model_reader.h"
#include "anepilot/result.h"

namespace anepilot::format {

// Errors: kParseError (model.mil syntax, "<file>:<line>:<col>: ..."; malformed
// metadata.json), kCorruptWeights (blob checks), kUnsupported for a compiled
// folder holding neither model.mil nor model.espresso.net nor a readable
// description in coremldata.bin (says which files it has). What cannot be read is listed in Model::warnings and
// Model::description_note, never silently dropped.
Result<ir::Model> ReadCompiledModel(const std::string& dir, const ReadOptions& options);

}  // namespace anepilot::format
