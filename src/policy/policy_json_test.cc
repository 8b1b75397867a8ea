#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "anepilot/policy.h"
#include "base/test_paths.h"
#include "policy/policy_test_util.h"

namespace anepilot {
namespace {

using testing::HashOf;
using testing::PolicyWithRules;
using testing::RuleFor;

Policy RichPolicy() {
  PolicyRule fast = RuleFor("iPhone17,2", {ComputeUnits::kAll, ComputeUnits::kCpuAndGpu});
  fast.id = "a18pro-ane";
  fast.choices[0].expected_latency_ms = 3.25;
  fast.choices[0].expected_cold_load_ms = 4100;
  fast.choices[0].expected_warm_load_ms = 180.5;
  fast.choices[0].expected_peak_memory_mb = 612;
  fast.choices[1].expected_latency_ms = 7.75;
  fast.loading.strategy = LoadingStrategy::kFastFirstThenSwap;
  fast.loading.serve_first = ComputeUnits::kCpuAndGpu;
  fast.loading.swap_to = ComputeUnits::kAll;
  fast.loading.swap_min_gain = 0.15;
  PolicyRule a15 = RuleFor("iPhone14,*", {ComputeUnits::kCpuAndGpu, ComputeUnits::kCpuOnly});
  a15.match.chip = "A15";
  a15.match.os_min = OsVersion{17, 0, 0};
  a15.match.os_max = OsVersion{18, 2, 1};
  a15.blocked.push_back({ComputeUnits::kCpuAndNeuralEngine, "ANE compiler crash", "ane.h14.crash"});
  a15.blocked.push_back({ComputeUnits::kAll, "ANE compiler crash", ""});
  PolicyRule build = RuleFor("*", {ComputeUnits::kCpuOnly});
  build.match.os_build = "22C152";
  build.loading.strategy = LoadingStrategy::kPrewarm;
  Policy p = PolicyWithRules({fast, a15, build});
  p.generated_at = "2026-11-25T12:00:00Z";
  ModelPolicy second;
  second.model_hash = HashOf('b');
  p.models.push_back(second);
  return p;
}

TEST(PolicyJson, RoundTripKeepsEveryField) {
  Policy p = RichPolicy();
  ASSERT_TRUE(ValidatePolicy(p).ok()) << ValidatePolicy(p).ToString();
  std::string text = SerializePolicy(p);
  auto back = ParsePolicy(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(SerializePolicy(*back), text);
  EXPECT_EQ(back->generated_by, "test");
  EXPECT_EQ(back->generated_at, "2026-11-25T12:00:00Z");
  ASSERT_EQ(back->models.size(), 2u);
  const ModelPolicy& m = back->models[0];
  EXPECT_EQ(m.model_name, "TestModel");
  ASSERT_EQ(m.rules.size(), 3u);
  EXPECT_EQ(m.rules[0].id, "a18pro-ane");
  EXPECT_EQ(m.rules[0].choices, p.models[0].rules[0].choices);
  EXPECT_EQ(m.rules[0].loading, p.models[0].rules[0].loading);
  EXPECT_EQ(m.rules[1].match.chip, std::optional<std::string>("A15"));
  EXPECT_EQ(m.rules[1].match.os_min, (OsVersion{17, 0, 0}));
  EXPECT_EQ(m.rules[1].match.os_max, (OsVersion{18, 2, 1}));
  EXPECT_EQ(m.rules[1].blocked, p.models[0].rules[1].blocked);
  EXPECT_EQ(m.rules[2].match.os_build, std::optional<std::string>("22C152"));
  EXPECT_EQ(m.rules[2].loading.strategy, LoadingStrategy::kPrewarm);
  EXPECT_TRUE(back->models[1].rules.empty());
}

TEST(PolicyJson, MissingDefaultIsTheSafeDefault) {
  auto p = ParsePolicy(R"({"schema": "anepilot.policy", "version": 1, "models": []})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->default_policy.choices.size(), 2u);
  EXPECT_EQ(p->default_policy.choices[0].units, ComputeUnits::kCpuAndGpu);
  EXPECT_EQ(p->default_policy.choices[1].units, ComputeUnits::kCpuOnly);
}

TEST(PolicyJson, ChoiceShorthandIsAUnitsName) {
  std::string text = R"({"schema": "anepilot.policy", "version": 1, "models": [
    {"model_hash": ")" + HashOf('c') + R"(", "rules": [
      {"match": {"device": "*"}, "choices": ["cpuAndNeuralEngine", {"units": "cpuOnly"}]}]}]})";
  auto p = ParsePolicy(text);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->models[0].rules[0].choices[0].units, ComputeUnits::kCpuAndNeuralEngine);
  EXPECT_EQ(p->models[0].rules[0].choices[1].units, ComputeUnits::kCpuOnly);
}

TEST(PolicyJson, UnknownFieldsAreIgnored) {
  auto p = ParsePolicy(R"({"schema": "anepilot.policy", "version": 1, "models": [],
                           "comment": "from a newer planner", "default": {"choices": ["cpuOnly"],
                           "x_extra": 3}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->default_policy.choices.size(), 1u);
}

TEST(PolicyJson, WriteAndLoadFile) {
  std::string dir = anepilot::testing::ScratchDir("policy-file");
  std::string path = dir + "/policy.json";
  ASSERT_TRUE(WritePolicyFile(RichPolicy(), path).ok());
  auto back = LoadPolicyFile(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(SerializePolicy(*back), SerializePolicy(RichPolicy()));
}

TEST(PolicyJson, WriteRefusesAnInvalidPolicy) {
  Policy p = RichPolicy();
  p.models[0].rules[0].choices.clear();
  std::string path = anepilot::testing::ScratchDir("policy-bad") + "/policy.json";
  Status s = WritePolicyFile(p, path);
  EXPECT_EQ(s.code(), StatusCode::kInvalidData);
  EXPECT_NE(s.message().find("models[0].rules[0].choices"), std::string::npos) << s.message();
  EXPECT_FALSE(std::ifstream(path).good());
}

TEST(PolicyJson, LoadMissingFileNamesIt) {
  auto p = LoadPolicyFile("/nonexistent/dir/policy.json");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("/nonexistent/dir/policy.json"), std::string::npos);
}

// Every ```json block of docs/policy.md is a valid policy: the documentation
// cannot drift from the parser.
TEST(PolicyJson, DocumentationExamplesParse) {
  std::ifstream in(std::string(ANEPILOT_SOURCE_DIR) + "/docs/policy.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  std::regex block("```json\\n([\\s\\S]*?)```");
  int n = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), block); it != std::sregex_iterator(); ++it) {
    auto p = ParsePolicy((*it)[1].str(), "docs/policy.md");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    ++n;
  }
  EXPECT_GE(n, 1);
}

}  // namespace
}  // namespace anepilot
