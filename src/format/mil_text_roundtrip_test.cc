// The model.mil parser and the protobuf reader must give the same IR for the
// same program. Real ML Programs from the corpus (thousands of ops, constexpr
// quantization ops, blob references) are written as MIL text by
// tests/fixtures/mil_text_from_package.py (coremltools' protobuf bindings,
// coremlc's text syntax) and parsed back.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "anepilot/model_reader.h"
#include "base/mapped_file.h"
#include "base/test_paths.h"
#include "format/mil_text_parser.h"

namespace anepilot::format {
namespace {

std::string ConstantDifference(const ir::Constant& a, const ir::Constant& b) {
  if (!(a.type == b.type)) return "type " + a.type.ToString() + " vs " + b.type.ToString();
  if (a.blob.has_value() != b.blob.has_value()) return "blob vs immediate";
  if (a.blob && (a.blob->offset != b.blob->offset || a.blob->file != b.blob->file)) return "blob reference";
  if (!a.values_elided && !b.values_elided) {
    if (a.numbers != b.numbers) return "numbers " + a.ToString() + " vs " + b.ToString();
    if (a.strings != b.strings) return "strings " + a.ToString() + " vs " + b.ToString();
  }
  return "";
}

std::string BlockDifference(const ir::Block& a, const ir::Block& b) {
  if (a.ops.size() != b.ops.size()) return "op count " + std::to_string(a.ops.size()) + " vs " + std::to_string(b.ops.size());
  if (a.outputs != b.outputs) return "block outputs";
  if (a.inputs.size() != b.inputs.size()) return "block input count";
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    if (a.inputs[i].name != b.inputs[i].name || !(a.inputs[i].type == b.inputs[i].type)) return "block input " + a.inputs[i].name;
  }
  for (size_t i = 0; i < a.ops.size(); ++i) {
    const ir::Op& x = a.ops[i];
    const ir::Op& y = b.ops[i];
    std::string where = "op " + std::to_string(i) + " (" + x.name + "): ";
    if (x.type != y.type || x.name != y.name) return where + "type/name " + y.type + " " + y.name;
    if (x.outputs.size() != y.outputs.size()) return where + "output count";
    for (size_t o = 0; o < x.outputs.size(); ++o) {
      if (x.outputs[o].name != y.outputs[o].name || !(x.outputs[o].type == y.outputs[o].type)) {
        return where + "output " + x.outputs[o].type.ToString() + " vs " + y.outputs[o].type.ToString();
      }
    }
    if (x.inputs.size() != y.inputs.size()) return where + "input count";
    for (const ir::Argument& p : x.inputs) {
      // Inputs are a protobuf map: their order is not meaningful.
      auto match = std::find_if(y.inputs.begin(), y.inputs.end(),
                                [&](const ir::Argument& q) { return q.param == p.param; });
      if (match == y.inputs.end()) return where + "input " + p.param + " missing";
      const ir::Argument& q = *match;
      if (p.bindings.size() != q.bindings.size()) return where + "bindings of " + p.param;
      for (size_t j = 0; j < p.bindings.size(); ++j) {
        if (p.bindings[j].name != q.bindings[j].name) return where + "binding of " + p.param;
        if (p.bindings[j].constant.has_value() != q.bindings[j].constant.has_value()) return where + "binding kind of " + p.param;
        if (p.bindings[j].constant) {
          std::string d = ConstantDifference(*p.bindings[j].constant, *q.bindings[j].constant);
          if (!d.empty()) return where + p.param + ": " + d;
        }
      }
    }
    if (x.attributes.size() != y.attributes.size()) return where + "attribute count";
    for (const auto& [key, c] : x.attributes) {
      auto it = y.attributes.find(key);
      if (it == y.attributes.end()) return where + "attribute " + key + " missing";
      std::string d = ConstantDifference(c, it->second);
      if (!d.empty()) return where + key + ": " + d;
    }
    if (x.blocks.size() != y.blocks.size()) return where + "nested block count";
    for (size_t k = 0; k < x.blocks.size(); ++k) {
      std::string d = BlockDifference(x.blocks[k], y.blocks[k]);
      if (!d.empty()) return where + "nested block: " + d;
    }
  }
  return "";
}

TEST(MilTextRoundTrip, CorpusProgramsReadTheSameFromTextAndProtobuf) {
  ANEPILOT_REQUIRE_SHARED();
  std::string scratch = anepilot::testing::ScratchDir("mil-roundtrip");
  // int8 constexpr quantization (2,665 ops), a TF LSTM model, a TF segmentation model.
  for (const char* rel : {"faceapp-p3-ct83-quant/problem3_quant.mlpackage",
                          "dtln-aec128-part1/DTLN_AEC_128_Part1.mlpackage",
                          "mlperf-mosaic-seg/Mosaic.mlpackage"}) {
    SCOPED_TRACE(rel);
    std::string package = anepilot::testing::CorpusDir() + "/" + rel;
    std::string mil = scratch + "/model.mil";
    std::string cmd = ANEPILOT_PYTHON " " ANEPILOT_SOURCE_DIR "/tests/fixtures/mil_text_from_package.py " + package +
                      " " + mil + " > " + scratch + "/log.txt 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      if (anepilot::testing::InCi()) FAIL() << "mil_text_from_package.py failed, see " << scratch;
      GTEST_SKIP() << "coremltools unavailable (mil_text_from_package.py failed)";
    }
    auto proto = ReadModel(package);
    ASSERT_TRUE(proto.ok()) << proto.status().ToString();
    auto text = ReadFileToString(mil);
    ASSERT_TRUE(text.ok());
    auto parsed = ParseMilText(*text, mil);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    ASSERT_EQ(parsed->functions.size(), proto->program.functions.size());
    EXPECT_EQ(parsed->attributes, proto->program.attributes);
    for (size_t f = 0; f < parsed->functions.size(); ++f) {
      const ir::Function& a = proto->program.functions[f];
      const ir::Function& b = parsed->functions[f];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.opset, b.opset);
      ASSERT_EQ(a.inputs.size(), b.inputs.size());
      for (size_t i = 0; i < a.inputs.size(); ++i) {
        EXPECT_EQ(a.inputs[i].name, b.inputs[i].name);
        EXPECT_EQ(a.inputs[i].type.ToString(), b.inputs[i].type.ToString());
      }
      EXPECT_GT(a.CountOps(), 100u);
      EXPECT_EQ(BlockDifference(a.body, b.body), "");
    }
  }
}

}  // namespace
}  // namespace anepilot::format
