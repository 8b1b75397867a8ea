// Fault injection with real processes: thousands of app launches of
// anepilot_crash_child that really crash (SIGSEGV, abort, SIGKILL, hang then
// killed), are killed at random instants (user and memory kills, also in the
// middle of state writes), across devices, OS updates, app updates and
// models. Asserts, for every launch:
//   - a (key, configuration) that killed the process is never tried again,
//     so it never kills the process twice;
//   - a configuration the policy blocks for the device is never tried;
//   - the guard state always parses (never corrupt, never a PROBLEM line);
//   - the last remaining choice is always a safe one (cpuAndGPU / cpuOnly).
// Half the launches queue their marker fsyncs (--deferred-sync, as the
// runtime does), half wait for them.
// ANEPILOT_FAULT_LAUNCHES and ANEPILOT_FAULT_SEED change the size and seed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "anepilot/policy.h"
#include "base/test_paths.h"
#include "guard/crash_guard.h"
#include "guard/guard_state.h"

namespace anepilot {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kDevices = {"iPhone14,7", "iPhone15,2", "iPhone17,2",
                                           "iPhone12,1", "iPad13,4",   "iPhone16,1"};
const std::vector<std::string> kCrashModes = {"segv", "abort", "sigkill", "hang"};
const std::vector<std::string> kRiskyUnits = {"all", "cpuAndNeuralEngine", "cpuAndGPU"};

std::string ModelHash(int m) { return std::string(63, 'a' + m) + "0"; }

// What the policy blocks per device (the test's own table, written into the
// policy file below): A15 phones block every ANE option; iPhone15,* blocks all.
std::set<std::string> PolicyBlocked(const std::string& device) {
  if (device == "iPhone14,7") return {"all", "cpuAndNeuralEngine"};
  if (device.rfind("iPhone15,", 0) == 0) return {"all"};
  return {};
}

Policy MakePolicy() {
  Policy p;
  p.generated_by = "fault test";
  p.default_policy = SafeDefaultPolicy();
  for (int m = 0; m < 2; ++m) {  // model 2 is not in the policy: safe default
    ModelPolicy mp;
    mp.model_hash = ModelHash(m);
    for (const char* device : {"iPhone14,7", "iPhone15,*", "*"}) {
      PolicyRule r;
      r.match.device = device;
      for (auto u : {ComputeUnits::kAll, ComputeUnits::kCpuAndNeuralEngine, ComputeUnits::kCpuAndGpu,
                     ComputeUnits::kCpuOnly}) {
        r.choices.push_back(ChoiceOf(u));
      }
      for (const std::string& b : PolicyBlocked(device == std::string("iPhone15,*") ? "iPhone15,2" : device)) {
        r.blocked.push_back({*ParseComputeUnits(b), "test block", "test"});
      }
      mp.rules.push_back(r);
    }
    p.models.push_back(mp);
  }
  return p;
}

// Whether (key, units) is deadly, where, and how: a fixed function of its
// inputs, so every launch with the same key meets the same fault.
struct Fault {
  std::string step;
  std::string mode;
};
std::optional<Fault> DeadlyFault(const std::string& key, const std::string& units) {
  uint64_t h = std::hash<std::string>{}(key + "|" + units);
  int percent = units == "cpuAndGPU" ? 25 : 55;
  if (static_cast<int>(h % 100) >= percent) return std::nullopt;
  return Fault{(h >> 8) % 2 ? "load" : "first_prediction", kCrashModes[(h >> 16) % kCrashModes.size()]};
}

struct ChildRun {
  std::vector<std::string> lines;
  int status = 0;
  pid_t pid = 0;
  bool killed_by_us = false;  // hang, pause or a random kill
};

// fork + exec the child with stdout on a pipe; kills it when it announces a
// hang or a pause, or at `kill_at` (a random user/memory kill).
ChildRun RunChild(const std::vector<std::string>& args, std::optional<Clock::time_point> kill_at) {
  ChildRun run;
  int fds[2];
  if (::pipe(fds) != 0) return run;
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  run.pid = pid;
  ::close(fds[1]);
  std::string buffer;
  bool open = true;
  Clock::time_point give_up = Clock::now() + std::chrono::seconds(20);
  while (open) {
    int timeout_ms = 50;
    if (kill_at && !run.killed_by_us) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*kill_at - Clock::now()).count();
      timeout_ms = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left, 50)));
    }
    pollfd p{fds[0], POLLIN, 0};
    int ready = ::poll(&p, 1, timeout_ms);
    if (ready > 0) {
      char chunk[512];
      ssize_t n = ::read(fds[0], chunk, sizeof chunk);
      if (n <= 0) {
        open = false;
      } else {
        buffer.append(chunk, static_cast<size_t>(n));
      }
      size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        run.lines.push_back(line);
        bool waits = line.rfind("DYING", 0) == 0 &&
                     (line.ends_with(" hang") || line.ends_with(" pause"));
        if (waits && !run.killed_by_us) {
          ::kill(pid, SIGKILL);  // the watchdog, or the user swiping the app away
          run.killed_by_us = true;
        }
      }
    }
    if (kill_at && !run.killed_by_us && Clock::now() >= *kill_at) {
      ::kill(pid, SIGKILL);
      run.killed_by_us = true;
    }
    if (Clock::now() > give_up && !run.killed_by_us) {
      ::kill(pid, SIGKILL);
      run.killed_by_us = true;
      run.lines.push_back("TIMEOUT");
    }
  }
  ::close(fds[0]);
  ::waitpid(pid, &run.status, 0);
  return run;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

struct Phone {
  std::string device;
  std::string dir;
  int os = 0;
  int app = 0;
  std::string prev_exit = "unknown";
  std::deque<std::pair<pid_t, std::string>> recent_exits;  // pid -> reason
};

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

TEST(CrashGuardFaultInjection, NoConfigurationKillsTheAppTwice) {
  const int launches = EnvInt("ANEPILOT_FAULT_LAUNCHES", 2000);
  const unsigned seed = static_cast<unsigned>(EnvInt("ANEPILOT_FAULT_SEED", 20261125));
  std::mt19937 rng(seed);
  std::string root = anepilot::testing::ScratchDir("fault-injection");
  fs::remove_all(root);
  fs::create_directories(root);
  // The guard's state lives on tmpfs when there is one: the same code and the
  // same fsync calls run, but a shared CI disk's fsync latency does not set
  // the test's duration. (A kill cannot lose page-cache data, so process
  // deaths are tested exactly; power loss is not simulated either way.)
  std::string state_root = root;
  if (fs::is_directory("/dev/shm") && ::access("/dev/shm", W_OK) == 0) {
    state_root = "/dev/shm/anepilot-fault-" + std::to_string(::getpid());
    fs::remove_all(state_root);
    fs::create_directories(state_root);
  }
  std::string policy_path = root + "/policy.json";
  ASSERT_TRUE(WritePolicyFile(MakePolicy(), policy_path).ok());

  std::vector<Phone> phones;
  for (size_t i = 0; i < kDevices.size(); ++i) {
    Phone phone;
    phone.device = kDevices[i];
    phone.dir = state_root + "/phone" + std::to_string(i);
    phones.push_back(std::move(phone));
  }

  std::map<std::string, int> crash_deaths;  // "key|units" -> deaths by a crash fault
  std::map<std::string, int> stats;
  int repeats = 0, tried_after_crash = 0, tried_policy_blocked = 0, unsafe_tail = 0;
  int state_failures = 0, problems = 0, errors = 0;
  auto start = Clock::now();

  for (int launch = 0; launch < launches; ++launch) {
    Phone& phone = phones[rng() % phones.size()];
    // Updates only move forward, as on a real phone: a key never comes back
    // once its environment changed (going back would re-arm, by design).
    if (rng() % 100 < 4) ++phone.os;   // OS update
    if (rng() % 100 < 4) ++phone.app;  // app update
    int model = static_cast<int>(rng() % 3);
    std::string os_build = "22C" + std::to_string(152 + phone.os);
    std::string app = "1." + std::to_string(phone.app);
    std::string key = phone.device + "|" + os_build + "|" + ModelHash(model) + "|" + app;

    std::string faults;
    bool pause_launch = rng() % 100 < 8;
    std::string pause_step = rng() % 2 ? "load" : "first_prediction";
    for (std::string units : {"all", "cpuAndNeuralEngine", "cpuAndGPU", "cpuOnly"}) {
      auto f = units == "cpuOnly" ? std::nullopt : DeadlyFault(key, units);
      if (f) faults += (faults.empty() ? "" : ",") + units + ":" + f->step + ":" + f->mode;
      if (pause_launch && !(f && f->step == pause_step)) {
        faults += (faults.empty() ? "" : ",") + units + ":" + pause_step + ":pause";
      }
    }
    std::string reasons;
    for (const auto& [pid, reason] : phone.recent_exits) {
      reasons += (reasons.empty() ? "" : ",") + std::to_string(pid) + ":" + reason;
    }
    std::vector<std::string> args = {ANEPILOT_CRASH_CHILD_PATH, "--state", phone.dir,
                                     "--device", phone.device, "--os-version", "18.2",
                                     "--os-build", os_build, "--app-version", app,
                                     "--model-hash", ModelHash(model), "--policy", policy_path,
                                     "--prev-exit", phone.prev_exit, "--faults", faults};
    // Half the launches arm as the runtime does (fsyncs queued on a
    // background thread, so kills also land while it works), half fsync
    // before every step.
    if (rng() % 2) {
      args.push_back("--deferred-sync");
      ++stats["deferred_sync_launches"];
    }
    if (!reasons.empty()) {
      args.push_back("--exit-reasons");
      args.push_back(reasons);
    }
    std::optional<Clock::time_point> kill_at;
    if (rng() % 100 < 10) kill_at = Clock::now() + std::chrono::microseconds(rng() % 6000);
    ChildRun run = RunChild(args, kill_at);

    std::string tried, dying_mode;
    for (const std::string& line : run.lines) {
      auto w = Split(line, ' ');
      if (w.empty()) continue;
      if (w[0] == "PROBLEM") {
        ++problems;
        ADD_FAILURE() << "launch " << launch << ": " << line;
      } else if (w[0] == "ERROR" || w[0] == "TIMEOUT") {
        ++errors;
        ADD_FAILURE() << "launch " << launch << ": " << line;
      } else if (w[0] == "CHOICES" && w.size() == 2) {
        auto choices = Split(w[1], ',');
        if (choices.empty() || (choices.back() != "cpuAndGPU" && choices.back() != "cpuOnly")) {
          ++unsafe_tail;
        }
      } else if (w[0] == "TRY" && w.size() == 2) {
        tried = w[1];
        if (PolicyBlocked(phone.device).count(tried)) ++tried_policy_blocked;
        if (crash_deaths.count(key + "|" + tried)) ++tried_after_crash;
        ++stats["try_" + tried];
      } else if (w[0] == "DYING" && w.size() == 4) {
        dying_mode = w[3];
      } else if (w[0] == "RECOVERED") {
        ++stats["recovered"];
      }
    }

    std::string exit_reason;
    bool crashed = !dying_mode.empty() && dying_mode != "pause";
    if (crashed) {
      int& deaths = crash_deaths[key + "|" + tried];
      if (++deaths > 1) ++repeats;
      ++stats["crash_" + dying_mode];
      exit_reason = rng() % 2 ? "crash" : "unknown";  // a platform may not know
    } else if (run.killed_by_us) {
      exit_reason = rng() % 100 < 70 ? "user_kill" : "memory_limit";
      ++stats[dying_mode == "pause" ? "paused_then_" + exit_reason : "random_" + exit_reason];
    } else if (WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) {
      exit_reason = "unknown";
      ++stats["ok"];
    } else {
      ++errors;
      ADD_FAILURE() << "launch " << launch << " ended unexpectedly, status " << run.status;
      exit_reason = "unknown";
    }
    if (!WIFEXITED(run.status) || WEXITSTATUS(run.status) != 0) ++stats["process_deaths"];
    phone.prev_exit = exit_reason;
    phone.recent_exits.emplace_back(run.pid, exit_reason);
    if (phone.recent_exits.size() > 16) phone.recent_exits.pop_front();

    std::ifstream in(phone.dir + "/guard.state", std::ios::binary);
    if (in.good()) {
      std::stringstream ss;
      ss << in.rdbuf();
      auto state = guard_internal::ParseGuardState(ss.str(), phone.dir + "/guard.state");
      if (!state.ok()) {
        ++state_failures;
        ADD_FAILURE() << "launch " << launch << ": " << state.status().ToString();
      }
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(phone.dir, ec)) {
      std::string name = e.path().filename().string();
      if (name.rfind("guard.state.tmp.", 0) == 0 || name.rfind("t.", 0) == 0) ++stats["leftover_temp_files_seen"];
    }
    if (HasFailure() && errors + problems + state_failures > 5) break;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::ostringstream report;
  report << "fault injection: seed " << seed << ", " << launches << " launches in " << seconds
         << " s; repeats " << repeats << ", tried after crash " << tried_after_crash
         << ", tried policy-blocked " << tried_policy_blocked << ", unsafe last choice "
         << unsafe_tail << ", corrupt state " << state_failures << ", crashed (key, units) "
         << crash_deaths.size();
  for (const auto& [k, v] : stats) report << "\n  " << k << ": " << v;
  std::cout << report.str() << std::endl;
  ::testing::Test::RecordProperty("fault_report", report.str());

  EXPECT_EQ(repeats, 0);
  EXPECT_EQ(tried_after_crash, 0);
  EXPECT_EQ(tried_policy_blocked, 0);
  EXPECT_EQ(unsafe_tail, 0);
  EXPECT_EQ(state_failures, 0);
  EXPECT_EQ(problems, 0);
  EXPECT_EQ(errors, 0);
  // The schedule really exercised every kind of death.
  for (const std::string& mode : kCrashModes) EXPECT_GT(stats["crash_" + mode], 0) << mode;
  EXPECT_GT(stats["random_user_kill"] + stats["random_memory_limit"], 0);
  EXPECT_GT(stats["paused_then_user_kill"], 0);
  EXPECT_GT(stats["ok"], launches / 4);
  EXPECT_GT(stats["deferred_sync_launches"], launches / 4);
  fs::remove_all(root);
  fs::remove_all(state_root);
}

}  // namespace
}  // namespace anepilot
