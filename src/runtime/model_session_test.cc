#include "runtime/model_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "base/test_paths.h"
#include "runtime/crash_guard_steps.h"
#include "runtime/simulated_backend.h"
#include "runtime/test_child.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;
using CU = ComputeUnits;

// Records every Arm / Disarm; blocks what the test says.
class RecordingGuard final : public StepGuard {
 public:
  explicit RecordingGuard(std::set<CU> blocked = {}) : blocked_(std::move(blocked)) {}
  Status Arm(CU u, GuardStep s) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (blocked_.count(u)) return InvalidArgument("blocked");
    if (!armed_.insert({u, s}).second) return InvalidArgument("armed twice");
    log_.push_back("arm " + Name(u, s));
    return Status::Ok();
  }
  Status Disarm(CU u, GuardStep s) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!armed_.erase({u, s})) return InvalidArgument("not armed");
    log_.push_back("disarm " + Name(u, s));
    return Status::Ok();
  }
  bool IsBlocked(CU u) const override { return blocked_.count(u) > 0; }
  // Records which markers were armed when the session asked for durability.
  void WaitUntilDurable() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<std::string> armed;
    for (const auto& [u, s] : armed_) armed.insert(Name(u, s));
    durable_waits_.push_back(std::move(armed));
  }
  std::vector<std::set<std::string>> durable_waits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return durable_waits_;
  }
  std::vector<std::string> log() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  size_t armed_now() const {
    std::lock_guard<std::mutex> lock(mu_);
    return armed_.size();
  }

 private:
  static std::string Name(CU u, GuardStep s) {
    return std::string(ComputeUnitsName(u)) + (s == GuardStep::kLoad ? " load" : " first_prediction");
  }
  std::set<CU> blocked_;
  mutable std::mutex mu_;
  std::set<std::pair<CU, GuardStep>> armed_;
  std::vector<std::string> log_;
  std::vector<std::set<std::string>> durable_waits_;
};

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = anepilot::testing::ScratchDir(std::string("session-") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    model_ = dir_ + "/m.mlmodelc";
    fs::create_directories(model_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<SimulatedBackend> Backend(DeviceProfile profile, Clock* clock) {
    SimulatedBackendOptions o;
    o.profile = std::move(profile);
    o.clock = clock;
    return std::make_shared<SimulatedBackend>(o);
  }
  ModelSessionOptions Options(std::vector<CU> serve, std::optional<CU> swap_to, Clock* clock,
                              std::shared_ptr<StepGuard> guard = nullptr) {
    ModelSessionOptions o;
    o.compiled_model_path = model_;
    o.serve_order = std::move(serve);
    o.swap_to = swap_to;
    o.clock = clock;
    o.guard = guard;
    o.observer = [this](const SessionEvent& e) {
      std::lock_guard<std::mutex> lock(events_mu_);
      events_.push_back(e);
    };
    return o;
  }
  std::vector<SessionEvent> Events(SessionEvent::Kind kind) {
    std::lock_guard<std::mutex> lock(events_mu_);
    std::vector<SessionEvent> out;
    for (const auto& e : events_) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  static Tensors Input(float v) { return {Tensor{"x", {1, 2}, {v, -v}}}; }

  std::string dir_;
  std::string model_;
  std::mutex events_mu_;
  std::vector<SessionEvent> events_;
};

TEST_F(SessionTest, ServesFromTheFastLoaderThenSwapsToTheFasterRunner) {
  FakeClock clock;
  auto backend = Backend(*BuiltinDeviceProfile("iPhone17,2"), &clock);
  auto guard = std::make_shared<RecordingGuard>();
  auto session = ModelSession::Open(backend, Options({CU::kCpuAndGpu}, CU::kCpuAndNeuralEngine, &clock, guard));
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ((*session)->current_units(), CU::kCpuAndGpu);

  auto out = (*session)->Predict(Input(1.0f));
  ASSERT_TRUE(out.ok());
  SwapOutcome outcome = (*session)->WaitForSwapDecision();
  EXPECT_EQ(outcome.state, SwapState::kSwapped) << SwapStateName(outcome.state);
  EXPECT_DOUBLE_EQ(outcome.candidate_ms, 2.0);  // the profile's ANE latency, on the fake clock
  EXPECT_DOUBLE_EQ(outcome.current_ms, 9.0);
  EXPECT_LE(outcome.max_difference, 1e-2);
  EXPECT_EQ((*session)->current_units(), CU::kCpuAndNeuralEngine);
  ASSERT_TRUE((*session)->Predict(Input(2.0f)).ok());
  EXPECT_EQ((*session)->served(CU::kCpuAndGpu), 1);
  EXPECT_EQ((*session)->served(CU::kCpuAndNeuralEngine), 1);

  // Every risky step was armed before and disarmed after, once.
  std::vector<std::string> log = guard->log();
  for (const char* step : {"cpuAndGPU load", "cpuAndGPU first_prediction", "cpuAndNeuralEngine load",
                           "cpuAndNeuralEngine first_prediction"}) {
    auto arm = std::find(log.begin(), log.end(), std::string("arm ") + step);
    auto disarm = std::find(log.begin(), log.end(), std::string("disarm ") + step);
    ASSERT_NE(arm, log.end()) << step;
    ASSERT_NE(disarm, log.end()) << step;
    EXPECT_LT(arm, disarm) << step;
    EXPECT_EQ(std::count(log.begin(), log.end(), std::string("arm ") + step), 1) << step;
  }
  EXPECT_EQ(guard->armed_now(), 0u);
  // The background steps (the Neural Engine's load and first prediction)
  // waited for their marker to be durable; the steps on the way to the first
  // result did not.
  auto waits = guard->durable_waits();
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_EQ(waits[0].count("cpuAndNeuralEngine load"), 1u);
  EXPECT_EQ(waits[1].count("cpuAndNeuralEngine first_prediction"), 1u);

  auto loads = Events(SessionEvent::Kind::kLoad);
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_TRUE(loads[0].cold);
  auto swaps = Events(SessionEvent::Kind::kSwap);
  ASSERT_EQ(swaps.size(), 1u);
  EXPECT_EQ(swaps[0].from_units, CU::kCpuAndGpu);
  EXPECT_EQ(swaps[0].units, CU::kCpuAndNeuralEngine);
}

// Over the real crash guard with a deferred fsync queue: Arm returns before
// the marker's fsyncs ran; WaitUntilDurable returns after they did.
TEST_F(SessionTest, WaitUntilDurableRunsTheQueuedFsyncsOfAnArmedMarker) {
  auto sync = std::make_shared<DeferredSync>();
  CrashGuardOptions guard_options;
  guard_options.deferred_sync = sync;
  auto guard = CrashGuard::Open(dir_ + "/guard", GuardKey{"iPhone17,2", "22A3354", std::string(64, 'a'), "1.0"},
                                guard_options);
  ASSERT_TRUE(guard.ok()) << guard.status().ToString();
  CrashGuardSteps steps(std::move(guard).value(), sync);
  const uint64_t before = sync->completed();
  ASSERT_TRUE(steps.Arm(CU::kCpuAndNeuralEngine, GuardStep::kLoad).ok());
  steps.WaitUntilDurable();
  EXPECT_GE(sync->completed(), before + 2);  // the marker file and its directory
  EXPECT_EQ(sync->failures(), 0u);
  ASSERT_TRUE(steps.Disarm(CU::kCpuAndNeuralEngine, GuardStep::kLoad).ok());
}

TEST_F(SessionTest, NeverSwapsWhenDisabled) {
  FakeClock clock;
  auto backend = Backend(*BuiltinDeviceProfile("iPhone17,2"), &clock);
  auto options = Options({CU::kCpuAndGpu}, CU::kCpuAndNeuralEngine, &clock);
  options.swap.enabled = false;
  auto session = ModelSession::Open(backend, options);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Predict(Input(1.0f)).ok());
  EXPECT_EQ((*session)->WaitForSwapDecision().state, SwapState::kNotAttempted);
  EXPECT_EQ(backend->loads(CU::kCpuAndNeuralEngine), 0);
  EXPECT_EQ((*session)->current_units(), CU::kCpuAndGpu);
}

TEST_F(SessionTest, KeepsTheCurrentConfigurationWhenTheGainIsTooSmall) {
  FakeClock clock;
  auto backend = Backend(*BuiltinDeviceProfile("iPhone17,2"), &clock);
  auto options = Options({CU::kCpuAndGpu}, CU::kCpuAndNeuralEngine, &clock);
  options.swap.min_gain = 0.8;  // needs 5x; the ANE is 4.5x faster here
  auto session = ModelSession::Open(backend, options);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Predict(Input(1.0f)).ok());
  SwapOutcome outcome = (*session)->WaitForSwapDecision();
  EXPECT_EQ(outcome.state, SwapState::kNotFaster);
  EXPECT_EQ((*session)->current_units(), CU::kCpuAndGpu);
}

TEST_F(SessionTest, RejectsACandidateThatDisagrees) {
  FakeClock clock;
  DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
  p.units[CU::kCpuAndNeuralEngine].output_error = 0.05;  // 5% off: past the 1% tolerance
  auto backend = Backend(p, &clock);
  auto session = ModelSession::Open(backend, Options({CU::kCpuAndGpu}, CU::kCpuAndNeuralEngine, &clock));
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Predict(Input(3.0f)).ok());
  SwapOutcome outcome = (*session)->WaitForSwapDecision();
  EXPECT_EQ(outcome.state, SwapState::kDisagrees);
  EXPECT_GT(outcome.max_difference, 0.04);
  EXPECT_EQ((*session)->current_units(), CU::kCpuAndGpu);
}

TEST_F(SessionTest, RejectsACandidateWithNanOutput) {
  FakeClock clock;
  DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
  p.faults = {{CU::kAll, FaultStep::kFirstPredict, FaultKind::kNan, 0}};
  auto backend = Backend(p, &clock);
  auto session = ModelSession::Open(backend, Options({CU::kCpuAndGpu}, CU::kAll, &clock));
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Predict(Input(1.0f)).ok());
  EXPECT_EQ((*session)->WaitForSwapDecision().state, SwapState::kNonFinite);
  EXPECT_EQ((*session)->current_units(), CU::kCpuAndGpu);
  auto later = (*session)->Predict(Input(1.0f));
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(AllFinite(*later));
}

TEST_F(SessionTest, CandidateLoadErrorIsDisarmedAndReported) {
  FakeClock clock;
  DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
  p.faults = {{CU::kCpuAndNeuralEngine, FaultStep::kLoad, FaultKind::kError, 0}};
  auto backend = Backend(p, &clock);
  auto guard = std::make_shared<RecordingGuard>();
  auto session = ModelSession::Open(backend, Options({CU::kCpuAndGpu}, CU::kCpuAndNeuralEngine, &clock, guard));
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Predict(Input(1.0f)).ok());
  SwapOutcome outcome = (*session)->WaitForSwapDecision();
  EXPECT_EQ(outcome.state, SwapState::kLoadFailed);
  EXPECT_EQ(outcome.status.code(), StatusCode::kInternal);
  EXPECT_EQ(guard->armed_now(), 0u);  // the load returned: its marker is gone
}

TEST_F(SessionTest, NeverTriesABlockedConfiguration) {
  FakeClock clock;
  auto backend = Backend(*BuiltinDeviceProfile("iPhone14,7"), &clock);
  auto guard = std::make_shared<RecordingGuard>(std::set<CU>{CU::kAll, CU::kCpuAndNeuralEngine});
  auto session = ModelSession::Open(
      backend, Options({CU::kAll, CU::kCpuAndGpu}, CU::kCpuAndNeuralEngine, &clock, guard));
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ((*session)->current_units(), CU::kCpuAndGpu);
  EXPECT_EQ((*session)->swap_outcome().state, SwapState::kNotAttempted);
  EXPECT_EQ(backend->loads(CU::kAll), 0);
  EXPECT_EQ(backend->loads(CU::kCpuAndNeuralEngine), 0);
  ASSERT_EQ(Events(SessionEvent::Kind::kFallback).size(), 1u);
  EXPECT_EQ(Events(SessionEvent::Kind::kFallback)[0].units, CU::kAll);
}

TEST_F(SessionTest, FallsBackWhenTheFirstChoiceFailsToLoad) {
  FakeClock clock;
  DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
  p.faults = {{CU::kCpuAndGpu, FaultStep::kLoad, FaultKind::kError, 0}};
  auto backend = Backend(p, &clock);
  auto session = ModelSession::Open(backend, Options({CU::kCpuAndGpu, CU::kCpuOnly}, std::nullopt, &clock));
  ASSERT_TRUE(session.ok());
  EXPECT_EQ((*session)->current_units(), CU::kCpuOnly);
  auto loads = Events(SessionEvent::Kind::kLoad);
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_FALSE(loads[0].status.ok());
  EXPECT_TRUE(loads[1].status.ok());
}

TEST_F(SessionTest, ErrorsWhenNothingCanServe) {
  FakeClock clock;
  auto backend = Backend(*BuiltinDeviceProfile("iPhone17,2"), &clock);
  auto guard = std::make_shared<RecordingGuard>(std::set<CU>{CU::kAll});
  auto blocked = ModelSession::Open(backend, Options({CU::kAll}, std::nullopt, &clock, guard));
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable);
  auto empty = ModelSession::Open(backend, Options({}, std::nullopt, &clock));
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SessionTest, ClosingBeforeAnyPredictionCancelsTheSwap) {
  FakeClock clock;
  auto backend = Backend(*BuiltinDeviceProfile("iPhone17,2"), &clock);
  auto session = ModelSession::Open(backend, Options({CU::kCpuAndGpu}, CU::kAll, &clock));
  ASSERT_TRUE(session.ok());
  session->reset();  // joins the background thread, which is waiting for an input
  SUCCEED();
}

// A background load that never returns (the ANE compiler hangs) must not stop
// the app: predictions keep being served by the first configuration. Run in a
// child process, which exits without waiting for the hung thread.
TEST_F(SessionTest, AHangingBackgroundLoadDoesNotStopServing) {
  auto end = testing::RunInChild(
      [&] {
        FakeClock clock;
        DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
        p.faults = {{CU::kAll, FaultStep::kLoad, FaultKind::kHang, 0}};
        auto backend = Backend(p, &clock);
        auto session = ModelSession::Open(backend, Options({CU::kCpuAndGpu}, CU::kAll, &clock));
        if (!session.ok()) ::_exit(3);
        for (int i = 0; i < 50; ++i) {
          if (!(*session)->Predict(Input(1.0f)).ok()) ::_exit(4);
        }
        if ((*session)->current_units() != CU::kCpuAndGpu) ::_exit(5);
        if ((*session)->swap_outcome().state != SwapState::kPending) ::_exit(6);
        ::_exit(0);  // the hung thread never ends: leave without tearing down
      },
      std::chrono::seconds(10));
  EXPECT_FALSE(end.timed_out);
  EXPECT_TRUE(end.exited);
  EXPECT_EQ(end.exit_code, 0);
}

// Releasing a model whose background load hangs for ever (the simulated
// backend's real hang: the loading thread sleeps and never returns) returns:
// the hung thread is abandoned, keeping what it uses alive, and its load
// marker stays armed (the next launch counts the hang as a death of that step).
// In a child process: the hung thread never ends.
TEST_F(SessionTest, ReleaseReturnsWhileTheBackgroundLoadHangs) {
  auto end = testing::RunInChild(
      [&] {
        DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
        p.faults = {{CU::kAll, FaultStep::kLoad, FaultKind::kHang, 0}};
        auto backend = Backend(p, &SystemClock());
        auto guard = std::make_shared<RecordingGuard>();
        auto options = Options({CU::kCpuAndGpu}, CU::kAll, &SystemClock(), guard);
        options.observer = {};
        auto session = ModelSession::Open(backend, options);
        if (!session.ok()) ::_exit(3);
        for (int i = 0; i < 5; ++i) {
          if (!(*session)->Predict(Input(1.0f)).ok()) ::_exit(4);
        }
        // The background thread is inside the hung load once its marker is armed.
        while (guard->armed_now() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        session->reset();  // release: must return although the load never will
        backend.reset();   // the abandoned thread keeps its own reference
        if (guard->armed_now() != 1) ::_exit(5);
        const auto log = guard->log();
        if (std::find(log.begin(), log.end(), "arm all load") == log.end()) ::_exit(6);
        ::_exit(0);
      },
      std::chrono::seconds(30));
  EXPECT_FALSE(end.timed_out) << "release blocked on the hung background load";
  EXPECT_TRUE(end.exited);
  EXPECT_EQ(end.exit_code, 0);
}

// A slow (not hung) background load abandoned by release finishes later on
// its own: it disarms its marker, drops the candidate and the backend, and
// never calls the observer after release (under ASan, a call into the freed
// event list or backend would be reported).
TEST_F(SessionTest, AnAbandonedSlowLoadFinishesSafelyAfterRelease) {
  DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
  p.units[CU::kAll] = {2000, 2000, 1.0, 0};  // a 2 s Neural Engine compile, real time
  auto backend = Backend(p, &SystemClock());
  std::weak_ptr<SimulatedBackend> backend_alive = backend;
  auto guard = std::make_shared<RecordingGuard>();
  auto events = std::make_unique<std::vector<SessionEvent>>();
  auto options = Options({CU::kCpuAndGpu}, CU::kAll, &SystemClock(), guard);
  options.observer = [list = events.get()](const SessionEvent& e) { list->push_back(e); };
  options.release_wait = std::chrono::milliseconds(0);
  auto session = ModelSession::Open(backend, options);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ASSERT_TRUE((*session)->Predict(Input(1.0f)).ok());
  while (guard->armed_now() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  session->reset();  // release while the 2 s load runs
  const size_t events_at_release = events->size();
  events.reset();
  backend.reset();
  EXPECT_FALSE(backend_alive.expired()) << "the load ended before release returned";
  EXPECT_EQ(events_at_release, 2u);  // cpuAndGPU load and first prediction

  // The abandoned thread ends by itself once the load returns.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!backend_alive.expired() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(backend_alive.expired()) << "the abandoned thread never released the backend";
  EXPECT_EQ(guard->armed_now(), 0u);
  const auto log = guard->log();
  EXPECT_NE(std::find(log.begin(), log.end(), "disarm all load"), log.end());
  EXPECT_EQ(std::find(log.begin(), log.end(), "arm all first_prediction"), log.end());
}

// Many threads predict while the swap happens: every request is answered
// exactly once, with its own id, by one configuration or the other.
TEST_F(SessionTest, ConcurrentPredictionsAcrossTheSwapAreNeitherDroppedNorDuplicated) {
  DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
  // Real sleeps, short: GPU 1 ms per prediction, ANE 0.1 ms, ANE load 40 ms.
  p.units[CU::kCpuAndGpu] = {5, 2, 1.0, 0};
  p.units[CU::kCpuAndNeuralEngine] = {40, 10, 0.1, 1e-4};
  SimulatedBackendOptions o;
  o.profile = p;
  auto backend = std::make_shared<SimulatedBackend>(o);
  auto guard = std::make_shared<RecordingGuard>();
  auto options = Options({CU::kCpuAndGpu}, CU::kCpuAndNeuralEngine, &SystemClock(), guard);
  auto opened = ModelSession::Open(backend, options);
  ASSERT_TRUE(opened.ok());
  ModelSession& session = **opened;

  constexpr int kThreads = 8;
  constexpr int kAfterSwap = 40;  // per thread, once the swap is decided
  std::vector<std::vector<std::pair<int, int>>> answers(kThreads);  // (sent id, received id)
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int after = 0;
      for (int i = 0; after < kAfterSwap; ++i) {
        if (session.swap_outcome().state != SwapState::kPending) ++after;
        const int id = t * 1000000 + i;
        Tensors in = {Tensor{"x", {1}, {static_cast<float>(i % 7)}},
                      Tensor{"request_id", {1}, {static_cast<float>(id)}}};
        auto out = session.Predict(in);
        const Tensor* got = out.ok() ? FindTensor(*out, "request_id") : nullptr;
        answers[t].push_back({id, got ? static_cast<int>(got->data[0]) : -1});
      }
    });
  }
  for (auto& th : threads) th.join();

  std::set<int> seen;
  int64_t issued = 0;
  for (const auto& per_thread : answers) {
    for (const auto& [sent, received] : per_thread) {
      EXPECT_EQ(sent, received);
      EXPECT_TRUE(seen.insert(received).second) << "answered twice: " << received;
      ++issued;
    }
  }
  EXPECT_EQ(session.swap_outcome().state, SwapState::kSwapped);
  const int64_t gpu = session.served(CU::kCpuAndGpu);
  const int64_t ane = session.served(CU::kCpuAndNeuralEngine);
  EXPECT_GT(gpu, 0);
  EXPECT_GE(ane, kThreads * kAfterSwap - kThreads);  // in flight at the swap may end on the GPU
  EXPECT_EQ(gpu + ane, issued);
  // The backend ran each request once, plus the validation runs: one reference
  // and latency_samples timings on each configuration.
  const int validation = 2 * (1 + options.swap.latency_samples);
  EXPECT_EQ(backend->predictions(CU::kCpuAndGpu) + backend->predictions(CU::kCpuAndNeuralEngine),
            issued + validation);
  EXPECT_EQ(guard->armed_now(), 0u);
}

}  // namespace
}  // namespace anepilot::runtime
