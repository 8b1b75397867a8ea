#include "runtime/device_profile.h"

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"

namespace anepilot::runtime {
namespace {

using nlohmann::json;

constexpr std::string_view kSchema = "anepilot.device_profile";

Result<FaultStep> ParseStep(std::string_view s, const std::string& where) {
  if (s == "load") return FaultStep::kLoad;
  if (s == "first_predict") return FaultStep::kFirstPredict;
  if (s == "predict") return FaultStep::kPredict;
  return InvalidData(where + ".step: unknown step '" + std::string(s) +
                     "' (expected load, first_predict or predict)");
}

Result<FaultKind> ParseKind(std::string_view s, const std::string& where) {
  for (FaultKind k : {FaultKind::kCrash, FaultKind::kAbort, FaultKind::kHang, FaultKind::kNan,
                      FaultKind::kError}) {
    if (FaultKindName(k) == s) return k;
  }
  return InvalidData(where + ".kind: unknown kind '" + std::string(s) +
                     "' (expected crash, abort, hang, nan or error)");
}

Result<double> NonNegative(const json& obj, const char* key, const std::string& where) {
  if (!obj.contains(key)) return 0.0;
  const json& v = obj.at(key);
  if (!v.is_number()) return InvalidData(where + "." + key + ": expected a number");
  double d = v.get<double>();
  if (d < 0) return InvalidData(where + "." + key + ": must not be negative");
  return d;
}

Result<DeviceProfile> FromJson(const json& j, const std::string& src) {
  if (!j.is_object()) return InvalidData(src + ": a device profile is a JSON object");
  if (j.value("schema", std::string()) != kSchema) {
    return InvalidData(src + ": field 'schema' must be \"" + std::string(kSchema) + "\"");
  }
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != 1) {
    return InvalidData(src + ": field 'version' must be 1 (the only version this build reads)");
  }
  DeviceProfile p;
  if (!j.contains("identifier") || !j["identifier"].is_string()) {
    return InvalidData(src + ": field 'identifier' (e.g. \"iPhone17,2\") is required");
  }
  p.identifier = j["identifier"].get<std::string>();
  p.name = j.value("name", p.identifier);
  p.os_build = j.value("os_build", std::string());
  if (!j.contains("units") || !j["units"].is_object()) {
    return InvalidData(src + ": field 'units' must map compute units to timings");
  }
  for (const auto& [key, value] : j["units"].items()) {
    std::string where = src + ": units." + key;
    auto units = ParseComputeUnits(key);
    if (!units) return InvalidData(where + ": unknown compute units (expected cpuOnly, cpuAndGPU, cpuAndNeuralEngine or all)");
    if (!value.is_object()) return InvalidData(where + ": expected an object");
    UnitProfile u;
    ANEPILOT_ASSIGN_OR_RETURN(u.cold_load_ms, NonNegative(value, "cold_load_ms", where));
    ANEPILOT_ASSIGN_OR_RETURN(u.warm_load_ms, NonNegative(value, "warm_load_ms", where));
    ANEPILOT_ASSIGN_OR_RETURN(u.predict_ms, NonNegative(value, "predict_ms", where));
    ANEPILOT_ASSIGN_OR_RETURN(u.output_error, NonNegative(value, "output_error", where));
    p.units[*units] = u;
  }
  if (j.contains("faults")) {
    if (!j["faults"].is_array()) return InvalidData(src + ": field 'faults' must be an array");
    int i = 0;
    for (const json& f : j["faults"]) {
      std::string where = src + ": faults[" + std::to_string(i++) + "]";
      if (!f.is_object()) return InvalidData(where + ": expected an object");
      Fault fault;
      auto units = ParseComputeUnits(f.value("units", std::string()));
      if (!units) return InvalidData(where + ".units: unknown or missing compute units");
      fault.units = *units;
      ANEPILOT_ASSIGN_OR_RETURN(fault.step, ParseStep(f.value("step", std::string()), where));
      ANEPILOT_ASSIGN_OR_RETURN(fault.kind, ParseKind(f.value("kind", std::string()), where));
      fault.index = f.value("index", 0);
      if (fault.index < 0) return InvalidData(where + ".index: must not be negative");
      p.faults.push_back(fault);
    }
  }
  return p;
}

DeviceProfile Make(std::string id, std::string name, std::map<ComputeUnits, UnitProfile> units,
                   std::vector<Fault> faults) {
  DeviceProfile p;
  p.identifier = std::move(id);
  p.name = std::move(name);
  p.os_build = "22C152";  // iOS 18.2
  p.units = std::move(units);
  p.faults = std::move(faults);
  return p;
}

}  // namespace

const UnitProfile* DeviceProfile::Find(ComputeUnits u) const {
  auto it = units.find(u);
  return it == units.end() ? nullptr : &it->second;
}

const Fault* DeviceProfile::FindFault(ComputeUnits u, FaultStep step, int predict_index) const {
  for (const Fault& f : faults) {
    if (f.units != u || f.step != step) continue;
    if (step == FaultStep::kPredict && f.index != predict_index) continue;
    return &f;
  }
  return nullptr;
}

std::string_view FaultKindName(FaultKind k) {
  switch (k) {
    case FaultKind::kCrash: return "crash";
    case FaultKind::kAbort: return "abort";
    case FaultKind::kHang: return "hang";
    case FaultKind::kNan: return "nan";
    case FaultKind::kError: return "error";
  }
  return "crash";
}

std::string_view FaultStepName(FaultStep s) {
  switch (s) {
    case FaultStep::kLoad: return "load";
    case FaultStep::kFirstPredict: return "first_predict";
    case FaultStep::kPredict: return "predict";
  }
  return "load";
}

Result<DeviceProfile> ParseDeviceProfile(std::string_view text, std::string_view source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return ParseError(std::string(source) + ": not valid JSON");
  return FromJson(j, std::string(source));
}

Result<DeviceProfile> LoadDeviceProfile(const std::string& path) {
  ANEPILOT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseDeviceProfile(text, path);
}

std::string DeviceProfileToJson(const DeviceProfile& p) {
  json j;
  j["schema"] = kSchema;
  j["version"] = 1;
  j["identifier"] = p.identifier;
  j["name"] = p.name;
  j["os_build"] = p.os_build;
  j["units"] = json::object();
  for (const auto& [u, up] : p.units) {
    j["units"][std::string(ComputeUnitsName(u))] = {{"cold_load_ms", up.cold_load_ms},
                                                    {"warm_load_ms", up.warm_load_ms},
                                                    {"predict_ms", up.predict_ms},
                                                    {"output_error", up.output_error}};
  }
  j["faults"] = json::array();
  for (const Fault& f : p.faults) {
    j["faults"].push_back({{"units", std::string(ComputeUnitsName(f.units))},
                           {"step", std::string(FaultStepName(f.step))},
                           {"kind", std::string(FaultKindName(f.kind))},
                           {"index", f.index}});
  }
  return j.dump(2);
}

std::optional<DeviceProfile> BuiltinDeviceProfile(std::string_view id) {
  using CU = ComputeUnits;
  if (id == "iPhone17,2") {
    return Make("iPhone17,2", "iPhone 16 Pro Max",
                {{CU::kCpuOnly, {260, 50, 40, 0}},
                 {CU::kCpuAndGpu, {220, 45, 9, 2e-4}},
                 {CU::kCpuAndNeuralEngine, {2200, 70, 2.0, 1e-3}},
                 {CU::kAll, {2300, 75, 1.9, 1e-3}}},
                {});
  }
  if (id == "iPhone14,7") {
    return Make("iPhone14,7", "iPhone 14",
                {{CU::kCpuOnly, {300, 60, 55, 0}},
                 {CU::kCpuAndGpu, {250, 55, 14, 2e-4}},
                 {CU::kCpuAndNeuralEngine, {1800, 80, 4.0, 1e-3}},
                 {CU::kAll, {1900, 85, 3.8, 1e-3}}},
                {{CU::kCpuAndNeuralEngine, FaultStep::kLoad, FaultKind::kCrash, 0},
                 {CU::kAll, FaultStep::kLoad, FaultKind::kCrash, 0}});
  }
  if (id == "zero-latency") {
    std::map<CU, UnitProfile> units;
    for (CU u : kAllComputeUnits) units[u] = UnitProfile{};
    return Make("zero-latency", "zero-latency test device", std::move(units), {});
  }
  return std::nullopt;
}

}  // namespace anepilot::runtime
