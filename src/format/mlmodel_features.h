// Conversion of Core ML feature descriptions (a model's inputs, outputs,
// states and training inputs) from the protobuf schema to ir::Feature.
// Internal to the format module. Pure functions; thread-safe.
#pragma once

#include <vector>

#include "proto/FeatureTypes.pb.h"
#include "proto/Model.pb.h"
#include "anepilot/ir.h"

namespace anepilot::format {

// The IR dtype of a multiarray data type (kUnknown for unset / unknown).
ir::DType ArrayDTypeToIr(CoreML::Specification::ArrayFeatureType::ArrayDataType t);

// Converts one feature type: kind, optional flag, dtype + default shape
// (multiarray, state) or {height, width} + color space (image), flexible
// shapes (ranges and enumerated), dictionary key / sequence element kind.
ir::FeatureType FeatureTypeToIr(const CoreML::Specification::FeatureType& type);

// Converts a repeated field of feature descriptions, in order.
std::vector<ir::Feature> FeaturesToIr(
    const google::protobuf::RepeatedPtrField<CoreML::Specification::FeatureDescription>& features);

// Converts a model description into `out`: inputs, outputs, states,
// training inputs, predicted feature / probabilities names and metadata.
// A multifunction program's description with empty top-level lists stands
// for its default function's IO. Moves strings out of `d`.
void DescriptionToIr(CoreML::Specification::ModelDescription* d, ir::Model* out);

}  // namespace anepilot::format
