// Telemetry: one JSON line per runtime event ("anepilot.telemetry" v1; every
// field documented in docs/telemetry.md), written crash-safely and bounded,
// and read back by the fleet learner and tests.
//
// Crash safety: each event is one complete line handed to one write() on an
// O_APPEND descriptor, so a kill loses at most the event in flight and never
// interleaves two lines (also across processes). Optionally fdatasync after
// each event (sync_each_event) to survive power loss.
// Bounded: when the current file would exceed max_file_bytes it is rotated:
// telemetry.jsonl -> telemetry.1.jsonl -> ... -> telemetry.<keep_files-1>.jsonl
// (the oldest is deleted). Rotation is serialised across processes by a
// lock file (flock on <dir>/<base>.lock).
//
// Reader: reads the rotated files oldest first, then the current one; each
// line is parsed and validated; malformed or truncated lines are skipped and
// reported with file:line, so a half-written last line never poisons the
// rest.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anepilot/compute_units.h"
#include "anepilot/result.h"
#include "anepilot/status.h"

namespace anepilot {

inline constexpr std::string_view kTelemetrySchema = "anepilot.telemetry";
inline constexpr int kTelemetryVersion = 1;

enum class TelemetryPhase : uint8_t {
  kLoadCold,           // first load of a configuration (compile/specialise)
  kLoadWarm,           // load served from the system's specialisation cache
  kFirstPrediction,
  kPredictionSummary,  // aggregate over a window of predictions
  kSwap,               // fast-first-then-swap switched (or declined to)
  kCrashRecovered,     // the crash guard found a step that killed the process
  kFallback,           // a configuration failed or was blocked; next choice used
  kPrewarm,
  kPolicy,             // the policy was read (or fell back to the default)
};
std::string_view TelemetryPhaseName(TelemetryPhase p);  // "load_cold", ...
std::optional<TelemetryPhase> ParseTelemetryPhase(std::string_view text);

enum class TelemetryOutcome : uint8_t { kOk, kError, kCrash };
std::string_view TelemetryOutcomeName(TelemetryOutcome o);  // "ok", "error", "crash"
std::optional<TelemetryOutcome> ParseTelemetryOutcome(std::string_view text);

struct TelemetryEvent {
  int64_t ts_ms = 0;         // unix ms; 0 = the writer stamps it
  std::string session;       // one id per app launch; may be empty
  std::string device;        // "iPhone14,7"
  std::string os_version;    // "18.2"
  std::string os_build;      // "22C152"
  std::string app_version;
  std::string model_hash;    // sha256 hex; may be empty for app-level events
  std::string model_name;
  std::optional<ComputeUnits> units;       // configuration the event is about
  std::optional<ComputeUnits> from_units;  // kSwap: the one swapped away from
  TelemetryPhase phase = TelemetryPhase::kLoadCold;
  TelemetryOutcome outcome = TelemetryOutcome::kOk;
  std::optional<double> duration_ms;       // the phase's main duration
  // Further named durations in ms, e.g. {"mean": 3.1, "p50": 2.9, "p95": 4.4,
  // "max": 7.0} for prediction_summary or {"compile": 812} for load_cold.
  std::map<std::string, double> durations_ms;
  std::optional<int64_t> count;            // predictions in a summary
  bool crash_recovered = false;            // this launch follows a guarded crash
  std::string error;                       // outcome error/crash: what happened
  std::string policy_rule;                 // Decision::matched_rule
  std::string strategy;                    // loading strategy name
  friend bool operator==(const TelemetryEvent&, const TelemetryEvent&) = default;
};

// One line of JSON, no trailing newline. Fields with default/empty values are
// omitted (except the required ones: schema, version, ts, phase, outcome).
std::string SerializeTelemetryEvent(const TelemetryEvent& event);
// Parses and validates one line (trailing '\n' / '\r' allowed). kParseError for
// non-JSON, kInvalidData for schema violations, message names the field.
Result<TelemetryEvent> ParseTelemetryLine(std::string_view line);

struct TelemetryWriterOptions {
  std::string dir;                            // created if missing
  std::string base_name = "telemetry";        // -> telemetry.jsonl
  uint64_t max_file_bytes = 1 << 20;          // rotate past this size
  int keep_files = 4;                         // current + 3 rotated; >= 1
  bool sync_each_event = false;               // fdatasync after each line
  std::function<int64_t()> now_ms;            // defaults to the system clock
};

// Thread-safe: Write may be called from any thread; lines are never
// interleaved. Movable only through the unique_ptr.
class TelemetryWriter {
 public:
  // kInvalidArgument for bad options, kIoError when dir/file cannot be opened.
  static Result<std::unique_ptr<TelemetryWriter>> Open(TelemetryWriterOptions options);
  ~TelemetryWriter();
  TelemetryWriter(const TelemetryWriter&) = delete;
  TelemetryWriter& operator=(const TelemetryWriter&) = delete;

  // Stamps ts_ms if 0, serialises, appends one line in one write(); rotates
  // first if needed. kIoError (naming the file) when the write fails; a
  // short write is reported too (the reader will skip the partial line).
  Status Write(const TelemetryEvent& event);
  // fdatasync of the current file.
  Status Sync();
  const std::string& current_path() const;

 private:
  struct Impl;
  explicit TelemetryWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The files of a telemetry directory, oldest first (rotated ones, then the
// current one). Missing files are skipped.
std::vector<std::string> TelemetryFilesInOrder(const std::string& dir,
                                               const std::string& base_name = "telemetry");

struct TelemetryReadResult {
  std::vector<TelemetryEvent> events;  // valid lines, in file order
  size_t lines_total = 0;              // non-empty lines seen
  size_t lines_skipped = 0;            // malformed / truncated
  std::vector<std::string> problems;   // "telemetry.jsonl:12: ..." per skip (first 100)
};

// Reads one file. kNotFound / kIoError only for the file itself; bad lines
// are skipped and reported in the result.
Result<TelemetryReadResult> ReadTelemetryFile(const std::string& path);
// Reads every file of a directory in order (TelemetryFilesInOrder).
Result<TelemetryReadResult> ReadTelemetryDir(const std::string& dir,
                                             const std::string& base_name = "telemetry");

}  // namespace anepilot
