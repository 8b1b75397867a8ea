#include "knowledge/json_fields.h"

#include <cctype>
#include <cmath>
#include <fmt/format.h>

#include "base/mapped_file.h"

namespace anepilot::knowledge {

using nlohmann::json;

JsonPlace JsonPlace::Field(std::string_view key) const {
  return JsonPlace(file_, path_.empty() ? std::string(key) : path_ + "." + std::string(key));
}

JsonPlace JsonPlace::Index(size_t i) const {
  return JsonPlace(file_, fmt::format("{}[{}]", path_, i));
}

Status JsonPlace::Invalid(std::string_view message) const {
  if (path_.empty()) return InvalidData(fmt::format("{}: {}", file_, message));
  return InvalidData(fmt::format("{}: {}: {}", file_, path_, message));
}

Result<json> ParseJsonText(std::string_view text, std::string_view label) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return ParseError(fmt::format("{}: JSON syntax error at byte {}: {}", label, e.byte, e.what()));
  } catch (const std::exception& e) {
    return ParseError(fmt::format("{}: not valid JSON: {}", label, e.what()));
  }
}

Result<std::string> ReadDataFile(const std::string& path) {
  return ReadFileToString(path);
}

std::string JsonBrief(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

static std::string_view KindName(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

Status RequireObject(const json& j, const JsonPlace& place) {
  if (!j.is_object()) return place.Invalid(fmt::format("expected an object, got {}", KindName(j)));
  return Status::Ok();
}

Result<const json*> Member(const json& obj, std::string_view key, const JsonPlace& place,
                           bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return place.Field(key).Invalid("required field is missing");
    return static_cast<const json*>(nullptr);
  }
  return &*it;
}

Result<std::string> GetString(const json& obj, std::string_view key, const JsonPlace& place,
                              bool required) {
  ANEPILOT_ASSIGN_OR_RETURN(const json* v, Member(obj, key, place, required));
  if (v == nullptr) return std::string();
  if (!v->is_string()) {
    return place.Field(key).Invalid(fmt::format("expected a string, got {}", JsonBrief(*v)));
  }
  std::string s = v->get<std::string>();
  if (required && s.empty()) return place.Field(key).Invalid("must not be empty");
  return s;
}

Result<double> GetNumber(const json& obj, std::string_view key, const JsonPlace& place, double min,
                         double max) {
  ANEPILOT_ASSIGN_OR_RETURN(const json* v, Member(obj, key, place, true));
  if (!v->is_number()) {
    return place.Field(key).Invalid(fmt::format("expected a number, got {}", JsonBrief(*v)));
  }
  double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    return place.Field(key).Invalid(fmt::format("{} is out of range [{}, {}]", JsonBrief(*v), min, max));
  }
  return d;
}

Result<int64_t> GetInt(const json& obj, std::string_view key, const JsonPlace& place, int64_t min,
                       int64_t max) {
  ANEPILOT_ASSIGN_OR_RETURN(const json* v, Member(obj, key, place, true));
  if (!v->is_number_integer()) {
    return place.Field(key).Invalid(fmt::format("expected an integer, got {}", JsonBrief(*v)));
  }
  int64_t n = v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                  ? INT64_MAX
                  : v->get<int64_t>();
  if (n < min || n > max) {
    return place.Field(key).Invalid(fmt::format("{} is out of range [{}, {}]", n, min, max));
  }
  return n;
}

Result<std::vector<std::string>> GetStringList(const json& obj, std::string_view key,
                                               const JsonPlace& place, size_t min_size,
                                               bool required) {
  ANEPILOT_ASSIGN_OR_RETURN(const json* v, Member(obj, key, place, required));
  std::vector<std::string> out;
  if (v == nullptr) return out;
  JsonPlace here = place.Field(key);
  if (!v->is_array()) return here.Invalid(fmt::format("expected an array of strings, got {}", JsonBrief(*v)));
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
      return here.Index(i).Invalid(fmt::format("expected a non-empty string, got {}", JsonBrief(e)));
    }
    out.push_back(e.get<std::string>());
  }
  if (out.size() < min_size) {
    return here.Invalid(fmt::format("needs at least {} entr{}", min_size, min_size == 1 ? "y" : "ies"));
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

Status CheckSchemaHeader(const nlohmann::json& root, const JsonPlace& place, std::string_view schema,
                         int64_t version, std::string_view what) {
  ANEPILOT_RETURN_IF_ERROR(RequireObject(root, place));
  ANEPILOT_ASSIGN_OR_RETURN(std::string found, GetString(root, "schema", place));
  if (found != schema) {
    return place.Field("schema").Invalid(
        fmt::format("\"{}\" is not {} (expected \"{}\")", found, what, schema));
  }
  ANEPILOT_ASSIGN_OR_RETURN(int64_t found_version, GetInt(root, "version", place, 1, INT32_MAX));
  if (found_version != version) {
    return place.Field("version").Invalid(fmt::format(
        "version {} is not supported by this anepilot (it reads version {}); update anepilot",
        found_version, version));
  }
  return Status::Ok();
}

}  // namespace anepilot::knowledge
