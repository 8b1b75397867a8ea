// What a compiled model's top-level coremldata.bin says about the model.
//
// coremldata.bin is written by Apple's model compiler and is not documented.
// What anepilot relies on was observed in every compiled model of the shared
// corpus (NeuralNetwork and ML Program, compilers from 2019 to 2024):
//  - bytes 0..3: a little-endian uint32 equal to the field number of the
//    source Model's `Type` oneof member (500 neuralNetwork, 502 mlProgram, ...);
//  - somewhere in the header (offset 0x4b in every sample): a little-endian
//    uint64 length L followed by L bytes that are the source model's
//    ModelDescription protobuf (inputs and outputs with their types, metadata).
// The description is located by scanning for such a length-prefixed block
// that parses as a ModelDescription with named features, so a moved offset
// still reads; a block that does not validate is ignored, never trusted.
// Internal to the format module. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "anepilot/ir.h"

namespace anepilot::format {

struct CoremlDataDescription {
  // Inputs, outputs, states, training inputs, predicted names and metadata
  // are set; every other field is left default.
  ir::Model description;
  // The model kind ("neuralNetwork", "mlProgram", "pipelineClassifier", ...)
  // named by the header's type number; empty when the number is not a known
  // Model type.
  std::string kind;
  size_t offset = 0;  // byte offset of the embedded description
};

// Finds the embedded model description in the bytes of a coremldata.bin;
// nullopt when none is recognised (another layout, truncated or hostile
// bytes). Never fails otherwise; bounded work (scans at most the first 64 KiB).
std::optional<CoremlDataDescription> ReadCoremlDataDescription(std::string_view bytes);

}  // namespace anepilot::format
