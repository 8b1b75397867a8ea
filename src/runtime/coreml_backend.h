// The Core ML backend: Apple platforms only. Implemented in coreml_backend.mm;
// everywhere else coreml_backend_stub.cc provides the same functions, which
// report kUnavailable, so everything above builds and tests on Linux.
//
// The backend stays thin: it compiles (MLModel compileModelAtURL), loads with
// MLModelConfiguration.computeUnits through the asynchronous loader, predicts
// with MLMultiArray float32 features and, where the OS has MLComputePlan
// (iOS 17.4 / macOS 14.4), reports where each op would run. Choosing units,
// guarding against crashes, caching compiled models and swapping live in the
// portable core.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "anepilot/result.h"
#include "runtime/backend.h"

namespace anepilot::runtime {

struct CoreMLBackendOptions {
  // A load slower than this is reported as cold (Core ML does not say whether
  // it specialized the model or hit its cache).
  double cold_load_threshold_ms = 200;
  // When set, called after each successful load with a JSON text describing
  // the compute plan (per op: name, type, preferred device, estimated cost).
  // Never called where MLComputePlan is unavailable.
  std::function<void(const std::string& compiled_model_path, const std::string& plan_json)>
      compute_plan_sink;
};

// True on platforms where Core ML is linked in.
bool CoreMLAvailable();

// Errors: kUnavailable off Apple platforms ("Core ML is not available on this
// platform (Linux): use the simulated backend").
Result<std::unique_ptr<Backend>> MakeCoreMLBackend(const CoreMLBackendOptions& options);

}  // namespace anepilot::runtime
