#include "runtime/model_session.h"

#include <algorithm>

namespace anepilot::runtime {

// One loaded configuration. The first prediction on it is guarded (armed,
// validated) exactly once, whichever thread gets there first.
struct ModelSession::Slot {
  std::unique_ptr<LoadedModel> model;
  std::mutex first_mu;
  std::atomic<bool> first_done{false};
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

ModelSession::ModelSession(Backend* backend, ModelSessionOptions options)
    : backend_(backend), options_(std::move(options)) {}

Result<std::unique_ptr<ModelSession>> ModelSession::Open(Backend* backend, ModelSessionOptions options) {
  if (options.serve_order.empty()) return InvalidArgument("model session: serve_order is empty");
  std::unique_ptr<ModelSession> session(new ModelSession(backend, std::move(options)));
  Status last = Unavailable("every configuration in serve_order is blocked by the crash guard");
  for (ComputeUnits units : session->options_.serve_order) {
    auto slot = session->LoadGuarded(units, /*background=*/false);
    if (slot.ok()) {
      session->current_ = std::move(slot).value();
      last = Status::Ok();
      break;
    }
    last = slot.status();
  }
  if (!last.ok()) return last.WithContext(session->options_.compiled_model_path);

  const ComputeUnits serving = session->current_->model->units();
  const auto& swap_to = session->options_.swap_to;
  if (!session->options_.swap.enabled || !swap_to || *swap_to == serving) {
    session->outcome_.state = SwapState::kNotAttempted;
  } else if (session->options_.guard && session->options_.guard->IsBlocked(*swap_to)) {
    session->outcome_.state = SwapState::kNotAttempted;
    session->outcome_.candidate = swap_to;
    session->outcome_.status = Unavailable(std::string(ComputeUnitsName(*swap_to)) +
                                           " is blocked by the crash guard");
  } else {
    session->outcome_.candidate = swap_to;
    session->background_ = std::thread([s = session.get()] { s->Background(); });
  }
  return session;
}

ModelSession::~ModelSession() {
  {
    std::lock_guard<std::mutex> lock(sample_mu_);
    closing_ = true;
  }
  sample_cv_.notify_all();
  if (background_.joinable()) background_.join();
}

void ModelSession::Emit(const SessionEvent& event) const {
  if (options_.observer) options_.observer(event);
}

Result<std::shared_ptr<ModelSession::Slot>> ModelSession::LoadGuarded(ComputeUnits units, bool background) {
  StepGuard* guard = options_.guard;
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
  }
  const Nanos start = options_.clock->Now();
  auto loaded = backend_->Load(LoadRequest{options_.compiled_model_path, units});
  event.duration = options_.clock->Now() - start;
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

Result<Tensors> ModelSession::FirstPrediction(Slot& slot, const Tensors& inputs, bool background) {
  const ComputeUnits units = slot.model->units();
  StepGuard* guard = options_.guard;
  if (guard) ANEPILOT_RETURN_IF_ERROR(guard->Arm(units, GuardStep::kFirstPrediction));
  const Nanos start = options_.clock->Now();
  auto out = slot.model->Predict(inputs);
  SessionEvent event;
  event.kind = SessionEvent::Kind::kFirstPrediction;
  event.units = units;
  event.background = background;
  event.duration = options_.clock->Now() - start;
  if (guard) {
    Status disarmed = guard->Disarm(units, GuardStep::kFirstPrediction);
    if (!disarmed.ok() && out.ok()) out = disarmed;
  }
  if (!out.ok()) event.status = out.status();
  Emit(event);
  return out;
}

std::shared_ptr<ModelSession::Slot> ModelSession::Current() const {
  std::lock_guard<std::mutex> lock(current_mu_);
  return current_;
}

ComputeUnits ModelSession::current_units() const { return Current()->model->units(); }

Result<Tensors> ModelSession::Predict(const Tensors& inputs) {
  if (!have_sample_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(sample_mu_);
    if (!sample_) {
      sample_ = inputs;
      have_sample_.store(true, std::memory_order_release);
      sample_cv_.notify_all();
    }
  }
  std::shared_ptr<Slot> slot = Current();
  served_[static_cast<size_t>(slot->model->units())].fetch_add(1, std::memory_order_relaxed);
  if (!slot->first_done.load(std::memory_order_acquire)) {
    std::unique_lock<std::mutex> lock(slot->first_mu);
    if (!slot->first_done.load(std::memory_order_relaxed)) {
      auto out = FirstPrediction(*slot, inputs, /*background=*/false);
      // Only a prediction that came back marks the step done; after an error
      // the next caller arms and tries again.
      if (out.ok()) slot->first_done.store(true, std::memory_order_release);
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

void ModelSession::Decide(SwapOutcome outcome) {
  {
    std::lock_guard<std::mutex> lock(outcome_mu_);
    outcome_ = outcome;
  }
  outcome_cv_.notify_all();
}

void ModelSession::Background() {
  const ComputeUnits target = *options_.swap_to;
  SwapOutcome outcome;
  outcome.candidate = target;

  auto loaded = LoadGuarded(target, /*background=*/true);
  if (!loaded.ok()) {
    outcome.state = SwapState::kLoadFailed;
    outcome.status = loaded.status();
    Decide(outcome);
    return;
  }
  std::shared_ptr<Slot> candidate = std::move(loaded).value();

  Tensors sample;
  {
    std::unique_lock<std::mutex> lock(sample_mu_);
    sample_cv_.wait(lock, [&] { return closing_ || sample_.has_value(); });
    if (closing_) {
      outcome.state = SwapState::kCancelled;
      Decide(outcome);
      return;
    }
    sample = *sample_;
  }

  std::shared_ptr<Slot> current = Current();
  auto reference = current->model->Predict(sample);
  auto first = FirstPrediction(*candidate, sample, /*background=*/true);
  if (!first.ok() || !reference.ok()) {
    outcome.state = SwapState::kPredictFailed;
    outcome.status = first.ok() ? reference.status() : first.status();
  } else if (!AllFinite(*first)) {
    outcome.state = SwapState::kNonFinite;
  } else {
    outcome.max_difference = MaxRelativeDifference(*reference, *first);
    if (!(outcome.max_difference <= options_.swap.tolerance)) {
      outcome.state = SwapState::kDisagrees;
    } else {
      auto timed = CompareLatency(*candidate->model, *current->model, sample, options_.swap.latency_samples,
                                  *options_.clock);
      if (!timed.ok()) {
        outcome.state = SwapState::kPredictFailed;
        outcome.status = timed.status();
      } else {
        outcome.candidate_ms = timed->candidate_ms;
        outcome.current_ms = timed->current_ms;
        outcome.state = timed->candidate_ms <= timed->current_ms * (1.0 - options_.swap.min_gain)
                            ? SwapState::kSwapped
                            : SwapState::kNotFaster;
      }
    }
  }
  candidate->first_done.store(true, std::memory_order_release);

  SessionEvent event;
  event.kind = SessionEvent::Kind::kSwap;
  event.units = target;
  event.from_units = current->model->units();
  event.swap = outcome;
  if (outcome.state == SwapState::kSwapped) {
    const Nanos start = options_.clock->Now();
    {
      std::lock_guard<std::mutex> lock(current_mu_);
      current_ = candidate;
    }
    event.duration = options_.clock->Now() - start;
  }
  // `current` (and `candidate` when rejected) are released here or when the
  // last in-flight prediction holding them ends: that unloads them.
  Emit(event);
  Decide(outcome);
}

SwapOutcome ModelSession::swap_outcome() const {
  std::lock_guard<std::mutex> lock(outcome_mu_);
  return outcome_;
}

SwapOutcome ModelSession::WaitForSwapDecision() {
  std::unique_lock<std::mutex> lock(outcome_mu_);
  outcome_cv_.wait(lock, [&] { return outcome_.state != SwapState::kPending; });
  return outcome_;
}

}  // namespace anepilot::runtime
