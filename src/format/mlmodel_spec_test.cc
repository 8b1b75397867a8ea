// ParseModelSpec on pipelines, classic model types and bad input. Expected
// values come from coremltools' protobuf bindings reading the same files.
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "format/mlmodel_test_util.h"
#include "proto/Model.pb.h"

namespace anepilot::format {
namespace {

using testing::CorpusFile;
using testing::ParseCorpusModel;

TEST(ModelSpecTest, CreateMlImageClassifierPipeline) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("createmlpg-dogcat/DogCatClassifier.mlmodel");
  EXPECT_EQ(m.kind, "pipelineClassifier");
  EXPECT_EQ(m.spec_version, 3);
  EXPECT_EQ(m.metadata.author, "Krishna Kumar");
  EXPECT_EQ(m.metadata.user_defined["com.apple.createml.version"], "11.0.1");
  ASSERT_EQ(m.inputs.size(), 1u);
  const ir::FeatureType& image = m.inputs[0].type;
  EXPECT_EQ(image.kind, ir::FeatureType::Kind::kImage);
  EXPECT_EQ(image.color_space, "BGR");
  ASSERT_EQ(image.flexibility.kind, ir::Flexibility::Kind::kRange);
  ASSERT_EQ(image.flexibility.ranges.size(), 2u);
  EXPECT_EQ(image.flexibility.ranges[0].lower, 299);  // height
  EXPECT_EQ(image.flexibility.ranges[0].upper, -1);   // unbounded
  EXPECT_EQ(image.flexibility.ranges[1].lower, 299);  // width

  ASSERT_EQ(m.stages.size(), 2u);
  EXPECT_EQ(m.stages[0].kind, "visionFeaturePrint");
  EXPECT_EQ(m.stages[0].outputs.at(0).name, "sceneprint");
  EXPECT_EQ(m.stages[1].kind, "glmClassifier");
  EXPECT_EQ(m.stages[1].spec_version, 1);
  EXPECT_EQ(m.stages[1].class_labels, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(m.class_labels, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_FALSE(m.has_program());
}

TEST(ModelSpecTest, ChestXrayPipelineSpec1) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("createmlpg-chestxray/ChestXrayPneumoniaClassifier.mlmodel");
  EXPECT_EQ(m.kind, "pipelineClassifier");
  EXPECT_EQ(m.spec_version, 1);
  EXPECT_EQ(m.metadata.license, "Unspecified");
  ASSERT_EQ(m.stages.size(), 2u);
  EXPECT_EQ(m.stages[0].kind, "visionFeaturePrint");
  EXPECT_EQ(m.stages[1].kind, "glmClassifier");
}

TEST(ModelSpecTest, TabularTreeEnsemblePipelines) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("shenfu-treeensemble-onehot/ML.mlmodel");
  EXPECT_EQ(m.kind, "pipelineClassifier");
  ASSERT_EQ(m.inputs.size(), 11u);
  EXPECT_EQ(m.inputs[0].name, "redGreen");
  EXPECT_EQ(m.inputs[0].type.kind, ir::FeatureType::Kind::kString);
  EXPECT_EQ(m.inputs[1].type.kind, ir::FeatureType::Kind::kDouble);
  ASSERT_EQ(m.outputs.size(), 2u);
  EXPECT_EQ(m.outputs[0].type.kind, ir::FeatureType::Kind::kInt64);
  EXPECT_EQ(m.outputs[1].type.kind, ir::FeatureType::Kind::kDictionary);
  EXPECT_EQ(m.outputs[1].type.key_or_element, ir::FeatureType::Kind::kInt64);
  ASSERT_EQ(m.stages.size(), 3u);
  EXPECT_EQ(m.stages[0].kind, "oneHotEncoder");
  EXPECT_EQ(m.stages[1].kind, "featureVectorizer");
  EXPECT_EQ(m.stages[1].outputs.at(0).name, "__vectorized_features__");
  EXPECT_EQ(m.stages[2].kind, "treeEnsembleClassifier");
  EXPECT_EQ(m.class_labels, (std::vector<std::string>{"-1", "0", "1", "2", "3", "4"}));

  ir::Model n = ParseCorpusModel("shenfu-treeensemble-1n/1n.mlmodel");
  ASSERT_EQ(n.stages.size(), 2u);
  EXPECT_EQ(n.stages[0].kind, "featureVectorizer");
  EXPECT_EQ(n.stages[1].kind, "treeEnsembleClassifier");
  EXPECT_EQ(n.inputs.size(), 10u);
  EXPECT_EQ(n.metadata.user_defined["com.apple.coreml.model.preview.type"], "tabularClassifier");
}

TEST(ModelSpecTest, TreeEnsembleRegressor) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("improveai-root-model/model.mlmodel");
  EXPECT_EQ(m.kind, "treeEnsembleRegressor");
  EXPECT_EQ(m.spec_version, 1);
  ASSERT_EQ(m.inputs.size(), 32u);
  EXPECT_EQ(m.inputs[31].name, "f31");
  ASSERT_EQ(m.outputs.size(), 1u);
  EXPECT_EQ(m.outputs[0].name, "target");
  EXPECT_EQ(m.outputs[0].type.kind, ir::FeatureType::Kind::kDouble);
  EXPECT_FALSE(m.has_program());
  EXPECT_TRUE(m.stages.empty());
}

TEST(ModelSpecTest, TextClassifiers) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("rulesapple-textclassifier/sample.mlmodel");
  EXPECT_EQ(m.kind, "textClassifier");
  EXPECT_EQ(m.spec_version, 3);
  EXPECT_EQ(m.class_labels, (std::vector<std::string>{"true", "false"}));
  EXPECT_EQ(m.metadata.author, "Bazel Rules Authors");
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].type.kind, ir::FeatureType::Kind::kString);

  ir::Model s = ParseCorpusModel("createmlpg-sentiment/movie-review-sentiment.mlmodel");
  EXPECT_EQ(s.kind, "textClassifier");
  EXPECT_EQ(s.class_labels, std::vector<std::string>{"positive"});
}

TEST(ModelSpecTest, EveryCorpusMlmodelReads) {
  ANEPILOT_REQUIRE_SHARED();
  int read = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(::anepilot::testing::CorpusDir())) {
    if (!entry.is_regular_file() || entry.path().extension() != ".mlmodel") continue;
    auto bytes = ReadFileToString(entry.path().string());
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto model = ParseModelSpec(*bytes, entry.path().string());
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    if (model.ok()) {
      EXPECT_FALSE(model->kind.empty()) << entry.path();
    }
    ++read;
  }
  EXPECT_GE(read, 30);
}

// ----------------------------------------------------------- bad input ----

TEST(ModelSpecTest, EmptyInputIsCorrupt) {
  auto r = ParseModelSpec("", "empty.mlmodel");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptModel);
  EXPECT_EQ(r.status().message().rfind("empty.mlmodel: ", 0), 0u) << r.status().message();
}

TEST(ModelSpecTest, TruncatedModelIsTruncatedAndNamesTheFileAndOffset) {
  ANEPILOT_REQUIRE_SHARED();
  std::string path = CorpusFile("faceapp-problem1/problem1.mlpackage/Data/com.apple.CoreML/model.mlmodel");
  auto bytes = ReadFileToString(path);
  ASSERT_TRUE(bytes.ok());
  for (size_t keep : {bytes->size() / 2, bytes->size() - 1, size_t{1000}, size_t{3}}) {
    auto r = ParseModelSpec(std::string_view(*bytes).substr(0, keep), path);
    ASSERT_FALSE(r.ok()) << keep;
    EXPECT_EQ(r.status().code(), StatusCode::kTruncatedModel) << keep << ": " << r.status().ToString();
    EXPECT_EQ(r.status().message().rfind(path + ": the model file is truncated", 0), 0u)
        << r.status().message();
    EXPECT_NE(r.status().message().find(fmt::format("(the file has {} bytes)", keep)), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("export the model again"), std::string::npos);
  }
}

TEST(ModelSpecTest, RandomBytesNeverParseAsAModel) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(1 + rng() % 2048, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    auto r = ParseModelSpec(bytes, "random.bin");
    ASSERT_FALSE(r.ok()) << "iteration " << i;
    EXPECT_TRUE(r.status().code() == StatusCode::kCorruptModel ||
                r.status().code() == StatusCode::kUnsupported)
        << r.status().ToString();
    EXPECT_EQ(r.status().message().rfind("random.bin: ", 0), 0u) << r.status().message();
  }
}

TEST(ModelSpecTest, SpecWithoutModelTypeIsRefusedClearly) {
  CoreML::Specification::Model spec;
  spec.set_specificationversion(5);
  spec.mutable_description()->add_input()->set_name("x");
  auto r = ParseModelSpec(spec.SerializeAsString(), "notype.mlmodel");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("sets no model type"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("version 5"), std::string::npos) << r.status().message();
}

// Wraps `inner` as field `field` (length-delimited) of a message.
std::string Wrap(int field, const std::string& inner) {
  std::string out;
  uint64_t tag = (static_cast<uint64_t>(field) << 3) | 2;
  for (uint64_t v : {tag, static_cast<uint64_t>(inner.size())}) {
    while (v >= 0x80) { out.push_back(static_cast<char>(v | 0x80)); v >>= 7; }
    out.push_back(static_cast<char>(v));
  }
  return out + inner;
}

// Model{pipeline: Pipeline{models: [Model{pipeline: ...}]}} nested `depth` times.
std::string NestedPipelines(int depth) {
  std::string model = "\x08\x01";  // specificationVersion = 1, no type
  for (int i = 0; i < depth; ++i) model = Wrap(202, Wrap(1, model));
  return model;
}

TEST(ModelSpecTest, ReasonablyNestedPipelinesRead) {
  auto r = ParseModelSpec(NestedPipelines(30), "nested.mlmodel");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int depth = 0;
  const ir::Model* m = &*r;
  while (!m->stages.empty()) { m = &m->stages[0]; ++depth; }
  EXPECT_EQ(depth, 30);
}

TEST(ModelSpecTest, HostileNestingIsRefusedWithoutBlowingTheStack) {
  auto r = ParseModelSpec(NestedPipelines(2000), "deep.mlmodel");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptModel);

  // ML Program blocks nested through operations: Operation.blocks (4) ->
  // Block.operations (3) -> ...
  std::string block;
  for (int i = 0; i < 2000; ++i) block = Wrap(3, Wrap(4, block));
  std::string program = Wrap(2, Wrap(2, Wrap(3, Wrap(2, block))));  // functions -> value -> specializations -> value
  auto p = ParseModelSpec(Wrap(502, program), "deep-program.mlmodel");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kCorruptModel);
}

}  // namespace
}  // namespace anepilot::format
