#include <gtest/gtest.h>

#include "anepilot/policy.h"
#include "base/test_paths.h"
#include "policy/policy_test_util.h"

namespace anepilot {
namespace {

using testing::HashOf;
using testing::PolicyWithRules;
using testing::RuleFor;

DeviceContext Ctx(std::string device, std::string chip = "", std::string os = "18.2",
                  std::string build = "22C152") {
  return DeviceContext{std::move(device), std::move(chip), std::move(os), std::move(build)};
}

std::vector<ComputeUnits> Units(const Decision& d) {
  std::vector<ComputeUnits> out;
  for (const auto& c : d.choices) out.push_back(c.units);
  return out;
}

PolicyRule Named(PolicyRule r, std::string id) {
  r.id = std::move(id);
  return r;
}

constexpr auto kCpu = ComputeUnits::kCpuOnly;
constexpr auto kGpu = ComputeUnits::kCpuAndGpu;
constexpr auto kAne = ComputeUnits::kCpuAndNeuralEngine;
constexpr auto kAll = ComputeUnits::kAll;

TEST(PolicyMatch, MostSpecificDeviceWinsWhateverTheFileOrder) {
  PolicyRule any = Named(RuleFor("*", {kGpu}), "any");
  PolicyRule chip = Named(RuleFor("*", {kAne, kGpu}), "chip");
  chip.match.chip = "A15";
  PolicyRule family = Named(RuleFor("iPhone14,*", {kAll, kGpu}), "family");
  PolicyRule exact = Named(RuleFor("iPhone14,7", {kCpu}), "exact");
  PolicyIndex index(PolicyWithRules({any, chip, family, exact}));
  std::string h = HashOf('a');
  EXPECT_EQ(index.Decide(Ctx("iPhone14,7", "A15"), h).matched_rule, "exact");
  EXPECT_EQ(index.Decide(Ctx("iPhone14,2", "A15"), h).matched_rule, "family");
  EXPECT_EQ(index.Decide(Ctx("iPad14,1", "A15"), h).matched_rule, "chip");
  EXPECT_EQ(index.Decide(Ctx("iPad14,1", "a15"), h).matched_rule, "chip");  // case-insensitive
  EXPECT_EQ(index.Decide(Ctx("iPad14,1", ""), h).matched_rule, "any");      // chip unknown
  EXPECT_EQ(index.Decide(Ctx("iPhone17,1", "A18 Pro"), h).matched_rule, "any");
  EXPECT_EQ(Units(index.Decide(Ctx("iPhone14,7"), h)), (std::vector{kCpu}));
}

TEST(PolicyMatch, LongerPrefixBeatsShorterPrefix) {
  PolicyIndex index(PolicyWithRules({Named(RuleFor("iPhone*", {kGpu}), "iphone"),
                                     Named(RuleFor("iPhone17,*", {kAll, kGpu}), "iphone17")}));
  EXPECT_EQ(index.Decide(Ctx("iPhone17,2"), HashOf('a')).matched_rule, "iphone17");
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2"), HashOf('a')).matched_rule, "iphone");
}

TEST(PolicyMatch, OsBuildBeatsRangeBeatsNoOsAtTheSameDeviceLevel) {
  PolicyRule plain = Named(RuleFor("iPhone15,2", {kAll, kGpu}), "plain");
  PolicyRule range = Named(RuleFor("iPhone15,2", {kAne, kGpu}), "range");
  range.match.os_min = OsVersion{18, 0, 0};
  range.match.os_max = OsVersion{18, 1, 0};
  PolicyRule build = Named(RuleFor("iPhone15,2", {kGpu}), "build");
  build.match.os_build = "22B83";
  PolicyIndex index(PolicyWithRules({plain, range, build}));
  std::string h = HashOf('a');
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "18.1", "22B83"), h).matched_rule, "build");
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "18.1", "22B91"), h).matched_rule, "range");
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "18.0", "22A3354"), h).matched_rule, "range");
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "18.1.1", "22B91"), h).matched_rule, "plain");
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "17.6", "21G80"), h).matched_rule, "plain");
  // An unparsable OS version never satisfies a range.
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "beta", "x"), h).matched_rule, "plain");
}

TEST(PolicyMatch, OsRangeBoundsAreInclusiveAndOpenEnded) {
  PolicyRule from17 = Named(RuleFor("*", {kAll, kGpu}), "from17");
  from17.match.os_min = OsVersion{17, 4, 0};
  PolicyRule upto16 = Named(RuleFor("*", {kGpu}), "upto16");
  upto16.match.os_max = OsVersion{16, 99, 0};
  PolicyIndex index(PolicyWithRules({from17, upto16}));
  std::string h = HashOf('a');
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "17.4"), h).matched_rule, "from17");
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "26.0"), h).matched_rule, "from17");
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "17.3.1"), h).matched_rule, "default");
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2", "", "16.7.10"), h).matched_rule, "upto16");
}

TEST(PolicyMatch, EqualPrecedenceKeepsFileOrder) {
  PolicyIndex index(PolicyWithRules({Named(RuleFor("*", {kAne, kGpu}), "first"),
                                     Named(RuleFor("*", {kAll, kGpu}), "second")}));
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2"), HashOf('a')).matched_rule, "first");
}

TEST(PolicyMatch, UnnamedRuleIsReportedByItsPath) {
  PolicyIndex index(PolicyWithRules({RuleFor("iPad*", {kGpu}), RuleFor("iPhone*", {kGpu})}));
  EXPECT_EQ(index.Decide(Ctx("iPhone15,2"), HashOf('a')).matched_rule, "models[0].rules[1]");
}

TEST(PolicyMatch, UnknownModelOrDeviceGetsTheDefault) {
  PolicyIndex index(PolicyWithRules({RuleFor("iPhone17,2", {kAll, kGpu})}));
  Decision d = index.Decide(Ctx("iPhone17,2"), HashOf('f'));
  EXPECT_TRUE(d.from_default);
  EXPECT_EQ(d.matched_rule, "default");
  EXPECT_EQ(Units(d), (std::vector{kGpu, kCpu}));
  EXPECT_TRUE(index.Decide(Ctx("iPhone16,1"), HashOf('a')).from_default);
}

TEST(PolicyMatch, BlockedUnitsAreRemovedAndASafeTailIsKept) {
  PolicyRule r = RuleFor("*", {kAll, kAne});
  r.blocked.push_back({kAll, "crash", "r1"});
  r.blocked.push_back({kGpu, "GPU driver bug", "r2"});
  PolicyIndex index(PolicyWithRules({r}));
  Decision d = index.Decide(Ctx("iPhone14,7"), HashOf('a'));
  // kAll blocked; no safe option listed, cpuAndGPU blocked too: cpuOnly appended.
  EXPECT_EQ(Units(d), (std::vector{kAne, kCpu}));
  EXPECT_EQ(d.blocked.size(), 2u);
}

TEST(PolicyMatch, RuleWithoutSafeOptionGetsGpuThenCpuAppended) {
  PolicyIndex index(PolicyWithRules({RuleFor("*", {kAll})}));
  EXPECT_EQ(Units(index.Decide(Ctx("iPhone17,2"), HashOf('a'))), (std::vector{kAll, kGpu, kCpu}));
}

TEST(PolicyMatch, SwapPlanIsDroppedWhenItsTargetIsBlocked) {
  PolicyRule r = RuleFor("*", {kGpu, kAll});
  r.loading.strategy = LoadingStrategy::kFastFirstThenSwap;
  r.loading.serve_first = kGpu;
  r.loading.swap_to = kAll;
  r.blocked.push_back({kAll, "crash", ""});
  PolicyIndex index(PolicyWithRules({r}));
  Decision d = index.Decide(Ctx("iPhone14,7"), HashOf('a'));
  EXPECT_EQ(d.loading.strategy, LoadingStrategy::kSingle);
  EXPECT_FALSE(d.loading.swap_to.has_value());
  EXPECT_EQ(Units(d), (std::vector{kGpu}));
}

TEST(PolicyMatch, SwapPlanIsKeptWhenBothEndsRemain) {
  PolicyRule r = RuleFor("*", {kGpu, kAll});
  r.loading.strategy = LoadingStrategy::kFastFirstThenSwap;
  r.loading.serve_first = kGpu;
  r.loading.swap_to = kAll;
  PolicyIndex index(PolicyWithRules({r}));
  Decision d = index.Decide(Ctx("iPhone17,2"), HashOf('a'));
  EXPECT_EQ(d.loading.strategy, LoadingStrategy::kFastFirstThenSwap);
  EXPECT_EQ(d.loading.swap_to, std::optional(kAll));
}

TEST(PolicyMatch, ThousandsOfRulesStillFindTheRightOne) {
  Policy p;
  for (int m = 0; m < 50; ++m) {
    ModelPolicy mp;
    char buf[65];
    std::snprintf(buf, sizeof buf, "%064x", m);
    mp.model_hash = buf;
    for (int r = 0; r < 100; ++r) {
      PolicyRule rule = RuleFor("iPhone" + std::to_string(10 + r / 5) + "," + std::to_string(r % 5),
                                {r % 2 ? kAll : kAne, kGpu});
      rule.id = std::to_string(m) + "/" + std::to_string(r);
      mp.rules.push_back(rule);
    }
    mp.rules.push_back(Named(RuleFor("iPhone*", {kGpu}), std::to_string(m) + "/family"));
    p.models.push_back(mp);
  }
  p.default_policy = SafeDefaultPolicy();
  ASSERT_TRUE(ValidatePolicy(p).ok());
  PolicyIndex index(std::move(p));
  char h[65];
  std::snprintf(h, sizeof h, "%064x", 37);
  EXPECT_EQ(index.Decide(Ctx("iPhone21,3"), h).matched_rule, "37/58");
  EXPECT_EQ(index.Decide(Ctx("iPhone99,9"), h).matched_rule, "37/family");
  EXPECT_EQ(index.Decide(Ctx("iPad1,1"), h).matched_rule, "default");
}

TEST(PolicyMatch, UnreadablePolicyFallsBackToSafeDefaultWithTheError) {
  std::string dir = anepilot::testing::ScratchDir("policy-fallback");
  std::string path = dir + "/policy.json";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(R"({"schema": "anepilot.policy", "version": 1, "models": [{"model_hash": "x", "rules": []}]})", f);
  std::fclose(f);
  PolicyLoad load = LoadPolicyOrSafeDefault(path);
  EXPECT_EQ(load.status.code(), StatusCode::kInvalidData);
  EXPECT_NE(load.status.message().find(path + ": models[0].model_hash"), std::string::npos)
      << load.status.message();
  Decision d = load.index.Decide(Ctx("iPhone17,2"), HashOf('a'));
  EXPECT_EQ(Units(d), (std::vector{kGpu, kCpu}));
  EXPECT_TRUE(d.from_default);

  PolicyLoad missing = LoadPolicyOrSafeDefault(dir + "/absent.json");
  EXPECT_EQ(missing.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(Units(missing.index.Decide(Ctx("iPhone17,2"), HashOf('a'))), (std::vector{kGpu, kCpu}));
}

}  // namespace
}  // namespace anepilot
