#include "runtime/content_hash_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/mapped_file.h"
#include "base/test_paths.h"
#include "runtime/compiled_model_store.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;

TEST(ContentHashCacheTest, ServesTheHashUntilTheFileChanges) {
  const std::string dir = anepilot::testing::ScratchDir("hash-cache");
  const std::string model = dir + "/m.mlmodel";
  const std::string cache = dir + "/hashes.json";
  std::ofstream(model) << "version one";
  auto first = CachedContentHash(model, cache);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, *CompiledModelStore::HashPath(model));
  ASSERT_TRUE(fs::exists(cache));

  // Proof that the second answer comes from the cache: plant a different hash
  // for the same fingerprint and see it returned.
  std::string text = *ReadFileToString(cache);
  const std::string planted(64, 'c');
  text.replace(text.find(*first), 64, planted);
  std::ofstream(cache) << text;
  EXPECT_EQ(*CachedContentHash(model, cache), planted);

  // A new version of the file (new size, new mtime) is hashed again.
  std::ofstream(model) << "version two, longer";
  auto third = CachedContentHash(model, cache);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, *CompiledModelStore::HashPath(model));
  EXPECT_NE(*third, *first);
  fs::remove_all(dir);
}

TEST(ContentHashCacheTest, DirectoriesAndDamagedCaches) {
  const std::string dir = anepilot::testing::ScratchDir("hash-cache-dir");
  const std::string pkg = dir + "/M.mlpackage";
  fs::create_directories(pkg + "/Data");
  std::ofstream(pkg + "/Manifest.json") << "{}";
  std::ofstream(pkg + "/Data/weight.bin") << "weights";
  const std::string cache = dir + "/hashes.json";
  std::ofstream(cache) << "not json";
  auto h = CachedContentHash(pkg, cache);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(*h, *CompiledModelStore::HashPath(pkg));
  std::ofstream(pkg + "/Data/extra.bin") << "more";
  EXPECT_EQ(*CachedContentHash(pkg, cache), *CompiledModelStore::HashPath(pkg));
  EXPECT_EQ(CachedContentHash(dir + "/absent", cache).status().code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace anepilot::runtime
