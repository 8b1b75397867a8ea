// libFuzzer target: the JSON files of packages and compiled models
// (Manifest.json, Metadata.json / FeatureDescriptions.json overlays, an
// .mlmodelc's metadata.json, model.espresso.net). Any input must yield a
// value or a Status, never a crash, leak or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "format/mlmodelc_espresso.h"
#include "format/mlmodelc_metadata.h"
#include "format/package_manifest.h"
#include "format/package_overlays.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)anepilot::format::ParseManifest(text, "Manifest.json");
  anepilot::ir::Model model;
  model.inputs.push_back({"text", "", {}});
  (void)anepilot::format::ApplyMetadataOverlay(text, "Metadata.json", &model);
  (void)anepilot::format::ApplyFeatureDescriptionsOverlay(text, "FeatureDescriptions.json", &model);
  (void)anepilot::format::ApplyCompiledMetadata(text, "metadata.json", &model);
  (void)anepilot::format::ReadEspressoNet(text, "model.espresso.net", text, "model.espresso.shape",
                                          &model);
  return 0;
}
