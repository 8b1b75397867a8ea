#include "plan/program_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace anepilot::plan {
namespace {

// When a NeuralNetwork layer's output shape is unknown (NN specs do not store
// intermediate shapes), its weights are assumed to be applied at this many
// positions (a 14x14 feature map). Documented in docs/plan.md as a weakness.
constexpr double kUnknownSpatialPositions = 196;
constexpr double kDefaultPoolWindow = 9;
// Attributes at least this large are inline weights (NeuralNetwork layers).
constexpr uint64_t kMinAttributeWeightBytes = 64;

double Bytes(const ir::ValueType& t) {
  if (t.kind != ir::ValueType::Kind::kTensor && t.kind != ir::ValueType::Kind::kState) return 0;
  auto b = t.tensor.byte_size();
  return b ? static_cast<double>(*b) : 0;
}

double Elements(const ir::TensorType& t) {
  auto n = t.element_count();
  return n ? static_cast<double>(*n) : 0;
}

// Product of dims [1:] of a fully known shape; 0 when unknown.
double TrailingProduct(const ir::TensorType& t) {
  if (!t.fully_known() || t.shape.size() < 2) return 0;
  double p = 1;
  for (size_t i = 1; i < t.shape.size(); ++i) p *= static_cast<double>(t.shape[i].size);
  return p;
}

bool IsConstexpr(std::string_view type) { return type.rfind("constexpr_", 0) == 0; }

struct ValueRef {
  int64_t producer = -1;            // op index, -1 for function / block inputs
  const ir::ValueType* type = nullptr;
};

struct FunctionToPlan {
  const ir::Function* fn;
  std::string label;
};

void CollectFunctions(const ir::Model& model, const std::string& prefix,
                      std::vector<FunctionToPlan>* out, std::vector<std::string>* notes) {
  if (model.has_program()) {
    const ir::Function* main = model.program.FindFunction("main");
    if (main == nullptr) main = &model.program.functions.front();
    out->push_back({main, prefix + main->name});
    for (const ir::Function& f : model.program.functions) {
      if (&f != main) {
        notes->push_back(fmt::format(
            "function \"{}{}\" not planned: the plan covers \"{}\"; plan other functions by "
            "loading them as their own model", prefix, f.name, main->name));
      }
    }
  }
  for (size_t i = 0; i < model.stages.size(); ++i) {
    const ir::Model& stage = model.stages[i];
    std::string p = fmt::format("{}stage{}.", prefix, i);
    if (!stage.has_program() && stage.stages.empty()) {
      notes->push_back(fmt::format("pipeline stage {} ({}) runs on the CPU; not planned", i,
                                   stage.kind.empty() ? "unknown kind" : stage.kind));
      continue;
    }
    CollectFunctions(stage, p, out, notes);
  }
}

}  // namespace

OpClass ClassifyOpType(std::string_view t) {
  static const std::unordered_map<std::string_view, OpClass> kTable = {
      // convolution
      {"conv", OpClass::kConv}, {"conv_transpose", OpClass::kConv},
      {"convolution", OpClass::kConv}, {"deconvolution", OpClass::kConv},
      // matrix products
      {"matmul", OpClass::kMatmul}, {"linear", OpClass::kMatmul}, {"einsum", OpClass::kMatmul},
      {"innerProduct", OpClass::kMatmul}, {"batchedMatmul", OpClass::kMatmul},
      {"scaled_dot_product_attention", OpClass::kMatmul},
      // cheap elementwise
      {"add", OpClass::kElementwise}, {"sub", OpClass::kElementwise},
      {"mul", OpClass::kElementwise}, {"real_div", OpClass::kElementwise},
      {"maximum", OpClass::kElementwise}, {"minimum", OpClass::kElementwise},
      {"relu", OpClass::kElementwise}, {"relu6", OpClass::kElementwise},
      {"leaky_relu", OpClass::kElementwise}, {"clip", OpClass::kElementwise},
      {"abs", OpClass::kElementwise}, {"neg", OpClass::kElementwise},
      {"square", OpClass::kElementwise}, {"select", OpClass::kElementwise},
      {"cast", OpClass::kElementwise}, {"floor", OpClass::kElementwise},
      {"ceil", OpClass::kElementwise}, {"round", OpClass::kElementwise},
      {"sign", OpClass::kElementwise}, {"prelu", OpClass::kElementwise},
      {"equal", OpClass::kElementwise}, {"not_equal", OpClass::kElementwise},
      {"greater", OpClass::kElementwise}, {"less", OpClass::kElementwise},
      {"greater_equal", OpClass::kElementwise}, {"less_equal", OpClass::kElementwise},
      {"logical_and", OpClass::kElementwise}, {"logical_or", OpClass::kElementwise},
      {"logical_not", OpClass::kElementwise}, {"scale", OpClass::kElementwise},
      {"bias", OpClass::kElementwise}, {"activation", OpClass::kElementwise},
      {"addBroadcastable", OpClass::kElementwise}, {"multiplyBroadcastable", OpClass::kElementwise},
      {"loadConstant", OpClass::kElementwise}, {"unary", OpClass::kElementwise},
      {"multiply", OpClass::kElementwise}, {"floor_div", OpClass::kElementwise},
      {"mod", OpClass::kElementwise}, {"inverse", OpClass::kElementwise},
      {"threshold", OpClass::kElementwise},
      // transcendental activations
      {"gelu", OpClass::kTranscendental}, {"silu", OpClass::kTranscendental},
      {"sigmoid", OpClass::kTranscendental}, {"tanh", OpClass::kTranscendental},
      {"exp", OpClass::kTranscendental}, {"exp2", OpClass::kTranscendental},
      {"log", OpClass::kTranscendental}, {"sin", OpClass::kTranscendental},
      {"cos", OpClass::kTranscendental}, {"pow", OpClass::kTranscendental},
      {"sqrt", OpClass::kTranscendental}, {"rsqrt", OpClass::kTranscendental},
      {"erf", OpClass::kTranscendental}, {"softplus", OpClass::kTranscendental},
      {"softsign", OpClass::kTranscendental}, {"elu", OpClass::kTranscendental},
      {"sigmoid_hard", OpClass::kTranscendental}, {"thresholded_relu", OpClass::kTranscendental},
      {"atan", OpClass::kTranscendental}, {"atanh", OpClass::kTranscendental},
      {"tan", OpClass::kTranscendental}, {"acos", OpClass::kTranscendental},
      {"asin", OpClass::kTranscendental},
      // reductions and normalisations
      {"softmax", OpClass::kReduction}, {"layer_norm", OpClass::kReduction},
      {"batch_norm", OpClass::kReduction}, {"instance_norm", OpClass::kReduction},
      {"l2_norm", OpClass::kReduction}, {"local_response_norm", OpClass::kReduction},
      {"reduce_sum", OpClass::kReduction}, {"reduce_mean", OpClass::kReduction},
      {"reduce_max", OpClass::kReduction}, {"reduce_min", OpClass::kReduction},
      {"reduce_prod", OpClass::kReduction}, {"reduce_l2_norm", OpClass::kReduction},
      {"reduce_argmax", OpClass::kReduction}, {"reduce_argmin", OpClass::kReduction},
      {"reduce_log_sum_exp", OpClass::kReduction}, {"reduce_sum_square", OpClass::kReduction},
      {"cumsum", OpClass::kReduction}, {"topk", OpClass::kReduction},
      {"batchnorm", OpClass::kReduction}, {"mvn", OpClass::kReduction},
      {"l2normalize", OpClass::kReduction}, {"lrn", OpClass::kReduction},
      {"reduce", OpClass::kReduction}, {"argsort", OpClass::kReduction},
      // data movement
      {"transpose", OpClass::kDataMovement}, {"concat", OpClass::kDataMovement},
      {"split", OpClass::kDataMovement}, {"slice_by_index", OpClass::kDataMovement},
      {"slice_by_size", OpClass::kDataMovement}, {"pad", OpClass::kDataMovement},
      {"tile", OpClass::kDataMovement}, {"upsample_nearest_neighbor", OpClass::kDataMovement},
      {"upsample_bilinear", OpClass::kDataMovement}, {"resize_bilinear", OpClass::kDataMovement},
      {"resize_nearest_neighbor", OpClass::kDataMovement}, {"crop_resize", OpClass::kDataMovement},
      {"crop", OpClass::kDataMovement}, {"space_to_depth", OpClass::kDataMovement},
      {"depth_to_space", OpClass::kDataMovement}, {"pixel_shuffle", OpClass::kDataMovement},
      {"pixel_unshuffle", OpClass::kDataMovement}, {"stack", OpClass::kDataMovement},
      {"reverse", OpClass::kDataMovement}, {"sliding_windows", OpClass::kDataMovement},
      {"permute", OpClass::kDataMovement}, {"upsample", OpClass::kDataMovement},
      {"padding", OpClass::kDataMovement}, {"slice", OpClass::kDataMovement},
      {"sliceStatic", OpClass::kDataMovement}, {"concatND", OpClass::kDataMovement},
      {"splitND", OpClass::kDataMovement}, {"resize_bilinear_nn", OpClass::kDataMovement},
      {"resizeBilinear", OpClass::kDataMovement}, {"cropResize", OpClass::kDataMovement},
      {"slice_update", OpClass::kDataMovement}, {"scatter", OpClass::kDataMovement},
      {"scatter_nd", OpClass::kDataMovement}, {"scatter_along_axis", OpClass::kDataMovement},
      // views
      {"reshape", OpClass::kView}, {"squeeze", OpClass::kView}, {"expand_dims", OpClass::kView},
      {"identity", OpClass::kView}, {"flatten", OpClass::kView}, {"flatten2d", OpClass::kView},
      {"reshapeStatic", OpClass::kView}, {"squeeze_", OpClass::kView},
      {"expandDims", OpClass::kView}, {"flattenTo2D", OpClass::kView},
      {"reshape_like", OpClass::kView}, {"shape", OpClass::kView},
      // pooling
      {"avg_pool", OpClass::kPool}, {"max_pool", OpClass::kPool}, {"l2_pool", OpClass::kPool},
      {"pooling", OpClass::kPool},
      // gathers
      {"gather", OpClass::kGather}, {"gather_nd", OpClass::kGather},
      {"gather_along_axis", OpClass::kGather}, {"embedding", OpClass::kGather},
      {"embeddingND", OpClass::kGather}, {"gatherND", OpClass::kGather},
  };
  auto it = kTable.find(t);
  return it == kTable.end() ? OpClass::kOther : it->second;
}

std::string ProgramGraph::OpLabel(uint32_t i) const {
  const PlanOp& p = ops[i];
  return fmt::format("{}/{} ({})", function_names[p.function], p.op->name, p.op->type);
}

Result<ProgramGraph> BuildProgramGraph(const ir::Model& model) {
  ProgramGraph g;
  std::vector<FunctionToPlan> functions;
  CollectFunctions(model, "", &functions, &g.notes);
  if (functions.empty()) {
    std::string kind = model.kind.empty() ? "this model kind" : model.kind;
    std::string stages, builtin;
    for (const ir::Model& stage : model.stages) {
      stages += fmt::format("{}{}", stages.empty() ? "" : ", ", stage.kind);
      if (stage.kind == "visionFeaturePrint" || stage.kind == "soundAnalysisPreprocessing" ||
          stage.kind == "wordEmbedding" || stage.kind == "wordTagger") {
        builtin = stage.kind;
      }
    }
    if (!stages.empty()) kind += " [" + stages + "]";
    if (!builtin.empty()) {
      return Unsupported(fmt::format(
          "{}: cannot plan: {} runs on CPU only except Apple's built-in {} stage, which Core ML "
          "places itself (its program is not in the file); no compute-unit choice to plan",
          model.path, kind, builtin));
    }
    return Unsupported(fmt::format(
        "{}: cannot plan: {} runs on CPU only (Core ML never places it on the GPU or the Neural "
        "Engine); no compute-unit choice applies", model.path, kind));
  }

  std::vector<uint32_t> last_use;
  for (size_t fi = 0; fi < functions.size(); ++fi) {
    const ir::Function& fn = *functions[fi].fn;
    g.function_names.push_back(functions[fi].label);
    g.graphs.push_back(std::make_unique<ir::GraphIndex>(fn));
    const ir::GraphIndex& index = *g.graphs.back();

    std::unordered_map<std::string_view, ValueRef> values;
    values.reserve(index.Ops().size() * 2);
    for (const ir::Value& v : fn.inputs) values[v.name] = ValueRef{-1, &v.type};

    for (const ir::Op* op : index.Ops()) {
      uint32_t me = static_cast<uint32_t>(g.ops.size());
      PlanOp p;
      p.op = op;
      p.function = static_cast<uint16_t>(fi);
      p.graph = static_cast<uint32_t>(fi);
      p.op_class = ClassifyOpType(op->type);
      p.control_flow = !op->blocks.empty();
      p.custom = op->type == "custom" || op->type == "customLayer";
      p.producers_begin = static_cast<uint32_t>(g.producers.size());

      bool all_inputs_constant = true;
      bool from_compressed = false;
      bool any_float = false;
      const ir::TensorType* weight_type = nullptr;   // the "weight" argument's type
      const ir::TensorType* x_type = nullptr;        // the "x" argument's type
      for (const ir::Argument& arg : op->inputs) {
        for (const ir::Binding& b : arg.bindings) {
          if (b.is_constant()) {
            p.weight_bytes += static_cast<double>(b.constant->byte_size);
            if (arg.param == "weight") weight_type = &b.constant->type.tensor;
            continue;
          }
          auto it = values.find(b.name);
          if (it == values.end()) {  // block input or unknown: an activation
            all_inputs_constant = false;
            continue;
          }
          const ValueRef& ref = it->second;
          double bytes = ref.type ? Bytes(*ref.type) : 0;
          if (ref.type && ir::IsFloat(ref.type->tensor.dtype)) any_float = true;
          if (arg.param == "weight" && ref.type) weight_type = &ref.type->tensor;
          if (arg.param == "x" && x_type == nullptr && ref.type) x_type = &ref.type->tensor;
          if (ref.producer < 0) {
            all_inputs_constant = false;
            p.in_bytes += bytes;
            continue;
          }
          PlanOp& prod = g.ops[static_cast<size_t>(ref.producer)];
          if (prod.is_constant()) {
            p.weight_bytes += bytes;
            if (prod.role == OpRole::kCompressedConstant) from_compressed = true;
            continue;
          }
          if (prod.role == OpRole::kRuntimeTransform) {
            from_compressed = true;
            p.weight_is_runtime = true;
            p.weight_bytes += bytes;
            g.producers.push_back(static_cast<uint32_t>(ref.producer));
            last_use[static_cast<size_t>(ref.producer)] = me;
            continue;
          }
          all_inputs_constant = false;
          p.in_bytes += bytes;
          g.producers.push_back(static_cast<uint32_t>(ref.producer));
          last_use[static_cast<size_t>(ref.producer)] = me;
        }
      }
      p.producers_end = static_cast<uint32_t>(g.producers.size());

      // NeuralNetwork layers keep their weights inline as attributes
      // ("weights", "bias", ...); small parameters (scalars, lists) are not weights.
      double attr_weight_elems = 0;
      if (op->type != "const") {
        for (const auto& [key, c] : op->attributes) {
          if (c.byte_size < kMinAttributeWeightBytes || !c.strings.empty()) continue;
          p.weight_bytes += static_cast<double>(c.byte_size);
          if (key == "weights") {
            auto n = c.type.tensor.element_count();
            attr_weight_elems = n ? static_cast<double>(*n) : static_cast<double>(c.byte_size) / 2;
          }
        }
      }

      double out_elems = 0;
      for (const ir::Value& out : op->outputs) {
        values[out.name] = ValueRef{static_cast<int64_t>(me), &out.type};
        p.out_bytes += Bytes(out.type);
        if (out.type.kind == ir::ValueType::Kind::kTensor) {
          const ir::TensorType& t = out.type.tensor;
          if (!t.fully_known()) p.dynamic_shape = true;
          // NeuralNetwork layers (no opset) are typed fp32 but run in fp16 on the ANE.
          if (t.dtype == ir::DType::kFloat32 && !fn.opset.empty()) p.fp32 = true;
          if (ir::IsFloat(t.dtype)) any_float = true;
          if (out_elems == 0) out_elems = Elements(t);
        }
      }
      p.float_compute = any_float || op->outputs.empty();

      if (op->type == "const") {
        p.role = OpRole::kConstant;
      } else if (IsConstexpr(op->type)) {
        p.role = OpRole::kCompressedConstant;
        g.compressed_weight_bytes += p.out_bytes;
        if (op->type == "constexpr_lut_to_dense") {
          g.lut_weight_bytes += p.out_bytes;
          g.lut_stored_bytes += p.weight_bytes;
          for (const auto& [key, c] : op->attributes) g.lut_stored_bytes += static_cast<double>(c.byte_size);
        }
      } else if (all_inputs_constant && !p.control_flow && p.producers_begin == p.producers_end) {
        p.role = from_compressed ? OpRole::kRuntimeTransform : OpRole::kFoldedConstant;
        if (p.role == OpRole::kRuntimeTransform) p.weight_is_runtime = false;
      } else if (all_inputs_constant && from_compressed && !p.control_flow) {
        // Reads only constants and other runtime transforms: still a transform.
        p.role = OpRole::kRuntimeTransform;
        p.weight_is_runtime = false;
      }
      if (p.role == OpRole::kCompute || p.role == OpRole::kRuntimeTransform) {
        double inline_bytes = 0;
        for (const auto& [key, c] : op->attributes) {
          if (c.byte_size >= kMinAttributeWeightBytes && c.strings.empty()) inline_bytes += static_cast<double>(c.byte_size);
        }
        g.weight_bytes += inline_bytes;
      }
      if (p.role == OpRole::kConstant || p.role == OpRole::kCompressedConstant) {
        g.weight_bytes += p.out_bytes;
      }

      // Work.
      double in_elems = x_type ? Elements(*x_type) : 0;
      switch (p.op_class) {
        case OpClass::kConv: {
          double per_output = weight_type ? TrailingProduct(*weight_type) : 0;
          const ir::Constant* oc = op->attribute("output_channels");
          if (per_output == 0 && attr_weight_elems > 0 && oc && !oc->numbers.empty() && oc->numbers[0] > 0) {
            per_output = attr_weight_elems / oc->numbers[0];
          }
          if (op->type == "conv_transpose" || op->type == "deconvolution") {
            p.flops = 2 * std::max(in_elems, out_elems) * per_output;
          } else if (out_elems > 0 && per_output > 0) {
            p.flops = 2 * out_elems * per_output;
          } else {
            p.flops = 2 * (p.weight_bytes / 2) * kUnknownSpatialPositions;
          }
          break;
        }
        case OpClass::kMatmul: {
          if (op->type == "linear" && weight_type && weight_type->fully_known() &&
              weight_type->shape.size() == 2 && out_elems > 0) {
            p.flops = 2 * out_elems * static_cast<double>(weight_type->shape[1].size);
          } else if (x_type && out_elems > 0 && !op->outputs.empty() &&
                     op->outputs[0].type.tensor.fully_known() &&
                     !op->outputs[0].type.tensor.shape.empty()) {
            double n = static_cast<double>(op->outputs[0].type.tensor.shape.back().size);
            double k = in_elems * n / out_elems;
            p.flops = 2 * out_elems * std::max(1.0, k);
          } else {
            p.flops = 2 * (attr_weight_elems > 0 ? attr_weight_elems : p.weight_bytes / 2);  // innerProduct at batch 1
          }
          break;
        }
        case OpClass::kPool:
          p.flops = out_elems * kDefaultPoolWindow;
          break;
        case OpClass::kReduction:
          p.flops = std::max(in_elems, out_elems) * 4;
          break;
        case OpClass::kElementwise:
        case OpClass::kTranscendental:
        case OpClass::kOther:
          p.flops = out_elems;
          break;
        default:
          p.flops = 0;
      }
      p.bytes = p.in_bytes + p.out_bytes + p.weight_bytes;

      last_use.push_back(me);
      if (!p.is_constant()) g.compute_ops.push_back(me);
      g.ops.push_back(p);
    }
  }

  g.position.assign(g.ops.size(), -1);
  for (size_t k = 0; k < g.compute_ops.size(); ++k) g.position[g.compute_ops[k]] = static_cast<int32_t>(k);

  // Peak live intermediate bytes over program order (compute outputs only;
  // constants are counted as weights).
  std::vector<double> freed_after(g.ops.size(), 0);
  double live = 0, peak = 0;
  for (uint32_t i : g.compute_ops) {
    const PlanOp& p = g.ops[i];
    if (p.role != OpRole::kCompute) continue;
    live += p.out_bytes;
    peak = std::max(peak, live);
    freed_after[last_use[i]] += p.out_bytes;
    live -= freed_after[i];
  }
  g.peak_intermediate_bytes = peak;
  return g;
}

}  // namespace anepilot::plan
