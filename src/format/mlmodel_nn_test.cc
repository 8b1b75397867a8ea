// NeuralNetwork models read into the IR: layers as ops of "main", weights,
// custom layers, updatable networks, and derived output shapes. Expected
// values come from coremltools' protobuf bindings reading the same files and,
// for shapes, from the output shapes the models themselves declare.
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "format/mlmodel_test_util.h"
#include "format/nn_shapes.h"

namespace anepilot::format {
namespace {

using testing::FindOp;
using testing::FindOpOfType;
using testing::ParseCorpusModel;

std::vector<ir::Dim> Dims(std::initializer_list<int64_t> d) {
  std::vector<ir::Dim> out;
  for (int64_t v : d) out.push_back(ir::Dim::Known(v));
  return out;
}

// The op producing `value` in main.
const ir::Op* Producer(const ir::Model& m, const std::string& value) {
  for (const auto& op : m.program.functions.at(0).body.ops) {
    for (const auto& o : op.outputs) {
      if (o.name == value) return &op;
    }
  }
  return nullptr;
}

std::map<std::string, int> Histogram(const ir::Function& fn) {
  std::map<std::string, int> h;
  for (const auto& op : fn.body.ops) h[op.type.str()]++;
  return h;
}

TEST(NeuralNetworkTest, FindFourSpec1LayersAndWeights) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("cardscan-findfour-spec1/FindFour.mlmodel");
  EXPECT_EQ(m.kind, "neuralNetwork");
  EXPECT_EQ(m.spec_version, 1);
  ASSERT_EQ(m.program.functions.size(), 1u);
  const ir::Function& fn = m.program.functions[0];
  EXPECT_EQ(fn.name, "main");
  EXPECT_TRUE(fn.opset.empty());
  auto h = Histogram(fn);
  EXPECT_EQ(h["preprocessing.scaler"], 1);
  EXPECT_EQ(fn.body.ops.size(), 135u + 1u);  // layers + the image scaler
  EXPECT_EQ(h["activation"], 63);
  EXPECT_EQ(h["convolution"], 26);
  EXPECT_EQ(h["batchnorm"], 21);
  EXPECT_EQ(h["unary"], 21);
  EXPECT_EQ(h["padding"], 3);
  EXPECT_EQ(h["softmax"], 1);

  const ir::Op* conv1 = FindOp(fn, "conv1");
  ASSERT_NE(conv1, nullptr);
  EXPECT_EQ(conv1->type, "convolution");
  ASSERT_NE(conv1->input("inputs"), nullptr);
  EXPECT_EQ(conv1->input("inputs")->name, "conv1_pad_output");
  ASSERT_EQ(conv1->outputs.size(), 1u);
  EXPECT_EQ(conv1->outputs[0].name, "conv1_output");
  const ir::Constant* w = conv1->attribute("weights");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->type.tensor.dtype, ir::DType::kFloat32);
  EXPECT_GT(w->byte_size, 0u);
  EXPECT_GT(m.weights.inline_bytes, 3'000'000u);  // a 3.6 MB fp32 file is nearly all weights
  EXPECT_LT(m.weights.inline_bytes, 3'654'137u);
}

TEST(NeuralNetworkTest, FindFourDerivedOutputMatchesDeclaredShape) {
  ANEPILOT_REQUIRE_SHARED();
  for (const char* file : {"cardscan-findfour-spec1/FindFour.mlmodel", "cardscan-findfour-fp16/FindFour.mlmodel"}) {
    ir::Model m = ParseCorpusModel(file);
    ASSERT_EQ(m.outputs.size(), 1u) << file;
    // The description declares output1 as [3, 34, 51]; the layers, starting
    // from the 302x480 RGB image, must arrive at the same shape.
    EXPECT_EQ(m.outputs[0].type.array.shape, Dims({3, 34, 51})) << file;
    const ir::Op* last = Producer(m, "output1");
    ASSERT_NE(last, nullptr) << file;
    EXPECT_EQ(last->outputs[0].type.tensor.shape, Dims({3, 34, 51})) << file;
    EXPECT_EQ(m.program.functions[0].inputs[0].type.tensor.shape, Dims({3, 302, 480})) << file;
  }
}

TEST(NeuralNetworkTest, FindFourFp16WeightsAreHalfTheSize) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model fp32 = ParseCorpusModel("cardscan-findfour-spec1/FindFour.mlmodel");
  ir::Model fp16 = ParseCorpusModel("cardscan-findfour-fp16/FindFour.mlmodel");
  EXPECT_EQ(fp16.spec_version, 2);
  const ir::Op* a = FindOp(fp32.program.functions[0], "conv1");
  const ir::Op* b = FindOp(fp16.program.functions[0], "conv1");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(b->attribute("weights")->type.tensor.dtype, ir::DType::kFloat16);
  EXPECT_EQ(a->attribute("weights")->byte_size, 2 * b->attribute("weights")->byte_size);
  EXPECT_EQ(a->attribute("weights")->type.tensor.shape, b->attribute("weights")->type.tensor.shape);
  EXPECT_EQ(fp32.weights.inline_bytes, 2 * fp16.weights.inline_bytes);
}

TEST(NeuralNetworkTest, MnistClassifierLabelsAndShapes) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("mnistclassifier-apple/MNISTClassifier.mlmodel");
  EXPECT_EQ(m.kind, "neuralNetworkClassifier");
  EXPECT_EQ(m.metadata.author, "Apple");
  EXPECT_EQ(m.metadata.license, "BSD-3");
  ASSERT_EQ(m.class_labels.size(), 10u);
  EXPECT_EQ(m.class_labels.front(), "0");
  EXPECT_EQ(m.class_labels.back(), "9");
  EXPECT_EQ(m.predicted_feature_name, "classLabel");
  EXPECT_EQ(m.predicted_probabilities_name, "output");
  ASSERT_EQ(m.outputs.size(), 2u);
  EXPECT_EQ(m.outputs[0].type.kind, ir::FeatureType::Kind::kDictionary);
  EXPECT_EQ(m.outputs[0].type.key_or_element, ir::FeatureType::Kind::kString);
  EXPECT_EQ(m.outputs[1].type.kind, ir::FeatureType::Kind::kString);
  const ir::Function& fn = m.program.functions[0];
  EXPECT_EQ(fn.inputs[0].type.tensor.shape, Dims({1, 28, 28}));  // grayscale CHW
  // The last layer is the softmax over the 10 classes.
  const ir::Op& last = fn.body.ops.back();
  EXPECT_EQ(last.type, "softmax");
  EXPECT_EQ(last.outputs[0].type.tensor.shape, Dims({10, 1, 1}));
}

TEST(NeuralNetworkTest, ActivationKindIsAnAttribute) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("coremlit-identity/identity.mlmodel");
  ASSERT_EQ(m.program.functions.size(), 1u);
  ASSERT_EQ(m.program.functions[0].body.ops.size(), 1u);
  const ir::Op& op = m.program.functions[0].body.ops[0];
  EXPECT_EQ(op.type, "activation");
  EXPECT_EQ(op.name, "identity");
  ASSERT_NE(op.attribute("activation"), nullptr);
  EXPECT_EQ(op.attribute("activation")->strings, std::vector<InlineString>{"linear"});
  EXPECT_EQ(op.outputs[0].name, "y");
  EXPECT_EQ(op.outputs[0].type.tensor.shape, Dims({2, 1, 1}));
}

TEST(NeuralNetworkTest, KerasMlpInnerProductChain) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("swiftbrain-mnist-keras-mlp/mnist_model.mlmodel");
  const ir::Function& fn = m.program.functions[0];
  EXPECT_EQ(fn.body.ops.size(), 6u);
  EXPECT_EQ(fn.inputs[0].type.tensor.shape, Dims({784, 1, 1}));
  const ir::Op* dense1 = FindOp(fn, "dense_1");
  ASSERT_NE(dense1, nullptr);
  EXPECT_EQ(dense1->attribute("input_channels")->numbers, std::vector<double>{784});
  int64_t out_channels = static_cast<int64_t>(dense1->attribute("output_channels")->numbers.at(0));
  EXPECT_EQ(dense1->outputs[0].type.tensor.shape, Dims({out_channels, 1, 1}));
  EXPECT_EQ(dense1->attribute("weights")->byte_size, 784u * out_channels * 4);
  EXPECT_EQ(fn.body.ops.back().outputs[0].type.tensor.shape, Dims({10, 1, 1}));
}

TEST(NeuralNetworkTest, SwiftBrainMnistImageConvPoolFlatten) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("swiftbrain-mnist-image/MNIST.mlmodel");
  const ir::Function& fn = m.program.functions[0];
  EXPECT_EQ(Histogram(fn)["convolution"], 2);
  const ir::Op* flatten = FindOpOfType(fn, "flatten");
  ASSERT_NE(flatten, nullptr);
  ASSERT_TRUE(flatten->outputs[0].type.tensor.fully_known());
  // Declared output: [10].
  EXPECT_EQ(fn.body.ops.back().outputs[0].type.tensor.shape, Dims({10, 1, 1}));
}

TEST(NeuralNetworkTest, EdsrNdLayersDeriveTheDeclaredOutput) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("mlperf-edsr-sr/edsr_f32b5_fp32.mlmodel");
  EXPECT_EQ(m.spec_version, 4);
  const ir::Function& fn = m.program.functions[0];
  EXPECT_EQ(fn.body.ops.size(), 31u);
  auto h = Histogram(fn);
  EXPECT_EQ(h["loadConstantND"], 2);
  EXPECT_EQ(h["reorganizeData"], 1);
  EXPECT_EQ(h["minBroadcastable"], 1);
  EXPECT_EQ(fn.inputs[0].type.tensor.shape, Dims({1, 540, 960, 3}));  // exact array mapping
  const ir::Op* first_conv = FindOpOfType(fn, "convolution");
  ASSERT_NE(first_conv, nullptr);
  EXPECT_EQ(first_conv->outputs[0].type.tensor.shape, Dims({1, 32, 540, 960}));
  const ir::Op* d2s = FindOpOfType(fn, "reorganizeData");
  EXPECT_EQ(d2s->outputs[0].type.tensor.shape, Dims({1, 3, 1080, 1920}));
  // Declared model output: [1, 1080, 1920, 3].
  const ir::Op* last = Producer(m, "Identity");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->outputs[0].type.tensor.shape, Dims({1, 1080, 1920, 3}));
  EXPECT_EQ(m.metadata.user_defined["com.github.apple.coremltools.version"], "6.0b1");
}

TEST(NeuralNetworkTest, CustomLayersAreRecorded) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model hollance = ParseCorpusModel("hollance-custom-layer/NeuralMcNeuralNet.mlmodel");
  ASSERT_EQ(hollance.custom_layers.size(), 1u);
  const ir::Op* swish = FindOp(hollance.program.functions[0], "swish_1");
  ASSERT_NE(swish, nullptr);
  EXPECT_EQ(swish->type, "custom");
  ASSERT_NE(swish->attribute("class_name"), nullptr);
  EXPECT_EQ(swish->attribute("class_name")->strings.at(0), hollance.custom_layers[0]);
  EXPECT_EQ(hollance.metadata.author, "AuthorMcAuthorName");

  ir::Model lstsq = ParseCorpusModel("lstsq-custom-lstsq/test-model.mlmodel");
  EXPECT_EQ(lstsq.custom_layers, std::vector<std::string>{"dneprDroid_lstsq"});
  const ir::Op* custom = FindOpOfType(lstsq.program.functions[0], "custom");
  ASSERT_NE(custom, nullptr);
  EXPECT_EQ(custom->outputs.size(), 4u);
  ASSERT_EQ(custom->inputs.size(), 1u);
  EXPECT_EQ(custom->inputs[0].bindings.size(), 2u);
  EXPECT_EQ(lstsq.inputs[0].type.flexibility.kind, ir::Flexibility::Kind::kRange);
}

TEST(NeuralNetworkTest, UpdatableNetworkAndTrainingInputs) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("s4tf-updatable-nn/s4tf_model_personalization.mlmodel");
  EXPECT_TRUE(m.is_updatable);
  ASSERT_EQ(m.training_inputs.size(), 2u);
  EXPECT_EQ(m.training_inputs[0].name, "dense_input");
  EXPECT_EQ(m.training_inputs[1].name, "output_true");
  EXPECT_EQ(m.metadata.author, "Jacopo Mangiavacchi");
  EXPECT_EQ(m.metadata.user_defined["coremltoolsVersion"], "3.1");
  const ir::Op* dense = FindOp(m.program.functions[0], "dense_1");
  ASSERT_NE(dense, nullptr);
  EXPECT_NE(dense->attribute("updatable"), nullptr);
}

TEST(NeuralNetworkTest, BatchedMatmulWithInlineWeights) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel("s4tf-keras-batchedmatmul/keras_model.mlmodel");
  const ir::Op* mm = FindOp(m.program.functions[0], "Identity");
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->type, "batchedMatmul");
  EXPECT_NE(mm->attribute("weights"), nullptr);
  EXPECT_TRUE(mm->outputs[0].type.tensor.rank_known);
}

// The documented rule list (docs/ir.md) is exactly the set of layer types
// that derive a shape for a plain [3, 8, 8] input.
TEST(NeuralNetworkTest, ShapeRuleListMatchesTheDerivation) {
  namespace spec = CoreML::Specification;
  const auto* oneof = spec::NeuralNetworkLayer::descriptor()->FindOneofByName("layer");
  ASSERT_NE(oneof, nullptr);
  std::set<std::string> derived;
  for (int i = 0; i < oneof->field_count(); ++i) {
    const auto* field = oneof->field(i);
    spec::NeuralNetworkLayer layer;
    layer.add_input("x");
    layer.add_output("y");
    // Select the oneof member with default parameters...
    layer.GetReflection()->MutableMessage(&layer, field);
    // ...and give the layers whose rule needs parameters valid ones.
    if (layer.has_reshape()) for (int d : {3, 8, 8}) layer.mutable_reshape()->add_targetshape(d);
    if (layer.has_permute()) for (int a : {0, 1, 2, 3}) layer.mutable_permute()->add_axis(a);
    if (layer.has_transpose()) for (int a : {0, 1, 2}) layer.mutable_transpose()->add_axes(a);
    if (layer.has_reorganizedata()) layer.mutable_reorganizedata()->set_blocksize(1);
    if (layer.has_loadconstant()) for (int d : {1, 2, 3}) layer.mutable_loadconstant()->add_shape(d);
    if (layer.has_loadconstantnd()) layer.mutable_loadconstantnd()->add_shape(2);
    auto out = DeriveNnLayerShapes(layer, {NnShape(std::vector<int64_t>{3, 8, 8})});
    ASSERT_EQ(out.size(), 1u) << field->name();
    if (out[0].has_value()) derived.insert(field->name());
  }
  std::set<std::string> documented(NnLayersWithShapeRules().begin(), NnLayersWithShapeRules().end());
  EXPECT_EQ(derived, documented);
  EXPECT_EQ(documented.size(), NnLayersWithShapeRules().size()) << "duplicates in the rule list";
}

TEST(NeuralNetworkTest, ConvolutionAndPoolingArithmetic) {
  namespace spec = CoreML::Specification;
  spec::NeuralNetworkLayer conv;
  conv.add_input("x");
  conv.add_output("y");
  auto* p = conv.mutable_convolution();
  p->set_outputchannels(16);
  p->add_kernelsize(3); p->add_kernelsize(5);
  p->add_stride(2); p->add_stride(2);
  p->mutable_valid();
  // valid, no padding: floor((32 - 3) / 2) + 1 = 15, floor((32 - 5) / 2) + 1 = 14
  auto out = DeriveNnLayerShapes(conv, {NnShape(std::vector<int64_t>{3, 32, 32})});
  EXPECT_EQ(out[0], NnShape(std::vector<int64_t>{16, 15, 14}));
  // same: ceil(33 / 2) = 17
  p->mutable_same();
  out = DeriveNnLayerShapes(conv, {NnShape(std::vector<int64_t>{3, 33, 33})});
  EXPECT_EQ(out[0], NnShape(std::vector<int64_t>{16, 17, 17}));
  // deconvolution, same: 33 * 2
  p->set_isdeconvolution(true);
  out = DeriveNnLayerShapes(conv, {NnShape(std::vector<int64_t>{3, 33, 33})});
  EXPECT_EQ(out[0], NnShape(std::vector<int64_t>{16, 66, 66}));
  // unknown spatial size stays unknown, channels are still known
  out = DeriveNnLayerShapes(conv, {NnShape(std::vector<int64_t>{3, -1, 33})});
  EXPECT_EQ(out[0], NnShape(std::vector<int64_t>{16, -1, 66}));

  spec::NeuralNetworkLayer pool;
  pool.add_input("x");
  pool.add_output("y");
  auto* q = pool.mutable_pooling();
  q->add_kernelsize(2); q->add_kernelsize(2);
  q->add_stride(2); q->add_stride(2);
  q->mutable_includelastpixel();
  // includeLastPixel: ceil((7 - 2) / 2) + 1 = 4
  out = DeriveNnLayerShapes(pool, {NnShape(std::vector<int64_t>{8, 7, 7})});
  EXPECT_EQ(out[0], NnShape(std::vector<int64_t>{8, 4, 4}));
  q->set_globalpooling(true);
  out = DeriveNnLayerShapes(pool, {NnShape(std::vector<int64_t>{8, 7, 7})});
  EXPECT_EQ(out[0], NnShape(std::vector<int64_t>{8, 1, 1}));
}

TEST(NeuralNetworkTest, ReshapeInfersOneMinusOneEntry) {
  CoreML::Specification::NeuralNetworkLayer layer;
  layer.add_input("x");
  layer.add_output("y");
  for (int d : {1, -1, 4}) layer.mutable_reshape()->add_targetshape(d);
  auto out = DeriveNnLayerShapes(layer, {NnShape(std::vector<int64_t>{12, 10, 2})});
  EXPECT_EQ(out[0], NnShape(std::vector<int64_t>{1, 60, 4}));
}

// Hostile sizes must give unknown dimensions, never overflow (UBSan would
// flag it in the fuzzer build).
TEST(NeuralNetworkTest, HugeSizesBecomeUnknownInsteadOfOverflowing) {
  CoreML::Specification::NeuralNetworkLayer conv;
  conv.add_input("x");
  conv.add_output("y");
  conv.mutable_convolution()->set_outputchannels(8);
  conv.mutable_convolution()->add_dilationfactor(int64_t{1} << 40);
  conv.mutable_convolution()->add_dilationfactor(int64_t{1} << 40);
  conv.mutable_convolution()->mutable_same();
  conv.mutable_convolution()->set_isdeconvolution(true);
  const int64_t huge = int64_t{1} << 62;
  auto out = DeriveNnLayerShapes(conv, {NnShape(std::vector<int64_t>{3, huge, 5})});
  EXPECT_EQ(out[0], NnShape(std::vector<int64_t>{8, -1, -1}));

  CoreML::Specification::NeuralNetworkLayer flatten;
  flatten.add_input("x");
  flatten.add_output("y");
  flatten.mutable_flatten();
  out = DeriveNnLayerShapes(flatten, {NnShape(std::vector<int64_t>{int64_t{1} << 30, int64_t{1} << 30, 1 << 20})});
  EXPECT_EQ(out[0], NnShape(std::vector<int64_t>{-1, 1, 1}));
}

}  // namespace
}  // namespace anepilot::format
