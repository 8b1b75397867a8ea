#include "runtime/prewarm.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace anepilot::runtime {
namespace {

TEST(PrewarmTest, WarmsEveryModelInOrderOneAtATime) {
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::mutex mu;
  std::vector<std::string> warmed;
  std::vector<PrewarmProgress> progress;
  Prewarmer prewarmer(
      {"a", "b", "bad", "c"},
      [&](const std::string& item) {
        int now = ++running;
        int prev = max_running.load();
        while (now > prev && !max_running.compare_exchange_weak(prev, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        {
          std::lock_guard<std::mutex> lock(mu);
          warmed.push_back(item);
        }
        --running;
        return item == "bad" ? CorruptModel("bad: not a model") : Status::Ok();
      },
      [&](const PrewarmProgress& p) {
        std::lock_guard<std::mutex> lock(mu);
        progress.push_back(p);
      });
  PrewarmSummary summary = prewarmer.Wait();
  EXPECT_TRUE(prewarmer.finished());
  EXPECT_EQ(summary.warmed, 3u);
  EXPECT_EQ(summary.failed, 1u);
  EXPECT_EQ(summary.skipped, 0u);
  EXPECT_FALSE(summary.cancelled);
  EXPECT_EQ(max_running.load(), 1);
  EXPECT_EQ(warmed, (std::vector<std::string>{"a", "b", "bad", "c"}));
  ASSERT_EQ(progress.size(), 4u);
  for (size_t i = 0; i < progress.size(); ++i) {
    EXPECT_EQ(progress[i].index, i);
    EXPECT_EQ(progress[i].done, i + 1);
    EXPECT_EQ(progress[i].total, 4u);
  }
  EXPECT_EQ(progress[2].status.code(), StatusCode::kCorruptModel);
}

TEST(PrewarmTest, CancelStopsBeforeTheNextModel) {
  std::mutex gate;
  gate.lock();  // the first warm blocks until the test has cancelled
  std::atomic<int> calls{0};
  Prewarmer prewarmer({"a", "b", "c"}, [&](const std::string&) {
    ++calls;
    std::lock_guard<std::mutex> wait(gate);
    return Status::Ok();
  });
  while (calls.load() == 0) std::this_thread::yield();
  prewarmer.Cancel();
  gate.unlock();
  PrewarmSummary summary = prewarmer.Wait();
  EXPECT_TRUE(summary.cancelled);
  EXPECT_EQ(summary.warmed, 1u);  // the one in progress finishes
  EXPECT_EQ(summary.skipped, 2u);
  EXPECT_EQ(calls.load(), 1);
}

TEST(PrewarmTest, DestructorCancelsAndWaits) {
  std::atomic<int> calls{0};
  {
    Prewarmer prewarmer({"a", "b", "c", "d"}, [&](const std::string&) {
      ++calls;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return Status::Ok();
    });
    while (calls.load() == 0) std::this_thread::yield();
  }
  EXPECT_LT(calls.load(), 4);
}

TEST(PrewarmTest, EmptyListFinishesAtOnce) {
  Prewarmer prewarmer({}, [](const std::string&) { return Status::Ok(); });
  PrewarmSummary s = prewarmer.Wait();
  EXPECT_EQ(s.warmed + s.failed + s.skipped, 0u);
}

}  // namespace
}  // namespace anepilot::runtime
