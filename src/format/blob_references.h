// Checking a model's blob references against its weight file(s) and filling
// ir::Model::weights. Shared by the .mlpackage and .mlmodelc readers.
#pragma once

#include <string>

#include "anepilot/ir.h"
#include "anepilot/model_reader.h"
#include "anepilot/status.h"

namespace anepilot::format {

// Resolves a BLOBFILE path as written in a program ("@model_path/weights/weight.bin")
// against `model_dir`, the directory that @model_path stands for (an
// .mlpackage's Data/com.apple.CoreML, an .mlmodelc's root). Relative paths
// without the prefix are taken relative to model_dir too.
std::string ResolveBlobPath(std::string_view written, const std::string& model_dir);

// Walks every constant (op attributes and immediate inputs, nested blocks,
// every function, pipeline stages) of `model`, and for each blob reference:
//  - when its weight file exists and options.verify_weights: checks the blob
//    header (BlobFile::Check) against the constant's type;
//  - sums distinct blobs into model->weights (blob_count, referenced_bytes,
//    file_bytes, path, state: kPresent / kMissing / kPartial, kNone when no
//    constant references a blob).
// A weight file that is absent is not an error: the state says so and
// weights.note explains; the program stays fully read.
// Errors: kCorruptWeights "<weight file>: blob at offset N (op <function>/<op
// name>): <what is wrong>"; errors of BlobFile::Open for a file that exists
// but cannot be mapped or has a bad storage header; kCorruptModel for a blob
// path that leads outside model_dir ("@model_path/../../x").
Status VerifyBlobReferences(ir::Model* model, const std::string& model_dir,
                            const ReadOptions& options);

}  // namespace anepilot::format
