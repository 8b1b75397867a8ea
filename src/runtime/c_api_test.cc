// The C API and the C++ RAII layer over it, in process, on simulated devices.
#include "anepilot/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "anepilot/runtime.hpp"
#include "base/test_paths.h"
#include "runtime/device_profile.h"
#include "runtime/test_child.h"
#include "telemetry/telemetry.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;

class CApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = anepilot::testing::ScratchDir(std::string("capi-") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    model_ = dir_ + "/Classifier.mlmodel";
    std::ofstream(model_) << "model bytes";
    state_ = dir_ + "/state";
    // The iPhone 16 Pro Max's shape with a wide latency gap (40 ms vs 1 ms),
    // so that swap decisions survive a loaded test machine's scheduling noise.
    DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
    p.units[ComputeUnits::kCpuAndGpu] = {200, 50, 40, 2e-4};
    p.units[ComputeUnits::kAll] = {500, 80, 1, 1e-3};
    profile_ = dir_ + "/profile.json";
    std::ofstream(profile_) << DeviceProfileToJson(p);
    anepilot_runtime_config_init(&config_);
    config_.device_identifier = "iPhone17,2";
    config_.os_version = "18.2";
    config_.os_build = "22C152";
    config_.app_version = "2.0 (7)";
    config_.state_dir = state_.c_str();
    config_.backend = ANEPILOT_BACKEND_SIMULATED;
    config_.simulated_profile = profile_.c_str();
    config_.simulated_time_scale = 0.1;
    config_.policy_override = kFastFirst;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static constexpr const char* kFastFirst =
      "units=all,cpuAndGPU;strategy=fast_first_then_swap;serve_first=cpuAndGPU;swap_to=all";
  std::string dir_, model_, state_, profile_;
  anepilot_runtime_config config_;
};

TEST_F(CApiTest, RejectsBadConfigurationsWithAMessage) {
  anepilot_runtime* rt = nullptr;
  EXPECT_EQ(anepilot_runtime_create(nullptr, &rt), ANEPILOT_STATUS_INVALID_ARGUMENT);

  anepilot_runtime_config c = config_;
  c.abi_version = 99;
  EXPECT_EQ(anepilot_runtime_create(&c, &rt), ANEPILOT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(anepilot_last_error_message()).find("abi_version"), std::string::npos);

  c = config_;
  c.struct_size = 8;
  EXPECT_EQ(anepilot_runtime_create(&c, &rt), ANEPILOT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(anepilot_last_error_message()).find("struct_size"), std::string::npos);

  c = config_;
  c.app_version = nullptr;
  EXPECT_EQ(anepilot_runtime_create(&c, &rt), ANEPILOT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(anepilot_last_error_message()).find("app_version"), std::string::npos);

  c = config_;
  c.simulated_profile = "iPhone99,9";
  EXPECT_EQ(anepilot_runtime_create(&c, &rt), ANEPILOT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(anepilot_last_error_message()).find("iPhone99,9"), std::string::npos);

  c = config_;
  c.policy_override = "units=cpuAndANE";
  EXPECT_EQ(anepilot_runtime_create(&c, &rt), ANEPILOT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(anepilot_last_error_message()).find("policy_override"), std::string::npos);
  EXPECT_EQ(rt, nullptr);
}

TEST_F(CApiTest, CoreMLBackendIsUnavailableOffApplePlatforms) {
  anepilot_runtime_config c = config_;
  c.backend = ANEPILOT_BACKEND_COREML;
  anepilot_runtime* rt = nullptr;
  EXPECT_EQ(anepilot_runtime_create(&c, &rt), ANEPILOT_STATUS_UNAVAILABLE);
  EXPECT_NE(std::string(anepilot_last_error_message()).find("Core ML is not available"), std::string::npos);
}

TEST_F(CApiTest, AnOlderCallersShorterStructGetsDefaultsForNewerFields) {
  // A caller compiled when the struct ended at session_id's predecessor.
  anepilot_runtime_config c = config_;
  c.struct_size = offsetof(anepilot_runtime_config, last_exit_reason);
  c.session_id = reinterpret_cast<const char*>(0x1);  // past struct_size: must not be read
  anepilot_runtime* rt = nullptr;
  ASSERT_EQ(anepilot_runtime_create(&c, &rt), ANEPILOT_OK) << anepilot_last_error_message();
  anepilot_runtime_destroy(rt);
}

// anepilot_model_release returns although the background Neural Engine load
// hangs for ever (the simulated backend's real hang); the hang is then a death
// of that load to the next launch, which blocks `all` and recovers it.
TEST_F(CApiTest, ReleasingAModelWhoseBackgroundLoadHangsReturns) {
  DeviceProfile p = *LoadDeviceProfile(profile_);
  p.faults = {{ComputeUnits::kAll, FaultStep::kLoad, FaultKind::kHang, 0}};
  std::ofstream(profile_, std::ios::trunc) << DeviceProfileToJson(p);
  auto end = testing::RunInChild(
      [&] {
        anepilot_runtime* rt = nullptr;
        anepilot_model* model = nullptr;
        if (anepilot_runtime_create(&config_, &rt) != ANEPILOT_OK) ::_exit(3);
        if (anepilot_model_load(rt, model_.c_str(), &model) != ANEPILOT_OK) ::_exit(4);
        const float x[] = {1, 2};
        const int64_t shape[] = {1, 2};
        anepilot_tensor in = {"x", shape, 2, x, 2};
        anepilot_outputs* out = nullptr;
        if (anepilot_model_predict(model, &in, 1, &out) != ANEPILOT_OK) ::_exit(5);
        anepilot_outputs_release(out);
        // The background load sleeps 50 ms (scaled) before it hangs; be sure it is in.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        anepilot_model_release(model);
        anepilot_runtime_destroy(rt);
        ::_exit(0);  // the hung thread never ends: leave without static teardown
      },
      std::chrono::seconds(60));
  EXPECT_FALSE(end.timed_out) << "anepilot_model_release blocked on the hung load";
  ASSERT_TRUE(end.exited);
  EXPECT_EQ(end.exit_code, 0);

  anepilot_runtime* rt = nullptr;
  ASSERT_EQ(anepilot_runtime_create(&config_, &rt), ANEPILOT_OK) << anepilot_last_error_message();
  anepilot_model* model = nullptr;
  ASSERT_EQ(anepilot_model_load(rt, model_.c_str(), &model), ANEPILOT_OK) << anepilot_last_error_message();
  EXPECT_EQ(anepilot_model_recovered_crashes(model), 1u);
  anepilot_swap_info info;
  info.struct_size = sizeof info;
  ASSERT_EQ(anepilot_model_swap_info(model, /*wait=*/1, &info), ANEPILOT_OK);
  EXPECT_EQ(info.state, ANEPILOT_SWAP_NOT_ATTEMPTED);  // `all` is blocked now
  anepilot_model_release(model);
  anepilot_runtime_destroy(rt);
}

// The fields added after the first release: an older caller's shorter
// struct gets their defaults (whatever lies past its struct_size), and the
// synchronous-fsync mode serves and swaps like the default one.
TEST_F(CApiTest, FieldsPastAnOlderStructSizeTakeTheirDefaults) {
  auto load_predict_swap = [&](const anepilot_runtime_config& config) {
    anepilot_runtime* rt = nullptr;
    ASSERT_EQ(anepilot_runtime_create(&config, &rt), ANEPILOT_OK) << anepilot_last_error_message();
    anepilot_model* model = nullptr;
    ASSERT_EQ(anepilot_model_load(rt, model_.c_str(), &model), ANEPILOT_OK) << anepilot_last_error_message();
    const float x[] = {1, 2};
    const int64_t shape[] = {1, 2};
    anepilot_tensor in = {"x", shape, 2, x, 2};
    anepilot_outputs* out = nullptr;
    ASSERT_EQ(anepilot_model_predict(model, &in, 1, &out), ANEPILOT_OK) << anepilot_last_error_message();
    anepilot_outputs_release(out);
    anepilot_swap_info info{};
    info.struct_size = sizeof(info);
    ASSERT_EQ(anepilot_model_swap_info(model, 1, &info), ANEPILOT_OK);
    EXPECT_EQ(info.state, ANEPILOT_SWAP_SWAPPED);
    anepilot_model_release(model);
    anepilot_runtime_destroy(rt);
  };
  anepilot_runtime_config older = config_;
  older.struct_size = offsetof(anepilot_runtime_config, fsync_on_path);
  older.fsync_on_path = 7;                 // beyond struct_size: must be ignored
  older.release_wait_ms = 0xFFFFFFFFu;     // likewise (an hour-long wait otherwise)
  load_predict_swap(older);

  fs::remove_all(state_);
  anepilot_runtime_config synchronous = config_;
  synchronous.fsync_on_path = 1;
  synchronous.release_wait_ms = 10;
  load_predict_swap(synchronous);
}

TEST_F(CApiTest, LoadsPredictsAndSwapsThroughTheCApi) {
  anepilot_runtime* rt = nullptr;
  ASSERT_EQ(anepilot_runtime_create(&config_, &rt), ANEPILOT_OK) << anepilot_last_error_message();
  EXPECT_EQ(anepilot_runtime_policy_problem(rt), nullptr);
  anepilot_model* model = nullptr;
  ASSERT_EQ(anepilot_model_load(rt, model_.c_str(), &model), ANEPILOT_OK) << anepilot_last_error_message();
  EXPECT_EQ(anepilot_model_current_units(model), ANEPILOT_UNITS_CPU_AND_GPU);
  EXPECT_EQ(std::string(anepilot_model_hash(model)).size(), 64u);

  const float x[] = {0.5f, -1.0f, 2.0f};
  const int64_t shape[] = {1, 3};
  anepilot_tensor in = {"x", shape, 2, x, 3};
  anepilot_outputs* out = nullptr;
  ASSERT_EQ(anepilot_model_predict(model, &in, 1, &out), ANEPILOT_OK) << anepilot_last_error_message();
  ASSERT_EQ(anepilot_outputs_count(out), 1u);
  anepilot_tensor y;
  ASSERT_EQ(anepilot_outputs_get(out, 0, &y), ANEPILOT_OK);
  EXPECT_STREQ(y.name, "x_out");
  ASSERT_EQ(y.rank, 2u);
  EXPECT_EQ(y.shape[1], 3);
  ASSERT_EQ(y.count, 3u);
  EXPECT_NEAR(y.data[2], 5.0f, 5.0f * 1e-3);
  EXPECT_EQ(anepilot_outputs_get(out, 1, &y), ANEPILOT_STATUS_INVALID_ARGUMENT);
  anepilot_outputs_release(out);

  anepilot_swap_info info{};
  info.struct_size = sizeof(info);
  ASSERT_EQ(anepilot_model_swap_info(model, 1, &info), ANEPILOT_OK);
  EXPECT_EQ(info.state, ANEPILOT_SWAP_SWAPPED);
  EXPECT_EQ(info.candidate_units, ANEPILOT_UNITS_ALL);
  EXPECT_EQ(anepilot_model_current_units(model), ANEPILOT_UNITS_ALL);

  anepilot_tensor bad = {"x", shape, 2, x, 2};  // 2 values for 3 elements
  EXPECT_EQ(anepilot_model_predict(model, &bad, 1, &out), ANEPILOT_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(anepilot_last_error_message()).find("'x'"), std::string::npos);

  anepilot_model* missing = nullptr;
  EXPECT_EQ(anepilot_model_load(rt, (dir_ + "/nope.mlmodel").c_str(), &missing), ANEPILOT_STATUS_NOT_FOUND);
  EXPECT_NE(std::string(anepilot_last_error_message()).find("nope.mlmodel"), std::string::npos);

  // Models may outlive the runtime.
  anepilot_runtime_destroy(rt);
  ASSERT_EQ(anepilot_model_predict(model, &in, 1, &out), ANEPILOT_OK);
  anepilot_outputs_release(out);
  anepilot_model_release(model);

  // One telemetry line per load, first prediction and swap.
  auto read = ReadTelemetryDir(state_ + "/telemetry");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->lines_skipped, 0u);
  std::multiset<TelemetryPhase> phases;
  for (const auto& e : read->events) {
    phases.insert(e.phase);
    EXPECT_EQ(e.device, "iPhone17,2");
    EXPECT_EQ(e.app_version, "2.0 (7)");
  }
  EXPECT_EQ(phases.count(TelemetryPhase::kPolicy), 1u);
  EXPECT_EQ(phases.count(TelemetryPhase::kLoadCold), 2u);  // cpuAndGPU, then all in the background
  EXPECT_EQ(phases.count(TelemetryPhase::kFirstPrediction), 2u);
  EXPECT_EQ(phases.count(TelemetryPhase::kSwap), 1u);
  for (const auto& e : read->events) {
    if (e.phase != TelemetryPhase::kSwap) continue;
    EXPECT_EQ(e.outcome, TelemetryOutcome::kOk);
    EXPECT_EQ(e.units, ComputeUnits::kAll);
    EXPECT_EQ(e.from_units, ComputeUnits::kCpuAndGpu);
    EXPECT_EQ(e.strategy, "fast_first_then_swap");
    EXPECT_GT(e.durations_ms.at("current_latency"), e.durations_ms.at("candidate_latency"));
  }
}

TEST_F(CApiTest, AMalformedPolicyFallsBackToTheSafeDefault) {
  const std::string policy = dir_ + "/policy.json";
  std::ofstream(policy) << R"({"schema": "anepilot.policy", "version": 1, "models": [ {)";
  config_.policy_path = policy.c_str();
  config_.policy_override = nullptr;
  auto runtime = anepilot::rt::Runtime::Create([&] {
    anepilot::rt::Config c;
    c.c = config_;
    return c;
  }());
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
  EXPECT_NE(runtime->policy_problem().find("policy.json"), std::string::npos) << runtime->policy_problem();
  auto model = runtime->Load(model_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->current_units(), ANEPILOT_UNITS_CPU_AND_GPU);  // never worse than cpuAndGPU
  auto out = model->Predict({{"x", {2}, {1.0f, 2.0f}}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(out->at(0).name, "x_out");
  auto info = model->SwapInfo(false);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, ANEPILOT_SWAP_NOT_ATTEMPTED);
}

TEST_F(CApiTest, CompiledModelsLandAtAStablePathSoTheSecondLaunchIsWarm) {
  const std::string cache = dir_ + "/os-cache";
  config_.simulated_cache_dir = cache.c_str();
  config_.policy_override = "units=all;strategy=single";
  for (int launch = 0; launch < 2; ++launch) {
    anepilot::rt::Config c;
    c.c = config_;
    auto runtime = anepilot::rt::Runtime::Create(c);
    ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
    auto model = runtime->Load(model_);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
  }
  auto read = ReadTelemetryDir(state_ + "/telemetry");
  ASSERT_TRUE(read.ok());
  std::vector<TelemetryPhase> loads;
  for (const auto& e : read->events) {
    if (e.phase == TelemetryPhase::kLoadCold || e.phase == TelemetryPhase::kLoadWarm) loads.push_back(e.phase);
  }
  EXPECT_EQ(loads, (std::vector<TelemetryPhase>{TelemetryPhase::kLoadCold, TelemetryPhase::kLoadWarm}));
  // One entry in the store, under v1/<sha256>/Classifier.mlmodelc.
  int entries = 0;
  for (const auto& d : fs::directory_iterator(state_ + "/store/v1")) {
    if (d.is_directory() && d.path().filename() != "tmp") {
      ++entries;
      EXPECT_TRUE(fs::exists(d.path() / "Classifier.mlmodelc"));
    }
  }
  EXPECT_EQ(entries, 1);
}

void OnProgress(void* user, size_t index, size_t done, size_t total, const char* path, anepilot_status status) {
  auto* seen = static_cast<std::vector<std::string>*>(user);
  seen->push_back(std::to_string(done) + "/" + std::to_string(total) + " " + fs::path(path).filename().string() +
                  " " + anepilot_status_name(status));
}

TEST_F(CApiTest, PrewarmSpecializesModelsOneAtATimeWithProgress) {
  const std::string second = dir_ + "/Second.mlmodel";
  std::ofstream(second) << "other model bytes";
  const std::string cache = dir_ + "/os-cache";
  config_.simulated_cache_dir = cache.c_str();
  anepilot::rt::Config c;
  c.c = config_;
  auto runtime = anepilot::rt::Runtime::Create(c);
  ASSERT_TRUE(runtime.ok());
  std::vector<std::string> seen;
  auto prewarm = runtime->StartPrewarm({model_, dir_ + "/missing.mlmodel", second}, OnProgress, &seen);
  ASSERT_TRUE(prewarm.ok());
  size_t warmed = 0, failed = 0, skipped = 0;
  EXPECT_TRUE(prewarm->Wait(&warmed, &failed, &skipped).ok());
  EXPECT_EQ(warmed, 2u);
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(seen, (std::vector<std::string>{"1/3 Classifier.mlmodel ok", "2/3 missing.mlmodel not_found",
                                            "3/3 Second.mlmodel ok"}));
  // Prewarm specialized the swap target: loading now, its background load is warm.
  auto model = runtime->Load(model_);
  ASSERT_TRUE(model.ok());
  ASSERT_TRUE(model->Predict({{"x", {1}, {1.0f}}}).ok());
  auto swap = model->SwapInfo(true);
  EXPECT_EQ(swap->state, ANEPILOT_SWAP_SWAPPED) << swap->candidate_ms << " vs " << swap->current_ms;
  auto read = ReadTelemetryDir(state_ + "/telemetry");
  ASSERT_TRUE(read.ok());
  int prewarm_events = 0, warm_all = 0;
  for (const auto& e : read->events) {
    if (e.phase == TelemetryPhase::kPrewarm) ++prewarm_events;
    if (e.phase == TelemetryPhase::kLoadWarm && e.units == ComputeUnits::kAll) ++warm_all;
  }
  EXPECT_EQ(prewarm_events, 3);
  EXPECT_EQ(warm_all, 1);
}

TEST_F(CApiTest, ThreadsPredictingAcrossTheSwapEachGetTheirOwnAnswer) {
  anepilot::rt::Config c;
  c.c = config_;
  auto runtime = anepilot::rt::Runtime::Create(c);
  ASSERT_TRUE(runtime.ok());
  auto model = runtime->Load(model_);
  ASSERT_TRUE(model.ok());
  constexpr int kThreads = 6, kPerThread = 120;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const float id = static_cast<float>(t * 1000 + i);
        auto out = model->Predict({{"request_id", {1}, {id}}, {"x", {1}, {1.0f}}});
        if (!out.ok() || out->size() != 2 || out->at(0).data[0] != id) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(model->SwapInfo(true)->state, ANEPILOT_SWAP_SWAPPED);
}

}  // namespace
}  // namespace anepilot::runtime
