// Rules loaded from data/ane_rules.json, evaluated on small hand-built IR.
#include "anepilot/ane_rules.h"

#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/test_paths.h"
#include "knowledge/value_source.h"

namespace anepilot::knowledge {
namespace {

using nlohmann::json;

std::string RulesPath() { return std::string(ANEPILOT_SOURCE_DIR) + "/data/ane_rules.json"; }

const AneRuleSet& Rules() {
  static const AneRuleSet* rules = [] {
    auto r = AneRuleSet::Load(RulesPath());
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      std::abort();
    }
    return new AneRuleSet(std::move(r).value());
  }();
  return *rules;
}

// --------------------------------------------------------------- IR helpers

ir::TensorType Tensor(ir::DType dtype, std::vector<int64_t> shape) {
  ir::TensorType t;
  t.dtype = dtype;
  for (int64_t d : shape) t.shape.push_back(ir::Dim::Known(d));
  return t;
}

ir::ValueType TensorValue(ir::DType dtype, std::vector<int64_t> shape) {
  ir::ValueType v;
  v.tensor = Tensor(dtype, std::move(shape));
  return v;
}

struct OpBuilder {
  ir::Op op;
  OpBuilder(std::string type, std::string name) {
    op.type = std::move(type);
    op.name = std::move(name);
  }
  OpBuilder& In(std::string param, std::string value) {
    ir::Binding b;
    b.name = std::move(value);
    op.inputs.push_back(ir::Argument{std::move(param), {std::move(b)}});
    return *this;
  }
  OpBuilder& InConst(std::string param, std::vector<double> numbers) {
    ir::Constant c;
    c.type = TensorValue(ir::DType::kInt32, {static_cast<int64_t>(numbers.size())});
    c.numbers.assign(numbers.begin(), numbers.end());
    ir::Binding b;
    b.constant = std::move(c);
    op.inputs.push_back(ir::Argument{std::move(param), {std::move(b)}});
    return *this;
  }
  OpBuilder& Out(std::string name, ir::DType dtype, std::vector<int64_t> shape) {
    op.outputs.push_back(ir::Value{std::move(name), TensorValue(dtype, std::move(shape))});
    return *this;
  }
  ir::Op Build() { return std::move(op); }
};

ir::Function MakeFunction(std::vector<ir::Value> inputs, std::vector<ir::Op> ops) {
  ir::Function fn;
  fn.name = "main";
  fn.opset = "CoreML6";
  fn.inputs.assign(inputs.begin(), inputs.end());
  fn.body.ops.assign(std::make_move_iterator(ops.begin()), std::make_move_iterator(ops.end()));
  return fn;
}

const ir::Op& OpNamed(const ir::Function& fn, std::string_view name) {
  for (const ir::Op& op : fn.body.ops) {
    if (op.name == name) return op;
  }
  ADD_FAILURE() << "no op " << name;
  std::abort();
}

std::vector<RuleFinding> Eval(const ir::Function& fn, std::string_view op_name, std::string_view gen,
                              const ModelFacts* facts = nullptr) {
  static const ModelFacts kMlProgram;  // defaults: ML Program, nothing flexible
  ir::GraphIndex index(fn);
  OpContext ctx{&index, fn.name, facts != nullptr ? facts : &kMlProgram};
  return Rules().Evaluate(OpNamed(fn, op_name), ctx, gen);
}

const RuleFinding* Find(const std::vector<RuleFinding>& findings, std::string_view id) {
  for (const RuleFinding& f : findings) {
    if (f.rule_id == id) return &f;
  }
  return nullptr;
}

std::string Ids(const std::vector<RuleFinding>& findings) {
  std::string s;
  for (const RuleFinding& f : findings) s += f.rule_id + " ";
  return s;
}

// Attention as faceapp-problem1 has it: q @ k^T -> softmax -> @ v, all heads in one matmul.
ir::Function Attention(int64_t tokens) {
  return MakeFunction(
      {ir::Value{"q", TensorValue(ir::DType::kFloat16, {1, 8, tokens, 64})}},
      {OpBuilder("matmul", "scores_mm").In("x", "q").In("y", "q").Out("scores", ir::DType::kFloat16, {1, 8, tokens, tokens}).Build(),
       OpBuilder("softmax", "probs_sm").In("x", "scores").InConst("axis", {-1}).Out("probs", ir::DType::kFloat16, {1, 8, tokens, tokens}).Build(),
       OpBuilder("matmul", "context_mm").In("x", "probs").In("y", "q").Out("context", ir::DType::kFloat16, {1, 8, tokens, 64}).Build()});
}

// ---------------------------------------------------------------- the file

TEST(AneRulesTest, DefaultRulesLoadAndEachCarriesEvidenceAndConfidence) {
  auto r = AneRuleSet::LoadDefault();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version(), 1);
  EXPECT_GE(r->rules().size(), 30u);
  std::set<std::string> ids;
  for (const AneRule& rule : r->rules()) {
    EXPECT_TRUE(ids.insert(rule.id).second) << rule.id;
    EXPECT_FALSE(rule.evidence.empty()) << rule.id;
    EXPECT_GT(rule.confidence, 0.0) << rule.id;
    EXPECT_LE(rule.confidence, 1.0) << rule.id;
    EXPECT_FALSE(rule.advice.empty()) << rule.id;
    EXPECT_FALSE(rule.description.empty()) << rule.id;
    if (!rule.model_scope) {
      EXPECT_FALSE(rule.op_types.empty()) << rule.id;
    }
  }
  for (const char* required :
       {"ANE-DIM-HW-LIMIT", "ANE-DIM-C-LIMIT", "ANE-RANK-LIMIT", "ANE-MODEL-SIZE-IOS", "ANE-RANGE-FLEX-INPUT",
        "ANE-FP32-COMPUTE", "ANE-RUNTIME-WEIGHT-TRANSFORM", "ANE-GATHER-CPU", "ANE-CONTROL-FLOW",
        "ANE-ATTN-SCORES-CRASH", "ANE-ATTN-SCORES-SLOW", "ANE-OP-NOT-SUPPORTED", "ANE-COLD-COMPILE-LARGE",
        "ANE-MLPACKAGE-RECOMPILE"}) {
    EXPECT_NE(r->FindRule(required), nullptr) << required;
  }
}

TEST(AneRulesTest, WhitelistAndConstantProducers) {
  EXPECT_TRUE(Rules().AneSupportsOpType("conv", true));
  EXPECT_TRUE(Rules().AneSupportsOpType("softmax", true));
  EXPECT_FALSE(Rules().AneSupportsOpType("gather", true));
  EXPECT_FALSE(Rules().AneSupportsOpType("conv", false));  // NeuralNetwork spells it "convolution"
  EXPECT_TRUE(Rules().AneSupportsOpType("convolution", false));
  EXPECT_TRUE(Rules().IsConstantProducer("const"));
  EXPECT_TRUE(Rules().IsConstantProducer("constexpr_affine_dequantize"));
  EXPECT_FALSE(Rules().IsConstantProducer("conv"));
  // The data file's list and the tracer's built-in list agree.
  for (const char* t : {"const", "constexpr_lut_to_dense", "loadConstant", "loadConstantND", "conv", "pow",
                        "constant_pad"}) {
    EXPECT_EQ(Rules().IsConstantProducer(t), IsConstantProducerType(t)) << t;
  }
}

// ------------------------------------------------------------- attention

TEST(AneRulesTest, HugeAttentionScoresCrashOnH14AndOlder) {
  ir::Function fn = Attention(4096);
  for (const char* gen : {"H11", "H13", "H14"}) {
    auto findings = Eval(fn, "scores_mm", gen);
    const RuleFinding* crash = Find(findings, "ANE-ATTN-SCORES-CRASH");
    ASSERT_NE(crash, nullptr) << gen << ": " << Ids(findings);
    EXPECT_EQ(crash->effect, RuleEffect::kCrash);
    EXPECT_EQ(crash->severity, Severity::kCritical);
    EXPECT_EQ(crash->op_name, "scores_mm");
    // The message names the op and the value that triggered it.
    EXPECT_NE(crash->message.find("main/scores_mm (matmul)"), std::string::npos) << crash->message;
    EXPECT_NE(crash->message.find("134217728 elements"), std::string::npos) << crash->message;
    EXPECT_NE(crash->message.find("probs_sm (softmax)"), std::string::npos) << crash->message;
    EXPECT_NE(crash->evidence.find("iPhone 14"), std::string::npos);
    EXPECT_EQ(Find(findings, "ANE-ATTN-SCORES-SLOW"), nullptr);
  }
}

TEST(AneRulesTest, HugeAttentionScoresAreSlowNotFatalFromH15) {
  ir::Function fn = Attention(4096);
  for (const char* gen : {"H15", "H16", "H17", "H18"}) {
    auto findings = Eval(fn, "scores_mm", gen);
    EXPECT_EQ(Find(findings, "ANE-ATTN-SCORES-CRASH"), nullptr) << gen;
    const RuleFinding* slow = Find(findings, "ANE-ATTN-SCORES-SLOW");
    ASSERT_NE(slow, nullptr) << gen << ": " << Ids(findings);
    EXPECT_EQ(slow->effect, RuleEffect::kSlow);
  }
}

TEST(AneRulesTest, ModestAttentionAndMatmulsWithoutSoftmaxAreNotFlaggedAsCrashes) {
  ir::Function small = Attention(1024);  // 8 x 1024 x 1024 = 8M elements
  EXPECT_EQ(Find(Eval(small, "scores_mm", "H14"), "ANE-ATTN-SCORES-CRASH"), nullptr);
  ir::Function big = Attention(4096);
  // The second matmul (probs @ v) has a small output and no softmax consumer.
  EXPECT_EQ(Find(Eval(big, "context_mm", "H14"), "ANE-ATTN-SCORES-CRASH"), nullptr);
}

TEST(AneRulesTest, UnknownGenerationOnlyGetsUnboundedRules) {
  ir::Function fn = Attention(4096);
  auto findings = Eval(fn, "scores_mm", "X9");
  EXPECT_EQ(Find(findings, "ANE-ATTN-SCORES-CRASH"), nullptr);
  EXPECT_EQ(Find(findings, "ANE-ATTN-SCORES-SLOW"), nullptr);
}

// ------------------------------------------------------ weight transforms

// constexpr_affine_dequantize -> pow -> conv weight (faceapp-p3 int8).
ir::Function RuntimeWeightTransform() {
  ir::Op deq = OpBuilder("constexpr_affine_dequantize", "w_deq").Out("w_q", ir::DType::kFloat16, {20, 3, 3, 3}).Build();
  ir::Op exponent = OpBuilder("const", "exponent").Out("p", ir::DType::kFloat16, {}).Build();
  return MakeFunction(
      {ir::Value{"image", TensorValue(ir::DType::kFloat16, {1, 3, 256, 256})}},
      {std::move(deq), std::move(exponent),
       OpBuilder("pow", "w_pow").In("x", "w_q").In("y", "p").Out("w", ir::DType::kFloat16, {20, 3, 3, 3}).Build(),
       OpBuilder("const", "w_plain").Out("w2", ir::DType::kFloat16, {20, 3, 3, 3}).Build(),
       OpBuilder("conv", "conv_transformed").In("x", "image").In("weight", "w").Out("y1", ir::DType::kFloat16, {1, 20, 254, 254}).Build(),
       OpBuilder("conv", "conv_plain").In("x", "image").In("weight", "w2").Out("y2", ir::DType::kFloat16, {1, 20, 254, 254}).Build(),
       OpBuilder("mul", "act_mul").In("x", "y1").In("y", "p").Out("y3", ir::DType::kFloat16, {1, 20, 254, 254}).Build()});
}

TEST(AneRulesTest, RuntimeWeightTransformAndItsConvLeaveTheAne) {
  ir::Function fn = RuntimeWeightTransform();
  auto pow = Eval(fn, "w_pow", "H17");
  const RuleFinding* transform = Find(pow, "ANE-RUNTIME-WEIGHT-TRANSFORM");
  ASSERT_NE(transform, nullptr) << Ids(pow);
  EXPECT_EQ(transform->effect, RuleEffect::kLeavesAne);
  EXPECT_NE(transform->message.find("main/w_pow (pow)"), std::string::npos) << transform->message;

  auto conv = Eval(fn, "conv_transformed", "H17");
  const RuleFinding* conv_finding = Find(conv, "ANE-CONV-RUNTIME-WEIGHT");
  ASSERT_NE(conv_finding, nullptr) << Ids(conv);
  EXPECT_NE(conv_finding->message.find("w_pow (pow)"), std::string::npos) << conv_finding->message;
  EXPECT_NE(conv_finding->message.find("constexpr_transform"), std::string::npos) << conv_finding->message;
}

TEST(AneRulesTest, ConstantWeightsAndActivationOpsAreNotWeightTransforms) {
  ir::Function fn = RuntimeWeightTransform();
  EXPECT_TRUE(Eval(fn, "conv_plain", "H17").empty()) << Ids(Eval(fn, "conv_plain", "H17"));
  EXPECT_EQ(Find(Eval(fn, "act_mul", "H17"), "ANE-RUNTIME-WEIGHT-TRANSFORM"), nullptr);
  // The dequantization itself is decompressed at load: no wildcard rule applies to it.
  EXPECT_TRUE(Eval(fn, "w_deq", "H17").empty()) << Ids(Eval(fn, "w_deq", "H17"));
}

// ------------------------------------------------------------ other ops

TEST(AneRulesTest, GatherAndUnlistedOpsLeaveTheAne) {
  ir::Function fn = MakeFunction(
      {ir::Value{"x", TensorValue(ir::DType::kFloat16, {1, 64, 32})}},
      {OpBuilder("gather", "emb").In("x", "x").InConst("indices", {0, 1}).Out("g", ir::DType::kFloat16, {1, 2, 32}).Build(),
       OpBuilder("topk", "best").In("x", "g").Out("t", ir::DType::kFloat16, {1, 2, 4}).Build(),
       OpBuilder("relu", "act").In("x", "g").Out("r", ir::DType::kFloat16, {1, 2, 32}).Build()});
  auto gather = Eval(fn, "emb", "H14");
  EXPECT_NE(Find(gather, "ANE-GATHER-CPU"), nullptr);
  // The catch-all is not repeated when a specific rule already moved the op off the ANE.
  EXPECT_EQ(Find(gather, "ANE-OP-NOT-SUPPORTED"), nullptr) << Ids(gather);
  auto unlisted_findings = Eval(fn, "best", "H14");
  const RuleFinding* unlisted = Find(unlisted_findings, "ANE-OP-NOT-SUPPORTED");
  ASSERT_NE(unlisted, nullptr);
  EXPECT_NE(unlisted->message.find("topk"), std::string::npos);
  EXPECT_TRUE(Eval(fn, "act", "H14").empty()) << Ids(Eval(fn, "act", "H14"));
}

TEST(AneRulesTest, DimensionRankAndDtypeLimitsNameTheValue) {
  ir::Function fn = MakeFunction(
      {ir::Value{"x", TensorValue(ir::DType::kFloat16, {1, 1, 1, 240000})}},
      {OpBuilder("relu", "long_w").In("x", "x").Out("a", ir::DType::kFloat16, {1, 1, 1, 240000}).Build(),
       OpBuilder("relu", "wide_c").In("x", "x").Out("b", ir::DType::kFloat16, {1, 151936, 1, 1}).Build(),
       OpBuilder("reshape", "rank6").In("x", "x").Out("c", ir::DType::kFloat16, {1, 2, 2, 2, 2, 2}).Build(),
       OpBuilder("relu", "fp32").In("x", "x").Out("d", ir::DType::kFloat32, {1, 4}).Build()});
  auto hw_findings = Eval(fn, "long_w", "H14");
  const RuleFinding* hw = Find(hw_findings, "ANE-DIM-HW-LIMIT");
  ASSERT_NE(hw, nullptr);
  EXPECT_EQ(hw->effect, RuleEffect::kCompileFailure);
  EXPECT_NE(hw->message.find("240000"), std::string::npos) << hw->message;
  auto c_findings = Eval(fn, "wide_c", "H17");
  const RuleFinding* c = Find(c_findings, "ANE-DIM-C-LIMIT");
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->message.find("151936"), std::string::npos) << c->message;
  EXPECT_NE(Find(Eval(fn, "rank6", "H16"), "ANE-RANK-LIMIT"), nullptr);
  EXPECT_NE(Find(Eval(fn, "fp32", "H16"), "ANE-FP32-COMPUTE"), nullptr);
  // NeuralNetwork models compute in fp16 on the ANE whatever the declared type.
  ModelFacts nn;
  nn.ml_program = false;
  EXPECT_EQ(Find(Eval(fn, "fp32", "H16", &nn), "ANE-FP32-COMPUTE"), nullptr);
}

TEST(AneRulesTest, AttributeConditionsReadConstInputs) {
  ir::Op k = OpBuilder("const", "k").Out("ks", ir::DType::kInt32, {2}).Build();
  ir::Constant val;
  val.type = TensorValue(ir::DType::kInt32, {2});
  val.numbers = {16, 16};
  k.attributes["val"] = val;
  ir::Function fn = MakeFunction(
      {ir::Value{"x", TensorValue(ir::DType::kFloat16, {1, 8, 64, 64})}},
      {std::move(k),
       OpBuilder("max_pool", "big_pool").In("x", "x").In("kernel_sizes", "ks").InConst("strides", {1, 1}).Out("p", ir::DType::kFloat16, {1, 8, 4, 4}).Build(),
       OpBuilder("avg_pool", "small_pool").In("x", "x").InConst("kernel_sizes", {2, 2}).InConst("strides", {2, 2}).Out("q", ir::DType::kFloat16, {1, 8, 32, 32}).Build()});
  auto big_findings = Eval(fn, "big_pool", "H13");
  const RuleFinding* big = Find(big_findings, "ANE-POOL-KERNEL");
  ASSERT_NE(big, nullptr);
  EXPECT_NE(big->message.find("kernel_sizes"), std::string::npos) << big->message;
  EXPECT_TRUE(Eval(fn, "small_pool", "H13").empty()) << Ids(Eval(fn, "small_pool", "H13"));
}

// NeuralNetwork layers keep their parameters as attributes named by the reader
// (src/format/nn_layers.cc): kernel_size, stride, dilation, scaling_factor.
TEST(AneRulesTest, NeuralNetworkLayerAttributes) {
  auto with_attr = [](ir::Op op, std::string name, std::vector<double> values) {
    ir::Constant c;
    c.type = TensorValue(ir::DType::kInt64, {static_cast<int64_t>(values.size())});
    c.numbers.assign(values.begin(), values.end());
    op.attributes[name] = c;
    return op;
  };
  ir::Function fn = MakeFunction(
      {ir::Value{"x", TensorValue(ir::DType::kFloat32, {8, 64, 64})}},
      {with_attr(OpBuilder("pooling", "pool").In("x", "x").Out("p", ir::DType::kFloat32, {8, 4, 4}).Build(),
                 "kernel_size", {16, 16}),
       with_attr(OpBuilder("convolution", "dilated").In("x", "x").Out("c", ir::DType::kFloat32, {8, 60, 60}).Build(),
                 "dilation", {2, 2}),
       with_attr(OpBuilder("upsample", "up4").In("x", "x").Out("u", ir::DType::kFloat32, {8, 256, 256}).Build(),
                 "scaling_factor", {4, 4})});
  ModelFacts nn;
  nn.ml_program = false;
  EXPECT_NE(Find(Eval(fn, "pool", "H12", &nn), "ANE-POOL-KERNEL"), nullptr);
  EXPECT_NE(Find(Eval(fn, "dilated", "H12", &nn), "ANE-DILATED-CONV"), nullptr);
  EXPECT_NE(Find(Eval(fn, "up4", "H12", &nn), "ANE-UPSAMPLE-FACTOR"), nullptr);
  // fp32 is how NeuralNetwork tensors are declared; it does not mean fp32 compute.
  EXPECT_EQ(Find(Eval(fn, "pool", "H12", &nn), "ANE-FP32-COMPUTE"), nullptr);
}

// ------------------------------------------------------------ model level

TEST(AneRulesTest, ModelLevelRulesDependOnPlatformAndFacts) {
  ModelFacts big;
  big.model_bytes = 1536ull << 20;  // 1.5 GiB
  big.container = "mlmodelc";
  auto ios = Rules().EvaluateModel(big, "H17", Platform::kIos);
  const RuleFinding* size = Find(ios, "ANE-MODEL-SIZE-IOS");
  ASSERT_NE(size, nullptr) << Ids(ios);
  EXPECT_NE(size->message.find("1.5 GiB"), std::string::npos) << size->message;
  EXPECT_EQ(Find(Rules().EvaluateModel(big, "H17", Platform::kMacos), "ANE-MODEL-SIZE-IOS"), nullptr);

  ModelFacts flexible;
  flexible.range_flexible_inputs = {"image"};
  flexible.max_rank = 6;
  flexible.max_rank_value = "x6";
  flexible.container = "mlpackage";
  auto f = Rules().EvaluateModel(flexible, "H14", Platform::kIos);
  const RuleFinding* range = Find(f, "ANE-RANGE-FLEX-INPUT");
  ASSERT_NE(range, nullptr) << Ids(f);
  EXPECT_NE(range->message.find("image"), std::string::npos);
  EXPECT_NE(Find(f, "ANE-RANK-LIMIT-MODEL"), nullptr);
  EXPECT_NE(Find(f, "ANE-MLPACKAGE-RECOMPILE"), nullptr);

  ModelFacts plain;
  plain.container = "mlmodelc";
  EXPECT_TRUE(Rules().EvaluateModel(plain, "H14", Platform::kIos).empty());
}

// ------------------------------------------------------------ broken files

json RealRulesJson() {
  std::ifstream in(RulesPath());
  return json::parse(in);
}

void ExpectInvalid(const json& j, const std::string& name, const std::string& fragment) {
  std::string path = testing::ScratchDir("rules") + "/" + name + ".json";
  std::ofstream(path) << j.dump(1);
  auto r = AneRuleSet::Load(path);
  ASSERT_FALSE(r.ok()) << name;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidData) << r.status().ToString();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos)
      << "message: " << r.status().message() << "\nexpected: " << fragment;
  EXPECT_NE(r.status().message().find(name + ".json"), std::string::npos);
}

TEST(AneRulesBrokenFileTest, EachBrokenFieldIsNamed) {
  auto edit = [](auto fn) { json j = RealRulesJson(); fn(j); return j; };
  ExpectInvalid(edit([](json& j) { j["rules"][3]["effect"] = "explodes"; }), "effect",
                "rules[3].effect: unknown effect \"explodes\"");
  ExpectInvalid(edit([](json& j) { j["rules"][0]["evidence"] = json::array(); }), "evidence",
                "rules[0].evidence: needs at least 1 entry");
  ExpectInvalid(edit([](json& j) { j["rules"][1]["confidence"] = 1.5; }), "confidence", "rules[1].confidence");
  ExpectInvalid(edit([](json& j) { j["rules"][2]["applies_to"] = json{{"min", "H16"}, {"max", "H12"}}; }),
                "applies", "rules[2].applies_to: min is above max");
  ExpectInvalid(edit([](json& j) { j["rules"][2]["applies_to"] = json::array({"H11", "H14"}); }), "gap",
                "rules[2].applies_to: generations must be consecutive");
  ExpectInvalid(edit([](json& j) { j["rules"][0]["match"]["conditions"][0]["property"] = "colour"; }),
                "property", "rules[0].match.conditions[0].property: unknown property \"colour\"");
  ExpectInvalid(edit([](json& j) { j["rules"][0]["match"]["conditions"][0]["op"] = "~"; }), "cmp",
                "rules[0].match.conditions[0].op: unknown comparison");
  ExpectInvalid(edit([](json& j) { j["rules"][0]["match"]["conditions"][0]["subject"] = "model"; }), "subject",
                "rules[0].match.conditions[0].property: property \"dim\" does not apply to subject \"model\"");
  ExpectInvalid(edit([](json& j) { j["rules"][5]["id"] = j["rules"][4]["id"]; }), "dup",
                "rules[5].id: duplicate rule id");
  ExpectInvalid(edit([](json& j) { j["rules"][0]["severity"] = "apocalyptic"; }), "severity",
                "rules[0].severity: unknown severity");
  ExpectInvalid(edit([](json& j) { j.erase("ane_op_types"); }), "whitelist", "ane_op_types: required field is missing");
  ExpectInvalid(edit([](json& j) { j["version"] = 7; }), "version", "version: version 7 is not supported");
  // Thresholds are printed as int64 byte counts: 1e19 once overflowed the conversion.
  ExpectInvalid(edit([](json& j) { j["rules"][0]["match"]["conditions"][0]["value"] = 1e19; }), "huge",
                "rules[0].match.conditions[0].value: 1e+19 is out of range");
}

}  // namespace
}  // namespace anepilot::knowledge
