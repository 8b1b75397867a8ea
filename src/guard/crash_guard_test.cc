#include "guard/crash_guard.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "base/test_paths.h"
#include "base/sha256.h"
#include "guard/guard_state.h"

namespace anepilot {
namespace {

namespace fs = std::filesystem;

constexpr auto kCpu = ComputeUnits::kCpuOnly;
constexpr auto kGpu = ComputeUnits::kCpuAndGpu;
constexpr auto kAne = ComputeUnits::kCpuAndNeuralEngine;
constexpr auto kAll = ComputeUnits::kAll;

GuardKey Key(std::string os_build = "22C152", std::string app = "1.0", char model = 'a') {
  return GuardKey{"iPhone14,7", std::move(os_build), std::string(64, model), std::move(app)};
}

class CrashGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = anepilot::testing::ScratchDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }

  CrashGuard OpenGuard(GuardKey key = Key(), ExitReason reason = ExitReason::kCrash) {
    reasons_ = std::make_unique<FixedExitReason>(reason);
    CrashGuardOptions o;
    o.exit_reasons = reasons_.get();
    o.now_ms = [this] { return now_ms_; };
    auto g = CrashGuard::Open(dir_, std::move(key), o);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return std::move(g).value();
  }

  // Arms and then drops the guard without disarming: to the next Open this
  // is exactly a process that died during the step (its flock is gone).
  void DieDuring(ComputeUnits units, GuardStep step, GuardKey key = Key()) {
    CrashGuard g = OpenGuard(key);
    ASSERT_TRUE(g.Arm(units, step).ok());
  }

  std::string StatePath() const { return dir_ + "/guard.state"; }

  std::string ReadState() const {
    std::ifstream in(StatePath(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  void WriteState(const std::string& text) const {
    std::ofstream out(StatePath(), std::ios::binary | std::ios::trunc);
    out << text;
  }

  size_t MarkerCount() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_)) {
      n += e.path().extension() == ".marker";
    }
    return n;
  }

  std::string dir_;
  int64_t now_ms_ = 1'700'000'000'000;
  std::unique_ptr<FixedExitReason> reasons_;
};

TEST_F(CrashGuardTest, SuccessfulStepsLeaveNothingBlocked) {
  {
    CrashGuard g = OpenGuard();
    ASSERT_TRUE(g.Arm(kAll, GuardStep::kLoad).ok());
    EXPECT_EQ(MarkerCount(), 1u);
    ASSERT_TRUE(g.Disarm(kAll, GuardStep::kLoad).ok());
    ASSERT_TRUE(g.Arm(kAll, GuardStep::kFirstPrediction).ok());
    ASSERT_TRUE(g.Disarm(kAll, GuardStep::kFirstPrediction).ok());
    EXPECT_EQ(MarkerCount(), 0u);
  }
  CrashGuard g = OpenGuard();
  EXPECT_TRUE(g.recovered().empty());
  EXPECT_FALSE(g.IsBlocked(kAll));
  EXPECT_TRUE(g.Blocked().empty());
}

TEST_F(CrashGuardTest, AStepThatDiedBlocksItsConfigurationOnly) {
  now_ms_ = 1'700'000'123'000;
  DieDuring(kAll, GuardStep::kFirstPrediction);
  CrashGuard g = OpenGuard();
  ASSERT_EQ(g.recovered().size(), 1u);
  const RecoveredCrash& r = g.recovered()[0];
  EXPECT_EQ(r.marker.units, kAll);
  EXPECT_EQ(r.marker.step, GuardStep::kFirstPrediction);
  EXPECT_EQ(r.marker.key, Key());
  EXPECT_EQ(r.marker.pid, static_cast<int64_t>(::getpid()));
  EXPECT_EQ(r.marker.armed_at_ms, 1'700'000'123'000);
  EXPECT_EQ(r.reason, ExitReason::kCrash);
  EXPECT_TRUE(r.now_blocked);
  EXPECT_TRUE(g.IsBlocked(kAll));
  EXPECT_FALSE(g.IsBlocked(kAne));
  EXPECT_EQ(g.FilterChoices({kAll, kAne, kGpu, kCpu}), (std::vector{kAne, kGpu, kCpu}));
  ASSERT_EQ(g.Blocked().size(), 1u);
  EXPECT_EQ(g.Blocked()[0].crashes, 1);
  EXPECT_EQ(g.Blocked()[0].first_seen_ms, 1'700'000'123'000);
  EXPECT_EQ(MarkerCount(), 0u);
  // Reported once: the next Open has nothing new to recover.
  CrashGuard again = OpenGuard();
  EXPECT_TRUE(again.recovered().empty());
  EXPECT_TRUE(again.IsBlocked(kAll));
}

TEST_F(CrashGuardTest, ArmingABlockedConfigurationIsRefused) {
  DieDuring(kAne, GuardStep::kLoad);
  CrashGuard g = OpenGuard();
  Status s = g.Arm(kAne, GuardStep::kLoad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cpuAndNeuralEngine is blocked"), std::string::npos) << s.message();
  EXPECT_EQ(g.Disarm(kGpu, GuardStep::kLoad).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(g.Arm(kGpu, GuardStep::kLoad).ok());
  EXPECT_EQ(g.Arm(kGpu, GuardStep::kLoad).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(g.Disarm(kGpu, GuardStep::kLoad).ok());
}

TEST_F(CrashGuardTest, AMarkerOfALiveProcessIsNotADeath) {
  CrashGuard running = OpenGuard();
  ASSERT_TRUE(running.Arm(kAll, GuardStep::kLoad).ok());
  {
    CrashGuard other = OpenGuard();  // e.g. an app extension starting meanwhile
    EXPECT_TRUE(other.recovered().empty());
    EXPECT_FALSE(other.IsBlocked(kAll));
  }
  EXPECT_EQ(MarkerCount(), 1u);
  EXPECT_TRUE(running.Disarm(kAll, GuardStep::kLoad).ok());
}

TEST_F(CrashGuardTest, ChangingOsBuildOrAppVersionReArms) {
  DieDuring(kAll, GuardStep::kLoad);
  EXPECT_TRUE(OpenGuard().IsBlocked(kAll));
  EXPECT_FALSE(OpenGuard(Key("22D60")).IsBlocked(kAll));   // OS update
  DieDuring(kAne, GuardStep::kLoad, Key("22D60"));
  EXPECT_TRUE(OpenGuard(Key("22D60")).IsBlocked(kAne));
  EXPECT_FALSE(OpenGuard(Key("22D60", "1.1")).IsBlocked(kAne));  // app update
  // Going back does not resurrect entries: they were dropped when the
  // environment changed.
  EXPECT_FALSE(OpenGuard(Key()).IsBlocked(kAll));
}

TEST_F(CrashGuardTest, EntriesAreKeyedByModel) {
  DieDuring(kAll, GuardStep::kLoad, Key("22C152", "1.0", 'a'));
  CrashGuard b = OpenGuard(Key("22C152", "1.0", 'b'));
  EXPECT_FALSE(b.IsBlocked(kAll));
  EXPECT_TRUE(b.recovered().empty());  // model a's death is reported to model a
  CrashGuard a = OpenGuard(Key("22C152", "1.0", 'a'));
  EXPECT_TRUE(a.IsBlocked(kAll));
  ASSERT_EQ(a.recovered().size(), 1u);  // kept pending until a's guard opened
}

TEST_F(CrashGuardTest, UserKillsAreNotCrashes) {
  for (int i = 0; i < 5; ++i) {
    DieDuring(kAll, GuardStep::kLoad);
    CrashGuard g = OpenGuard(Key(), ExitReason::kUserKill);
    ASSERT_EQ(g.recovered().size(), 1u);
    EXPECT_EQ(g.recovered()[0].reason, ExitReason::kUserKill);
    EXPECT_FALSE(g.recovered()[0].now_blocked);
    EXPECT_FALSE(g.IsBlocked(kAll));
  }
  guard_internal::GuardState state = *guard_internal::ParseGuardState(ReadState(), "state");
  ASSERT_EQ(state.entries.size(), 1u);
  EXPECT_EQ(state.entries[0].user_kills, 5);
  EXPECT_EQ(state.entries[0].crashes, 0);
}

TEST_F(CrashGuardTest, MemoryKillsBlockAfterTheThreshold) {
  for (int i = 1; i <= kMemoryKillsToBlock; ++i) {
    DieDuring(kAne, GuardStep::kFirstPrediction);
    CrashGuard g = OpenGuard(Key(), ExitReason::kMemoryLimit);
    EXPECT_EQ(g.IsBlocked(kAne), i >= kMemoryKillsToBlock) << i;
    EXPECT_EQ(g.recovered()[0].now_blocked, i == kMemoryKillsToBlock);
  }
  CrashGuard g = OpenGuard();
  ASSERT_EQ(g.Blocked().size(), 1u);
  EXPECT_EQ(g.Blocked()[0].reason, ExitReason::kMemoryLimit);
  EXPECT_EQ(g.Blocked()[0].memory_kills, kMemoryKillsToBlock);
}

TEST_F(CrashGuardTest, UnknownExitReasonCountsAsACrash) {
  DieDuring(kGpu, GuardStep::kLoad);
  CrashGuard g = OpenGuard(Key(), ExitReason::kUnknown);
  EXPECT_TRUE(g.IsBlocked(kGpu));
}

TEST_F(CrashGuardTest, CpuOnlyIsNeverBlockedSoChoicesNeverRunOut) {
  for (ComputeUnits u : {kAll, kAne, kGpu, kCpu}) DieDuring(u, GuardStep::kLoad);
  CrashGuard g = OpenGuard();
  EXPECT_EQ(g.recovered().size(), 1u);  // each earlier Open reported the previous death
  EXPECT_TRUE(g.IsBlocked(kAll));
  EXPECT_TRUE(g.IsBlocked(kGpu));
  EXPECT_FALSE(g.IsBlocked(kCpu));
  EXPECT_EQ(g.FilterChoices({kAll, kAne, kGpu}), (std::vector{kCpu}));
  EXPECT_EQ(g.FilterChoices({}), (std::vector{kCpu}));
  EXPECT_EQ(g.Blocked().size(), 3u);
}

TEST_F(CrashGuardTest, GarbageStateIsReportedKeptAsideAndReplaced) {
  fs::create_directories(dir_);
  WriteState("this is not a guard state\n");
  CrashGuard g = OpenGuard();
  EXPECT_EQ(g.load_problem().code(), StatusCode::kInvalidData);
  EXPECT_NE(g.load_problem().message().find("not a guard state file"), std::string::npos)
      << g.load_problem().message();
  EXPECT_NE(g.load_problem().message().find("guard.state.corrupt"), std::string::npos);
  std::ifstream corrupt(StatePath() + ".corrupt");
  std::string first;
  std::getline(corrupt, first);
  EXPECT_EQ(first, "this is not a guard state");
  EXPECT_TRUE(guard_internal::ParseGuardState(ReadState(), "state").ok());
  EXPECT_TRUE(OpenGuard().load_problem().ok());
}

TEST_F(CrashGuardTest, TruncatedStateIsDetected) {
  DieDuring(kAll, GuardStep::kLoad);
  { CrashGuard g = OpenGuard(); }
  std::string text = ReadState();
  for (size_t keep : {size_t{0}, size_t{10}, text.size() / 2, text.size() - 1}) {
    WriteState(text.substr(0, keep));
    CrashGuard g = OpenGuard();
    EXPECT_EQ(g.load_problem().code(), StatusCode::kInvalidData) << keep;
    EXPECT_FALSE(g.IsBlocked(kAll)) << "started clean";
    WriteState(text);
  }
}

TEST_F(CrashGuardTest, ChecksumMismatchIsDetected) {
  DieDuring(kAll, GuardStep::kLoad);
  { CrashGuard g = OpenGuard(); }
  std::string text = ReadState();
  size_t pos = text.find("\"crashes\": 1");
  ASSERT_NE(pos, std::string::npos);
  text[pos + 11] = '0';  // a consistent-looking edit the checksum must catch
  WriteState(text);
  CrashGuard g = OpenGuard();
  EXPECT_NE(g.load_problem().message().find("checksum mismatch"), std::string::npos)
      << g.load_problem().message();
}

TEST_F(CrashGuardTest, ValidChecksumButBadSchemaIsDetected) {
  std::string body = "{\"entries\": 3}\n";
  fs::create_directories(dir_);
  WriteState("anepilot.guard 1 sha256=" + Sha256Hex(body) + "\n" + body);
  CrashGuard g = OpenGuard();
  EXPECT_NE(g.load_problem().message().find("breaks the schema"), std::string::npos)
      << g.load_problem().message();
}

TEST_F(CrashGuardTest, AMarkerWhoseRemovalWasLostIsNotCountedTwice) {
  DieDuring(kAll, GuardStep::kLoad);
  std::vector<fs::path> markers;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".marker") markers.push_back(e.path());
  }
  ASSERT_EQ(markers.size(), 1u);
  fs::copy_file(markers[0], dir_ + "/saved");
  { CrashGuard g = OpenGuard(); }
  // A kill after the state write but before the unlink leaves the marker.
  fs::rename(dir_ + "/saved", markers[0]);
  CrashGuard g = OpenGuard();
  EXPECT_TRUE(g.recovered().empty());
  guard_internal::GuardState state = *guard_internal::ParseGuardState(ReadState(), "state");
  ASSERT_EQ(state.entries.size(), 1u);
  EXPECT_EQ(state.entries[0].crashes, 1);
  EXPECT_EQ(MarkerCount(), 0u);
}

TEST_F(CrashGuardTest, AnUnreadableMarkerOfOurKeyIsAttributedByItsName) {
  DieDuring(kAne, GuardStep::kFirstPrediction);
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".marker") fs::resize_file(e.path(), 3);
  }
  CrashGuard g = OpenGuard();
  ASSERT_EQ(g.recovered().size(), 1u);
  EXPECT_EQ(g.recovered()[0].marker.units, kAne);
  EXPECT_EQ(g.recovered()[0].marker.step, GuardStep::kFirstPrediction);
  EXPECT_TRUE(g.IsBlocked(kAne));
}

TEST_F(CrashGuardTest, StaleTempMarkersAreRemoved) {
  fs::create_directories(dir_);
  std::ofstream(dir_ + "/t.0123456789abcdef.all.load.1-2-3-ff.marker") << "{";
  CrashGuard g = OpenGuard();
  EXPECT_TRUE(g.recovered().empty());
  EXPECT_EQ(MarkerCount(), 0u);
}

TEST_F(CrashGuardTest, StateTempFilesOfKilledWritersAreRemoved) {
  fs::create_directories(dir_);
  std::ofstream(dir_ + "/guard.state.tmp.12345.0") << "anepilot.guard 1 sha256=";
  CrashGuard g = OpenGuard();
  EXPECT_FALSE(fs::exists(dir_ + "/guard.state.tmp.12345.0"));
  EXPECT_TRUE(g.recovered().empty());
  EXPECT_TRUE(g.load_problem().ok());
}

TEST_F(CrashGuardTest, UnwritableDirectoryIsAnIoError) {
  auto g = CrashGuard::Open("/proc/anepilot-no-such-dir/guard", Key(), nullptr);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kIoError);
  EXPECT_NE(g.status().message().find("/proc/anepilot-no-such-dir/guard"), std::string::npos);
}

// Nothing new since the last launch: Open reads the state and writes nothing
// (no temp file, no rename, no fsync on the way to the first result).
TEST_F(CrashGuardTest, OpenWritesTheStateOnlyWhenItChanged) {
  {
    CrashGuard g = OpenGuard();
    ASSERT_TRUE(g.Arm(kGpu, GuardStep::kLoad).ok());
    ASSERT_TRUE(g.Disarm(kGpu, GuardStep::kLoad).ok());
  }
  OpenGuard();
  EXPECT_FALSE(fs::exists(StatePath())) << "a clean history needs no state file";

  DieDuring(kAll, GuardStep::kLoad);
  { CrashGuard g = OpenGuard(); EXPECT_TRUE(g.IsBlocked(kAll)); }
  struct stat before;
  ASSERT_EQ(::stat(StatePath().c_str(), &before), 0);
  const std::string text = ReadState();
  for (int i = 0; i < 3; ++i) {
    CrashGuard g = OpenGuard();
    EXPECT_TRUE(g.IsBlocked(kAll));
    ASSERT_TRUE(g.Arm(kGpu, GuardStep::kLoad).ok());
    ASSERT_TRUE(g.Disarm(kGpu, GuardStep::kLoad).ok());
  }
  struct stat after;
  ASSERT_EQ(::stat(StatePath().c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "an atomic rewrite would have replaced the file";
  EXPECT_EQ(ReadState(), text);

  // A change of environment drops the entry: that is a change, written.
  { CrashGuard g = OpenGuard(Key("22D60")); EXPECT_FALSE(g.IsBlocked(kAll)); }
  EXPECT_NE(ReadState(), text);
}

// With deferred fsyncs, Arm returns before anything is synced, and a process
// that dies right after (SIGKILL, nothing flushed, its sync thread killed
// with it) still leaves a marker the next launch finds.
TEST_F(CrashGuardTest, ADeferredMarkerSurvivesADeathBeforeItsFsync) {
  for (int signal : {SIGKILL, SIGSEGV, SIGABRT}) {
    SCOPED_TRACE(signal);
    fs::remove_all(dir_);
    pid_t pid = ::fork();
    if (pid == 0) {
      CrashGuardOptions o;
      o.deferred_sync = std::make_shared<DeferredSync>();
      auto g = CrashGuard::Open(dir_, Key(), o);
      if (!g.ok() || !g->Arm(kAll, GuardStep::kLoad).ok()) ::_exit(3);
      ::signal(signal, SIG_DFL);
      // raise(), not kill(getpid()): the queue's thread exists now, and a
      // process-directed signal may be taken by it while this thread runs on
      // to _exit; raise() delivers to this thread before it returns.
      ::raise(signal);
      ::_exit(4);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << status;
    CrashGuard g = OpenGuard();
    ASSERT_EQ(g.recovered().size(), 1u);
    EXPECT_EQ(g.recovered()[0].marker.units, kAll);
    EXPECT_TRUE(g.IsBlocked(kAll));
    EXPECT_EQ(MarkerCount(), 0u);
  }
}

// The queue really runs the marker's and the directory's fsyncs, after Arm
// and Disarm returned, and a clean step leaves nothing behind.
TEST_F(CrashGuardTest, DeferredArmAndDisarmQueueTheirFsyncs) {
  auto sync = std::make_shared<DeferredSync>();
  CrashGuardOptions o;
  o.deferred_sync = sync;
  auto g = CrashGuard::Open(dir_, Key(), o);
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(g->Arm(kAll, GuardStep::kLoad).ok());
  EXPECT_EQ(MarkerCount(), 1u);
  ASSERT_TRUE(g->Disarm(kAll, GuardStep::kLoad).ok());
  sync->Flush();
  EXPECT_EQ(sync->completed(), 3u);  // marker file, directory after Arm, directory after Disarm
  EXPECT_EQ(sync->failures(), 0u) << sync->last_error().ToString();
  EXPECT_EQ(MarkerCount(), 0u);
  CrashGuard again = OpenGuard();
  EXPECT_TRUE(again.recovered().empty());
  EXPECT_FALSE(again.IsBlocked(kAll));
}

TEST(GuardStateFormat, RoundTrip) {
  guard_internal::GuardState s;
  guard_internal::GuardEntry e;
  e.key = Key();
  e.units = kAne;
  e.last_step = GuardStep::kFirstPrediction;
  e.last_reason = ExitReason::kMemoryLimit;
  e.crashes = 1;
  e.memory_kills = 2;
  e.user_kills = 3;
  e.first_seen_ms = 5;
  e.last_seen_ms = 6;
  s.entries.push_back(e);
  RecoveredCrash r;
  r.marker = DeadMarker{Key("X"), kAll, GuardStep::kLoad, 77, 88};
  r.reason = ExitReason::kUserKill;
  s.pending.push_back(r);
  s.processed_markers = {"a", "b"};
  std::string text = guard_internal::SerializeGuardState(s);
  auto back = guard_internal::ParseGuardState(text, "x");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(guard_internal::SerializeGuardState(*back), text);
  EXPECT_EQ(back->entries[0].memory_kills, 2);
  EXPECT_EQ(back->pending[0].marker.pid, 77);
  EXPECT_EQ(back->pending[0].reason, ExitReason::kUserKill);
}

TEST(GuardNames, RoundTrip) {
  for (auto s : {GuardStep::kLoad, GuardStep::kFirstPrediction}) {
    EXPECT_EQ(ParseGuardStep(GuardStepName(s)), s);
  }
  for (auto r : {ExitReason::kUnknown, ExitReason::kCrash, ExitReason::kUserKill,
                 ExitReason::kMemoryLimit}) {
    EXPECT_EQ(ParseExitReason(ExitReasonName(r)), r);
  }
  EXPECT_FALSE(ParseExitReason("jetsam").has_value());
}

}  // namespace
}  // namespace anepilot
