// anepilot_runtime_child: plays one app launch through the C API on the
// simulated backend, for the runtime's process tests (runtime_process_test.cc)
// and the benchmark. When the device profile says a step crashes, it really
// dies (SIGSEGV, abort, hang).
//
//   anepilot_runtime_child --state DIR --profile ID|FILE --model PATH
//       [--os-build B] [--app-version A] [--policy FILE] [--override TEXT]
//       [--time-scale S] [--cache-dir DIR] [--predictions N] [--no-swap]
//
// Protocol on stdout, one line per write(2) so the parent sees each line even
// when the process dies right after:
//   RECOVERED <n>                      crashes of earlier launches recovered
//   SERVING <units>                    the configuration serving first
//   PREDICTED <n>                      predictions answered
//   SWAP <state> <units now serving>
// Exit 0 on success; 3 on an API error (line "ERROR <status> <message>").
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "anepilot/runtime.h"

namespace {

void Say(const std::string& line) {
  std::string l = line + "\n";
  (void)!::write(STDOUT_FILENO, l.data(), l.size());
}

[[noreturn]] void Fail(anepilot_status s) {
  Say(std::string("ERROR ") + anepilot_status_name(s) + " " + anepilot_last_error_message());
  std::_Exit(3);
}

const char* SwapStateName(anepilot_swap_state s) {
  static const char* names[] = {"pending",        "not_attempted", "swapped",     "load_failed", "predict_failed",
                                "non_finite",     "disagrees",     "not_faster",  "cancelled"};
  return names[s];
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  bool swap = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-swap") {
      swap = false;
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      args[a.substr(2)] = argv[++i];
    } else {
      Say("ERROR bad argument " + a);
      return 2;
    }
  }
  for (const char* required : {"state", "profile", "model"}) {
    if (!args.count(required)) {
      Say(std::string("ERROR missing --") + required);
      return 2;
    }
  }
  if (!args.count("os-build")) args["os-build"] = "22C152";
  if (!args.count("app-version")) args["app-version"] = "1.0 (1)";

  anepilot_runtime_config config;
  anepilot_runtime_config_init(&config);
  config.device_identifier = args["profile"].find('/') == std::string::npos ? args["profile"].c_str() : "simulated";
  config.os_version = "18.2";
  config.os_build = args["os-build"].c_str();
  config.app_version = args["app-version"].c_str();
  config.state_dir = args["state"].c_str();
  config.policy_path = args.count("policy") ? args["policy"].c_str() : nullptr;
  config.policy_override = args.count("override") ? args["override"].c_str() : nullptr;
  config.backend = ANEPILOT_BACKEND_SIMULATED;
  config.simulated_profile = args["profile"].c_str();
  config.simulated_time_scale = args.count("time-scale") ? std::atof(args["time-scale"].c_str()) : 0.001;
  config.simulated_cache_dir = args.count("cache-dir") ? args["cache-dir"].c_str() : nullptr;
  config.swap_enabled = swap ? 1 : 0;
  config.last_exit_reason = ANEPILOT_EXIT_CRASH;

  anepilot_runtime* runtime = nullptr;
  anepilot_status s = anepilot_runtime_create(&config, &runtime);
  if (s != ANEPILOT_OK) Fail(s);
  anepilot_model* model = nullptr;
  s = anepilot_model_load(runtime, args["model"].c_str(), &model);
  if (s != ANEPILOT_OK) Fail(s);
  Say("RECOVERED " + std::to_string(anepilot_model_recovered_crashes(model)));
  Say(std::string("SERVING ") + anepilot_compute_units_name(anepilot_model_current_units(model)));

  const int predictions = args.count("predictions") ? std::atoi(args["predictions"].c_str()) : 3;
  std::vector<float> x = {1.0f, 2.0f, 3.0f, 4.0f};
  const int64_t shape[] = {1, 4};
  anepilot_tensor input = {"x", shape, 2, x.data(), x.size()};
  for (int i = 0; i < predictions; ++i) {
    anepilot_outputs* out = nullptr;
    s = anepilot_model_predict(model, &input, 1, &out);
    if (s != ANEPILOT_OK) Fail(s);
    anepilot_outputs_release(out);
  }
  Say("PREDICTED " + std::to_string(predictions));
  anepilot_swap_info info{};
  info.struct_size = sizeof(info);
  s = anepilot_model_swap_info(model, predictions > 0 ? 1 : 0, &info);
  if (s != ANEPILOT_OK) Fail(s);
  Say(std::string("SWAP ") + SwapStateName(info.state) + " " +
      anepilot_compute_units_name(anepilot_model_current_units(model)));
  anepilot_model_release(model);
  anepilot_runtime_destroy(runtime);
  return 0;
}
