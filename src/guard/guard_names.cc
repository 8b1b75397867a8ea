// Names of the guard's enums as they appear in state files, markers,
// telemetry and the crash child's command line.
#include "guard/crash_guard.h"

namespace anepilot {

std::string_view GuardStepName(GuardStep step) {
  switch (step) {
    case GuardStep::kLoad: return "load";
    case GuardStep::kFirstPrediction: return "first_prediction";
  }
  return "load";
}

std::optional<GuardStep> ParseGuardStep(std::string_view text) {
  for (auto s : {GuardStep::kLoad, GuardStep::kFirstPrediction}) {
    if (text == GuardStepName(s)) return s;
  }
  return std::nullopt;
}

std::string_view ExitReasonName(ExitReason reason) {
  switch (reason) {
    case ExitReason::kUnknown: return "unknown";
    case ExitReason::kCrash: return "crash";
    case ExitReason::kUserKill: return "user_kill";
    case ExitReason::kMemoryLimit: return "memory_limit";
  }
  return "unknown";
}

std::optional<ExitReason> ParseExitReason(std::string_view text) {
  for (auto r : {ExitReason::kUnknown, ExitReason::kCrash, ExitReason::kUserKill,
                 ExitReason::kMemoryLimit}) {
    if (text == ExitReasonName(r)) return r;
  }
  return std::nullopt;
}

}  // namespace anepilot
