// A simulated device: how long each compute-unit configuration takes to load
// (cold: specializing the model; warm: the system's cache hit) and to predict,
// and which steps fail and how. Drives SimulatedBackend, so the runtime's logic
// (fast first then swap, crash guard, store) runs for real on Linux.
//
// File format (JSON, schema "anepilot.device_profile", version 1):
//   {"schema": "anepilot.device_profile", "version": 1,
//    "identifier": "iPhone14,7", "name": "iPhone 14", "os_build": "22C152",
//    "units": {"cpuAndGPU": {"cold_load_ms": 250, "warm_load_ms": 55,
//                            "predict_ms": 14, "output_error": 0.0}, ...},
//    "faults": [{"units": "cpuAndNeuralEngine", "step": "load", "kind": "crash"},
//               {"units": "all", "step": "predict", "index": 3, "kind": "nan"}]}
// A configuration missing from "units" fails to load with kUnsupported.
// output_error is the relative error that configuration adds to every output
// (the Neural Engine computes in fp16), so agreement checks have work to do.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anepilot/compute_units.h"
#include "anepilot/result.h"

namespace anepilot::runtime {

struct UnitProfile {
  double cold_load_ms = 0;
  double warm_load_ms = 0;
  double predict_ms = 0;
  double output_error = 0;
};

enum class FaultStep { kLoad, kFirstPredict, kPredict };
enum class FaultKind {
  kCrash,  // a real SIGSEGV (invalid memory write)
  kAbort,  // std::abort (SIGABRT), like an uncaught STL exception in E5RT
  kHang,   // blocks the calling thread forever (the watchdog or the user kills the app)
  kNan,    // the step succeeds but the outputs are NaN
  kError,  // the step returns an error status (e.g. "ANECCompile() FAILED")
};

struct Fault {
  ComputeUnits units = ComputeUnits::kCpuAndNeuralEngine;
  FaultStep step = FaultStep::kLoad;
  FaultKind kind = FaultKind::kCrash;
  int index = 0;  // for kPredict: the 0-based prediction (per loaded model) that fails
};

struct DeviceProfile {
  std::string identifier;  // "iPhone17,2"
  std::string name;        // "iPhone 16 Pro Max"
  std::string os_build;    // "22C152"
  std::map<ComputeUnits, UnitProfile> units;
  std::vector<Fault> faults;

  const UnitProfile* Find(ComputeUnits u) const;
  // The fault for (units, step[, prediction index]) or nullptr.
  const Fault* FindFault(ComputeUnits u, FaultStep step, int predict_index = -1) const;
};

std::string_view FaultKindName(FaultKind k);
std::string_view FaultStepName(FaultStep s);

// Errors: kParseError for malformed JSON, kInvalidData for a wrong schema,
// unknown unit / step / kind or negative durations (message names the field).
// `source` names the file in messages.
Result<DeviceProfile> ParseDeviceProfile(std::string_view json, std::string_view source);
Result<DeviceProfile> LoadDeviceProfile(const std::string& path);
std::string DeviceProfileToJson(const DeviceProfile& profile);

// Built-in profiles used by the benchmark and tests. Their numbers are
// illustrative, shaped after public reports (ANE first load ~10x the GPU's on
// A17/A18 phones; ANE loads that kill the process on A15):
//   "iPhone17,2"  iPhone 16 Pro Max: ANE cold load ~10x the GPU's, ANE ~4x faster per prediction.
//   "iPhone14,7"  iPhone 14: cpuAndNeuralEngine and all crash (SIGSEGV) while loading.
//   "zero-latency" every configuration loads and predicts instantly (overhead measurements).
std::optional<DeviceProfile> BuiltinDeviceProfile(std::string_view identifier);

}  // namespace anepilot::runtime
