// CrashGuard: Open turns dead markers into entries; Arm/Disarm write and
// remove markers. See crash_guard.h for the protocol.
#include "guard/crash_guard.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "base/durable_file.h"
#include "base/mapped_file.h"
#include "guard/file_lock.h"
#include "guard/guard_marker.h"
#include "guard/guard_state.h"

namespace anepilot {

using guard_internal::FileLock;
using guard_internal::GuardEntry;
using guard_internal::GuardState;
using guard_internal::MarkerFile;

namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool SameEnvironment(const GuardKey& a, const GuardKey& b) {
  return a.device == b.device && a.os_build == b.os_build && a.app_version == b.app_version;
}

Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("{}: cannot create the crash guard directory: {}", dir, ec.message()));
  return Status::Ok();
}

GuardEntry& EntryFor(GuardState& state, const GuardKey& key, ComputeUnits units) {
  for (GuardEntry& e : state.entries) {
    if (e.key == key && e.units == units) return e;
  }
  GuardEntry e;
  e.key = key;
  e.units = units;
  state.entries.push_back(std::move(e));
  return state.entries.back();
}

}  // namespace

struct CrashGuard::Impl {
  std::string dir;
  GuardKey key;
  CrashGuardOptions options;
  GuardState state;
  std::vector<RecoveredCrash> recovered;
  Status load_problem;
  std::vector<MarkerFile> armed;
  // The state as read (or an empty state's text when there was no file);
  // Open writes the state back only when it differs.
  std::string state_as_read;

  std::string StatePath() const { return dir + "/guard.state"; }
  std::string LockPath() const { return dir + "/guard.lock"; }
  int64_t Now() const { return options.now_ms ? options.now_ms() : SystemNowMs(); }

  ~Impl() {
    for (MarkerFile& m : armed) ::close(m.fd);
  }

  // Reads the state; a missing file is a clean start, a bad one is moved
  // aside to guard.state.corrupt and reported.
  Status ReadState() {
    std::string path = StatePath();
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        state_as_read = guard_internal::SerializeGuardState(state);
        return Status::Ok();
      }
      return IoError(fmt::format("{}: stat failed: {}", path, std::strerror(errno)));
    }
    auto text = ReadFileToString(path);
    if (!text.ok()) {
      if (st.st_size != 0) return text.status();
      text = std::string();  // mapping an empty file fails on some systems; it is just truncated
    }
    auto parsed = guard_internal::ParseGuardState(*text, path);
    if (parsed.ok()) {
      state = std::move(parsed).value();
      state_as_read = std::move(text).value();
      return Status::Ok();
    }
    std::string corrupt = path + ".corrupt";
    ::rename(path.c_str(), corrupt.c_str());
    load_problem = Status(parsed.status().code(),
                          parsed.status().message() + fmt::format("; moved to {} and started clean", corrupt));
    return Status::Ok();
  }

  void Record(const MarkerFile& m, ExitReason reason) {
    GuardEntry& e = EntryFor(state, m.info.key, m.info.units);
    bool was_blocked = e.Blocks();
    switch (reason) {
      case ExitReason::kCrash:
      case ExitReason::kUnknown: ++e.crashes; break;
      case ExitReason::kMemoryLimit: ++e.memory_kills; break;
      case ExitReason::kUserKill: ++e.user_kills; break;
    }
    int64_t now = Now();
    if (e.first_seen_ms == 0) e.first_seen_ms = now;
    e.last_seen_ms = now;
    e.last_step = m.info.step;
    e.last_reason = reason;
    RecoveredCrash r;
    r.marker = m.info;
    r.reason = reason;
    r.now_blocked = e.Blocks() && !was_blocked;
    state.pending.push_back(r);
    state.processed_markers.push_back(m.id);
    while (state.processed_markers.size() > guard_internal::kMaxProcessedMarkers) {
      state.processed_markers.pop_front();
    }
  }

  // State temp files of writers killed before their rename. Every state
  // writer holds the directory lock, so under it any temp file is stale.
  void RemoveStaleStateTemps() {
    std::error_code ec;
    std::string prefix = "guard.state.tmp.";
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().filename().string().rfind(prefix, 0) == 0) std::filesystem::remove(e.path(), ec);
    }
  }

  Status OpenLocked() {
    RemoveStaleStateTemps();
    ANEPILOT_RETURN_IF_ERROR(ReadState());
    ANEPILOT_ASSIGN_OR_RETURN(std::vector<MarkerFile> dead,
                              guard_internal::CollectDeadMarkers(dir, key));
    for (const MarkerFile& m : dead) {
      bool seen = std::find(state.processed_markers.begin(), state.processed_markers.end(), m.id) !=
                  state.processed_markers.end();
      if (seen) continue;
      ExitReason reason =
          options.exit_reasons ? options.exit_reasons->ReasonFor(m.info) : ExitReason::kUnknown;
      Record(m, reason);
    }
    // Re-arm: entries and reports of another environment no longer apply.
    std::erase_if(state.entries, [&](const GuardEntry& e) { return !SameEnvironment(e.key, key); });
    std::erase_if(state.pending,
                  [&](const RecoveredCrash& r) { return !SameEnvironment(r.marker.key, key); });
    for (auto it = state.pending.begin(); it != state.pending.end();) {
      if (it->marker.key == key) {
        recovered.push_back(*it);
        it = state.pending.erase(it);
      } else {
        ++it;
      }
    }
    while (state.pending.size() > guard_internal::kMaxPendingReports) {
      state.pending.erase(state.pending.begin());
    }
    // A launch that found nothing new leaves the file alone (no write, no
    // fsync on the way to the first result). A changed state is written
    // durably here, not deferred: the markers it accounts for are removed
    // next, and that must not become durable before the state does.
    std::string serialized = guard_internal::SerializeGuardState(state);
    Status s;
    if (serialized != state_as_read) s = WriteFileAtomically(StatePath(), serialized, options.durable);
    // Markers go only after the state that accounts for them is durable; a
    // kill in between leaves markers whose ids are already processed.
    for (const MarkerFile& m : dead) {
      if (s.ok()) ::unlink(m.path.c_str());
      ::close(m.fd);
    }
    if (s.ok() && !dead.empty()) s = SyncDir();
    return s;
  }

  bool Deferred() const { return options.durable && options.deferred_sync != nullptr; }

  // Makes creates / unlinks in the guard directory durable: now, or queued.
  Status SyncDir() {
    if (!options.durable) return Status::Ok();
    if (Deferred()) {
      options.deferred_sync->SyncDirectory(dir);
      return Status::Ok();
    }
    return SyncDirectory(dir);
  }

  bool Blocks(ComputeUnits units) const {
    for (const GuardEntry& e : state.entries) {
      if (e.key == key && e.units == units && e.Blocks()) return true;
    }
    return false;
  }
};

Result<CrashGuard> CrashGuard::Open(const std::string& state_dir, GuardKey key,
                                    CrashGuardOptions options) {
  ANEPILOT_RETURN_IF_ERROR(MakeDirs(state_dir));
  auto impl = std::make_unique<Impl>();
  impl->dir = state_dir;
  impl->key = std::move(key);
  impl->options = std::move(options);
  ANEPILOT_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(impl->LockPath()));
  ANEPILOT_RETURN_IF_ERROR(impl->OpenLocked());
  return CrashGuard(std::move(impl));
}

CrashGuard::CrashGuard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CrashGuard::CrashGuard(CrashGuard&&) noexcept = default;
CrashGuard& CrashGuard::operator=(CrashGuard&&) noexcept = default;
CrashGuard::~CrashGuard() = default;

const GuardKey& CrashGuard::key() const { return impl_->key; }
const std::vector<RecoveredCrash>& CrashGuard::recovered() const { return impl_->recovered; }
const Status& CrashGuard::load_problem() const { return impl_->load_problem; }

bool CrashGuard::IsBlocked(ComputeUnits units) const {
  return units != ComputeUnits::kCpuOnly && impl_->Blocks(units);
}

std::vector<BlockedConfig> CrashGuard::Blocked() const {
  std::vector<BlockedConfig> out;
  for (const GuardEntry& e : impl_->state.entries) {
    if (e.key != impl_->key || !e.Blocks()) continue;
    BlockedConfig b;
    b.key = e.key;
    b.units = e.units;
    b.step = e.last_step;
    b.reason = e.crashes > 0 ? ExitReason::kCrash : ExitReason::kMemoryLimit;
    b.crashes = e.crashes;
    b.memory_kills = e.memory_kills;
    b.first_seen_ms = e.first_seen_ms;
    b.last_seen_ms = e.last_seen_ms;
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<ComputeUnits> CrashGuard::FilterChoices(const std::vector<ComputeUnits>& choices) const {
  std::vector<ComputeUnits> out;
  for (ComputeUnits u : choices) {
    if (!IsBlocked(u) && std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
  }
  if (out.empty()) out.push_back(ComputeUnits::kCpuOnly);
  return out;
}

Status CrashGuard::Arm(ComputeUnits units, GuardStep step) {
  if (IsBlocked(units)) {
    return InvalidArgument(fmt::format("crash guard: {} is blocked for this device, OS build, model "
                                       "and app version; use FilterChoices",
                                       ComputeUnitsName(units)));
  }
  for (const MarkerFile& m : impl_->armed) {
    if (m.info.units == units && m.info.step == step) {
      return InvalidArgument(fmt::format("crash guard: {} {} is already armed",
                                         ComputeUnitsName(units), GuardStepName(step)));
    }
  }
  DeadMarker info;
  info.key = impl_->key;
  info.units = units;
  info.step = step;
  info.pid = static_cast<int64_t>(::getpid());
  info.armed_at_ms = impl_->Now();
  // The directory lock keeps Open's scan from seeing a half-made marker.
  ANEPILOT_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(impl_->LockPath()));
  // Deferred: the marker is in the page cache when CreateMarker returns (safe
  // against the death of this process); its fsyncs follow on the queue.
  const bool sync_now = impl_->options.durable && !impl_->Deferred();
  ANEPILOT_ASSIGN_OR_RETURN(MarkerFile m, guard_internal::CreateMarker(impl_->dir, info, sync_now));
  if (impl_->Deferred()) {
    impl_->options.deferred_sync->SyncFile(m.path);
    impl_->options.deferred_sync->SyncDirectory(impl_->dir);
  }
  impl_->armed.push_back(std::move(m));
  return Status::Ok();
}

Status CrashGuard::Disarm(ComputeUnits units, GuardStep step) {
  auto& armed = impl_->armed;
  auto it = std::find_if(armed.begin(), armed.end(), [&](const MarkerFile& m) {
    return m.info.units == units && m.info.step == step;
  });
  if (it == armed.end()) {
    return InvalidArgument(fmt::format("crash guard: {} {} is not armed", ComputeUnitsName(units),
                                       GuardStepName(step)));
  }
  Status s;
  if (::unlink(it->path.c_str()) != 0) {
    s = IoError(fmt::format("{}: removing the marker failed: {}", it->path, std::strerror(errno)));
  } else {
    s = impl_->SyncDir();
  }
  ::close(it->fd);
  armed.erase(it);
  return s;
}

}  // namespace anepilot
