// What the runtime needs from a crash guard: arm a durable marker before a
// risky step, disarm it after, and say which configurations are blocked.
// CrashGuardSteps (runtime/crash_guard_steps.h) implements it over
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
  // Blocks until every marker armed so far is durable against an OS crash or
  // a power cut, not only against the death of the process (see the
  // durability contract in guard/crash_guard.h). The session calls it before
  // its background steps, the Neural Engine's compile and first prediction:
  // they are off the way to the first result, so waiting costs no latency,
  // and they are the steps most likely to take the device down. A no-op for
  // guards whose Arm already fsyncs.
  virtual void WaitUntilDurable() {}
};

}  // namespace anepilot::runtime
