#include "runtime/compiled_model_store.h"

#include <sys/stat.h>

#include <cstdio>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "base/mapped_file.h"
#include "base/test_paths.h"
#include "runtime/test_child.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;
using Files = std::vector<std::pair<std::string, std::string>>;

// A small fake .mlmodelc: the files differ per `seed` so keys differ.
Files ModelFiles(int seed, size_t weight_bytes = 1000) {
  return {{"model.mil", "program(" + std::to_string(seed) + ")"},
          {"coremldata.bin", "meta" + std::to_string(seed)},
          {"weights/weight.bin", std::string(weight_bytes, static_cast<char>('a' + seed % 26))}};
}

void WriteTree(const std::string& dir, const Files& files) {
  for (const auto& [rel, bytes] : files) {
    fs::create_directories(fs::path(dir + "/" + rel).parent_path());
    std::ofstream(dir + "/" + rel, std::ios::binary) << bytes;
  }
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = anepilot::testing::ScratchDir(std::string("store-") +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  CompiledModelStore Open(uint64_t budget = uint64_t{1} << 30,
                          std::function<Status(const std::string&)> protect = {}) {
    auto s = CompiledModelStore::Open({root_, budget, std::move(protect), nullptr});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  std::string root_;
};

TEST_F(StoreTest, InstallsAtAStableContentAddressedPath) {
  const std::string src = root_ + "-src/Detector.mlmodelc";
  WriteTree(src, ModelFiles(1));
  auto key = CompiledModelStore::HashPath(src);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, CompiledModelStore::HashFiles(ModelFiles(1)));

  CompiledModelStore store = Open();
  EXPECT_EQ(store.Lookup(*key, "Detector").status().code(), StatusCode::kNotFound);
  auto path = store.InstallDirectory(*key, "Detector", src);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, root_ + "/v1/" + *key + "/Detector.mlmodelc");
  EXPECT_EQ(*CompiledModelStore::HashPath(*path), *key);
  EXPECT_EQ(*ReadFileToString(*path + "/weights/weight.bin"), ModelFiles(1)[2].second);

  // A later launch (a new store object) finds the same path; installing again
  // returns it without copying.
  CompiledModelStore again = Open();
  EXPECT_EQ(*again.Lookup(*key, "Detector"), *path);
  EXPECT_EQ(*again.InstallDirectory(*key, "Detector", src), *path);
  EXPECT_EQ(again.Entries()->size(), 1u);
  fs::remove_all(root_ + "-src");
}

// Deferred durability: the entry is usable the moment Install returns (it is
// in place, whole, in the page cache); the queue then fsyncs it and stamps it.
TEST_F(StoreTest, ADeferredInstallIsUsableAtOnceAndStampedDurableByTheQueue) {
  auto sync = std::make_shared<DeferredSync>();
  CompiledModelStoreOptions o;
  o.root = root_;
  o.deferred_sync = sync;
  auto store = CompiledModelStore::Open(o);
  ASSERT_TRUE(store.ok());
  const std::string key = CompiledModelStore::HashFiles(ModelFiles(3));
  auto path = store->InstallFiles(key, "Deferred", ModelFiles(3));
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*CompiledModelStore::HashPath(*path), key);
  sync->Flush();
  EXPECT_EQ(sync->failures(), 0u) << sync->last_error().ToString();
  EXPECT_TRUE(fs::exists(root_ + "/v1/" + key + "/durable"));
  CompiledModelStore again = Open();
  EXPECT_EQ(*again.Lookup(key, "Deferred"), *path);
}

// An entry that never got its "durable" stamp: in this boot its bytes are
// intact (its installer died before the queue ran) and it is kept and
// stamped; from another boot it may be torn by the power cut, so it is
// dropped and the caller compiles again.
TEST_F(StoreTest, AnEntryNeverMadeDurableIsKeptInThisBootAndDroppedAfterAReboot) {
  CompiledModelStore store = Open();
  const std::string key = CompiledModelStore::HashFiles(ModelFiles(4));
  auto path = store.InstallFiles(key, "Unstamped", ModelFiles(4));
  ASSERT_TRUE(path.ok());
  const std::string entry = root_ + "/v1/" + key;
  ASSERT_TRUE(fs::remove(entry + "/durable"));

  EXPECT_EQ(*store.Lookup(key, "Unstamped"), *path);
  EXPECT_TRUE(fs::exists(entry + "/durable"));

  ASSERT_TRUE(fs::remove(entry + "/durable"));
  std::ofstream(entry + "/boot", std::ios::trunc) << "a boot before a power cut";
  auto dropped = store.Lookup(key, "Unstamped");
  EXPECT_EQ(dropped.status().code(), StatusCode::kNotFound);
  EXPECT_NE(dropped.status().message().find("never made durable"), std::string::npos);
  EXPECT_FALSE(fs::exists(entry));
  auto again = store.InstallFiles(key, "Unstamped", ModelFiles(4));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *path);
  EXPECT_EQ(*CompiledModelStore::HashPath(*again), key);
}

// A fresh compile's output is moved in (same file system: the very same
// files, no copy), still through the protection hook.
TEST_F(StoreTest, InstallByMoveTakesTheCompiledDirectoryWithoutCopying) {
  const std::string src = root_ + "-compile/Detector.mlmodelc";
  WriteTree(src, ModelFiles(5));
  const std::string key = *CompiledModelStore::HashPath(src);
  struct stat before;
  ASSERT_EQ(::stat((src + "/weights/weight.bin").c_str(), &before), 0);
  std::vector<std::string> protected_paths;
  CompiledModelStore store = Open(uint64_t{1} << 30, [&](const std::string& p) {
    protected_paths.push_back(p);
    return Status::Ok();
  });
  auto path = store.InstallDirectoryByMove(key, "Detector", src);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_FALSE(fs::exists(src));
  EXPECT_EQ(*CompiledModelStore::HashPath(*path), key);
  struct stat after;
  ASSERT_EQ(::stat((*path + "/weights/weight.bin").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  std::set<std::string> names;
  for (const auto& p : protected_paths) {
    names.insert(fs::path(p).filename().string());
    EXPECT_NE(p.find("/v1/tmp/"), std::string::npos) << p;
  }
  for (const char* n : {"model.mil", "coremldata.bin", "weight.bin"}) EXPECT_TRUE(names.count(n)) << n;
  EXPECT_EQ(*store.Lookup(key, "Detector"), *path);
  fs::remove_all(root_ + "-compile");
}

TEST_F(StoreTest, InstallsDecryptedBytesAndCallsTheProtectionHook) {
  std::vector<std::string> protected_paths;
  CompiledModelStore store = Open(uint64_t{1} << 30, [&](const std::string& p) {
    protected_paths.push_back(p);
    return Status::Ok();
  });
  const Files files = ModelFiles(7);
  const std::string key = CompiledModelStore::HashFiles(files);
  auto path = store.InstallFiles(key, "Secret", files);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*CompiledModelStore::HashPath(*path), key);
  // Every file, plus the entry and model directories, went through the hook
  // (at their staging paths, before the entry became visible).
  std::set<std::string> names;
  for (const auto& p : protected_paths) names.insert(fs::path(p).filename().string());
  for (const char* n : {"model.mil", "coremldata.bin", "weight.bin", "Secret.mlmodelc"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  EXPECT_TRUE(names.count(key));
  for (const auto& p : protected_paths) EXPECT_NE(p.find("/v1/tmp/"), std::string::npos) << p;
}

TEST_F(StoreTest, HookErrorAbortsTheInstallAndLeavesNothing) {
  CompiledModelStore store = Open(uint64_t{1} << 30, [](const std::string& p) {
    return IoError(p + ": cannot set file protection");
  });
  const Files files = ModelFiles(3);
  const std::string key = CompiledModelStore::HashFiles(files);
  auto path = store.InstallFiles(key, "M", files);
  EXPECT_EQ(path.status().code(), StatusCode::kIoError);
  EXPECT_FALSE(fs::exists(root_ + "/v1/" + key));
  EXPECT_TRUE(fs::is_empty(root_ + "/v1/tmp"));
}

TEST_F(StoreTest, RejectsBadKeysNamesAndEscapingPaths) {
  CompiledModelStore store = Open();
  EXPECT_EQ(store.Lookup("abc", "M").status().code(), StatusCode::kInvalidArgument);
  const std::string key(64, 'a');
  EXPECT_EQ(store.Lookup(key, "../M").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.InstallFiles(key, "M", {{"../evil", "x"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.InstallDirectory(key, "M", root_ + "/missing").status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, EvictsLeastRecentlyUsedPastTheBudget) {
  // Each entry is a little over 1000 bytes; the budget holds three.
  CompiledModelStore store = Open(3500);
  std::vector<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    keys.push_back(CompiledModelStore::HashFiles(ModelFiles(i)));
    ASSERT_TRUE(store.InstallFiles(keys[i], "m" + std::to_string(i), ModelFiles(i)).ok());
  }
  // Use entry 0 again: entry 1 becomes the least recently used.
  ASSERT_TRUE(store.Lookup(keys[0], "m0").ok());
  keys.push_back(CompiledModelStore::HashFiles(ModelFiles(3)));
  ASSERT_TRUE(store.InstallFiles(keys[3], "m3", ModelFiles(3)).ok());

  auto entries = store.Entries();
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> left;
  for (const auto& e : *entries) left.push_back(e.name);
  EXPECT_EQ(left, (std::vector<std::string>{"m2", "m0", "m3"}));  // least recent first
  EXPECT_FALSE(fs::exists(root_ + "/v1/" + keys[1]));
  EXPECT_EQ(store.Lookup(keys[1], "m1").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(store.EvictToBudget(1500).ok());
  entries = store.Entries();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->at(0).name, "m3");
}

TEST_F(StoreTest, AnEntryLargerThanTheBudgetIsKeptUntilTheNextInstall) {
  CompiledModelStore store = Open(100);
  const std::string key = CompiledModelStore::HashFiles(ModelFiles(0));
  auto path = store.InstallFiles(key, "big", ModelFiles(0));
  ASSERT_TRUE(path.ok());
  EXPECT_TRUE(fs::exists(*path));  // the caller is about to load it
}

TEST_F(StoreTest, RebuildsADamagedIndexAndAdoptsUnindexedEntries) {
  CompiledModelStore store = Open();
  const std::string key = CompiledModelStore::HashFiles(ModelFiles(5));
  ASSERT_TRUE(store.InstallFiles(key, "M", ModelFiles(5)).ok());
  std::ofstream(root_ + "/v1/index.json") << "{\"version\": 1, \"entr";  // torn write
  CompiledModelStore reopened = Open();
  auto path = reopened.Lookup(key, "M");
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  auto entries = reopened.Entries();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_GT(entries->at(0).bytes, 1000u);  // recomputed from the files
}

TEST_F(StoreTest, RemovesTempDirectoriesOfDeadProcessesOnly) {
  { CompiledModelStore first = Open(); }
  // A child that "crashed" mid-install leaves its temp directory behind.
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  const std::string stale = root_ + "/v1/tmp/" + std::to_string(dead) + "-install-0";
  const std::string live = root_ + "/v1/tmp/" + std::to_string(::getppid()) + "-install-0";
  fs::create_directories(stale + "/x");
  fs::create_directories(live + "/x");
  CompiledModelStore store = Open();
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));  // its process (our parent) is alive: maybe mid-install
}

TEST_F(StoreTest, ThreadsInstallingTheSameEntryGetOnePath) {
  CompiledModelStore store = Open();
  const std::string key = CompiledModelStore::HashFiles(ModelFiles(9));
  std::vector<std::string> paths(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto p = store.InstallFiles(key, "Same", ModelFiles(9));
      paths[t] = p.ok() ? *p : p.status().ToString();
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& p : paths) EXPECT_EQ(p, root_ + "/v1/" + key + "/Same.mlmodelc");
  EXPECT_EQ(*CompiledModelStore::HashPath(paths[0]), key);
  EXPECT_TRUE(fs::is_empty(root_ + "/v1/tmp"));
}

// Several processes install, look up and evict the same and different entries
// at once. Each child checks that every path it is handed is complete (or gone,
// evicted by another process): never half an entry. Afterwards the index and
// the directories agree and every entry's content matches its key.
TEST_F(StoreTest, ConcurrentProcessesKeepTheStoreConsistent) {
  constexpr int kProcesses = 6;
  constexpr int kOpsPerProcess = 60;
  constexpr int kDistinctModels = 8;
  { CompiledModelStore init = Open(); }
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      // The child must never return into gtest (whose TearDown would delete
      // the store under the other processes): any exception is a failure code.
      try {
      auto opened = CompiledModelStore::Open({root_, 5000, {}, nullptr});
      if (!opened.ok()) ::_exit(10);
      CompiledModelStore& store = *opened;
      std::mt19937 rng(1234 + p);
      for (int op = 0; op < kOpsPerProcess; ++op) {
        const int model = static_cast<int>(rng() % kDistinctModels);
        const Files files = ModelFiles(model);
        const std::string key = CompiledModelStore::HashFiles(files);
        const std::string name = "m" + std::to_string(model);
        Result<std::string> path = Status(StatusCode::kNotFound, "");
        switch (rng() % 4) {
          case 0:
          case 1: path = store.InstallFiles(key, name, files); break;
          case 2: path = store.Lookup(key, name); break;
          case 3:
            if (Status s = store.EvictToBudget(rng() % 6000); !s.ok()) {
              std::fprintf(stderr, "child %d: evict failed: %s\n", p, s.ToString().c_str());
              ::_exit(11);
            }
            continue;
        }
        if (!path.ok()) {
          if (path.status().code() != StatusCode::kNotFound) {
            std::fprintf(stderr, "child %d: %s\n", p, path.status().ToString().c_str());
            ::_exit(12);
          }
          continue;
        }
        auto hash = CompiledModelStore::HashPath(*path);
        if (hash.ok() && fs::exists(*path) && *hash != key) ::_exit(13);  // half an entry
      }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: exception: %s\n", p, e.what());
        ::_exit(14);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child exit status " << status;
  }
  CompiledModelStore store = Open(5000);
  auto entries = store.Entries();
  ASSERT_TRUE(entries.ok());
  for (const auto& e : *entries) EXPECT_EQ(*CompiledModelStore::HashPath(e.path), e.key) << e.path;
  std::set<std::string> dirs;
  for (const auto& d : fs::directory_iterator(root_ + "/v1")) {
    if (d.is_directory() && d.path().filename() != "tmp") dirs.insert(d.path().filename().string());
  }
  EXPECT_EQ(dirs.size(), entries->size());
  EXPECT_TRUE(fs::is_empty(root_ + "/v1/tmp"));
}

}  // namespace
}  // namespace anepilot::runtime
