// Feature types and NeuralNetwork weight encodings the corpus's .mlmodel
// files do not exercise (enumerated shapes, fp16 grayscale images,
// sequences, quantized weights), on messages built with the project's schema.
#include <gtest/gtest.h>

#include "format/mlmodel_features.h"
#include "format/mlmodel_spec.h"
#include "proto/Model.pb.h"

namespace anepilot::format {
namespace {

namespace spec = CoreML::Specification;

TEST(FeatureTypeTest, EnumeratedImageSizesAreHeightWidth) {
  spec::FeatureType t;
  auto* image = t.mutable_imagetype();
  image->set_width(640);
  image->set_height(480);
  image->set_colorspace(spec::ImageFeatureType::GRAYSCALE_FLOAT16);
  auto* size = image->mutable_enumeratedsizes()->add_sizes();
  size->set_width(320);
  size->set_height(240);
  size = image->mutable_enumeratedsizes()->add_sizes();
  size->set_width(640);
  size->set_height(480);
  ir::FeatureType f = FeatureTypeToIr(t);
  EXPECT_EQ(f.kind, ir::FeatureType::Kind::kImage);
  EXPECT_EQ(f.color_space, "GRAYSCALE_FLOAT16");
  EXPECT_EQ(f.array.dtype, ir::DType::kFloat16);
  EXPECT_EQ(f.array.shape, (std::vector<ir::Dim>{ir::Dim::Known(480), ir::Dim::Known(640)}));
  ASSERT_EQ(f.flexibility.kind, ir::Flexibility::Kind::kEnumerated);
  EXPECT_EQ(f.flexibility.enumerated,
            (std::vector<std::vector<int64_t>>{{240, 320}, {480, 640}}));
}

TEST(FeatureTypeTest, EnumeratedArrayShapesAndOptional) {
  spec::FeatureType t;
  t.set_isoptional(true);
  auto* array = t.mutable_multiarraytype();
  array->set_datatype(spec::ArrayFeatureType::INT32);
  for (int d : {1, 3, 64}) array->add_shape(d);
  for (int n : {64, 128}) {
    auto* s = array->mutable_enumeratedshapes()->add_shapes();
    for (int d : {1, 3, n}) s->add_shape(d);
  }
  ir::FeatureType f = FeatureTypeToIr(t);
  EXPECT_TRUE(f.optional);
  EXPECT_EQ(f.array.ToString(), "int32[1, 3, 64]");
  ASSERT_EQ(f.flexibility.kind, ir::Flexibility::Kind::kEnumerated);
  EXPECT_EQ(f.flexibility.enumerated, (std::vector<std::vector<int64_t>>{{1, 3, 64}, {1, 3, 128}}));
}

TEST(FeatureTypeTest, SequencesDictionariesAndScalars) {
  spec::FeatureType seq;
  seq.mutable_sequencetype()->mutable_stringtype();
  seq.mutable_sequencetype()->mutable_sizerange()->set_lowerbound(1);
  seq.mutable_sequencetype()->mutable_sizerange()->set_upperbound(-1);
  ir::FeatureType f = FeatureTypeToIr(seq);
  EXPECT_EQ(f.kind, ir::FeatureType::Kind::kSequence);
  EXPECT_EQ(f.key_or_element, ir::FeatureType::Kind::kString);
  ASSERT_EQ(f.flexibility.ranges.size(), 1u);
  EXPECT_EQ(f.flexibility.ranges[0].upper, -1);

  spec::FeatureType dict;
  dict.mutable_dictionarytype()->mutable_int64keytype();
  EXPECT_EQ(FeatureTypeToIr(dict).key_or_element, ir::FeatureType::Kind::kInt64);
  spec::FeatureType none;
  EXPECT_EQ(FeatureTypeToIr(none).kind, ir::FeatureType::Kind::kUnknown);
}

// A one-layer network whose innerProduct weights are 4-bit palettized.
TEST(NeuralNetworkWeightsTest, QuantizedWeightsKeepBitWidthAndScheme) {
  spec::Model m;
  m.set_specificationversion(3);
  auto* in = m.mutable_description()->add_input();
  in->set_name("x");
  in->mutable_type()->mutable_multiarraytype()->add_shape(8);
  auto* layer = m.mutable_neuralnetwork()->add_layers();
  layer->set_name("fc");
  layer->add_input("x");
  layer->add_output("y");
  auto* ip = layer->mutable_innerproduct();
  ip->set_inputchannels(8);
  ip->set_outputchannels(4);
  auto* w = ip->mutable_weights();
  w->set_rawvalue(std::string(16, '\x11'));  // 32 weights x 4 bits
  w->mutable_quantization()->set_numberofbits(4);
  for (int i = 0; i < 16; ++i) w->mutable_quantization()->mutable_lookuptablequantization()->add_floatvalue(i);

  auto r = ParseModelSpec(m.SerializeAsString(), "lut.mlmodel");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ir::Op& op = r->program.functions.at(0).body.ops.at(0);
  EXPECT_EQ(op.type, "innerProduct");
  const ir::Constant* weights = op.attribute("weights");
  ASSERT_NE(weights, nullptr);
  EXPECT_EQ(weights->type.ToString(), "uint4[32]");
  EXPECT_EQ(weights->byte_size, 16u);
  ASSERT_NE(op.attribute("weights.quantization"), nullptr);
  EXPECT_EQ(op.attribute("weights.quantization")->strings.at(0), "lookup_table 4-bit");
  EXPECT_EQ(op.outputs.at(0).type.ToString(), "fp32[4, 1, 1]");
  EXPECT_EQ(r->weights.inline_bytes, 16u);
}

}  // namespace
}  // namespace anepilot::format
