// Several processes share one state directory at once (an app and its
// extensions loading different models): live markers of the others must
// never be taken for deaths, every real death is counted exactly once, and
// the state file stays valid under contention.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "base/test_paths.h"
#include "guard/crash_guard.h"
#include "guard/guard_state.h"

namespace anepilot {
namespace {

namespace fs = std::filesystem;

constexpr ComputeUnits kOrder[] = {ComputeUnits::kAll, ComputeUnits::kCpuAndNeuralEngine,
                                   ComputeUnits::kCpuAndGpu, ComputeUnits::kCpuOnly};

GuardKey KeyFor(int model) {
  return GuardKey{"iPhone15,2", "22C152", std::string(63, 'a' + model) + "1", "2.0"};
}

// Model m dies on its first (m % 3) + 1 options except cpuOnly... i.e. the
// deadly set differs per model.
bool Deadly(int model, ComputeUnits u) {
  if (u == ComputeUnits::kCpuOnly) return false;
  return static_cast<int>(u) >= 3 - (model % 3);
}

// One launch in a forked process: open, pick, arm, maybe die, disarm.
[[noreturn]] void Launch(const std::string& dir, int model) {
  auto guard = CrashGuard::Open(dir, KeyFor(model), nullptr);
  if (!guard.ok()) ::_exit(2);
  if (!guard->load_problem().ok()) ::_exit(4);
  std::vector<ComputeUnits> choices(std::begin(kOrder), std::end(kOrder));
  ComputeUnits u = guard->FilterChoices(choices).front();
  if (!guard->Arm(u, GuardStep::kLoad).ok()) ::_exit(3);
  ::usleep(2000);  // overlap with the other processes' Open and Arm
  if (Deadly(model, u)) ::_exit(9);  // dies holding the marker (no cleanup)
  if (!guard->Disarm(u, GuardStep::kLoad).ok()) ::_exit(3);
  ::_exit(0);
}

TEST(CrashGuardMultiProcess, ConcurrentLaunchesCountEachDeathOnce) {
  std::string dir = anepilot::testing::ScratchDir("guard-multiprocess");
  fs::remove_all(dir);
  constexpr int kModels = 6, kWaves = 12;
  int deaths = 0;
  for (int wave = 0; wave < kWaves; ++wave) {
    std::vector<pid_t> pids;
    for (int m = 0; m < kModels; ++m) {
      pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) Launch(dir, m);
      pids.push_back(pid);
    }
    for (pid_t pid : pids) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      ASSERT_TRUE(WIFEXITED(status)) << status;
      int code = WEXITSTATUS(status);
      ASSERT_TRUE(code == 0 || code == 9) << "launch failed with " << code;
      deaths += code == 9;
    }
  }
  int recorded = 0;
  for (int m = 0; m < kModels; ++m) {
    auto guard = CrashGuard::Open(dir, KeyFor(m), nullptr);
    ASSERT_TRUE(guard.ok());
    ASSERT_TRUE(guard->load_problem().ok()) << guard->load_problem().ToString();
    for (ComputeUnits u : kOrder) {
      EXPECT_EQ(guard->IsBlocked(u), Deadly(m, u)) << "model " << m << " " << ComputeUnitsName(u);
    }
    for (const BlockedConfig& b : guard->Blocked()) {
      EXPECT_EQ(b.crashes, 1) << "model " << m << " " << ComputeUnitsName(b.units);
      recorded += b.crashes;
    }
  }
  EXPECT_EQ(recorded, deaths);
  int expected = 0;
  for (int m = 0; m < kModels; ++m) {
    for (ComputeUnits u : kOrder) expected += Deadly(m, u);
  }
  EXPECT_EQ(deaths, expected);  // each deadly option killed exactly one launch
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_NE(e.path().extension(), ".marker") << e.path();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace anepilot
