// StepGuard over anepilot::CrashGuard, which is not thread-safe: a mutex
// serializes the session's background thread and the callers' threads.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

#include "base/deferred_sync.h"
#include "guard/crash_guard.h"
#include "runtime/step_guard.h"

namespace anepilot::runtime {

class CrashGuardSteps final : public StepGuard {
 public:
  // `deferred_sync`: the queue the guard's Arm hands its fsyncs to (the one
  // in its CrashGuardOptions), or nullptr when Arm fsyncs itself.
  explicit CrashGuardSteps(CrashGuard guard, std::shared_ptr<DeferredSync> deferred_sync = nullptr)
      : guard_(std::move(guard)), deferred_sync_(std::move(deferred_sync)) {}

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
  // Not under the lock: the queue's fsyncs need no guard state, and
  // predictions arming meanwhile must not wait for the disk.
  void WaitUntilDurable() override {
    if (deferred_sync_) deferred_sync_->Flush();
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
  const std::shared_ptr<DeferredSync> deferred_sync_;
};

}  // namespace anepilot::runtime
