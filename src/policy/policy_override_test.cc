#include <cstdlib>

#include <gtest/gtest.h>

#include "anepilot/policy.h"
#include "policy/policy_test_util.h"

namespace anepilot {
namespace {

constexpr auto kCpu = ComputeUnits::kCpuOnly;
constexpr auto kGpu = ComputeUnits::kCpuAndGpu;
constexpr auto kAne = ComputeUnits::kCpuAndNeuralEngine;
constexpr auto kAll = ComputeUnits::kAll;

TEST(PolicyOverride, KeyValueForm) {
  auto o = ParsePolicyOverride("units=cpuOnly");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->units, (std::vector{kCpu}));
  EXPECT_FALSE(o->loading.has_value());

  o = ParsePolicyOverride(" units = cpuAndNeuralEngine, cpuAndGPU ; strategy=fast_first_then_swap;"
                          "serve_first=cpuAndGPU;swap_to=cpuAndNeuralEngine;swap_min_gain=0.25");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->units, (std::vector{kAne, kGpu}));
  ASSERT_TRUE(o->loading.has_value());
  EXPECT_EQ(o->loading->strategy, LoadingStrategy::kFastFirstThenSwap);
  EXPECT_EQ(o->loading->serve_first, std::optional(kGpu));
  EXPECT_EQ(o->loading->swap_to, std::optional(kAne));
  EXPECT_DOUBLE_EQ(o->loading->swap_min_gain, 0.25);
}

TEST(PolicyOverride, JsonForm) {
  auto o = ParsePolicyOverride(R"({"units": ["all", "cpuOnly"], "strategy": "prewarm"})");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->units, (std::vector{kAll, kCpu}));
  EXPECT_EQ(o->loading->strategy, LoadingStrategy::kPrewarm);
  o = ParsePolicyOverride(R"({"units": "cpuAndGPU"})");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->units, (std::vector{kGpu}));
}

TEST(PolicyOverride, MalformedTextNamesThePart) {
  struct Bad {
    const char* text;
    const char* expected;
  } cases[] = {
      {"units=npu", "units: \"npu\" is not a compute-unit option"},
      {"units", "\"units\" is not key=value"},
      {"color=red", "unknown key \"color\""},
      {"strategy=single", "units: at least one compute-unit option is required"},
      {"units=all;strategy=lazy", "strategy: \"lazy\" is not"},
      {"units=all;strategy=fast_first_then_swap", "needs serve_first=<units> and swap_to=<units>"},
      {"units=all;swap_min_gain=abc", "swap_min_gain: \"abc\" is not a number"},
      {"{\"units\": 3}", "units: expected a string"},
      {"{\"units\": [\"all\", \"ane\"]}", "units[1]: \"ane\" is not"},
      {"{\"strategy\": \"single\"}", "units: required field is missing"},
      {"{not json", "not a JSON object"},
  };
  for (const Bad& b : cases) {
    auto o = ParsePolicyOverride(b.text);
    ASSERT_FALSE(o.ok()) << b.text;
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(o.status().message().find(b.expected), std::string::npos)
        << b.text << " -> " << o.status().message();
    EXPECT_NE(o.status().message().find("ANEPILOT_POLICY_OVERRIDE"), std::string::npos);
  }
}

TEST(PolicyOverride, ApplyForcesTheChoicesAndKeepsKnownExpectations) {
  PolicyRule r = testing::RuleFor("*", {kAll, kGpu});
  r.choices[0].expected_latency_ms = 2.5;
  r.blocked.push_back({kAne, "crash", ""});
  PolicyIndex index(testing::PolicyWithRules({r}));
  Decision base = index.Decide(DeviceContext{"iPhone17,2", "", "18.2", "22C152"}, testing::HashOf('a'));
  auto o = ParsePolicyOverride("units=cpuAndNeuralEngine,all,all");
  ASSERT_TRUE(o.ok());
  Decision d = ApplyOverride(base, *o);
  ASSERT_EQ(d.choices.size(), 2u);
  EXPECT_EQ(d.choices[0].units, kAne);  // the override may force a policy-blocked unit
  EXPECT_EQ(d.choices[1].units, kAll);
  EXPECT_EQ(d.choices[1].expected_latency_ms, std::optional(2.5));
  EXPECT_EQ(d.matched_rule, "override");
  EXPECT_TRUE(d.overridden);
  EXPECT_EQ(d.loading.strategy, LoadingStrategy::kSingle);
}

TEST(PolicyOverride, FromEnvironment) {
  ::unsetenv(kPolicyOverrideEnv);
  auto none = PolicyOverrideFromEnvironment();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ::setenv(kPolicyOverrideEnv, "units=cpuOnly", 1);
  auto set = PolicyOverrideFromEnvironment();
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(set->has_value());
  EXPECT_EQ((*set)->units, (std::vector{kCpu}));
  ::setenv(kPolicyOverrideEnv, "units=tpu", 1);
  EXPECT_FALSE(PolicyOverrideFromEnvironment().ok());
  ::unsetenv(kPolicyOverrideEnv);
}

TEST(PolicyOsVersion, Parse) {
  EXPECT_EQ(ParseOsVersion("18"), (OsVersion{18, 0, 0}));
  EXPECT_EQ(ParseOsVersion("18.2"), (OsVersion{18, 2, 0}));
  EXPECT_EQ(ParseOsVersion("18.2.1"), (OsVersion{18, 2, 1}));
  for (const char* bad : {"", "18.", ".2", "18.2.1.4", "18a", "-1", "18..2", "x"}) {
    EXPECT_FALSE(ParseOsVersion(bad).has_value()) << bad;
  }
  EXPECT_LT(*ParseOsVersion("17.6.1"), *ParseOsVersion("18"));
  EXPECT_EQ(ParseOsVersion("18.2")->ToString(), "18.2");
  EXPECT_EQ(ParseOsVersion("18.2.1")->ToString(), "18.2.1");
}

}  // namespace
}  // namespace anepilot
