// The optional overlay files Xcode writes into an .mlpackage beside the model
// (Manifest items "Metadata.json" and "FeatureDescriptions.json"). Their
// values take precedence over the model file's own description, as in Core ML.
#pragma once

#include <string>
#include <string_view>

#include "anepilot/ir.h"
#include "anepilot/status.h"

namespace anepilot::format {

// Metadata.json: {MLModelDescriptionKey, MLModelAuthorKey, MLModelLicenseKey,
// MLModelVersionStringKey, MLModelCreatorDefinedKey{...}} -> model->metadata.
// Errors: kParseError for malformed JSON, kCorruptModel for a top level that
// is not an object. `file` prefixes messages.
Status ApplyMetadataOverlay(std::string_view json, const std::string& file, ir::Model* model);

// FeatureDescriptions.json: {Inputs|Outputs|TrainingInputs: {name:
// {MLFeatureShortDescription}}} -> Feature::description of matching features.
// Same errors.
Status ApplyFeatureDescriptionsOverlay(std::string_view json, const std::string& file,
                                       ir::Model* model);

}  // namespace anepilot::format
