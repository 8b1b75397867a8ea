#include "format/mil_text_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "base/mapped_file.h"
#include "base/test_paths.h"
#include "format/mil_text_lexer.h"

namespace anepilot::format {
namespace {

using ir::DType;

ir::Program ParseOk(const std::string& text) {
  auto p = ParseMilText(text, "model.mil");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : ir::Program{};
}

std::string ParseErrorOf(const std::string& text) {
  auto p = ParseMilText(text, "model.mil");
  EXPECT_FALSE(p.ok());
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), StatusCode::kParseError);
  return p.status().message();
}

TEST(MilLexer, TokensCarryPositions) {
  MilLexer lex("program(1.3)\n  # comment\n  x -> -0x1.8p-2 \"a\\\"b\" >> -inf");
  MilToken t = lex.Next();
  EXPECT_EQ(t.kind, MilTokenKind::kIdentifier);
  EXPECT_EQ(t.text, "program");
  EXPECT_EQ(lex.Next().kind, MilTokenKind::kLParen);
  t = lex.Next();
  EXPECT_EQ(t.kind, MilTokenKind::kNumber);
  EXPECT_EQ(t.text, "1.3");
  EXPECT_EQ(lex.Next().kind, MilTokenKind::kRParen);
  t = lex.Next();
  EXPECT_EQ(t.text, "x");
  EXPECT_EQ(t.line, 3u);
  EXPECT_EQ(t.column, 3u);
  EXPECT_EQ(lex.Next().kind, MilTokenKind::kArrow);
  t = lex.Next();
  EXPECT_EQ(t.kind, MilTokenKind::kNumber);
  EXPECT_EQ(t.text, "-0x1.8p-2");
  t = lex.Next();
  EXPECT_EQ(t.kind, MilTokenKind::kString);
  EXPECT_EQ(DecodeMilString(t.text), "a\"b");
  EXPECT_EQ(lex.Next().kind, MilTokenKind::kRAngle);  // '>>' is two tokens
  EXPECT_EQ(lex.Next().kind, MilTokenKind::kRAngle);
  t = lex.Next();
  EXPECT_EQ(t.kind, MilTokenKind::kNumber);
  EXPECT_EQ(t.text, "-inf");
  EXPECT_EQ(lex.Next().kind, MilTokenKind::kEnd);
}

TEST(MilLexer, UnterminatedStringIsInvalid) {
  MilLexer lex("\"abc");
  EXPECT_EQ(lex.Next().kind, MilTokenKind::kInvalid);
}

TEST(MilTextParser, CorpusAddModel) {
  ANEPILOT_REQUIRE_SHARED();
  std::string path = anepilot::testing::CorpusDir() + "/coremltools-add-mlmodelc/add_model.mlmodelc/model.mil";
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  auto p = ParseMilText(*text, path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->text_version, "1.0");
  EXPECT_EQ(p->version, 1);
  EXPECT_EQ(p->attributes.at("buildInfo.coremltools-version"), "8.1");
  EXPECT_EQ(p->attributes.at("buildInfo.coremlc-version"), "3402.4.1");
  ASSERT_EQ(p->functions.size(), 1u);
  const ir::Function& fn = p->functions[0];
  EXPECT_EQ(fn.name, "main");
  EXPECT_EQ(fn.opset, "ios16");
  ASSERT_EQ(fn.inputs.size(), 2u);
  EXPECT_EQ(fn.inputs[1].name, "y");
  EXPECT_EQ(fn.inputs[1].type.tensor.ToString(), "fp16[1, 10]");
  ASSERT_EQ(fn.body.ops.size(), 1u);
  const ir::Op& mul = fn.body.ops[0];
  EXPECT_EQ(mul.type, "mul");
  EXPECT_EQ(mul.name, "op_3_cast_fp16");
  ASSERT_EQ(mul.inputs.size(), 2u);
  EXPECT_EQ(mul.inputs[0].param, "x");
  EXPECT_EQ(mul.inputs[0].bindings[0].name, "x");
  ASSERT_EQ(mul.outputs.size(), 1u);
  EXPECT_EQ(mul.outputs[0].name, "var_3");
  EXPECT_EQ(fn.body.outputs, std::vector<InlineString>{"var_3"});
}

TEST(MilTextParser, CorpusMultifunction) {
  ANEPILOT_REQUIRE_SHARED();
  std::string path = anepilot::testing::CorpusDir() +
                     "/mlmodelcexport-multifunction-textonly/expected-macos.mlmodelc/model.mil";
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  auto p = ParseMilText(*text, path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->text_version, "1.3");
  ASSERT_EQ(p->functions.size(), 2u);
  EXPECT_EQ(p->functions[0].name, "first");
  EXPECT_EQ(p->functions[1].name, "second");
  EXPECT_EQ(p->functions[1].opset, "ios18");
  const ir::TensorType& in = p->functions[0].inputs[0].type.tensor;
  EXPECT_EQ(in.dtype, DType::kFloat32);
  ASSERT_EQ(in.shape.size(), 1u);
  EXPECT_FALSE(in.shape[0].known());
  EXPECT_EQ(p->functions[0].body.ops[0].type, "relu");
  // A function's attributes are kept as their source text.
  EXPECT_NE(p->attributes.at("second.FlexibleShapeInformation").find("\"RangeDims\""), std::string::npos);
}

TEST(MilTextParser, ScalarsBlobsStatesAndSymbols) {
  ir::Program p = ParseOk(R"(program(1.3)
[buildInfo = dict<string, string>({{"coremlc-version", "3505.4.1"}})]
{
  func main<ios18>(tensor<fp16, [1, is0, 64]> x, state<tensor<fp16, [1, 4]>> cache) {
    string pad = const()[name = string("pad"), val = string("valid")];
    int32 groups = const()[name = string("groups"), val = int32(1)];
    bool flag = const()[name = string("flag"), val = bool(true)];
    tensor<fp32, []> eps = const()[name = tensor<string, []>("eps"), val = tensor<fp32, []>(0x1.4f8b58p-17)];
    tensor<int32, [4]> perm = const()[name = string("perm"), val = tensor<int32, [4]>([0, 2, -1, 3])];
    tensor<fp16, [64, 64]> w = const()[name = string("w"), val = tensor<fp16, [64, 64]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(128)))];
    tensor<fp16, [1, is0, 64]> y = linear(x = x, weight = w)[name = string("lin")];
  } -> (y);
}
)");
  EXPECT_EQ(p.attributes.at("buildInfo.coremlc-version"), "3505.4.1");
  const ir::Function& fn = p.functions.at(0);
  EXPECT_EQ(fn.inputs[0].type.tensor.shape[1], ir::Dim::Symbol("is0"));
  EXPECT_EQ(fn.inputs[1].type.kind, ir::ValueType::Kind::kState);
  EXPECT_EQ(fn.inputs[1].type.tensor.ToString(), "fp16[1, 4]");
  const auto& ops = fn.body.ops;
  ASSERT_EQ(ops.size(), 7u);
  EXPECT_EQ(ops[0].outputs[0].type.tensor.dtype, DType::kString);
  EXPECT_EQ(ops[0].attribute("val")->strings, std::vector<InlineString>{"valid"});
  EXPECT_EQ(ops[1].attribute("val")->numbers, std::vector<double>{1});
  EXPECT_TRUE(ops[1].outputs[0].type.tensor.shape.empty());
  EXPECT_EQ(ops[2].attribute("val")->numbers, std::vector<double>{1});
  EXPECT_NEAR(ops[3].attribute("val")->numbers.at(0), 1e-5, 1e-9);
  EXPECT_EQ(ops[3].name, "eps");
  EXPECT_EQ(ops[4].attribute("val")->numbers, (std::vector<double>{0, 2, -1, 3}));
  const ir::Constant* blob = ops[5].attribute("val");
  ASSERT_TRUE(blob && blob->blob);
  EXPECT_EQ(blob->blob->file, "@model_path/weights/weight.bin");
  EXPECT_EQ(blob->blob->offset, 128u);
  EXPECT_EQ(blob->byte_size, 64u * 64u * 2u);
  EXPECT_EQ(blob->type.tensor.ToString(), "fp16[64, 64]");
  EXPECT_EQ(ops[6].input("weight")->name, "w");
  EXPECT_EQ(ops[6].outputs[0].type.tensor.shape[1].symbol, "is0");
}

TEST(MilTextParser, VariadicImmediateArgumentsAndMultipleOutputs) {
  ir::Program p = ParseOk(R"(program(1.0)
{
  func main<ios16>(tensor<fp32, [2, 4]> a, tensor<fp32, [2, 4]> b) {
    tensor<fp32, [4, 4]> c = concat(axis = tensor<int32, []>(0), interleave = tensor<bool, []>(false), values = (a, b))[name = tensor<string, []>("c")];
    tensor<fp32, [2, 4]> s_0, tensor<fp32, [2, 4]> s_1 = split(x = c, num_splits = tensor<int32, []>(2), axis = tensor<int32, []>(0))[name = tensor<string, []>("s")];
    tensor<fp32, [2, 4]> r = relu(x = s_1);
  } -> (s_0, r);
}
)");
  const auto& ops = p.functions.at(0).body.ops;
  ASSERT_EQ(ops.size(), 3u);
  const ir::Argument& values = ops[0].inputs[2];
  EXPECT_EQ(values.param, "values");
  ASSERT_EQ(values.bindings.size(), 2u);
  EXPECT_EQ(values.bindings[1].name, "b");
  ASSERT_TRUE(ops[0].inputs[0].bindings[0].is_constant());
  EXPECT_EQ(ops[0].inputs[0].bindings[0].constant->numbers, std::vector<double>{0});
  ASSERT_EQ(ops[1].outputs.size(), 2u);
  EXPECT_EQ(ops[1].outputs[1].name, "s_1");
  EXPECT_EQ(ops[2].name, "r");  // no name attribute: the first output names the op
  EXPECT_EQ(p.functions[0].body.outputs, (std::vector<InlineString>{"s_0", "r"}));
}

TEST(MilTextParser, NestedBlocksListsDictsTuples) {
  ir::Program p = ParseOk(R"(program(1.0)
{
  func main<ios17>(tensor<int32, [1]> n, tensor<bool, []> p) {
    (tensor<int32, [1]> i_out, list<tensor<fp32, [3]>, ?> acc) = while_loop(loop_vars = (n, n))[name = string("loop")]
      (tensor<int32, [1]> i, list<tensor<fp32, [3]>, ?> l) {
        tensor<bool, []> go = less(x = i, y = tensor<int32, [1]>([10]));
      } -> (go)
      (tensor<int32, [1]> i2, list<tensor<fp32, [3]>, ?> l2) {
        tensor<int32, [1]> next = add(x = i2, y = tensor<int32, [1]>([1]));
      } -> (next, l2);
    tensor<int32, [1]> picked = cond(pred = p) {
        tensor<int32, [1]> t = identity(x = n);
      } -> (t)
      {
        tensor<int32, [1]> f = identity(x = i_out);
      } -> (f);
    dict<string, int32> d = const()[val = dict<string, int32>({{"a", 1}, {"b", 2}})];
    tuple<string, int32> tp = const()[val = tuple<string, int32>(("x", 3))];
  } -> (picked);
}
)");
  const auto& ops = p.functions.at(0).body.ops;
  ASSERT_EQ(ops.size(), 4u);
  const ir::Op& loop = ops[0];
  EXPECT_EQ(loop.type, "while_loop");
  EXPECT_EQ(loop.outputs[1].type.kind, ir::ValueType::Kind::kList);
  EXPECT_EQ(loop.outputs[1].type.tensor.ToString(), "fp32[3]");
  ASSERT_EQ(loop.blocks.size(), 2u);
  EXPECT_EQ(loop.blocks[0].inputs[0].name, "i");
  EXPECT_EQ(loop.blocks[1].ops[0].type, "add");
  EXPECT_EQ(loop.blocks[1].outputs, (std::vector<InlineString>{"next", "l2"}));
  ASSERT_EQ(ops[1].blocks.size(), 2u);
  EXPECT_EQ(ops[1].blocks[1].ops[0].outputs[0].name, "f");
  EXPECT_EQ(ops[2].outputs[0].type.kind, ir::ValueType::Kind::kDictionary);
  EXPECT_EQ(ops[2].attribute("val")->numbers, (std::vector<double>{1, 2}));
  EXPECT_EQ(ops[3].outputs[0].type.members.size(), 2u);
  EXPECT_EQ(p.functions[0].CountOps(), 8u);
}

TEST(MilTextParser, LargeImmediatesKeepOnlyTheirSize) {
  std::string values;
  for (int i = 0; i < 100; ++i) values += (i ? ", " : "") + std::to_string(i);
  ir::Program p = ParseOk("program(1.0)\n{\n func main<ios16>() {\n"
                          "  tensor<int32, [100]> v = const()[val = tensor<int32, [100]>([" + values +
                          "])];\n } -> (v);\n}\n");
  const ir::Constant* c = p.functions.at(0).body.ops.at(0).attribute("val");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->values_elided);
  EXPECT_TRUE(c->numbers.empty());
  EXPECT_EQ(c->byte_size, 400u);
}

TEST(MilTextParser, SyntaxErrorReportsLineAndColumn) {
  std::string msg = ParseErrorOf(
      "program(1.0)\n"
      "{\n"
      "  func main<ios16>(tensor<fp16, [1]> x) {\n"
      "    tensor<fp16, [1]> y = relu(x = x xyz)[name = string(\"y\")];\n"
      "  } -> (y);\n"
      "}\n");
  EXPECT_EQ(msg, "model.mil:4:38: expected ')' after argument list, found 'xyz'");
}

TEST(MilTextParser, OtherSyntaxErrors) {
  EXPECT_EQ(ParseErrorOf(""), "model.mil:1:1: expected 'program' at the start of the file, found end of file");
  EXPECT_EQ(ParseErrorOf("program(1.0)\n{\n  func main<ios16>() {\n"),
            "model.mil:4:1: expected '}' to close the body of function, found end of file");
  EXPECT_NE(ParseErrorOf("program(1.0) { func main<ios16>(tensor<fp99, [1]> x) { } -> (x); }")
                .find("1:40: expected an element type (fp16, int32, ...) in tensor<...>, found 'fp99'"),
            std::string::npos);
  EXPECT_NE(ParseErrorOf("program(1.0) { func main<ios16>() { } -> (x) } trailing")
                .find("expected end of file after the program, found 'trailing'"),
            std::string::npos);
  EXPECT_NE(ParseErrorOf("program(1.0) { func main<ios16>() { tensor<fp16, [1]> y = c()[val = "
                         "tensor<fp16, [1]>(BLOBFILE(path = string(\"w.bin\")))]; } -> (y) }")
                .find("BLOBFILE"),
            std::string::npos);
  EXPECT_NE(ParseErrorOf("program(1.0) { func main<ios16>() { \"unterminated } }").find("found '\"unterminated"),
            std::string::npos);
}

TEST(MilTextParser, BlobOffsetsThatAreNoByteOffsetsAreErrorsNamingTheValue) {
  // inf once reached a double -> uint64 conversion (undefined behaviour; found by the fuzzer).
  auto program = [](const std::string& offset) {
    return "program(1.0)\n{\n  func main<ios16>() {\n    tensor<fp16, [2]> w = const()[name = string(\"w\"), val = "
           "tensor<fp16, [2]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = " +
           offset + "))];\n  } -> (w);\n}\n";
  };
  for (const char* bad : {"uint64(inf)", "uint64(-inf)", "uint64(nan)", "uint64(-64)", "uint64(1.5)",
                          "uint64(1e300)", "uint64(9007199254740992)"}) {
    std::string msg = ParseErrorOf(program(bad));
    EXPECT_NE(msg.find("model.mil:4:"), std::string::npos) << bad << ": " << msg;
    EXPECT_NE(msg.find("is not a byte offset"), std::string::npos) << bad << ": " << msg;
  }
  // The largest offset a double holds exactly still reads.
  ir::Program ok = ParseOk(program("uint64(9007199254740991)"));
  EXPECT_EQ(ok.functions[0].body.ops[0].attributes.at("val").blob->offset, 9007199254740991u);
}

TEST(MilTextParser, HostileNestingIsAnErrorNotACrash) {
  std::string deep = "program(1.0) { func main<ios16>() { tensor<fp16, [1]> y = c()[val = tensor<fp16, [1]>(";
  deep += std::string(100000, '[');
  std::string msg = ParseErrorOf(deep);
  EXPECT_NE(msg.find("nesting deeper than 64 levels"), std::string::npos) << msg;
}

TEST(MilTextParser, TwoHundredThousandOps) {
  std::string text = "program(1.0)\n{\n  func main<ios16>(tensor<fp16, [1, 64]> x) {\n";
  std::string prev = "x";
  const int kOps = 200000;
  text.reserve(kOps * 100);
  for (int i = 0; i < kOps; ++i) {
    std::string name = "v" + std::to_string(i);
    text += "    tensor<fp16, [1, 64]> " + name + " = relu(x = " + prev +
            ")[name = tensor<string, []>(\"" + name + "\")];\n";
    prev = name;
  }
  text += "  } -> (" + prev + ");\n}\n";
  auto p = ParseMilText(text, "big.mil");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->functions.at(0).CountOps(), static_cast<size_t>(kOps));
  EXPECT_EQ(p->functions[0].body.ops.back().input("x")->name, "v199998");
}

}  // namespace
}  // namespace anepilot::format
