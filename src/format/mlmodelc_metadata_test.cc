#include "format/mlmodelc_metadata.h"

#include <gtest/gtest.h>

namespace anepilot::format {
namespace {

TEST(CompiledMetadata, ImageAndFlexibleArrayFeatures) {
  ir::Model m;
  Status s = ApplyCompiledMetadata(R"json([{
    "specificationVersion": 8,
    "modelType": {"name": "MLModelType_pipelineClassifier"},
    "isUpdatable": "1",
    "inputSchema": [
      {"name": "image", "type": "Image", "formattedType": "Image (Color 320 × 240)",
       "isOptional": "0", "hasShapeFlexibility": "0", "shortDescription": "a photo"},
      {"name": "mask", "type": "MultiArray", "dataType": "Float32", "shape": "[1, 3, 8]",
       "isOptional": "1", "hasShapeFlexibility": "1", "shapeRange": "[[1, 1], [3, 3], [1, -1]]"}],
    "outputSchema": [{"name": "label", "type": "String"},
                     {"name": "odd", "type": "Hologram"}],
    "stateSchema": [{"name": "kv", "type": "State", "dataType": "Float16", "shape": "[1, 4]"}],
    "userDefinedMetadata": {"k": "v", "n": 3},
    "shortDescription": "demo", "author": "me"
  }])json", "metadata.json", &m);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(m.spec_version, 8);
  EXPECT_EQ(m.kind, "pipelineClassifier");
  EXPECT_TRUE(m.is_updatable);
  ASSERT_EQ(m.inputs.size(), 2u);
  const ir::FeatureType& image = m.inputs[0].type;
  EXPECT_EQ(image.kind, ir::FeatureType::Kind::kImage);
  EXPECT_EQ(image.color_space, "Color");
  EXPECT_EQ(image.array.shape, (std::vector<ir::Dim>{ir::Dim::Known(240), ir::Dim::Known(320)}));
  EXPECT_EQ(m.inputs[0].description, "a photo");
  const ir::FeatureType& mask = m.inputs[1].type;
  EXPECT_TRUE(mask.optional);
  EXPECT_EQ(mask.array.ToString(), "fp32[1, 3, 8]");
  ASSERT_EQ(mask.flexibility.ranges.size(), 3u);
  EXPECT_EQ(mask.flexibility.ranges[2].lower, 1);
  EXPECT_EQ(mask.flexibility.ranges[2].upper, -1);
  EXPECT_EQ(m.outputs[0].type.kind, ir::FeatureType::Kind::kString);
  EXPECT_EQ(m.outputs[1].type.kind, ir::FeatureType::Kind::kUnknown);
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_EQ(m.warnings[0], "metadata.json: feature 'odd' has type 'Hologram', not read");
  ASSERT_EQ(m.states.size(), 1u);
  EXPECT_EQ(m.states[0].type.kind, ir::FeatureType::Kind::kState);
  EXPECT_EQ(m.metadata.user_defined.at("n"), "3");
  EXPECT_EQ(m.metadata.author, "me");
}

TEST(CompiledMetadata, MalformedInputsAreErrorsOrWarnings) {
  ir::Model m;
  Status bad_json = ApplyCompiledMetadata("[{\"a\": }]", "metadata.json", &m);
  EXPECT_EQ(bad_json.code(), StatusCode::kParseError);
  EXPECT_EQ(bad_json.message().rfind("metadata.json:1:8: malformed JSON", 0), 0u) << bad_json.message();

  Status not_object = ApplyCompiledMetadata("[1, 2]", "metadata.json", &m);
  EXPECT_EQ(not_object.code(), StatusCode::kCorruptModel);

  ir::Model odd;
  Status shape = ApplyCompiledMetadata(
      R"({"inputSchema": [{"name": "x", "type": "MultiArray", "shape": "[a, b]"}]})", "metadata.json", &odd);
  ASSERT_TRUE(shape.ok());
  ASSERT_EQ(odd.warnings.size(), 1u);
  EXPECT_EQ(odd.warnings[0], "metadata.json: feature 'x' has shape \"[a, b]\", not a list of integers");
}

}  // namespace
}  // namespace anepilot::format
