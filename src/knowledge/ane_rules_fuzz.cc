// libFuzzer target: the ane_rules.json loader/validator, and evaluation of
// whatever rules it accepts against a small attention + weight-transform
// program. Seed corpus: data/ane_rules.json.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "anepilot/ane_rules.h"

namespace {

using namespace anepilot;

ir::Value Tensor(std::string name, ir::DType dtype, std::vector<int64_t> shape) {
  ir::Value v;
  v.name = std::move(name);
  v.type.tensor.dtype = dtype;
  for (int64_t d : shape) v.type.tensor.shape.push_back(ir::Dim::Known(d));
  return v;
}

ir::Op MakeOp(std::string type, std::string name, std::vector<std::pair<std::string, std::string>> inputs,
              ir::Value out) {
  ir::Op op;
  op.type = std::move(type);
  op.name = std::move(name);
  for (auto& [param, value] : inputs) {
    ir::Binding b;
    b.name = value;
    op.inputs.push_back(ir::Argument{param, {b}});
  }
  op.outputs.push_back(std::move(out));
  return op;
}

const ir::Function& Program() {
  static const ir::Function fn = [] {
    ir::Function f;
    f.name = "main";
    f.inputs.push_back(Tensor("q", ir::DType::kFloat16, {1, 8, 4096, 64}));
    f.body.ops.push_back(MakeOp("constexpr_affine_dequantize", "deq", {}, Tensor("wq", ir::DType::kFloat16, {8, 8, 1, 1})));
    f.body.ops.push_back(MakeOp("pow", "wpow", {{"x", "wq"}, {"y", "wq"}}, Tensor("w", ir::DType::kFloat16, {8, 8, 1, 1})));
    f.body.ops.push_back(MakeOp("matmul", "mm", {{"x", "q"}, {"y", "q"}}, Tensor("s", ir::DType::kFloat16, {1, 8, 4096, 4096})));
    f.body.ops.push_back(MakeOp("softmax", "sm", {{"x", "s"}}, Tensor("p", ir::DType::kFloat16, {1, 8, 4096, 4096})));
    f.body.ops.push_back(MakeOp("conv", "cv", {{"x", "p"}, {"weight", "w"}}, Tensor("y", ir::DType::kFloat32, {1, 8, 4096, 4096})));
    ir::Op mystery = MakeOp("mystery_op", "mx", {{"x", "y"}}, Tensor("z", ir::DType::kInt32, {1, 2, 3, 4, 5, 6}));
    mystery.outputs[0].type.tensor.shape[1] = ir::Dim::Symbol("n");
    f.body.ops.push_back(std::move(mystery));
    return f;
  }();
  return fn;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = knowledge::AneRuleSet::Parse(text, "fuzz.json");
  if (!rules.ok()) return 0;
  const ir::Function& fn = Program();
  ir::GraphIndex index(fn);
  knowledge::ModelFacts facts;
  facts.range_flexible_inputs = {"q"};
  facts.model_bytes = 3ull << 30;
  facts.container = "mlpackage";
  knowledge::OpContext ctx{&index, fn.name, &facts};
  std::vector<knowledge::RuleFinding> out;
  for (int gen : {0, 11, 14, 17, 18, 40}) {
    for (const ir::Op* op : index.Ops()) rules->EvaluateInto(*op, ctx, gen, &out);
    (void)rules->EvaluateModel(facts, "H" + std::to_string(gen), knowledge::Platform::kIos);
  }
  return 0;
}
