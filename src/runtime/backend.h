// The narrow interface every execution backend implements: Core ML on Apple
// platforms, the simulated device everywhere. The portable core (store, crash
// guard, fast-first-then-swap, telemetry) only ever talks to this interface.
//
// A backend turns a model into its compiled form, loads a compiled model with
// one compute-unit configuration, and hands back a LoadedModel that predicts.
// Unloading is destroying the LoadedModel.
//
// Thread-safety: a Backend may be used from several threads at once (the
// runtime loads the faster configuration in the background while the first one
// serves). A LoadedModel's Predict may be called from several threads at once.
#pragma once

#include <memory>
#include <string>

#include "anepilot/compute_units.h"
#include "anepilot/result.h"
#include "runtime/clock.h"
#include "runtime/tensor.h"

namespace anepilot::runtime {

struct LoadRequest {
  // A compiled model (a .mlmodelc directory for Core ML). Its path matters: the
  // system's specialization cache is keyed by it, so callers load from the
  // compiled-model store's stable path, not from a fresh temporary directory.
  std::string compiled_model_path;
  ComputeUnits units = ComputeUnits::kCpuAndGpu;
};

// What a load cost, as measured by the backend around its own work.
struct LoadTimings {
  Nanos load_duration{0};
  // True when the backend knows the load had to specialize (compile) the model
  // for this configuration; false when it hit a cache. Core ML does not say,
  // so its backend infers it from the duration (see coreml_backend.mm).
  bool cold = false;
};

struct PredictTimings {
  Nanos duration{0};
};

class LoadedModel {
 public:
  virtual ~LoadedModel() = default;  // unloads

  // Runs one prediction. Errors: kInvalidArgument for inputs that do not match
  // the model, kInternal / kUnavailable for a backend failure. A prediction that
  // returns non-finite numbers is not an error here: callers validate outputs.
  virtual Result<Tensors> Predict(const Tensors& inputs) = 0;

  virtual ComputeUnits units() const = 0;
  virtual const LoadTimings& load_timings() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Short stable name ("coreml", "simulated") used in telemetry.
  virtual std::string name() const = 0;

  // Compiles the model at `source_path` (.mlmodel, .mlpackage) into a new
  // directory `output_dir` (which must not exist yet); returns the path of the
  // compiled model inside it. Errors: kNotFound, kCorruptModel, kIoError,
  // kUnavailable.
  virtual Result<std::string> Compile(const std::string& source_path,
                                      const std::string& output_dir) = 0;

  // Loads a compiled model with one compute-unit configuration. May take
  // seconds (Neural Engine specialization); blocks the calling thread.
  virtual Result<std::unique_ptr<LoadedModel>> Load(const LoadRequest& request) = 0;
};

}  // namespace anepilot::runtime
