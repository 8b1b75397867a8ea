// The rules and the catalog on the real models of ../shared/corpus, read with
// anepilot::ReadModel. The first users' two cases must come out right.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "anepilot/ane_rules.h"
#include "anepilot/device_catalog.h"
#include "anepilot/model_reader.h"
#include "base/test_paths.h"

namespace anepilot::knowledge {
namespace {

const AneRuleSet& Rules() {
  static const AneRuleSet rules = [] {
    auto r = AneRuleSet::Load(std::string(ANEPILOT_SOURCE_DIR) + "/data/ane_rules.json");
    if (!r.ok()) std::abort();
    return std::move(r).value();
  }();
  return rules;
}

const DeviceCatalog& Catalog() {
  static const DeviceCatalog catalog = [] {
    auto r = DeviceCatalog::Load(std::string(ANEPILOT_SOURCE_DIR) + "/data/devices.json");
    if (!r.ok()) std::abort();
    return std::move(r).value();
  }();
  return catalog;
}

// Findings for every op of every function of `model` on one generation.
std::vector<RuleFinding> EvaluateAll(const ir::Model& model, std::string_view generation) {
  ModelFacts facts = ModelFacts::FromModel(model);
  std::vector<RuleFinding> out;
  for (const ir::Function& fn : model.program.functions) {
    ir::GraphIndex index(fn);
    OpContext ctx{&index, fn.name, &facts};
    for (const ir::Op* op : index.Ops()) Rules().EvaluateInto(*op, ctx, AneGenerationNumber(generation), &out);
  }
  return out;
}

std::vector<const RuleFinding*> WithRule(const std::vector<RuleFinding>& findings, std::string_view id) {
  std::vector<const RuleFinding*> out;
  for (const RuleFinding& f : findings) {
    if (f.rule_id == id) out.push_back(&f);
  }
  return out;
}

std::string GenerationOf(std::string_view identifier) {
  auto r = Catalog().Resolve(identifier);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->exact);
  return Catalog().ChipOf(*r->device).ane_generation;
}

ir::Model Read(const std::string& relative) {
  auto m = ReadModel(testing::CorpusDir() + "/" + relative);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return ir::Model{};
  return std::move(m).value();
}

TEST(KnowledgeCorpusTest, FaceappProblem1CrashesTheAneOfIPhone14) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model model = Read("faceapp-problem1/problem1.mlpackage");
  ASSERT_TRUE(model.has_program());
  std::string gen = GenerationOf("iPhone14,7");
  ASSERT_EQ(gen, "H14");
  auto findings = EvaluateAll(model, gen);
  auto crashes = WithRule(findings, "ANE-ATTN-SCORES-CRASH");
  // The attention blocks over 4096 tokens: fp16[1, 8, 4096, 4096] scores feeding a softmax.
  ASSERT_FALSE(crashes.empty());
  for (const RuleFinding* f : crashes) {
    EXPECT_EQ(f->effect, RuleEffect::kCrash);
    EXPECT_EQ(f->op_type, "matmul");
    EXPECT_NE(f->message.find("fp16[1, 8, 4096, 4096]"), std::string::npos) << f->message;
    EXPECT_NE(f->message.find("(softmax)"), std::string::npos) << f->message;
  }
  // Every softmax over a 4096 x 4096 score tensor has its producing matmul flagged.
  size_t big_softmax = 0;
  const ir::Function& main = model.program.functions.front();
  for (const ir::Op& op : main.body.ops) {
    if (op.type == "softmax" && op.outputs[0].type.tensor.ToString() == "fp16[1, 8, 4096, 4096]") ++big_softmax;
  }
  EXPECT_EQ(crashes.size(), big_softmax);
}

TEST(KnowledgeCorpusTest, FaceappProblem1RunsButCompilesSlowlyOnIPhone16ProMax) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model model = Read("faceapp-problem1/problem1.mlpackage");
  std::string gen = GenerationOf("iPhone17,2");
  ASSERT_EQ(gen, "H17");
  auto findings = EvaluateAll(model, gen);
  EXPECT_TRUE(WithRule(findings, "ANE-ATTN-SCORES-CRASH").empty());
  EXPECT_FALSE(WithRule(findings, "ANE-ATTN-SCORES-SLOW").empty());
  for (const RuleFinding& f : findings) EXPECT_NE(f.effect, RuleEffect::kCrash) << f.message;
}

TEST(KnowledgeCorpusTest, FaceappP3Int8RuntimeWeightTransformIsFound) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model model = Read("faceapp-p3-ct82-int8/problem3_int8.mlpackage");
  ASSERT_TRUE(model.has_program());
  const ir::Function& main = model.program.functions.front();
  ir::GraphIndex index(main);
  // Independently of the rules: which pow ops read a constexpr_affine_dequantize
  // output and feed a conv's weight?
  std::set<std::string> transform_pows, transformed_convs;
  for (const ir::Op* op : index.Ops()) {
    if (op->type != "pow") continue;
    const ir::Op* producer = index.Producer(op->input("x")->name);
    if (producer == nullptr || producer->type != "constexpr_affine_dequantize") continue;
    for (const ir::Op* consumer : index.Consumers(op->outputs[0].name)) {
      if (consumer->type == "conv" && consumer->input("weight")->name == op->outputs[0].name) {
        transform_pows.insert(op->name.str());
        transformed_convs.insert(consumer->name.str());
      }
    }
  }
  ASSERT_GT(transform_pows.size(), 100u);

  for (const char* gen : {"H14", "H17"}) {
    auto findings = EvaluateAll(model, gen);
    std::set<std::string> flagged_pows, flagged_convs;
    for (const RuleFinding* f : WithRule(findings, "ANE-RUNTIME-WEIGHT-TRANSFORM")) {
      EXPECT_EQ(f->effect, RuleEffect::kLeavesAne);
      flagged_pows.insert(f->op_name);
    }
    for (const RuleFinding* f : WithRule(findings, "ANE-CONV-RUNTIME-WEIGHT")) {
      EXPECT_NE(f->message.find("(pow)"), std::string::npos) << f->message;
      flagged_convs.insert(f->op_name);
    }
    EXPECT_EQ(flagged_pows, transform_pows) << gen;
    EXPECT_EQ(flagged_convs, transformed_convs) << gen;
  }
}

TEST(KnowledgeCorpusTest, FaceappP3Fp16HasNoRuntimeWeightTransform) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model model = Read("faceapp-p3-ct82-fp16/problem3_fp16.mlpackage");
  auto findings = EvaluateAll(model, "H17");
  EXPECT_TRUE(WithRule(findings, "ANE-RUNTIME-WEIGHT-TRANSFORM").empty());
  EXPECT_TRUE(WithRule(findings, "ANE-CONV-RUNTIME-WEIGHT").empty());
}

TEST(KnowledgeCorpusTest, ModelLevelFactsOfRealModels) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model custom = Read("hollance-custom-layer/NeuralMcNeuralNet.mlmodel");
  ModelFacts custom_facts = ModelFacts::FromModel(custom);
  EXPECT_TRUE(custom_facts.has_custom_layers);
  EXPECT_FALSE(custom_facts.ml_program);
  auto custom_findings = Rules().EvaluateModel(custom_facts, "H14", Platform::kIos);
  bool found = false;
  for (const RuleFinding& f : custom_findings) found |= f.rule_id == "ANE-CUSTOM-LAYER";
  EXPECT_TRUE(found);

  ir::Model ranged = Read("dtln-aec128-part1/DTLN_AEC_128_Part1.mlpackage");
  ModelFacts ranged_facts = ModelFacts::FromModel(ranged);
  EXPECT_FALSE(ranged_facts.range_flexible_inputs.empty());
  auto ranged_findings = Rules().EvaluateModel(ranged_facts, "H16", Platform::kIos);
  found = false;
  for (const RuleFinding& f : ranged_findings) found |= f.rule_id == "ANE-RANGE-FLEX-INPUT";
  EXPECT_TRUE(found);
  // Its LSTM is a while_loop: control flow leaves the ANE.
  EXPECT_FALSE(WithRule(EvaluateAll(ranged, "H16"), "ANE-CONTROL-FLOW").empty());
}

// EvaluateAllGenerations, filtered per generation, gives what EvaluateInto gives.
TEST(KnowledgeCorpusTest, EvaluatingAllGenerationsAtOnceMatchesPerGeneration) {
  ANEPILOT_REQUIRE_SHARED();
  for (const char* path : {"faceapp-problem1/problem1.mlpackage", "faceapp-p3-ct82-int8/problem3_int8.mlpackage",
                           "dtln-aec128-part1/DTLN_AEC_128_Part1.mlpackage"}) {
    ir::Model model = Read(path);
    ModelFacts facts = ModelFacts::FromModel(model);
    const ir::Function& fn = model.program.functions.front();
    ir::GraphIndex index(fn);
    OpContext ctx{&index, fn.name, &facts};
    size_t compared = 0;
    for (const ir::Op* op : index.Ops()) {
      std::vector<RuleFinding> once;
      Rules().EvaluateAllGenerations(*op, ctx, &once);
      for (const std::string& g : Catalog().AneGenerations()) {
        int gen = AneGenerationNumber(g);
        std::vector<RuleFinding> per;
        Rules().EvaluateInto(*op, ctx, gen, &per);
        std::vector<std::string> a, b;
        for (const RuleFinding& f : once) if (f.AppliesTo(gen)) a.push_back(f.rule_id + " " + f.message);
        for (const RuleFinding& f : per) b.push_back(f.rule_id + " " + f.message);
        EXPECT_EQ(a, b) << path << " " << op->name << " " << g;
        compared += b.size();
      }
    }
    EXPECT_GT(compared, 0u) << path;
  }
}

// Every model of the corpus that the reader accepts can be evaluated for every
// generation and platform; every finding cites a rule of the file and names its op.
TEST(KnowledgeCorpusTest, WholeCorpusEvaluatesForEveryGeneration) {
  ANEPILOT_REQUIRE_SHARED();
  std::ifstream index(testing::CorpusDir() + "/INDEX.csv");
  std::string line;
  std::getline(index, line);  // header
  size_t models = 0;
  while (std::getline(index, line)) {
    std::string folder = line.substr(0, line.find(','));
    std::filesystem::path dir = std::filesystem::path(testing::CorpusDir()) / folder;
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      auto model = ReadModel(entry.path().string());
      if (!model.ok()) continue;  // the reader's own tests cover what it rejects
      ++models;
      ModelFacts facts = ModelFacts::FromModel(*model);
      for (const std::string& gen : Catalog().AneGenerations()) {
        for (const RuleFinding& f : EvaluateAll(*model, gen)) {
          ASSERT_NE(Rules().FindRule(f.rule_id), nullptr) << f.rule_id;
          EXPECT_NE(f.message.find(f.op_name), std::string::npos) << f.message;
          EXPECT_FALSE(f.evidence.empty());
        }
        for (Platform p : {Platform::kIos, Platform::kMacos}) {
          for (const RuleFinding& f : Rules().EvaluateModel(facts, gen, p)) {
            ASSERT_NE(Rules().FindRule(f.rule_id), nullptr) << f.rule_id;
            EXPECT_TRUE(Rules().FindRule(f.rule_id)->model_scope);
          }
        }
      }
    }
  }
  EXPECT_GT(models, 30u);
}

}  // namespace
}  // namespace anepilot::knowledge
