// The crash guard: never let the same compute-unit configuration kill the app
// twice for the same (device, OS build, model, app version).
//
// Protocol, per risky step (a model load with one unit configuration, its
// first prediction):
//   guard.Arm(units, step);    // marker file created, flock()ed, renamed into place
//   ...the step...             // if this kills the process, the marker stays
//   guard.Disarm(units, step); // marker removed
// At the next CrashGuard::Open, every marker left by a process that is no
// longer alive (markers are flock()ed by their owner while armed, and the OS
// drops the lock when the process dies) is a step that killed its process.
// The ExitReasonProvider says why that process ended:
//   kCrash, kUnknown  -> the configuration is blocked for the marker's key
//                        (unknown counts as a crash: the safe side).
//   kUserKill         -> recorded as a user kill, never blocks.
//   kMemoryLimit      -> recorded; blocks after kMemoryKillsToBlock kills of
//                        the same (key, units), since one jetsam kill is often
//                        caused by other apps' memory pressure.
// Entries apply only to their exact key: when the OS build, model hash or app
// version changes, the configuration is tried again (re-armed).
//
// Durability contract (what survives what):
//   - Process death (SIGSEGV, abort, SIGKILL, jetsam, a hang then a kill) at
//     any instant after Arm returns: the marker is found at the next Open.
//     Arm returns only after the marker's write and rename reached the
//     kernel, and the kernel keeps those across the death of the process;
//     no fsync is needed for this, in either mode below.
//   - OS crash / power cut during the step:
//       options.deferred_sync == nullptr (immediate): Arm fsyncs the marker
//         and its directory before it returns; the marker survives.
//       options.deferred_sync set (what the runtime uses): Arm queues those
//         fsyncs and returns at once; the marker survives once the queue has
//         run them (normally a few ms into the step). An OS crash inside that
//         window can lose the marker, and the configuration may then take the
//         OS down once more before it is blocked. A caller that wants a
//         step fully durable flushes the queue after Arm (the runtime does
//         so for its background steps: runtime/step_guard.h).
//     Disarm's unlink is made durable the same way (immediately or queued);
//     losing it to a power cut leaves a stale marker that blocks a
//     configuration that did not crash (the safe side).
//   - Open rewrites the state only when it changed (a death found, entries of
//     another environment dropped, reports handed over, a corrupt file
//     replaced); that write is always fsynced before the markers it accounts
//     for are removed (exactly once, even across power loss). A launch after a
//     clean one writes nothing.
//
// Never everything blocked: cpuOnly is never blocked (a crash there is
// recorded but cannot be avoided by choosing units), so FilterChoices always
// returns at least cpuOnly.
//
// State: <state_dir>/guard.state, written atomically (temp + fsync + rename +
// fsync dir) with a SHA-256 checksum line. A corrupt or truncated state is
// moved to guard.state.corrupt, reported in load_problem(), and the guard
// starts clean. <state_dir>/guard.lock (flock) serialises processes.
//
// Thread-safety: a CrashGuard is not thread-safe; use one per model load
// sequence (or guard it with a mutex). Several processes and several guards
// (different keys) may share one state_dir.
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
#include "base/deferred_sync.h"

namespace anepilot {

// What identifies the environment a crash happened in.
struct GuardKey {
  std::string device;       // "iPhone14,7"
  std::string os_build;     // "22C152"
  std::string model_hash;   // sha256 hex of the model
  std::string app_version;  // "3.2.1 (451)"
  friend bool operator==(const GuardKey&, const GuardKey&) = default;
  friend auto operator<=>(const GuardKey&, const GuardKey&) = default;
};

enum class GuardStep : uint8_t { kLoad, kFirstPrediction };
std::string_view GuardStepName(GuardStep step);  // "load", "first_prediction"
std::optional<GuardStep> ParseGuardStep(std::string_view text);

// Why the previous process ended, as far as the platform can tell.
enum class ExitReason : uint8_t { kUnknown, kCrash, kUserKill, kMemoryLimit };
std::string_view ExitReasonName(ExitReason reason);  // "unknown", "crash", "user_kill", "memory_limit"
std::optional<ExitReason> ParseExitReason(std::string_view text);

// A marker left behind by a dead process, handed to the ExitReasonProvider.
struct DeadMarker {
  GuardKey key;
  ComputeUnits units = ComputeUnits::kCpuOnly;
  GuardStep step = GuardStep::kLoad;
  int64_t pid = 0;             // of the process that armed it
  int64_t armed_at_ms = 0;     // unix ms (from the guard's clock)
};

// The platform hook. On iOS: MetricKit (MXCrashDiagnostic, exit metrics) /
// os_proc; on macOS/Linux a test or the host injects it. Implementations must
// be callable from the thread that calls CrashGuard::Open.
class ExitReasonProvider {
 public:
  virtual ~ExitReasonProvider() = default;
  virtual ExitReason ReasonFor(const DeadMarker& marker) const = 0;
};

// Returns the same reason for every marker (tests, and hosts that only know
// "the last launch ended by X").
class FixedExitReason final : public ExitReasonProvider {
 public:
  explicit FixedExitReason(ExitReason reason) : reason_(reason) {}
  ExitReason ReasonFor(const DeadMarker&) const override { return reason_; }
 private:
  ExitReason reason_;
};

// Reasons known per dead process (e.g. from MetricKit diagnostics matched by
// pid); markers of processes it does not know get `fallback`.
class ExitReasonsByPid final : public ExitReasonProvider {
 public:
  explicit ExitReasonsByPid(std::map<int64_t, ExitReason> reasons,
                            ExitReason fallback = ExitReason::kUnknown)
      : reasons_(std::move(reasons)), fallback_(fallback) {}
  ExitReason ReasonFor(const DeadMarker& marker) const override {
    auto it = reasons_.find(marker.pid);
    return it == reasons_.end() ? fallback_ : it->second;
  }
 private:
  std::map<int64_t, ExitReason> reasons_;
  ExitReason fallback_;
};

inline constexpr int kMemoryKillsToBlock = 2;

// A configuration the guard will not try again for a key.
struct BlockedConfig {
  GuardKey key;
  ComputeUnits units = ComputeUnits::kAll;
  GuardStep step = GuardStep::kLoad;  // step that died (the last one seen)
  ExitReason reason = ExitReason::kCrash;  // kCrash/kUnknown or kMemoryLimit
  int crashes = 0;        // crash / unknown deaths recorded
  int memory_kills = 0;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
};

// A death found at Open (reported once, to the guard whose key it carries).
struct RecoveredCrash {
  DeadMarker marker;
  ExitReason reason = ExitReason::kUnknown;
  bool now_blocked = false;  // the configuration is blocked from now on
};

struct CrashGuardOptions {
  // Unix-ms clock; defaults to the system clock. Injected by tests.
  std::function<int64_t()> now_ms;
  // Optional; nullptr means every dead marker is kUnknown (counted as crash).
  // Not owned; must outlive Open().
  const ExitReasonProvider* exit_reasons = nullptr;
  // fsync files and directories (off only in tests that measure nothing
  // durable; the fault-injection test keeps it on).
  bool durable = true;
  // When set (and durable), the fsyncs of Arm and Disarm are queued here
  // instead of being waited for: see "Durability contract" above. Shared:
  // the queue must outlive every job the guard queued on it.
  std::shared_ptr<DeferredSync> deferred_sync;
};

class CrashGuard {
 public:
  // Creates `state_dir` if missing, takes the lock, reads the state (starting
  // clean if it is corrupt, see load_problem()), turns dead markers into
  // entries, drops entries whose environment (device, OS build, app version)
  // differs from `key`'s, and writes the state back.
  // Errors: kIoError when state_dir cannot be created/locked/written.
  static Result<CrashGuard> Open(const std::string& state_dir, GuardKey key,
                                 CrashGuardOptions options = {});
  // Convenience for the common case.
  static Result<CrashGuard> Open(const std::string& state_dir, GuardKey key,
                                 const ExitReasonProvider* exit_reasons) {
    CrashGuardOptions o;
    o.exit_reasons = exit_reasons;
    return Open(state_dir, std::move(key), std::move(o));
  }

  CrashGuard(CrashGuard&&) noexcept;
  CrashGuard& operator=(CrashGuard&&) noexcept;
  ~CrashGuard();  // closes armed markers' descriptors WITHOUT removing them

  const GuardKey& key() const;
  // Deaths of steps for this guard's key found since they were last reported.
  const std::vector<RecoveredCrash>& recovered() const;
  // OK, or why the state file was discarded (corrupt, truncated, checksum
  // mismatch); the guard then started clean and kept a .corrupt copy.
  const Status& load_problem() const;

  // True when `units` is blocked for this key. Never true for cpuOnly.
  bool IsBlocked(ComputeUnits units) const;
  // Entries for this key.
  std::vector<BlockedConfig> Blocked() const;
  // `choices` in order with blocked ones removed; never empty: if nothing is
  // left, {cpuOnly}.
  std::vector<ComputeUnits> FilterChoices(const std::vector<ComputeUnits>& choices) const;

  // Writes the marker for (units, step) (durable at once, or once the
  // deferred_sync queue has run; see the durability contract). kInvalidArgument if `units`
  // is blocked or the same (units, step) is already armed by this guard;
  // kIoError if the marker cannot be written (the caller should then not
  // take the risk).
  Status Arm(ComputeUnits units, GuardStep step);
  // Removes the marker. kInvalidArgument if not armed; kIoError on failure.
  Status Disarm(ComputeUnits units, GuardStep step);

 private:
  struct Impl;
  explicit CrashGuard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace anepilot
