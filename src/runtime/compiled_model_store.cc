#include "runtime/compiled_model_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "base/sha256.h"
#include "base/durable_file.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Inside <root>/v1/<key>/: the boot the entry was installed in, and the stamp
// that says every byte of the entry reached stable storage.
constexpr const char* kBootStamp = "boot";
constexpr const char* kDurableStamp = "durable";

// Creates `path` with `bytes`; flushed to stable storage when `sync`.
Status WriteNewFile(const std::string& path, std::string_view bytes, bool sync) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(path + ": cannot create: " + std::strerror(errno));
  Status s = WriteFully(fd, bytes, path);
  if (s.ok() && sync) s = SyncFileDescriptor(fd, path);
  ::close(fd);
  return s;
}

std::string ReadSmallFile(const std::string& path) {
  auto text = ReadFileToString(path);
  return text.ok() ? *text : std::string();
}

bool IsKey(const std::string& key) {
  return key.size() == 64 &&
         std::all_of(key.begin(), key.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsSafeName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) total += it->file_size(size_ec);
  }
  return total;
}

// Relative paths of the regular files under `dir`, sorted.
std::vector<std::string> SortedFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    std::error_code type_ec;
    // Lexical, not fs::relative: another process may evict the entry while we
    // walk it, and fs::relative (canonical paths) would throw instead of
    // letting the caller see the files vanish.
    if (it->is_regular_file(type_ec)) {
      files.push_back(it->path().lexically_relative(dir).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

Status CopyTree(const std::string& from, const std::string& to,
                const std::function<Status(const std::string&)>& protect, bool sync) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::end(it); it.increment(ec)) {
    const std::string rel = it->path().lexically_relative(from).string();
    const std::string target = to + "/" + rel;
    if (it->is_directory()) {
      fs::create_directories(target, ec);
      if (ec) return IoError(target + ": cannot create directory: " + ec.message());
    } else if (it->is_regular_file()) {
      ANEPILOT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(it->path().string()));
      ANEPILOT_RETURN_IF_ERROR(WriteNewFile(target, bytes, sync));
    } else {
      continue;
    }
    if (protect) ANEPILOT_RETURN_IF_ERROR(protect(target));
  }
  if (ec) return IoError(from + ": cannot list directory: " + ec.message());
  return Status::Ok();
}

// fsyncs every file and directory under `dir` (directories after their
// contents). Files that vanish meanwhile (an eviction) are skipped.
Status SyncTree(const std::string& dir) {
  std::vector<std::string> files, dirs = {dir};
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) dirs.push_back(it->path().string());
    else if (it->is_regular_file(type_ec)) files.push_back(it->path().string());
  }
  for (const std::string& f : files) {
    int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    Status s = SyncFileDescriptor(fd, f);
    ::close(fd);
    ANEPILOT_RETURN_IF_ERROR(s);
  }
  for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) {
    if (fs::exists(*d, ec)) ANEPILOT_RETURN_IF_ERROR(SyncDirectory(*d));
  }
  return Status::Ok();
}

}  // namespace

// RAII exclusive flock() on <root>/v1/lock, through a descriptor of its own.
class CompiledModelStore::Lock {
 public:
  static Result<Lock> Acquire(const std::string& dir) {
    const std::string path = dir + "/lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return IoError(path + ": cannot open store lock: " + std::strerror(errno));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      Status s = IoError(path + ": flock failed: " + std::strerror(errno));
      ::close(fd);
      return s;
    }
    return Lock(fd);
  }
  Lock(Lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Lock& operator=(Lock&&) = delete;
  ~Lock() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
  }

 private:
  explicit Lock(int fd) : fd_(fd) {}
  int fd_;
};

struct CompiledModelStore::Index {
  uint64_t clock = 0;
  std::map<std::string, StoreEntry> entries;  // by key
};

CompiledModelStore::CompiledModelStore(CompiledModelStoreOptions options)
    : options_(std::move(options)), dir_(options_.root + "/v1") {}

Result<CompiledModelStore> CompiledModelStore::Open(CompiledModelStoreOptions options) {
  if (options.root.empty()) return InvalidArgument("compiled-model store: root directory is empty");
  CompiledModelStore store(std::move(options));
  std::error_code ec;
  fs::create_directories(store.dir_ + "/tmp", ec);
  if (ec) return IoError(store.dir_ + ": cannot create store directory: " + ec.message());
  ANEPILOT_ASSIGN_OR_RETURN(Lock lock, Lock::Acquire(store.dir_));
  // Temp directories are named <pid>-<n>: those of processes that are gone
  // are leftovers of a crash mid-install.
  for (const auto& e : fs::directory_iterator(store.dir_ + "/tmp", ec)) {
    const std::string n = e.path().filename().string();
    const pid_t pid = static_cast<pid_t>(std::strtol(n.c_str(), nullptr, 10));
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
      std::error_code rm_ec;
      fs::remove_all(e.path(), rm_ec);
    }
  }
  return store;
}

Result<std::string> CompiledModelStore::HashPath(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return Sha256OfFile(path);
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& rel : SortedFiles(path)) {
    ANEPILOT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path + "/" + rel));
    files.emplace_back(rel, std::move(bytes));
  }
  return HashFiles(files);
}

std::string CompiledModelStore::HashFiles(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  for (const auto& f : files) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  Sha256 h;
  for (const auto* f : sorted) {
    // Length-prefixed so that ("ab","c") and ("a","bc") hash differently.
    h.Update(std::to_string(f->first.size()) + ":" + f->first + ":" + std::to_string(f->second.size()) + ":");
    h.Update(f->second);
  }
  return h.FinishHex();
}

std::string CompiledModelStore::EntryPath(const std::string& key, const std::string& name) const {
  return dir_ + "/" + key + "/" + name + ".mlmodelc";
}

std::string CompiledModelStore::NewTempDir(const std::string& tag) {
  static std::atomic<unsigned> counter{0};
  return dir_ + "/tmp/" + std::to_string(::getpid()) + "-" + tag + "-" +
         std::to_string(counter.fetch_add(1));
}

Result<CompiledModelStore::Index> CompiledModelStore::ReadIndex() {
  Index index;
  const std::string path = dir_ + "/index.json";
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto text = ReadFileToString(path);
    json j = text.ok() ? json::parse(*text, nullptr, false) : json();
    // A damaged index is rebuilt from the directories below (uses forgotten).
    if (j.is_object() && j.value("version", 0) == 1 && j.contains("entries") && j["entries"].is_object()) {
      index.clock = j.value("clock", uint64_t{0});
      for (const auto& [key, e] : j["entries"].items()) {
        if (!IsKey(key) || !e.is_object()) continue;
        StoreEntry entry;
        entry.key = key;
        entry.name = e.value("name", std::string());
        entry.bytes = e.value("bytes", uint64_t{0});
        entry.last_used = e.value("last_used", uint64_t{0});
        if (!IsSafeName(entry.name)) continue;
        entry.path = EntryPath(key, entry.name);
        index.entries[key] = entry;
      }
    }
  }
  // Reconcile with the directories: an entry renamed into place by a process
  // that died before updating the index is adopted; a vanished one dropped.
  std::map<std::string, StoreEntry> on_disk;
  for (const auto& d : fs::directory_iterator(dir_, ec)) {
    const std::string key = d.path().filename().string();
    if (!IsKey(key) || !d.is_directory()) continue;
    auto known = index.entries.find(key);
    if (known != index.entries.end() && fs::exists(known->second.path)) {
      on_disk[key] = known->second;
      continue;
    }
    for (const auto& m : fs::directory_iterator(d.path(), ec)) {
      if (m.path().extension() != ".mlmodelc") continue;
      StoreEntry entry;
      entry.key = key;
      entry.name = m.path().stem().string();
      entry.path = m.path().string();
      entry.bytes = DirectoryBytes(entry.path);
      on_disk[key] = entry;
      break;
    }
  }
  index.entries = std::move(on_disk);
  return index;
}

Status CompiledModelStore::WriteIndex(const Index& index, bool durable) {
  json j;
  j["version"] = 1;
  j["clock"] = index.clock;
  j["entries"] = json::object();
  for (const auto& [key, e] : index.entries) {
    j["entries"][key] = {{"name", e.name}, {"bytes", e.bytes}, {"last_used", e.last_used}};
  }
  return WriteFileAtomically(dir_ + "/index.json", j.dump(1), durable);
}

Result<std::string> CompiledModelStore::Lookup(const std::string& key, const std::string& name) {
  if (!IsKey(key)) return InvalidArgument("compiled-model store: key '" + key + "' is not a SHA-256 hex digest");
  if (!IsSafeName(name)) return InvalidArgument("compiled-model store: bad model name '" + name + "'");
  ANEPILOT_ASSIGN_OR_RETURN(Lock lock, Lock::Acquire(dir_));
  ANEPILOT_ASSIGN_OR_RETURN(Index index, ReadIndex());
  auto it = index.entries.find(key);
  if (it == index.entries.end() || it->second.name != name) {
    return NotFound(EntryPath(key, name) + ": not in the compiled-model store");
  }
  const std::string entry_dir = dir_ + "/" + key;
  if (!fs::exists(entry_dir + "/" + kDurableStamp)) {
    // Installed with deferred durability and not yet stamped durable. Same
    // boot: its bytes are intact in the page cache (its installer may have
    // died before the queue ran); finish the job. Another boot (or unknown):
    // a power cut or OS crash may have torn it; drop it and let the caller
    // compile again.
    const std::string boot = BootSessionId();
    if (boot.empty() || ReadSmallFile(entry_dir + "/" + kBootStamp) != boot) {
      const std::string trash = NewTempDir("evict");
      std::error_code ec;
      fs::create_directories(trash, ec);
      if (::rename(entry_dir.c_str(), (trash + "/" + key).c_str()) == 0) fs::remove_all(trash, ec);
      index.entries.erase(it);
      (void)WriteIndex(index, /*durable=*/false);
      return NotFound(EntryPath(key, name) +
                      ": installed before a reboot and never made durable; dropped (compile again)");
    }
    MakeDurable(key);
  }
  it->second.last_used = ++index.clock;
  // Recording a use is on the launch's critical path and losing it to a power
  // cut costs only LRU accuracy: atomic, but not fsynced.
  ANEPILOT_RETURN_IF_ERROR(WriteIndex(index, /*durable=*/false));
  return it->second.path;
}

void CompiledModelStore::RemoveLater(const std::string& temp) {
  // Removing a directory can wait on a busy file system's journal for
  // milliseconds; the emptied temp directory is no use to anyone, so with a
  // queue it goes there (a process that dies first leaves it to the next Open).
  auto job = [temp]() -> Status {
    std::error_code ec;
    fs::remove_all(temp, ec);
    return Status::Ok();
  };
  if (options_.deferred_sync) {
    options_.deferred_sync->Run(std::move(job));
  } else {
    (void)job();
  }
}

void CompiledModelStore::MakeDurable(const std::string& key) {
  auto job = [dir = dir_, key]() -> Status {
    const std::string entry_dir = dir + "/" + key;
    std::error_code ec;
    if (!fs::exists(entry_dir, ec)) return Status::Ok();  // evicted meanwhile
    ANEPILOT_RETURN_IF_ERROR(SyncTree(entry_dir));
    ANEPILOT_RETURN_IF_ERROR(SyncDirectory(dir));  // the rename that put the entry in place
    if (!fs::exists(entry_dir, ec)) return Status::Ok();
    return WriteFileAtomically(entry_dir + "/" + kDurableStamp, "", /*durable=*/true);
  };
  if (options_.deferred_sync) {
    options_.deferred_sync->Run(std::move(job));
  } else {
    (void)job();
  }
}

Result<std::string> CompiledModelStore::Install(
    const std::string& key, const std::string& name,
    const std::function<Status(const std::string& target)>& write) {
  if (!IsKey(key)) return InvalidArgument("compiled-model store: key '" + key + "' is not a SHA-256 hex digest");
  if (!IsSafeName(name)) return InvalidArgument("compiled-model store: bad model name '" + name + "'");
  auto existing = Lookup(key, name);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;

  // Build the entry in a temp directory, outside the lock.
  const std::string temp = NewTempDir("install");
  const std::string staged = temp + "/" + key;
  const std::string model = staged + "/" + name + ".mlmodelc";
  std::error_code ec;
  // `write` creates `model` itself (a move renames a whole directory there).
  fs::create_directories(staged, ec);
  if (ec) return IoError(staged + ": cannot create directory: " + ec.message());
  const bool sync_now = !options_.deferred_sync;
  Status written = write(model);
  if (written.ok() && options_.protect_path) written = options_.protect_path(staged);
  if (written.ok() && options_.protect_path) written = options_.protect_path(model);
  // The stamps: which boot wrote the entry, and (synchronous installs) that it
  // is durable as soon as it is in place.
  if (written.ok()) written = WriteNewFile(staged + "/" + kBootStamp, BootSessionId(), sync_now);
  if (written.ok() && sync_now) written = WriteNewFile(staged + "/" + kDurableStamp, "", true);
  if (written.ok() && sync_now) written = SyncDirectory(model);
  if (written.ok() && sync_now) written = SyncDirectory(staged);
  if (!written.ok()) {
    fs::remove_all(temp, ec);
    return written;
  }

  ANEPILOT_ASSIGN_OR_RETURN(Lock lock, Lock::Acquire(dir_));
  const std::string final_dir = dir_ + "/" + key;
  if (::rename(staged.c_str(), final_dir.c_str()) != 0) {
    const int err = errno;
    fs::remove_all(temp, ec);
    if (err != EEXIST && err != ENOTEMPTY) {
      return IoError(final_dir + ": cannot move staged entry into place: " + std::strerror(err));
    }
    // Another thread or process installed the same key first: theirs wins.
  } else {
    RemoveLater(temp);
    if (sync_now) ANEPILOT_RETURN_IF_ERROR(SyncDirectory(dir_));
  }
  ANEPILOT_ASSIGN_OR_RETURN(Index index, ReadIndex());
  auto it = index.entries.find(key);
  if (it == index.entries.end()) return Internal(final_dir + ": entry vanished right after install");
  if (it->second.name != name) {
    return InvalidArgument(final_dir + ": key already stored under name '" + it->second.name +
                           "', not '" + name + "'");
  }
  if (it->second.bytes == 0) it->second.bytes = DirectoryBytes(it->second.path);
  it->second.last_used = ++index.clock;
  const std::string path = it->second.path;
  ANEPILOT_RETURN_IF_ERROR(EvictLocked(index, options_.byte_budget, key));
  // Deferred: the index follows the entry's own durability (ReadIndex adopts
  // entries the index does not know, so a lost index costs only LRU order).
  ANEPILOT_RETURN_IF_ERROR(WriteIndex(index, /*durable=*/sync_now));
  if (!sync_now) MakeDurable(key);
  return path;
}

Result<std::string> CompiledModelStore::InstallDirectory(const std::string& key, const std::string& name,
                                                         const std::string& compiled_dir) {
  std::error_code ec;
  if (!fs::is_directory(compiled_dir, ec)) return NotFound(compiled_dir + ": compiled model directory not found");
  return Install(key, name, [&](const std::string& target) -> Status {
    std::error_code mk_ec;
    fs::create_directories(target, mk_ec);
    if (mk_ec) return IoError(target + ": cannot create directory: " + mk_ec.message());
    return CopyTree(compiled_dir, target, options_.protect_path, /*sync=*/!options_.deferred_sync);
  });
}

Result<std::string> CompiledModelStore::InstallDirectoryByMove(const std::string& key, const std::string& name,
                                                               const std::string& compiled_dir) {
  std::error_code ec;
  if (!fs::is_directory(compiled_dir, ec)) return NotFound(compiled_dir + ": compiled model directory not found");
  return Install(key, name, [&](const std::string& target) -> Status {
    const bool sync = !options_.deferred_sync;
    std::error_code rm_ec;
    if (::rename(compiled_dir.c_str(), target.c_str()) != 0) {
      if (errno != EXDEV) return IoError(compiled_dir + ": cannot move into the store: " + std::strerror(errno));
      fs::create_directories(target, rm_ec);
      return CopyTree(compiled_dir, target, options_.protect_path, sync);
    }
    // Moved, not copied: the files still need the hook, and (synchronous
    // installs) their fsync, which the copy would have done.
    for (auto it = fs::recursive_directory_iterator(target, rm_ec); !rm_ec && it != fs::end(it);
         it.increment(rm_ec)) {
      const std::string path = it->path().string();
      if (options_.protect_path) ANEPILOT_RETURN_IF_ERROR(options_.protect_path(path));
    }
    if (rm_ec) return IoError(target + ": cannot list directory: " + rm_ec.message());
    return sync ? SyncTree(target) : Status::Ok();
  });
}

Result<std::string> CompiledModelStore::InstallFiles(
    const std::string& key, const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [rel, bytes] : files) {
    if (rel.empty() || rel[0] == '/' || rel.find("..") != std::string::npos) {
      return InvalidArgument("compiled-model store: file path '" + rel + "' must be relative and stay inside the model");
    }
  }
  return Install(key, name, [&](const std::string& target) -> Status {
    std::error_code mk_ec;
    fs::create_directories(target, mk_ec);
    if (mk_ec) return IoError(target + ": cannot create directory: " + mk_ec.message());
    for (const auto& [rel, bytes] : files) {
      const std::string path = target + "/" + rel;
      std::error_code ec;
      fs::create_directories(fs::path(path).parent_path(), ec);
      if (ec) return IoError(path + ": cannot create parent directory: " + ec.message());
      ANEPILOT_RETURN_IF_ERROR(WriteNewFile(path, bytes, /*sync=*/!options_.deferred_sync));
      if (options_.protect_path) ANEPILOT_RETURN_IF_ERROR(options_.protect_path(path));
    }
    return Status::Ok();
  });
}

Status CompiledModelStore::EvictLocked(Index& index, uint64_t budget, const std::string& keep_key) {
  uint64_t total = 0;
  for (const auto& [key, e] : index.entries) total += e.bytes;
  std::vector<StoreEntry> by_age;
  for (const auto& [key, e] : index.entries) by_age.push_back(e);
  std::sort(by_age.begin(), by_age.end(),
            [](const StoreEntry& a, const StoreEntry& b) { return a.last_used < b.last_used; });
  for (const StoreEntry& victim : by_age) {
    if (total <= budget) break;
    if (victim.key == keep_key) continue;
    // Rename first (atomic: the entry disappears whole), then delete at leisure.
    const std::string trash = NewTempDir("evict");
    std::error_code ec;
    fs::create_directories(trash, ec);
    const std::string from = dir_ + "/" + victim.key;
    if (::rename(from.c_str(), (trash + "/" + victim.key).c_str()) != 0) {
      return IoError(from + ": cannot evict: " + std::strerror(errno));
    }
    fs::remove_all(trash, ec);
    total -= victim.bytes;
    index.entries.erase(victim.key);
  }
  return Status::Ok();
}

Status CompiledModelStore::EvictToBudget(uint64_t budget) {
  ANEPILOT_ASSIGN_OR_RETURN(Lock lock, Lock::Acquire(dir_));
  ANEPILOT_ASSIGN_OR_RETURN(Index index, ReadIndex());
  ANEPILOT_RETURN_IF_ERROR(EvictLocked(index, budget, ""));
  return WriteIndex(index, /*durable=*/true);
}

Result<std::vector<StoreEntry>> CompiledModelStore::Entries() {
  ANEPILOT_ASSIGN_OR_RETURN(Lock lock, Lock::Acquire(dir_));
  ANEPILOT_ASSIGN_OR_RETURN(Index index, ReadIndex());
  std::vector<StoreEntry> out;
  for (const auto& [key, e] : index.entries) out.push_back(e);
  std::sort(out.begin(), out.end(),
            [](const StoreEntry& a, const StoreEntry& b) { return a.last_used < b.last_used; });
  return out;
}

}  // namespace anepilot::runtime
