// Typed, validated reads of JSON fields for the knowledge data files. Every
// error is kInvalidData and names the file and the JSON path of the field,
// e.g. `data/devices.json: devices[12].ram_gb: expected a number > 0, got "8"`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "anepilot/result.h"

namespace anepilot::knowledge {

// Where a JSON node sits: file label + path ("devices[12]"). Copyable, cheap.
class JsonPlace {
 public:
  JsonPlace(std::string_view file, std::string path) : file_(file), path_(std::move(path)) {}

  JsonPlace Field(std::string_view key) const;  // "devices[12]" -> "devices[12].chip"
  JsonPlace Index(size_t i) const;              // "devices" -> "devices[12]"
  const std::string& path() const { return path_; }

  // kInvalidData "<file>: <path>: <message>" (no path part for the root).
  Status Invalid(std::string_view message) const;

 private:
  std::string_view file_;
  std::string path_;
};

// Parses text as JSON; kParseError "<label>: JSON syntax error at byte N: ..." on failure.
Result<nlohmann::json> ParseJsonText(std::string_view text, std::string_view label);

// Reads `path` into a string; kNotFound / kIoError naming the path.
Result<std::string> ReadDataFile(const std::string& path);

// The object's member `key`: a required member that is missing is an error;
// an optional one yields nullptr.
Result<const nlohmann::json*> Member(const nlohmann::json& obj, std::string_view key,
                                     const JsonPlace& place, bool required);

Status RequireObject(const nlohmann::json& j, const JsonPlace& place);

// Checks a data file's header: `root` is an object whose "schema" equals
// `schema` and whose "version" equals `version`. `what` names the kind of file
// in the message ("a device catalog"). Errors are kInvalidData naming the field.
Status CheckSchemaHeader(const nlohmann::json& root, const JsonPlace& place, std::string_view schema,
                         int64_t version, std::string_view what);
Result<std::string> GetString(const nlohmann::json& obj, std::string_view key, const JsonPlace& place,
                              bool required = true);
// A number within [min, max].
Result<double> GetNumber(const nlohmann::json& obj, std::string_view key, const JsonPlace& place,
                         double min, double max);
Result<int64_t> GetInt(const nlohmann::json& obj, std::string_view key, const JsonPlace& place,
                       int64_t min, int64_t max);
// An array of non-empty strings; `min_size` elements at least. Missing and
// not required: empty vector.
Result<std::vector<std::string>> GetStringList(const nlohmann::json& obj, std::string_view key,
                                               const JsonPlace& place, size_t min_size, bool required);

// Short printable form of a JSON value for messages (truncated to ~40 chars).
std::string JsonBrief(const nlohmann::json& j);

// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace anepilot::knowledge
