#include "base/parallel_for.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace anepilot {
namespace {

TEST(ParallelFor, RunsEveryPieceExactlyOnce) {
  for (size_t count : {0u, 1u, 2u, 3u, 17u, 1000u}) {
    std::vector<std::atomic<int>> hits(count);
    ParallelFor(count, [&](size_t i) { hits[i].fetch_add(1); });
    for (size_t i = 0; i < count; ++i) EXPECT_EQ(hits[i].load(), 1) << "piece " << i << " of " << count;
  }
}

TEST(ParallelFor, ResultsWrittenByPiecesAreVisibleAfterItReturns) {
  for (int round = 0; round < 200; ++round) {
    std::vector<uint64_t> out(64, 0);
    ParallelFor(out.size(), [&](size_t i) { out[i] = i * i + round; });
    for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], i * i + round) << "round " << round;
  }
}

TEST(ParallelFor, CallersOnSeveralThreadsEachGetTheirWorkDone) {
  // A second caller while the pool is busy runs its pieces itself.
  std::atomic<size_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 50; ++round) ParallelFor(10, [&](size_t) { total.fetch_add(1); });
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4u * 50u * 10u);
}

TEST(ParallelFor, JobsAfterThePoolThreadsFellAsleepAreDone) {
  // Idle pool threads spin for a moment, then block; both ways of getting
  // the next job must work.
  for (int round = 0; round < 6; ++round) {
    std::vector<std::atomic<int>> hits(8);
    ParallelFor(hits.size(), [&](size_t i) { hits[i].fetch_add(1); });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "round " << round;
    std::this_thread::sleep_for(std::chrono::milliseconds(round % 2 == 0 ? 0 : 5));
  }
}

TEST(ParallelFor, ACallerWaitsForPiecesThatRunLongerThanItSpins) {
  std::vector<int> out(4, 0);
  ParallelFor(out.size(), [&](size_t i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    out[i] = static_cast<int>(i) + 1;
  });
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4}));
}

TEST(ParallelFor, UsesAtLeastOneThread) {
  EXPECT_GE(UsefulThreads(), 1u);
  EXPECT_LE(UsefulThreads(), kMaxPoolThreads + 1);
}

}  // namespace
}  // namespace anepilot
