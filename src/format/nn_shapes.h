// Output shape derivation for NeuralNetwork layers, which (unlike ML Program
// ops) carry no output types in the model file.
//
// Semantics follow the NeuralNetwork specification: every layer that works
// on images sees its input as [..., C, H, W] (the rank-5 [Seq, Batch, C, H, W]
// blob of older networks is written [C, H, W]; ND networks keep their
// leading dimensions). Layers without a rule, or whose input shapes are
// unknown, get an unknown shape. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "proto/NeuralNetwork.pb.h"

namespace anepilot::format {

// A shape under derivation: one entry per dimension, -1 when that dimension
// is unknown; nullopt when even the rank is unknown.
using NnShape = std::optional<std::vector<int64_t>>;

// The output shapes of `layer` (one per declared output) given the shapes of
// its inputs (one per declared input, in order).
std::vector<NnShape> DeriveNnLayerShapes(const CoreML::Specification::NeuralNetworkLayer& layer,
                                         const std::vector<NnShape>& inputs);

// The layer kinds (names of the NeuralNetworkLayer `layer` oneof) that have a
// derivation rule, in the order docs/ir.md lists them.
const std::vector<std::string_view>& NnLayersWithShapeRules();

}  // namespace anepilot::format
