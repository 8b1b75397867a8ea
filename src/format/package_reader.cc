#include "format/package_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>

#include "base/mapped_file.h"
#include "format/blob_references.h"
#include "format/mlmodel_spec.h"
#include "format/package_manifest.h"
#include "format/package_overlays.h"

namespace anepilot::format {

namespace {

namespace fs = std::filesystem;

void ApplyOverlays(const PackageLayout& layout, ir::Model* model) {
  for (size_t i = 0; i < layout.extras.size(); ++i) {
    const ManifestItem& item = layout.extras[i];
    const std::string& path = layout.extra_paths[i];
    bool metadata = item.name == "Metadata.json";
    bool descriptions = item.name == "FeatureDescriptions.json";
    if (!metadata && !descriptions) continue;
    Result<std::string> text = ReadFileToString(path);
    if (!text.ok()) {
      model->warnings.push_back(fmt::format("overlay {} listed in {} is unreadable: {}",
                                            item.name, layout.manifest_path,
                                            text.status().message()));
      continue;
    }
    Status st = metadata ? ApplyMetadataOverlay(*text, path, model)
                         : ApplyFeatureDescriptionsOverlay(*text, path, model);
    if (!st.ok()) {
      model->warnings.push_back(fmt::format("overlay ignored: {}", st.message()));
    }
  }
}

// When the weight file is missing, say what the weights folder holds instead
// (some published packages carry unrelated files there).
void DescribeWeightsFolder(const PackageLayout& layout, ir::Model* model) {
  std::error_code ec;
  if (!fs::is_directory(layout.weights_dir, ec)) {
    model->weights.note += "; the package has no weights folder";
    return;
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(layout.weights_dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    model->weights.note += "; the weights folder is empty";
  } else {
    model->weights.note += fmt::format("; the weights folder holds only: {}", fmt::join(names, ", "));
  }
}

}  // namespace

Result<ir::Model> ReadPackage(const std::string& dir, const ReadOptions& options) {
  ANEPILOT_ASSIGN_OR_RETURN(PackageLayout layout, ResolvePackage(dir));
  ANEPILOT_ASSIGN_OR_RETURN(MappedFile spec, MappedFile::Open(layout.model_file, MappedFile::Paging::kWhole));
  ANEPILOT_ASSIGN_OR_RETURN(ir::Model model, ParseModelSpec(spec.view(), layout.model_file, options.decode_threads));
  model.container = ir::Container::kMlPackage;
  model.path = dir;
  model.model_file = layout.model_file;
  ApplyOverlays(layout, &model);
  ANEPILOT_RETURN_IF_ERROR(VerifyBlobReferences(&model, layout.model_dir, options));
  if (model.weights.state == ir::WeightsInfo::State::kMissing) {
    DescribeWeightsFolder(layout, &model);
  }
  return model;
}

}  // namespace anepilot::format
