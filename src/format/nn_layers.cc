#include "format/nn_layers.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "format/mil_values.h"
#include "format/nn_shapes.h"

namespace anepilot::format {
namespace spec = CoreML::Specification;
using Layer = spec::NeuralNetworkLayer;

namespace {

// Numbers of small inline weights (biases, scalars) are decoded like small
// MIL immediates; larger ones keep only their size.
constexpr size_t kMaxDecodedWeights = 64;

ir::Constant Scalar(double v, ir::DType dtype) {
  ir::Constant c;
  c.type.tensor.dtype = dtype;
  c.numbers = {v};
  c.byte_size = static_cast<uint64_t>(ir::DTypeBits(dtype) / 8);
  return c;
}

ir::Constant Text(std::string s) {
  ir::Constant c;
  c.type.tensor.dtype = ir::DType::kString;
  c.byte_size = s.size();
  c.strings = {std::move(s)};
  return c;
}

template <typename Repeated>
ir::Constant IntList(const Repeated& values) {
  ir::Constant c;
  c.type.tensor.dtype = ir::DType::kInt64;
  c.type.tensor.shape = {ir::Dim::Known(values.size())};
  for (auto v : values) c.numbers.push_back(static_cast<double>(v));
  c.byte_size = values.size() * 8;
  return c;
}

ir::DType BitsToDType(uint64_t bits) {
  switch (bits) {
    case 1: return ir::DType::kUInt1;
    case 2: return ir::DType::kUInt2;
    case 3: return ir::DType::kUInt3;
    case 4: return ir::DType::kUInt4;
    case 6: return ir::DType::kUInt6;
    case 8: return ir::DType::kUInt8;
    default: return ir::DType::kUnknown;
  }
}

uint16_t LoadU16(const std::string& s, size_t i) {
  return static_cast<uint16_t>(static_cast<unsigned char>(s[2 * i]) |
                               (static_cast<unsigned char>(s[2 * i + 1]) << 8));
}

class LayerConverter {
 public:
  explicit LayerConverter(ir::Model* model) : model_(model) {}

  // Adds the attribute `key` describing an inline weight tensor: dtype
  // (fp32, fp16, int8, or the quantized bit width), flat element count and
  // byte size; the quantization scheme as "<key>.quantization".
  void AddWeights(ir::Op* op, const std::string& key, const spec::WeightParams& w) {
    ir::Constant c;
    int64_t count = 0;
    if (w.floatvalue_size() > 0) {
      c.type.tensor.dtype = ir::DType::kFloat32;
      count = w.floatvalue_size();
      c.byte_size = static_cast<uint64_t>(count) * 4;
      if (static_cast<size_t>(count) <= kMaxDecodedWeights) {
        c.numbers.assign(w.floatvalue().begin(), w.floatvalue().end());
      }
    } else if (!w.float16value().empty()) {
      c.type.tensor.dtype = ir::DType::kFloat16;
      count = static_cast<int64_t>(w.float16value().size() / 2);
      c.byte_size = w.float16value().size();
      if (static_cast<size_t>(count) <= kMaxDecodedWeights) {
        for (int64_t i = 0; i < count; ++i) c.numbers.push_back(HalfBitsToDouble(LoadU16(w.float16value(), i)));
      }
    } else if (!w.int8rawvalue().empty()) {
      c.type.tensor.dtype = ir::DType::kInt8;
      count = static_cast<int64_t>(w.int8rawvalue().size());
      c.byte_size = w.int8rawvalue().size();
    } else if (!w.rawvalue().empty()) {
      uint64_t bits = w.has_quantization() ? w.quantization().numberofbits() : 0;
      c.type.tensor.dtype = BitsToDType(bits);
      c.byte_size = w.rawvalue().size();
      count = bits > 0 && bits <= 64 ? static_cast<int64_t>(w.rawvalue().size() * 8 / bits) : -1;
    } else {
      return;  // absent
    }
    c.type.tensor.shape = {count >= 0 ? ir::Dim::Known(count) : ir::Dim{}};
    c.values_elided = c.numbers.empty() && count > 0;
    model_->weights.inline_bytes += c.byte_size;
    if (w.has_quantization()) {
      const auto& q = w.quantization();
      std::string scheme = q.has_lookuptablequantization() ? "lookup_table"
                           : q.has_linearquantization()     ? "linear"
                                                            : "unspecified";
      op->attributes.insert_or_assign(key + ".quantization",
                                      Text(scheme + " " + std::to_string(q.numberofbits()) + "-bit"));
    }
    if (w.isupdatable()) op->attributes.insert_or_assign(key + ".updatable", Scalar(1, ir::DType::kBool));
    op->attributes.insert_or_assign(key, std::move(c));
  }

  // Layer parameters anepilot shows or analyses use; weights of every layer
  // type with inline weights that inspection reports.
  void AddParams(Layer* layer, ir::Op* op) {
    auto& a = op->attributes;
    switch (layer->layer_case()) {
      case Layer::kConvolution: {
        const auto& p = layer->convolution();
        a.insert_or_assign("output_channels", Scalar(p.outputchannels(), ir::DType::kInt64));
        a.insert_or_assign("kernel_channels", Scalar(p.kernelchannels(), ir::DType::kInt64));
        a.insert_or_assign("groups", Scalar(p.ngroups(), ir::DType::kInt64));
        if (p.kernelsize_size()) a.insert_or_assign("kernel_size", IntList(p.kernelsize()));
        if (p.stride_size()) a.insert_or_assign("stride", IntList(p.stride()));
        if (p.dilationfactor_size()) a.insert_or_assign("dilation", IntList(p.dilationfactor()));
        a.insert_or_assign("padding", Text(p.has_same() ? "same" : "valid"));
        if (p.isdeconvolution()) a.insert_or_assign("deconvolution", Scalar(1, ir::DType::kBool));
        AddWeights(op, "weights", p.weights());
        if (p.hasbias()) AddWeights(op, "bias", p.bias());
        break;
      }
      case Layer::kConvolution3D: {
        const auto& p = layer->convolution3d();
        a.insert_or_assign("output_channels", Scalar(p.outputchannels(), ir::DType::kInt64));
        AddWeights(op, "weights", p.weights());
        if (p.hasbias()) AddWeights(op, "bias", p.bias());
        break;
      }
      case Layer::kPooling: {
        const auto& p = layer->pooling();
        a.insert_or_assign("pooling", Text(p.type() == spec::PoolingLayerParams::MAX       ? "max"
                                           : p.type() == spec::PoolingLayerParams::AVERAGE ? "average"
                                                                                           : "l2"));
        if (p.globalpooling()) a.insert_or_assign("global", Scalar(1, ir::DType::kBool));
        if (p.kernelsize_size()) a.insert_or_assign("kernel_size", IntList(p.kernelsize()));
        if (p.stride_size()) a.insert_or_assign("stride", IntList(p.stride()));
        break;
      }
      case Layer::kActivation: {
        const auto& p = layer->activation();
        if (p.NonlinearityType_case() != spec::ActivationParams::NONLINEARITYTYPE_NOT_SET) {
          const auto* f = spec::ActivationParams::descriptor()->FindFieldByNumber(p.NonlinearityType_case());
          if (f) a.insert_or_assign("activation", Text(f->name()));
        }
        if (p.has_prelu()) AddWeights(op, "alpha", p.prelu().alpha());
        if (p.has_leakyrelu()) a.insert_or_assign("alpha", Scalar(p.leakyrelu().alpha(), ir::DType::kFloat32));
        break;
      }
      case Layer::kInnerProduct: {
        const auto& p = layer->innerproduct();
        a.insert_or_assign("input_channels", Scalar(p.inputchannels(), ir::DType::kInt64));
        a.insert_or_assign("output_channels", Scalar(p.outputchannels(), ir::DType::kInt64));
        AddWeights(op, "weights", p.weights());
        if (p.hasbias()) AddWeights(op, "bias", p.bias());
        break;
      }
      case Layer::kEmbedding: {
        const auto& p = layer->embedding();
        a.insert_or_assign("output_channels", Scalar(p.outputchannels(), ir::DType::kInt64));
        AddWeights(op, "weights", p.weights());
        if (p.hasbias()) AddWeights(op, "bias", p.bias());
        break;
      }
      case Layer::kEmbeddingND: {
        const auto& p = layer->embeddingnd();
        a.insert_or_assign("embedding_size", Scalar(p.embeddingsize(), ir::DType::kInt64));
        AddWeights(op, "weights", p.weights());
        if (p.hasbias()) AddWeights(op, "bias", p.bias());
        break;
      }
      case Layer::kBatchnorm: {
        const auto& p = layer->batchnorm();
        a.insert_or_assign("channels", Scalar(p.channels(), ir::DType::kInt64));
        a.insert_or_assign("epsilon", Scalar(p.epsilon(), ir::DType::kFloat32));
        AddWeights(op, "gamma", p.gamma());
        AddWeights(op, "beta", p.beta());
        AddWeights(op, "mean", p.mean());
        AddWeights(op, "variance", p.variance());
        break;
      }
      case Layer::kScale: {
        const auto& p = layer->scale();
        AddWeights(op, "scale", p.scale());
        if (p.hasbias()) AddWeights(op, "bias", p.bias());
        break;
      }
      case Layer::kBias: AddWeights(op, "bias", layer->bias().bias()); break;
      case Layer::kUnary: {
        const auto* e = spec::UnaryFunctionLayerParams::Operation_descriptor()->FindValueByNumber(
            layer->unary().type());
        if (e) a.insert_or_assign("function", Text(e->name()));
        break;
      }
      case Layer::kAdd: a.insert_or_assign("alpha", Scalar(layer->add().alpha(), ir::DType::kFloat32)); break;
      case Layer::kMultiply:
        a.insert_or_assign("alpha", Scalar(layer->multiply().alpha(), ir::DType::kFloat32));
        break;
      case Layer::kUpsample: {
        const auto& p = layer->upsample();
        if (p.scalingfactor_size()) a.insert_or_assign("scaling_factor", IntList(p.scalingfactor()));
        a.insert_or_assign("mode", Text(p.mode() == spec::UpsampleLayerParams::BILINEAR ? "bilinear" : "nearest"));
        break;
      }
      case Layer::kReshape: a.insert_or_assign("target_shape", IntList(layer->reshape().targetshape())); break;
      case Layer::kPermute: a.insert_or_assign("axis", IntList(layer->permute().axis())); break;
      case Layer::kTranspose: a.insert_or_assign("axes", IntList(layer->transpose().axes())); break;
      case Layer::kConcatND: a.insert_or_assign("axis", Scalar(layer->concatnd().axis(), ir::DType::kInt64)); break;
      case Layer::kSoftmaxND: a.insert_or_assign("axis", Scalar(layer->softmaxnd().axis(), ir::DType::kInt64)); break;
      case Layer::kLoadConstant:
        a.insert_or_assign("shape", IntList(layer->loadconstant().shape()));
        AddWeights(op, "data", layer->loadconstant().data());
        break;
      case Layer::kLoadConstantND:
        a.insert_or_assign("shape", IntList(layer->loadconstantnd().shape()));
        AddWeights(op, "data", layer->loadconstantnd().data());
        break;
      case Layer::kBatchedMatmul: {
        const auto& p = layer->batchedmatmul();
        if (p.transposea()) a.insert_or_assign("transpose_a", Scalar(1, ir::DType::kBool));
        if (p.transposeb()) a.insert_or_assign("transpose_b", Scalar(1, ir::DType::kBool));
        AddWeights(op, "weights", p.weights());
        if (p.hasbias()) AddWeights(op, "bias", p.bias());
        break;
      }
      case Layer::kSimpleRecurrent: {
        const auto& p = layer->simplerecurrent();
        a.insert_or_assign("output_vector_size", Scalar(p.outputvectorsize(), ir::DType::kInt64));
        AddWeights(op, "weight_matrix", p.weightmatrix());
        AddWeights(op, "recursion_matrix", p.recursionmatrix());
        AddWeights(op, "bias_vector", p.biasvector());
        break;
      }
      case Layer::kGru: {
        const auto& p = layer->gru();
        a.insert_or_assign("output_vector_size", Scalar(p.outputvectorsize(), ir::DType::kInt64));
        AddWeights(op, "update_gate_weights", p.updategateweightmatrix());
        AddWeights(op, "reset_gate_weights", p.resetgateweightmatrix());
        AddWeights(op, "output_gate_weights", p.outputgateweightmatrix());
        AddWeights(op, "update_gate_recursion", p.updategaterecursionmatrix());
        AddWeights(op, "reset_gate_recursion", p.resetgaterecursionmatrix());
        AddWeights(op, "output_gate_recursion", p.outputgaterecursionmatrix());
        AddWeights(op, "update_gate_bias", p.updategatebiasvector());
        AddWeights(op, "reset_gate_bias", p.resetgatebiasvector());
        AddWeights(op, "output_gate_bias", p.outputgatebiasvector());
        break;
      }
      case Layer::kUniDirectionalLSTM: {
        const auto& p = layer->unidirectionallstm();
        a.insert_or_assign("output_vector_size", Scalar(p.outputvectorsize(), ir::DType::kInt64));
        AddLstmWeights(op, "", p.weightparams());
        break;
      }
      case Layer::kBiDirectionalLSTM: {
        const auto& p = layer->bidirectionallstm();
        a.insert_or_assign("output_vector_size", Scalar(p.outputvectorsize(), ir::DType::kInt64));
        for (int i = 0; i < p.weightparams_size(); ++i) {
          AddLstmWeights(op, i == 0 ? "forward." : "backward.", p.weightparams(i));
        }
        break;
      }
      case Layer::kCustom: {
        auto* p = layer->mutable_custom();
        std::string name = std::move(*p->mutable_classname());
        bool seen = false;
        for (const auto& c : model_->custom_layers) seen = seen || c == name;
        if (!seen) model_->custom_layers.push_back(name);
        a.insert_or_assign("class_name", Text(std::move(name)));
        for (int i = 0; i < p->weights_size(); ++i) {
          AddWeights(op, "weights." + std::to_string(i), p->weights(i));
        }
        break;
      }
      default: break;
    }
  }

  void AddLstmWeights(ir::Op* op, const std::string& prefix, const spec::LSTMWeightParams& w) {
    AddWeights(op, prefix + "input_gate_weights", w.inputgateweightmatrix());
    AddWeights(op, prefix + "forget_gate_weights", w.forgetgateweightmatrix());
    AddWeights(op, prefix + "block_input_weights", w.blockinputweightmatrix());
    AddWeights(op, prefix + "output_gate_weights", w.outputgateweightmatrix());
    AddWeights(op, prefix + "input_gate_recursion", w.inputgaterecursionmatrix());
    AddWeights(op, prefix + "forget_gate_recursion", w.forgetgaterecursionmatrix());
    AddWeights(op, prefix + "block_input_recursion", w.blockinputrecursionmatrix());
    AddWeights(op, prefix + "output_gate_recursion", w.outputgaterecursionmatrix());
    AddWeights(op, prefix + "input_gate_bias", w.inputgatebiasvector());
    AddWeights(op, prefix + "forget_gate_bias", w.forgetgatebiasvector());
    AddWeights(op, prefix + "block_input_bias", w.blockinputbiasvector());
    AddWeights(op, prefix + "output_gate_bias", w.outputgatebiasvector());
    AddWeights(op, prefix + "input_gate_peephole", w.inputgatepeepholevector());
    AddWeights(op, prefix + "forget_gate_peephole", w.forgetgatepeepholevector());
    AddWeights(op, prefix + "output_gate_peephole", w.outputgatepeepholevector());
  }

  ir::Op Convert(Layer* layer) {
    ir::Op op;
    if (layer->layer_case() != Layer::LAYER_NOT_SET) {
      const auto* f = Layer::descriptor()->FindFieldByNumber(layer->layer_case());
      if (f) op.type = f->name();
    }
    if (op.type.empty()) op.type = "unknown";
    op.name = std::move(*layer->mutable_name());

    std::vector<NnShape> in_shapes;
    in_shapes.reserve(layer->input_size());
    ir::Argument arg;
    arg.param = "inputs";
    arg.bindings.reserve(layer->input_size());
    for (const auto& name : layer->input()) {
      auto it = shapes_.find(name);
      in_shapes.push_back(it == shapes_.end() ? NnShape() : it->second);
      arg.bindings.push_back(ir::Binding{name, std::nullopt});
    }
    if (!arg.bindings.empty()) op.inputs.push_back(std::move(arg));

    AddParams(layer, &op);
    if (layer->isupdatable()) op.attributes.insert_or_assign("updatable", Scalar(1, ir::DType::kBool));

    std::vector<NnShape> out_shapes = DeriveNnLayerShapes(*layer, in_shapes);
    op.outputs.reserve(layer->output_size());
    for (int i = 0; i < layer->output_size(); ++i) {
      NnShape shape = out_shapes[i];
      // ND converters record output ranks (and sometimes sizes) on the layer.
      if (!shape && i < layer->outputtensor_size()) {
        const auto& t = layer->outputtensor(i);
        if (t.rank() > 0 && t.rank() <= 16) {
          std::vector<int64_t> dims(t.rank(), -1);
          if (t.dimvalue_size() == static_cast<int>(t.rank())) {
            for (uint32_t d = 0; d < t.rank(); ++d) dims[d] = t.dimvalue(d) >= 0 ? t.dimvalue(d) : -1;
          }
          shape = std::move(dims);
        }
      }
      std::string name = std::move(*layer->mutable_output(i));
      shapes_.insert_or_assign(name, shape);
      op.outputs.push_back(ir::Value{std::move(name), ToValueType(shape)});
    }

    // Control flow layers hold whole networks: they become nested blocks.
    if (layer->has_branch()) {
      op.blocks.push_back(ConvertNetwork(layer->mutable_branch()->mutable_ifbranch()->mutable_layers()));
      op.blocks.push_back(ConvertNetwork(layer->mutable_branch()->mutable_elsebranch()->mutable_layers()));
    } else if (layer->has_loop()) {
      op.blocks.push_back(ConvertNetwork(layer->mutable_loop()->mutable_conditionnetwork()->mutable_layers()));
      op.blocks.push_back(ConvertNetwork(layer->mutable_loop()->mutable_bodynetwork()->mutable_layers()));
    }
    return op;
  }

  ir::Block ConvertNetwork(google::protobuf::RepeatedPtrField<Layer>* layers) {
    ir::Block block;
    block.ops.reserve(layers->size());
    for (auto& layer : *layers) block.ops.push_back(Convert(&layer));
    return block;
  }

  // Layer outputs compute in fp32 as the NeuralNetwork spec defines them
  // (devices may run them in fp16).
  static ir::ValueType ToValueType(const NnShape& shape) {
    ir::ValueType t;
    t.tensor.dtype = ir::DType::kFloat32;
    if (!shape) {
      t.tensor.rank_known = false;
      return t;
    }
    t.tensor.shape.reserve(shape->size());
    for (int64_t d : *shape) t.tensor.shape.push_back(d >= 0 ? ir::Dim::Known(d) : ir::Dim{});
    return t;
  }

  void SetShape(const std::string& name, NnShape shape) { shapes_.insert_or_assign(name, std::move(shape)); }
  const NnShape* Shape(const std::string& name) const {
    auto it = shapes_.find(name);
    return it == shapes_.end() ? nullptr : &it->second;
  }

 private:
  ir::Model* model_;
  std::unordered_map<std::string, NnShape> shapes_;
};

// The blob shape a network sees for a model input.
NnShape InputShape(const ir::FeatureType& f, bool nd, spec::NeuralNetworkImageShapeMapping image_mapping) {
  std::vector<int64_t> dims;
  if (f.kind == ir::FeatureType::Kind::kImage) {
    if (f.array.shape.size() != 2) return std::nullopt;
    int64_t channels = f.color_space == "RGB" || f.color_space == "BGR" ? 3 : 1;
    dims = {channels, f.array.shape[0].size, f.array.shape[1].size};
    if (nd) dims.insert(dims.begin(), image_mapping == spec::RANK4_IMAGE_MAPPING ? 1 : 2, 1);
  } else if (f.kind == ir::FeatureType::Kind::kMultiArray) {
    for (const auto& d : f.array.shape) dims.push_back(d.known() ? d.size : -1);
    // Rank-5 mapping: [C] is read as [C, 1, 1]; [C, H, W] as is.
    if (!nd && dims.size() == 1) dims.insert(dims.end(), {1, 1});
  } else if (f.kind == ir::FeatureType::Kind::kDouble || f.kind == ir::FeatureType::Kind::kInt64) {
    dims = nd ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 1, 1};
  } else {
    return std::nullopt;
  }
  // Inputs with flexible shapes: the default shape is what the description
  // states, but any flexible dimension is unknown at conversion time.
  if (f.flexibility.kind == ir::Flexibility::Kind::kRange) {
    size_t off = dims.size() >= f.flexibility.ranges.size() ? dims.size() - f.flexibility.ranges.size() : 0;
    for (size_t i = 0; i < f.flexibility.ranges.size() && off + i < dims.size(); ++i) {
      const auto& r = f.flexibility.ranges[i];
      if (r.lower != r.upper) dims[off + i] = -1;
    }
  } else if (f.flexibility.kind == ir::Flexibility::Kind::kEnumerated) {
    for (auto& d : dims) d = -1;
    if (f.kind == ir::FeatureType::Kind::kImage && !dims.empty()) {
      dims[dims.size() - 3] = f.color_space == "RGB" || f.color_space == "BGR" ? 3 : 1;
    }
  }
  return dims;
}

}  // namespace

void NeuralNetworkToIr(google::protobuf::RepeatedPtrField<Layer>* layers,
                       const google::protobuf::RepeatedPtrField<spec::NeuralNetworkPreprocessing>& preprocessing,
                       spec::NeuralNetworkMultiArrayShapeMapping array_mapping,
                       spec::NeuralNetworkImageShapeMapping image_mapping, ir::Model* model) {
  bool nd = array_mapping == spec::EXACT_ARRAY_MAPPING;
  LayerConverter converter(model);
  ir::Function fn;
  fn.name = "main";
  fn.inputs.reserve(model->inputs.size());
  for (const auto& f : model->inputs) {
    NnShape shape = InputShape(f.type, nd, image_mapping);
    converter.SetShape(f.name, shape);
    fn.inputs.push_back(ir::Value{f.name, LayerConverter::ToValueType(shape)});
  }
  fn.body.ops.reserve(layers->size() + preprocessing.size());
  for (const auto& pre : preprocessing) {
    ir::Op op;
    // An empty feature name means the network's only image input.
    std::string feature = pre.featurename();
    if (feature.empty()) {
      for (const auto& f : model->inputs) {
        if (f.type.kind == ir::FeatureType::Kind::kImage) { feature = f.name; break; }
      }
    }
    op.name = "preprocess_" + feature;
    if (pre.has_scaler()) {
      op.type = "preprocessing.scaler";
      const auto& s = pre.scaler();
      op.attributes.insert_or_assign("channel_scale", Scalar(s.channelscale(), ir::DType::kFloat32));
      op.attributes.insert_or_assign("red_bias", Scalar(s.redbias(), ir::DType::kFloat32));
      op.attributes.insert_or_assign("green_bias", Scalar(s.greenbias(), ir::DType::kFloat32));
      op.attributes.insert_or_assign("blue_bias", Scalar(s.bluebias(), ir::DType::kFloat32));
      op.attributes.insert_or_assign("gray_bias", Scalar(s.graybias(), ir::DType::kFloat32));
    } else if (pre.has_meanimage()) {
      op.type = "preprocessing.meanImage";
      ir::Constant mean;
      mean.type.tensor.dtype = ir::DType::kFloat32;
      mean.type.tensor.shape = {ir::Dim::Known(pre.meanimage().meanimage_size())};
      mean.byte_size = static_cast<uint64_t>(pre.meanimage().meanimage_size()) * 4;
      mean.values_elided = true;
      op.attributes.insert_or_assign("mean_image", std::move(mean));
    } else {
      continue;
    }
    // The scaled image replaces the input for the layers that read it.
    const NnShape* shape = converter.Shape(feature);
    op.inputs.push_back(ir::Argument{"inputs", {ir::Binding{feature, std::nullopt}}});
    op.outputs.push_back(ir::Value{feature, LayerConverter::ToValueType(shape ? *shape : NnShape())});
    fn.body.ops.push_back(std::move(op));
  }
  for (auto& layer : *layers) fn.body.ops.push_back(converter.Convert(&layer));
  for (const auto& f : model->outputs) fn.body.outputs.push_back(f.name);
  model->program.functions.push_back(std::move(fn));
}

}  // namespace anepilot::format
