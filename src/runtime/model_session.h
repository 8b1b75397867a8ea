// Fast first, then swap: a model served at once from the configuration that
// loads fastest, while the faster-running configuration loads (specializes) in
// the background and replaces it when it has proved itself.
//
//   Open():  loads serve_order[0] (the next on failure, skipping blocked ones)
//            and returns; predictions can start.
//   background thread: waits until the first result is out (the first
//            prediction served) or `background_start_delay` passed, so that
//            its load does not compete with the first result for the crash
//            guard's lock, the disk and the CPU; loads swap_to; waits for the
//            first input a caller
//            passes; runs it on both configurations; checks the candidate's
//            output is finite and agrees within `tolerance`; times both on that
//            input (fastest of `latency_samples` interleaved runs each); swaps when the candidate
//            is faster by at least `min_gain`.
//   swap:    the current model is a shared_ptr replaced under a mutex. A
//            prediction takes a reference before it runs, so in-flight
//            predictions finish on the old model, new ones start on the new
//            one, and the old one is unloaded when its last prediction ends.
//            No prediction is dropped or run twice.
//
// Crash guard: every load and every configuration's first prediction is armed
// before and disarmed after (so a step that kills the process blocks that
// configuration at the next launch); blocked configurations are never tried.
//
// Thread-safety: Predict may be called from any number of threads, but not
// while the session is being destroyed.
//
// Release (the destructor) is bounded: it tells the background thread to stop
// and waits for it at most `release_wait`. A background load that is still
// running then (a hung or very slow Neural Engine compile: a Core ML load
// cannot be interrupted) is abandoned, not waited for:
//   - everything that thread touches is shared with it (the backend, the step
//     guard, the session's internal state) and lives until the thread ends;
//   - the serving model is unloaded at once (the thread does not use it
//     before it has seen that the session closed);
//   - when the abandoned load finally returns, its marker is disarmed, the
//     candidate is unloaded and the thread ends, with no observer call: the
//     observer is never called after release returns;
//   - a load that never returns keeps its crash-guard marker armed until the
//     process ends; the next launch then counts it as a death of that step
//     (a hang is treated like a crash, as the watchdog would).
// The clock must outlive the thread (SystemClock() does).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "anepilot/compute_units.h"
#include "anepilot/result.h"
#include "runtime/backend.h"
#include "runtime/clock.h"
#include "runtime/step_guard.h"
#include "runtime/tensor.h"

namespace anepilot::runtime {

struct SwapOptions {
  bool enabled = true;      // false: never swap (serve from the first configuration)
  double min_gain = 0.10;   // swap when candidate latency <= current * (1 - min_gain)
  double tolerance = 1e-2;  // max relative output difference (MaxRelativeDifference)
  int latency_samples = 5;  // timed runs per configuration; the fastest counts
};

// How long release (~ModelSession) waits for the background thread before it
// abandons it (see the header comment).
inline constexpr std::chrono::milliseconds kDefaultReleaseWait{250};

enum class SwapState {
  kPending,         // the background work has not finished
  kNotAttempted,    // no candidate, swapping disabled, or candidate blocked
  kSwapped,
  kLoadFailed,      // the candidate did not load (error status)
  kPredictFailed,   // the candidate's first prediction returned an error
  kNonFinite,       // the candidate produced NaN / infinity
  kDisagrees,       // outputs differ by more than the tolerance
  kNotFaster,       // not faster by min_gain
  kCancelled,       // the session closed first
};
std::string_view SwapStateName(SwapState s);

struct SwapOutcome {
  SwapState state = SwapState::kPending;
  std::optional<ComputeUnits> candidate;
  double candidate_ms = 0;   // fastest of the timed runs (0 when not measured)
  double current_ms = 0;
  double max_difference = 0;
  Status status;             // the error behind kLoadFailed / kPredictFailed
};

// What happened, for telemetry. Called from the thread that did it.
struct SessionEvent {
  enum class Kind { kLoad, kFirstPrediction, kSwap, kFallback };
  Kind kind = Kind::kLoad;
  ComputeUnits units = ComputeUnits::kCpuAndGpu;
  std::optional<ComputeUnits> from_units;  // kSwap: previous configuration
  Nanos duration{0};
  bool cold = false;       // kLoad
  bool background = false; // kLoad / kFirstPrediction of the swap candidate
  Status status;           // non-OK: the step failed (kFallback: why)
  std::optional<SwapOutcome> swap;  // kSwap: the decision (swapped or not)
};

struct ModelSessionOptions {
  std::string compiled_model_path;
  // Configurations to serve first, fastest-loading first; blocked and failing
  // ones are skipped. Must not be empty.
  std::vector<ComputeUnits> serve_order;
  // The faster-running configuration to load in the background (ignored when
  // it is the one serving, blocked, or swap.enabled is false).
  std::optional<ComputeUnits> swap_to;
  SwapOptions swap;
  // Shared with the background thread, which may outlive the session (see
  // release above); may be null (no crash guard).
  std::shared_ptr<StepGuard> guard;
  // May be empty. Called from the thread that did the step; never after the
  // session's destructor returned.
  std::function<void(const SessionEvent&)> observer;
  Clock* clock = &SystemClock();  // not owned; must outlive the background thread
  std::chrono::milliseconds release_wait = kDefaultReleaseWait;
  // The background load starts after the first prediction has been served,
  // or after this long without one (an app that loads early and predicts
  // later still gets its candidate specialized). Small next to a Neural
  // Engine load (seconds).
  std::chrono::milliseconds background_start_delay{100};
};

class ModelSession {
 public:
  // Loads the first configuration that succeeds. Errors: kInvalidArgument for
  // an empty serve_order; otherwise the last load error when none loads
  // (kUnavailable when every configuration was blocked).
  // `backend` is shared with the background thread.
  static Result<std::unique_ptr<ModelSession>> Open(std::shared_ptr<Backend> backend,
                                                    ModelSessionOptions options);
  ~ModelSession();
  ModelSession(const ModelSession&) = delete;
  ModelSession& operator=(const ModelSession&) = delete;

  // Thread-safe. Runs exactly once on exactly one configuration.
  Result<Tensors> Predict(const Tensors& inputs);

  ComputeUnits current_units() const;
  // The swap decision so far (kPending while the background work runs).
  SwapOutcome swap_outcome() const;
  // Blocks until the swap decision is made; returns it.
  SwapOutcome WaitForSwapDecision();
  // Predictions served so far by each configuration (index: ComputeUnits).
  int64_t served(ComputeUnits units) const;

 private:
  struct Impl;  // everything the background thread touches, shared with it
  explicit ModelSession(std::shared_ptr<Impl> impl);

  std::shared_ptr<Impl> impl_;
  std::thread background_;
};

}  // namespace anepilot::runtime
