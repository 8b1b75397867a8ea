#include "knowledge/value_source.h"

namespace anepilot::knowledge {

bool IsConstantProducerType(std::string_view op_type) {
  return op_type == "const" || op_type.starts_with("constexpr_") || op_type == "loadConstant" ||
         op_type == "loadConstantND";
}

ValueSource SourceOfOp(const ir::GraphIndex& graph, const ir::Op& op, int max_depth) {
  if (op.type == "const" || op.type == "loadConstant" || op.type == "loadConstantND") return ValueSource::kConst;
  if (op.type.starts_with("constexpr_")) return ValueSource::kConstexpr;
  if (max_depth <= 0) return ValueSource::kActivation;
  bool via_constexpr = false;
  for (const ir::Argument& arg : op.inputs) {
    for (const ir::Binding& b : arg.bindings) {
      if (b.is_constant()) continue;
      switch (SourceOfValue(graph, b.name, max_depth - 1)) {
        case ValueSource::kActivation: return ValueSource::kActivation;
        case ValueSource::kConstexpr:
        case ValueSource::kConstexprTransform: via_constexpr = true; break;
        case ValueSource::kConst:
        case ValueSource::kConstTransform: break;
      }
    }
  }
  // Ops with nested blocks (loops, conditionals) depend on what their blocks
  // read; treat them as activations rather than trace into the blocks.
  if (!op.blocks.empty()) return ValueSource::kActivation;
  return via_constexpr ? ValueSource::kConstexprTransform : ValueSource::kConstTransform;
}

ValueSource SourceOfValue(const ir::GraphIndex& graph, std::string_view name, int max_depth) {
  const ir::Op* producer = graph.Producer(name);
  if (producer == nullptr) return ValueSource::kActivation;  // function / block input
  return SourceOfOp(graph, *producer, max_depth);
}

std::string_view ValueSourceName(ValueSource s) {
  switch (s) {
    case ValueSource::kConst: return "const";
    case ValueSource::kConstexpr: return "constexpr";
    case ValueSource::kConstexprTransform: return "constexpr_transform";
    case ValueSource::kConstTransform: return "const_transform";
    case ValueSource::kActivation: return "activation";
  }
  return "activation";
}

}  // namespace anepilot::knowledge
