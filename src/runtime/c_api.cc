// The C API (include/anepilot/runtime.h) over RuntimeCore. Every entry point
// catches nothing and throws nothing: the core reports errors as Status, and
// allocation failure is left to terminate as it would in the caller's code.
#include "anepilot/runtime.h"

#include <cstring>
#include <memory>
#include <string>

#include "runtime/coreml_backend.h"
#include "runtime/runtime_core.h"
#include "runtime/simulated_backend.h"

using anepilot::ComputeUnits;
using anepilot::Status;
using anepilot::StatusCode;
namespace rt = anepilot::runtime;

struct anepilot_runtime {
  std::unique_ptr<rt::RuntimeCore> core;
  std::string policy_problem;
  std::unique_ptr<anepilot::FixedExitReason> exit_reason;  // outlives the core's guards
};

struct anepilot_model {
  std::unique_ptr<rt::RuntimeModel> model;
};

struct anepilot_outputs {
  rt::Tensors tensors;
};

struct anepilot_prewarm {
  std::unique_ptr<rt::Prewarmer> prewarmer;
  anepilot_prewarm_progress_fn progress = nullptr;
  void* user_data = nullptr;
};

namespace {

thread_local std::string last_error;

anepilot_status Fail(const Status& s) {
  last_error = s.message();
  return static_cast<anepilot_status>(s.code());
}

anepilot_status Fail(StatusCode code, std::string message) { return Fail(Status(code, std::move(message))); }

anepilot_status Ok() {
  last_error.clear();
  return ANEPILOT_OK;
}

std::string Str(const char* s) { return s ? std::string(s) : std::string(); }

ComputeUnits ToUnits(anepilot_compute_units u) { return static_cast<ComputeUnits>(u); }
anepilot_compute_units FromUnits(ComputeUnits u) { return static_cast<anepilot_compute_units>(u); }

anepilot::Result<std::shared_ptr<rt::Backend>> MakeBackend(const anepilot_runtime_config& c) {
  switch (c.backend) {
    case ANEPILOT_BACKEND_COREML: {
      ANEPILOT_ASSIGN_OR_RETURN(auto backend, rt::MakeCoreMLBackend(rt::CoreMLBackendOptions{}));
      return std::shared_ptr<rt::Backend>(std::move(backend));
    }
    case ANEPILOT_BACKEND_SIMULATED: {
      const std::string profile = Str(c.simulated_profile);
      if (profile.empty()) return anepilot::InvalidArgument("config.simulated_profile: required for the simulated backend");
      rt::SimulatedBackendOptions o;
      if (auto builtin = rt::BuiltinDeviceProfile(profile)) {
        o.profile = *builtin;
      } else {
        auto loaded = rt::LoadDeviceProfile(profile);
        if (!loaded.ok()) {
          return Status(loaded.status().code() == StatusCode::kNotFound ? StatusCode::kInvalidArgument
                                                                        : loaded.status().code(),
                        "config.simulated_profile: '" + profile +
                            "' is neither a built-in profile (iPhone17,2, iPhone14,7, zero-latency) "
                            "nor a readable profile file: " + loaded.status().message());
        }
        o.profile = *loaded;
      }
      if (!(c.simulated_time_scale >= 0)) return anepilot::InvalidArgument("config.simulated_time_scale: must be >= 0");
      o.time_scale = c.simulated_time_scale;
      o.cache_dir = Str(c.simulated_cache_dir);
      return std::shared_ptr<rt::Backend>(std::make_shared<rt::SimulatedBackend>(std::move(o)));
    }
  }
  return anepilot::InvalidArgument("config.backend: unknown backend kind " + std::to_string(static_cast<int>(c.backend)));
}

}  // namespace

extern "C" {

void anepilot_runtime_config_init(anepilot_runtime_config* config) {
  if (!config) return;
  std::memset(config, 0, sizeof(*config));
  config->struct_size = sizeof(*config);
  config->abi_version = ANEPILOT_RUNTIME_ABI_VERSION;
  config->backend = ANEPILOT_BACKEND_COREML;
  config->simulated_time_scale = 1.0;
  config->swap_enabled = 1;
  config->swap_tolerance = 1e-2;
  config->store_byte_budget = uint64_t{2} << 30;
  config->telemetry_enabled = 1;
  config->last_exit_reason = ANEPILOT_EXIT_UNKNOWN;
  config->fsync_on_path = 0;
  config->release_wait_ms = static_cast<uint32_t>(rt::kDefaultReleaseWait.count());
}

anepilot_status anepilot_runtime_create(const anepilot_runtime_config* config, anepilot_runtime** out_runtime) {
  if (!config || !out_runtime) return Fail(StatusCode::kInvalidArgument, "anepilot_runtime_create: NULL argument");
  *out_runtime = nullptr;
  if (config->abi_version != ANEPILOT_RUNTIME_ABI_VERSION) {
    return Fail(StatusCode::kInvalidArgument,
                "config.abi_version: " + std::to_string(config->abi_version) + " is not supported (this library speaks " +
                    std::to_string(ANEPILOT_RUNTIME_ABI_VERSION) + "); call anepilot_runtime_config_init");
  }
  constexpr size_t kMinSize = offsetof(anepilot_runtime_config, state_dir) + sizeof(const char*);
  if (config->struct_size < kMinSize) {
    return Fail(StatusCode::kInvalidArgument, "config.struct_size: " + std::to_string(config->struct_size) +
                                                  " is too small; call anepilot_runtime_config_init");
  }
  // Fields past the caller's struct_size keep their defaults.
  anepilot_runtime_config c;
  anepilot_runtime_config_init(&c);
  std::memcpy(&c, config, std::min<size_t>(config->struct_size, sizeof(c)));

  if (Str(c.device_identifier).empty()) return Fail(StatusCode::kInvalidArgument, "config.device_identifier: required (e.g. \"iPhone14,7\")");
  if (Str(c.os_build).empty()) return Fail(StatusCode::kInvalidArgument, "config.os_build: required (e.g. \"22C152\")");
  if (Str(c.app_version).empty()) return Fail(StatusCode::kInvalidArgument, "config.app_version: required (it keys the crash guard)");
  if (Str(c.state_dir).empty()) return Fail(StatusCode::kInvalidArgument, "config.state_dir: required");

  auto runtime = std::make_unique<anepilot_runtime>();
  rt::RuntimeOptions o;
  o.device.device = Str(c.device_identifier);
  o.device.chip = Str(c.chip);
  o.device.os_version = Str(c.os_version);
  o.device.os_build = Str(c.os_build);
  o.app_version = Str(c.app_version);
  o.state_dir = Str(c.state_dir);
  o.policy_path = Str(c.policy_path);
  if (c.policy_override) {
    auto parsed = anepilot::ParsePolicyOverride(c.policy_override);
    if (!parsed.ok()) return Fail(parsed.status().WithContext("config.policy_override"));
    o.policy_override = *parsed;
  }
  auto backend = MakeBackend(c);
  if (!backend.ok()) return Fail(backend.status());
  o.backend = *backend;
  o.swap.enabled = c.swap_enabled != 0;
  o.swap.tolerance = c.swap_tolerance;
  o.store_byte_budget = c.store_byte_budget;
  o.telemetry = c.telemetry_enabled != 0;
  o.session_id = Str(c.session_id);
  o.defer_fsync = c.fsync_on_path == 0;
  o.release_wait = std::chrono::milliseconds(c.release_wait_ms);
  if (c.last_exit_reason != ANEPILOT_EXIT_UNKNOWN) {
    runtime->exit_reason = std::make_unique<anepilot::FixedExitReason>(
        static_cast<anepilot::ExitReason>(static_cast<int>(c.last_exit_reason)));
    o.exit_reasons = runtime->exit_reason.get();
  }
  auto core = rt::RuntimeCore::Create(std::move(o));
  if (!core.ok()) return Fail(core.status());
  runtime->core = std::move(core).value();
  if (!runtime->core->policy_status().ok()) runtime->policy_problem = runtime->core->policy_status().ToString();
  *out_runtime = runtime.release();
  return Ok();
}

void anepilot_runtime_destroy(anepilot_runtime* runtime) { delete runtime; }

const char* anepilot_runtime_policy_problem(const anepilot_runtime* runtime) {
  if (!runtime || runtime->policy_problem.empty()) return nullptr;
  return runtime->policy_problem.c_str();
}

anepilot_status anepilot_model_load(anepilot_runtime* runtime, const char* model_path, anepilot_model** out_model) {
  if (!runtime || !model_path || !out_model) return Fail(StatusCode::kInvalidArgument, "anepilot_model_load: NULL argument");
  *out_model = nullptr;
  auto loaded = runtime->core->LoadModel(model_path);
  if (!loaded.ok()) return Fail(loaded.status());
  *out_model = new anepilot_model{std::move(loaded).value()};
  return Ok();
}

void anepilot_model_release(anepilot_model* model) { delete model; }

anepilot_compute_units anepilot_model_current_units(const anepilot_model* model) {
  return model ? FromUnits(model->model->current_units()) : ANEPILOT_UNITS_CPU_ONLY;
}

const char* anepilot_model_hash(const anepilot_model* model) {
  return model ? model->model->model_hash().c_str() : "";
}

size_t anepilot_model_recovered_crashes(const anepilot_model* model) {
  return model ? model->model->recovered().size() : 0;
}

anepilot_status anepilot_model_swap_info(anepilot_model* model, int wait, anepilot_swap_info* out_info) {
  if (!model || !out_info) return Fail(StatusCode::kInvalidArgument, "anepilot_model_swap_info: NULL argument");
  if (out_info->struct_size < sizeof(anepilot_swap_info)) {
    return Fail(StatusCode::kInvalidArgument, "anepilot_swap_info.struct_size: set it to sizeof(anepilot_swap_info)");
  }
  rt::SwapOutcome o = wait ? model->model->WaitForSwapDecision() : model->model->swap_outcome();
  out_info->state = static_cast<anepilot_swap_state>(o.state);
  out_info->candidate_units = o.candidate ? static_cast<int32_t>(*o.candidate) : -1;
  out_info->candidate_ms = o.candidate_ms;
  out_info->current_ms = o.current_ms;
  out_info->max_difference = o.max_difference;
  return Ok();
}

anepilot_status anepilot_model_predict(anepilot_model* model, const anepilot_tensor* inputs, size_t input_count,
                                       anepilot_outputs** out_outputs) {
  if (!model || !out_outputs || (input_count > 0 && !inputs)) {
    return Fail(StatusCode::kInvalidArgument, "anepilot_model_predict: NULL argument");
  }
  *out_outputs = nullptr;
  rt::Tensors in(input_count);
  for (size_t i = 0; i < input_count; ++i) {
    const anepilot_tensor& t = inputs[i];
    if (!t.name || (t.rank > 0 && !t.shape) || (t.count > 0 && !t.data)) {
      return Fail(StatusCode::kInvalidArgument, "anepilot_model_predict: input " + std::to_string(i) + " has a NULL pointer");
    }
    in[i].name = t.name;
    in[i].shape.assign(t.shape, t.shape + t.rank);
    in[i].data.assign(t.data, t.data + t.count);
    if (static_cast<int64_t>(t.count) != in[i].ElementCount()) {
      return Fail(StatusCode::kInvalidArgument, "input '" + in[i].name + "': count " + std::to_string(t.count) +
                                                    " does not match its shape (" +
                                                    std::to_string(in[i].ElementCount()) + " elements)");
    }
  }
  auto out = model->model->Predict(in);
  if (!out.ok()) return Fail(out.status());
  *out_outputs = new anepilot_outputs{std::move(out).value()};
  return Ok();
}

size_t anepilot_outputs_count(const anepilot_outputs* outputs) { return outputs ? outputs->tensors.size() : 0; }

anepilot_status anepilot_outputs_get(const anepilot_outputs* outputs, size_t index, anepilot_tensor* out_tensor) {
  if (!outputs || !out_tensor) return Fail(StatusCode::kInvalidArgument, "anepilot_outputs_get: NULL argument");
  if (index >= outputs->tensors.size()) {
    return Fail(StatusCode::kInvalidArgument, "anepilot_outputs_get: index " + std::to_string(index) + " >= count " +
                                                  std::to_string(outputs->tensors.size()));
  }
  const rt::Tensor& t = outputs->tensors[index];
  out_tensor->name = t.name.c_str();
  out_tensor->shape = t.shape.data();
  out_tensor->rank = t.shape.size();
  out_tensor->data = t.data.data();
  out_tensor->count = t.data.size();
  return Ok();
}

void anepilot_outputs_release(anepilot_outputs* outputs) { delete outputs; }

anepilot_status anepilot_prewarm_start(anepilot_runtime* runtime, const char* const* model_paths, size_t count,
                                       anepilot_prewarm_progress_fn progress, void* user_data,
                                       anepilot_prewarm** out_prewarm) {
  if (!runtime || !out_prewarm || (count > 0 && !model_paths)) {
    return Fail(StatusCode::kInvalidArgument, "anepilot_prewarm_start: NULL argument");
  }
  std::vector<std::string> paths;
  for (size_t i = 0; i < count; ++i) {
    if (!model_paths[i]) return Fail(StatusCode::kInvalidArgument, "anepilot_prewarm_start: model_paths[" + std::to_string(i) + "] is NULL");
    paths.emplace_back(model_paths[i]);
  }
  auto handle = std::make_unique<anepilot_prewarm>();
  handle->progress = progress;
  handle->user_data = user_data;
  anepilot_prewarm* raw = handle.get();
  rt::Prewarmer::ProgressFn fn;
  if (progress) {
    fn = [raw](const rt::PrewarmProgress& p) {
      raw->progress(raw->user_data, p.index, p.done, p.total, p.item.c_str(),
                    static_cast<anepilot_status>(p.status.code()));
    };
  }
  handle->prewarmer = runtime->core->Prewarm(std::move(paths), std::move(fn));
  *out_prewarm = handle.release();
  return Ok();
}

void anepilot_prewarm_cancel(anepilot_prewarm* prewarm) {
  if (prewarm) prewarm->prewarmer->Cancel();
}

anepilot_status anepilot_prewarm_wait(anepilot_prewarm* prewarm, size_t* warmed, size_t* failed, size_t* skipped) {
  if (!prewarm) return Fail(StatusCode::kInvalidArgument, "anepilot_prewarm_wait: NULL argument");
  rt::PrewarmSummary s = prewarm->prewarmer->Wait();
  if (warmed) *warmed = s.warmed;
  if (failed) *failed = s.failed;
  if (skipped) *skipped = s.skipped;
  if (s.cancelled) return Fail(StatusCode::kCancelled, "prewarm cancelled; " + std::to_string(s.skipped) + " models skipped");
  return Ok();
}

void anepilot_prewarm_release(anepilot_prewarm* prewarm) { delete prewarm; }

const char* anepilot_last_error_message(void) { return last_error.c_str(); }

const char* anepilot_status_name(anepilot_status status) {
  return anepilot::StatusCodeName(static_cast<StatusCode>(status)).data();
}

const char* anepilot_compute_units_name(anepilot_compute_units units) {
  if (units < ANEPILOT_UNITS_CPU_ONLY || units > ANEPILOT_UNITS_ALL) return "unknown";
  return anepilot::ComputeUnitsName(ToUnits(units)).data();
}

}  // extern "C"
