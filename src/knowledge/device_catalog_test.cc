#include "anepilot/device_catalog.h"

#include <cstdlib>
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "anepilot/data_dir.h"
#include "base/test_paths.h"

namespace anepilot::knowledge {
namespace {

using nlohmann::json;

std::string DevicesPath() { return std::string(ANEPILOT_SOURCE_DIR) + "/data/devices.json"; }

const DeviceCatalog& Catalog() {
  static const DeviceCatalog* catalog = [] {
    auto r = DeviceCatalog::Load(DevicesPath());
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      std::abort();
    }
    return new DeviceCatalog(std::move(r).value());
  }();
  return *catalog;
}

json RealCatalogJson() {
  std::ifstream in(DevicesPath());
  return json::parse(in);
}

// Writes `j` to a scratch file and loads it.
Result<DeviceCatalog> LoadJson(const json& j, const std::string& name) {
  std::string path = testing::ScratchDir("devices") + "/" + name + ".json";
  std::ofstream(path) << j.dump(1);
  return DeviceCatalog::Load(path);
}

TEST(DeviceCatalogTest, DefaultCatalogLoadsAndCoversTheLineup) {
  auto r = DeviceCatalog::LoadDefault();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version(), 1);
  // Every iPhone generation from A12 to A19 Pro and every M1..M4 chip family member.
  for (const char* chip : {"A12", "A12X", "A12Z", "A13", "A14", "A15", "A16", "A17 Pro", "A18", "A18 Pro", "A19",
                           "A19 Pro", "M1", "M1 Pro", "M1 Max", "M1 Ultra", "M2", "M2 Pro", "M2 Max", "M2 Ultra",
                           "M3", "M3 Pro", "M3 Max", "M3 Ultra", "M4", "M4 Pro", "M4 Max", "M5", "M5 Pro", "M5 Max"}) {
    EXPECT_NE(r->FindChip(chip), nullptr) << chip;
  }
  std::set<DeviceFamily> families;
  for (const Device& d : r->devices()) families.insert(d.family);
  EXPECT_EQ(families.size(), 3u);
}

TEST(DeviceCatalogTest, EveryEntryHasAChipASourceAndSaneFigures) {
  const DeviceCatalog& c = Catalog();
  for (const Chip& chip : c.chips()) {
    EXPECT_FALSE(chip.sources.empty()) << chip.name;
    EXPECT_GE(chip.ane_generation_number, 11) << chip.name;
    EXPECT_LE(chip.ane_generation_number, 18) << chip.name;
    EXPECT_GT(chip.memory_bandwidth_gbps, 10) << chip.name;
    EXPECT_GT(chip.gpu_fp16_tflops, 0.1) << chip.name;
  }
  for (const Device& d : c.devices()) {
    EXPECT_FALSE(d.sources.empty()) << d.identifier;
    const Chip& chip = c.ChipOf(d);
    EXPECT_EQ(chip.name, d.chip) << d.identifier;
    EXPECT_GT(d.app_memory_limit_mb, 0) << d.identifier;
    EXPECT_LT(d.app_memory_limit_mb, d.ram_gb * 1024) << d.identifier;
    EXPECT_LE(d.gpu_cores, chip.gpu_cores) << d.identifier;
    EXPECT_TRUE(d.IsEstimated("app_memory_limit_mb")) << d.identifier;
  }
}

TEST(DeviceCatalogTest, NewerChipsHaveNewerOrEqualGenerations) {
  // Within the A series and within M base chips, generation follows the year.
  const DeviceCatalog& c = Catalog();
  EXPECT_LT(c.FindChip("A14")->ane_generation_number, c.FindChip("A15")->ane_generation_number);
  EXPECT_EQ(c.FindChip("A15")->ane_generation, "H14");
  EXPECT_EQ(c.FindChip("M2")->ane_generation, "H14");
  EXPECT_EQ(c.FindChip("A18 Pro")->ane_generation, "H17");
  EXPECT_EQ(c.AneGenerations(),
            (std::vector<std::string>{"H11", "H12", "H13", "H14", "H15", "H16", "H17", "H18"}));
}

TEST(DeviceCatalogTest, ResolvesAKnownIdentifierExactly) {
  auto r = Catalog().Resolve("iPhone14,7");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->exact);
  EXPECT_TRUE(r->warning.empty());
  EXPECT_EQ(r->device->name, "iPhone 14");
  EXPECT_EQ(Catalog().ChipOf(*r->device).ane_generation, "H14");
  EXPECT_DOUBLE_EQ(r->device->ram_gb, 6);
  EXPECT_DOUBLE_EQ(r->device->app_memory_limit_mb, 3072);  // 50% rule of data/devices.json

  auto pro_max = Catalog().Resolve("iphone17,2");  // case-insensitive
  ASSERT_TRUE(pro_max.ok());
  EXPECT_EQ(pro_max->device->chip, "A18 Pro");
}

TEST(DeviceCatalogTest, BinnedGpusScaleTheChipsThroughput) {
  const Device* mini = Catalog().FindDevice("iPhone14,4");  // iPhone 13 mini: A15 with 4 of 5 GPU cores
  ASSERT_NE(mini, nullptr);
  const Chip& a15 = Catalog().ChipOf(*mini);
  EXPECT_EQ(mini->gpu_cores, 4);
  EXPECT_EQ(a15.gpu_cores, 5);
  EXPECT_DOUBLE_EQ(mini->gpu_fp16_tflops, a15.gpu_fp16_tflops * 4 / 5);
  EXPECT_TRUE(mini->IsEstimated("gpu_fp16_tflops"));  // inherited from the chip's estimate
  const Device* pro = Catalog().FindDevice("iPhone14,2");
  EXPECT_DOUBLE_EQ(pro->gpu_fp16_tflops, a15.gpu_fp16_tflops);
}

TEST(DeviceCatalogTest, ResolvesOtherIdentifiersOfAModel) {
  auto r = Catalog().Resolve("iPad13,5");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->exact);
  EXPECT_EQ(r->device->identifier, "iPad13,4");
  EXPECT_EQ(r->device->chip, "M1");
}

TEST(DeviceCatalogTest, UnknownMinorResolvesToTheHighestOfTheSameMajorWithAWarning) {
  auto r = Catalog().Resolve("iPhone17,9");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->exact);
  EXPECT_EQ(r->device->identifier, "iPhone17,5");
  EXPECT_NE(r->warning.find("iPhone17,9"), std::string::npos) << r->warning;
}

TEST(DeviceCatalogTest, UnknownMajorResolvesToTheNewestOfTheFamily) {
  auto r = Catalog().Resolve("iPhone99,1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->device->family, DeviceFamily::kIPhone);
  EXPECT_EQ(Catalog().ChipOf(*r->device).ane_generation, "H18");
  EXPECT_FALSE(r->warning.empty());

  auto ipad = Catalog().Resolve("iPad99,3");
  ASSERT_TRUE(ipad.ok());
  EXPECT_EQ(ipad->device->family, DeviceFamily::kIPad);
  EXPECT_EQ(ipad->device->chip, "M5");

  auto old = Catalog().Resolve("iPhone9,1");  // iPhone 7: older than the catalog
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->device->chip, "A12");
  EXPECT_NE(old->warning.find("older"), std::string::npos);
}

TEST(DeviceCatalogTest, ResolvesChipNamesToARepresentative) {
  auto a15 = Catalog().Resolve("A15");
  ASSERT_TRUE(a15.ok()) << a15.status().ToString();
  EXPECT_EQ(a15->device->chip, "A15");
  EXPECT_EQ(a15->device->family, DeviceFamily::kIPhone);
  EXPECT_FALSE(a15->warning.empty());

  auto m2max = Catalog().Resolve("m2 max");
  ASSERT_TRUE(m2max.ok());
  EXPECT_EQ(m2max->device->identifier, "Mac-M2-Max");
}

TEST(DeviceCatalogTest, ResolvesMarketingNamesAndCalibrationDescriptions) {
  auto name = Catalog().Resolve("iPhone 14 Pro");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_TRUE(name->exact);
  EXPECT_EQ(name->device->identifier, "iPhone15,2");
  // Device strings as shared/calibration/latency.csv writes them.
  for (auto [text, chip] : {std::pair{"MacBook Pro (M1 Pro 32GB)", "M1 Pro"}, std::pair{"MacBook Air (M2, 8GB)", "M2"},
                            std::pair{"Mac (M5 Pro)", "M5 Pro"}, std::pair{"iPad Pro (A12X)", "A12X"}}) {
    auto r = Catalog().Resolve(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(r->device->chip, chip) << text;
    EXPECT_FALSE(r->exact);
    EXPECT_FALSE(r->warning.empty());
  }
  EXPECT_FALSE(Catalog().Resolve("Mac (unspecified Apple Silicon)").ok());
}

TEST(DeviceCatalogTest, RejectsStringsOfNoKnownFamilyNamingTheValidForms) {
  for (const char* bad : {"Pixel8", "", "iPhone", "Galaxy1,1", "iPhone14,", "A99"}) {
    auto r = Catalog().Resolve(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("iPhone14,7"), std::string::npos) << r.status().message();
  }
}

TEST(DeviceCatalogTest, ResolvesListsWithIdentifierCommas) {
  auto r = Catalog().ResolveList("iPhone14,7,iPhone17,2; M2 Max,iPhone14,7");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);  // the duplicate is dropped
  EXPECT_EQ((*r)[0].device->identifier, "iPhone14,7");
  EXPECT_EQ((*r)[1].device->identifier, "iPhone17,2");
  EXPECT_EQ((*r)[2].device->identifier, "Mac-M2-Max");

  auto all = Catalog().ResolveList("all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), Catalog().devices().size());

  auto iphones = Catalog().ResolveList("iPhone");
  ASSERT_TRUE(iphones.ok());
  for (const DeviceResolution& d : *iphones) EXPECT_EQ(d.device->family, DeviceFamily::kIPhone);
  EXPECT_GT(iphones->size(), 30u);

  auto bad = Catalog().ResolveList("iPhone14,7,,Pixel8");
  EXPECT_FALSE(bad.ok());
  auto bad2 = Catalog().ResolveList("iPhone14,7,Pixel8");
  ASSERT_FALSE(bad2.ok());
  EXPECT_NE(bad2.status().message().find("Pixel8"), std::string::npos);
}

// ---------------------------------------------------------------- broken files

void ExpectInvalid(const json& j, const std::string& name, const std::string& expected_fragment) {
  auto r = LoadJson(j, name);
  ASSERT_FALSE(r.ok()) << name;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidData) << r.status().ToString();
  EXPECT_NE(r.status().message().find(expected_fragment), std::string::npos)
      << "message: " << r.status().message() << "\nexpected to contain: " << expected_fragment;
  EXPECT_NE(r.status().message().find(name + ".json"), std::string::npos) << r.status().message();
}

TEST(DeviceCatalogBrokenFileTest, UnknownChipNamesTheDeviceAndTheChip) {
  json j = RealCatalogJson();
  j["devices"][12]["chip"] = "A19X";
  ExpectInvalid(j, "unknown-chip", "devices[12].chip: unknown chip \"A19X\"");
}

TEST(DeviceCatalogBrokenFileTest, EachBrokenFieldIsNamed) {
  {
    json j = RealCatalogJson();
    j["chips"][0]["sources"] = json::array();
    ExpectInvalid(j, "no-sources", "chips[0].sources: needs at least 1 entry");
  }
  {
    json j = RealCatalogJson();
    j["devices"][3].erase("sources");
    ExpectInvalid(j, "device-no-sources", "devices[3].sources: required field is missing");
  }
  {
    json j = RealCatalogJson();
    j["devices"][5]["ram_gb"] = -4;
    ExpectInvalid(j, "negative-ram", "devices[5].ram_gb");
  }
  {
    json j = RealCatalogJson();
    j["devices"][5]["ram_gb"] = "8";
    ExpectInvalid(j, "string-ram", "devices[5].ram_gb: expected a number");
  }
  {
    json j = RealCatalogJson();
    j["devices"][2]["ram"] = 4;
    ExpectInvalid(j, "typo-field", "devices[2].ram: unknown field");
  }
  {
    json j = RealCatalogJson();
    j["chips"][4]["ane_generation"] = "A11";
    ExpectInvalid(j, "bad-generation", "chips[4].ane_generation");
  }
  {
    json j = RealCatalogJson();
    j["devices"][7]["identifier"] = j["devices"][1]["identifier"];
    ExpectInvalid(j, "duplicate-id", "devices[7].identifier: duplicate identifier");
  }
  {
    json j = RealCatalogJson();
    j["devices"][0]["family"] = "Watch";
    ExpectInvalid(j, "bad-family", "devices[0].family: unknown family \"Watch\"");
  }
  {
    json j = RealCatalogJson();
    j["devices"][0]["estimated"] = json::array({"colour"});
    ExpectInvalid(j, "bad-estimated", "devices[0].estimated[0]");
  }
  {
    json j = RealCatalogJson();
    j["version"] = 2;
    ExpectInvalid(j, "future-version", "version: version 2 is not supported");
  }
  {
    json j = RealCatalogJson();
    j["schema"] = "anepilot.policy";
    ExpectInvalid(j, "wrong-schema", "schema:");
  }
  {
    json j = RealCatalogJson();
    j["devices"] = json::object();
    ExpectInvalid(j, "devices-object", "devices: expected a non-empty array");
  }
}

TEST(DeviceCatalogBrokenFileTest, SyntaxErrorsAndMissingFilesHaveTheirOwnCodes) {
  std::string path = testing::ScratchDir("devices") + "/truncated.json";
  std::ofstream(path) << "{\"schema\": \"anepilot.devices\", \"version\": 1, \"chips\": [";
  auto r = DeviceCatalog::Load(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kParseError);
  EXPECT_NE(r.status().message().find("truncated.json"), std::string::npos);

  auto missing = DeviceCatalog::Load("/nonexistent/devices.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(DataDirTest, AWrongEnvironmentSettingIsAnErrorNotIgnored) {
  ::setenv("ANEPILOT_DATA_DIR", "/nonexistent-anepilot-data", 1);
  auto r = FindDataDir();
  ::unsetenv("ANEPILOT_DATA_DIR");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("ANEPILOT_DATA_DIR"), std::string::npos);

  ::setenv("ANEPILOT_DATA_DIR", (std::string(ANEPILOT_SOURCE_DIR) + "/data").c_str(), 1);
  auto ok = FindDataDir();
  ::unsetenv("ANEPILOT_DATA_DIR");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
}

}  // namespace
}  // namespace anepilot::knowledge
