// ML Program models (.mlpackage's model.mlmodel) read into the IR. Expected
// values were taken from coremltools' own protobuf bindings
// (coremltools.proto.Model_pb2) reading the same files.
#include <map>

#include <gtest/gtest.h>

#include "format/mlmodel_test_util.h"

namespace anepilot::format {
namespace {

using testing::FindOp;
using testing::ParseCorpusModel;

constexpr char kProblem1[] = "faceapp-problem1/problem1.mlpackage/Data/com.apple.CoreML/model.mlmodel";
constexpr char kInt8[] = "faceapp-p3-ct82-int8/problem3_int8.mlpackage/Data/com.apple.CoreML/model.mlmodel";
constexpr char kDetr[] =
    "odspeed-detr-f16/DETRResnet50SemanticSegmentationF16.mlpackage/Data/com.apple.CoreML/model.mlmodel";
constexpr char kDtln[] =
    "dtln-aec128-part1/DTLN_AEC_128_Part1.mlpackage/Data/com.apple.CoreML/model.mlmodel";

TEST(MlProgramTest, Problem1KindVersionAndIo) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel(kProblem1);
  EXPECT_EQ(m.kind, "mlProgram");
  EXPECT_EQ(m.spec_version, 7);
  EXPECT_FALSE(m.is_updatable);
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].name, "in_image");
  EXPECT_EQ(m.inputs[0].type.kind, ir::FeatureType::Kind::kImage);
  EXPECT_EQ(m.inputs[0].type.color_space, "RGB");
  EXPECT_EQ(m.inputs[0].type.array.shape, (std::vector<ir::Dim>{ir::Dim::Known(1024), ir::Dim::Known(1024)}));
  ASSERT_EQ(m.outputs.size(), 1u);
  EXPECT_EQ(m.outputs[0].name, "out_image");
  EXPECT_EQ(m.outputs[0].type.kind, ir::FeatureType::Kind::kImage);
  EXPECT_EQ(m.outputs[0].type.array.shape, (std::vector<ir::Dim>{ir::Dim::Known(512), ir::Dim::Known(512)}));
}

TEST(MlProgramTest, Problem1Metadata) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel(kProblem1);
  EXPECT_EQ(m.metadata.user_defined["com.github.apple.coremltools.version"], "8.3.0");
  EXPECT_EQ(m.metadata.user_defined["com.github.apple.coremltools.source"], "torch==2.2.0a0+81ea7a4");
  EXPECT_EQ(m.metadata.user_defined["com.github.apple.coremltools.source_dialect"], "TorchScript");
  EXPECT_EQ(m.program.version, 1);
  EXPECT_EQ(m.program.attributes["buildInfo.coremltools-version"], "8.3.0");
  EXPECT_EQ(m.program.attributes["buildInfo.coremltools-source-dialect"], "TorchScript");
}

TEST(MlProgramTest, Problem1FunctionOpsetAndOpCounts) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel(kProblem1);
  ASSERT_EQ(m.program.functions.size(), 1u);
  const ir::Function& fn = m.program.functions[0];
  EXPECT_EQ(fn.name, "main");
  EXPECT_EQ(fn.opset, "CoreML6");
  EXPECT_EQ(fn.CountOps(), 2385u);
  std::map<std::string, int> histogram;
  for (const auto& op : fn.body.ops) histogram[op.type.str()]++;
  EXPECT_EQ(histogram["const"], 1688);
  EXPECT_EQ(histogram["conv"], 138);
  EXPECT_EQ(histogram["matmul"], 102);
  EXPECT_EQ(histogram["reshape"], 144);
  ASSERT_EQ(fn.inputs.size(), 1u);
  EXPECT_EQ(fn.inputs[0].name, "in_image");
  EXPECT_EQ(fn.inputs[0].type.ToString(), "fp32[1, 3, 1024, 1024]");
  EXPECT_EQ(fn.body.outputs, std::vector<InlineString>{"out_image"});
}

TEST(MlProgramTest, Problem1LargestMatmulOutput) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel(kProblem1);
  const ir::Op* op = FindOp(m.program.functions[0], "matmul_0_cast_fp16");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->type, "matmul");
  ASSERT_EQ(op->outputs.size(), 1u);
  EXPECT_EQ(op->outputs[0].type.ToString(), "fp16[1, 8, 4096, 4096]");
  EXPECT_EQ(op->outputs[0].type.tensor.byte_size(), 2LL * 8 * 4096 * 4096);
  ASSERT_NE(op->input("x"), nullptr);
  EXPECT_EQ(op->input("x")->name, "mul_0_cast_fp16");
  EXPECT_EQ(op->input("y")->name, "var_297_cast_fp16");
  EXPECT_EQ(op->input("transpose_y")->name, "matmul_0_transpose_y_1");
}

TEST(MlProgramTest, Problem1ConstantsImmediateAndBlob) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel(kProblem1);
  const ir::Function& fn = m.program.functions[0];

  const ir::Op* pad_type = FindOp(fn, "input_1_pad_type_0");
  ASSERT_NE(pad_type, nullptr);
  ASSERT_NE(pad_type->attribute("val"), nullptr);
  EXPECT_EQ(pad_type->attribute("val")->strings, std::vector<InlineString>{"custom"});
  EXPECT_EQ(pad_type->attribute("name"), nullptr) << "the name attribute becomes Op::name";

  const ir::Op* strides = FindOp(fn, "input_1_strides_0");
  ASSERT_NE(strides, nullptr);
  EXPECT_EQ(strides->attribute("val")->numbers, (std::vector<double>{2, 2}));
  EXPECT_EQ(strides->attribute("val")->type.ToString(), "int32[2]");

  const ir::Op* weight = FindOp(fn, "stem_0_weight_to_fp16");
  ASSERT_NE(weight, nullptr);
  const ir::Constant* val = weight->attribute("val");
  ASSERT_NE(val, nullptr);
  ASSERT_TRUE(val->blob.has_value());
  EXPECT_EQ(val->blob->file, "@model_path/weights/weight.bin");
  EXPECT_EQ(val->blob->offset, 64u);
  EXPECT_EQ(val->type.ToString(), "fp16[20, 3, 3, 3]");
  EXPECT_EQ(val->byte_size, 20u * 3 * 3 * 3 * 2);

  int blobs = 0, immediates = 0;
  for (const auto& op : fn.body.ops) {
    if (op.type != "const") continue;
    const ir::Constant* c = op.attribute("val");
    ASSERT_NE(c, nullptr) << op.name;
    (c->blob ? blobs : immediates)++;
  }
  EXPECT_EQ(blobs, 281);
  EXPECT_EQ(immediates, 1407);
}

TEST(MlProgramTest, Problem1ConvArgumentsInFileOrder) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel(kProblem1);
  const ir::Op* conv = FindOp(m.program.functions[0], "input_1_cast_fp16");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->type, "conv");
  std::vector<std::string> params;
  for (const auto& a : conv->inputs) params.push_back(a.param.str());
  // File order (checked with `protoc --decode_raw`; Python's map view of the
  // same field does not keep it).
  EXPECT_EQ(params, (std::vector<std::string>{"x", "weight", "bias", "strides", "pad_type", "pad",
                                              "dilations", "groups"}));
  EXPECT_EQ(conv->input("weight")->name, "stem_0_weight_to_fp16");
  EXPECT_EQ(conv->outputs[0].type.ToString(), "fp16[1, 20, 512, 512]");
}

TEST(MlProgramTest, Int8QuantizedModelHasAffineDequantize) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel(kInt8);
  ASSERT_EQ(m.program.functions.size(), 1u);
  const ir::Function& fn = m.program.functions[0];
  EXPECT_EQ(fn.CountOps(), 2665u);
  int dequant = 0;
  for (const auto& op : fn.body.ops) {
    if (op.type != "constexpr_affine_dequantize") continue;
    ++dequant;
    const ir::Constant* q = op.attribute("quantized_data");
    ASSERT_NE(q, nullptr) << op.name;
    EXPECT_EQ(q->type.tensor.dtype, ir::DType::kInt8) << op.name;
    EXPECT_TRUE(q->blob.has_value()) << op.name;
  }
  EXPECT_EQ(dequant, 138);
  EXPECT_EQ(m.metadata.user_defined["com.github.apple.coremltools.version"], "8.2");
}

TEST(MlProgramTest, DetrUsesCoreML7AndIntOutput) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel(kDetr);
  EXPECT_EQ(m.spec_version, 8);
  ASSERT_EQ(m.program.functions.size(), 1u);
  EXPECT_EQ(m.program.functions[0].opset, "CoreML7");
  EXPECT_EQ(m.program.functions[0].CountOps(), 1756u);
  ASSERT_EQ(m.outputs.size(), 1u);
  EXPECT_EQ(m.outputs[0].type.kind, ir::FeatureType::Kind::kMultiArray);
  EXPECT_EQ(m.outputs[0].type.array.ToString(), "int32[448, 448]");
  EXPECT_EQ(m.metadata.license.substr(0, 8), "Apache 2");
  EXPECT_EQ(m.metadata.user_defined["com.apple.coreml.model.preview.type"], "imageSegmenter");
}

TEST(MlProgramTest, DtlnShapeRangesAndNestedBlocks) {
  ANEPILOT_REQUIRE_SHARED();
  ir::Model m = ParseCorpusModel(kDtln);
  ASSERT_GE(m.inputs.size(), 3u);
  const ir::Feature& mic = m.inputs[1];
  EXPECT_EQ(mic.name, "mic_magnitude");
  EXPECT_EQ(mic.type.array.ToString(), "fp32[1, 1, 257]");
  ASSERT_EQ(mic.type.flexibility.kind, ir::Flexibility::Kind::kRange);
  ASSERT_EQ(mic.type.flexibility.ranges.size(), 3u);
  EXPECT_EQ(mic.type.flexibility.ranges[0].lower, 1);
  EXPECT_EQ(mic.type.flexibility.ranges[0].upper, 2);
  EXPECT_EQ(mic.type.flexibility.ranges[2].lower, 257);
  EXPECT_EQ(mic.type.flexibility.ranges[2].upper, 257);
  // Outputs declare a dtype but no shape.
  EXPECT_EQ(m.outputs[0].type.array.ToString(), "fp32[]");

  const ir::Function& fn = m.program.functions[0];
  EXPECT_EQ(fn.opset, "CoreML6");
  EXPECT_EQ(fn.body.ops.size(), 134u);
  EXPECT_EQ(fn.CountOps(), 184u);  // nested loop bodies counted
  bool nested = false;
  for (const auto& op : fn.body.ops) nested = nested || !op.blocks.empty();
  EXPECT_TRUE(nested);
}

}  // namespace
}  // namespace anepilot::format
