// StepGuard over anepilot::CrashGuard, which is not thread-safe: a mutex
// serializes the session's background thread and the callers' threads.
#pragma once

#include <mutex>

#include "guard/crash_guard.h"
#include "runtime/step_guard.h"

namespace anepilot::runtime {

class CrashGuardSteps final : public StepGuard {
 public:
  explicit CrashGuardSteps(CrashGuard guard) : guard_(std::move(guard)) {}

  Status Arm(ComputeUnits units, GuardStep step) override {
    std::lock_guard<std::mutex> lock(mu_);
    return guard_.Arm(units, step);
  }
  Status Disarm(ComputeUnits units, GuardStep step) override {
    std::lock_guard<std::mutex> lock(mu_);
    return guard_.Disarm(units, step);
  }
  bool IsBlocked(ComputeUnits units) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return guard_.IsBlocked(units);
  }
  // Runs `fn(const CrashGuard&)` under the lock (recovered crashes, filters).
  template <typename Fn>
  auto With(Fn&& fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    return fn(guard_);
  }

 private:
  mutable std::mutex mu_;
  CrashGuard guard_;
};

}  // namespace anepilot::runtime
