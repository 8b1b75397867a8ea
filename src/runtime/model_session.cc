#include "runtime/model_session.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>

namespace anepilot::runtime {
namespace {

// One loaded configuration. The first prediction on it is guarded (armed,
// validated) exactly once, whichever thread gets there first.
struct Slot {
  std::unique_ptr<LoadedModel> model;
  std::mutex first_mu;
  std::atomic<bool> first_done{false};
};

}  // namespace

// The session's state. The background thread holds a shared_ptr to it, so
// everything it touches (this, the backend, the guard) lives until it ends,
// even when release abandoned it.
struct ModelSession::Impl {
  Impl(std::shared_ptr<Backend> b, ModelSessionOptions o) : backend(std::move(b)), options(std::move(o)) {}

  Result<std::shared_ptr<Slot>> LoadGuarded(ComputeUnits units, bool background);
  Result<Tensors> FirstPrediction(Slot& slot, const Tensors& inputs, bool background);
  std::shared_ptr<Slot> Current() const;
  Result<Tensors> Predict(const Tensors& inputs);
  void Background();
  void Decide(SwapOutcome outcome);
  void Emit(const SessionEvent& event) const;
  bool Closing();

  std::shared_ptr<Backend> backend;
  ModelSessionOptions options;

  mutable std::mutex current_mu;
  std::shared_ptr<Slot> current;  // guarded by current_mu; null once abandoned

  std::mutex sample_mu;
  std::condition_variable sample_cv;
  std::optional<Tensors> sample;  // first input seen; guarded by sample_mu
  bool closing = false;           // guarded by sample_mu
  bool first_result = false;      // a first prediction was served; guarded by sample_mu
  std::atomic<bool> have_sample{false};

  mutable std::mutex outcome_mu;
  std::condition_variable outcome_cv;
  SwapOutcome outcome;  // guarded by outcome_mu

  // Emit holds it while it calls the observer; release sets `released` under
  // it, so no observer call starts after release returned.
  mutable std::mutex emit_mu;
  bool released = false;  // guarded by emit_mu

  std::mutex done_mu;
  std::condition_variable done_cv;
  bool background_done = false;  // guarded by done_mu

  std::atomic<int64_t> served[4] = {};
};

std::string_view SwapStateName(SwapState s) {
  switch (s) {
    case SwapState::kPending: return "pending";
    case SwapState::kNotAttempted: return "not_attempted";
    case SwapState::kSwapped: return "swapped";
    case SwapState::kLoadFailed: return "load_failed";
    case SwapState::kPredictFailed: return "predict_failed";
    case SwapState::kNonFinite: return "non_finite";
    case SwapState::kDisagrees: return "disagrees";
    case SwapState::kNotFaster: return "not_faster";
    case SwapState::kCancelled: return "cancelled";
  }
  return "pending";
}

ModelSession::ModelSession(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<ModelSession>> ModelSession::Open(std::shared_ptr<Backend> backend,
                                                         ModelSessionOptions options) {
  if (!backend) return InvalidArgument("model session: no backend");
  if (options.serve_order.empty()) return InvalidArgument("model session: serve_order is empty");
  auto impl = std::make_shared<Impl>(std::move(backend), std::move(options));
  Status last = Unavailable("every configuration in serve_order is blocked by the crash guard");
  for (ComputeUnits units : impl->options.serve_order) {
    auto slot = impl->LoadGuarded(units, /*background=*/false);
    if (slot.ok()) {
      impl->current = std::move(slot).value();
      last = Status::Ok();
      break;
    }
    last = slot.status();
  }
  if (!last.ok()) return last.WithContext(impl->options.compiled_model_path);

  std::unique_ptr<ModelSession> session(new ModelSession(impl));
  const ComputeUnits serving = impl->current->model->units();
  const auto& swap_to = impl->options.swap_to;
  if (!impl->options.swap.enabled || !swap_to || *swap_to == serving) {
    impl->outcome.state = SwapState::kNotAttempted;
  } else if (impl->options.guard && impl->options.guard->IsBlocked(*swap_to)) {
    impl->outcome.state = SwapState::kNotAttempted;
    impl->outcome.candidate = swap_to;
    impl->outcome.status = Unavailable(std::string(ComputeUnitsName(*swap_to)) +
                                       " is blocked by the crash guard");
  } else {
    impl->outcome.candidate = swap_to;
    session->background_ = std::thread([impl] {
      impl->Background();
      {
        std::lock_guard<std::mutex> lock(impl->done_mu);
        impl->background_done = true;
      }
      impl->done_cv.notify_all();
    });
  }
  return session;
}

ModelSession::~ModelSession() {
  {
    std::lock_guard<std::mutex> lock(impl_->sample_mu);
    impl_->closing = true;
  }
  impl_->sample_cv.notify_all();
  if (!background_.joinable()) return;
  bool finished;
  {
    std::unique_lock<std::mutex> lock(impl_->done_mu);
    finished = impl_->done_cv.wait_for(lock, impl_->options.release_wait,
                                       [&] { return impl_->background_done; });
  }
  if (finished) {
    background_.join();
    return;
  }
  // Abandon it: it keeps `impl_` (and through it the backend and the guard)
  // alive; no observer call from now on; the serving model goes now.
  {
    std::lock_guard<std::mutex> lock(impl_->emit_mu);
    impl_->released = true;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->current_mu);
    impl_->current.reset();
  }
  background_.detach();
}

void ModelSession::Impl::Emit(const SessionEvent& event) const {
  std::lock_guard<std::mutex> lock(emit_mu);
  if (!released && options.observer) options.observer(event);
}

bool ModelSession::Impl::Closing() {
  std::lock_guard<std::mutex> lock(sample_mu);
  return closing;
}

Result<std::shared_ptr<Slot>> ModelSession::Impl::LoadGuarded(ComputeUnits units, bool background) {
  StepGuard* guard = options.guard.get();
  SessionEvent event;
  event.units = units;
  event.background = background;
  if (guard && guard->IsBlocked(units)) {
    event.kind = SessionEvent::Kind::kFallback;
    event.status = Unavailable(std::string(ComputeUnitsName(units)) + " is blocked by the crash guard");
    Emit(event);
    return event.status;
  }
  if (guard) {
    Status armed = guard->Arm(units, GuardStep::kLoad);
    if (!armed.ok()) {
      event.kind = SessionEvent::Kind::kFallback;
      event.status = armed;
      Emit(event);
      return armed;
    }
    if (background) guard->WaitUntilDurable();
  }
  const Nanos start = options.clock->Now();
  auto loaded = backend->Load(LoadRequest{options.compiled_model_path, units});
  event.duration = options.clock->Now() - start;
  // The step returned (it did not kill the process): the marker's job is done
  // whether it succeeded or failed.
  if (guard) {
    Status disarmed = guard->Disarm(units, GuardStep::kLoad);
    if (!disarmed.ok() && loaded.ok()) loaded = disarmed;
  }
  event.kind = SessionEvent::Kind::kLoad;
  if (!loaded.ok()) {
    event.status = loaded.status();
    Emit(event);
    return loaded.status();
  }
  event.cold = (*loaded)->load_timings().cold;
  Emit(event);
  auto slot = std::make_shared<Slot>();
  slot->model = std::move(loaded).value();
  return slot;
}

Result<Tensors> ModelSession::Impl::FirstPrediction(Slot& slot, const Tensors& inputs, bool background) {
  const ComputeUnits units = slot.model->units();
  StepGuard* guard = options.guard.get();
  if (guard) {
    ANEPILOT_RETURN_IF_ERROR(guard->Arm(units, GuardStep::kFirstPrediction));
    if (background) guard->WaitUntilDurable();
  }
  const Nanos start = options.clock->Now();
  auto out = slot.model->Predict(inputs);
  SessionEvent event;
  event.kind = SessionEvent::Kind::kFirstPrediction;
  event.units = units;
  event.background = background;
  event.duration = options.clock->Now() - start;
  if (guard) {
    Status disarmed = guard->Disarm(units, GuardStep::kFirstPrediction);
    if (!disarmed.ok() && out.ok()) out = disarmed;
  }
  if (!out.ok()) event.status = out.status();
  Emit(event);
  return out;
}

std::shared_ptr<Slot> ModelSession::Impl::Current() const {
  std::lock_guard<std::mutex> lock(current_mu);
  return current;
}

ComputeUnits ModelSession::current_units() const { return impl_->Current()->model->units(); }

int64_t ModelSession::served(ComputeUnits units) const {
  return impl_->served[static_cast<size_t>(units)].load();
}

Result<Tensors> ModelSession::Predict(const Tensors& inputs) { return impl_->Predict(inputs); }

Result<Tensors> ModelSession::Impl::Predict(const Tensors& inputs) {
  // The configuration is chosen before the input is handed to the background
  // validation, so the request that supplies the sample is served by what was
  // serving when it arrived (not by a candidate swapped in meanwhile).
  std::shared_ptr<Slot> slot = Current();
  if (!have_sample.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(sample_mu);
    if (!sample) {
      sample = inputs;
      have_sample.store(true, std::memory_order_release);
      sample_cv.notify_all();
    }
  }
  served[static_cast<size_t>(slot->model->units())].fetch_add(1, std::memory_order_relaxed);
  if (!slot->first_done.load(std::memory_order_acquire)) {
    std::unique_lock<std::mutex> lock(slot->first_mu);
    if (!slot->first_done.load(std::memory_order_relaxed)) {
      auto out = FirstPrediction(*slot, inputs, /*background=*/false);
      // Only a prediction that came back marks the step done; after an error
      // the next caller arms and tries again.
      if (out.ok()) {
        slot->first_done.store(true, std::memory_order_release);
        {
          std::lock_guard<std::mutex> sample_lock(sample_mu);
          first_result = true;
        }
        sample_cv.notify_all();
      }
      return out;
    }
  }
  return slot->model->Predict(inputs);
}

namespace {

// One timed prediction, in ms.
Result<double> TimedPredictMs(LoadedModel& model, const Tensors& input, Clock& clock) {
  const Nanos start = clock.Now();
  auto out = model.Predict(input);
  if (!out.ok()) return out.status();
  return ToMillis(clock.Now() - start);
}

struct LatencyPair {
  double candidate_ms = 0;
  double current_ms = 0;
};

// The fastest of `n` runs of each model on `input`, the runs interleaved
// (candidate, current, candidate, ...) so that both see the same machine
// conditions. The minimum, not the mean or median: scheduling noise only ever
// adds time, so the fastest run is the best estimate of what each can do.
Result<LatencyPair> CompareLatency(LoadedModel& candidate, LoadedModel& current, const Tensors& input, int n,
                                   Clock& clock) {
  LatencyPair best;
  for (int i = 0; i < std::max(1, n); ++i) {
    ANEPILOT_ASSIGN_OR_RETURN(double cand, TimedPredictMs(candidate, input, clock));
    ANEPILOT_ASSIGN_OR_RETURN(double cur, TimedPredictMs(current, input, clock));
    best.candidate_ms = i == 0 ? cand : std::min(best.candidate_ms, cand);
    best.current_ms = i == 0 ? cur : std::min(best.current_ms, cur);
  }
  return best;
}

}  // namespace

void ModelSession::Impl::Decide(SwapOutcome decided) {
  {
    std::lock_guard<std::mutex> lock(outcome_mu);
    outcome = decided;
  }
  outcome_cv.notify_all();
}

void ModelSession::Impl::Background() {
  const ComputeUnits target = *options.swap_to;
  SwapOutcome outcome;
  outcome.candidate = target;
  {
    std::unique_lock<std::mutex> lock(sample_mu);
    sample_cv.wait_for(lock, options.background_start_delay, [&] { return closing || first_result; });
    if (closing) {
      outcome.state = SwapState::kCancelled;
      Decide(outcome);
      return;
    }
  }

  auto loaded = LoadGuarded(target, /*background=*/true);
  if (!loaded.ok()) {
    outcome.state = SwapState::kLoadFailed;
    outcome.status = loaded.status();
    Decide(outcome);
    return;
  }
  std::shared_ptr<Slot> candidate = std::move(loaded).value();

  Tensors input;
  {
    std::unique_lock<std::mutex> lock(sample_mu);
    sample_cv.wait(lock, [&] { return closing || sample.has_value(); });
    if (closing) {
      outcome.state = SwapState::kCancelled;
      Decide(outcome);
      return;
    }
    input = *sample;
  }

  // Null when release abandoned this thread meanwhile (the serving model is
  // gone): nothing left to validate against.
  std::shared_ptr<Slot> serving = Current();
  if (!serving || Closing()) {
    outcome.state = SwapState::kCancelled;
    Decide(outcome);
    return;
  }
  auto reference = serving->model->Predict(input);
  auto first = FirstPrediction(*candidate, input, /*background=*/true);
  if (!first.ok() || !reference.ok()) {
    outcome.state = SwapState::kPredictFailed;
    outcome.status = first.ok() ? reference.status() : first.status();
  } else if (!AllFinite(*first)) {
    outcome.state = SwapState::kNonFinite;
  } else {
    outcome.max_difference = MaxRelativeDifference(*reference, *first);
    if (!(outcome.max_difference <= options.swap.tolerance)) {
      outcome.state = SwapState::kDisagrees;
    } else {
      auto timed = CompareLatency(*candidate->model, *serving->model, input, options.swap.latency_samples,
                                  *options.clock);
      if (!timed.ok()) {
        outcome.state = SwapState::kPredictFailed;
        outcome.status = timed.status();
      } else {
        outcome.candidate_ms = timed->candidate_ms;
        outcome.current_ms = timed->current_ms;
        outcome.state = timed->candidate_ms <= timed->current_ms * (1.0 - options.swap.min_gain)
                            ? SwapState::kSwapped
                            : SwapState::kNotFaster;
      }
    }
  }
  candidate->first_done.store(true, std::memory_order_release);

  SessionEvent event;
  event.kind = SessionEvent::Kind::kSwap;
  event.units = target;
  event.from_units = serving->model->units();
  event.swap = outcome;
  if (outcome.state == SwapState::kSwapped) {
    const Nanos start = options.clock->Now();
    {
      std::lock_guard<std::mutex> lock(current_mu);
      // Not after an abandoning release (current is null then): the session
      // is gone and the candidate is dropped with this thread.
      if (this->current) this->current = candidate;
    }
    event.duration = options.clock->Now() - start;
  }
  // `serving` (and `candidate` when rejected) are released here or when the
  // last in-flight prediction holding them ends: that unloads them.
  Emit(event);
  Decide(outcome);
}

SwapOutcome ModelSession::swap_outcome() const {
  std::lock_guard<std::mutex> lock(impl_->outcome_mu);
  return impl_->outcome;
}

SwapOutcome ModelSession::WaitForSwapDecision() {
  std::unique_lock<std::mutex> lock(impl_->outcome_mu);
  impl_->outcome_cv.wait(lock, [&] { return impl_->outcome.state != SwapState::kPending; });
  return impl_->outcome;
}

}  // namespace anepilot::runtime
