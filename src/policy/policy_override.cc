// Local overrides for testing: force the choice list from an environment
// variable or a small JSON object.
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "anepilot/policy.h"

namespace anepilot {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

Result<ComputeUnits> OverrideUnits(std::string_view text, std::string_view what) {
  text = Trim(text);
  for (ComputeUnits u : kAllComputeUnits) {
    if (text == ComputeUnitsName(u)) return u;
  }
  return InvalidArgument(fmt::format(
      "{}: {}: \"{}\" is not a compute-unit option (cpuOnly, cpuAndGPU, cpuAndNeuralEngine, all)",
      kPolicyOverrideEnv, what, text));
}

Status CheckPlan(const PolicyOverride& o) {
  if (o.units.empty()) {
    return InvalidArgument(fmt::format("{}: units: at least one compute-unit option is required",
                                       kPolicyOverrideEnv));
  }
  if (!o.loading) return Status::Ok();
  const LoadingPlan& l = *o.loading;
  if (l.strategy == LoadingStrategy::kFastFirstThenSwap && (!l.serve_first || !l.swap_to)) {
    return InvalidArgument(fmt::format(
        "{}: strategy=fast_first_then_swap needs serve_first=<units> and swap_to=<units>",
        kPolicyOverrideEnv));
  }
  return Status::Ok();
}

Result<PolicyOverride> ParseJsonOverride(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument(fmt::format("{}: not a JSON object: {}", kPolicyOverrideEnv, text));
  }
  PolicyOverride o;
  auto units = j.find("units");
  if (units == j.end()) {
    return InvalidArgument(fmt::format("{}: units: required field is missing", kPolicyOverrideEnv));
  }
  auto one = [&](const nlohmann::json& v, std::string_view what) -> Result<ComputeUnits> {
    if (!v.is_string()) {
      return InvalidArgument(fmt::format("{}: {}: expected a string", kPolicyOverrideEnv, what));
    }
    return OverrideUnits(v.get<std::string>(), what);
  };
  if (units->is_array()) {
    for (size_t i = 0; i < units->size(); ++i) {
      ANEPILOT_ASSIGN_OR_RETURN(auto u, one((*units)[i], fmt::format("units[{}]", i)));
      o.units.push_back(u);
    }
  } else {
    ANEPILOT_ASSIGN_OR_RETURN(auto u, one(*units, "units"));
    o.units.push_back(u);
  }
  if (auto s = j.find("strategy"); s != j.end()) {
    auto strategy = s->is_string() ? ParseLoadingStrategy(s->get<std::string>()) : std::nullopt;
    if (!strategy) {
      return InvalidArgument(fmt::format(
          "{}: strategy: expected single, fast_first_then_swap or prewarm", kPolicyOverrideEnv));
    }
    o.loading = LoadingPlan{};
    o.loading->strategy = *strategy;
  }
  for (const char* key : {"serve_first", "swap_to"}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!o.loading) o.loading = LoadingPlan{};
    ANEPILOT_ASSIGN_OR_RETURN(auto u, one(*it, key));
    (std::string_view(key) == "serve_first" ? o.loading->serve_first : o.loading->swap_to) = u;
  }
  if (auto g = j.find("swap_min_gain"); g != j.end()) {
    if (!g->is_number()) {
      return InvalidArgument(fmt::format("{}: swap_min_gain: expected a number", kPolicyOverrideEnv));
    }
    if (!o.loading) o.loading = LoadingPlan{};
    o.loading->swap_min_gain = g->get<double>();
  }
  ANEPILOT_RETURN_IF_ERROR(CheckPlan(o));
  return o;
}

Result<PolicyOverride> ParseKeyValueOverride(std::string_view text) {
  PolicyOverride o;
  while (!text.empty()) {
    size_t end = text.find(';');
    std::string_view item = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument(fmt::format("{}: \"{}\" is not key=value (keys: units, strategy, "
                                         "serve_first, swap_to, swap_min_gain)",
                                         kPolicyOverrideEnv, item));
    }
    std::string_view key = Trim(item.substr(0, eq));
    std::string_view value = Trim(item.substr(eq + 1));
    if (key == "units") {
      while (!value.empty()) {
        size_t comma = value.find(',');
        ANEPILOT_ASSIGN_OR_RETURN(auto u, OverrideUnits(value.substr(0, comma), "units"));
        o.units.push_back(u);
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
      }
    } else if (key == "strategy") {
      auto s = ParseLoadingStrategy(value);
      if (!s) {
        return InvalidArgument(fmt::format(
            "{}: strategy: \"{}\" is not single, fast_first_then_swap or prewarm", kPolicyOverrideEnv,
            value));
      }
      if (!o.loading) o.loading = LoadingPlan{};
      o.loading->strategy = *s;
    } else if (key == "serve_first" || key == "swap_to") {
      ANEPILOT_ASSIGN_OR_RETURN(auto u, OverrideUnits(value, key));
      if (!o.loading) o.loading = LoadingPlan{};
      (key == "serve_first" ? o.loading->serve_first : o.loading->swap_to) = u;
    } else if (key == "swap_min_gain") {
      char* endp = nullptr;
      std::string v(value);
      double g = std::strtod(v.c_str(), &endp);
      if (v.empty() || endp != v.c_str() + v.size()) {
        return InvalidArgument(fmt::format("{}: swap_min_gain: \"{}\" is not a number",
                                           kPolicyOverrideEnv, value));
      }
      if (!o.loading) o.loading = LoadingPlan{};
      o.loading->swap_min_gain = g;
    } else {
      return InvalidArgument(fmt::format("{}: unknown key \"{}\" (keys: units, strategy, "
                                         "serve_first, swap_to, swap_min_gain)",
                                         kPolicyOverrideEnv, key));
    }
  }
  ANEPILOT_RETURN_IF_ERROR(CheckPlan(o));
  return o;
}

}  // namespace

Result<PolicyOverride> ParsePolicyOverride(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '{') return ParseJsonOverride(text);
  return ParseKeyValueOverride(text);
}

Result<std::optional<PolicyOverride>> PolicyOverrideFromEnvironment() {
  const char* env = std::getenv(kPolicyOverrideEnv);
  if (env == nullptr || Trim(env).empty()) return std::optional<PolicyOverride>();
  ANEPILOT_ASSIGN_OR_RETURN(auto o, ParsePolicyOverride(env));
  return std::optional<PolicyOverride>(std::move(o));
}

Decision ApplyOverride(const Decision& decision, const PolicyOverride& override_spec) {
  Decision d;
  for (ComputeUnits u : override_spec.units) {
    UnitChoice c = ChoiceOf(u);
    for (const auto& known : decision.choices) {
      if (known.units == u) c = known;  // keep the planner's expectations
    }
    bool dup = false;
    for (const auto& have : d.choices) dup |= have.units == u;
    if (!dup) d.choices.push_back(c);
  }
  d.loading = override_spec.loading.value_or(LoadingPlan{});
  d.matched_rule = "override";
  d.overridden = true;
  return d;
}

}  // namespace anepilot
