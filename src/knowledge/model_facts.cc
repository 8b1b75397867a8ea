#include <algorithm>

#include "anepilot/ane_rules.h"
#include "knowledge/value_source.h"

namespace anepilot::knowledge {

namespace {

void NoteRank(const ir::ValueType& type, std::string_view name, ModelFacts* f) {
  if (type.kind != ir::ValueType::Kind::kTensor || !type.tensor.rank_known) return;
  auto rank = static_cast<int64_t>(type.tensor.shape.size());
  if (rank > f->max_rank) {
    f->max_rank = rank;
    f->max_rank_value = name;
  }
}

void WalkBlock(const ir::Block& block, ModelFacts* f) {
  for (const ir::Op& op : block.ops) {
    if (!IsConstantProducerType(op.type)) ++f->compute_ops;
    for (const ir::Value& out : op.outputs) NoteRank(out.type, out.name, f);
    for (const ir::Block& nested : op.blocks) WalkBlock(nested, f);
  }
}

void AddModel(const ir::Model& model, ModelFacts* f) {
  for (const ir::Function& fn : model.program.functions) {
    for (const ir::Value& in : fn.inputs) NoteRank(in.type, in.name, f);
    WalkBlock(fn.body, f);
  }
  for (const ir::Feature& in : model.inputs) {
    const ir::Flexibility& flex = in.type.flexibility;
    if (flex.kind == ir::Flexibility::Kind::kRange) {
      // A range whose bounds are all equal is not flexible in practice.
      bool flexible = std::any_of(flex.ranges.begin(), flex.ranges.end(),
                                  [](const ir::ShapeRange& r) { return r.upper != r.lower; });
      if (flexible) f->range_flexible_inputs.push_back(in.name);
    } else if (flex.kind == ir::Flexibility::Kind::kEnumerated) {
      f->enumerated_flexible_inputs.push_back(in.name);
      f->max_enumerated_shapes = std::max(f->max_enumerated_shapes, flex.enumerated.size());
    }
  }
  if (!model.custom_layers.empty()) f->has_custom_layers = true;
  const ir::WeightsInfo& w = model.weights;
  f->model_bytes += (w.file_bytes != 0 ? w.file_bytes : w.referenced_bytes) + w.inline_bytes;
  for (const ir::Model& stage : model.stages) AddModel(stage, f);
}

}  // namespace

ModelFacts ModelFacts::FromModel(const ir::Model& model) {
  ModelFacts f;
  f.ml_program = model.kind == "mlProgram" || (!model.program.functions.empty() && model.program.version > 0);
  if (const ir::Function* main = model.program.FindFunction("main")) {
    f.opset = main->opset;
  } else if (!model.program.functions.empty()) {
    f.opset = model.program.functions.front().opset;
  }
  f.container = std::string(ir::ContainerName(model.container));
  AddModel(model, &f);
  return f;
}

}  // namespace anepilot::knowledge
