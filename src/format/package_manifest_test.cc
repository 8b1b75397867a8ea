#include "format/package_manifest.h"

#include <gtest/gtest.h>

#include <set>

#include "base/test_paths.h"

namespace anepilot::format {
namespace {

std::string Corpus(const std::string& rel) { return anepilot::testing::CorpusDir() + "/" + rel; }

TEST(PackageManifest, CorpusPackageWithOverlaysAndWeights) {
  ANEPILOT_REQUIRE_SHARED();
  auto layout = ResolvePackage(Corpus("coremltesting-rtmpose/rtmpose-m.mlpackage"));
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(layout->manifest.file_format_version, "1.0.0");
  EXPECT_EQ(layout->manifest.root_model_id, "cf0727a6-ee18-45fa-a450-a157157ead35");
  EXPECT_EQ(layout->manifest.items.size(), 4u);
  EXPECT_TRUE(layout->model_file.ends_with("/Data/com.apple.CoreML/model.mlmodel")) << layout->model_file;
  EXPECT_TRUE(layout->weights_dir.ends_with("/Data/com.apple.CoreML/weights"));
  ASSERT_EQ(layout->extras.size(), 2u);  // Metadata.json and FeatureDescriptions.json
  std::set<std::string> names{layout->extras[0].name, layout->extras[1].name};
  EXPECT_EQ(names, (std::set<std::string>{"Metadata.json", "FeatureDescriptions.json"}));
}

TEST(PackageManifest, RootModelNotNamedModelMlmodel) {
  ANEPILOT_REQUIRE_SHARED();
  auto layout = ResolvePackage(Corpus("shenfu-3m-mlpackage-wrapped/3m.mlpackage"));
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_TRUE(layout->model_file.ends_with("com.apple.CoreML/3m.mlmodel"));
  // No weights item: the conventional folder beside the model.
  EXPECT_TRUE(layout->weights_dir.ends_with("com.apple.CoreML/weights"));
}

TEST(PackageManifest, FieldTypesAreChecked) {
  auto bad_entries = ParseManifest(R"({"itemInfoEntries": [], "rootModelIdentifier": "A"})", "M.json");
  ASSERT_FALSE(bad_entries.ok());
  EXPECT_EQ(bad_entries.status().code(), StatusCode::kCorruptModel);
  EXPECT_EQ(bad_entries.status().message(), "M.json: field itemInfoEntries is missing or not an object");

  auto bad_path = ParseManifest(R"({"itemInfoEntries": {"A": {"path": 3}}, "rootModelIdentifier": "A"})",
                                "M.json");
  ASSERT_FALSE(bad_path.ok());
  EXPECT_EQ(bad_path.status().message(), "M.json: itemInfoEntries.A: field path is a number, expected a string");

  auto top = ParseManifest("[1, 2]", "M.json");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().message(), "M.json: top level is a array, expected an object");

  auto absolute = ParseManifest(R"({"itemInfoEntries": {"A": {"path": "/etc/passwd"}}, "rootModelIdentifier": "A"})",
                                "M.json");
  ASSERT_FALSE(absolute.ok());
  EXPECT_EQ(absolute.status().code(), StatusCode::kCorruptModel);
}

TEST(PackageManifest, MalformedJsonHasLineAndColumn) {
  auto m = ParseManifest("{\n  \"rootModelIdentifier\": \"A\"\n  \"itemInfoEntries\": {}\n}", "M.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kParseError);
  // The position is the last byte read: the end of the unexpected string.
  EXPECT_EQ(m.status().message().rfind("M.json:3:19: malformed JSON", 0), 0u) << m.status().message();
}

TEST(PackageManifest, MinimalValidManifest) {
  auto m = ParseManifest(R"({"itemInfoEntries": {"A": {"path": "com.apple.CoreML/model.mlmodel"}},
                             "rootModelIdentifier": "A"})", "M.json");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_NE(m->Find("A"), nullptr);
  EXPECT_EQ(m->Find("A")->path, "com.apple.CoreML/model.mlmodel");
  EXPECT_EQ(m->Find("B"), nullptr);
}

}  // namespace
}  // namespace anepilot::format
