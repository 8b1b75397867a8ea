#include "runtime/simulated_backend.h"

#include <cstdint>
#include <cstdlib>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "base/sha256.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;

class SimulatedModel final : public LoadedModel {
 public:
  SimulatedModel(SimulatedBackend* backend, ComputeUnits units, UnitProfile profile,
                 LoadTimings timings, bool nan_outputs)
      : backend_(backend), units_(units), profile_(profile), timings_(timings),
        nan_outputs_(nan_outputs) {}

  Result<Tensors> Predict(const Tensors& inputs) override {
    const int index = next_index_.fetch_add(1);
    const DeviceProfile& device = backend_->options().profile;
    const Fault* fault = index == 0 ? device.FindFault(units_, FaultStep::kFirstPredict) : nullptr;
    if (fault == nullptr) fault = device.FindFault(units_, FaultStep::kPredict, index);
    backend_->Spend(profile_.predict_ms);
    bool nan = nan_outputs_;
    if (fault != nullptr) {
      SimulatedBackend::CarryOut(fault->kind);
      if (fault->kind == FaultKind::kError) {
        return Internal("simulated " + std::string(ComputeUnitsName(units_)) +
                        " prediction failed (fault injected by device profile '" +
                        device.identifier + "')");
      }
      nan = nan || fault->kind == FaultKind::kNan;
    }
    Tensors out;
    out.reserve(inputs.size());
    const float gain = static_cast<float>(1.0 + profile_.output_error);
    for (const Tensor& in : inputs) {
      if (static_cast<int64_t>(in.data.size()) != in.ElementCount()) {
        return InvalidArgument("input '" + in.name + "': " + std::to_string(in.data.size()) +
                               " values for a shape of " + std::to_string(in.ElementCount()) +
                               " elements");
      }
      if (in.name == "request_id") {
        out.push_back(in);
        continue;
      }
      Tensor t{in.name + "_out", in.shape, std::vector<float>(in.data.size())};
      for (size_t i = 0; i < in.data.size(); ++i) {
        t.data[i] = nan ? std::numeric_limits<float>::quiet_NaN() : (2.0f * in.data[i] + 1.0f) * gain;
      }
      out.push_back(std::move(t));
    }
    backend_->CountPrediction(units_);
    return out;
  }

  ComputeUnits units() const override { return units_; }
  const LoadTimings& load_timings() const override { return timings_; }

 private:
  SimulatedBackend* backend_;
  ComputeUnits units_;
  UnitProfile profile_;
  LoadTimings timings_;
  bool nan_outputs_;
  std::atomic<int> next_index_{0};
};

}  // namespace

SimulatedBackend::SimulatedBackend(SimulatedBackendOptions options) : options_(std::move(options)) {}

void SimulatedBackend::Spend(double simulated_ms) {
  if (simulated_ms <= 0) return;
  options_.clock->SleepFor(FromMillis(simulated_ms * options_.time_scale));
}

void SimulatedBackend::CarryOut(FaultKind kind) {
  switch (kind) {
    case FaultKind::kCrash: {
      // A real invalid memory access, as when the ANE runtime dereferences a bad
      // pointer: the kernel sends SIGSEGV. raise() backs it up should the page
      // at address 8 ever be mapped.
      static volatile uintptr_t bad_address = 8;
      *reinterpret_cast<volatile int*>(bad_address) = 1;
      std::raise(SIGSEGV);
      std::abort();
    }
    case FaultKind::kAbort:
      std::abort();
    case FaultKind::kHang:
      for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
    case FaultKind::kNan:
    case FaultKind::kError:
      return;
  }
}

std::string SimulatedBackend::CacheFile(const std::string& path, ComputeUnits units) const {
  return options_.cache_dir + "/" + Sha256Hex(path + "|" + std::string(ComputeUnitsName(units)));
}

bool SimulatedBackend::MarkSpecialized(const std::string& path, ComputeUnits units) {
  std::lock_guard<std::mutex> lock(mu_);
  bool fresh = specialized_.insert({path, units}).second;
  if (!options_.cache_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options_.cache_dir, ec);
    const std::string file = CacheFile(path, units);
    fresh = !fs::exists(file, ec);
    if (fresh) std::ofstream(file).put('\n');
  }
  return fresh;
}

Result<std::string> SimulatedBackend::Compile(const std::string& source_path,
                                              const std::string& output_dir) {
  std::error_code ec;
  if (!fs::exists(source_path, ec)) return NotFound(source_path + ": model not found");
  if (fs::exists(output_dir, ec)) return InvalidArgument(output_dir + ": compile output directory already exists");
  const std::string compiled = output_dir + "/" + fs::path(source_path).stem().string() + ".mlmodelc";
  fs::create_directories(compiled, ec);
  if (ec) return IoError(compiled + ": cannot create directory: " + ec.message());
  if (fs::is_directory(source_path)) {
    fs::copy(source_path, compiled, fs::copy_options::recursive, ec);
  } else {
    fs::copy_file(source_path, compiled + "/model.bin", ec);
  }
  if (ec) return IoError(source_path + ": cannot copy into " + compiled + ": " + ec.message());
  return compiled;
}

Result<std::unique_ptr<LoadedModel>> SimulatedBackend::Load(const LoadRequest& request) {
  std::error_code ec;
  if (!fs::exists(request.compiled_model_path, ec)) {
    return NotFound(request.compiled_model_path + ": compiled model not found");
  }
  const DeviceProfile& device = options_.profile;
  const UnitProfile* unit = device.Find(request.units);
  if (unit == nullptr) {
    return Unsupported("device profile '" + device.identifier + "' has no timings for " +
                       std::string(ComputeUnitsName(request.units)));
  }
  loads_[Index(request.units)].fetch_add(1);
  const Nanos start = options_.clock->Now();
  const Fault* fault = device.FindFault(request.units, FaultStep::kLoad);
  // A failing load never completes specialization, so it stays cold.
  const bool cold = fault != nullptr || MarkSpecialized(request.compiled_model_path, request.units);
  Spend(cold ? unit->cold_load_ms : unit->warm_load_ms);
  bool nan_outputs = false;
  if (fault != nullptr) {
    CarryOut(fault->kind);
    if (fault->kind == FaultKind::kError) {
      return Internal("simulated " + std::string(ComputeUnitsName(request.units)) +
                      " load failed: ANECCompile() FAILED (fault injected by device profile '" +
                      device.identifier + "')");
    }
    nan_outputs = true;
  }
  LoadTimings timings{options_.clock->Now() - start, cold};
  return std::unique_ptr<LoadedModel>(
      new SimulatedModel(this, request.units, *unit, timings, nan_outputs));
}

}  // namespace anepilot::runtime
