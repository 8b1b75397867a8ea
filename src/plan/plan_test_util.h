// Helpers for the planner's tests: a planner on the repository's data files,
// and hand-built IR programs.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "anepilot/ir.h"
#include "anepilot/plan.h"

namespace anepilot::plan::testing {

inline std::string DataFile(const std::string& name) {
  return std::string(ANEPILOT_SOURCE_DIR) + "/data/" + name;
}

inline Planner LoadPlannerOrDie() {
  auto p = Planner::Load({DataFile("devices.json"), DataFile("ane_rules.json"), DataFile("cost_model.json")});
  if (!p.ok()) {
    ADD_FAILURE() << p.status().ToString();
    std::abort();
  }
  return std::move(p).value();
}

inline ir::TensorType Tensor(ir::DType dtype, std::vector<int64_t> dims) {
  ir::TensorType t;
  t.dtype = dtype;
  for (int64_t d : dims) t.shape.push_back(ir::Dim::Known(d));
  return t;
}

inline ir::ValueType Type(ir::TensorType t) {
  ir::ValueType v;
  v.tensor = std::move(t);
  return v;
}

// Builds an ML Program "main" op by op.
class ProgramBuilder {
 public:
  ProgramBuilder() {
    model_.kind = "mlProgram";
    model_.path = "hand-built";
    model_.container = ir::Container::kMlPackage;
    model_.program.version = 1;
    fn_.name = "main";
    fn_.opset = "CoreML7";
  }

  std::string Input(const std::string& name, ir::TensorType t) {
    fn_.inputs.push_back({name, Type(std::move(t))});
    return name;
  }

  // An op with named inputs (param -> value name) and one output.
  std::string Op(const std::string& type, const std::string& name,
                 std::vector<std::pair<std::string, std::string>> inputs, ir::TensorType out) {
    ir::Op op;
    op.type = type;
    op.name = name;
    for (auto& [param, value] : inputs) {
      ir::Argument a;
      a.param = param;
      ir::Binding b;
      b.name = value;
      a.bindings.push_back(b);
      op.inputs.push_back(a);
    }
    op.outputs.push_back({name, Type(std::move(out))});
    fn_.body.ops.push_back(std::move(op));
    return name;
  }

  // A const op holding a tensor of `t` (a blob reference, values not decoded).
  std::string Const(const std::string& name, ir::TensorType t) {
    ir::Op op;
    op.type = "const";
    op.name = name;
    ir::Constant c;
    c.type = Type(t);
    c.byte_size = static_cast<uint64_t>(t.byte_size().value_or(0));
    c.values_elided = true;
    op.attributes["val"] = c;
    op.outputs.push_back({name, Type(std::move(t))});
    fn_.body.ops.push_back(std::move(op));
    return name;
  }

  ir::Model Build(std::vector<std::string> outputs) {
    fn_.body.outputs.assign(outputs.begin(), outputs.end());
    model_.program.functions.push_back(fn_);
    return model_;
  }

 private:
  ir::Model model_;
  ir::Function fn_;
};

}  // namespace anepilot::plan::testing
