#include "runtime/runtime_core.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "runtime/content_hash_cache.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;

bool IsCompiledModel(const std::string& path) {
  return fs::path(path).extension() == ".mlmodelc";
}

std::vector<ComputeUnits> Units(const std::vector<UnitChoice>& choices) {
  std::vector<ComputeUnits> out;
  for (const UnitChoice& c : choices) out.push_back(c.units);
  return out;
}

void AddUnique(std::vector<ComputeUnits>& list, ComputeUnits u) {
  for (ComputeUnits x : list) {
    if (x == u) return;
  }
  list.push_back(u);
}

// Everything a telemetry event of one model carries besides its phase.
TelemetryEvent ModelEvent(const RuntimeOptions& o, const std::string& hash, const std::string& name,
                          const Decision& decision) {
  TelemetryEvent e;
  e.session = o.session_id;
  e.device = o.device.device;
  e.os_version = o.device.os_version;
  e.os_build = o.device.os_build;
  e.app_version = o.app_version;
  e.model_hash = hash;
  e.model_name = name;
  e.policy_rule = decision.matched_rule;
  e.strategy = std::string(LoadingStrategyName(decision.loading.strategy));
  return e;
}

TelemetryEvent FromSessionEvent(TelemetryEvent e, const SessionEvent& s, bool crash_recovered) {
  e.units = s.units;
  e.crash_recovered = crash_recovered;
  e.duration_ms = ToMillis(s.duration);
  e.outcome = s.status.ok() ? TelemetryOutcome::kOk : TelemetryOutcome::kError;
  if (!s.status.ok()) e.error = s.status.ToString();
  if (s.background) e.durations_ms["background"] = 1;
  switch (s.kind) {
    case SessionEvent::Kind::kLoad:
      e.phase = s.cold || !s.status.ok() ? TelemetryPhase::kLoadCold : TelemetryPhase::kLoadWarm;
      break;
    case SessionEvent::Kind::kFirstPrediction:
      e.phase = TelemetryPhase::kFirstPrediction;
      break;
    case SessionEvent::Kind::kFallback:
      e.phase = TelemetryPhase::kFallback;
      e.duration_ms.reset();
      break;
    case SessionEvent::Kind::kSwap: {
      e.phase = TelemetryPhase::kSwap;
      e.from_units = s.from_units;
      const SwapOutcome& o = *s.swap;
      if (o.candidate_ms > 0) e.durations_ms["candidate_latency"] = o.candidate_ms;
      if (o.current_ms > 0) e.durations_ms["current_latency"] = o.current_ms;
      if (o.state == SwapState::kSwapped) {
        e.outcome = TelemetryOutcome::kOk;
      } else {
        e.outcome = TelemetryOutcome::kError;
        e.error = "declined: " + std::string(SwapStateName(o.state));
        if (!o.status.ok()) e.error += ": " + o.status.ToString();
        e.duration_ms.reset();
      }
      break;
    }
  }
  return e;
}

}  // namespace

struct RuntimeCore::Prepared {
  std::string hash;
  std::string name;
  std::string compiled_path;
  Decision decision;
  std::shared_ptr<CrashGuardSteps> guard;
  std::vector<RecoveredCrash> recovered;
  std::vector<ComputeUnits> allowed;  // decision's choices minus blocked ones
};

RuntimeCore::RuntimeCore(RuntimeOptions options) : options_(std::move(options)) {}
RuntimeCore::~RuntimeCore() = default;
RuntimeModel::~RuntimeModel() { session_.reset(); }

Result<std::unique_ptr<RuntimeCore>> RuntimeCore::Create(RuntimeOptions options) {
  if (!options.backend) return InvalidArgument("runtime: no backend given");
  if (options.state_dir.empty()) return InvalidArgument("runtime: state_dir is empty");
  std::unique_ptr<RuntimeCore> core(new RuntimeCore(std::move(options)));
  const RuntimeOptions& o = core->options_;
  std::error_code ec;
  fs::create_directories(o.state_dir + "/compile", ec);
  if (ec) return IoError(o.state_dir + ": cannot create runtime state directory: " + ec.message());

  if (!o.policy_path.empty()) {
    PolicyLoad load = LoadPolicyOrSafeDefault(o.policy_path);
    core->policy_ = std::move(load.index);
    core->policy_status_ = load.status;
  }
  if (o.defer_fsync) core->deferred_sync_ = std::make_shared<DeferredSync>();
  CompiledModelStoreOptions store_options{o.state_dir + "/store", o.store_byte_budget, o.protect_path};
  store_options.deferred_sync = core->deferred_sync_;
  ANEPILOT_ASSIGN_OR_RETURN(CompiledModelStore store, CompiledModelStore::Open(std::move(store_options)));
  core->store_.emplace(std::move(store));
  if (o.telemetry) {
    TelemetryWriterOptions t;
    t.dir = o.state_dir + "/telemetry";
    t.max_file_bytes = o.telemetry_max_file_bytes;
    ANEPILOT_ASSIGN_OR_RETURN(core->telemetry_, TelemetryWriter::Open(t));
  }
  TelemetryEvent policy_event = ModelEvent(o, "", "", Decision{});
  policy_event.phase = TelemetryPhase::kPolicy;
  policy_event.strategy.clear();
  if (!core->policy_status_.ok()) {
    policy_event.outcome = TelemetryOutcome::kError;
    policy_event.error = core->policy_status_.ToString() + " (using the safe default)";
  }
  (void)core->Record(policy_event);
  return core;
}

Status RuntimeCore::Record(TelemetryEvent event) {
  if (!telemetry_) return Status::Ok();
  return telemetry_->Write(event);
}

Decision RuntimeCore::Decide(const std::string& model_hash) const {
  Decision d = policy_.Decide(options_.device, model_hash);
  if (options_.policy_override) d = ApplyOverride(d, *options_.policy_override);
  return d;
}

Result<std::string> RuntimeCore::CompileIntoStore(const std::string& path, const std::string& key,
                                                  const std::string& name) {
  auto stored = store_->Lookup(key, name);
  if (stored.ok() || stored.status().code() != StatusCode::kNotFound) return stored;
  if (IsCompiledModel(path)) return store_->InstallDirectory(key, name, path);
  static std::atomic<unsigned> counter{0};
  const std::string temp = options_.state_dir + "/compile/" + std::to_string(::getpid()) + "-" +
                           std::to_string(counter.fetch_add(1));
  auto compiled = options_.backend->Compile(path, temp);
  // The compile output is ours: moved into the store, not copied.
  Result<std::string> installed = compiled.ok() ? store_->InstallDirectoryByMove(key, name, *compiled)
                                                : Result<std::string>(compiled.status());
  // The (now empty) compile directory is not needed for the first result.
  auto remove_temp = [temp]() -> Status {
    std::error_code ec;
    fs::remove_all(temp, ec);
    return Status::Ok();
  };
  if (deferred_sync_) {
    deferred_sync_->Run(std::move(remove_temp));
  } else {
    (void)remove_temp();
  }
  return installed;
}

Result<RuntimeCore::Prepared> RuntimeCore::Prepare(const std::string& path, const std::string& name_in) {
  Prepared p;
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound(path + ": model not found");
  p.name = name_in.empty() ? fs::path(path).stem().string() : name_in;
  ANEPILOT_ASSIGN_OR_RETURN(p.hash, CachedContentHash(path, options_.state_dir + "/content-hashes.json"));
  ANEPILOT_ASSIGN_OR_RETURN(p.compiled_path, CompileIntoStore(path, p.hash, p.name));

  GuardKey key{options_.device.device, options_.device.os_build, p.hash, options_.app_version};
  CrashGuardOptions guard_options;
  guard_options.exit_reasons = options_.exit_reasons;
  guard_options.deferred_sync = deferred_sync_;
  {
    std::lock_guard<std::mutex> lock(guard_open_mu_);
    ANEPILOT_ASSIGN_OR_RETURN(CrashGuard guard,
                              CrashGuard::Open(options_.state_dir + "/guard", key, std::move(guard_options)));
    p.recovered = guard.recovered();
    p.guard = std::make_shared<CrashGuardSteps>(std::move(guard), deferred_sync_);
  }
  p.decision = Decide(p.hash);
  p.allowed = p.guard->With([&](const CrashGuard& g) { return g.FilterChoices(Units(p.decision.choices)); });

  TelemetryEvent base = ModelEvent(options_, p.hash, p.name, p.decision);
  for (const RecoveredCrash& r : p.recovered) {
    TelemetryEvent e = base;
    e.phase = TelemetryPhase::kCrashRecovered;
    e.outcome = TelemetryOutcome::kCrash;
    e.units = r.marker.units;
    e.crash_recovered = true;
    e.error = std::string(GuardStepName(r.marker.step)) + " killed process " +
              std::to_string(r.marker.pid) + " (" + std::string(ExitReasonName(r.reason)) + ")" +
              (r.now_blocked ? "; configuration blocked" : "");
    (void)Record(e);
  }
  return p;
}

Result<std::unique_ptr<RuntimeModel>> RuntimeCore::LoadModel(const std::string& path, const std::string& name) {
  ANEPILOT_ASSIGN_OR_RETURN(Prepared p, Prepare(path, name));
  std::unique_ptr<RuntimeModel> model(new RuntimeModel());
  model->model_hash_ = p.hash;
  model->compiled_path_ = p.compiled_path;
  model->decision_ = p.decision;
  model->recovered_ = p.recovered;
  model->backend_ = options_.backend;
  model->telemetry_ = telemetry_;
  model->guard_ = std::move(p.guard);

  ModelSessionOptions s;
  s.compiled_model_path = p.compiled_path;
  s.guard = model->guard_;
  s.clock = options_.clock;
  s.swap = options_.swap;
  s.release_wait = options_.release_wait;
  const LoadingPlan& plan = p.decision.loading;
  if (plan.strategy == LoadingStrategy::kFastFirstThenSwap && plan.serve_first && plan.swap_to) {
    s.serve_order.push_back(*plan.serve_first);
    s.swap_to = plan.swap_to;
    s.swap.min_gain = plan.swap_min_gain;
  }
  for (ComputeUnits u : p.allowed) {
    if (!s.swap_to || u != *s.swap_to) AddUnique(s.serve_order, u);
  }
  if (s.serve_order.empty()) s.serve_order.push_back(ComputeUnits::kCpuOnly);

  const bool recovered = !p.recovered.empty();
  std::shared_ptr<TelemetryWriter> telemetry = telemetry_;
  TelemetryEvent base = ModelEvent(options_, p.hash, p.name, p.decision);
  s.observer = [telemetry, base, recovered](const SessionEvent& event) {
    if (telemetry) (void)telemetry->Write(FromSessionEvent(base, event, recovered));
  };
  ANEPILOT_ASSIGN_OR_RETURN(model->session_, ModelSession::Open(options_.backend, std::move(s)));
  return model;
}

std::unique_ptr<Prewarmer> RuntimeCore::Prewarm(std::vector<std::string> paths, Prewarmer::ProgressFn progress) {
  return std::make_unique<Prewarmer>(
      std::move(paths),
      [this](const std::string& path) -> Status {
        auto prepared = Prepare(path, "");
        if (!prepared.ok()) {
          TelemetryEvent e = ModelEvent(options_, "", fs::path(path).stem().string(), Decision{});
          e.phase = TelemetryPhase::kPrewarm;
          e.strategy.clear();
          e.outcome = TelemetryOutcome::kError;
          e.error = prepared.status().ToString();
          (void)Record(e);
          return prepared.status();
        }
        Prepared p = std::move(prepared).value();
        // The configuration worth specializing ahead: the one the model will
        // end up on (swap_to), else the best allowed choice.
        std::vector<ComputeUnits> order;
        const LoadingPlan& plan = p.decision.loading;
        if (plan.swap_to && !p.guard->IsBlocked(*plan.swap_to)) order.push_back(*plan.swap_to);
        for (ComputeUnits u : p.allowed) AddUnique(order, u);
        ModelSessionOptions s;
        s.compiled_model_path = p.compiled_path;
        s.serve_order = order;
        s.swap.enabled = false;
        s.guard = p.guard;
        s.clock = options_.clock;
        s.release_wait = options_.release_wait;
        TelemetryEvent e = ModelEvent(options_, p.hash, p.name, p.decision);
        e.phase = TelemetryPhase::kPrewarm;
        const Nanos start = options_.clock->Now();
        auto session = ModelSession::Open(options_.backend, std::move(s));
        e.duration_ms = ToMillis(options_.clock->Now() - start);
        if (session.ok()) {
          e.units = (*session)->current_units();
        } else {
          e.outcome = TelemetryOutcome::kError;
          e.error = session.status().ToString();
        }
        (void)Record(e);
        return session.ok() ? Status::Ok() : session.status();
      },
      std::move(progress));
}

Result<std::vector<BlockedConfig>> RuntimeCore::BlockedFor(const std::string& model_hash) {
  GuardKey key{options_.device.device, options_.device.os_build, model_hash, options_.app_version};
  std::lock_guard<std::mutex> lock(guard_open_mu_);
  CrashGuardOptions guard_options;
  guard_options.exit_reasons = options_.exit_reasons;
  ANEPILOT_ASSIGN_OR_RETURN(CrashGuard guard,
                            CrashGuard::Open(options_.state_dir + "/guard", key, std::move(guard_options)));
  return guard.Blocked();
}

}  // namespace anepilot::runtime
