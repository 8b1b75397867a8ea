// One telemetry event <-> one JSON line, with validation that names the
// field at fault.
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "telemetry/telemetry.h"

namespace anepilot {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr TelemetryPhase kPhases[] = {
    TelemetryPhase::kLoadCold,  TelemetryPhase::kLoadWarm,       TelemetryPhase::kFirstPrediction,
    TelemetryPhase::kPredictionSummary, TelemetryPhase::kSwap,   TelemetryPhase::kCrashRecovered,
    TelemetryPhase::kFallback,  TelemetryPhase::kPrewarm,        TelemetryPhase::kPolicy};

Status FieldError(std::string_view field, std::string_view what) {
  return InvalidData(fmt::format("{}: {}", field, what));
}

Status ReadString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_string()) return FieldError(key, "expected a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadMs(const json& v, std::string_view field, double* out) {
  if (!v.is_number()) return FieldError(field, "expected a number of milliseconds");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < 0) return FieldError(field, fmt::format("{} is not a duration >= 0", d));
  *out = d;
  return Status::Ok();
}

Status ReadUnits(const json& j, const char* key, std::optional<ComputeUnits>* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (it->is_string()) {
    for (ComputeUnits u : kAllComputeUnits) {
      if (it->get_ref<const std::string&>() == ComputeUnitsName(u)) {
        *out = u;
        return Status::Ok();
      }
    }
  }
  return FieldError(key, fmt::format("{} is not a compute-unit option (cpuOnly, cpuAndGPU, "
                                     "cpuAndNeuralEngine, all)",
                                     it->dump()));
}

}  // namespace

std::string_view TelemetryPhaseName(TelemetryPhase p) {
  switch (p) {
    case TelemetryPhase::kLoadCold: return "load_cold";
    case TelemetryPhase::kLoadWarm: return "load_warm";
    case TelemetryPhase::kFirstPrediction: return "first_prediction";
    case TelemetryPhase::kPredictionSummary: return "prediction_summary";
    case TelemetryPhase::kSwap: return "swap";
    case TelemetryPhase::kCrashRecovered: return "crash_recovered";
    case TelemetryPhase::kFallback: return "fallback";
    case TelemetryPhase::kPrewarm: return "prewarm";
    case TelemetryPhase::kPolicy: return "policy";
  }
  return "load_cold";
}

std::optional<TelemetryPhase> ParseTelemetryPhase(std::string_view text) {
  for (TelemetryPhase p : kPhases) {
    if (text == TelemetryPhaseName(p)) return p;
  }
  return std::nullopt;
}

std::string_view TelemetryOutcomeName(TelemetryOutcome o) {
  switch (o) {
    case TelemetryOutcome::kOk: return "ok";
    case TelemetryOutcome::kError: return "error";
    case TelemetryOutcome::kCrash: return "crash";
  }
  return "ok";
}

std::optional<TelemetryOutcome> ParseTelemetryOutcome(std::string_view text) {
  for (auto o : {TelemetryOutcome::kOk, TelemetryOutcome::kError, TelemetryOutcome::kCrash}) {
    if (text == TelemetryOutcomeName(o)) return o;
  }
  return std::nullopt;
}

std::string SerializeTelemetryEvent(const TelemetryEvent& e) {
  ojson j;
  j["schema"] = std::string(kTelemetrySchema);
  j["version"] = kTelemetryVersion;
  j["ts"] = e.ts_ms;
  auto str = [&](const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
  };
  str("session", e.session);
  str("device", e.device);
  str("os_version", e.os_version);
  str("os_build", e.os_build);
  str("app_version", e.app_version);
  str("model_hash", e.model_hash);
  str("model_name", e.model_name);
  if (e.units) j["units"] = std::string(ComputeUnitsName(*e.units));
  if (e.from_units) j["from_units"] = std::string(ComputeUnitsName(*e.from_units));
  j["phase"] = std::string(TelemetryPhaseName(e.phase));
  j["outcome"] = std::string(TelemetryOutcomeName(e.outcome));
  if (e.duration_ms) j["duration_ms"] = *e.duration_ms;
  if (!e.durations_ms.empty()) {
    ojson d = ojson::object();
    for (const auto& [name, ms] : e.durations_ms) d[name] = ms;
    j["durations_ms"] = std::move(d);
  }
  if (e.count) j["count"] = *e.count;
  if (e.crash_recovered) j["crash_recovered"] = true;
  str("error", e.error);
  str("policy_rule", e.policy_rule);
  str("strategy", e.strategy);
  // Invalid UTF-8 in a message must not make the event unwritable.
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

Result<TelemetryEvent> ParseTelemetryLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.find('\n') != std::string_view::npos) {
    return ParseError("an event must be a single line");
  }
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) {
    return ParseError(fmt::format("not valid JSON ({} bytes; a truncated line looks like this)",
                                  line.size()));
  }
  if (!j.is_object()) return InvalidData("an event must be a JSON object");
  auto schema = j.find("schema");
  if (schema == j.end() || !schema->is_string() || schema->get<std::string>() != kTelemetrySchema) {
    return FieldError("schema", fmt::format("must be \"{}\"", kTelemetrySchema));
  }
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer()) {
    return FieldError("version", "required integer is missing");
  }
  if (version->get<int64_t>() != kTelemetryVersion) {
    return FieldError("version", fmt::format("version {} is not supported (this reader knows {})",
                                             version->get<int64_t>(), kTelemetryVersion));
  }
  TelemetryEvent e;
  auto ts = j.find("ts");
  if (ts == j.end() || !ts->is_number_integer() || ts->get<int64_t>() < 0) {
    return FieldError("ts", "required: unix time in milliseconds (an integer >= 0)");
  }
  e.ts_ms = ts->get<int64_t>();
  auto phase = j.find("phase");
  if (phase == j.end() || !phase->is_string()) return FieldError("phase", "required string is missing");
  auto p = ParseTelemetryPhase(phase->get<std::string>());
  if (!p) return FieldError("phase", fmt::format("\"{}\" is not a known phase", phase->get<std::string>()));
  e.phase = *p;
  auto outcome = j.find("outcome");
  if (outcome == j.end() || !outcome->is_string()) {
    return FieldError("outcome", "required string is missing");
  }
  auto o = ParseTelemetryOutcome(outcome->get<std::string>());
  if (!o) {
    return FieldError("outcome", fmt::format("\"{}\" is not ok, error or crash", outcome->get<std::string>()));
  }
  e.outcome = *o;
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "session", &e.session));
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "device", &e.device));
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "os_version", &e.os_version));
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "os_build", &e.os_build));
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "app_version", &e.app_version));
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "model_hash", &e.model_hash));
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "model_name", &e.model_name));
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "error", &e.error));
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "policy_rule", &e.policy_rule));
  ANEPILOT_RETURN_IF_ERROR(ReadString(j, "strategy", &e.strategy));
  ANEPILOT_RETURN_IF_ERROR(ReadUnits(j, "units", &e.units));
  ANEPILOT_RETURN_IF_ERROR(ReadUnits(j, "from_units", &e.from_units));
  if (auto d = j.find("duration_ms"); d != j.end()) {
    double ms = 0;
    ANEPILOT_RETURN_IF_ERROR(ReadMs(*d, "duration_ms", &ms));
    e.duration_ms = ms;
  }
  if (auto d = j.find("durations_ms"); d != j.end()) {
    if (!d->is_object()) return FieldError("durations_ms", "expected an object of name: milliseconds");
    for (const auto& [name, value] : d->items()) {
      double ms = 0;
      ANEPILOT_RETURN_IF_ERROR(ReadMs(value, "durations_ms." + name, &ms));
      e.durations_ms[name] = ms;
    }
  }
  if (auto c = j.find("count"); c != j.end()) {
    if (!c->is_number_integer() || c->get<int64_t>() < 0) {
      return FieldError("count", "expected an integer >= 0");
    }
    e.count = c->get<int64_t>();
  }
  if (auto c = j.find("crash_recovered"); c != j.end()) {
    if (!c->is_boolean()) return FieldError("crash_recovered", "expected true or false");
    e.crash_recovered = c->get<bool>();
  }
  return e;
}

}  // namespace anepilot
