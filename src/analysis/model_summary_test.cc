#include "analysis/model_summary.h"

#include <gtest/gtest.h>

namespace anepilot::analysis {
namespace {

using ir::DType;
using ir::Dim;

ir::Value TensorValue(std::string name, DType dtype, std::vector<int64_t> shape) {
  ir::Value v;
  v.name = std::move(name);
  v.type.tensor.dtype = dtype;
  for (int64_t d : shape) v.type.tensor.shape.push_back(Dim::Known(d));
  return v;
}

ir::Op MakeOp(std::string type, std::string name, DType dtype, std::vector<int64_t> shape) {
  ir::Op op;
  op.type = std::move(type);
  op.name = std::move(name);
  op.outputs.push_back(TensorValue(op.name + "_out", dtype, std::move(shape)));
  return op;
}

// A small ML Program in the shape coremltools writes: consts, a quantized
// weight, fp16 compute, a cast to fp32 at the end, and a nested block.
ir::Model SmallProgram() {
  ir::Model m;
  m.kind = "mlProgram";
  m.spec_version = 7;
  m.container = ir::Container::kMlPackage;
  ir::Function fn;
  fn.name = "main";
  fn.opset = "CoreML6";
  auto& ops = fn.body.ops;
  ops.push_back(MakeOp("const", "w", DType::kFloat16, {64, 3, 3, 3}));
  ops.push_back(MakeOp("constexpr_affine_dequantize", "wq", DType::kFloat16, {4096, 4096}));
  ops.push_back(MakeOp("conv", "conv_0", DType::kFloat16, {1, 64, 512, 512}));       // 32 MiB
  ops.push_back(MakeOp("softmax", "attn", DType::kFloat16, {1, 4096, 4096}));       // 32 MiB
  ops.push_back(MakeOp("conv", "conv_1", DType::kFloat16, {1, 64, 256, 256}));       // 8 MiB
  ops.push_back(MakeOp("cast", "to_fp32", DType::kFloat32, {1, 64, 256, 256}));      // 16 MiB
  ir::Op cond = MakeOp("cond", "branch", DType::kFloat32, {1});
  ir::Block then_block;
  then_block.ops.push_back(MakeOp("reduce_sum", "inner", DType::kFloat32, {1, 2, 2048, 2048}));  // 32 MiB
  cond.blocks.push_back(std::move(then_block));
  ops.push_back(std::move(cond));
  ops.push_back(MakeOp("shape", "shp", DType::kInt32, {4}));
  m.program.version = 1;
  m.program.functions.push_back(std::move(fn));
  return m;
}

TEST(ModelSummary, CountsOpsRecursivelyAndSortsHistogramByCount) {
  ModelSummary s = Summarize(SmallProgram());
  EXPECT_EQ(s.op_count, 9u);
  ASSERT_EQ(s.functions.size(), 1u);
  EXPECT_EQ(s.functions[0].name, "main");
  EXPECT_EQ(s.functions[0].op_count, 9u);
  ASSERT_FALSE(s.op_histogram.empty());
  EXPECT_EQ(s.op_histogram[0].type, "conv");
  EXPECT_EQ(s.op_histogram[0].count, 2u);
  // Ties are broken by name, so the order is stable across runs.
  EXPECT_EQ(s.op_histogram[1].type, "cast");
  size_t total = 0;
  for (const auto& h : s.op_histogram) total += h.count;
  EXPECT_EQ(total, 9u);
}

TEST(ModelSummary, PrecisionIgnoresWeightOpsAndSeesMixedOutputs) {
  ModelSummary s = Summarize(SmallProgram());
  EXPECT_EQ(s.precision.fp16, 3u);   // conv_0, attn, conv_1
  EXPECT_EQ(s.precision.fp32, 3u);   // to_fp32, branch, inner
  EXPECT_EQ(s.precision.integer, 1u);
  EXPECT_EQ(s.precision.verdict, "mixed");
}

TEST(ModelSummary, PureFp16ProgramIsFp16) {
  ir::Model m = SmallProgram();
  auto& ops = m.program.functions[0].body.ops;
  ops.erase(ops.begin() + 5, ops.end());
  EXPECT_EQ(Summarize(m).precision.verdict, "fp16");
}

TEST(ModelSummary, FindsCompressionOps) {
  ModelSummary s = Summarize(SmallProgram());
  ASSERT_EQ(s.compression.size(), 1u);
  EXPECT_EQ(s.compression[0].type, "constexpr_affine_dequantize");
  EXPECT_EQ(s.compression[0].method, "quantization");
  EXPECT_EQ(s.compression[0].count, 1u);
  EXPECT_EQ(CompressionMethod("constexpr_lut_to_dense"), "palettization");
  EXPECT_EQ(CompressionMethod("conv"), "");
}

TEST(ModelSummary, LargestIntermediatesExcludeWeightsAndAreOrdered) {
  SummaryOptions options;
  options.top_intermediates = 3;
  ModelSummary s = Summarize(SmallProgram(), options);
  ASSERT_EQ(s.largest_intermediates.size(), 3u);
  // wq (fp16 4096x4096 = 32 MiB) is a weight, not an intermediate.
  for (const auto& t : s.largest_intermediates) EXPECT_NE(t.op_name, "wq");
  EXPECT_EQ(s.largest_intermediates[0].bytes, 32 << 20);
  EXPECT_EQ(s.largest_intermediates[1].bytes, 32 << 20);
  EXPECT_EQ(s.largest_intermediates[2].bytes, 32 << 20);
  EXPECT_EQ(s.largest_intermediates[0].function, "main");
  // Equal sizes keep program order; the nested block's op comes after its parent.
  EXPECT_EQ(s.largest_intermediates[0].op_name, "conv_0");
  EXPECT_EQ(s.largest_intermediates[1].op_name, "attn");
  EXPECT_EQ(s.largest_intermediates[2].op_name, "inner");
}

TEST(ModelSummary, EqualOutputsOfOneOpKeepTheirOrder) {
  ir::Model m = SmallProgram();
  ir::Op split = MakeOp("split", "split_0", DType::kFloat16, {1, 64, 512, 512});  // 32 MiB each
  for (const char* name : {"part_b", "part_c", "part_d"}) {
    split.outputs.push_back(TensorValue(name, DType::kFloat16, {1, 64, 512, 512}));
  }
  m.program.functions[0].body.ops.insert(m.program.functions[0].body.ops.begin(), split);
  for (size_t top : {2u, 3u, 4u, 6u}) {
    ModelSummary s = Summarize(m, {.top_intermediates = top, .threads = 1});
    const std::vector<std::string> want = {"split_0_out", "part_b", "part_c", "part_d", "conv_0_out", "attn_out"};
    ASSERT_EQ(s.largest_intermediates.size(), top);
    for (size_t i = 0; i < top; ++i) EXPECT_EQ(s.largest_intermediates[i].value, want[i]) << top << " " << i;
  }
}

TEST(ModelSummary, UnknownShapesAreNotRanked) {
  ir::Model m = SmallProgram();
  auto& ops = m.program.functions[0].body.ops;
  ops[2].outputs[0].type.tensor.shape[2] = Dim::Symbol("h");
  ModelSummary s = Summarize(m);
  for (const auto& t : s.largest_intermediates) EXPECT_NE(t.op_name, "conv_0");
}

TEST(ModelSummary, DeploymentTargetFromOpsetOrSpecVersion) {
  ModelSummary s = Summarize(SmallProgram());
  EXPECT_EQ(s.deployment.ios, "iOS 16");
  EXPECT_EQ(s.deployment.macos, "macOS 13");
  EXPECT_EQ(s.deployment.basis, "opset CoreML6");

  EXPECT_EQ(TargetForOpset("CoreML5").ios, "iOS 15");
  EXPECT_EQ(TargetForOpset("CoreML8").ios, "iOS 18");
  EXPECT_EQ(TargetForOpset("ios17").ios, "iOS 17");
  EXPECT_EQ(TargetForOpset("CoreML").ios, "");
  EXPECT_EQ(TargetForOpset("CoreML6x").ios, "");
  EXPECT_EQ(TargetForSpecVersion(1).ios, "iOS 11");
  EXPECT_EQ(TargetForSpecVersion(4).ios, "iOS 13");
  EXPECT_EQ(TargetForSpecVersion(0).ios, "");

  ir::Model nn;
  nn.kind = "neuralNetwork";
  nn.spec_version = 2;
  EXPECT_EQ(Summarize(nn).deployment.ios, "iOS 11.2");
  EXPECT_EQ(Summarize(nn).deployment.basis, "spec version 2");
}

TEST(ModelSummary, MultifunctionTargetIsTheNewestOpset) {
  ir::Model m = SmallProgram();
  ir::Function second;
  second.name = "second";
  second.opset = "ios18";
  second.body.ops.push_back(MakeOp("relu", "r", DType::kFloat16, {1, 8}));
  m.program.functions.push_back(std::move(second));
  ModelSummary s = Summarize(m);
  EXPECT_EQ(s.deployment.ios, "iOS 18");
  ASSERT_EQ(s.functions.size(), 2u);
  EXPECT_EQ(s.functions[1].op_count, 1u);
  EXPECT_EQ(s.op_count, 10u);
}

TEST(ModelSummary, NeuralNetworkLowBitWeightsCountAsQuantized) {
  ir::Model m;
  m.kind = "neuralNetwork";
  m.spec_version = 4;
  ir::Function fn;
  fn.name = "main";
  ir::Op conv = MakeOp("convolution", "conv1", DType::kFloat32, {1, 8, 4, 4});
  ir::Constant w;
  w.type.tensor.dtype = DType::kUInt8;
  w.type.tensor.shape = {Dim::Known(8), Dim::Known(3), Dim::Known(3), Dim::Known(3)};
  conv.attributes["weights"] = w;
  fn.body.ops.push_back(conv);
  fn.body.ops.push_back(MakeOp("activation", "relu1", DType::kFloat32, {1, 8, 4, 4}));
  // A 4-bit lookup-table layer, as the reader notes the spec's QuantizationParams.
  ir::Op fc = MakeOp("innerProduct", "fc1", DType::kFloat32, {1, 10});
  ir::Constant lut_weights = w;
  lut_weights.type.tensor.dtype = DType::kUInt4;
  fc.attributes["weights"] = lut_weights;
  ir::Constant scheme;
  scheme.type.tensor.dtype = DType::kString;
  scheme.strings = {"lookup_table 4-bit"};
  fc.attributes["weights.quantization"] = scheme;
  fn.body.ops.push_back(fc);
  m.program.functions.push_back(std::move(fn));
  ModelSummary s = Summarize(m);
  ASSERT_EQ(s.compression.size(), 2u);
  EXPECT_EQ(s.compression[0].type, "neuralnetwork_palettized_weights");
  EXPECT_EQ(s.compression[0].method, "palettization");
  EXPECT_EQ(s.compression[0].count, 1u);
  EXPECT_EQ(s.compression[1].type, "neuralnetwork_quantized_weights");
  EXPECT_EQ(s.compression[1].method, "quantization");
  EXPECT_EQ(s.compression[1].count, 1u);
  EXPECT_EQ(s.precision.verdict, "fp32");
}

TEST(ModelSummary, PipelineStagesAreSummarisedRecursively) {
  ir::Model pipeline;
  pipeline.kind = "pipelineClassifier";
  pipeline.spec_version = 1;
  pipeline.stages.push_back(SmallProgram());
  ir::Model tree;
  tree.kind = "treeEnsembleClassifier";
  pipeline.stages.push_back(tree);
  pipeline.warnings.push_back("stage 2: tree ensemble read for kind and IO only");
  ModelSummary s = Summarize(pipeline);
  EXPECT_EQ(s.op_count, 0u);
  ASSERT_EQ(s.stages.size(), 2u);
  EXPECT_EQ(s.stages[0].op_count, 9u);
  EXPECT_EQ(s.stages[1].kind, "treeEnsembleClassifier");
  EXPECT_EQ(s.warnings.size(), 1u);
}

TEST(ModelSummary, IsTheSameWalkedOnOneOrManyThreads) {
  // 40,000 top-level ops (over the automatic threshold) with many equal sizes,
  // so that the order of ties decides which tensors are listed.
  ir::Model m = SmallProgram();
  ir::Block& body = m.program.functions[0].body;
  const ir::Block small = body;
  for (int i = 0; body.ops.size() < 40000; ++i) {
    for (const ir::Op& op : small.ops) {
      ir::Op copy = op;
      copy.name = copy.name + "_" + std::to_string(i);
      body.ops.push_back(std::move(copy));
    }
  }
  ModelSummary serial = Summarize(m, {.top_intermediates = 25, .threads = 1});
  for (unsigned threads : {0u, 2u, 3u, 7u}) {
    ModelSummary parallel = Summarize(m, {.top_intermediates = 25, .threads = threads});
    EXPECT_EQ(parallel.op_count, serial.op_count);
    ASSERT_EQ(parallel.functions.size(), 1u);
    EXPECT_EQ(parallel.functions[0].op_count, serial.op_count);
    ASSERT_EQ(parallel.op_histogram.size(), serial.op_histogram.size());
    for (size_t i = 0; i < serial.op_histogram.size(); ++i) {
      EXPECT_EQ(parallel.op_histogram[i].type, serial.op_histogram[i].type);
      EXPECT_EQ(parallel.op_histogram[i].count, serial.op_histogram[i].count);
    }
    ASSERT_EQ(parallel.compression.size(), serial.compression.size());
    EXPECT_EQ(parallel.compression[0].count, serial.compression[0].count);
    EXPECT_EQ(parallel.precision.fp16, serial.precision.fp16);
    EXPECT_EQ(parallel.precision.fp32, serial.precision.fp32);
    EXPECT_EQ(parallel.precision.integer, serial.precision.integer);
    EXPECT_EQ(parallel.precision.verdict, serial.precision.verdict);
    ASSERT_EQ(parallel.largest_intermediates.size(), 25u);
    for (size_t i = 0; i < 25; ++i) {
      EXPECT_EQ(parallel.largest_intermediates[i].op_name, serial.largest_intermediates[i].op_name) << threads << " " << i;
      EXPECT_EQ(parallel.largest_intermediates[i].bytes, serial.largest_intermediates[i].bytes);
    }
  }
  // Ties rank in program order: the 32 MiB tensors of the first copies.
  EXPECT_EQ(serial.largest_intermediates[0].op_name, "conv_0");
  EXPECT_EQ(serial.largest_intermediates[1].op_name, "attn");
  EXPECT_EQ(serial.largest_intermediates[2].op_name, "inner");
  EXPECT_EQ(serial.largest_intermediates[3].op_name, "conv_0_0");
}

TEST(ModelSummary, ModelWithoutProgramHasEmptySections) {
  ir::Model m;
  m.kind = "textClassifier";
  m.spec_version = 3;
  ModelSummary s = Summarize(m);
  EXPECT_EQ(s.op_count, 0u);
  EXPECT_TRUE(s.op_histogram.empty());
  EXPECT_TRUE(s.largest_intermediates.empty());
  EXPECT_EQ(s.precision.verdict, "unknown");
}

}  // namespace
}  // namespace anepilot::analysis
