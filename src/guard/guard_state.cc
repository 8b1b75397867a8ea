#include "guard/guard_state.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/sha256.h"

namespace anepilot::guard_internal {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::string_view kHeaderPrefix = "anepilot.guard 1 sha256=";

ojson KeyJson(const GuardKey& k) {
  ojson j;
  j["device"] = k.device;
  j["os_build"] = k.os_build;
  j["model_hash"] = k.model_hash;
  j["app_version"] = k.app_version;
  return j;
}

// Throws json exceptions on schema violations; the caller converts them.
GuardKey KeyFrom(const json& j) {
  return GuardKey{j.at("device").get<std::string>(), j.at("os_build").get<std::string>(),
                  j.at("model_hash").get<std::string>(), j.at("app_version").get<std::string>()};
}

template <typename T, typename Parse>
T Enum(const json& j, Parse parse, const char* what) {
  auto v = parse(j.get<std::string>());
  if (!v) throw std::invalid_argument(fmt::format("unknown {} \"{}\"", what, j.get<std::string>()));
  return *v;
}

ComputeUnits UnitsFrom(const json& j) {
  const std::string& s = j.get_ref<const std::string&>();
  for (ComputeUnits u : kAllComputeUnits) {
    if (s == ComputeUnitsName(u)) return u;
  }
  throw std::invalid_argument(fmt::format("unknown units \"{}\"", s));
}

}  // namespace

std::string KeyDigest(const GuardKey& key) {
  std::string joined = key.device + '\0' + key.os_build + '\0' + key.model_hash + '\0' + key.app_version;
  return Sha256Hex(joined).substr(0, 16);
}

std::string SerializeGuardState(const GuardState& state) {
  ojson body;
  ojson entries = ojson::array();
  for (const GuardEntry& e : state.entries) {
    ojson j;
    j["key"] = KeyJson(e.key);
    j["units"] = std::string(ComputeUnitsName(e.units));
    j["last_step"] = std::string(GuardStepName(e.last_step));
    j["last_reason"] = std::string(ExitReasonName(e.last_reason));
    j["crashes"] = e.crashes;
    j["memory_kills"] = e.memory_kills;
    j["user_kills"] = e.user_kills;
    j["first_seen_ms"] = e.first_seen_ms;
    j["last_seen_ms"] = e.last_seen_ms;
    entries.push_back(std::move(j));
  }
  body["entries"] = std::move(entries);
  ojson pending = ojson::array();
  for (const RecoveredCrash& r : state.pending) {
    ojson j;
    j["key"] = KeyJson(r.marker.key);
    j["units"] = std::string(ComputeUnitsName(r.marker.units));
    j["step"] = std::string(GuardStepName(r.marker.step));
    j["pid"] = r.marker.pid;
    j["armed_at_ms"] = r.marker.armed_at_ms;
    j["reason"] = std::string(ExitReasonName(r.reason));
    j["now_blocked"] = r.now_blocked;
    pending.push_back(std::move(j));
  }
  body["pending"] = std::move(pending);
  body["processed_markers"] = state.processed_markers;
  std::string text = body.dump(1);
  text.push_back('\n');
  return fmt::format("{}{}\n{}", kHeaderPrefix, Sha256Hex(text), text);
}

Result<GuardState> ParseGuardState(std::string_view text, std::string_view source) {
  size_t newline = text.find('\n');
  if (newline == std::string_view::npos || text.substr(0, kHeaderPrefix.size()) != kHeaderPrefix ||
      newline != kHeaderPrefix.size() + 64) {
    return InvalidData(fmt::format(
        "{}: not a guard state file or truncated header (expected \"{}<sha256>\" on line 1, {} "
        "bytes in file)",
        source, kHeaderPrefix, text.size()));
  }
  std::string_view expected = text.substr(kHeaderPrefix.size(), 64);
  std::string_view body = text.substr(newline + 1);
  std::string actual = Sha256Hex(body);
  if (actual != expected) {
    return InvalidData(fmt::format(
        "{}: checksum mismatch (header says {}, body of {} bytes hashes to {}): truncated or "
        "altered",
        source, expected, body.size(), actual));
  }
  GuardState state;
  try {
    json j = json::parse(body.begin(), body.end());
    for (const json& e : j.at("entries")) {
      GuardEntry entry;
      entry.key = KeyFrom(e.at("key"));
      entry.units = UnitsFrom(e.at("units"));
      entry.last_step = Enum<GuardStep>(e.at("last_step"), ParseGuardStep, "step");
      entry.last_reason = Enum<ExitReason>(e.at("last_reason"), ParseExitReason, "exit reason");
      entry.crashes = e.at("crashes").get<int>();
      entry.memory_kills = e.at("memory_kills").get<int>();
      entry.user_kills = e.at("user_kills").get<int>();
      entry.first_seen_ms = e.at("first_seen_ms").get<int64_t>();
      entry.last_seen_ms = e.at("last_seen_ms").get<int64_t>();
      state.entries.push_back(std::move(entry));
    }
    for (const json& p : j.at("pending")) {
      RecoveredCrash r;
      r.marker.key = KeyFrom(p.at("key"));
      r.marker.units = UnitsFrom(p.at("units"));
      r.marker.step = Enum<GuardStep>(p.at("step"), ParseGuardStep, "step");
      r.marker.pid = p.at("pid").get<int64_t>();
      r.marker.armed_at_ms = p.at("armed_at_ms").get<int64_t>();
      r.reason = Enum<ExitReason>(p.at("reason"), ParseExitReason, "exit reason");
      r.now_blocked = p.at("now_blocked").get<bool>();
      state.pending.push_back(std::move(r));
    }
    for (const json& id : j.at("processed_markers")) {
      state.processed_markers.push_back(id.get<std::string>());
    }
  } catch (const std::exception& e) {
    return InvalidData(fmt::format("{}: checksum matches but the body breaks the schema: {}",
                                   source, e.what()));
  }
  return state;
}

}  // namespace anepilot::guard_internal
