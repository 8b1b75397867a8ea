// Reading an .mlpackage directory: Manifest.json -> root model (protobuf) ->
// overlays -> weight blob references checked against weights/weight.bin.
#pragma once

#include <string>

#include "anepilot/ir.h"
#include "anepilot/model_reader.h"
#include "anepilot/result.h"

namespace anepilot::format {

// Reads the package at `dir` (which must hold Manifest.json).
// Errors: those of ResolvePackage (kParseError, kCorruptModel,
// kMissingComponent), ParseModelSpec (kCorruptModel, kUnsupported) and
// VerifyBlobReferences (kCorruptWeights). Absent weight files and malformed
// overlay files are not errors: see Model::weights and Model::warnings.
Result<ir::Model> ReadPackage(const std::string& dir, const ReadOptions& options);

}  // namespace anepilot::format
