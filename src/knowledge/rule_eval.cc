// Evaluating compiled ANE rules against ops and models. Hot path: the planner
// calls EvaluateInto for every op x ANE generation, so nothing here allocates
// unless a rule matches (the "why" text is built only for matches).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "anepilot/ane_rules.h"
#include "knowledge/rule_condition.h"
#include "knowledge/value_source.h"

namespace anepilot::knowledge {

using Subject = RuleCondition::Subject;
using Property = RuleCondition::Property;
using Cmp = RuleCondition::Cmp;

namespace {

std::string_view CmpText(Cmp c) {
  switch (c) {
    case Cmp::kGt: return ">";
    case Cmp::kGe: return ">=";
    case Cmp::kLt: return "<";
    case Cmp::kLe: return "<=";
    case Cmp::kEq: return "==";
    case Cmp::kNe: return "!=";
    case Cmp::kIn: return "in";
    case Cmp::kNotIn: return "not in";
  }
  return "?";
}

bool CompareNumber(const RuleCondition& c, double v) {
  switch (c.cmp) {
    case Cmp::kGt: return v > c.numbers[0];
    case Cmp::kGe: return v >= c.numbers[0];
    case Cmp::kLt: return v < c.numbers[0];
    case Cmp::kLe: return v <= c.numbers[0];
    case Cmp::kEq: return v == c.numbers[0];
    case Cmp::kNe: return v != c.numbers[0];
    case Cmp::kIn: return std::find(c.numbers.begin(), c.numbers.end(), v) != c.numbers.end();
    case Cmp::kNotIn: return std::find(c.numbers.begin(), c.numbers.end(), v) == c.numbers.end();
  }
  return false;
}

bool CompareText(const RuleCondition& c, std::string_view v) {
  bool found = std::find(c.texts.begin(), c.texts.end(), v) != c.texts.end();
  switch (c.cmp) {
    case Cmp::kEq:
    case Cmp::kIn: return found;
    case Cmp::kNe:
    case Cmp::kNotIn: return !found;
    default: return false;
  }
}

std::string Threshold(const RuleCondition& c) {
  if (c.is_text) return c.texts.size() == 1 ? c.texts[0] : fmt::format("{}", fmt::join(c.texts, ", "));
  if (c.numbers.size() == 1) return fmt::format("{}", c.numbers[0]);
  return fmt::format("[{}]", fmt::join(c.numbers, ", "));
}

std::string HumanBytes(int64_t bytes) {
  if (bytes >= (int64_t{1} << 30)) return fmt::format("{:.1f} GiB", bytes / double(int64_t{1} << 30));
  if (bytes >= (int64_t{1} << 20)) return fmt::format("{:.0f} MiB", bytes / double(int64_t{1} << 20));
  if (bytes >= 1024) return fmt::format("{:.0f} KiB", bytes / 1024.0);
  return fmt::format("{} B", bytes);
}

// A tensor an op reads or writes, with the name it has in the program.
struct TensorRef {
  std::string_view name;
  const ir::TensorType* type;
};

// Per-op facts shared by all rules evaluated on one op, computed on first use:
// input tensor types (one graph lookup per binding) and the op's value source.
struct OpScratch {
  bool inputs_ready = false;
  std::vector<TensorRef>* inputs = nullptr;  // thread-local buffer, reused across ops
  int source = -1;                           // ValueSource, -1 until computed
};

// Tests one tensor property; appends a readable reason to *why when it holds
// and why != nullptr.
bool TestTensor(const RuleCondition& c, const TensorRef& t, std::string* why) {
  const ir::TensorType& type = *t.type;
  switch (c.property) {
    case Property::kRank: {
      if (!type.rank_known) return false;
      if (!CompareNumber(c, static_cast<double>(type.shape.size()))) return false;
      if (why) *why = fmt::format("{} {} has rank {} ({} {})", t.name, type.ToString(), type.shape.size(), CmpText(c.cmp), Threshold(c));
      return true;
    }
    case Property::kDType: {
      if (type.dtype == ir::DType::kUnknown) return false;
      if (!CompareText(c, ir::DTypeName(type.dtype))) return false;
      if (why) *why = fmt::format("{} is {}", t.name, type.ToString());
      return true;
    }
    case Property::kDim: {
      if (!type.rank_known || type.shape.empty()) return false;
      const int rank = static_cast<int>(type.shape.size());
      bool any = false;
      bool all = true;
      int hit_axis = -1;
      auto visit = [&](int axis) {
        const ir::Dim& d = type.shape[axis];
        bool ok = d.known() && CompareNumber(c, static_cast<double>(d.size));
        if (ok && hit_axis < 0) hit_axis = axis;
        any |= ok;
        all &= ok;
      };
      if (c.axes_from_end.empty()) {
        for (int a = 0; a < rank; ++a) visit(a);
      } else {
        bool any_axis_present = false;
        for (int from_end : c.axes_from_end) {
          if (from_end <= rank) {
            any_axis_present = true;
            visit(rank - from_end);
          }
        }
        if (!any_axis_present) return false;
      }
      if (!(c.all ? all : any)) return false;
      if (why) {
        *why = fmt::format("{} {} has axis {} = {} ({} {})", t.name, type.ToString(), hit_axis,
                           type.shape[hit_axis].size, CmpText(c.cmp), Threshold(c));
      }
      return true;
    }
    case Property::kElements: {
      std::optional<int64_t> n = type.element_count();
      if (!n || !CompareNumber(c, static_cast<double>(*n))) return false;
      if (why) *why = fmt::format("{} {} has {} elements ({} {})", t.name, type.ToString(), *n, CmpText(c.cmp), Threshold(c));
      return true;
    }
    case Property::kBytes: {
      std::optional<int64_t> n = type.byte_size();
      if (!n || !CompareNumber(c, static_cast<double>(*n))) return false;
      if (why) {
        *why = fmt::format("{} {} is {} ({} {})", t.name, type.ToString(), HumanBytes(*n), CmpText(c.cmp),
                           HumanBytes(static_cast<int64_t>(c.numbers[0])));
      }
      return true;
    }
    case Property::kShapeKnown: {
      bool known = type.fully_known();
      if (!CompareNumber(c, known ? 1 : 0)) return false;
      if (why) *why = fmt::format("{} {} {}", t.name, type.ToString(), known ? "has a fixed shape" : "has a dynamic shape");
      return true;
    }
    default: return false;
  }
}

// The tensor type behind a binding, or nullptr (non-tensor, unknown name).
const ir::TensorType* BindingTensor(const ir::Binding& b, const ir::GraphIndex& graph) {
  const ir::ValueType* vt = b.is_constant() ? &b.constant->type : graph.TypeOf(b.name);
  if (vt == nullptr || vt->kind != ir::ValueType::Kind::kTensor) return nullptr;
  return &vt->tensor;
}

bool TestTensors(const RuleCondition& c, const ir::Op& op, const OpContext& ctx, OpScratch& scratch,
                 std::string* why) {
  bool any = false;
  bool all = true;
  bool seen = false;
  auto visit = [&](std::string_view name, std::string_view role, const ir::TensorType* type) {
    if (type == nullptr || (!c.all && any)) return;
    seen = true;
    std::string local;
    bool ok = TestTensor(c, TensorRef{name, type}, why != nullptr && !any ? &local : nullptr);
    if (ok && why != nullptr && !any) *why = fmt::format("{} {}", role, local);
    any |= ok;
    all &= ok;
  };
  if (c.subject == Subject::kInputs || c.subject == Subject::kTensors) {
    if (!scratch.inputs_ready) {
      scratch.inputs->clear();
      for (const ir::Argument& arg : op.inputs) {
        for (const ir::Binding& b : arg.bindings) {
          const ir::TensorType* t = BindingTensor(b, *ctx.graph);
          if (t != nullptr) {
            scratch.inputs->push_back(
                TensorRef{b.is_constant() ? std::string_view(arg.param) : std::string_view(b.name), t});
          }
        }
      }
      scratch.inputs_ready = true;
    }
    for (const TensorRef& in : *scratch.inputs) visit(in.name, "input", in.type);
  }
  if (c.subject == Subject::kOutputs || c.subject == Subject::kTensors) {
    for (const ir::Value& v : op.outputs) {
      visit(v.name, "output", v.type.kind == ir::ValueType::Kind::kTensor ? &v.type.tensor : nullptr);
    }
  }
  return seen && (c.all ? all : any);
}

bool TestInput(const RuleCondition& c, const ir::Op& op, const OpContext& ctx, std::string* why) {
  const std::string& param = c.names[0];
  const ir::Binding* b = op.input(param);
  if (b == nullptr) return false;
  if (c.property == Property::kSource) {
    ValueSource s = b->is_constant() ? ValueSource::kConst : SourceOfValue(*ctx.graph, b->name);
    if (!CompareText(c, ValueSourceName(s))) return false;
    if (why) {
      const ir::Op* producer = b->is_constant() ? nullptr : ctx.graph->Producer(b->name);
      *why = producer ? fmt::format("input {} ({}) is {}: produced by {} ({}) at prediction time", param, b->name,
                                    ValueSourceName(s), producer->name, producer->type)
                      : fmt::format("input {} is {}", param, ValueSourceName(s));
    }
    return true;
  }
  const ir::TensorType* t = BindingTensor(*b, *ctx.graph);
  if (t == nullptr) return false;
  std::string local;
  if (!TestTensor(c, TensorRef{b->is_constant() ? std::string_view(param) : std::string_view(b->name), t},
                  why ? &local : nullptr))
    return false;
  if (why) *why = fmt::format("input {}: {}", param, local);
  return true;
}

// The constant behind attribute / constant input `name`: an attribute, an
// immediate binding, or the value of the "const" op producing the binding.
const ir::Constant* FindConstant(const ir::Op& op, const std::string& name, const ir::GraphIndex& graph) {
  if (auto it = op.attributes.find(name); it != op.attributes.end()) return &it->second;
  const ir::Binding* b = op.input(name);
  if (b == nullptr) return nullptr;
  if (b->is_constant()) return &*b->constant;
  const ir::Op* producer = graph.Producer(b->name);
  if (producer != nullptr && producer->type == "const") {
    static const std::string kVal = "val";
    auto it = producer->attributes.find(kVal);
    return it == producer->attributes.end() ? nullptr : &it->second;
  }
  return nullptr;
}

bool TestAttribute(const RuleCondition& c, const ir::Op& op, const OpContext& ctx, std::string* why) {
  for (const std::string& name : c.names) {
    const ir::Constant* k = FindConstant(op, name, *ctx.graph);
    if (k == nullptr || k->numbers.empty()) continue;
    bool any = false;
    bool all = true;
    double hit = 0;
    for (double v : k->numbers) {
      bool ok = CompareNumber(c, v);
      if (ok && !any) hit = v;
      any |= ok;
      all &= ok;
    }
    if (c.all ? all : any) {
      if (why) *why = fmt::format("{} = {} (a value {} {})", name, k->ToString(), CmpText(c.cmp), Threshold(c));
      (void)hit;
      return true;
    }
  }
  return false;
}

bool TestOp(const RuleCondition& c, const ir::Op& op, const OpContext& ctx, const AneRuleSet& set,
            OpScratch& scratch, std::string* why) {
  switch (c.property) {
    case Property::kOpType:
      if (!CompareText(c, op.type)) return false;
      if (why) *why = fmt::format("op type {}", op.type);
      return true;
    case Property::kAneSupported: {
      bool ml_program = ctx.model == nullptr || ctx.model->ml_program;
      bool supported = set.AneSupportsOpType(op.type, ml_program);
      if (!CompareNumber(c, supported ? 1 : 0)) return false;
      if (why) *why = fmt::format("op type {} is {} the Neural Engine op list", op.type, supported ? "on" : "not on");
      return true;
    }
    case Property::kSource: {
      if (scratch.source < 0) scratch.source = static_cast<int>(SourceOfOp(*ctx.graph, op));
      auto s = static_cast<ValueSource>(scratch.source);
      if (!CompareText(c, ValueSourceName(s))) return false;
      if (why) *why = fmt::format("computes a {} value at every prediction (inputs are constants only)", ValueSourceName(s));
      return true;
    }
    default: return false;
  }
}

bool TestConsumers(const RuleCondition& c, const ir::Op& op, const OpContext& ctx, std::string* why) {
  for (const ir::Value& out : op.outputs) {
    for (const ir::Op* consumer : ctx.graph->Consumers(out.name)) {
      if (CompareText(c, consumer->type)) {
        if (why) *why = fmt::format("read by {} ({})", consumer->name, consumer->type);
        return true;
      }
    }
  }
  return false;
}

bool TestModel(const RuleCondition& c, const ModelFacts& m, std::string* why) {
  double v = 0;
  std::string_view what;
  switch (c.property) {
    case Property::kModelBytes: v = static_cast<double>(m.model_bytes); what = "model size (bytes)"; break;
    case Property::kMaxRank: v = static_cast<double>(m.max_rank); what = "highest tensor rank"; break;
    case Property::kRangeFlexibleInputs: v = static_cast<double>(m.range_flexible_inputs.size()); what = "inputs with shape ranges"; break;
    case Property::kEnumeratedFlexibleInputs: v = static_cast<double>(m.enumerated_flexible_inputs.size()); what = "inputs with enumerated shapes"; break;
    case Property::kMaxEnumeratedShapes: v = static_cast<double>(m.max_enumerated_shapes); what = "enumerated shapes of one input"; break;
    case Property::kCustomLayers:
      if (!CompareNumber(c, m.has_custom_layers ? 1 : 0)) return false;
      if (why) *why = m.has_custom_layers ? "the model has custom layers" : "the model has no custom layers";
      return true;
    case Property::kMlProgram:
      // A precondition, not a reason worth printing.
      return CompareNumber(c, m.ml_program ? 1 : 0);
    case Property::kComputeOps: v = static_cast<double>(m.compute_ops); what = "ops computed at prediction time"; break;
    case Property::kContainer:
      if (!CompareText(c, m.container)) return false;
      if (why) *why = fmt::format("the model is a .{}", m.container);
      return true;
    default: return false;
  }
  if (!CompareNumber(c, v)) return false;
  if (why) {
    switch (c.property) {
      case Property::kModelBytes:
        *why = fmt::format("model size {} ({} {})", HumanBytes(static_cast<int64_t>(m.model_bytes)), CmpText(c.cmp),
                           HumanBytes(static_cast<int64_t>(c.numbers[0])));
        break;
      case Property::kMaxRank:
        *why = fmt::format("value {} has rank {} ({} {})", m.max_rank_value, m.max_rank, CmpText(c.cmp), Threshold(c));
        break;
      case Property::kRangeFlexibleInputs:
        *why = fmt::format("inputs with shape ranges: {}", fmt::join(m.range_flexible_inputs, ", "));
        break;
      case Property::kEnumeratedFlexibleInputs:
        *why = fmt::format("inputs with enumerated shapes: {}", fmt::join(m.enumerated_flexible_inputs, ", "));
        break;
      default:
        *why = fmt::format("{}: {} ({} {})", what, v, CmpText(c.cmp), Threshold(c));
    }
  }
  return true;
}

bool TestCondition(const RuleCondition& c, const ir::Op* op, const OpContext* ctx, const ModelFacts* model,
                   const AneRuleSet& set, OpScratch* scratch, std::string* why) {
  switch (c.subject) {
    case Subject::kOutputs:
    case Subject::kInputs:
    case Subject::kTensors: return TestTensors(c, *op, *ctx, *scratch, why);
    case Subject::kInput: return TestInput(c, *op, *ctx, why);
    case Subject::kAttribute: return TestAttribute(c, *op, *ctx, why);
    case Subject::kOp: return TestOp(c, *op, *ctx, set, *scratch, why);
    case Subject::kConsumers: return TestConsumers(c, *op, *ctx, why);
    case Subject::kModel: return model != nullptr && TestModel(c, *model, why);
  }
  return false;
}

bool AppliesToPlatform(const AneRule& r, Platform p) {
  if (r.platforms.empty()) return true;
  return std::find(r.platforms.begin(), r.platforms.end(), PlatformName(p)) != r.platforms.end();
}

}  // namespace

namespace {

constexpr int kAllGenerations = -1;

// True when `outer`'s generation bounds contain all of `inner`'s (0 = unbounded).
bool Covers(const RuleFinding& outer, const AneRule& inner) {
  bool min_ok = outer.min_generation == 0 ||
                (inner.min_generation != 0 && outer.min_generation <= inner.min_generation);
  bool max_ok = outer.max_generation == 0 ||
                (inner.max_generation != 0 && outer.max_generation >= inner.max_generation);
  return min_ok && max_ok;
}

}  // namespace

bool RuleFinding::AppliesTo(int generation_number) const {
  if (min_generation != 0 && (generation_number == 0 || generation_number < min_generation)) return false;
  if (max_generation != 0 && (generation_number == 0 || generation_number > max_generation)) return false;
  return true;
}

void AneRuleSet::EvaluateOp(const ir::Op& op, const OpContext& ctx, int generation,
                            std::vector<RuleFinding>* out) const {
  if (!compiled_ || ctx.graph == nullptr) return;
  const Compiled& k = *compiled_;
  thread_local std::vector<TensorRef> input_buffer;
  OpScratch scratch;
  scratch.inputs = &input_buffer;
  const size_t first_finding = out->size();
  auto run = [&](size_t index) {
    const CompiledRule& cr = k.compiled[index];
    if (generation != kAllGenerations && !cr.rule.AppliesTo(generation)) return;
    if (cr.rule.only_if_no_other) {
      for (size_t i = first_finding; i < out->size(); ++i) {
        const RuleFinding& f = (*out)[i];
        if (f.effect == cr.rule.effect && (generation != kAllGenerations || Covers(f, cr.rule))) return;
      }
    }
    for (const RuleCondition& c : cr.conditions) {
      if (!TestCondition(c, &op, &ctx, ctx.model, *this, &scratch, nullptr)) return;
    }
    // Matched: build the message (second pass, with reasons).
    std::string reasons;
    for (const RuleCondition& c : cr.conditions) {
      std::string why;
      TestCondition(c, &op, &ctx, ctx.model, *this, &scratch, &why);
      if (!why.empty()) reasons += (reasons.empty() ? "" : "; ") + why;
    }
    RuleFinding f;
    f.rule_id = cr.rule.id;
    f.effect = cr.rule.effect;
    f.severity = cr.rule.severity;
    f.confidence = cr.rule.confidence;
    f.function = std::string(ctx.function_name);
    f.op_name = op.name;
    f.op_type = op.type;
    f.message = fmt::format("{}/{} ({}): {}{}{}", ctx.function_name, op.name, op.type, reasons,
                            reasons.empty() ? "" : ": ", cr.rule.description);
    f.evidence = cr.evidence_joined;
    f.advice = cr.rule.advice;
    f.min_generation = cr.rule.min_generation;
    f.max_generation = cr.rule.max_generation;
    out->push_back(std::move(f));
  };
  auto it = k.by_op_type.find(op.type.str());
  if (it != k.by_op_type.end()) {
    for (size_t index : it->second) run(index);
  }
  if (!IsConstantProducer(op.type)) {
    for (size_t index : k.wildcard) run(index);
    for (size_t index : k.catch_all) run(index);
  }
}

void AneRuleSet::EvaluateInto(const ir::Op& op, const OpContext& ctx, int generation_number,
                              std::vector<RuleFinding>* out) const {
  EvaluateOp(op, ctx, generation_number, out);
}

void AneRuleSet::EvaluateAllGenerations(const ir::Op& op, const OpContext& ctx,
                                        std::vector<RuleFinding>* out) const {
  EvaluateOp(op, ctx, kAllGenerations, out);
}

std::vector<RuleFinding> AneRuleSet::Evaluate(const ir::Op& op, const OpContext& ctx,
                                              std::string_view ane_generation) const {
  std::vector<RuleFinding> out;
  EvaluateInto(op, ctx, AneGenerationNumber(ane_generation), &out);
  return out;
}

std::vector<RuleFinding> AneRuleSet::EvaluateModel(const ModelFacts& facts, std::string_view ane_generation,
                                                   Platform platform) const {
  std::vector<RuleFinding> out;
  if (!compiled_) return out;
  int generation = AneGenerationNumber(ane_generation);
  for (size_t index : compiled_->model_rules) {
    const CompiledRule& cr = compiled_->compiled[index];
    if (!cr.rule.AppliesTo(generation) || !AppliesToPlatform(cr.rule, platform)) continue;
    bool all = true;
    for (const RuleCondition& c : cr.conditions) {
      if (!TestCondition(c, nullptr, nullptr, &facts, *this, nullptr, nullptr)) { all = false; break; }
    }
    if (!all) continue;
    std::string reasons;
    for (const RuleCondition& c : cr.conditions) {
      std::string why;
      TestCondition(c, nullptr, nullptr, &facts, *this, nullptr, &why);
      if (!why.empty()) reasons += (reasons.empty() ? "" : "; ") + why;
    }
    RuleFinding f;
    f.rule_id = cr.rule.id;
    f.effect = cr.rule.effect;
    f.severity = cr.rule.severity;
    f.confidence = cr.rule.confidence;
    f.message = fmt::format("model ({}): {}: {}", PlatformName(platform), reasons, cr.rule.description);
    f.evidence = cr.evidence_joined;
    f.advice = cr.rule.advice;
    f.min_generation = cr.rule.min_generation;
    f.max_generation = cr.rule.max_generation;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace anepilot::knowledge
