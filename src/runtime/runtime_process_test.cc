// App launches as real processes (anepilot_runtime_child, through the C API)
// on simulated devices whose Neural Engine configurations really crash: the
// crash guard must let each configuration kill the app at most once per
// (device, OS build, model, app version), and never when the policy blocks it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "anepilot/policy.h"
#include "base/test_paths.h"
#include "runtime/compiled_model_store.h"
#include "runtime/device_profile.h"
#include "runtime/test_child.h"
#include "telemetry/telemetry.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;

// How one launch of anepilot_runtime_child ended.
struct Launch {
  std::string out;
  bool killed_by_watchdog = false;  // still running at the deadline: SIGKILLed
  bool died = false;  // by a signal, or a non-zero exit other than an API error
  int exit_code = -1;
  bool Has(const std::string& line) const { return captured.Has(line); }
  testing::CapturedChild captured;
};

// Runs the child; SIGKILLs it (as the system watchdog would a hung app) when it
// has not finished within `timeout`.
Launch RunChild(const std::vector<std::string>& args,
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  Launch launch;
  launch.captured = testing::RunProgram(ANEPILOT_RUNTIME_CHILD_PATH, args, timeout);
  const testing::CapturedChild& c = launch.captured;
  launch.out = c.out;
  launch.killed_by_watchdog = c.timed_out;
  if (c.exited) launch.exit_code = c.exit_code;
  launch.died = c.signaled || (c.exited && c.exit_code != 0 && c.exit_code != 3);
  return launch;
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = anepilot::testing::ScratchDir(std::string("process-") +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    model_ = dir_ + "/Detector.mlmodel";
    std::ofstream(model_) << "a model's bytes";
    hash_ = *CompiledModelStore::HashPath(model_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Default policy: serve cpuAndGPU first, swap to `swap_to` when ready.
  std::string WritePolicy(ComputeUnits swap_to, bool block_ane_on_a15) {
    Policy p;
    p.generated_by = "runtime_process_test";
    p.default_policy.choices = {{swap_to}, {ComputeUnits::kCpuAndGpu}, {ComputeUnits::kCpuOnly}};
    p.default_policy.loading.strategy = LoadingStrategy::kFastFirstThenSwap;
    p.default_policy.loading.serve_first = ComputeUnits::kCpuAndGpu;
    p.default_policy.loading.swap_to = swap_to;
    if (block_ane_on_a15) {
      ModelPolicy m;
      m.model_hash = hash_;
      m.model_name = "Detector";
      PolicyRule r;
      r.id = "a15-ane-crash";
      r.match.device = "iPhone14,*";
      r.choices = {{ComputeUnits::kCpuAndGpu}, {ComputeUnits::kCpuOnly}};
      r.blocked = {{ComputeUnits::kAll, "ANE compiler crashes on A15", ""},
                   {ComputeUnits::kCpuAndNeuralEngine, "ANE compiler crashes on A15", ""}};
      m.rules.push_back(r);
      p.models.push_back(m);
    }
    const std::string path = dir_ + "/policy.json";
    Status s = WritePolicyFile(p, path);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return path;
  }

  Launch Run(const std::string& profile, const std::string& policy, const std::string& os_build = "22C152",
             const std::string& override_text = "",
             std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::vector<std::string> args = {"--state", dir_ + "/state", "--profile", profile, "--model", model_,
                                     "--os-build", os_build, "--cache-dir", dir_ + "/os-cache",
                                     "--time-scale", "0.1"};
    if (!policy.empty()) args.insert(args.end(), {"--policy", policy});
    if (!override_text.empty()) args.insert(args.end(), {"--override", override_text});
    return RunChild(args, timeout);
  }

  std::string dir_, model_, hash_;
};

TEST_F(ProcessTest, ACrashingSwapTargetKillsTheAppOnceThenIsBlocked) {
  const std::string policy = WritePolicy(ComputeUnits::kAll, /*block_ane_on_a15=*/false);
  Launch first = Run("iPhone14,7", policy);
  EXPECT_TRUE(first.died) << first.out;
  EXPECT_TRUE(first.Has("SERVING cpuAndGPU")) << first.out;  // it died in the background load

  for (int launch = 2; launch <= 4; ++launch) {
    Launch next = Run("iPhone14,7", policy);
    EXPECT_FALSE(next.died) << "launch " << launch << ": " << next.out;
    EXPECT_EQ(next.exit_code, 0) << next.out;
    EXPECT_TRUE(next.Has(launch == 2 ? "RECOVERED 1" : "RECOVERED 0")) << next.out;
    EXPECT_TRUE(next.Has("SERVING cpuAndGPU")) << next.out;
    EXPECT_TRUE(next.Has("SWAP not_attempted cpuAndGPU")) << next.out;
  }

  // The crash is in telemetry, once, as recovered.
  auto events = ReadTelemetryDir(dir_ + "/state/telemetry");
  ASSERT_TRUE(events.ok());
  int recovered = 0;
  for (const auto& e : events->events) {
    if (e.phase == TelemetryPhase::kCrashRecovered) {
      ++recovered;
      EXPECT_EQ(e.units, ComputeUnits::kAll);
      EXPECT_EQ(e.outcome, TelemetryOutcome::kCrash);
      EXPECT_EQ(e.model_hash, hash_);
    }
  }
  EXPECT_EQ(recovered, 1);
}

TEST_F(ProcessTest, EachCrashingChoiceKillsAtMostOnceThenTheSafeOneServes) {
  // Single strategy trying all, then cpuAndNeuralEngine, then cpuAndGPU.
  const std::string override_text = "units=all,cpuAndNeuralEngine,cpuAndGPU;strategy=single";
  std::vector<Launch> launches;
  for (int i = 0; i < 5; ++i) launches.push_back(Run("iPhone14,7", "", "22C152", override_text));
  EXPECT_TRUE(launches[0].died) << launches[0].out;
  EXPECT_TRUE(launches[1].died) << launches[1].out;
  for (int i = 2; i < 5; ++i) {
    EXPECT_EQ(launches[i].exit_code, 0) << launches[i].out;
    EXPECT_TRUE(launches[i].Has("SERVING cpuAndGPU")) << launches[i].out;
  }
}

// Every way of dying at every guarded step: a load that hangs until the
// watchdog kills the app, a first prediction that aborts, a load that
// segfaults. Each configuration takes the app down once; then cpuOnly (which
// the guard never blocks) serves, launch after launch.
TEST_F(ProcessTest, HangAbortAndSegfaultEachKillTheAppOnlyOnce) {
  DeviceProfile p = *BuiltinDeviceProfile("iPhone14,7");
  p.faults = {{ComputeUnits::kCpuAndNeuralEngine, FaultStep::kLoad, FaultKind::kHang, 0},
              {ComputeUnits::kAll, FaultStep::kFirstPredict, FaultKind::kAbort, 0},
              {ComputeUnits::kCpuAndGpu, FaultStep::kLoad, FaultKind::kCrash, 0}};
  const std::string profile = dir_ + "/profile.json";
  std::ofstream(profile) << DeviceProfileToJson(p);
  const std::string order = "units=cpuAndNeuralEngine,all,cpuAndGPU,cpuOnly;strategy=single";
  // The hung launch is killed after 1.5 s; the others get the default 30 s
  // (a sanitizer takes a second or more to report a deliberate crash).
  Launch hang = Run(profile, "", "22C152", order, std::chrono::milliseconds(1500));
  EXPECT_TRUE(hang.killed_by_watchdog) << hang.out;
  Launch abort = Run(profile, "", "22C152", order);
  EXPECT_TRUE(abort.died && !abort.killed_by_watchdog) << abort.out;
  EXPECT_TRUE(abort.Has("RECOVERED 1")) << abort.out;
  EXPECT_TRUE(abort.Has("SERVING all")) << abort.out;  // the load worked; its first prediction aborts
  Launch segv = Run(profile, "", "22C152", order);
  EXPECT_TRUE(segv.died && !segv.killed_by_watchdog) << segv.out;
  for (int i = 0; i < 3; ++i) {
    Launch ok = Run(profile, "", "22C152", order);
    EXPECT_EQ(ok.exit_code, 0) << ok.out;
    EXPECT_TRUE(ok.Has("SERVING cpuOnly")) << ok.out;  // never blocked: the last resort
    EXPECT_TRUE(ok.Has(i == 0 ? "RECOVERED 1" : "RECOVERED 0")) << ok.out;
  }
}

TEST_F(ProcessTest, ANewOsBuildReArmsTheConfiguration) {
  const std::string policy = WritePolicy(ComputeUnits::kAll, false);
  EXPECT_TRUE(Run("iPhone14,7", policy, "22C152").died);
  EXPECT_EQ(Run("iPhone14,7", policy, "22C152").exit_code, 0);
  // After an OS update the ANE compiler may be fixed: try once more.
  EXPECT_TRUE(Run("iPhone14,7", policy, "22D63").died);
  Launch after = Run("iPhone14,7", policy, "22D63");
  EXPECT_EQ(after.exit_code, 0) << after.out;
  EXPECT_TRUE(after.Has("RECOVERED 1"));
}

TEST_F(ProcessTest, APolicyThatBlocksTheNeuralEngineMeansNoCrashAtAll) {
  const std::string policy = WritePolicy(ComputeUnits::kAll, /*block_ane_on_a15=*/true);
  for (int i = 0; i < 3; ++i) {
    Launch l = Run("iPhone14,7", policy);
    EXPECT_EQ(l.exit_code, 0) << l.out;
    EXPECT_TRUE(l.Has("RECOVERED 0")) << l.out;
    EXPECT_TRUE(l.Has("SERVING cpuAndGPU")) << l.out;
  }
}

TEST_F(ProcessTest, OnADeviceWhereTheNeuralEngineWorksTheAppSwapsEveryLaunch) {
  const std::string policy = WritePolicy(ComputeUnits::kAll, false);
  // The iPhone 16 Pro Max's shape with a wide latency gap (40 ms vs 1 ms), so
  // that the swap decision survives a loaded test machine's scheduling noise.
  DeviceProfile p = *BuiltinDeviceProfile("iPhone17,2");
  p.units[ComputeUnits::kCpuAndGpu] = {200, 50, 40, 2e-4};
  p.units[ComputeUnits::kAll] = {500, 80, 1, 1e-3};
  const std::string profile = dir_ + "/profile.json";
  std::ofstream(profile) << DeviceProfileToJson(p);
  for (int i = 0; i < 2; ++i) {
    Launch l = Run(profile, policy);
    EXPECT_EQ(l.exit_code, 0) << l.out;
    EXPECT_TRUE(l.Has("SERVING cpuAndGPU")) << l.out;
    EXPECT_TRUE(l.Has("SWAP swapped all")) << l.out;
  }
  // The second launch's ANE load hit the (simulated) system cache: the model
  // was loaded from the store's stable path both times.
  auto events = ReadTelemetryDir(dir_ + "/state/telemetry");
  ASSERT_TRUE(events.ok());
  int cold = 0, warm = 0;
  for (const auto& e : events->events) {
    if (e.units != ComputeUnits::kAll) continue;
    if (e.phase == TelemetryPhase::kLoadCold) ++cold;
    if (e.phase == TelemetryPhase::kLoadWarm) ++warm;
  }
  EXPECT_EQ(cold, 1);
  EXPECT_EQ(warm, 1);
}

}  // namespace
}  // namespace anepilot::runtime
