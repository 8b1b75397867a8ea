#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "base/test_paths.h"
#include "telemetry/telemetry.h"

namespace anepilot {
namespace {

namespace fs = std::filesystem;

TelemetryEvent Numbered(int64_t n) {
  TelemetryEvent e;
  e.ts_ms = 1000 + n;
  e.device = "iPhone14,7";
  e.os_build = "22C152";
  e.app_version = "1.0";
  e.model_hash = std::string(64, 'a');
  e.units = ComputeUnits::kCpuAndGpu;
  e.phase = TelemetryPhase::kPredictionSummary;
  e.duration_ms = 3.5;
  e.count = n;
  return e;
}

std::string FreshDir(const std::string& name) {
  std::string dir = anepilot::testing::ScratchDir(name);
  fs::remove_all(dir);
  return dir;
}

std::unique_ptr<TelemetryWriter> OpenWriter(TelemetryWriterOptions o) {
  auto w = TelemetryWriter::Open(std::move(o));
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return std::move(w).value();
}

TEST(TelemetryWriter, WritesLinesTheReaderReadsBack) {
  std::string dir = FreshDir("telemetry-basic");
  TelemetryWriterOptions o;
  o.dir = dir;
  o.now_ms = [] { return int64_t{424242}; };
  auto w = OpenWriter(o);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w->Write(Numbered(i)).ok());
  TelemetryEvent unstamped = Numbered(10);
  unstamped.ts_ms = 0;
  ASSERT_TRUE(w->Write(unstamped).ok());
  ASSERT_TRUE(w->Sync().ok());
  auto r = ReadTelemetryDir(dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 11u);
  EXPECT_EQ(r->lines_skipped, 0u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r->events[i], Numbered(i));
  EXPECT_EQ(r->events[10].ts_ms, 424242);
  EXPECT_EQ(w->current_path(), dir + "/telemetry.jsonl");
}

TEST(TelemetryWriter, RotationBoundsTheFilesAndKeepsTheNewestInOrder) {
  std::string dir = FreshDir("telemetry-rotate");
  TelemetryWriterOptions o;
  o.dir = dir;
  o.max_file_bytes = 4096;
  o.keep_files = 3;
  auto w = OpenWriter(o);
  const int n = 1000;  // far more than 3 files hold
  size_t line_size = SerializeTelemetryEvent(Numbered(n)).size() + 1;
  for (int i = 0; i < n; ++i) ASSERT_TRUE(w->Write(Numbered(i)).ok());
  std::vector<std::string> files = TelemetryFilesInOrder(dir);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], dir + "/telemetry.2.jsonl");
  EXPECT_EQ(files[2], dir + "/telemetry.jsonl");
  for (const auto& f : files) EXPECT_LE(fs::file_size(f), o.max_file_bytes);
  EXPECT_FALSE(fs::exists(dir + "/telemetry.3.jsonl"));
  auto r = ReadTelemetryDir(dir);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lines_skipped, 0u);
  ASSERT_GE(r->events.size(), 2 * (o.max_file_bytes / line_size));
  // The newest events, contiguous, ending with the last one written.
  EXPECT_EQ(*r->events.back().count, n - 1);
  for (size_t i = 1; i < r->events.size(); ++i) {
    EXPECT_EQ(*r->events[i].count, *r->events[i - 1].count + 1);
  }
}

TEST(TelemetryWriter, KeepOneFileStartsOverWhenFull) {
  std::string dir = FreshDir("telemetry-keep1");
  TelemetryWriterOptions o;
  o.dir = dir;
  o.max_file_bytes = 2048;
  o.keep_files = 1;
  auto w = OpenWriter(o);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(w->Write(Numbered(i)).ok());
  EXPECT_EQ(TelemetryFilesInOrder(dir).size(), 1u);
  EXPECT_LE(fs::file_size(dir + "/telemetry.jsonl"), 2048u);
  EXPECT_EQ(*ReadTelemetryDir(dir)->events.back().count, 199);
}

TEST(TelemetryWriter, BadOptionsAreRejected) {
  TelemetryWriterOptions o;
  EXPECT_EQ(TelemetryWriter::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.dir = FreshDir("telemetry-bad");
  o.keep_files = 0;
  EXPECT_EQ(TelemetryWriter::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.keep_files = 2;
  o.base_name = "a/b";
  EXPECT_EQ(TelemetryWriter::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.base_name = "t";
  o.max_file_bytes = 10;
  EXPECT_EQ(TelemetryWriter::Open(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(TelemetryWriter, ConcurrentThreadsNeverInterleaveLines) {
  std::string dir = FreshDir("telemetry-threads");
  TelemetryWriterOptions o;
  o.dir = dir;
  o.max_file_bytes = 64 * 1024;
  o.keep_files = 50;
  auto w = OpenWriter(o);
  constexpr int kThreads = 8, kEach = 400;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) ASSERT_TRUE(w->Write(Numbered(t * kEach + i)).ok());
    });
  }
  for (auto& th : threads) th.join();
  auto r = ReadTelemetryDir(dir);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lines_skipped, 0u);
  ASSERT_EQ(r->events.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<bool> seen(kThreads * kEach);
  for (const auto& e : r->events) seen[*e.count] = true;
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kThreads * kEach);
}

TEST(TelemetryReader, SkipsBadLinesAndReportsFileAndLine) {
  std::string dir = FreshDir("telemetry-bad-lines");
  fs::create_directories(dir);
  std::string path = dir + "/telemetry.jsonl";
  {
    std::ofstream out(path);
    out << SerializeTelemetryEvent(Numbered(0)) << "\n";
    out << "garbage\n";
    out << "\n";
    out << SerializeTelemetryEvent(Numbered(1)) << "\n";
    std::string last = SerializeTelemetryEvent(Numbered(2));
    out << last.substr(0, last.size() / 2);  // a kill in the middle of a line
  }
  auto r = ReadTelemetryFile(path);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(*r->events[1].count, 1);
  EXPECT_EQ(r->lines_total, 4u);
  EXPECT_EQ(r->lines_skipped, 2u);
  ASSERT_EQ(r->problems.size(), 2u);
  EXPECT_EQ(r->problems[0].rfind(path + ":2: ", 0), 0u) << r->problems[0];
  EXPECT_EQ(r->problems[1].rfind(path + ":5: ", 0), 0u) << r->problems[1];
  EXPECT_NE(r->problems[1].find("unterminated"), std::string::npos);
}

TEST(TelemetryReader, MissingDirectoryReadsAsEmptyAndMissingFileIsNotFound) {
  auto r = ReadTelemetryDir("/nonexistent/telemetry");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(ReadTelemetryFile("/nonexistent/telemetry.jsonl").status().code(), StatusCode::kNotFound);
}

// A real process writing as fast as it can (two threads, with rotation) is
// SIGKILLed at a random instant: everything it wrote reads back, except at
// most the event in flight.
TEST(TelemetryKill, AKilledWriterLosesAtMostTheLineInFlight) {
  for (int round = 0; round < 5; ++round) {
    std::string dir = FreshDir("telemetry-kill-" + std::to_string(round));
    fs::create_directories(dir);
    // The writer says when event 200 is written, so the kill comes after at
    // least that many however slow the machine (sanitizers, load).
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(ready[0]);
      TelemetryWriterOptions o;
      o.dir = dir;
      o.max_file_bytes = 256 * 1024;
      o.keep_files = 1000;  // keep everything so the count can be checked
      auto w = TelemetryWriter::Open(o);
      if (!w.ok()) ::_exit(2);
      std::atomic<int64_t> next{0};
      auto loop = [&] {
        while (true) {
          const int64_t n = next.fetch_add(1);
          if (!(*w)->Write(Numbered(n)).ok()) ::_exit(3);
          if (n == 200 && ::write(ready[1], "r", 1) != 1) ::_exit(4);
        }
      };
      std::thread other(loop);
      loop();
    }
    // Let it write for a while, then kill it mid-stream.
    ::close(ready[1]);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the writer stopped before event 200";
    ::close(ready[0]);
    ::usleep(static_cast<useconds_t>(round * 17000));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer failed early, status " << status;
    auto r = ReadTelemetryDir(dir);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_LE(r->lines_skipped, 1u);
    ASSERT_GT(r->events.size(), 100u);
    // Numbers are handed out before the write, so the event in flight of
    // each of the two threads may be missing; all others are there exactly
    // once.
    std::vector<int> seen;
    int64_t max = 0;
    for (const auto& e : r->events) max = std::max(max, *e.count);
    seen.assign(static_cast<size_t>(max) + 1, 0);
    for (const auto& e : r->events) ++seen[*e.count];
    int missing = static_cast<int>(std::count(seen.begin(), seen.end(), 0));
    EXPECT_EQ(std::count_if(seen.begin(), seen.end(), [](int c) { return c > 1; }), 0);
    EXPECT_LE(missing, 2) << "round " << round << ": " << r->events.size() << " events";
  }
}

}  // namespace
}  // namespace anepilot
