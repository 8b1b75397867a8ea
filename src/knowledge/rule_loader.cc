// Loading and validating data/ane_rules.json (format: docs/knowledge.md) into
// AneRuleSet::Compiled.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "anepilot/ane_rules.h"
#include "anepilot/data_dir.h"
#include "knowledge/json_fields.h"
#include "knowledge/rule_condition.h"

namespace anepilot::knowledge {

using nlohmann::json;
using Subject = RuleCondition::Subject;
using Property = RuleCondition::Property;
using Cmp = RuleCondition::Cmp;

namespace {

constexpr std::string_view kSchema = "anepilot.ane_rules";
constexpr int64_t kVersion = 1;

struct PropertyInfo {
  std::string_view name;
  Property property;
  enum class Kind { kNumber, kText, kBool } kind;
  bool model;  // a ModelFacts property (subject "model")
};

constexpr PropertyInfo kProperties[] = {
    {"rank", Property::kRank, PropertyInfo::Kind::kNumber, false},
    {"dtype", Property::kDType, PropertyInfo::Kind::kText, false},
    {"dim", Property::kDim, PropertyInfo::Kind::kNumber, false},
    {"elements", Property::kElements, PropertyInfo::Kind::kNumber, false},
    {"bytes", Property::kBytes, PropertyInfo::Kind::kNumber, false},
    {"shape_known", Property::kShapeKnown, PropertyInfo::Kind::kBool, false},
    {"source", Property::kSource, PropertyInfo::Kind::kText, false},
    {"value", Property::kValue, PropertyInfo::Kind::kNumber, false},
    {"op_type", Property::kOpType, PropertyInfo::Kind::kText, false},
    {"ane_supported", Property::kAneSupported, PropertyInfo::Kind::kBool, false},
    {"model_bytes", Property::kModelBytes, PropertyInfo::Kind::kNumber, true},
    {"max_rank", Property::kMaxRank, PropertyInfo::Kind::kNumber, true},
    {"range_flexible_inputs", Property::kRangeFlexibleInputs, PropertyInfo::Kind::kNumber, true},
    {"enumerated_flexible_inputs", Property::kEnumeratedFlexibleInputs, PropertyInfo::Kind::kNumber, true},
    {"max_enumerated_shapes", Property::kMaxEnumeratedShapes, PropertyInfo::Kind::kNumber, true},
    {"custom_layers", Property::kCustomLayers, PropertyInfo::Kind::kBool, true},
    {"ml_program", Property::kMlProgram, PropertyInfo::Kind::kBool, true},
    {"compute_ops", Property::kComputeOps, PropertyInfo::Kind::kNumber, true},
    {"container", Property::kContainer, PropertyInfo::Kind::kText, true},
};

// Which properties each subject may use.
bool PropertyFits(Subject s, const PropertyInfo& p) {
  switch (s) {
    case Subject::kModel: return p.model;
    case Subject::kOutputs:
    case Subject::kInputs:
    case Subject::kTensors:
      return p.property <= Property::kShapeKnown && p.property != Property::kSource;
    case Subject::kInput: return p.property <= Property::kSource;
    case Subject::kAttribute: return p.property == Property::kValue;
    case Subject::kOp:
      return p.property == Property::kOpType || p.property == Property::kAneSupported ||
             p.property == Property::kSource;
    case Subject::kConsumers: return p.property == Property::kOpType;
  }
  return false;
}

Result<Cmp> ParseCmp(const std::string& s, const JsonPlace& place) {
  static const std::pair<std::string_view, Cmp> kOps[] = {
      {">", Cmp::kGt}, {">=", Cmp::kGe}, {"<", Cmp::kLt}, {"<=", Cmp::kLe}, {"==", Cmp::kEq},
      {"!=", Cmp::kNe}, {"in", Cmp::kIn}, {"not_in", Cmp::kNotIn}};
  for (auto [name, cmp] : kOps) {
    if (s == name) return cmp;
  }
  return place.Invalid(fmt::format("unknown comparison \"{}\" (expected >, >=, <, <=, ==, !=, in, not_in)", s));
}

Status CheckTextValue(Property property, const std::string& v, const JsonPlace& place) {
  if (property == Property::kDType && ir::DTypeFromName(v) == ir::DType::kUnknown) {
    return place.Invalid(fmt::format("\"{}\" is not a MIL dtype name (fp16, fp32, int8, ...)", v));
  }
  if (property == Property::kSource) {
    for (ValueSource s : {ValueSource::kConst, ValueSource::kConstexpr, ValueSource::kConstexprTransform,
                          ValueSource::kConstTransform, ValueSource::kActivation}) {
      if (v == ValueSourceName(s)) return Status::Ok();
    }
    return place.Invalid(fmt::format(
        "\"{}\" is not a value source (const, constexpr, constexpr_transform, const_transform, activation)", v));
  }
  return Status::Ok();
}

Result<RuleCondition> ParseCondition(const json& j, const JsonPlace& place, bool model_scope) {
  ANEPILOT_RETURN_IF_ERROR(RequireObject(j, place));
  static const std::set<std::string, std::less<>> kFields = {"subject", "property", "axes_from_end", "op",
                                                             "value", "quantifier"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kFields.contains(it.key())) return place.Field(it.key()).Invalid("unknown field");
  }
  RuleCondition c;
  ANEPILOT_ASSIGN_OR_RETURN(std::string subject, GetString(j, "subject", place));
  JsonPlace subject_place = place.Field("subject");
  auto split_names = [&](std::string_view rest) -> Status {
    size_t start = 0;
    while (start <= rest.size()) {
      size_t bar = rest.find('|', start);
      std::string_view name = rest.substr(start, bar == std::string_view::npos ? rest.npos : bar - start);
      if (name.empty()) return subject_place.Invalid(fmt::format("\"{}\" has an empty name", subject));
      c.names.emplace_back(name);
      if (bar == std::string_view::npos) break;
      start = bar + 1;
    }
    return Status::Ok();
  };
  if (subject == "outputs") c.subject = Subject::kOutputs;
  else if (subject == "inputs") c.subject = Subject::kInputs;
  else if (subject == "tensors") c.subject = Subject::kTensors;
  else if (subject == "op") c.subject = Subject::kOp;
  else if (subject == "consumers") c.subject = Subject::kConsumers;
  else if (subject == "model") c.subject = Subject::kModel;
  else if (subject.starts_with("input:")) {
    c.subject = Subject::kInput;
    ANEPILOT_RETURN_IF_ERROR(split_names(std::string_view(subject).substr(6)));
    if (c.names.size() != 1) return subject_place.Invalid("input: takes exactly one parameter name");
  } else if (subject.starts_with("attribute:")) {
    c.subject = Subject::kAttribute;
    ANEPILOT_RETURN_IF_ERROR(split_names(std::string_view(subject).substr(10)));
  } else {
    return subject_place.Invalid(fmt::format(
        "unknown subject \"{}\" (outputs, inputs, tensors, input:<param>, attribute:<name>[|<name>...], op, "
        "consumers, model)", subject));
  }
  if (model_scope && c.subject != Subject::kModel) {
    return subject_place.Invalid("a model-scope rule can only test the subject \"model\"");
  }

  ANEPILOT_ASSIGN_OR_RETURN(std::string property, GetString(j, "property", place));
  const PropertyInfo* info = nullptr;
  for (const PropertyInfo& p : kProperties) {
    if (p.name == property) info = &p;
  }
  if (info == nullptr) return place.Field("property").Invalid(fmt::format("unknown property \"{}\"", property));
  if (!PropertyFits(c.subject, *info)) {
    return place.Field("property").Invalid(
        fmt::format("property \"{}\" does not apply to subject \"{}\"", property, subject));
  }
  c.property = info->property;

  if (j.contains("axes_from_end")) {
    JsonPlace axes_place = place.Field("axes_from_end");
    if (c.property != Property::kDim) return axes_place.Invalid("only the property \"dim\" takes axes_from_end");
    const json& axes = j["axes_from_end"];
    if (!axes.is_array() || axes.empty()) return axes_place.Invalid("expected a non-empty array of integers >= 1");
    for (size_t i = 0; i < axes.size(); ++i) {
      if (!axes[i].is_number_integer() || axes[i].get<int64_t>() < 1 || axes[i].get<int64_t>() > 16) {
        return axes_place.Index(i).Invalid("expected an integer in [1, 16] (1 = last axis)");
      }
      c.axes_from_end.push_back(axes[i].get<int>());
    }
  }
  if (j.contains("quantifier")) {
    ANEPILOT_ASSIGN_OR_RETURN(std::string q, GetString(j, "quantifier", place));
    if (q == "all") c.all = true;
    else if (q != "any") return place.Field("quantifier").Invalid("expected \"any\" or \"all\"");
  }

  ANEPILOT_ASSIGN_OR_RETURN(std::string op, GetString(j, "op", place));
  ANEPILOT_ASSIGN_OR_RETURN(c.cmp, ParseCmp(op, place.Field("op")));
  ANEPILOT_ASSIGN_OR_RETURN(const json* value, Member(j, "value", place, true));
  JsonPlace value_place = place.Field("value");
  bool set_cmp = c.cmp == Cmp::kIn || c.cmp == Cmp::kNotIn;
  std::vector<const json*> values;
  if (set_cmp) {
    if (!value->is_array() || value->empty()) return value_place.Invalid("in / not_in need a non-empty array");
    for (const json& v : *value) values.push_back(&v);
  } else {
    if (value->is_array()) return value_place.Invalid(fmt::format("\"{}\" compares with one value, not an array", op));
    values.push_back(value);
  }
  c.is_text = info->kind == PropertyInfo::Kind::kText;
  if (c.is_text && !set_cmp && c.cmp != Cmp::kEq && c.cmp != Cmp::kNe) {
    return place.Field("op").Invalid(fmt::format("property \"{}\" is text: use ==, !=, in or not_in", property));
  }
  if (info->kind == PropertyInfo::Kind::kBool && c.cmp != Cmp::kEq && c.cmp != Cmp::kNe) {
    return place.Field("op").Invalid(fmt::format("property \"{}\" is true/false: use == or !=", property));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const json& v = *values[i];
    JsonPlace vp = set_cmp ? value_place.Index(i) : value_place;
    switch (info->kind) {
      case PropertyInfo::Kind::kText:
        if (!v.is_string()) return vp.Invalid(fmt::format("expected a string, got {}", JsonBrief(v)));
        ANEPILOT_RETURN_IF_ERROR(CheckTextValue(c.property, v.get<std::string>(), vp));
        c.texts.push_back(v.get<std::string>());
        break;
      case PropertyInfo::Kind::kBool:
        if (!v.is_boolean()) return vp.Invalid(fmt::format("expected true or false, got {}", JsonBrief(v)));
        c.numbers.push_back(v.get<bool>() ? 1 : 0);
        break;
      case PropertyInfo::Kind::kNumber:
        if (!v.is_number()) return vp.Invalid(fmt::format("expected a number, got {}", JsonBrief(v)));
        // Thresholds are compared with and printed as int64 counts (bytes,
        // elements): a larger magnitude would overflow the conversion.
        if (!std::isfinite(v.get<double>()) || std::fabs(v.get<double>()) > 0x1p62) {
          return vp.Invalid(fmt::format("{} is out of range (at most 2^62 in magnitude)", JsonBrief(v)));
        }
        c.numbers.push_back(v.get<double>());
        break;
    }
  }
  return c;
}

Result<int> ParseGeneration(const json& j, const JsonPlace& place) {
  if (!j.is_string()) return place.Invalid(fmt::format("expected a generation such as \"H14\", got {}", JsonBrief(j)));
  int n = AneGenerationNumber(j.get<std::string>());
  if (n < 11 || n > 99) return place.Invalid(fmt::format("{} is not a Neural Engine generation (H11 or later)", JsonBrief(j)));
  return n;
}

Status ParseAppliesTo(const json& rule, const JsonPlace& place, AneRule* out) {
  ANEPILOT_ASSIGN_OR_RETURN(const json* a, Member(rule, "applies_to", place, true));
  JsonPlace ap = place.Field("applies_to");
  if (a->is_string()) {
    if (a->get<std::string>() == "all") return Status::Ok();
    ANEPILOT_ASSIGN_OR_RETURN(int n, ParseGeneration(*a, ap));
    out->min_generation = out->max_generation = n;
    return Status::Ok();
  }
  if (a->is_array()) {
    if (a->empty()) return ap.Invalid("expected \"all\", a list of generations or {\"min\", \"max\"}");
    std::vector<int> gens;
    for (size_t i = 0; i < a->size(); ++i) {
      ANEPILOT_ASSIGN_OR_RETURN(int n, ParseGeneration((*a)[i], ap.Index(i)));
      gens.push_back(n);
    }
    std::sort(gens.begin(), gens.end());
    for (size_t i = 1; i < gens.size(); ++i) {
      if (gens[i] != gens[i - 1] + 1) {
        return ap.Invalid("generations must be consecutive (H13, H14, H15); split the rule otherwise");
      }
    }
    out->min_generation = gens.front();
    out->max_generation = gens.back();
    return Status::Ok();
  }
  if (a->is_object()) {
    for (auto it = a->begin(); it != a->end(); ++it) {
      if (it.key() != "min" && it.key() != "max") return ap.Field(it.key()).Invalid("expected only min / max");
    }
    if (a->contains("min")) {
      ANEPILOT_ASSIGN_OR_RETURN(out->min_generation, ParseGeneration((*a)["min"], ap.Field("min")));
    }
    if (a->contains("max")) {
      ANEPILOT_ASSIGN_OR_RETURN(out->max_generation, ParseGeneration((*a)["max"], ap.Field("max")));
    }
    if (out->min_generation == 0 && out->max_generation == 0) return ap.Invalid("needs min and/or max");
    if (out->min_generation != 0 && out->max_generation != 0 && out->min_generation > out->max_generation) {
      return ap.Invalid("min is above max");
    }
    return Status::Ok();
  }
  return ap.Invalid(fmt::format("expected \"all\", a list of generations or {{\"min\", \"max\"}}, got {}", JsonBrief(*a)));
}

template <typename Enum, size_t N>
Result<Enum> ParseEnum(const json& rule, std::string_view key, const JsonPlace& place,
                       const std::array<Enum, N>& all, std::string_view (*name)(Enum)) {
  ANEPILOT_ASSIGN_OR_RETURN(std::string s, GetString(rule, key, place));
  std::string known;
  for (Enum e : all) {
    if (name(e) == s) return e;
    known += (known.empty() ? "" : ", ") + std::string(name(e));
  }
  return place.Field(key).Invalid(fmt::format("unknown {} \"{}\" (expected one of: {})", key, s, known));
}

Result<CompiledRule> ParseRule(const json& j, const JsonPlace& place) {
  ANEPILOT_RETURN_IF_ERROR(RequireObject(j, place));
  static const std::set<std::string, std::less<>> kFields = {
      "id", "description", "scope", "applies_to", "platforms", "match", "effect", "severity",
      "confidence", "evidence", "advice", "notes", "only_if_no_other"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kFields.contains(it.key())) return place.Field(it.key()).Invalid("unknown field");
  }
  CompiledRule cr;
  AneRule& r = cr.rule;
  ANEPILOT_ASSIGN_OR_RETURN(r.id, GetString(j, "id", place));
  if (!r.id.starts_with("ANE-")) return place.Field("id").Invalid(fmt::format("\"{}\" must start with \"ANE-\"", r.id));
  ANEPILOT_ASSIGN_OR_RETURN(r.description, GetString(j, "description", place));
  ANEPILOT_ASSIGN_OR_RETURN(std::string scope, GetString(j, "scope", place));
  if (scope == "model") r.model_scope = true;
  else if (scope != "op") return place.Field("scope").Invalid("expected \"op\" or \"model\"");
  ANEPILOT_RETURN_IF_ERROR(ParseAppliesTo(j, place, &r));
  ANEPILOT_ASSIGN_OR_RETURN(r.platforms, GetStringList(j, "platforms", place, 0, false));
  if (!r.platforms.empty() && !r.model_scope) {
    return place.Field("platforms").Invalid("only model-scope rules depend on the platform");
  }
  for (size_t i = 0; i < r.platforms.size(); ++i) {
    if (r.platforms[i] != "iOS" && r.platforms[i] != "macOS") {
      return place.Field("platforms").Index(i).Invalid("expected \"iOS\" or \"macOS\"");
    }
  }
  ANEPILOT_ASSIGN_OR_RETURN(r.effect, (ParseEnum<RuleEffect, 6>(
      j, "effect", place,
      {RuleEffect::kLeavesAne, RuleEffect::kCompileFailure, RuleEffect::kCrash, RuleEffect::kSlow,
       RuleEffect::kPrecisionHazard, RuleEffect::kCacheMiss},
      &RuleEffectName)));
  ANEPILOT_ASSIGN_OR_RETURN(r.severity, (ParseEnum<Severity, 5>(
      j, "severity", place,
      {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical},
      &SeverityName)));
  ANEPILOT_ASSIGN_OR_RETURN(r.confidence, GetNumber(j, "confidence", place, 0.0, 1.0));
  ANEPILOT_ASSIGN_OR_RETURN(r.evidence, GetStringList(j, "evidence", place, 1, true));
  ANEPILOT_ASSIGN_OR_RETURN(r.advice, GetString(j, "advice", place));
  if (j.contains("only_if_no_other")) {
    if (!j["only_if_no_other"].is_boolean()) return place.Field("only_if_no_other").Invalid("expected true or false");
    r.only_if_no_other = j["only_if_no_other"].get<bool>();
    if (r.only_if_no_other && r.model_scope) {
      return place.Field("only_if_no_other").Invalid("only op-scope rules can be catch-alls");
    }
  }
  for (const std::string& e : r.evidence) cr.evidence_joined += (cr.evidence_joined.empty() ? "" : "; ") + e;

  ANEPILOT_ASSIGN_OR_RETURN(const json* match, Member(j, "match", place, true));
  JsonPlace mp = place.Field("match");
  ANEPILOT_RETURN_IF_ERROR(RequireObject(*match, mp));
  for (auto it = match->begin(); it != match->end(); ++it) {
    if (it.key() != "op_types" && it.key() != "conditions") return mp.Field(it.key()).Invalid("unknown field");
  }
  if (r.model_scope) {
    if (match->contains("op_types")) return mp.Field("op_types").Invalid("a model-scope rule matches no op types");
  } else {
    ANEPILOT_ASSIGN_OR_RETURN(const json* types, Member(*match, "op_types", mp, true));
    if (types->is_string() && types->get<std::string>() == "*") {
      cr.wildcard = true;
      r.op_types = {"*"};
    } else {
      ANEPILOT_ASSIGN_OR_RETURN(r.op_types, GetStringList(*match, "op_types", mp, 1, true));
      for (size_t i = 0; i < r.op_types.size(); ++i) {
        if (r.op_types[i] == "*") return mp.Field("op_types").Index(i).Invalid("write \"op_types\": \"*\" for any op");
      }
    }
  }
  if (const json* conds = match->contains("conditions") ? &(*match)["conditions"] : nullptr) {
    JsonPlace cp = mp.Field("conditions");
    if (!conds->is_array()) return cp.Invalid("expected an array");
    for (size_t i = 0; i < conds->size(); ++i) {
      ANEPILOT_ASSIGN_OR_RETURN(RuleCondition c, ParseCondition((*conds)[i], cp.Index(i), r.model_scope));
      cr.conditions.push_back(std::move(c));
    }
  }
  if (r.model_scope && cr.conditions.empty()) return mp.Field("conditions").Invalid("a model-scope rule needs conditions");
  if (cr.wildcard && cr.conditions.empty()) {
    return mp.Field("conditions").Invalid("a rule for every op type (\"*\") needs conditions");
  }
  return cr;
}

Result<std::vector<std::string>> SortedList(const json& obj, std::string_view key, const JsonPlace& place) {
  ANEPILOT_ASSIGN_OR_RETURN(auto list, GetStringList(obj, key, place, 1, true));
  std::sort(list.begin(), list.end());
  return list;
}

}  // namespace

std::string_view RuleEffectName(RuleEffect effect) {
  switch (effect) {
    case RuleEffect::kLeavesAne: return "leaves_ane";
    case RuleEffect::kCompileFailure: return "compile_failure";
    case RuleEffect::kCrash: return "crash";
    case RuleEffect::kSlow: return "slow";
    case RuleEffect::kPrecisionHazard: return "precision_hazard";
    case RuleEffect::kCacheMiss: return "cache_miss";
  }
  return "leaves_ane";
}

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "info";
}

std::string_view PlatformName(Platform platform) {
  return platform == Platform::kIos ? "iOS" : "macOS";
}

bool AneRule::AppliesTo(int generation_number) const {
  if (min_generation != 0 && (generation_number == 0 || generation_number < min_generation)) return false;
  if (max_generation != 0 && (generation_number == 0 || generation_number > max_generation)) return false;
  return true;
}

Result<AneRuleSet> AneRuleSet::Load(const std::string& path) {
  ANEPILOT_ASSIGN_OR_RETURN(std::string text, ReadDataFile(path));
  return Parse(text, path);
}

Result<AneRuleSet> AneRuleSet::LoadDefault() {
  ANEPILOT_ASSIGN_OR_RETURN(std::string dir, FindDataDir());
  return Load(dir + "/ane_rules.json");
}

Result<AneRuleSet> AneRuleSet::Parse(std::string_view json_text, std::string_view label) {
  ANEPILOT_ASSIGN_OR_RETURN(json root, ParseJsonText(json_text, label));
  JsonPlace root_place(label, "");
  ANEPILOT_RETURN_IF_ERROR(CheckSchemaHeader(root, root_place, kSchema, kVersion, "a rules file"));
  const int64_t version = kVersion;
  auto compiled = std::make_shared<Compiled>();
  compiled->version = static_cast<int>(version);

  ANEPILOT_ASSIGN_OR_RETURN(compiled->constant_ops, SortedList(root, "constant_op_types", root_place));
  ANEPILOT_ASSIGN_OR_RETURN(compiled->constant_prefixes,
                            GetStringList(root, "constant_op_prefixes", root_place, 0, false));
  ANEPILOT_ASSIGN_OR_RETURN(const json* ane_ops, Member(root, "ane_op_types", root_place, true));
  JsonPlace ops_place = root_place.Field("ane_op_types");
  ANEPILOT_RETURN_IF_ERROR(RequireObject(*ane_ops, ops_place));
  ANEPILOT_ASSIGN_OR_RETURN(compiled->ml_program_ops, SortedList(*ane_ops, "ml_program", ops_place));
  ANEPILOT_ASSIGN_OR_RETURN(compiled->neural_network_ops, SortedList(*ane_ops, "neural_network", ops_place));
  ANEPILOT_ASSIGN_OR_RETURN(auto whitelist_sources, GetStringList(*ane_ops, "sources", ops_place, 1, true));

  ANEPILOT_ASSIGN_OR_RETURN(const json* rules, Member(root, "rules", root_place, true));
  JsonPlace rules_place = root_place.Field("rules");
  if (!rules->is_array() || rules->empty()) return rules_place.Invalid("expected a non-empty array");
  std::set<std::string, std::less<>> ids;
  for (size_t i = 0; i < rules->size(); ++i) {
    ANEPILOT_ASSIGN_OR_RETURN(CompiledRule cr, ParseRule((*rules)[i], rules_place.Index(i)));
    if (!ids.insert(cr.rule.id).second) {
      return rules_place.Index(i).Field("id").Invalid(fmt::format("duplicate rule id \"{}\"", cr.rule.id));
    }
    size_t index = compiled->compiled.size();
    if (cr.rule.model_scope) {
      compiled->model_rules.push_back(index);
    } else if (cr.rule.only_if_no_other && cr.wildcard) {
      compiled->catch_all.push_back(index);
    } else if (cr.wildcard) {
      compiled->wildcard.push_back(index);
    } else {
      for (const std::string& t : cr.rule.op_types) {
        std::vector<size_t>& list = compiled->by_op_type[t];
        if (list.empty() || list.back() != index) list.push_back(index);
      }
    }
    compiled->rules.push_back(cr.rule);
    compiled->compiled.push_back(std::move(cr));
  }
  AneRuleSet set;
  set.compiled_ = std::move(compiled);
  return set;
}

int AneRuleSet::version() const { return compiled_ ? compiled_->version : 0; }

const std::vector<AneRule>& AneRuleSet::rules() const {
  static const std::vector<AneRule> kEmpty;
  return compiled_ ? compiled_->rules : kEmpty;
}

const AneRule* AneRuleSet::FindRule(std::string_view id) const {
  for (const AneRule& r : rules()) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

bool AneRuleSet::AneSupportsOpType(std::string_view op_type, bool ml_program) const {
  if (!compiled_) return false;
  const std::vector<std::string>& list = ml_program ? compiled_->ml_program_ops : compiled_->neural_network_ops;
  return std::binary_search(list.begin(), list.end(), op_type, std::less<>());
}

bool AneRuleSet::IsConstantProducer(std::string_view op_type) const {
  if (!compiled_) return false;
  if (std::binary_search(compiled_->constant_ops.begin(), compiled_->constant_ops.end(), op_type, std::less<>()))
    return true;
  for (const std::string& p : compiled_->constant_prefixes) {
    if (op_type.starts_with(p)) return true;
  }
  return false;
}

}  // namespace anepilot::knowledge
