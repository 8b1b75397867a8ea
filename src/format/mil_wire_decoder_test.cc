// The wire decoder against its oracle (the libprotobuf-based MilProgramToIr):
// every ML Program of the shared corpus, and hand-made programs exercising
// protobuf's encoding freedoms (merged messages, oneof replacement, packed and
// unpacked numbers, unknown fields), must decode to the same IR; plus the
// decoder's own errors (truncated vs corrupt, nesting limits).
#include "format/mil_wire_decoder.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/mapped_file.h"
#include "base/test_paths.h"
#include "format/ir_diff_for_tests.h"
#include "format/mlmodel_program.h"
#include "format/mlmodel_spec.h"
#include "proto/MIL.pb.h"
#include "proto/Model.pb.h"

namespace anepilot::format {
namespace {
namespace mil = CoreML::Specification::MILSpec;
namespace spec = CoreML::Specification;
using testing::FirstProgramDifference;

struct Decoded {
  Result<ir::Program> program = Internal("not decoded");
  std::vector<std::string> warnings;
};

Decoded Oracle(const std::string& bytes) {
  Decoded d;
  mil::Program message;
  if (!message.ParseFromString(bytes)) {
    d.program = CorruptModel("oracle: the program does not parse");
    return d;
  }
  d.program = MilProgramToIr(&message, "oracle", &d.warnings);
  return d;
}

Decoded Wire(const std::string& bytes) {
  Decoded d;
  d.program = DecodeMilProgram(bytes, 0, "wire", &d.warnings);
  return d;
}

// Both readers accept `bytes` and agree on the IR and the warnings.
void ExpectSameAsOracle(const std::string& bytes, const std::string& what) {
  Decoded o = Oracle(bytes);
  Decoded w = Wire(bytes);
  ASSERT_TRUE(o.program.ok()) << what << ": " << o.program.status().ToString();
  ASSERT_TRUE(w.program.ok()) << what << ": " << w.program.status().ToString();
  EXPECT_EQ(FirstProgramDifference(*o.program, *w.program), "") << what;
  EXPECT_EQ(o.warnings, w.warnings) << what;
}

// The ML Programs of a Model, including those of pipeline stages.
void CollectPrograms(const spec::Model& m, std::vector<std::string>* out) {
  if (m.Type_case() == spec::Model::kMlProgram) out->push_back(m.mlprogram());
  const spec::Pipeline* p = nullptr;
  if (m.has_pipeline()) p = &m.pipeline();
  if (m.has_pipelineclassifier()) p = &m.pipelineclassifier().pipeline();
  if (m.has_pipelineregressor()) p = &m.pipelineregressor().pipeline();
  if (p != nullptr) {
    for (const auto& stage : p->models()) CollectPrograms(stage, out);
  }
}

TEST(MilWireDecoder, EveryCorpusProgramDecodesExactlyAsTheOracle) {
  ANEPILOT_REQUIRE_SHARED();
  size_t files = 0, programs = 0, ops = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(::anepilot::testing::CorpusDir())) {
    if (!entry.is_regular_file() || entry.path().extension() != ".mlmodel") continue;
    auto bytes = ReadFileToString(entry.path().string());
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    spec::Model model;
    if (!model.ParseFromString(*bytes)) continue;  // the corpus holds deliberately broken files too
    ++files;
    std::vector<std::string> found;
    CollectPrograms(model, &found);
    for (size_t i = 0; i < found.size(); ++i) {
      std::string what = entry.path().string() + " program " + std::to_string(i);
      ExpectSameAsOracle(found[i], what);
      auto w = Wire(found[i]);
      if (w.program.ok()) {
        for (const auto& fn : w.program->functions) ops += fn.CountOps();
      }
      ++programs;
    }
  }
  // The corpus has ML Programs of several coremltools versions, a pipeline
  // of ML Programs and a multifunction program; an empty walk is a failure.
  EXPECT_GE(programs, 8u) << files << " model files read";
  EXPECT_GE(ops, 5000u);
  std::cout << "compared " << programs << " programs (" << ops << " ops) from " << files
            << " model files\n";
}

// ------------------------------------------------------- hand-made input ----

void SetTensorType(mil::ValueType* t, mil::DataType dtype, const std::vector<int64_t>& dims) {
  auto* tt = t->mutable_tensortype();
  tt->set_datatype(dtype);
  tt->set_rank(static_cast<int64_t>(dims.size()));
  for (int64_t d : dims) {
    if (d < 0) {
      tt->add_dimensions()->mutable_unknown()->set_variadic(false);
    } else {
      tt->add_dimensions()->mutable_constant()->set_size(static_cast<uint64_t>(d));
    }
  }
}

mil::Operation NamedOp(const std::string& type, const std::string& name, const std::string& output) {
  mil::Operation op;
  op.set_type(type);
  auto* o = op.add_outputs();
  o->set_name(output);
  SetTensorType(o->mutable_type(), mil::FLOAT32, {1, -1, 4});
  auto* n = op.add_attributes();
  n->set_key("name");
  SetTensorType(n->mutable_value()->mutable_type(), mil::STRING, {});
  n->mutable_value()->mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values(name);
  return op;
}

std::string ProgramWithOps(const std::vector<std::string>& ops, const std::string& opset = "CoreML7") {
  mil::Program p;
  p.set_version(1);
  auto* attr = p.add_attributes();
  attr->set_key("buildInfo");
  auto* dict = attr->mutable_value()->mutable_immediatevalue()->mutable_dictionary();
  auto* kv = dict->add_values();
  kv->mutable_key()->mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values("coremltools-version");
  kv->mutable_value()->mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values("9.0");
  auto* fn = p.add_functions();
  fn->set_key("main");
  fn->mutable_value()->set_opset(opset);
  auto* in = fn->mutable_value()->add_inputs();
  in->set_name("x");
  SetTensorType(in->mutable_type(), mil::FLOAT16, {1, 3});
  auto* other = fn->mutable_value()->add_block_specializations();
  other->set_key("CoreML5");
  other->mutable_value()->add_operations("\xff\xff");  // never decoded: not the function's opset
  auto* block = fn->mutable_value()->add_block_specializations();
  block->set_key("CoreML7");
  for (const auto& op : ops) block->mutable_value()->add_operations(op);
  block->mutable_value()->add_outputs("y");
  return p.SerializeAsString();
}

std::string PutVarint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Len(uint32_t field, const std::string& bytes) {
  return PutVarint((field << 3) | 2) + PutVarint(bytes.size()) + bytes;
}

TEST(MilWireDecoder, ConstantsOfEveryKindMatchTheOracle) {
  std::vector<std::string> ops;
  auto add_const = [&](const std::string& name, const std::function<void(mil::Value*)>& fill) {
    mil::Operation op = NamedOp("const", name, name);
    auto* val = op.add_attributes();
    val->set_key("val");
    fill(val->mutable_value());
    ops.push_back(op.SerializeAsString());
  };
  add_const("floats", [](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::FLOAT32, {3});
    for (float f : {1.5f, -2.0f, 1e30f}) v->mutable_immediatevalue()->mutable_tensor()->mutable_floats()->add_values(f);
  });
  add_const("many_ints", [](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::INT32, {100});
    for (int i = 0; i < 100; ++i) v->mutable_immediatevalue()->mutable_tensor()->mutable_ints()->add_values(-i);
  });
  add_const("longs", [](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::INT64, {2});
    v->mutable_immediatevalue()->mutable_tensor()->mutable_longints()->add_values(-(1ll << 40));
    v->mutable_immediatevalue()->mutable_tensor()->mutable_longints()->add_values(7);
  });
  add_const("doubles_unknown_shape", [](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::FLOAT64, {-1});
    v->mutable_immediatevalue()->mutable_tensor()->mutable_doubles()->add_values(0.25);
  });
  add_const("bools", [](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::BOOL, {2});
    v->mutable_immediatevalue()->mutable_tensor()->mutable_bools()->add_values(true);
    v->mutable_immediatevalue()->mutable_tensor()->mutable_bools()->add_values(false);
  });
  add_const("bf16_bytes", [](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::BFLOAT16, {2});
    v->mutable_immediatevalue()->mutable_tensor()->mutable_bytes()->set_values(std::string("\x80\x3f\x00\xc0", 4));
  });
  add_const("int4_bytes", [](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::INT4, {4});
    v->mutable_immediatevalue()->mutable_tensor()->mutable_bytes()->set_values(std::string("\x12\x34", 2));
  });
  add_const("blob", [](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::FLOAT16, {64, 3, 3, 3});
    v->mutable_blobfilevalue()->set_filename("@model_path/weights/weight.bin");
    v->mutable_blobfilevalue()->set_offset(64);
  });
  add_const("unranked", [](mil::Value* v) { v->mutable_type()->mutable_tensortype()->set_rank(-1); });
  add_const("tuple_value", [](mil::Value* v) {
    auto* tuple = v->mutable_type()->mutable_tupletype();
    SetTensorType(tuple->add_types(), mil::INT32, {});
    v->mutable_type()->mutable_tupletype()->add_types()->mutable_listtype()->mutable_type()->mutable_tensortype()->set_datatype(mil::FLOAT16);
    SetTensorType(v->mutable_immediatevalue()->mutable_tuple()->add_values()->mutable_type(), mil::INT32, {});
  });
  add_const("dict_and_state_types", [](mil::Value* v) {
    auto* d = v->mutable_type()->mutable_dictionarytype();
    SetTensorType(d->mutable_keytype(), mil::STRING, {});
    SetTensorType(d->mutable_valuetype()->mutable_statetype()->mutable_wrappedtype(), mil::FLOAT16, {1, 8});
  });
  // An op without a name attribute, with a variadic input and a nested block.
  mil::Operation loop;
  loop.set_type("while_loop");
  loop.add_outputs()->set_name("loop_out");
  auto* in = loop.add_inputs();
  in->set_key("loop_vars");
  in->mutable_value()->add_arguments()->set_name("x");
  SetTensorType(in->mutable_value()->add_arguments()->mutable_value()->mutable_type(), mil::INT32, {});
  auto* body = loop.add_blocks();
  body->add_inputs()->set_name("i");
  body->add_operations(NamedOp("add", "inner_add", "inner").SerializeAsString());
  body->add_outputs("inner");
  ops.push_back(loop.SerializeAsString());

  ExpectSameAsOracle(ProgramWithOps(ops), "constants");
  auto w = Wire(ProgramWithOps(ops));
  ASSERT_TRUE(w.program.ok());
  const auto& decoded = w.program->functions.at(0).body.ops;
  EXPECT_EQ(decoded.back().name, "loop_out");  // named by its first output
  EXPECT_EQ(w.program->attributes.at("buildInfo.coremltools-version"), "9.0");
}

TEST(MilWireDecoder, EncodingFreedomsReadAsLibprotobufReadsThem) {
  mil::Operation base = NamedOp("relu", "r", "y");
  std::string op = base.SerializeAsString();
  // Unknown fields of every wire type (incl. a group) inside the operation.
  std::string unknown = PutVarint((40 << 3) | 0) + PutVarint(99) + PutVarint((41 << 3) | 1) + std::string(8, 'a') +
                        PutVarint((42 << 3) | 5) + std::string(4, 'b') + Len(43, "zz") + PutVarint((44 << 3) | 3) +
                        PutVarint((1 << 3) | 0) + PutVarint(1) + PutVarint((44 << 3) | 4);
  // A second `type` (scalar string: the last wins) and a known field number
  // with the wrong wire type (skipped as unknown).
  std::string later_type = Len(1, "sigmoid") + PutVarint((3 << 3) | 0) + PutVarint(5);
  // A second occurrence of an output's type (a singular message): merged, so
  // the dimensions of both occurrences count.
  mil::NamedValueType out2;
  out2.set_name("y");
  SetTensorType(out2.mutable_type(), mil::FLOAT16, {2});
  std::string extra_type = Len(2, out2.type().SerializeAsString());
  std::string output_twice = Len(3, out2.SerializeAsString() + extra_type);
  // An attribute whose tensor value switches oneof member (floats, then
  // ints: ints win) and whose ints come packed then unpacked.
  std::string ints_packed = Len(1, PutVarint(1) + PutVarint(2));
  std::string ints_unpacked = PutVarint((1 << 3) | 0) + PutVarint(3);
  std::string tensor = Len(1, PutVarint((1 << 3) | 5) + std::string("\x00\x00\x80\x3f", 4)) +
                       Len(2, ints_packed + ints_unpacked);
  mil::ValueType int_type;
  SetTensorType(&int_type, mil::INT32, {3});
  std::string value = Len(2, int_type.SerializeAsString()) + Len(3, Len(1, tensor));
  std::string attribute = Len(5, Len(1, "axes") + Len(2, value));
  // A binding that names a value, then holds a constant (oneof: the
  // constant wins), and another the other way round.
  std::string binding_value = Len(2, Len(2, int_type.SerializeAsString()));
  std::string arg = Len(1, Len(1, "a") + binding_value) + Len(1, binding_value + Len(1, "b"));
  std::string input = Len(2, Len(1, "x") + Len(2, arg));

  std::string variant = op + unknown + later_type + output_twice + attribute + input;
  ExpectSameAsOracle(ProgramWithOps({variant}), "encoding freedoms");
  auto w = Wire(ProgramWithOps({variant}));
  ASSERT_TRUE(w.program.ok());
  const ir::Op& decoded = w.program->functions.at(0).body.ops.at(0);
  EXPECT_EQ(decoded.type, "sigmoid");
  ASSERT_EQ(decoded.outputs.size(), 2u);
  EXPECT_EQ(decoded.outputs[1].type.ToString(), "fp16[2, 2]");
  ASSERT_NE(decoded.attribute("axes"), nullptr);
  EXPECT_EQ(decoded.attribute("axes")->numbers, (std::vector<double>{1, 2, 3}));
  ASSERT_EQ(decoded.inputs.at(0).bindings.size(), 2u);
  EXPECT_TRUE(decoded.inputs[0].bindings[0].is_constant());
  EXPECT_EQ(decoded.inputs[0].bindings[1].name, "b");
}

TEST(MilWireDecoder, AFunctionWithoutABlockForItsOpsetReadsTheFirstWithAWarning) {
  std::string bytes = ProgramWithOps({NamedOp("relu", "r", "y").SerializeAsString()}, "CoreML9");
  // The first block's operation (0xff 0xff) is decoded now, and is corrupt:
  // both readers refuse.
  EXPECT_FALSE(Oracle(bytes).program.ok());
  EXPECT_EQ(Wire(bytes).program.status().code(), StatusCode::kCorruptModel);

  mil::Program p;
  auto* fn = p.add_functions();
  fn->set_key("main");
  fn->mutable_value()->set_opset("CoreML9");
  fn->mutable_value()->add_block_specializations()->set_key("CoreML7");
  p.add_functions()->set_key("empty");
  ExpectSameAsOracle(p.SerializeAsString(), "opset fallback");
  auto w = Wire(p.SerializeAsString());
  ASSERT_EQ(w.warnings.size(), 2u);
  EXPECT_NE(w.warnings[0].find("read the 'CoreML7' block instead"), std::string::npos);
}

TEST(MilWireDecoder, ATruncatedProgramIsTruncatedAtEveryCut) {
  std::string op = NamedOp("relu", "r", "y").SerializeAsString();
  std::string bytes = ProgramWithOps({op, op});
  // Top-level field boundaries: a cut there is a shorter valid program.
  std::vector<size_t> boundaries = {0};
  {
    size_t pos = 0;
    mil::Program whole;
    ASSERT_TRUE(whole.ParseFromString(bytes));
    // version (2 bytes), attributes, functions: find boundaries by walking.
    while (pos < bytes.size()) {
      uint64_t tag = static_cast<uint8_t>(bytes[pos++]);
      if ((tag & 7) == 0) {
        while (static_cast<uint8_t>(bytes[pos++]) & 0x80) {}
      } else {
        uint64_t n = 0;
        int shift = 0;
        uint8_t b;
        do {
          b = static_cast<uint8_t>(bytes[pos++]);
          n |= static_cast<uint64_t>(b & 0x7f) << shift;
          shift += 7;
        } while (b & 0x80);
        pos += n;
      }
      boundaries.push_back(pos);
    }
  }
  for (size_t len = 1; len < bytes.size(); ++len) {
    auto w = Wire(bytes.substr(0, len));
    if (std::find(boundaries.begin(), boundaries.end(), len) != boundaries.end()) continue;
    ASSERT_FALSE(w.program.ok()) << len;
    EXPECT_EQ(w.program.status().code(), StatusCode::kTruncatedModel) << len << ": " << w.program.status().ToString();
  }
  auto w = Wire(bytes.substr(0, bytes.size() - 3));
  EXPECT_NE(w.program.status().message().find("copy or export the model again"), std::string::npos);
}

TEST(MilWireDecoder, MalformedBytesAreCorruptNamingTheOperation) {
  std::string good = NamedOp("relu", "r", "y").SerializeAsString();
  std::string bad = good + std::string("\x0f", 1);  // wire type 7
  auto w = Wire(ProgramWithOps({good, bad}));
  ASSERT_FALSE(w.program.ok());
  EXPECT_EQ(w.program.status().code(), StatusCode::kCorruptModel);
  EXPECT_NE(w.program.status().message().find("function 'main', operation 1 of a depth-0 block"), std::string::npos)
      << w.program.status().message();
  // A length inside an operation that runs past the operation's end is
  // corruption, not truncation: the file itself is whole.
  std::string overlong = good + Len(1, "x").substr(0, 2);
  overlong[overlong.size() - 1] = 50;
  EXPECT_EQ(Wire(ProgramWithOps({overlong})).program.status().code(), StatusCode::kCorruptModel);
  EXPECT_FALSE(Oracle(ProgramWithOps({overlong})).program.ok());
}

TEST(MilWireDecoder, NestingLimitsHoldLikeTheOracle) {
  // Blocks nested 40 deep (cond inside cond): refused by both.
  std::string inner = NamedOp("relu", "r", "y").SerializeAsString();
  for (int i = 0; i < 40; ++i) {
    mil::Operation cond;
    cond.set_type("cond");
    cond.add_outputs()->set_name("c" + std::to_string(i));
    cond.add_blocks()->add_operations(inner);
    inner = cond.SerializeAsString();
  }
  auto w = Wire(ProgramWithOps({inner}));
  EXPECT_EQ(w.program.status().code(), StatusCode::kCorruptModel);
  EXPECT_FALSE(Oracle(ProgramWithOps({inner})).program.ok());

  // Tuple types nested 200 deep inside one operation: beyond protobuf's
  // recursion limit for both readers.
  mil::ValueType t;
  SetTensorType(&t, mil::INT32, {});
  for (int i = 0; i < 200; ++i) {
    mil::ValueType outer;
    *outer.mutable_tupletype()->add_types() = t;
    t = outer;
  }
  mil::Operation op = NamedOp("relu", "r", "y");
  *op.mutable_outputs(0)->mutable_type() = t;
  std::string deep = op.SerializeAsString();
  EXPECT_FALSE(Oracle(ProgramWithOps({deep})).program.ok());
  EXPECT_EQ(Wire(ProgramWithOps({deep})).program.status().code(), StatusCode::kCorruptModel);
}

TEST(MilWireDecoder, AProgramAttributeGivenTwiceMergesLikeLibprotobuf) {
  // buildInfo's value in two occurrences of the entry's `value` field: the
  // first carries the type, the second the dictionary; merged, they are one
  // dictionary value, flattened as usual.
  mil::Value type_only;
  SetTensorType(type_only.mutable_type(), mil::STRING, {});
  mil::Value dict;
  auto* kv = dict.mutable_immediatevalue()->mutable_dictionary()->add_values();
  kv->mutable_key()->mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values("k");
  kv->mutable_value()->mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values("v");
  std::string entry = Len(1, "buildInfo") + Len(2, type_only.SerializeAsString()) + Len(2, dict.SerializeAsString());
  std::string bytes = PutVarint(1 << 3) + PutVarint(1) + Len(4, entry);
  ExpectSameAsOracle(bytes, "merged attribute");
  auto w = Wire(bytes);
  ASSERT_TRUE(w.program.ok());
  EXPECT_EQ(w.program->attributes.at("buildInfo.k"), "v");
}

TEST(MilWireDecoder, AOneofMemberReplacedByAnotherMustStillBeValid) {
  // A dimension whose `constant` member (holding a field numbered 0) is
  // replaced by an `unknown` member: libprotobuf parses, and refuses, the
  // replaced member; so must the decoder. With a valid replaced member both
  // accept, and the later member wins.
  mil::NamedValueType base;
  base.set_name("y");
  SetTensorType(base.mutable_type(), mil::FLOAT32, {});
  for (bool valid : {false, true}) {
    std::string constant = valid ? PutVarint(1 << 3) + PutVarint(7) : std::string("\x02\x01\x00", 3);
    std::string dimension = Len(1, constant) + Len(2, "");
    std::string tensor = PutVarint(1 << 3) + PutVarint(11) + Len(3, dimension);
    std::string output = Len(1, "y") + Len(2, Len(1, tensor));
    std::string op = Len(1, "relu") + Len(3, output);
    std::string bytes = ProgramWithOps({op});
    if (!valid) {
      EXPECT_FALSE(Oracle(bytes).program.ok());
      EXPECT_EQ(Wire(bytes).program.status().code(), StatusCode::kCorruptModel);
      continue;
    }
    ExpectSameAsOracle(bytes, "replaced oneof member");
    auto w = Wire(bytes);
    ASSERT_TRUE(w.program.ok());
    EXPECT_EQ(w.program->functions[0].body.ops.at(0).outputs.at(0).type.ToString(), "fp32[?]");
  }
}

TEST(MilWireDecoder, AFieldSplitAcrossTwoOccurrencesOfAMessageIsRefusedLikeLibprotobuf) {
  // An output's `type` given twice: the first occurrence ends inside a
  // fixed64 field that the second occurrence's bytes would complete. Merged
  // by concatenation it would read; libprotobuf parses each occurrence and
  // refuses the first. Found by the differential fuzzer.
  mil::ValueType t;
  SetTensorType(&t, mil::FLOAT32, {2});
  std::string split = Len(1, "y") + Len(2, std::string("\x79", 1)) + Len(2, t.SerializeAsString());
  std::string bytes = ProgramWithOps({Len(1, "relu") + Len(3, split)});
  EXPECT_FALSE(Oracle(bytes).program.ok());
  EXPECT_EQ(Wire(bytes).program.status().code(), StatusCode::kCorruptModel);
}

TEST(MilWireDecoder, PipelineStagesThatAreMlProgramsAreDecoded) {
  spec::Model m;
  m.set_specificationversion(7);
  m.mutable_description();
  for (const char* name : {"a", "b"}) {
    auto* stage = m.mutable_pipeline()->add_models();
    stage->set_specificationversion(7);
    stage->set_mlprogram(ProgramWithOps({NamedOp("relu", name, name).SerializeAsString()}));
  }
  auto r = ParseModelSpec(m.SerializeAsString(), "pipeline.mlmodel");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->stages.size(), 2u);
  EXPECT_EQ(r->stages[1].kind, "mlProgram");
  ASSERT_EQ(r->stages[1].program.functions.size(), 1u);
  EXPECT_EQ(r->stages[1].program.functions[0].body.ops.at(0).name, "b");
}


// The canonical encodings of an op's "name" and of a single-name argument are
// read by matching (mil_wire_decoder.cc); near-misses must take the general
// path and still read as the oracle reads them.
TEST(MilWireDecoder, NamesAndArgumentsReadTheSameInAndOutOfTheirCanonicalForm) {
  std::vector<std::string> ops;
  for (size_t len : {1u, 15u, 31u, 119u, 120u, 121u, 122u, 123u, 124u, 200u, 300u}) {
    std::string name(len, 'n');
    mil::Operation op = NamedOp("relu", name, "out_" + std::to_string(len));
    auto* input = op.add_inputs();
    input->set_key("x_" + std::string(len, 'p'));
    input->mutable_value()->add_arguments()->set_name(std::string(len, 'a'));
    ops.push_back(op.SerializeAsString());
  }
  // A name attribute with an extra (unknown) field, and one whose value also
  // carries a doc string: both valid, neither canonical.
  mil::Operation extra = NamedOp("relu", "with_doc", "o1");
  for (auto& a : *extra.mutable_attributes()) {
    if (a.key() == "name") a.mutable_value()->set_docstring("doc");
  }
  ops.push_back(extra.SerializeAsString());
  ops.push_back(NamedOp("relu", "tail", "o2").SerializeAsString() + Len(1, "relu"));  // type given twice
  std::string bytes = ProgramWithOps(ops);
  ExpectSameAsOracle(bytes, "names around the one-byte length limit");
  auto w = Wire(bytes);
  ASSERT_TRUE(w.program.ok());
  const auto& read = w.program->functions[0].body.ops;
  EXPECT_EQ(read[0].name, "n");
  EXPECT_EQ(read[7].name, std::string(123, 'n'));
  EXPECT_EQ(read[7].inputs[0].bindings[0].name, std::string(123, 'a'));
  EXPECT_EQ(read[11].name, "with_doc");
}

// Op outputs in the canonical tensor form are read by matching too; every
// variation below must read as the oracle reads it, matched or not.
TEST(MilWireDecoder, OutputTypesReadTheSameInAndOutOfTheirCanonicalForm) {
  std::vector<std::string> ops;
  auto add = [&](const std::function<void(mil::NamedValueType*)>& shape) {
    mil::Operation op = NamedOp("relu", "r" + std::to_string(ops.size()), "o" + std::to_string(ops.size()));
    op.clear_outputs();
    auto* out = op.add_outputs();
    out->set_name("o" + std::to_string(ops.size()));
    shape(out);
    ops.push_back(op.SerializeAsString());
  };
  add([](auto* o) { SetTensorType(o->mutable_type(), mil::FLOAT16, {1, 8, 4096, 4096}); });
  add([](auto* o) { SetTensorType(o->mutable_type(), mil::FLOAT32, {}); });           // scalar
  add([](auto* o) { SetTensorType(o->mutable_type(), mil::INT32, {0, -1, 3}); });     // zero and unknown
  add([](auto* o) {
    SetTensorType(o->mutable_type(), mil::FLOAT16, {2});
    o->mutable_type()->mutable_tensortype()->mutable_dimensions(0)->mutable_constant()->set_size(~uint64_t{0});
  });  // beyond int64: unknown
  add([](auto* o) {
    SetTensorType(o->mutable_type(), mil::FLOAT16, {-1});
    o->mutable_type()->mutable_tensortype()->mutable_dimensions(0)->mutable_unknown()->set_variadic(true);
  });
  add([](auto* o) { o->mutable_type()->mutable_tensortype()->set_rank(-1); });        // unranked
  add([](auto* o) { o->mutable_type()->mutable_tensortype(); });                      // all defaults
  add([](auto* o) {
    SetTensorType(o->mutable_type(), mil::FLOAT16, {1, 2});
    auto* a = o->mutable_type()->mutable_tensortype()->add_attributes();  // not canonical
    a->set_key("k");
  });
  add([](auto* o) { SetTensorType(o->mutable_type(), mil::FLOAT16, std::vector<int64_t>(20, 2)); });  // many dims
  add([](auto* o) { o->set_name(std::string(200, 'x')); SetTensorType(o->mutable_type(), mil::BOOL, {3}); });
  add([](auto* o) { o->mutable_type()->mutable_listtype(); });
  add([](auto*) {});                                                                  // no type
  // Fields out of order: rank after the dimensions.
  {
    mil::Operation op = NamedOp("relu", "late_rank", "lr");
    std::string out = Len(1, "lr") + Len(2, Len(1, PutVarint(8) + PutVarint(10) + Len(3, Len(1, PutVarint(8) + PutVarint(5))) +
                                                  PutVarint(16) + PutVarint(1)));
    op.clear_outputs();
    ops.push_back(op.SerializeAsString() + Len(3, out));
  }
  std::string bytes = ProgramWithOps(ops);
  ExpectSameAsOracle(bytes, "output type variations");
  auto w = Wire(bytes);
  ASSERT_TRUE(w.program.ok()) << w.program.status().ToString();
  const auto& read = w.program->functions[0].body.ops;
  EXPECT_EQ(read[0].outputs[0].type.ToString(), "fp16[1, 8, 4096, 4096]");
  EXPECT_EQ(read[2].outputs[0].type.ToString(), "int32[0, ?, 3]");
  EXPECT_EQ(read[3].outputs[0].type.ToString(), "fp16[?]");
  EXPECT_FALSE(read[5].outputs[0].type.tensor.rank_known);
}

TEST(MilWireDecoder, ErrorsInAModelFileNameFileOffsets) {
  // The top-level program is decoded from the file's bytes (not a copy), so
  // the byte named is the byte in the file, here the stray wire-type-7 tag.
  std::string good = NamedOp("relu", "r", "y").SerializeAsString();
  std::string bad = good + std::string("\x0f", 1);
  spec::Model model;
  model.set_specificationversion(7);
  model.mutable_description()->add_input()->set_name("x");
  model.set_mlprogram(ProgramWithOps({good, bad}));
  std::string file = model.SerializeAsString();
  size_t at = file.find(bad);
  ASSERT_NE(at, std::string::npos);
  auto read = ParseModelSpec(file, "m.mlmodel");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kCorruptModel);
  EXPECT_NE(read.status().message().find(fmt::format("at byte {}:", at + bad.size() - 1)), std::string::npos)
      << read.status().message();
  // The same program, whole, reads as the oracle reads it.
  model.set_mlprogram(ProgramWithOps({good, good}));
  auto whole = ParseModelSpec(model.SerializeAsString(), "m.mlmodel");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(FirstProgramDifference(whole->program, *Oracle(ProgramWithOps({good, good})).program), "");
  EXPECT_EQ(whole->inputs.size(), 1u);
}

// A const op's "val" in the canonical form is read by matching down to its
// Repeated* message; every variation below must read as the oracle reads it.
TEST(MilWireDecoder, ConstantValuesReadTheSameInAndOutOfTheirCanonicalForm) {
  std::vector<std::string> ops;
  auto add = [&](const std::function<void(mil::Value*)>& fill, const std::string& key = "val") {
    mil::Operation op = NamedOp("const", "c" + std::to_string(ops.size()), "c" + std::to_string(ops.size()));
    auto* val = op.add_attributes();
    val->set_key(key);
    fill(val->mutable_value());
    ops.push_back(op.SerializeAsString());
  };
  auto blob = [](mil::Value* v, const std::string& file, uint64_t offset) {
    SetTensorType(v->mutable_type(), mil::FLOAT16, {64, 3});
    v->mutable_blobfilevalue()->set_filename(file);
    v->mutable_blobfilevalue()->set_offset(offset);
  };
  add([&](mil::Value* v) { blob(v, "@model_path/weights/weight.bin", 64); });
  add([&](mil::Value* v) { blob(v, "@model_path/weights/weight.bin", 0); });        // offset omitted
  add([&](mil::Value* v) { blob(v, "", 128); });                                     // file name omitted
  add([&](mil::Value* v) { blob(v, std::string(300, 'f'), uint64_t{1} << 40); });             // long name, big offset
  add([&](mil::Value* v) { blob(v, "w.bin", 64); v->set_docstring("doc first"); });  // not canonical
  add([](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::INT32, {40});  // 160 bytes of ints: two-byte lengths
    for (int i = 0; i < 40; ++i) v->mutable_immediatevalue()->mutable_tensor()->mutable_ints()->add_values(1 << 20);
  });
  add([](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::FLOAT32, {});
    v->mutable_immediatevalue()->mutable_tensor();  // a tensor with no member
  });
  add([](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::STRING, {2});
    v->mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values("a");
    v->mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values(std::string(200, 's'));
  });
  add([](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::FLOAT16, {2});
    v->mutable_type()->mutable_tensortype()->add_attributes()->set_key("k");  // not canonical
    v->mutable_immediatevalue()->mutable_tensor()->mutable_bytes()->set_values(std::string(4, '\x3c'));
  });
  add([](mil::Value* v) { SetTensorType(v->mutable_type(), mil::INT8, {3}); });  // a type, no value
  add([](mil::Value* v) {
    SetTensorType(v->mutable_type(), mil::INT32, {});
    v->mutable_immediatevalue()->mutable_tensor()->mutable_ints()->add_values(7);
  }, "name");  // a "name" that is no string: the general path decides
  {
    // Key and value swapped in the entry.
    mil::Operation op = NamedOp("const", "swapped", "swapped");
    mil::Value v;
    SetTensorType(v.mutable_type(), mil::INT32, {});
    v.mutable_immediatevalue()->mutable_tensor()->mutable_ints()->add_values(5);
    ops.push_back(op.SerializeAsString() + Len(5, Len(2, v.SerializeAsString()) + Len(1, "val")));
  }
  std::string bytes = ProgramWithOps(ops);
  ExpectSameAsOracle(bytes, "constant value variations");
  auto w = Wire(bytes);
  ASSERT_TRUE(w.program.ok()) << w.program.status().ToString();
  const auto& read = w.program->functions[0].body.ops;
  EXPECT_EQ(read[0].attribute("val")->blob->offset, 64u);
  EXPECT_EQ(read[1].attribute("val")->blob->offset, 0u);
  EXPECT_EQ(read[3].attribute("val")->blob->file.size(), 300u);
  EXPECT_EQ(read[5].attribute("val")->numbers.size(), 40u);
  EXPECT_EQ(read[11].attribute("val")->numbers, std::vector<double>{5});
}

// ------------------------------------------------------ parallel decoding ----

// Each of `n` ops differs (type cycles, names carry the index) so a run
// decoded into the wrong slice would show.
std::vector<std::string> ManyOps(size_t n) {
  static const char* kTypes[] = {"relu", "conv", "add", "const", "softmax"};
  std::vector<std::string> ops;
  for (size_t i = 0; i < n; ++i) {
    ops.push_back(NamedOp(kTypes[i % 5], "op_with_a_long_name_" + std::to_string(i), "v" + std::to_string(i))
                      .SerializeAsString());
  }
  return ops;
}

TEST(MilWireDecoder, ALargeBlockDecodesTheSameOnOneThreadAndOnMany) {
  std::string bytes = ProgramWithOps(ManyOps(3 * kParallelMinOps + 7));
  std::vector<std::string> w1, w4, w7;
  auto one = DecodeMilProgram(bytes, 0, "wire", &w1, 1);
  auto four = DecodeMilProgram(bytes, 0, "wire", &w4, 4);
  auto seven = DecodeMilProgram(bytes, 0, "wire", &w7, 7);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_TRUE(four.ok()) << four.status().ToString();
  ASSERT_TRUE(seven.ok()) << seven.status().ToString();
  ASSERT_EQ(one->functions[0].body.ops.size(), 3 * kParallelMinOps + 7);
  EXPECT_EQ(FirstProgramDifference(*one, *four), "");
  EXPECT_EQ(FirstProgramDifference(*one, *seven), "");
  EXPECT_EQ(w1, w4);
  EXPECT_EQ(four->functions[0].body.ops[1000].name, "op_with_a_long_name_1000");
  ExpectSameAsOracle(bytes, "3 * kParallelMinOps + 7 ops");
}

TEST(MilWireDecoder, ALargeBlockReportsItsFirstCorruptOperationOnAnyThreadCount) {
  auto ops = ManyOps(4 * kParallelMinOps);
  // Two corrupt ops, in what become different runs: the earlier is named.
  ops[700] += std::string("\x0f", 1);
  ops[1900] += std::string("\x0f", 1);
  std::string bytes = ProgramWithOps(ops);
  for (unsigned threads : {1u, 2u, 4u, 8u}) {
    std::vector<std::string> warnings;
    auto p = DecodeMilProgram(bytes, 0, "wire", &warnings, threads);
    ASSERT_FALSE(p.ok()) << threads;
    EXPECT_EQ(p.status().code(), StatusCode::kCorruptModel) << threads;
    EXPECT_NE(p.status().message().find("function 'main', operation 700 of a depth-0 block"), std::string::npos)
        << threads << " threads: " << p.status().message();
  }
}

TEST(MilWireDecoder, ADecodedProgramsListsLiveInItsStorageAndOutliveReassignment) {
  const std::string bytes = ProgramWithOps(ManyOps(2 * kParallelMinOps));
  std::vector<std::string> w;
  auto serial = DecodeMilProgram(bytes, 0, "wire", &w, 1);
  auto parallel = DecodeMilProgram(bytes, 0, "wire", &w, 4);
  ASSERT_TRUE(serial.ok() && parallel.ok());
  // Lists come from the program's arena, including those decoded on other threads.
  ASSERT_NE(serial->storage, nullptr);
  const ir::Op& op = parallel->functions[0].body.ops[900];
  EXPECT_NE(op.outputs.arena(), nullptr);
  EXPECT_NE(parallel->functions[0].body.ops.arena(), nullptr);

  // A copy is independent of the original's storage; reassigning programs
  // (copy and move) over arena-backed ones leaves readable, equal IR. Run
  // under AddressSanitizer this catches an arena freed before its lists.
  ir::Program copy = *serial;
  EXPECT_EQ(copy.functions[0].body.ops[5].outputs.arena(), nullptr);
  copy = *parallel;
  copy = std::move(*serial);
  *serial = ir::Program();
  *parallel = copy;
  ir::Program moved = std::move(*parallel);
  *parallel = std::move(copy);
  EXPECT_EQ(FirstProgramDifference(*parallel, moved), "");
  EXPECT_EQ(moved.functions[0].body.ops[1000].name, "op_with_a_long_name_1000");
}

TEST(MilWireDecoder, ListsDecodedOnOtherThreadsCanGrowAfterTheDecode) {
  // Each run of a parallel decode allocates from an arena of its own; a list
  // keeps allocating from that arena when it grows later, so the program's
  // storage must keep every run's arena alive. (It once kept only their
  // blocks: growing such a list used the destroyed arena.)
  const std::string bytes = ProgramWithOps(ManyOps(4 * kParallelMinOps));
  std::vector<std::string> w;
  auto program = DecodeMilProgram(bytes, 0, "wire", &w, 4);
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  auto& ops = program->functions[0].body.ops;
  for (size_t i : {size_t{0}, size_t{700}, size_t{1500}, ops.size() - 1}) {
    ir::Op& op = ops[i];
    ASSERT_NE(op.outputs.arena(), nullptr) << i;
    EXPECT_TRUE(program->storage->Owns(op.outputs.arena())) << "op " << i << "'s outputs";
    for (int k = 0; k < 300; ++k) op.outputs.emplace_back().name.assign("grown_" + std::to_string(k));
    op.inputs.emplace_back().param.assign("extra");
  }
  EXPECT_EQ(ops[700].outputs[1 + 299].name, "grown_299");
  EXPECT_EQ(ops[700].name, "op_with_a_long_name_700");
  EXPECT_EQ(ops.back().inputs.back().param, "extra");
  Arena unrelated;
  EXPECT_FALSE(program->storage->Owns(&unrelated));
}

}  // namespace
}  // namespace anepilot::format
