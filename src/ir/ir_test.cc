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

Constant Number(double x) {
  Constant c;
  c.numbers.push_back(x);
  return c;
}

TEST(AttributeMap, KeepsKeysSortedLikeStdMap) {
  AttributeMap m;
  for (const char* k : {"pad", "axis", "val", "a_key_longer_than_thirty_characters", "groups"}) {
    EXPECT_TRUE(m.insert_or_assign(k, Number(k[0])).second) << k;
  }
  std::vector<std::string> keys;
  for (const auto& [key, c] : m) keys.push_back(key.str());
  EXPECT_EQ(keys, (std::vector<std::string>{"a_key_longer_than_thirty_characters", "axis", "groups", "pad", "val"}));
  EXPECT_EQ(m.size(), 5u);
}

TEST(AttributeMap, InsertAssignFindEraseAt) {
  AttributeMap m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find("val"), m.end());
  m.insert_or_assign("val", Number(1));
  auto [it, inserted] = m.insert_or_assign("val", Number(2));
  EXPECT_FALSE(inserted);
  EXPECT_EQ(it->second.numbers[0], 2);
  EXPECT_FALSE(m.emplace("val", Number(3)).second) << "emplace keeps an existing value";
  EXPECT_FALSE(m.try_emplace("val").second);
  auto [fresh, added] = m.try_emplace("b");
  EXPECT_TRUE(added);
  EXPECT_TRUE(fresh->second.numbers.empty());
  EXPECT_EQ(m.erase("b"), 1u);
  EXPECT_EQ(m.at("val").numbers[0], 2);
  EXPECT_THROW(m.at("missing"), std::out_of_range);
  m["axis"].numbers.push_back(-1);
  EXPECT_TRUE(m.contains("axis"));
  EXPECT_EQ(m.count("axis"), 1u);
  EXPECT_EQ(m.begin()->first, "axis");
  EXPECT_EQ(m.erase("axis"), 1u);
  EXPECT_EQ(m.erase("axis"), 0u);
  EXPECT_EQ(m.size(), 1u);
  Op op;
  op.attributes = m;
  ASSERT_NE(op.attribute("val"), nullptr);
  EXPECT_EQ(op.attribute("val")->numbers[0], 2);
  EXPECT_EQ(op.attribute("nope"), nullptr);
}

}  // namespace
}  // namespace anepilot::ir
