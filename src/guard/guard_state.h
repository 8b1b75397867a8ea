// The crash guard's persistent state and its on-disk form.
//
// File layout (guard.state):
//   line 1: "anepilot.guard 1 sha256=<64 hex of the body>"
//   rest:   the body, a JSON object (entries, pending reports, processed
//           marker ids).
// The checksum catches torn writes and bit rot that the atomic rename
// should already prevent; any mismatch is treated as corruption.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "anepilot/result.h"
#include "guard/crash_guard.h"

namespace anepilot::guard_internal {

// Everything known about one (key, units).
struct GuardEntry {
  GuardKey key;
  ComputeUnits units = ComputeUnits::kAll;
  GuardStep last_step = GuardStep::kLoad;
  ExitReason last_reason = ExitReason::kUnknown;
  int crashes = 0;       // kCrash or kUnknown deaths
  int memory_kills = 0;
  int user_kills = 0;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;

  // cpuOnly never blocks; otherwise any crash, or kMemoryKillsToBlock memory kills.
  bool Blocks() const {
    return units != ComputeUnits::kCpuOnly &&
           (crashes > 0 || memory_kills >= kMemoryKillsToBlock);
  }
};

struct GuardState {
  std::vector<GuardEntry> entries;
  // Deaths found by a guard of another key, kept until that key's guard opens.
  std::vector<RecoveredCrash> pending;
  // Ids of markers already turned into entries (newest last, bounded), so a
  // marker whose removal was lost to a kill is not counted twice.
  std::deque<std::string> processed_markers;
};

inline constexpr size_t kMaxProcessedMarkers = 256;
inline constexpr size_t kMaxPendingReports = 256;

std::string SerializeGuardState(const GuardState& state);
// kInvalidData naming `source` for a bad header, checksum mismatch,
// truncation or a body that does not match the schema.
Result<GuardState> ParseGuardState(std::string_view text, std::string_view source);

// Stable 16-hex digest of a key, used in marker file names.
std::string KeyDigest(const GuardKey& key);

}  // namespace anepilot::guard_internal
