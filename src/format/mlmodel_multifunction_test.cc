// ML Program features the corpus's .mlmodel files do not exercise
// (multifunction programs, states, opset block selection, immediate
// decoding), on programs built here with the project's schema.
#include <gtest/gtest.h>

#include "format/mlmodel_spec.h"
#include "proto/Model.pb.h"

namespace anepilot::format {
namespace {

namespace spec = CoreML::Specification;
namespace mil = CoreML::Specification::MILSpec;

void SetTensorType(mil::ValueType* t, mil::DataType dtype, std::initializer_list<int64_t> dims) {
  auto* tt = t->mutable_tensortype();
  tt->set_datatype(dtype);
  tt->set_rank(static_cast<int64_t>(dims.size()));
  for (int64_t d : dims) {
    if (d < 0) {
      tt->add_dimensions()->mutable_unknown();
    } else {
      tt->add_dimensions()->mutable_constant()->set_size(d);
    }
  }
}

mil::Operation ConstOp(const std::string& name, mil::DataType dtype, std::initializer_list<int64_t> dims,
                       const std::string& packed) {
  mil::Operation op;
  op.set_type("const");
  auto* out = op.add_outputs();
  out->set_name(name);
  SetTensorType(out->mutable_type(), dtype, dims);
  auto* val = op.add_attributes();
  val->set_key("val");
  SetTensorType(val->mutable_value()->mutable_type(), dtype, dims);
  val->mutable_value()->mutable_immediatevalue()->mutable_tensor()->mutable_bytes()->set_values(packed);
  auto* n = op.add_attributes();
  n->set_key("name");
  SetTensorType(n->mutable_value()->mutable_type(), mil::STRING, {});
  n->mutable_value()->mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values(name);
  return op;
}

void AddFunction(mil::Program* program, const std::string& name, const std::string& opset,
                 const std::vector<mil::Operation>& ops) {
  auto* entry = program->add_functions();
  entry->set_key(name);
  auto* fn = entry->mutable_value();
  fn->set_opset(opset);
  auto* in = fn->add_inputs();
  in->set_name("x");
  SetTensorType(in->mutable_type(), mil::FLOAT16, {1, -1});
  // A specialization for another opset first: the reader must pick by opset.
  auto* other = fn->add_block_specializations();
  other->set_key("CoreML5");
  auto* chosen = fn->add_block_specializations();
  chosen->set_key(opset);
  for (const auto& op : ops) chosen->mutable_value()->add_operations(op.SerializeAsString());
  chosen->mutable_value()->add_outputs(ops.back().outputs(0).name());
}

spec::FeatureDescription ArrayFeature(const std::string& name) {
  spec::FeatureDescription f;
  f.set_name(name);
  f.mutable_type()->mutable_multiarraytype()->set_datatype(spec::ArrayFeatureType::FLOAT16);
  f.mutable_type()->mutable_multiarraytype()->add_shape(1);
  return f;
}

std::string MultifunctionModel() {
  spec::Model m;
  m.set_specificationversion(9);
  auto* d = m.mutable_description();
  for (const char* name : {"first", "second"}) {
    auto* f = d->add_functions();
    f->set_name(name);
    *f->add_input() = ArrayFeature(std::string(name) + "_in");
    *f->add_output() = ArrayFeature(std::string(name) + "_out");
    auto* state = f->add_state();
    state->set_name("cache");
    state->mutable_type()->mutable_statetype()->mutable_arraytype()->add_shape(4);
    state->mutable_type()->mutable_statetype()->mutable_arraytype()->set_datatype(
        spec::ArrayFeatureType::FLOAT16);
  }
  d->set_defaultfunctionname("second");
  mil::Program program;
  auto* p = &program;
  p->set_version(1);
  // fp16 [2] = {1.0, -2.0}; uint8 [3] = {1, 2, 255}; a 100-element fp16 tensor (elided).
  AddFunction(p, "first", "CoreML8",
              {ConstOp("halves", mil::FLOAT16, {2}, std::string("\x00\x3c\x00\xc0", 4)),
               ConstOp("bytes", mil::UINT8, {3}, std::string("\x01\x02\xff", 3))});
  AddFunction(p, "second", "CoreML8", {ConstOp("big", mil::FLOAT16, {100}, std::string(200, '\0'))});
  m.set_mlprogram(program.SerializeAsString());
  return m.SerializeAsString();
}

TEST(MultifunctionTest, EveryFunctionWithTheBlockOfItsOpset) {
  auto r = ParseModelSpec(MultifunctionModel(), "multi.mlmodel");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->program.functions.size(), 2u);
  EXPECT_EQ(r->program.functions[0].name, "first");
  EXPECT_EQ(r->program.functions[1].name, "second");
  EXPECT_EQ(r->program.functions[0].opset, "CoreML8");
  EXPECT_EQ(r->program.functions[0].body.ops.size(), 2u);
  EXPECT_EQ(r->program.functions[1].body.ops.size(), 1u);
  EXPECT_EQ(r->program.functions[0].inputs.at(0).type.ToString(), "fp16[1, ?]");
  EXPECT_TRUE(r->warnings.empty());
}

TEST(MultifunctionTest, DefaultFunctionDescribesTheModel) {
  auto r = ParseModelSpec(MultifunctionModel(), "multi.mlmodel");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->inputs.size(), 1u);
  EXPECT_EQ(r->inputs[0].name, "second_in");
  EXPECT_EQ(r->outputs.at(0).name, "second_out");
  ASSERT_EQ(r->states.size(), 1u);
  EXPECT_EQ(r->states[0].name, "cache");
  EXPECT_EQ(r->states[0].type.kind, ir::FeatureType::Kind::kState);
  EXPECT_EQ(r->states[0].type.array.ToString(), "fp16[4]");
}

TEST(MultifunctionTest, SmallImmediatesDecodedLargeOnesElided) {
  auto r = ParseModelSpec(MultifunctionModel(), "multi.mlmodel");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& first = r->program.functions[0].body.ops;
  const ir::Constant* halves = first[0].attribute("val");
  ASSERT_NE(halves, nullptr);
  EXPECT_EQ(first[0].name, "halves");
  EXPECT_EQ(halves->numbers, (std::vector<double>{1.0, -2.0}));
  EXPECT_EQ(halves->byte_size, 4u);
  const ir::Constant* bytes = first[1].attribute("val");
  EXPECT_EQ(bytes->numbers, (std::vector<double>{1, 2, 255}));

  const ir::Constant* big = r->program.functions[1].body.ops[0].attribute("val");
  ASSERT_NE(big, nullptr);
  EXPECT_TRUE(big->values_elided);
  EXPECT_TRUE(big->numbers.empty());
  EXPECT_EQ(big->byte_size, 200u);
}

TEST(MultifunctionTest, CorruptOperationBytesNameTheFunction) {
  spec::Model m;
  m.set_specificationversion(7);
  mil::Program program;
  auto* entry = program.add_functions();
  entry->set_key("main");
  entry->mutable_value()->set_opset("CoreML7");
  auto* block = entry->mutable_value()->add_block_specializations();
  block->set_key("CoreML7");
  block->mutable_value()->add_operations(std::string("\xff\xff\xff", 3));
  m.set_mlprogram(program.SerializeAsString());
  auto r = ParseModelSpec(m.SerializeAsString(), "bad-op.mlmodel");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptModel);
  EXPECT_EQ(r.status().message().rfind("bad-op.mlmodel: ", 0), 0u) << r.status().message();
  EXPECT_NE(r.status().message().find("function 'main', operation 0 of a depth-0 block"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace anepilot::format
