#include "format/mlmodelc_metadata.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>

#include "format/json_util.h"

namespace anepilot::format {

namespace {

using nlohmann::json;

std::string GetString(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return {};
}

bool GetFlag(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  if (it->is_string()) return it->get<std::string>() == "1";
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number_integer()) return it->get<int64_t>() != 0;
  return false;
}

ir::DType DTypeFromMetadata(std::string_view s) {
  if (s == "Float16") return ir::DType::kFloat16;
  if (s == "Float32") return ir::DType::kFloat32;
  if (s == "Double" || s == "Float64") return ir::DType::kFloat64;
  if (s == "Int32") return ir::DType::kInt32;
  if (s == "Int8") return ir::DType::kInt8;
  return ir::DType::kUnknown;
}

ir::FeatureType::Kind KindFromMetadata(std::string_view s) {
  using Kind = ir::FeatureType::Kind;
  if (s == "MultiArray") return Kind::kMultiArray;
  if (s == "Image") return Kind::kImage;
  if (s == "String") return Kind::kString;
  if (s == "Int64") return Kind::kInt64;
  if (s == "Double") return Kind::kDouble;
  if (s == "Dictionary") return Kind::kDictionary;
  if (s == "Sequence") return Kind::kSequence;
  if (s == "State") return Kind::kState;
  return Kind::kUnknown;
}

// Shapes are written as JSON inside a string: "[1, 10]", "[[1, -1], [128, 128]]".
bool ParseIntList(const std::string& text, std::vector<int64_t>* out) {
  json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!v.is_array()) return false;
  for (const json& e : v) {
    if (!e.is_number_integer()) return false;
    out->push_back(e.get<int64_t>());
  }
  return true;
}

bool ParseRanges(const std::string& text, std::vector<ir::ShapeRange>* out) {
  json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!v.is_array()) return false;
  for (const json& e : v) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || !e[1].is_number_integer()) {
      return false;
    }
    out->push_back({e[0].get<int64_t>(), e[1].get<int64_t>()});
  }
  return true;
}

// Images are described only in prose: "Image (Color 224 × 224)" (width ×
// height). Reads the color word into color_space and the size into {H, W}.
void ParseImageFormattedType(const std::string& text, ir::FeatureType* t) {
  constexpr std::string_view kPrefix = "Image (";
  constexpr std::string_view kTimes = " \u00d7 ";  // " × "
  if (text.rfind(kPrefix, 0) != 0) return;
  std::string_view rest = std::string_view(text).substr(kPrefix.size());
  size_t space = rest.find(' ');
  size_t times = rest.find(kTimes);
  if (space == std::string_view::npos || times == std::string_view::npos || times < space) return;
  t->color_space = std::string(rest.substr(0, space));
  int64_t width = 0, height = 0;
  std::string_view w = rest.substr(space + 1, times - space - 1);
  std::string_view h = rest.substr(times + kTimes.size());
  auto [wp, we] = std::from_chars(w.data(), w.data() + w.size(), width);
  auto [hp, he] = std::from_chars(h.data(), h.data() + h.size(), height);
  if (we != std::errc() || he != std::errc() || width <= 0 || height <= 0) return;
  t->array.shape = {ir::Dim::Known(height), ir::Dim::Known(width)};
}

ir::Feature FeatureFromSchema(const json& entry, const std::string& where,
                              std::vector<std::string>* warnings) {
  ir::Feature f;
  f.name = GetString(entry, "name");
  f.description = GetString(entry, "shortDescription");
  ir::FeatureType& t = f.type;
  std::string kind = GetString(entry, "type");
  t.kind = KindFromMetadata(kind);
  if (t.kind == ir::FeatureType::Kind::kUnknown && !kind.empty()) {
    warnings->push_back(fmt::format("{}: feature '{}' has type '{}', not read", where, f.name, kind));
  }
  t.optional = GetFlag(entry, "isOptional");
  t.array.dtype = DTypeFromMetadata(GetString(entry, "dataType"));
  std::string shape = GetString(entry, "shape");
  if (!shape.empty()) {
    std::vector<int64_t> dims;
    if (ParseIntList(shape, &dims)) {
      for (int64_t d : dims) t.array.shape.push_back(d >= 0 ? ir::Dim::Known(d) : ir::Dim{});
    } else {
      warnings->push_back(fmt::format("{}: feature '{}' has shape \"{}\", not a list of integers",
                                      where, f.name, shape));
    }
  }
  if (t.kind == ir::FeatureType::Kind::kImage && t.array.shape.empty()) {
    ParseImageFormattedType(GetString(entry, "formattedType"), &t);
  }
  if (GetFlag(entry, "hasShapeFlexibility")) {
    std::string range = GetString(entry, "shapeRange");
    if (!range.empty() && ParseRanges(range, &t.flexibility.ranges)) {
      t.flexibility.kind = ir::Flexibility::Kind::kRange;
    } else {
      warnings->push_back(fmt::format(
          "{}: feature '{}' is flexible but its form (\"{}\") is not read", where, f.name,
          GetString(entry, "shapeFlexibility")));
    }
  }
  return f;
}

std::vector<ir::Feature> Schema(const json& obj, const char* key, const std::string& file,
                                std::vector<std::string>* warnings) {
  std::vector<ir::Feature> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const json& entry : *it) {
    if (entry.is_object()) out.push_back(FeatureFromSchema(entry, file, warnings));
  }
  return out;
}

void AppendNote(ir::Model* model, const std::string& note) {
  if (!model->description_note.empty()) model->description_note += "; ";
  model->description_note += note;
}

}  // namespace

Status ApplyCompiledMetadata(std::string_view text, const std::string& file, ir::Model* model) {
  ANEPILOT_ASSIGN_OR_RETURN(json doc, ParseJson(text, file));
  if (doc.is_array() && doc.size() == 1) doc = doc[0];
  if (!doc.is_object()) {
    return CorruptModel(fmt::format(
        "{}: expected an array holding one object (coremlc's metadata), found a {}", file,
        doc.type_name()));
  }
  auto spec = doc.find("specificationVersion");
  if (spec != doc.end() && spec->is_number_integer()) model->spec_version = spec->get<int>();
  auto type = doc.find("modelType");
  if (type != doc.end() && type->is_object()) {
    std::string name = GetString(*type, "name");
    constexpr std::string_view kPrefix = "MLModelType_";
    if (name.rfind(kPrefix, 0) == 0) name = name.substr(kPrefix.size());
    if (!name.empty()) model->kind = name;
  }
  model->inputs = Schema(doc, "inputSchema", file, &model->warnings);
  model->outputs = Schema(doc, "outputSchema", file, &model->warnings);
  model->states = Schema(doc, "stateSchema", file, &model->warnings);
  model->is_updatable = GetFlag(doc, "isUpdatable");

  ir::Metadata& md = model->metadata;
  md.short_description = GetString(doc, "shortDescription");
  md.author = GetString(doc, "author");
  md.license = GetString(doc, "license");
  md.version_string = GetString(doc, "version");
  auto user = doc.find("userDefinedMetadata");
  if (user != doc.end() && user->is_object()) {
    for (const auto& [key, value] : user->items()) {
      md.user_defined[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
  }
  std::string class_name = GetString(doc, "generatedClassName");
  if (!class_name.empty()) AppendNote(model, fmt::format("generated class {}", class_name));
  auto functions = doc.find("functions");
  if (functions != doc.end() && functions->is_array() && !functions->empty()) {
    std::vector<std::string> names;
    for (const json& f : *functions) {
      if (f.is_object()) names.push_back(GetString(f, "name"));
    }
    AppendNote(model, fmt::format("functions {}; inputs and outputs shown are those of the default "
                                  "function '{}'", fmt::join(names, ", "),
                                  GetString(doc, "defaultFunctionName")));
  }
  return Status::Ok();
}

}  // namespace anepilot::format
