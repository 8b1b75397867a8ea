#include "runtime/prewarm.h"

namespace anepilot::runtime {

Prewarmer::Prewarmer(std::vector<std::string> items, WarmFn warm, ProgressFn progress)
    : items_(std::move(items)), warm_(std::move(warm)), progress_(std::move(progress)) {
  thread_ = std::thread([this] { Run(); });
}

Prewarmer::~Prewarmer() {
  Cancel();
  if (thread_.joinable()) thread_.join();
}

void Prewarmer::Run() {
  PrewarmSummary summary;
  for (size_t i = 0; i < items_.size(); ++i) {
    if (cancel_.load()) {
      summary.cancelled = true;
      summary.skipped = items_.size() - i;
      break;
    }
    PrewarmProgress p;
    p.index = i;
    p.done = i + 1;
    p.total = items_.size();
    p.item = items_[i];
    p.status = warm_(items_[i]);
    (p.status.ok() ? summary.warmed : summary.failed) += 1;
    if (progress_) progress_(p);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    summary_ = summary;
    finished_ = true;
  }
  cv_.notify_all();
}

PrewarmSummary Prewarmer::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return finished_; });
  return summary_;
}

bool Prewarmer::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_;
}

}  // namespace anepilot::runtime
