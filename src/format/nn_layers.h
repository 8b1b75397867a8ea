// Conversion of NeuralNetwork models (Model.neuralNetwork, ...Classifier,
// ...Regressor) into the IR: the layers become the ops of one function
// "main" (see docs/ir.md for the exact mapping). Internal to the format
// module.
#pragma once

#include "proto/NeuralNetwork.pb.h"
#include "anepilot/ir.h"

namespace anepilot::format {

// Appends function "main" to model->program built from `layers` (whose
// strings are moved out), derives each layer's output shape from the
// model's inputs (model->inputs must already be set), records custom layer
// class names in model->custom_layers and the inline weight bytes in
// model->weights.inline_bytes. Image preprocessing (scaler / mean image)
// becomes leading ops of type "preprocessing.scaler" / "preprocessing.meanImage".
// Never fails: layers it cannot interpret get unknown output shapes.
void NeuralNetworkToIr(
    google::protobuf::RepeatedPtrField<CoreML::Specification::NeuralNetworkLayer>* layers,
    const google::protobuf::RepeatedPtrField<CoreML::Specification::NeuralNetworkPreprocessing>& preprocessing,
    CoreML::Specification::NeuralNetworkMultiArrayShapeMapping array_mapping,
    CoreML::Specification::NeuralNetworkImageShapeMapping image_mapping, ir::Model* model);

}  // namespace anepilot::format
