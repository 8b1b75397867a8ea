#include "runtime/simulated_backend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "base/test_paths.h"
#include "runtime/coreml_backend.h"
#include "runtime/test_child.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;
using testing::RunInChild;

std::string MakeModelFile(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << "weights of " << name;
  return path;
}

Tensors Input(std::vector<float> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return {Tensor{"input", {1, n}, std::move(values)}};
}

SimulatedBackendOptions Options(const std::string& device, FakeClock* clock) {
  SimulatedBackendOptions o;
  o.profile = *BuiltinDeviceProfile(device);
  o.clock = clock;
  return o;
}

TEST(SimulatedBackendTest, FirstLoadPerPathAndUnitsIsColdThenWarm) {
  FakeClock clock;
  SimulatedBackend backend(Options("iPhone17,2", &clock));
  const std::string dir = anepilot::testing::ScratchDir("sim-cold-warm");
  const std::string model = MakeModelFile(dir, "a.bin");

  auto first = backend.Load({model, ComputeUnits::kCpuAndNeuralEngine});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE((*first)->load_timings().cold);
  EXPECT_EQ((*first)->load_timings().load_duration, FromMillis(2200));

  auto second = backend.Load({model, ComputeUnits::kCpuAndNeuralEngine});
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE((*second)->load_timings().cold);
  EXPECT_EQ((*second)->load_timings().load_duration, FromMillis(70));

  // Another configuration of the same path is specialized separately.
  auto gpu = backend.Load({model, ComputeUnits::kCpuAndGpu});
  ASSERT_TRUE(gpu.ok());
  EXPECT_TRUE((*gpu)->load_timings().cold);

  // The same bytes at a new path miss the cache, as with the system's cache.
  const std::string copy = dir + "/copy.bin";
  fs::copy_file(model, copy);
  auto moved = backend.Load({copy, ComputeUnits::kCpuAndNeuralEngine});
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE((*moved)->load_timings().cold);
  EXPECT_EQ(backend.loads(ComputeUnits::kCpuAndNeuralEngine), 3);
  fs::remove_all(dir);
}

TEST(SimulatedBackendTest, PersistentCacheSurvivesANewBackend) {
  FakeClock clock;
  const std::string dir = anepilot::testing::ScratchDir("sim-persist");
  const std::string model = MakeModelFile(dir, "m.bin");
  SimulatedBackendOptions o = Options("iPhone17,2", &clock);
  o.cache_dir = dir + "/cache";
  {
    SimulatedBackend first_launch(o);
    auto m = first_launch.Load({model, ComputeUnits::kAll});
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE((*m)->load_timings().cold);
  }
  SimulatedBackend second_launch(o);
  auto m = second_launch.Load({model, ComputeUnits::kAll});
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE((*m)->load_timings().cold);
  fs::remove_all(dir);
}

TEST(SimulatedBackendTest, TimeScaleShrinksSleeps) {
  FakeClock clock;
  SimulatedBackendOptions o = Options("iPhone17,2", &clock);
  o.time_scale = 0.1;
  SimulatedBackend backend(o);
  const std::string dir = anepilot::testing::ScratchDir("sim-scale");
  auto m = backend.Load({MakeModelFile(dir, "m.bin"), ComputeUnits::kCpuAndGpu});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->load_timings().load_duration, FromMillis(22));
  fs::remove_all(dir);
}

TEST(SimulatedBackendTest, PredictComputesTheDocumentedFunction) {
  FakeClock clock;
  SimulatedBackend backend(Options("iPhone17,2", &clock));
  const std::string dir = anepilot::testing::ScratchDir("sim-predict");
  auto cpu = backend.Load({MakeModelFile(dir, "m.bin"), ComputeUnits::kCpuOnly});
  ASSERT_TRUE(cpu.ok());
  Tensors in = Input({0.0f, 1.5f, -2.0f});
  in.push_back(Tensor{"request_id", {1}, {42.0f}});
  auto out = (*cpu)->Predict(in);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Tensor* y = FindTensor(*out, "input_out");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->data, (std::vector<float>{1.0f, 4.0f, -3.0f}));  // 2x + 1, cpuOnly adds no error
  const Tensor* id = FindTensor(*out, "request_id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->data[0], 42.0f);
  EXPECT_EQ(backend.predictions(ComputeUnits::kCpuOnly), 1);

  auto ane = backend.Load({dir + "/m.bin", ComputeUnits::kCpuAndNeuralEngine});
  ASSERT_TRUE(ane.ok());
  auto ane_out = (*ane)->Predict(Input({1.5f}));
  ASSERT_TRUE(ane_out.ok());
  EXPECT_NEAR(ane_out->at(0).data[0], 4.0 * (1 + 1e-3), 1e-5);  // the profile's output_error

  Tensor bad{"input", {2, 2}, {1.0f}};
  EXPECT_EQ((*cpu)->Predict({bad}).status().code(), StatusCode::kInvalidArgument);
  fs::remove_all(dir);
}

TEST(SimulatedBackendTest, MissingModelAndMissingUnitsAreErrors) {
  FakeClock clock;
  SimulatedBackendOptions o = Options("iPhone17,2", &clock);
  o.profile.units.erase(ComputeUnits::kAll);
  SimulatedBackend backend(o);
  EXPECT_EQ(backend.Load({"/nonexistent/m.mlmodelc", ComputeUnits::kCpuOnly}).status().code(),
            StatusCode::kNotFound);
  const std::string dir = anepilot::testing::ScratchDir("sim-missing");
  auto r = backend.Load({MakeModelFile(dir, "m.bin"), ComputeUnits::kAll});
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("all"), std::string::npos);
  fs::remove_all(dir);
}

TEST(SimulatedBackendTest, NanAndErrorFaults) {
  FakeClock clock;
  SimulatedBackendOptions o = Options("iPhone17,2", &clock);
  o.profile.faults = {{ComputeUnits::kAll, FaultStep::kFirstPredict, FaultKind::kNan, 0},
                      {ComputeUnits::kCpuAndGpu, FaultStep::kPredict, FaultKind::kError, 2},
                      {ComputeUnits::kCpuAndNeuralEngine, FaultStep::kLoad, FaultKind::kError, 0}};
  SimulatedBackend backend(o);
  const std::string dir = anepilot::testing::ScratchDir("sim-faults");
  const std::string model = MakeModelFile(dir, "m.bin");

  auto all = backend.Load({model, ComputeUnits::kAll});
  ASSERT_TRUE(all.ok());
  auto first = (*all)->Predict(Input({1.0f}));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(std::isnan(first->at(0).data[0]));
  auto second = (*all)->Predict(Input({1.0f}));
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(AllFinite(*second));

  auto gpu = backend.Load({model, ComputeUnits::kCpuAndGpu});
  ASSERT_TRUE(gpu.ok());
  EXPECT_TRUE((*gpu)->Predict(Input({1.0f})).ok());
  EXPECT_TRUE((*gpu)->Predict(Input({1.0f})).ok());
  EXPECT_EQ((*gpu)->Predict(Input({1.0f})).status().code(), StatusCode::kInternal);
  EXPECT_TRUE((*gpu)->Predict(Input({1.0f})).ok());

  auto ane = backend.Load({model, ComputeUnits::kCpuAndNeuralEngine});
  EXPECT_EQ(ane.status().code(), StatusCode::kInternal);
  fs::remove_all(dir);
}

TEST(SimulatedBackendTest, CrashFaultKillsTheProcessWithSigsegv) {
  const std::string dir = anepilot::testing::ScratchDir("sim-crash");
  const std::string model = MakeModelFile(dir, "m.bin");
  auto end = RunInChild([&] {
    FakeClock clock;
    SimulatedBackend backend(Options("iPhone14,7", &clock));
    (void)backend.Load({model, ComputeUnits::kCpuAndNeuralEngine});
  });
  EXPECT_TRUE(end.died());
  EXPECT_FALSE(end.timed_out);
  if (!testing::kSanitizerHandlesSignals) {
    EXPECT_TRUE(end.signaled);
    EXPECT_EQ(end.signal, SIGSEGV);
  }
  // The safe configuration of the same device loads in a child just fine.
  auto ok = RunInChild([&] {
    FakeClock clock;
    SimulatedBackend backend(Options("iPhone14,7", &clock));
    ::_exit(backend.Load({model, ComputeUnits::kCpuAndGpu}).ok() ? 0 : 3);
  });
  EXPECT_FALSE(ok.died());
  fs::remove_all(dir);
}

TEST(SimulatedBackendTest, AbortFaultRaisesSigabrt) {
  const std::string dir = anepilot::testing::ScratchDir("sim-abort");
  const std::string model = MakeModelFile(dir, "m.bin");
  auto end = RunInChild([&] {
    FakeClock clock;
    SimulatedBackendOptions o = Options("iPhone17,2", &clock);
    o.profile.faults = {{ComputeUnits::kAll, FaultStep::kFirstPredict, FaultKind::kAbort, 0}};
    SimulatedBackend backend(o);
    auto m = backend.Load({model, ComputeUnits::kAll});
    if (!m.ok()) ::_exit(3);
    (void)(*m)->Predict(Input({1.0f}));
  });
  EXPECT_TRUE(end.signaled);
  EXPECT_EQ(end.signal, SIGABRT);
  fs::remove_all(dir);
}

TEST(SimulatedBackendTest, HangFaultBlocksUntilKilled) {
  const std::string dir = anepilot::testing::ScratchDir("sim-hang");
  const std::string model = MakeModelFile(dir, "m.bin");
  auto end = RunInChild(
      [&] {
        FakeClock clock;
        SimulatedBackendOptions o = Options("iPhone17,2", &clock);
        o.profile.faults = {{ComputeUnits::kCpuAndNeuralEngine, FaultStep::kLoad, FaultKind::kHang, 0}};
        SimulatedBackend backend(o);
        (void)backend.Load({model, ComputeUnits::kCpuAndNeuralEngine});
      },
      std::chrono::milliseconds(300));
  EXPECT_TRUE(end.timed_out);
  EXPECT_TRUE(end.signaled);
  EXPECT_EQ(end.signal, SIGKILL);
  fs::remove_all(dir);
}

TEST(SimulatedBackendTest, CompileCopiesIntoAnMlmodelcDirectory) {
  FakeClock clock;
  SimulatedBackend backend(Options("iPhone17,2", &clock));
  const std::string dir = anepilot::testing::ScratchDir("sim-compile");
  const std::string src = MakeModelFile(dir, "Detector.mlmodel");
  auto compiled = backend.Compile(src, dir + "/out");
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  EXPECT_EQ(*compiled, dir + "/out/Detector.mlmodelc");
  EXPECT_TRUE(fs::exists(*compiled + "/model.bin"));
  EXPECT_EQ(backend.Compile(dir + "/none.mlmodel", dir + "/out2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend.Compile(src, dir + "/out").status().code(), StatusCode::kInvalidArgument);
  fs::remove_all(dir);
}

TEST(CoreMLStubTest, SaysCoreMLIsUnavailableHere) {
  EXPECT_FALSE(CoreMLAvailable());
  auto backend = MakeCoreMLBackend(CoreMLBackendOptions{});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(backend.status().message().find("Core ML is not available on this platform (Linux)"),
            std::string::npos);
  EXPECT_NE(backend.status().message().find("simulated backend"), std::string::npos);
}

}  // namespace
}  // namespace anepilot::runtime
