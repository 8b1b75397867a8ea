// Every validation error path: each case breaks one field of a valid policy
// and checks the code and that the message names the file and JSON path.
#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "anepilot/policy.h"
#include "policy/policy_test_util.h"

namespace anepilot {
namespace {

using nlohmann::json;
using testing::PolicyWithRules;
using testing::RuleFor;

json ValidJson() {
  PolicyRule r0 = RuleFor("iPhone17,2", {ComputeUnits::kAll, ComputeUnits::kCpuAndGpu});
  r0.loading.strategy = LoadingStrategy::kFastFirstThenSwap;
  r0.loading.serve_first = ComputeUnits::kCpuAndGpu;
  r0.loading.swap_to = ComputeUnits::kAll;
  PolicyRule r1 = RuleFor("iPhone14,*", {ComputeUnits::kCpuAndGpu, ComputeUnits::kCpuOnly});
  r1.blocked.push_back({ComputeUnits::kAll, "crashes", "ane.h14"});
  PolicyRule r2 = RuleFor("*", {ComputeUnits::kCpuAndGpu, ComputeUnits::kCpuOnly});
  return json::parse(SerializePolicy(PolicyWithRules({r0, r1, r2})));
}

struct Case {
  const char* name;
  std::function<void(json&)> mutate;
  StatusCode code;
  const char* expected;  // substring of the message
};

class PolicyValidation : public ::testing::TestWithParam<Case> {};

TEST_P(PolicyValidation, NamesTheFieldAtFault) {
  const Case& c = GetParam();
  json j = ValidJson();
  c.mutate(j);
  auto p = ParsePolicy(j.dump(), "policy.json");
  ASSERT_FALSE(p.ok()) << c.name;
  EXPECT_EQ(p.status().code(), c.code) << p.status().ToString();
  EXPECT_NE(p.status().message().find(c.expected), std::string::npos)
      << "message: " << p.status().message() << "\nexpected to contain: " << c.expected;
  EXPECT_EQ(p.status().message().rfind("policy.json: ", 0), 0u) << p.status().message();
}

json& Rule(json& j, int i) { return j["models"][0]["rules"][i]; }

const Case kCases[] = {
    {"not_object", [](json& j) { j = json::array(); }, StatusCode::kInvalidData,
     "(document): expected an object, found an array"},
    {"schema_missing", [](json& j) { j.erase("schema"); }, StatusCode::kInvalidData,
     "schema: required field is missing"},
    {"schema_wrong", [](json& j) { j["schema"] = "anepilot.telemetry"; }, StatusCode::kInvalidData,
     "schema: \"anepilot.telemetry\" is not \"anepilot.policy\""},
    {"version_missing", [](json& j) { j.erase("version"); }, StatusCode::kInvalidData,
     "version: required field is missing"},
    {"version_string", [](json& j) { j["version"] = "1"; }, StatusCode::kInvalidData,
     "version: expected an integer, found a string"},
    {"version_2", [](json& j) { j["version"] = 2; }, StatusCode::kInvalidData,
     "version: version 2 is not supported"},
    {"generated_by_number", [](json& j) { j["generated_by"] = 3; }, StatusCode::kInvalidData,
     "generated_by: expected a string, found a number"},
    {"models_missing", [](json& j) { j.erase("models"); }, StatusCode::kInvalidData,
     "models: required field is missing"},
    {"models_object", [](json& j) { j["models"] = json::object(); }, StatusCode::kInvalidData,
     "models: expected an array, found an object"},
    {"model_not_object", [](json& j) { j["models"][0] = 5; }, StatusCode::kInvalidData,
     "models[0]: expected an object, found a number"},
    {"hash_missing", [](json& j) { j["models"][0].erase("model_hash"); }, StatusCode::kInvalidData,
     "models[0].model_hash: required field is missing"},
    {"hash_short", [](json& j) { j["models"][0]["model_hash"] = "abc"; }, StatusCode::kInvalidData,
     "models[0].model_hash: \"abc\" is not a SHA-256"},
    {"hash_upper", [](json& j) { j["models"][0]["model_hash"] = std::string(64, 'A'); },
     StatusCode::kInvalidData, "models[0].model_hash"},
    {"hash_duplicate", [](json& j) { j["models"].push_back(j["models"][0]); },
     StatusCode::kInvalidData, "models[1].model_hash: the same model_hash appears twice"},
    {"rules_missing", [](json& j) { j["models"][0].erase("rules"); }, StatusCode::kInvalidData,
     "models[0].rules: required field is missing"},
    {"rule_not_object", [](json& j) { Rule(j, 1) = "x"; }, StatusCode::kInvalidData,
     "models[0].rules[1]: expected an object, found a string"},
    {"match_missing", [](json& j) { Rule(j, 2).erase("match"); }, StatusCode::kInvalidData,
     "models[0].rules[2].match: required field is missing"},
    {"device_missing", [](json& j) { Rule(j, 2)["match"].erase("device"); },
     StatusCode::kInvalidData, "models[0].rules[2].match.device: required field is missing"},
    {"device_empty", [](json& j) { Rule(j, 2)["match"]["device"] = ""; }, StatusCode::kInvalidData,
     "models[0].rules[2].match.device: must not be empty"},
    {"device_star_inside", [](json& j) { Rule(j, 1)["match"]["device"] = "iPhone*,7"; },
     StatusCode::kInvalidData, "models[0].rules[1].match.device: \"iPhone*,7\": '*' is allowed only"},
    {"chip_empty", [](json& j) { Rule(j, 0)["match"]["chip"] = ""; }, StatusCode::kInvalidData,
     "models[0].rules[0].match.chip: must not be empty"},
    {"chip_number", [](json& j) { Rule(j, 0)["match"]["chip"] = 15; }, StatusCode::kInvalidData,
     "models[0].rules[0].match.chip: expected a string, found a number"},
    {"os_min_bad", [](json& j) { Rule(j, 0)["match"]["os_min"] = "eighteen"; },
     StatusCode::kInvalidData, "models[0].rules[0].match.os_min: \"eighteen\" is not an OS version"},
    {"os_max_four_parts", [](json& j) { Rule(j, 0)["match"]["os_max"] = "18.1.2.3"; },
     StatusCode::kInvalidData, "models[0].rules[0].match.os_max: \"18.1.2.3\" is not an OS version"},
    {"os_range_inverted",
     [](json& j) {
       Rule(j, 0)["match"]["os_min"] = "18.2";
       Rule(j, 0)["match"]["os_max"] = "17";
     },
     StatusCode::kInvalidData, "models[0].rules[0].match.os_max: 17.0 is below os_min 18.2"},
    {"os_build_empty", [](json& j) { Rule(j, 0)["match"]["os_build"] = ""; },
     StatusCode::kInvalidData, "models[0].rules[0].match.os_build: must not be empty"},
    {"choices_missing", [](json& j) { Rule(j, 2).erase("choices"); }, StatusCode::kInvalidData,
     "models[0].rules[2].choices: required field is missing"},
    {"choices_empty", [](json& j) { Rule(j, 2)["choices"] = json::array(); },
     StatusCode::kInvalidData, "models[0].rules[2].choices: must list at least one"},
    {"choice_bad_units", [](json& j) { Rule(j, 2)["choices"][1]["units"] = "cpuAndANE"; },
     StatusCode::kInvalidData,
     "models[0].rules[2].choices[1].units: \"cpuAndANE\" is not a compute-unit option (cpuOnly, "
     "cpuAndGPU, cpuAndNeuralEngine, all)"},
    {"choice_units_missing", [](json& j) { Rule(j, 2)["choices"][0].erase("units"); },
     StatusCode::kInvalidData, "models[0].rules[2].choices[0].units: required field is missing"},
    {"choice_units_number", [](json& j) { Rule(j, 2)["choices"][0]["units"] = 1; },
     StatusCode::kInvalidData, "models[0].rules[2].choices[0].units: expected a compute-unit name"},
    {"choice_not_object", [](json& j) { Rule(j, 2)["choices"][0] = 1; }, StatusCode::kInvalidData,
     "models[0].rules[2].choices[0]: expected an object, found a number"},
    {"choice_duplicate", [](json& j) { Rule(j, 2)["choices"][1]["units"] = "cpuAndGPU"; },
     StatusCode::kInvalidData, "models[0].rules[2].choices[1].units: \"cpuAndGPU\" is listed twice"},
    {"latency_negative", [](json& j) { Rule(j, 0)["choices"][0]["expected_latency_ms"] = -1; },
     StatusCode::kInvalidData, "models[0].rules[0].choices[0].expected_latency_ms: -1 must be"},
    {"cold_load_string", [](json& j) { Rule(j, 0)["choices"][0]["expected_cold_load_ms"] = "9"; },
     StatusCode::kInvalidData,
     "models[0].rules[0].choices[0].expected_cold_load_ms: expected a number, found a string"},
    {"warm_load_negative", [](json& j) { Rule(j, 0)["choices"][1]["expected_warm_load_ms"] = -2; },
     StatusCode::kInvalidData, "models[0].rules[0].choices[1].expected_warm_load_ms"},
    {"memory_negative", [](json& j) { Rule(j, 0)["choices"][1]["expected_peak_memory_mb"] = -2; },
     StatusCode::kInvalidData, "models[0].rules[0].choices[1].expected_peak_memory_mb"},
    {"loading_not_object", [](json& j) { Rule(j, 0)["loading"] = "single"; },
     StatusCode::kInvalidData, "models[0].rules[0].loading: expected an object, found a string"},
    {"strategy_missing", [](json& j) { Rule(j, 0)["loading"].erase("strategy"); },
     StatusCode::kInvalidData, "models[0].rules[0].loading.strategy: required field is missing"},
    {"strategy_unknown", [](json& j) { Rule(j, 0)["loading"]["strategy"] = "eager"; },
     StatusCode::kInvalidData, "models[0].rules[0].loading.strategy: \"eager\" is not a loading"},
    {"serve_first_missing", [](json& j) { Rule(j, 0)["loading"].erase("serve_first"); },
     StatusCode::kInvalidData,
     "models[0].rules[0].loading.serve_first: required by fast_first_then_swap"},
    {"swap_to_missing", [](json& j) { Rule(j, 0)["loading"].erase("swap_to"); },
     StatusCode::kInvalidData, "models[0].rules[0].loading.swap_to: required by fast_first_then_swap"},
    {"swap_to_same", [](json& j) { Rule(j, 0)["loading"]["swap_to"] = "cpuAndGPU"; },
     StatusCode::kInvalidData, "models[0].rules[0].loading.swap_to: must differ from serve_first"},
    {"swap_to_not_a_choice", [](json& j) { Rule(j, 0)["loading"]["swap_to"] = "cpuOnly"; },
     StatusCode::kInvalidData,
     "models[0].rules[0].loading.swap_to: \"cpuOnly\" is not one of the choices"},
    {"serve_first_not_a_choice", [](json& j) { Rule(j, 0)["loading"]["serve_first"] = "cpuOnly"; },
     StatusCode::kInvalidData,
     "models[0].rules[0].loading.serve_first: \"cpuOnly\" is not one of the choices"},
    {"serve_first_bad_units", [](json& j) { Rule(j, 0)["loading"]["serve_first"] = "gpu"; },
     StatusCode::kInvalidData, "models[0].rules[0].loading.serve_first: \"gpu\" is not a compute-unit"},
    {"gain_out_of_range", [](json& j) { Rule(j, 0)["loading"]["swap_min_gain"] = 11; },
     StatusCode::kInvalidData, "models[0].rules[0].loading.swap_min_gain: 11 is outside [0, 10]"},
    {"gain_bool", [](json& j) { Rule(j, 0)["loading"]["swap_min_gain"] = true; },
     StatusCode::kInvalidData,
     "models[0].rules[0].loading.swap_min_gain: expected a number, found a boolean"},
    {"blocked_not_array", [](json& j) { Rule(j, 1)["blocked"] = json::object(); },
     StatusCode::kInvalidData, "models[0].rules[1].blocked: expected an array, found an object"},
    {"blocked_not_object", [](json& j) { Rule(j, 1)["blocked"][0] = "all"; },
     StatusCode::kInvalidData, "models[0].rules[1].blocked[0]: expected an object, found a string"},
    {"blocked_units_missing", [](json& j) { Rule(j, 1)["blocked"][0].erase("units"); },
     StatusCode::kInvalidData, "models[0].rules[1].blocked[0].units: required field is missing"},
    {"blocked_cpu_only", [](json& j) { Rule(j, 1)["blocked"][0]["units"] = "cpuOnly"; },
     StatusCode::kInvalidData, "models[0].rules[1].blocked[0].units: cpuOnly cannot be blocked"},
    {"blocked_reason_missing", [](json& j) { Rule(j, 1)["blocked"][0].erase("reason"); },
     StatusCode::kInvalidData, "models[0].rules[1].blocked[0].reason: required field is missing"},
    {"blocked_reason_empty", [](json& j) { Rule(j, 1)["blocked"][0]["reason"] = ""; },
     StatusCode::kInvalidData, "models[0].rules[1].blocked[0].reason: must say why"},
    {"blocked_rule_number", [](json& j) { Rule(j, 1)["blocked"][0]["rule"] = 4; },
     StatusCode::kInvalidData, "models[0].rules[1].blocked[0].rule: expected a string"},
    {"default_not_object", [](json& j) { j["default"] = json::array(); }, StatusCode::kInvalidData,
     "default: expected an object, found an array"},
    {"default_unsafe", [](json& j) { j["default"]["choices"] = json::array({"all"}); },
     StatusCode::kInvalidData, "default.choices: must include cpuAndGPU or cpuOnly"},
    {"default_choices_missing", [](json& j) { j["default"].erase("choices"); },
     StatusCode::kInvalidData, "default.choices: required field is missing"},
    {"default_bad_units", [](json& j) { j["default"]["choices"][0]["units"] = "npu"; },
     StatusCode::kInvalidData, "default.choices[0].units: \"npu\" is not a compute-unit option"},
};

INSTANTIATE_TEST_SUITE_P(AllPaths, PolicyValidation, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(PolicyValidationBase, TheBaseCaseIsValid) {
  auto p = ParsePolicy(ValidJson().dump());
  EXPECT_TRUE(p.ok()) << p.status().ToString();
}

TEST(PolicyValidationBase, InvalidJsonIsAParseErrorWithByteOffset) {
  auto p = ParsePolicy("{\"schema\": \"anepilot.policy\", \"version\": 1,", "my/policy.json");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kParseError);
  EXPECT_NE(p.status().message().find("my/policy.json: not valid JSON at byte"), std::string::npos)
      << p.status().message();
}

// Found by policy_fuzz: nlohmann reports a number overflow as out_of_range,
// not parse_error; it must still come back as a Status.
TEST(PolicyValidationBase, NumberOverflowIsAParseError) {
  auto p = ParsePolicy("2222222222222222221e22222222", "big.json");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kParseError);
  EXPECT_NE(p.status().message().find("big.json: not valid JSON"), std::string::npos);
}

TEST(PolicyValidationBase, HugeVersionDoesNotWrapToOne) {
  auto p = ParsePolicy(R"({"schema": "anepilot.policy", "version": 4294967297, "models": []})");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("version 4294967297 is not supported"), std::string::npos)
      << p.status().message();
}

TEST(PolicyValidationBase, CodeBuiltPoliciesAreCheckedToo) {
  Policy p = PolicyWithRules({RuleFor("*", {ComputeUnits::kAll})});
  p.models[0].rules[0].blocked.push_back({ComputeUnits::kCpuOnly, "no", ""});
  Status s = ValidatePolicy(p, "planner");
  EXPECT_EQ(s.code(), StatusCode::kInvalidData);
  EXPECT_NE(s.message().find("planner: models[0].rules[0].blocked[0].units"), std::string::npos);
}

}  // namespace
}  // namespace anepilot
