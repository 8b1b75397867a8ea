// What the runtime needs from a crash guard: arm a durable marker before a
// risky step, disarm it after, and say which configurations are blocked.
// CrashGuardAdapter (runtime/guarded_steps.h) implements it over
// anepilot::CrashGuard; tests implement it to record the calls.
//
// Implementations must be thread-safe: the session arms from its background
// thread while predictions arm from callers' threads.
#pragma once

#include "anepilot/compute_units.h"
#include "anepilot/status.h"
#include "guard/crash_guard.h"

namespace anepilot::runtime {

class StepGuard {
 public:
  virtual ~StepGuard() = default;
  // An error means "do not take this step" (the marker could not be written,
  // or the configuration is blocked).
  virtual Status Arm(ComputeUnits units, GuardStep step) = 0;
  virtual Status Disarm(ComputeUnits units, GuardStep step) = 0;
  virtual bool IsBlocked(ComputeUnits units) const = 0;
};

}  // namespace anepilot::runtime
