// The runtime orchestrator: for each model it ties together the policy (which
// configurations, which loading strategy), the crash guard (skip what killed
// the app before, arm around risky steps), the compiled-model store (a stable
// path so the system's specialization cache hits), a backend and the
// fast-first-then-swap session, and reports each step as a telemetry event.
//
// This is the C++ core behind the C API (include/anepilot/runtime.h); apps use
// that API, or runtime.hpp over it.
//
// Per LoadModel(path):
//   1. key = SHA-256 of the model's content (file, or directory files),
//      remembered in <state_dir>/content-hashes.json while the files' metadata
//      do not change (see content_hash_cache.h);
//   2. compiled path = store entry for key, else backend Compile into a temp
//      directory and install it in the store;
//   3. CrashGuard::Open for (device, OS build, key, app version): markers left
//      by a process that died become blocked configurations (one telemetry
//      event "crash_recovered" each);
//   4. Decision from the policy (or the local override), blocked ones removed
//      by the guard (cpuOnly always remains);
//   5. ModelSession: fast_first_then_swap serves `serve_first` and swaps to
//      `swap_to`; single / prewarm serve choices in order.
//
// Thread-safety: LoadModel and Prewarm may be called from several threads.
// A RuntimeModel's Predict may be called from several threads. A RuntimeModel
// may outlive its RuntimeCore (it shares the backend and telemetry writer).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "anepilot/policy.h"
#include "anepilot/result.h"
#include "guard/crash_guard.h"
#include "runtime/backend.h"
#include "runtime/clock.h"
#include "runtime/compiled_model_store.h"
#include "runtime/crash_guard_steps.h"
#include "runtime/model_session.h"
#include "runtime/prewarm.h"
#include "telemetry/telemetry.h"

namespace anepilot::runtime {

struct RuntimeOptions {
  DeviceContext device;     // identifier, chip, OS version and build
  std::string app_version;  // part of the crash guard's key
  // <state_dir>/guard (crash guard), <state_dir>/store (compiled models),
  // <state_dir>/telemetry (events), <state_dir>/compile (temp compiles).
  std::string state_dir;
  std::string policy_path;  // empty: the safe default policy
  std::optional<PolicyOverride> policy_override;
  std::shared_ptr<Backend> backend;  // required; shared with the models
  SwapOptions swap;                  // min_gain is replaced by the policy's swap_min_gain
  uint64_t store_byte_budget = uint64_t{2} << 30;
  std::function<Status(const std::string& path)> protect_path;  // store hook
  const ExitReasonProvider* exit_reasons = nullptr;  // not owned
  bool telemetry = true;
  uint64_t telemetry_max_file_bytes = 1 << 20;
  std::string session_id;  // tags telemetry events of this launch
  Clock* clock = &SystemClock();
  // The fsyncs of crash-guard markers and of compiled-model store installs
  // run on a background DeferredSync queue instead of on the way to the first
  // result. Nothing is weaker against the death of the process (markers and
  // entries are in the kernel's page cache before the step starts); against an
  // OS crash or power cut in the first milliseconds of a step, see
  // crash_guard.h and compiled_model_store.h ("durability"). false: waited for.
  bool defer_fsync = true;
  // How long releasing a model waits for its background load before
  // abandoning it (ModelSessionOptions::release_wait).
  std::chrono::milliseconds release_wait = kDefaultReleaseWait;
};

class RuntimeModel;

class RuntimeCore {
 public:
  // Errors: kInvalidArgument (no backend, no state_dir), kIoError (state
  // directories). A malformed policy is not an error: the safe default is used
  // and policy_status() says why.
  static Result<std::unique_ptr<RuntimeCore>> Create(RuntimeOptions options);
  ~RuntimeCore();

  // Loads a model (.mlmodel / .mlpackage / .mlmodelc; for the simulated
  // backend any file). Returns once the first configuration serves.
  // `name` names the compiled model in the store (default: the file stem).
  Result<std::unique_ptr<RuntimeModel>> LoadModel(const std::string& path, const std::string& name = "");

  // Starts specializing `paths` one at a time in the background with each
  // model's best allowed configuration; see Prewarmer.
  std::unique_ptr<Prewarmer> Prewarm(std::vector<std::string> paths,
                                     Prewarmer::ProgressFn progress = {});

  const Status& policy_status() const { return policy_status_; }
  // Blocked configurations recorded for a model (by content hash).
  Result<std::vector<BlockedConfig>> BlockedFor(const std::string& model_hash);
  // Time to decide units for a model, for the benchmark (policy + override).
  Decision Decide(const std::string& model_hash) const;
  Backend& backend() { return *options_.backend; }
  CompiledModelStore& store() { return *store_; }

  // Appends one telemetry event (device fields filled in). Errors are not
  // fatal to the caller; they are returned for tests.
  Status Record(TelemetryEvent event);

 private:
  struct Prepared;
  explicit RuntimeCore(RuntimeOptions options);
  Result<Prepared> Prepare(const std::string& path, const std::string& name);
  Result<std::string> CompileIntoStore(const std::string& path, const std::string& key,
                                       const std::string& name);

  RuntimeOptions options_;
  PolicyIndex policy_;
  Status policy_status_;
  std::shared_ptr<DeferredSync> deferred_sync_;  // null unless options_.defer_fsync
  std::optional<CompiledModelStore> store_;
  std::shared_ptr<TelemetryWriter> telemetry_;
  std::mutex guard_open_mu_;  // CrashGuard::Open for one key at a time
};

// A loaded model. Predict is thread-safe.
class RuntimeModel {
 public:
  ~RuntimeModel();
  Result<Tensors> Predict(const Tensors& inputs) { return session_->Predict(inputs); }
  ComputeUnits current_units() const { return session_->current_units(); }
  SwapOutcome WaitForSwapDecision() { return session_->WaitForSwapDecision(); }
  SwapOutcome swap_outcome() const { return session_->swap_outcome(); }
  const std::string& model_hash() const { return model_hash_; }
  const std::string& compiled_path() const { return compiled_path_; }
  const Decision& decision() const { return decision_; }
  // Crashes found at load that this launch recovered from (blocked since).
  const std::vector<RecoveredCrash>& recovered() const { return recovered_; }

 private:
  friend class RuntimeCore;
  RuntimeModel() = default;
  std::string model_hash_;
  std::string compiled_path_;
  Decision decision_;
  std::vector<RecoveredCrash> recovered_;
  std::shared_ptr<Backend> backend_;
  std::shared_ptr<TelemetryWriter> telemetry_;
  std::shared_ptr<CrashGuardSteps> guard_;   // shared with the session's background thread
  std::unique_ptr<ModelSession> session_;  // destroyed before guard_
};

}  // namespace anepilot::runtime
