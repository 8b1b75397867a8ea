// JSON <-> Policy. Structural errors (wrong type, missing field, unknown
// enum spelling) are found here with the JSON path; semantic checks live in
// policy_validate.cc and run on the parsed value.
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "anepilot/policy.h"
#include "base/durable_file.h"
#include "base/mapped_file.h"

namespace anepilot {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::string_view kUnitsOptions = "(cpuOnly, cpuAndGPU, cpuAndNeuralEngine, all)";
constexpr std::string_view kStrategyOptions = "(single, fast_first_then_swap, prewarm)";

std::string TypeName(const json& j) {
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  if (j.is_object()) return "an object";
  return "null";
}

std::string Quoted(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Reads fields of one JSON document, turning every problem into a Status
// that names the source and the JSON path.
class FieldReader {
 public:
  explicit FieldReader(std::string_view source) : source_(source) {}

  Status Error(std::string_view path, std::string_view what) const {
    return InvalidData(fmt::format("{}: {}: {}", source_, path, what));
  }

  Status ExpectObject(const json& j, std::string_view path) const {
    if (j.is_object()) return Status::Ok();
    return Error(path, fmt::format("expected an object, found {}", TypeName(j)));
  }

  Status ExpectArray(const json& j, std::string_view path) const {
    if (j.is_array()) return Status::Ok();
    return Error(path, fmt::format("expected an array, found {}", TypeName(j)));
  }

  // `obj` must be an object. Sets *out when present.
  Status String(const json& obj, const char* key, const std::string& path, bool required,
                std::optional<std::string>* out) const {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) return Error(Join(path, key), "required field is missing");
      return Status::Ok();
    }
    if (!it->is_string()) {
      return Error(Join(path, key), fmt::format("expected a string, found {}", TypeName(*it)));
    }
    *out = it->get<std::string>();
    return Status::Ok();
  }

  Status RequiredString(const json& obj, const char* key, const std::string& path,
                        std::string* out) const {
    std::optional<std::string> v;
    ANEPILOT_RETURN_IF_ERROR(String(obj, key, path, true, &v));
    *out = std::move(*v);
    return Status::Ok();
  }

  Status OptionalString(const json& obj, const char* key, const std::string& path,
                        std::string* out) const {
    std::optional<std::string> v;
    ANEPILOT_RETURN_IF_ERROR(String(obj, key, path, false, &v));
    if (v) *out = std::move(*v);
    return Status::Ok();
  }

  Status OptionalNumber(const json& obj, const char* key, const std::string& path,
                        std::optional<double>* out) const {
    auto it = obj.find(key);
    if (it == obj.end()) return Status::Ok();
    if (!it->is_number()) {
      return Error(Join(path, key), fmt::format("expected a number, found {}", TypeName(*it)));
    }
    *out = it->get<double>();
    return Status::Ok();
  }

  Result<ComputeUnits> Units(const json& j, const std::string& path) const {
    if (!j.is_string()) {
      return Error(path, fmt::format("expected a compute-unit name {}, found {}", kUnitsOptions,
                                     TypeName(j)));
    }
    const std::string& s = j.get_ref<const std::string&>();
    for (ComputeUnits u : kAllComputeUnits) {
      if (s == ComputeUnitsName(u)) return u;
    }
    return Error(path, fmt::format("{} is not a compute-unit option {}", Quoted(j), kUnitsOptions));
  }

  Status OptionalUnits(const json& obj, const char* key, const std::string& path,
                       std::optional<ComputeUnits>* out) const {
    auto it = obj.find(key);
    if (it == obj.end()) return Status::Ok();
    ANEPILOT_ASSIGN_OR_RETURN(*out, Units(*it, Join(path, key)));
    return Status::Ok();
  }

  Status OptionalOsVersion(const json& obj, const char* key, const std::string& path,
                           std::optional<OsVersion>* out) const {
    std::optional<std::string> text;
    ANEPILOT_RETURN_IF_ERROR(String(obj, key, path, false, &text));
    if (!text) return Status::Ok();
    *out = ParseOsVersion(*text);
    if (!*out) {
      return Error(Join(path, key),
                   fmt::format("\"{}\" is not an OS version (like \"17\", \"18.2\" or \"18.2.1\")",
                               *text));
    }
    return Status::Ok();
  }

  static std::string Join(const std::string& path, std::string_view key) {
    if (path.empty()) return std::string(key);
    return fmt::format("{}.{}", path, key);
  }
  static std::string Index(const std::string& path, size_t i) {
    return fmt::format("{}[{}]", path, i);
  }

 private:
  std::string_view source_;
};

Result<UnitChoice> ReadChoice(const FieldReader& r, const json& j, const std::string& path) {
  UnitChoice c;
  if (j.is_string()) {  // shorthand: "cpuAndGPU"
    ANEPILOT_ASSIGN_OR_RETURN(c.units, r.Units(j, path));
    return c;
  }
  ANEPILOT_RETURN_IF_ERROR(r.ExpectObject(j, path));
  auto it = j.find("units");
  if (it == j.end()) return r.Error(FieldReader::Join(path, "units"), "required field is missing");
  ANEPILOT_ASSIGN_OR_RETURN(c.units, r.Units(*it, FieldReader::Join(path, "units")));
  ANEPILOT_RETURN_IF_ERROR(r.OptionalNumber(j, "expected_latency_ms", path, &c.expected_latency_ms));
  ANEPILOT_RETURN_IF_ERROR(
      r.OptionalNumber(j, "expected_cold_load_ms", path, &c.expected_cold_load_ms));
  ANEPILOT_RETURN_IF_ERROR(
      r.OptionalNumber(j, "expected_warm_load_ms", path, &c.expected_warm_load_ms));
  ANEPILOT_RETURN_IF_ERROR(
      r.OptionalNumber(j, "expected_peak_memory_mb", path, &c.expected_peak_memory_mb));
  return c;
}

Result<std::vector<UnitChoice>> ReadChoices(const FieldReader& r, const json& obj,
                                            const std::string& path) {
  std::string cpath = FieldReader::Join(path, "choices");
  auto it = obj.find("choices");
  if (it == obj.end()) return r.Error(cpath, "required field is missing");
  ANEPILOT_RETURN_IF_ERROR(r.ExpectArray(*it, cpath));
  std::vector<UnitChoice> out;
  for (size_t i = 0; i < it->size(); ++i) {
    ANEPILOT_ASSIGN_OR_RETURN(auto c, ReadChoice(r, (*it)[i], FieldReader::Index(cpath, i)));
    out.push_back(c);
  }
  return out;
}

Result<LoadingPlan> ReadLoading(const FieldReader& r, const json& obj, const std::string& path) {
  LoadingPlan plan;
  auto it = obj.find("loading");
  if (it == obj.end()) return plan;
  std::string lpath = FieldReader::Join(path, "loading");
  ANEPILOT_RETURN_IF_ERROR(r.ExpectObject(*it, lpath));
  std::string strategy;
  ANEPILOT_RETURN_IF_ERROR(r.RequiredString(*it, "strategy", lpath, &strategy));
  auto s = ParseLoadingStrategy(strategy);
  if (!s) {
    return r.Error(FieldReader::Join(lpath, "strategy"),
                   fmt::format("\"{}\" is not a loading strategy {}", strategy, kStrategyOptions));
  }
  plan.strategy = *s;
  ANEPILOT_RETURN_IF_ERROR(r.OptionalUnits(*it, "serve_first", lpath, &plan.serve_first));
  ANEPILOT_RETURN_IF_ERROR(r.OptionalUnits(*it, "swap_to", lpath, &plan.swap_to));
  std::optional<double> gain;
  ANEPILOT_RETURN_IF_ERROR(r.OptionalNumber(*it, "swap_min_gain", lpath, &gain));
  if (gain) plan.swap_min_gain = *gain;
  return plan;
}

Result<PolicyMatch> ReadMatch(const FieldReader& r, const json& rule, const std::string& path) {
  std::string mpath = FieldReader::Join(path, "match");
  auto it = rule.find("match");
  if (it == rule.end()) return r.Error(mpath, "required field is missing");
  ANEPILOT_RETURN_IF_ERROR(r.ExpectObject(*it, mpath));
  PolicyMatch m;
  ANEPILOT_RETURN_IF_ERROR(r.RequiredString(*it, "device", mpath, &m.device));
  ANEPILOT_RETURN_IF_ERROR(r.String(*it, "chip", mpath, false, &m.chip));
  ANEPILOT_RETURN_IF_ERROR(r.OptionalOsVersion(*it, "os_min", mpath, &m.os_min));
  ANEPILOT_RETURN_IF_ERROR(r.OptionalOsVersion(*it, "os_max", mpath, &m.os_max));
  ANEPILOT_RETURN_IF_ERROR(r.String(*it, "os_build", mpath, false, &m.os_build));
  return m;
}

Result<std::vector<BlockedUnits>> ReadBlocked(const FieldReader& r, const json& rule,
                                              const std::string& path) {
  std::vector<BlockedUnits> out;
  auto it = rule.find("blocked");
  if (it == rule.end()) return out;
  std::string bpath = FieldReader::Join(path, "blocked");
  ANEPILOT_RETURN_IF_ERROR(r.ExpectArray(*it, bpath));
  for (size_t i = 0; i < it->size(); ++i) {
    std::string ipath = FieldReader::Index(bpath, i);
    const json& b = (*it)[i];
    ANEPILOT_RETURN_IF_ERROR(r.ExpectObject(b, ipath));
    BlockedUnits blocked;
    auto u = b.find("units");
    if (u == b.end()) return r.Error(FieldReader::Join(ipath, "units"), "required field is missing");
    ANEPILOT_ASSIGN_OR_RETURN(blocked.units, r.Units(*u, FieldReader::Join(ipath, "units")));
    ANEPILOT_RETURN_IF_ERROR(r.RequiredString(b, "reason", ipath, &blocked.reason));
    ANEPILOT_RETURN_IF_ERROR(r.OptionalString(b, "rule", ipath, &blocked.rule));
    out.push_back(std::move(blocked));
  }
  return out;
}

Result<PolicyRule> ReadRule(const FieldReader& r, const json& j, const std::string& path) {
  ANEPILOT_RETURN_IF_ERROR(r.ExpectObject(j, path));
  PolicyRule rule;
  ANEPILOT_RETURN_IF_ERROR(r.OptionalString(j, "id", path, &rule.id));
  ANEPILOT_ASSIGN_OR_RETURN(rule.match, ReadMatch(r, j, path));
  ANEPILOT_ASSIGN_OR_RETURN(rule.choices, ReadChoices(r, j, path));
  ANEPILOT_ASSIGN_OR_RETURN(rule.loading, ReadLoading(r, j, path));
  ANEPILOT_ASSIGN_OR_RETURN(rule.blocked, ReadBlocked(r, j, path));
  return rule;
}

Result<ModelPolicy> ReadModelPolicy(const FieldReader& r, const json& j, const std::string& path) {
  ANEPILOT_RETURN_IF_ERROR(r.ExpectObject(j, path));
  ModelPolicy m;
  ANEPILOT_RETURN_IF_ERROR(r.RequiredString(j, "model_hash", path, &m.model_hash));
  ANEPILOT_RETURN_IF_ERROR(r.OptionalString(j, "model_name", path, &m.model_name));
  std::string rpath = FieldReader::Join(path, "rules");
  auto it = j.find("rules");
  if (it == j.end()) return r.Error(rpath, "required field is missing");
  ANEPILOT_RETURN_IF_ERROR(r.ExpectArray(*it, rpath));
  for (size_t i = 0; i < it->size(); ++i) {
    ANEPILOT_ASSIGN_OR_RETURN(auto rule, ReadRule(r, (*it)[i], FieldReader::Index(rpath, i)));
    m.rules.push_back(std::move(rule));
  }
  return m;
}

Result<Policy> ReadPolicy(const FieldReader& r, const json& root) {
  ANEPILOT_RETURN_IF_ERROR(r.ExpectObject(root, "(document)"));
  std::string schema;
  ANEPILOT_RETURN_IF_ERROR(r.RequiredString(root, "schema", "", &schema));
  if (schema != kPolicySchema) {
    return r.Error("schema", fmt::format("\"{}\" is not \"{}\"; this is not a policy file", schema,
                                         kPolicySchema));
  }
  auto v = root.find("version");
  if (v == root.end()) return r.Error("version", "required field is missing");
  if (!v->is_number_integer()) {
    return r.Error("version", fmt::format("expected an integer, found {}", TypeName(*v)));
  }
  Policy p;
  if (v->get<int64_t>() != kPolicyVersion) {
    return r.Error("version", fmt::format("version {} is not supported (this build reads version "
                                          "{}); regenerate with a matching `anepilot plan`",
                                          v->dump(), kPolicyVersion));
  }
  p.version = kPolicyVersion;
  ANEPILOT_RETURN_IF_ERROR(r.OptionalString(root, "generated_by", "", &p.generated_by));
  ANEPILOT_RETURN_IF_ERROR(r.OptionalString(root, "generated_at", "", &p.generated_at));
  auto models = root.find("models");
  if (models == root.end()) return r.Error("models", "required field is missing");
  ANEPILOT_RETURN_IF_ERROR(r.ExpectArray(*models, "models"));
  for (size_t i = 0; i < models->size(); ++i) {
    ANEPILOT_ASSIGN_OR_RETURN(auto m, ReadModelPolicy(r, (*models)[i], FieldReader::Index("models", i)));
    p.models.push_back(std::move(m));
  }
  auto def = root.find("default");
  if (def == root.end()) {
    p.default_policy = SafeDefaultPolicy();
  } else {
    ANEPILOT_RETURN_IF_ERROR(r.ExpectObject(*def, "default"));
    ANEPILOT_ASSIGN_OR_RETURN(p.default_policy.choices, ReadChoices(r, *def, "default"));
    ANEPILOT_ASSIGN_OR_RETURN(p.default_policy.loading, ReadLoading(r, *def, "default"));
  }
  return p;
}

ojson ChoiceJson(const UnitChoice& c) {
  ojson j;
  j["units"] = std::string(ComputeUnitsName(c.units));
  if (c.expected_latency_ms) j["expected_latency_ms"] = *c.expected_latency_ms;
  if (c.expected_cold_load_ms) j["expected_cold_load_ms"] = *c.expected_cold_load_ms;
  if (c.expected_warm_load_ms) j["expected_warm_load_ms"] = *c.expected_warm_load_ms;
  if (c.expected_peak_memory_mb) j["expected_peak_memory_mb"] = *c.expected_peak_memory_mb;
  return j;
}

ojson ChoicesJson(const std::vector<UnitChoice>& choices) {
  ojson a = ojson::array();
  for (const auto& c : choices) a.push_back(ChoiceJson(c));
  return a;
}

ojson LoadingJson(const LoadingPlan& l) {
  ojson j;
  j["strategy"] = std::string(LoadingStrategyName(l.strategy));
  if (l.serve_first) j["serve_first"] = std::string(ComputeUnitsName(*l.serve_first));
  if (l.swap_to) j["swap_to"] = std::string(ComputeUnitsName(*l.swap_to));
  j["swap_min_gain"] = l.swap_min_gain;
  return j;
}

ojson RuleJson(const PolicyRule& rule) {
  ojson j;
  if (!rule.id.empty()) j["id"] = rule.id;
  ojson m;
  m["device"] = rule.match.device;
  if (rule.match.chip) m["chip"] = *rule.match.chip;
  if (rule.match.os_min) m["os_min"] = rule.match.os_min->ToString();
  if (rule.match.os_max) m["os_max"] = rule.match.os_max->ToString();
  if (rule.match.os_build) m["os_build"] = *rule.match.os_build;
  j["match"] = std::move(m);
  j["choices"] = ChoicesJson(rule.choices);
  j["loading"] = LoadingJson(rule.loading);
  if (!rule.blocked.empty()) {
    ojson a = ojson::array();
    for (const auto& b : rule.blocked) {
      ojson bj;
      bj["units"] = std::string(ComputeUnitsName(b.units));
      bj["reason"] = b.reason;
      if (!b.rule.empty()) bj["rule"] = b.rule;
      a.push_back(std::move(bj));
    }
    j["blocked"] = std::move(a);
  }
  return j;
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view json_text, std::string_view source) {
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::parse_error& e) {
    return ParseError(fmt::format("{}: not valid JSON at byte {}: {}", source, e.byte, e.what()));
  } catch (const json::exception& e) {  // e.g. out_of_range: a number too large for a double
    return ParseError(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  FieldReader reader(source);
  ANEPILOT_ASSIGN_OR_RETURN(Policy p, ReadPolicy(reader, root));
  ANEPILOT_RETURN_IF_ERROR(ValidatePolicy(p, source));
  return p;
}

Result<Policy> LoadPolicyFile(const std::string& path) {
  ANEPILOT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParsePolicy(text, path);
}

std::string SerializePolicy(const Policy& policy) {
  ojson root;
  root["schema"] = std::string(kPolicySchema);
  root["version"] = policy.version;
  root["generated_by"] = policy.generated_by;
  if (!policy.generated_at.empty()) root["generated_at"] = policy.generated_at;
  ojson models = ojson::array();
  for (const auto& m : policy.models) {
    ojson mj;
    mj["model_hash"] = m.model_hash;
    if (!m.model_name.empty()) mj["model_name"] = m.model_name;
    ojson rules = ojson::array();
    for (const auto& r : m.rules) rules.push_back(RuleJson(r));
    mj["rules"] = std::move(rules);
    models.push_back(std::move(mj));
  }
  root["models"] = std::move(models);
  ojson def;
  def["choices"] = ChoicesJson(policy.default_policy.choices);
  def["loading"] = LoadingJson(policy.default_policy.loading);
  root["default"] = std::move(def);
  return root.dump(2) + "\n";
}

Status WritePolicyFile(const Policy& policy, const std::string& path) {
  ANEPILOT_RETURN_IF_ERROR(ValidatePolicy(policy, path));
  return WriteFileAtomically(path, SerializePolicy(policy));
}

}  // namespace anepilot
