#include "guard/guard_marker.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/durable_file.h"
#include "guard/file_lock.h"
#include "guard/guard_state.h"

namespace anepilot::guard_internal {
namespace {

using json = nlohmann::json;

std::string MarkerName(const std::string& prefix, const DeadMarker& m, const std::string& id) {
  return fmt::format("{}.{}.{}.{}.{}.marker", prefix, KeyDigest(m.key), ComputeUnitsName(m.units),
                     GuardStepName(m.step), id);
}

std::string NewId(int64_t pid, int64_t now_ms) {
  static std::atomic<uint64_t> seq{0};
  thread_local std::mt19937_64 rng(std::random_device{}());
  return fmt::format("{}-{}-{}-{:016x}", pid, now_ms, seq.fetch_add(1), rng());
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return parts;
    start = pos + 1;
  }
}

std::optional<DeadMarker> ParseContent(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    DeadMarker m;
    const json& k = j.at("key");
    m.key = GuardKey{k.at("device").get<std::string>(), k.at("os_build").get<std::string>(),
                     k.at("model_hash").get<std::string>(), k.at("app_version").get<std::string>()};
    auto units = ParseComputeUnits(j.at("units").get<std::string>());
    auto step = ParseGuardStep(j.at("step").get<std::string>());
    if (!units || !step) return std::nullopt;
    m.units = *units;
    m.step = *step;
    m.pid = j.at("pid").get<int64_t>();
    m.armed_at_ms = j.at("armed_at_ms").get<int64_t>();
    return m;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ::lseek(fd, 0, SEEK_SET);
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

Result<MarkerFile> CreateMarker(const std::string& dir, const DeadMarker& info, bool durable) {
  MarkerFile m;
  m.info = info;
  m.id = NewId(info.pid, info.armed_at_ms);
  std::string temp = dir + "/" + MarkerName("t", info, m.id);
  m.path = dir + "/" + MarkerName("m", info, m.id);
  int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(fmt::format("{}: create marker failed: {}", temp, std::strerror(errno)));
  auto fail = [&](Status s) {
    ::unlink(temp.c_str());
    ::close(fd);
    return s;
  };
  auto locked = TryLockDescriptor(fd, temp);
  if (!locked.ok()) return fail(locked.status());
  if (!*locked) return fail(Internal(fmt::format("{}: fresh marker already locked", temp)));
  json j;
  j["key"] = {{"device", info.key.device}, {"os_build", info.key.os_build},
              {"model_hash", info.key.model_hash}, {"app_version", info.key.app_version}};
  j["units"] = std::string(ComputeUnitsName(info.units));
  j["step"] = std::string(GuardStepName(info.step));
  j["pid"] = info.pid;
  j["armed_at_ms"] = info.armed_at_ms;
  j["id"] = m.id;
  Status s = WriteFully(fd, j.dump() + "\n", temp);
  if (s.ok() && durable) s = SyncFileDescriptor(fd, temp);
  if (!s.ok()) return fail(s);
  if (::rename(temp.c_str(), m.path.c_str()) != 0) {
    return fail(IoError(fmt::format("{}: rename marker failed: {}", m.path, std::strerror(errno))));
  }
  if (durable) {
    s = SyncDirectory(dir);
    if (!s.ok()) {
      ::unlink(m.path.c_str());
      ::close(fd);
      return s;
    }
  }
  m.fd = fd;
  return m;
}

Result<std::vector<MarkerFile>> CollectDeadMarkers(const std::string& dir, const GuardKey& own_key) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return IoError(fmt::format("{}: opendir failed: {}", dir, std::strerror(errno)));
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 9 && (name[0] == 'm' || name[0] == 't') && name[1] == '.' &&
        name.compare(name.size() - 7, 7, ".marker") == 0) {
      names.push_back(name);
    }
  }
  ::closedir(d);
  std::string own_digest = KeyDigest(own_key);
  std::vector<MarkerFile> dead;
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;  // removed meanwhile
    auto locked = TryLockDescriptor(fd, path);
    if (!locked.ok() || !*locked) {  // a live owner (or an unlockable file): leave it
      ::close(fd);
      continue;
    }
    if (name[0] == 't') {  // a writer died before the rename: the step never started
      ::unlink(path.c_str());
      ::close(fd);
      continue;
    }
    // m.<digest>.<units>.<step>.<id>.marker
    std::vector<std::string> parts = Split(name, '.');
    MarkerFile m;
    m.path = path;
    m.fd = fd;
    m.id = parts.size() == 6 ? parts[4] : name;
    std::optional<DeadMarker> info = ParseContent(ReadAll(fd));
    if (!info && parts.size() == 6 && parts[1] == own_digest) {
      auto units = ParseComputeUnits(parts[2]);
      auto step = ParseGuardStep(parts[3]);
      if (units && step) info = DeadMarker{own_key, *units, *step, 0, 0};
    }
    if (!info) {  // cannot be attributed to any key
      ::unlink(path.c_str());
      ::close(fd);
      continue;
    }
    m.info = *info;
    dead.push_back(std::move(m));
  }
  return dead;
}

}  // namespace anepilot::guard_internal
