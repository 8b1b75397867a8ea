#include "format/package_manifest.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "format/json_util.h"

namespace anepilot::format {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A manifest item path must stay inside Data/.
bool StaysInside(const std::string& path) {
  fs::path p(path);
  if (p.is_absolute() || path.empty()) return false;
  for (const auto& part : p) {
    if (part == "..") return false;
  }
  return true;
}

Result<std::string> StringField(const json& obj, const char* key, const std::string& where,
                                bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (!required) return std::string();
    return CorruptModel(fmt::format("{}: field {} is missing", where, key));
  }
  if (!it->is_string()) {
    return CorruptModel(fmt::format("{}: field {} is a {}, expected a string", where, key,
                                    it->type_name()));
  }
  return it->get<std::string>();
}

bool IsWeightsItem(const ManifestItem& item) {
  return item.description == "CoreML Model Weights" || item.name == "weights";
}

}  // namespace

const ManifestItem* Manifest::Find(std::string_view id) const {
  for (const ManifestItem& item : items) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

Result<Manifest> ParseManifest(std::string_view text, const std::string& file) {
  ANEPILOT_ASSIGN_OR_RETURN(json doc, ParseJson(text, file));
  if (!doc.is_object()) {
    return CorruptModel(fmt::format("{}: top level is a {}, expected an object", file,
                                    doc.type_name()));
  }
  Manifest m;
  ANEPILOT_ASSIGN_OR_RETURN(m.file_format_version,
                            StringField(doc, "fileFormatVersion", file, false));
  ANEPILOT_ASSIGN_OR_RETURN(m.root_model_id, StringField(doc, "rootModelIdentifier", file, false));
  auto entries = doc.find("itemInfoEntries");
  if (entries == doc.end() || !entries->is_object()) {
    return CorruptModel(fmt::format("{}: field itemInfoEntries is missing or not an object", file));
  }
  for (const auto& [id, entry] : entries->items()) {
    std::string where = fmt::format("{}: itemInfoEntries.{}", file, id);
    if (!entry.is_object()) {
      return CorruptModel(fmt::format("{} is a {}, expected an object", where, entry.type_name()));
    }
    ManifestItem item;
    item.id = id;
    ANEPILOT_ASSIGN_OR_RETURN(item.author, StringField(entry, "author", where, false));
    ANEPILOT_ASSIGN_OR_RETURN(item.description, StringField(entry, "description", where, false));
    ANEPILOT_ASSIGN_OR_RETURN(item.name, StringField(entry, "name", where, false));
    ANEPILOT_ASSIGN_OR_RETURN(item.path, StringField(entry, "path", where, true));
    if (!StaysInside(item.path)) {
      return CorruptModel(fmt::format(
          "{}: path \"{}\" must be relative and stay inside the package's Data folder", where,
          item.path));
    }
    m.items.push_back(std::move(item));
  }
  if (m.root_model_id.empty()) {
    return MissingComponent(fmt::format(
        "{}: field rootModelIdentifier is missing or empty; the package names no root model "
        "(re-save it with coremltools)", file));
  }
  if (m.Find(m.root_model_id) == nullptr) {
    return MissingComponent(fmt::format(
        "{}: rootModelIdentifier \"{}\" names no entry of itemInfoEntries; the package has no "
        "root model (re-save it with coremltools)", file, m.root_model_id));
  }
  return m;
}

Result<PackageLayout> ResolvePackage(const std::string& package_dir) {
  PackageLayout layout;
  layout.manifest_path = (fs::path(package_dir) / "Manifest.json").string();
  ANEPILOT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(layout.manifest_path));
  ANEPILOT_ASSIGN_OR_RETURN(layout.manifest, ParseManifest(text, layout.manifest_path));
  const Manifest& m = layout.manifest;
  fs::path data = fs::path(package_dir) / "Data";

  const ManifestItem* root = m.Find(m.root_model_id);
  layout.model_file = (data / root->path).string();
  std::error_code ec;
  if (!fs::is_regular_file(layout.model_file, ec)) {
    return MissingComponent(fmt::format(
        "{}: rootModelIdentifier \"{}\" -> path \"{}\": {} is absent; the package is incomplete",
        layout.manifest_path, m.root_model_id, root->path, layout.model_file));
  }
  layout.model_dir = fs::path(layout.model_file).parent_path().string();
  layout.weights_dir = (fs::path(layout.model_dir) / "weights").string();
  for (const ManifestItem& item : m.items) {
    if (item.id == m.root_model_id) continue;
    if (IsWeightsItem(item)) {
      layout.weights_dir = (data / item.path).string();
      continue;
    }
    layout.extras.push_back(item);
    layout.extra_paths.push_back((data / item.path).string());
  }
  return layout;
}

}  // namespace anepilot::format
