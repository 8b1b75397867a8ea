// C++ RAII layer over the C API (runtime.h): handles that free themselves,
// anepilot::Status instead of codes. Header-only; adds no behaviour.
//
//   anepilot::rt::Config config;
//   config.c.device_identifier = "iPhone17,2";  ... (the C struct, defaults set)
//   auto runtime = anepilot::rt::Runtime::Create(config);
//   auto model = runtime->Load("Detector.mlmodelc");
//   auto outputs = model->Predict({{"image", {1, 3, 224, 224}, pixels}});
//
// Thread-safety: as the C API (a Model may predict from several threads).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "anepilot/result.h"
#include "anepilot/runtime.h"
#include "anepilot/status.h"

namespace anepilot::rt {

// The calling thread's last C API error as a Status.
inline Status LastError(anepilot_status code) {
  if (code == ANEPILOT_OK) return Status::Ok();
  return Status(static_cast<StatusCode>(code), anepilot_last_error_message());
}

struct Config {
  Config() { anepilot_runtime_config_init(&c); }
  anepilot_runtime_config c;
};

// An input or output tensor, owning its data.
struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

class Model {
 public:
  Result<std::vector<Tensor>> Predict(const std::vector<Tensor>& inputs) const {
    std::vector<anepilot_tensor> in(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      in[i] = {inputs[i].name.c_str(), inputs[i].shape.data(), inputs[i].shape.size(), inputs[i].data.data(),
               inputs[i].data.size()};
    }
    anepilot_outputs* raw = nullptr;
    anepilot_status s = anepilot_model_predict(handle_.get(), in.data(), in.size(), &raw);
    if (s != ANEPILOT_OK) return LastError(s);
    std::unique_ptr<anepilot_outputs, decltype(&anepilot_outputs_release)> outputs(raw, anepilot_outputs_release);
    std::vector<Tensor> out(anepilot_outputs_count(raw));
    for (size_t i = 0; i < out.size(); ++i) {
      anepilot_tensor t;
      if (anepilot_outputs_get(raw, i, &t) != ANEPILOT_OK) return LastError(ANEPILOT_STATUS_INTERNAL);
      out[i] = {t.name, std::vector<int64_t>(t.shape, t.shape + t.rank), std::vector<float>(t.data, t.data + t.count)};
    }
    return out;
  }

  anepilot_compute_units current_units() const { return anepilot_model_current_units(handle_.get()); }
  std::string hash() const { return anepilot_model_hash(handle_.get()); }
  size_t recovered_crashes() const { return anepilot_model_recovered_crashes(handle_.get()); }

  // The swap decision; wait = true blocks until it is made.
  Result<anepilot_swap_info> SwapInfo(bool wait) const {
    anepilot_swap_info info{};
    info.struct_size = sizeof(info);
    anepilot_status s = anepilot_model_swap_info(handle_.get(), wait ? 1 : 0, &info);
    if (s != ANEPILOT_OK) return LastError(s);
    return info;
  }

  anepilot_model* get() const { return handle_.get(); }

 private:
  friend class Runtime;
  explicit Model(anepilot_model* m) : handle_(m, anepilot_model_release) {}
  std::unique_ptr<anepilot_model, decltype(&anepilot_model_release)> handle_;
};

class Prewarm {
 public:
  void Cancel() { anepilot_prewarm_cancel(handle_.get()); }
  // OK, or kCancelled when cancelled.
  Status Wait(size_t* warmed = nullptr, size_t* failed = nullptr, size_t* skipped = nullptr) {
    return LastError(anepilot_prewarm_wait(handle_.get(), warmed, failed, skipped));
  }

 private:
  friend class Runtime;
  explicit Prewarm(anepilot_prewarm* p) : handle_(p, anepilot_prewarm_release) {}
  std::unique_ptr<anepilot_prewarm, decltype(&anepilot_prewarm_release)> handle_;
};

class Runtime {
 public:
  static Result<Runtime> Create(const Config& config) {
    anepilot_runtime* raw = nullptr;
    anepilot_status s = anepilot_runtime_create(&config.c, &raw);
    if (s != ANEPILOT_OK) return LastError(s);
    return Runtime(raw);
  }

  Result<Model> Load(const std::string& model_path) {
    anepilot_model* raw = nullptr;
    anepilot_status s = anepilot_model_load(handle_.get(), model_path.c_str(), &raw);
    if (s != ANEPILOT_OK) return LastError(s);
    return Model(raw);
  }

  // `progress` may be null; it runs on the prewarm thread.
  Result<Prewarm> StartPrewarm(const std::vector<std::string>& paths, anepilot_prewarm_progress_fn progress = nullptr,
                               void* user_data = nullptr) {
    std::vector<const char*> raw_paths;
    for (const auto& p : paths) raw_paths.push_back(p.c_str());
    anepilot_prewarm* raw = nullptr;
    anepilot_status s =
        anepilot_prewarm_start(handle_.get(), raw_paths.data(), raw_paths.size(), progress, user_data, &raw);
    if (s != ANEPILOT_OK) return LastError(s);
    return Prewarm(raw);
  }

  // Empty when the policy loaded; else why the safe default is in use.
  std::string policy_problem() const {
    const char* p = anepilot_runtime_policy_problem(handle_.get());
    return p ? p : "";
  }

  anepilot_runtime* get() const { return handle_.get(); }

 private:
  explicit Runtime(anepilot_runtime* r) : handle_(r, anepilot_runtime_destroy) {}
  std::unique_ptr<anepilot_runtime, decltype(&anepilot_runtime_destroy)> handle_;
};

}  // namespace anepilot::rt
