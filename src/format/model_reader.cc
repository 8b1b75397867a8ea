// anepilot::ReadModel: container detection and dispatch to the readers.
#include "anepilot/model_reader.h"

#include <fmt/format.h>

#include <filesystem>

#include "base/mapped_file.h"
#include "format/blob_references.h"
#include "format/container.h"
#include "format/mlmodel_spec.h"
#include "format/mlmodelc_reader.h"
#include "format/package_reader.h"

namespace anepilot {

namespace {

Result<ir::Model> ReadMlModelFile(const std::string& path, const ReadOptions& options) {
  ANEPILOT_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path, MappedFile::Paging::kWhole));
  if (file.size() == 0) {
    return CorruptModel(fmt::format("{}: empty file, not a Core ML model", path));
  }
  ANEPILOT_ASSIGN_OR_RETURN(ir::Model model, format::ParseModelSpec(file.view(), path, options.decode_threads));
  model.container = ir::Container::kMlModel;
  model.path = path;
  model.model_file = path;
  // A lone .mlmodel rarely refers to blobs (packages do); when it does,
  // @model_path is its folder.
  ANEPILOT_RETURN_IF_ERROR(format::VerifyBlobReferences(
      &model, std::filesystem::path(path).parent_path().string(), options));
  return model;
}

}  // namespace

Result<ir::Model> ReadModel(const std::string& path, const ReadOptions& options) {
  ANEPILOT_ASSIGN_OR_RETURN(ir::Container container, format::DetectContainer(path));
  switch (container) {
    case ir::Container::kMlModel:
      return ReadMlModelFile(path, options);
    case ir::Container::kMlPackage:
      return format::ReadPackage(path, options);
    case ir::Container::kMlModelc:
      return format::ReadCompiledModel(path, options);
  }
  return Internal(fmt::format("{}: unhandled container kind", path));
}

}  // namespace anepilot
