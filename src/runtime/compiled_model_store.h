// Compiled models kept at stable, content-addressed paths:
//
//   <root>/v1/<key>/<name>.mlmodelc     key = 64 lowercase hex digits (SHA-256)
//   <root>/v1/index.json                sizes and last use of every entry
//   <root>/v1/lock                      flock()ed around every index change
//   <root>/v1/tmp/<pid>-<n>/            installs in progress (and evictions)
//
// Why: the system keeps its specialization (ANE compile) cache per model path;
// compiling into a fresh temporary directory at each launch makes every launch
// a cold load. Models decrypted at run time are installed from bytes, so they
// also get a stable path. "v1" versions the layout: a future layout lives
// beside it and this one can be deleted whole.
//
// Installs are atomic: files are written into a temp directory, then renamed
// into place, so a reader never sees half an entry and a crash leaves only a
// temp directory (removed by the next Open once its process is gone). Entries
// past the byte budget are evicted least recently used first.
//
// Durability: each entry holds two stamps beside <name>.mlmodelc: "boot" (the
// BootSessionId it was installed in) and "durable" (written, fsynced, once
// every byte of the entry is on stable storage).
//   - Without deferred_sync: files and directories are fsynced before the
//     rename, and "durable" is part of the entry from the start.
//   - With deferred_sync (what the runtime uses: the first launch's install is
//     on the way to the first result): the entry is renamed into place from
//     the page cache, usable at once and intact across any process death; the
//     fsyncs and the "durable" stamp run on the queue.
//   Lookup of an entry without "durable": installed in this boot -> its bytes
//   are intact, the fsyncs are (re)queued and the path returned; installed in
//   another boot -> a power cut / OS crash may have torn it: it is dropped
//   and Lookup says kNotFound (the caller compiles again). An entry is never
//   served torn.
//
// Thread- and process-safe: every index change happens under an exclusive
// flock() on <root>/v1/lock, taken through a fresh file descriptor per call, so
// threads of one process exclude each other too. Copies happen outside the lock.
// Limitation: evicting an entry another process has loaded deletes its files
// under it (the loaded model keeps working on Unix; a later reload misses).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "anepilot/result.h"
#include "base/deferred_sync.h"

namespace anepilot::runtime {

struct CompiledModelStoreOptions {
  std::string root;
  uint64_t byte_budget = uint64_t{4} << 30;
  // Called on every file and directory an install creates, before it becomes
  // visible (on iOS: set NSFileProtectionCompleteUntilFirstUserAuthentication).
  // An error aborts the install. (The entry's two stamp files, which hold no
  // model data, are not passed to it.)
  std::function<Status(const std::string& path)> protect_path;
  // Optional: fsyncs of installs run on this queue instead of before the
  // install returns (see "Durability" above). Shared with the caller.
  std::shared_ptr<DeferredSync> deferred_sync;
};

struct StoreEntry {
  std::string key;
  std::string name;
  std::string path;  // <root>/v1/<key>/<name>.mlmodelc
  uint64_t bytes = 0;
  uint64_t last_used = 0;  // store-wide use counter; larger = more recent
};

class CompiledModelStore {
 public:
  // Creates <root>/v1 if needed and removes temp directories of dead processes.
  // Errors: kIoError when the directories cannot be created.
  static Result<CompiledModelStore> Open(CompiledModelStoreOptions options);

  // Content hashes used as keys: of a file's bytes, or of a directory's files
  // (relative paths and bytes, in sorted order). Errors as ReadFileToString.
  static Result<std::string> HashPath(const std::string& path);
  static std::string HashFiles(const std::vector<std::pair<std::string, std::string>>& files);

  // The stored entry's compiled-model path, recording the use.
  // Errors: kNotFound when absent, kInvalidArgument for a malformed key.
  Result<std::string> Lookup(const std::string& key, const std::string& name);

  // Copies the directory `compiled_dir` (a .mlmodelc) into the store under
  // `key` and returns its stable path; returns the existing path when another
  // thread or process stored it first. Then evicts past the budget (never the
  // entry just installed). Errors: kNotFound, kIoError, the hook's error.
  Result<std::string> InstallDirectory(const std::string& key, const std::string& name,
                                       const std::string& compiled_dir);
  // The same, for a directory the caller gives up (a fresh compile's output):
  // moved into the store with rename(2), no copy, when it is on the store's
  // file system (copied otherwise). `compiled_dir` is gone afterwards on
  // success, unless the key was already stored (then it is left alone).
  Result<std::string> InstallDirectoryByMove(const std::string& key, const std::string& name,
                                             const std::string& compiled_dir);
  // The same from bytes held in memory (a model decrypted at run time):
  // `files` are (relative path, contents) pairs making up the .mlmodelc.
  Result<std::string> InstallFiles(const std::string& key, const std::string& name,
                                   const std::vector<std::pair<std::string, std::string>>& files);

  // Evicts least recently used entries until the total is within `byte_budget`.
  Status EvictToBudget(uint64_t byte_budget);
  // Every entry, least recently used first.
  Result<std::vector<StoreEntry>> Entries();

  const std::string& layout_dir() const { return dir_; }

 private:
  explicit CompiledModelStore(CompiledModelStoreOptions options);
  class Lock;
  struct Index;

  // `write(target)` creates the .mlmodelc directory `target` (inside a fresh
  // temp directory) and fills it; then the entry is moved into place.
  Result<std::string> Install(const std::string& key, const std::string& name,
                              const std::function<Status(const std::string& target)>& write);
  Result<Index> ReadIndex();             // caller holds the lock
  Status WriteIndex(const Index& index, bool durable);  // caller holds the lock
  // fsyncs the entry's files and directories and then writes its "durable"
  // stamp: on the deferred_sync queue when there is one, else now.
  void MakeDurable(const std::string& key);
  // Removes an install's emptied temp directory: on the queue when there is
  // one, else now.
  void RemoveLater(const std::string& temp);
  Status EvictLocked(Index& index, uint64_t budget, const std::string& keep_key);
  std::string EntryPath(const std::string& key, const std::string& name) const;
  std::string NewTempDir(const std::string& tag);

  CompiledModelStoreOptions options_;
  std::string dir_;  // <root>/v1
};

}  // namespace anepilot::runtime
