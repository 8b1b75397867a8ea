#include "anepilot/ir.h"

#include <gtest/gtest.h>

namespace anepilot::ir {
namespace {

TensorType T(DType d, std::vector<int64_t> dims) {
  TensorType t;
  t.dtype = d;
  for (auto n : dims) t.shape.push_back(Dim::Known(n));
  return t;
}

Op MakeOp(std::string type, std::string name, std::vector<std::string> ins, std::string out) {
  Op op;
  op.type = std::move(type);
  op.name = std::move(name);
  for (auto& i : ins) op.inputs.push_back(Argument{"x", {Binding{i, std::nullopt}}});
  op.outputs.push_back(Value{out, ValueType{ValueType::Kind::kTensor, T(DType::kFloat16, {1, 8}), {}}});
  return op;
}

TEST(TensorType, SizesAndPrinting) {
  TensorType t = T(DType::kFloat16, {1, 8, 4096, 4096});
  EXPECT_EQ(*t.byte_size(), int64_t{1} * 8 * 4096 * 4096 * 2);
  EXPECT_EQ(t.ToString(), "fp16[1, 8, 4096, 4096]");
  TensorType q = T(DType::kInt4, {3, 3});
  EXPECT_EQ(*q.byte_size(), 5);  // 9 nibbles round up
  TensorType s = t;
  s.shape[0] = Dim::Symbol("batch");
  EXPECT_FALSE(s.byte_size().has_value());
  EXPECT_EQ(s.ToString(), "fp16[batch, 8, 4096, 4096]");
  TensorType huge = T(DType::kFloat32, {int64_t{1} << 40, int64_t{1} << 40});
  EXPECT_FALSE(huge.element_count().has_value());  // overflow is unknown, not UB
  TensorType big = T(DType::kFloat32, {int64_t{1} << 61});
  EXPECT_FALSE(big.byte_size().has_value());
}

TEST(DType, NamesRoundTrip) {
  for (DType d : {DType::kFloat16, DType::kFloat32, DType::kInt8, DType::kUInt4, DType::kBool}) {
    EXPECT_EQ(DTypeFromName(DTypeName(d)), d);
  }
  EXPECT_EQ(DTypeFromName("float"), DType::kUnknown);
}

TEST(GraphIndex, ProducersConsumersAndNestedBlocks) {
  Function fn;
  fn.name = "main";
  fn.inputs.push_back(Value{"in", {}});
  fn.body.ops.push_back(MakeOp("relu", "a", {"in"}, "a_out"));
  Op cond = MakeOp("cond", "c", {"a_out"}, "c_out");
  Block inner;
  inner.ops.push_back(MakeOp("sigmoid", "inner", {"a_out"}, "inner_out"));
  cond.blocks.push_back(inner);
  fn.body.ops.push_back(cond);
  fn.body.ops.push_back(MakeOp("add", "b", {"a_out", "c_out"}, "b_out"));

  GraphIndex g(fn);
  EXPECT_EQ(fn.CountOps(), 4u);
  ASSERT_EQ(g.Ops().size(), 4u);
  EXPECT_EQ(g.Producer("a_out")->name, "a");
  EXPECT_EQ(g.Producer("inner_out")->name, "inner");
  EXPECT_EQ(g.Producer("in"), nullptr);
  EXPECT_NE(g.TypeOf("in"), nullptr);
  const auto& users = g.Consumers("a_out");
  ASSERT_EQ(users.size(), 3u);
  EXPECT_TRUE(g.Consumers("b_out").empty());
}

}  // namespace
}  // namespace anepilot::ir
