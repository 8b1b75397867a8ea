#include "format/container.h"

#include <fmt/format.h>

#include <filesystem>

namespace anepilot::format {

namespace fs = std::filesystem;

Result<ir::Container> DetectContainer(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    return NotFound(fmt::format("{}: no such file or directory", path));
  }
  if (fs::is_regular_file(st)) return ir::Container::kMlModel;
  if (!fs::is_directory(st)) {
    return NotAModel(fmt::format("{}: not a Core ML model: neither a file nor a directory", path));
  }
  fs::path dir(path);
  auto has = [&](const char* name) { return fs::is_regular_file(dir / name, ec); };
  if (has("Manifest.json")) return ir::Container::kMlPackage;
  if (has("model.mil") || has("coremldata.bin") || has("model.espresso.net")) {
    return ir::Container::kMlModelc;
  }
  return NotAModel(fmt::format(
      "{}: not a Core ML model: no Manifest.json (mlpackage), model.mil / coremldata.bin / "
      "model.espresso.net (mlmodelc); pass the .mlmodel file or the .mlpackage / .mlmodelc "
      "folder itself", path));
}

}  // namespace anepilot::format
