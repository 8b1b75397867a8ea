// Reading any Core ML model into the IR (include/anepilot/ir.h).
//
//   auto model = anepilot::ReadModel("problem1.mlpackage");
//   if (!model.ok()) { std::cerr << model.status().ToString(); return ExitCodeFor(model.status()); }
//
// Accepts: a `.mlmodel` file (protobuf), an `.mlpackage` directory (Manifest.json
// + model + weights), an `.mlmodelc` directory (compiled: model.mil for ML
// Programs, espresso files for NeuralNetworks). The container is detected from
// the contents, not only the name.
//
// Weights are never read into memory: blob references are validated against
// the weight file's headers through a memory map (ReadOptions), and absent
// weight files are reported in Model::weights, not treated as errors.
//
// Errors (StatusCode): kNotFound (path), kNotAModel (exists, no known format),
// kCorruptModel (protobuf does not parse / truncated), kMissingComponent
// (manifest or compiled model names a file that is absent), kCorruptWeights
// (blob header or offset inconsistent with the weight file), kParseError
// (model.mil syntax error: file:line:column), kUnsupported (says exactly what).
// Every message starts with the file it is about.
#pragma once

#include <string>

#include "anepilot/ir.h"
#include "anepilot/result.h"

namespace anepilot {

struct ReadOptions {
  // Check every blob reference's header (sentinel, dtype, size, offset)
  // against the weight file when the file is present.
  bool verify_weights = true;
  // Threads that may decode a large ML Program's operations and check its
  // blob references (0: automatic, one per hardware thread (at most 8) for
  // top-level blocks of 256 KiB or more and for 8,192 or more references;
  // 1: the calling thread only). The IR, the weights report and any error
  // are the same whatever the count.
  unsigned decode_threads = 0;
};

Result<ir::Model> ReadModel(const std::string& path, const ReadOptions& options = {});

}  // namespace anepilot
