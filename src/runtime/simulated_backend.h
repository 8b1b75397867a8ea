// A Backend that plays a DeviceProfile: it really sleeps for the profile's load
// and prediction times (on the injected Clock, scaled by time_scale), keeps a
// specialization cache like the system's (the first load of a (path, units)
// pair is cold, later ones warm; a new path misses), and carries out the
// profile's faults for real: SIGSEGV, abort, a hang that never returns, NaN
// outputs, error statuses.
//
// The model it "runs" maps every input tensor `x` to an output tensor named
// `x` + "_out" with values 2*x + 1, times (1 + output_error) of the units; a
// tensor named "request_id" is passed through unchanged, so tests can account
// for every prediction.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "runtime/backend.h"
#include "runtime/clock.h"
#include "runtime/device_profile.h"

namespace anepilot::runtime {

struct SimulatedBackendOptions {
  DeviceProfile profile;
  Clock* clock = &SystemClock();  // not owned; must outlive the backend
  // Real (or fake) time slept per simulated millisecond of the profile:
  // 0.1 plays a 2.2 s Neural Engine compile in 220 ms.
  double time_scale = 1.0;
  // Directory persisting the specialization cache across processes (one empty
  // file per (path, units)); empty keeps the cache in memory only.
  std::string cache_dir;
};

class SimulatedBackend final : public Backend {
 public:
  explicit SimulatedBackend(SimulatedBackendOptions options);

  std::string name() const override { return "simulated"; }
  // Copies the source file (or directory) into <output_dir>/<stem>.mlmodelc.
  Result<std::string> Compile(const std::string& source_path, const std::string& output_dir) override;
  Result<std::unique_ptr<LoadedModel>> Load(const LoadRequest& request) override;

  // Counters for tests and the benchmark.
  int loads(ComputeUnits u) const { return loads_[Index(u)].load(); }
  int predictions(ComputeUnits u) const { return predictions_[Index(u)].load(); }
  void CountPrediction(ComputeUnits u) { predictions_[Index(u)].fetch_add(1); }

  const SimulatedBackendOptions& options() const { return options_; }
  // Sleeps `simulated_ms` scaled by time_scale on the clock.
  void Spend(double simulated_ms);
  // Performs a crash / abort / hang fault; returns only for kNan and kError.
  static void CarryOut(FaultKind kind);

 private:
  static size_t Index(ComputeUnits u) { return static_cast<size_t>(u); }
  // True (and records the entry) when (path, units) was not specialized before.
  bool MarkSpecialized(const std::string& path, ComputeUnits units);
  std::string CacheFile(const std::string& path, ComputeUnits units) const;

  SimulatedBackendOptions options_;
  std::mutex mu_;
  std::set<std::pair<std::string, ComputeUnits>> specialized_;  // guarded by mu_
  std::atomic<int> loads_[4] = {};
  std::atomic<int> predictions_[4] = {};
};

}  // namespace anepilot::runtime
