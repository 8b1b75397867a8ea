#include "format/package_overlays.h"

#include <fmt/format.h>

#include <vector>

#include "format/json_util.h"

namespace anepilot::format {

namespace {

using nlohmann::json;

Result<json> ParseObject(std::string_view text, const std::string& file) {
  ANEPILOT_ASSIGN_OR_RETURN(json doc, ParseJson(text, file));
  if (!doc.is_object()) {
    return CorruptModel(fmt::format("{}: top level is a {}, expected an object", file,
                                    doc.type_name()));
  }
  return doc;
}

void CopyString(const json& doc, const char* key, std::string* out) {
  auto it = doc.find(key);
  if (it != doc.end() && it->is_string()) *out = it->get<std::string>();
}

void ApplyDescriptions(const json& doc, const char* key, std::vector<ir::Feature>* features) {
  auto section = doc.find(key);
  if (section == doc.end() || !section->is_object()) return;
  for (ir::Feature& f : *features) {
    auto entry = section->find(f.name);
    if (entry == section->end() || !entry->is_object()) continue;
    CopyString(*entry, "MLFeatureShortDescription", &f.description);
  }
}

}  // namespace

Status ApplyMetadataOverlay(std::string_view text, const std::string& file, ir::Model* model) {
  ANEPILOT_ASSIGN_OR_RETURN(json doc, ParseObject(text, file));
  ir::Metadata& md = model->metadata;
  CopyString(doc, "MLModelDescriptionKey", &md.short_description);
  CopyString(doc, "MLModelAuthorKey", &md.author);
  CopyString(doc, "MLModelLicenseKey", &md.license);
  CopyString(doc, "MLModelVersionStringKey", &md.version_string);
  auto creator = doc.find("MLModelCreatorDefinedKey");
  if (creator != doc.end() && creator->is_object()) {
    for (const auto& [key, value] : creator->items()) {
      md.user_defined[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
  }
  return Status::Ok();
}

Status ApplyFeatureDescriptionsOverlay(std::string_view text, const std::string& file,
                                       ir::Model* model) {
  ANEPILOT_ASSIGN_OR_RETURN(json doc, ParseObject(text, file));
  ApplyDescriptions(doc, "Inputs", &model->inputs);
  ApplyDescriptions(doc, "Outputs", &model->outputs);
  ApplyDescriptions(doc, "TrainingInputs", &model->training_inputs);
  return Status::Ok();
}

}  // namespace anepilot::format
