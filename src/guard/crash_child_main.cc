// anepilot_crash_child: plays one app launch under the crash guard, for the
// fault-injection test (crash_guard_fault_test.cc). It really dies.
//
//   anepilot_crash_child --state DIR --device D --os-version V --os-build B
//       --app-version A --model-hash H --policy FILE --prev-exit REASON
//       [--faults units:step:mode,...] [--exit-reasons pid:reason,...] [--no-sync]
//       [--deferred-sync]
//
// --deferred-sync arms and disarms as the runtime does: marker fsyncs queued
// on a DeferredSync thread instead of waited for (see crash_guard.h).
//
// Launch: open the guard (a dead marker's reason: its pid's entry in
// --exit-reasons, else --prev-exit), decide
// from the policy, filter through the guard, take the first allowed choice,
// then for each step (load, first_prediction): arm, act, disarm. A fault for
// (units, step) makes the act one of: segv (a real write through a null
// pointer), abort, sigkill (kills itself), hang (spins until the parent
// kills it), pause (waits to be killed: a user or memory kill).
//
// Protocol on stdout, one line per write(2) so the parent sees each line
// even when the process dies right after:
//   RECOVERED <units> <step> <reason> <blocked 0|1>
//   PROBLEM <text>                   (state discarded / policy unreadable)
//   CHOICES <units>,<units>,...      (after policy and guard)
//   TRY <units>
//   DYING <units> <step> <mode>      (just before the fault)
//   OK <units>
// Exit code 0 on success, 3 on a guard/API error (line "ERROR <text>").
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>

#include "anepilot/policy.h"
#include "guard/crash_guard.h"

namespace {

using namespace anepilot;

void Say(const std::string& line) {
  std::string l = line + "\n";
  const char* p = l.data();
  size_t n = l.size();
  while (n > 0) {
    ssize_t w = ::write(STDOUT_FILENO, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

[[noreturn]] void Fail(const std::string& what) {
  Say("ERROR " + what);
  std::_Exit(3);
}

volatile int* volatile g_null = nullptr;

// The invalid write itself, hidden from UBSan so that a sanitizer build still
// dies by SIGSEGV (ASan then reports the SEGV and exits non-zero: a death too).
#if defined(__clang__) || defined(__GNUC__)
__attribute__((no_sanitize("undefined")))
#endif
void WriteThroughNull() {
  *g_null = 42;
}

[[noreturn]] void Die(const std::string& mode) {
  if (mode == "segv") {
    WriteThroughNull();
  } else if (mode == "abort") {
    std::abort();
  } else if (mode == "sigkill") {
    ::kill(::getpid(), SIGKILL);
  } else if (mode == "hang") {
    volatile uint64_t spin = 0;
    while (true) spin = spin + 1;
  } else if (mode == "pause") {
    while (true) ::pause();
  }
  Fail("unknown fault mode " + mode);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  bool sync = true;
  bool deferred = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-sync") {
      sync = false;
    } else if (a == "--deferred-sync") {
      deferred = true;
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      args[a.substr(2)] = argv[++i];
    } else {
      Fail("bad argument " + a);
    }
  }
  for (const char* required : {"state", "device", "os-version", "os-build", "app-version",
                               "model-hash", "policy", "prev-exit"}) {
    if (!args.count(required)) Fail(std::string("missing --") + required);
  }
  // "units:step" -> mode
  std::map<std::string, std::string> faults;
  std::string spec = args["faults"];
  for (size_t start = 0; start < spec.size();) {
    size_t comma = spec.find(',', start);
    std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t last = item.rfind(':');
    if (last == std::string::npos) Fail("bad fault " + item);
    faults[item.substr(0, last)] = item.substr(last + 1);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  auto prev = ParseExitReason(args["prev-exit"]);
  if (!prev) Fail("bad --prev-exit " + args["prev-exit"]);
  std::map<int64_t, ExitReason> by_pid;
  std::string list_text = args["exit-reasons"];
  for (size_t start = 0; start < list_text.size();) {
    size_t comma = list_text.find(',', start);
    std::string item = list_text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t colon = item.find(':');
    auto reason = colon == std::string::npos ? std::nullopt : ParseExitReason(item.substr(colon + 1));
    if (!reason) Fail("bad --exit-reasons item " + item);
    by_pid[std::stoll(item.substr(0, colon))] = *reason;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  ExitReasonsByPid reasons(std::move(by_pid), *prev);

  CrashGuardOptions options;
  options.exit_reasons = &reasons;
  options.durable = sync;
  if (deferred) options.deferred_sync = std::make_shared<DeferredSync>();
  GuardKey key{args["device"], args["os-build"], args["model-hash"], args["app-version"]};
  auto guard = CrashGuard::Open(args["state"], key, options);
  if (!guard.ok()) Fail(guard.status().ToString());
  if (!guard->load_problem().ok()) Say("PROBLEM " + guard->load_problem().ToString());
  for (const RecoveredCrash& r : guard->recovered()) {
    Say("RECOVERED " + std::string(ComputeUnitsName(r.marker.units)) + " " +
        std::string(GuardStepName(r.marker.step)) + " " + std::string(ExitReasonName(r.reason)) +
        " " + (r.now_blocked ? "1" : "0"));
  }

  PolicyLoad policy = LoadPolicyOrSafeDefault(args["policy"]);
  if (!policy.status.ok()) Say("PROBLEM " + policy.status.ToString());
  Decision decision = policy.index.Decide(
      DeviceContext{args["device"], "", args["os-version"], args["os-build"]}, args["model-hash"]);
  std::vector<ComputeUnits> wanted;
  for (const UnitChoice& c : decision.choices) wanted.push_back(c.units);
  std::vector<ComputeUnits> allowed = guard->FilterChoices(wanted);
  std::string list;
  for (ComputeUnits u : allowed) list += (list.empty() ? "" : ",") + std::string(ComputeUnitsName(u));
  Say("CHOICES " + list);

  ComputeUnits units = allowed.front();
  std::string name(ComputeUnitsName(units));
  Say("TRY " + name);
  for (GuardStep step : {GuardStep::kLoad, GuardStep::kFirstPrediction}) {
    std::string step_name(GuardStepName(step));
    Status armed = guard->Arm(units, step);
    if (!armed.ok()) Fail(armed.ToString());
    auto fault = faults.find(name + ":" + step_name);
    if (fault != faults.end()) {
      Say("DYING " + name + " " + step_name + " " + fault->second);
      Die(fault->second);
    }
    Status disarmed = guard->Disarm(units, step);
    if (!disarmed.ok()) Fail(disarmed.ToString());
  }
  Say("OK " + name);
  return 0;
}
