// Placement, cost and program-graph tests on hand-built IR.
#include <gtest/gtest.h>

#include "plan/ane_capability.h"
#include "plan/cost_model.h"
#include "plan/plan_test_util.h"
#include "base/mapped_file.h"
#include "plan/program_graph.h"

namespace anepilot::plan {
namespace {

using ir::DType;
using testing::ProgramBuilder;
using testing::Tensor;

// A small CNN: conv -> relu -> conv -> relu -> avg_pool -> reshape -> linear.
ir::Model SmallCnn() {
  ProgramBuilder b;
  std::string x = b.Input("image", Tensor(DType::kFloat16, {1, 3, 64, 64}));
  std::string w1 = b.Const("w1", Tensor(DType::kFloat16, {16, 3, 3, 3}));
  x = b.Op("conv", "conv1", {{"x", x}, {"weight", w1}}, Tensor(DType::kFloat16, {1, 16, 64, 64}));
  x = b.Op("relu", "relu1", {{"x", x}}, Tensor(DType::kFloat16, {1, 16, 64, 64}));
  std::string w2 = b.Const("w2", Tensor(DType::kFloat16, {32, 16, 3, 3}));
  x = b.Op("conv", "conv2", {{"x", x}, {"weight", w2}}, Tensor(DType::kFloat16, {1, 32, 64, 64}));
  x = b.Op("relu", "relu2", {{"x", x}}, Tensor(DType::kFloat16, {1, 32, 64, 64}));
  x = b.Op("avg_pool", "pool", {{"x", x}}, Tensor(DType::kFloat16, {1, 32, 1, 1}));
  x = b.Op("reshape", "flat", {{"x", x}}, Tensor(DType::kFloat16, {1, 32}));
  std::string w3 = b.Const("w3", Tensor(DType::kFloat16, {10, 32}));
  x = b.Op("linear", "fc", {{"x", x}, {"weight", w3}}, Tensor(DType::kFloat16, {1, 10}));
  return b.Build({x});
}

TEST(ProgramGraphTest, CountsConvAndLinearFlopsFromShapes) {
  ir::Model m = SmallCnn();
  auto g = BuildProgramGraph(m);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->ops.size(), 10u);
  EXPECT_EQ(g->compute_ops.size(), 7u);
  const PlanOp& conv1 = g->ops[1];
  ASSERT_EQ(conv1.op->name, "conv1");
  EXPECT_EQ(conv1.op_class, OpClass::kConv);
  // 2 * outputs (16*64*64) * (3*3*3) MACs per output.
  EXPECT_DOUBLE_EQ(conv1.flops, 2.0 * 16 * 64 * 64 * 27);
  EXPECT_DOUBLE_EQ(conv1.weight_bytes, 16 * 27 * 2);
  const PlanOp& fc = g->ops.back();
  EXPECT_DOUBLE_EQ(fc.flops, 2.0 * 10 * 32);
  // Weights: 16*27 + 32*16*9 + 10*32 fp16 values.
  EXPECT_DOUBLE_EQ(g->weight_bytes, 2.0 * (16 * 27 + 32 * 16 * 9 + 10 * 32));
  // Peak intermediates: relu2 reads conv2's output while writing its own,
  // two fp16[1, 32, 64, 64] tensors live at once.
  EXPECT_DOUBLE_EQ(g->peak_intermediate_bytes, 2.0 * 2 * (32 * 64 * 64));
}

TEST(ProgramGraphTest, MatmulFlopsUseTheContractedDimension) {
  ProgramBuilder b;
  std::string q = b.Input("q", Tensor(DType::kFloat16, {1, 8, 128, 64}));
  std::string k = b.Input("k", Tensor(DType::kFloat16, {1, 8, 64, 128}));
  std::string s = b.Op("matmul", "scores", {{"x", q}, {"y", k}}, Tensor(DType::kFloat16, {1, 8, 128, 128}));
  ir::Model m = b.Build({s});
  auto g = BuildProgramGraph(m);
  ASSERT_TRUE(g.ok());
  EXPECT_DOUBLE_EQ(g->ops[0].flops, 2.0 * 8 * 128 * 128 * 64);
}

TEST(ProgramGraphTest, ConstexprTransformChainIsARuntimeWeightTransform) {
  ProgramBuilder b;
  std::string x = b.Input("x", Tensor(DType::kFloat16, {1, 8, 32, 32}));
  std::string q = b.Const("w_q", Tensor(DType::kInt8, {8, 8, 3, 3}));
  std::string deq = b.Op("constexpr_affine_dequantize", "w_deq", {{"quantized_data", q}},
                         Tensor(DType::kFloat16, {8, 8, 3, 3}));
  std::string e = b.Const("exponent", Tensor(DType::kFloat16, {}));
  std::string w = b.Op("pow", "w_pow", {{"x", deq}, {"y", e}}, Tensor(DType::kFloat16, {8, 8, 3, 3}));
  std::string y = b.Op("conv", "conv", {{"x", x}, {"weight", w}}, Tensor(DType::kFloat16, {1, 8, 32, 32}));
  // The same pow on a plain constant is folded by Core ML: free.
  std::string c = b.Const("plain", Tensor(DType::kFloat16, {8}));
  std::string folded = b.Op("pow", "folded", {{"x", c}, {"y", e}}, Tensor(DType::kFloat16, {8}));
  ir::Model m = b.Build({y, folded});
  auto g = BuildProgramGraph(m);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->ops[1].role, OpRole::kCompressedConstant);
  EXPECT_EQ(g->ops[3].role, OpRole::kRuntimeTransform);
  EXPECT_EQ(g->ops[4].role, OpRole::kCompute);
  EXPECT_TRUE(g->ops[4].weight_is_runtime);
  EXPECT_EQ(g->ops[6].role, OpRole::kFoldedConstant);
  EXPECT_STREQ(CpuOnlyReason(g->ops[3]), "PLAN-RUNTIME-WEIGHT-TRANSFORM");
  EXPECT_STREQ(CpuOnlyReason(g->ops[4]), "PLAN-RUNTIME-WEIGHT");
  EXPECT_DOUBLE_EQ(g->compressed_weight_bytes, 8 * 8 * 9 * 2);
}

TEST(ProgramGraphTest, ClassicModelCannotBePlanned) {
  ir::Model m;
  m.kind = "treeEnsembleRegressor";
  m.path = "trees.mlmodel";
  auto g = BuildProgramGraph(m);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(g.status().message().find("cannot plan: treeEnsembleRegressor runs on CPU only"), std::string::npos)
      << g.status().message();
}

class PlacementInvariantsTest : public ::testing::Test {
 protected:
  Planner planner_ = testing::LoadPlannerOrDie();
};

TEST_F(PlacementInvariantsTest, HoldOnEveryDevice) {
  ir::Model m = SmallCnn();
  PlanOptions opts;
  opts.devices = "all";
  auto plan = planner_.Plan(m, opts);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->devices.size(), planner_.catalog().devices().size());
  for (const DevicePlan& d : plan->devices) {
    SCOPED_TRACE(d.device->identifier);
    const auto& cpu = d.option(ComputeUnits::kCpuOnly);
    EXPECT_EQ(cpu.ops_on[static_cast<size_t>(Unit::kCpu)], plan->compute_ops);
    EXPECT_EQ(cpu.segments, 1u);
    EXPECT_EQ(cpu.transitions, 0u);
    const auto& gpu = d.option(ComputeUnits::kCpuAndGpu);
    EXPECT_EQ(gpu.ops_on[static_cast<size_t>(Unit::kAne)], 0u);
    const auto& ne = d.option(ComputeUnits::kCpuAndNeuralEngine);
    EXPECT_EQ(ne.ops_on[static_cast<size_t>(Unit::kGpu)], 0u);
    for (ComputeUnits u : kAllComputeUnits) {
      const auto& o = d.option(u);
      EXPECT_EQ(o.ops_on[1] + o.ops_on[2] + o.ops_on[3], plan->compute_ops);
      EXPECT_EQ(o.transitions + 1, o.segments);
      EXPECT_GT(o.latency_ms, 0);
      EXPECT_GT(o.cold_load_ms, 0);
      EXPECT_LE(o.warm_load_ms, o.cold_load_ms);
      EXPECT_GT(o.peak_memory_mb, 0);
    }
    // A small fp16 CNN: the ANE takes it whole on every generation.
    EXPECT_EQ(ne.ops_on[static_cast<size_t>(Unit::kAne)], plan->compute_ops);
    // The ANE's on-device compile makes its cold load the slowest.
    EXPECT_GT(ne.cold_load_ms, gpu.cold_load_ms);
    EXPECT_FALSE(d.recommendation.order.empty());
    EXPECT_TRUE(d.recommendation.blocked.empty());
  }
}

TEST_F(PlacementInvariantsTest, TinyAneIslandBetweenCpuOpsIsMerged) {
  // gather (CPU) -> add (ANE-capable, tiny) -> gather (CPU): Core ML keeps the
  // add with its neighbours instead of paying two transitions.
  ProgramBuilder b;
  std::string table = b.Input("table", Tensor(DType::kFloat16, {1000, 64}));
  std::string idx = b.Input("idx", Tensor(DType::kInt32, {16}));
  std::string g1 = b.Op("gather", "g1", {{"x", table}, {"indices", idx}}, Tensor(DType::kFloat16, {16, 64}));
  std::string a = b.Op("add", "a", {{"x", g1}, {"y", g1}}, Tensor(DType::kFloat16, {16, 64}));
  std::string g2 = b.Op("gather", "g2", {{"x", a}, {"indices", idx}}, Tensor(DType::kFloat16, {16, 64}));
  ir::Model m = b.Build({g2});
  PlanOptions opts;
  opts.devices = "iPhone17,2";
  opts.detail_device = "iPhone17,2";
  auto plan = planner_.Plan(m, opts);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const auto& ne = plan->devices[0].option(ComputeUnits::kCpuAndNeuralEngine);
  ASSERT_EQ(ne.placement.size(), 3u);
  EXPECT_EQ(ne.placement[0].unit, Unit::kCpu);
  EXPECT_EQ(ne.placement[0].why, "ANE-GATHER-CPU");
  EXPECT_EQ(ne.placement[1].unit, Unit::kCpu);
  EXPECT_EQ(ne.placement[1].why, "PLAN-ISLAND");
  EXPECT_EQ(ne.segments, 1u);
}

TEST(CostModelTest, DefaultFileParses) {
  auto m = LoadCostModel(testing::DataFile("cost_model.json"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_GT(m->ane_compile_exponent, 1.0);  // superlinear (ANE_FACTS §6)
  EXPECT_FALSE(m->provenance.empty());
}

TEST(CostModelTest, BrokenFilesNameTheFault) {
  auto bad_json = ParseCostModel("{\"schema\": ", "cm.json");
  EXPECT_EQ(bad_json.status().code(), StatusCode::kParseError);
  EXPECT_NE(bad_json.status().message().find("cm.json"), std::string::npos);

  auto wrong_schema = ParseCostModel(R"({"schema": "x", "version": 1})", "cm.json");
  EXPECT_EQ(wrong_schema.status().code(), StatusCode::kInvalidData);

  auto text = ReadFileToString(testing::DataFile("cost_model.json"));
  ASSERT_TRUE(text.ok());
  std::string broken = *text;
  auto pos = broken.find("\"ane_compile_exponent\": ");
  ASSERT_NE(pos, std::string::npos);
  broken.replace(pos, std::string("\"ane_compile_exponent\"").size(), "\"renamed\"");
  auto missing = ParseCostModel(broken, "cm.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidData);
  EXPECT_NE(missing.status().message().find("load.ane_compile_exponent"), std::string::npos)
      << missing.status().message();
}

}  // namespace
}  // namespace anepilot::plan

namespace anepilot::plan {
namespace {

TEST(LutWeightsTest, DecompressedOnTheAneFromIos17) {
  // A palettized conv weight: constexpr_lut_to_dense -> conv.
  testing::ProgramBuilder b;
  std::string x = b.Input("x", testing::Tensor(ir::DType::kFloat16, {1, 256, 64, 64}));
  std::string idx = b.Const("indices", testing::Tensor(ir::DType::kUInt4, {256, 256, 3, 3}));
  std::string lut = b.Const("lut", testing::Tensor(ir::DType::kFloat16, {16}));
  std::string w = b.Op("constexpr_lut_to_dense", "w", {{"indices", idx}, {"lut", lut}},
                       testing::Tensor(ir::DType::kFloat16, {256, 256, 3, 3}));
  std::string y = b.Op("conv", "conv", {{"x", x}, {"weight", w}}, testing::Tensor(ir::DType::kFloat16, {1, 256, 64, 64}));
  ir::Model m = b.Build({y});
  Planner planner = testing::LoadPlannerOrDie();
  PlanOptions old_os, new_os;
  old_os.devices = new_os.devices = "iPhone15,2";
  old_os.os = "16.4";
  new_os.os = "17";
  auto p16 = planner.Plan(m, old_os);
  auto p17 = planner.Plan(m, new_os);
  ASSERT_TRUE(p16.ok() && p17.ok());
  const OptionPlan& ne16 = p16->devices[0].option(ComputeUnits::kCpuAndNeuralEngine);
  const OptionPlan& ne17 = p17->devices[0].option(ComputeUnits::kCpuAndNeuralEngine);
  ASSERT_EQ(ne17.ops_on[static_cast<size_t>(Unit::kAne)], 1u);
  EXPECT_LT(ne17.cold_load_ms, ne16.cold_load_ms);
  EXPECT_LT(ne17.peak_memory_mb, ne16.peak_memory_mb);
  // Without the ANE the weights are decompressed at load whatever the OS.
  EXPECT_DOUBLE_EQ(p16->devices[0].option(ComputeUnits::kCpuAndGpu).cold_load_ms,
                   p17->devices[0].option(ComputeUnits::kCpuAndGpu).cold_load_ms);
}

}  // namespace
}  // namespace anepilot::plan
