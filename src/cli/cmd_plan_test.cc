// `anepilot plan` through ToolMain: exit codes, --json, --policy, --fail-on.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "anepilot/policy.h"
#include "base/test_paths.h"
#include "cli/tool.h"

namespace anepilot::cli {
namespace {

struct PlanRun {
  int code;
  std::string out, err;
};

PlanRun Plan(std::vector<std::string> args) {
  args.insert(args.begin(), {"anepilot", "plan"});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = ToolMain(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

std::string FaceApp() { return anepilot::testing::CorpusDir() + "/faceapp-problem1/problem1.mlpackage"; }

TEST(CmdPlan, JsonForTwoDevices) {
  ANEPILOT_REQUIRE_SHARED();
  PlanRun r = Plan({FaceApp(), "--devices", "iPhone14,7,iPhone17,2", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "anepilot.plan");
  ASSERT_EQ(j["devices"].size(), 2u);
  EXPECT_EQ(j["devices"][0]["recommendation"]["order"][0], "cpuAndGPU");
  EXPECT_EQ(j["devices"][1]["recommendation"]["strategy"], "fast_first_then_swap");
}

TEST(CmdPlan, FailOnGatesOnSeverity) {
  ANEPILOT_REQUIRE_SHARED();
  EXPECT_EQ(Plan({FaceApp(), "--devices", "iPhone14,7", "--fail-on", "high"}).code, 1);
  // The A18 Pro's worst risk is medium: a "high" gate passes.
  EXPECT_EQ(Plan({FaceApp(), "--devices", "iPhone17,2", "--fail-on", "high"}).code, 0);
  EXPECT_EQ(Plan({FaceApp(), "--devices", "iPhone17,2", "--fail-on", "severe"}).code, 2);
}

TEST(CmdPlan, BadInputsHaveDistinctExitCodes) {
  ANEPILOT_REQUIRE_SHARED();
  PlanRun device = Plan({FaceApp(), "--devices", "Pixel8"});
  EXPECT_EQ(device.code, 2);
  EXPECT_NE(device.err.find("iPhone14,7"), std::string::npos) << device.err;  // lists valid forms
  EXPECT_EQ(Plan({FaceApp(), "--os", "18.x"}).code, 2);
  PlanRun classic = Plan({anepilot::testing::CorpusDir() + "/improveai-root-model/model.mlmodel"});
  EXPECT_EQ(classic.code, 10);
  EXPECT_NE(classic.err.find("cannot plan: treeEnsembleRegressor runs on CPU only"), std::string::npos)
      << classic.err;
  std::string dir = anepilot::testing::ScratchDir("cmd-plan");
  std::string bad = dir + "/cost_model.json";
  FILE* f = std::fopen(bad.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("{\"schema\": \"anepilot.cost_model\", \"version\": 1}", f);
  std::fclose(f);
  PlanRun data = Plan({FaceApp(), "--cost-model", bad});
  EXPECT_EQ(data.code, 11);
  EXPECT_NE(data.err.find(bad), std::string::npos) << data.err;
}

TEST(CmdPlan, PolicyFileIsValidAndBlocksTheA15) {
  ANEPILOT_REQUIRE_SHARED();
  std::string out = anepilot::testing::ScratchDir("cmd-plan-policy") + "/policy.json";
  PlanRun r = Plan({FaceApp(), "--devices", "iPhone14,7", "--policy", out});
  ASSERT_EQ(r.code, 0) << r.err;
  auto policy = LoadPolicyFile(out);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  ASSERT_EQ(policy->models.size(), 1u);
  ASSERT_EQ(policy->models[0].rules.size(), 1u);
  EXPECT_EQ(policy->models[0].rules[0].match.device, "iPhone14,7");
  EXPECT_EQ(policy->models[0].rules[0].blocked.size(), 2u);
}

}  // namespace
}  // namespace anepilot::cli
