#include "format/nn_shapes.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace anepilot::format {
namespace spec = CoreML::Specification;
using Layer = spec::NeuralNetworkLayer;

namespace {

using Dims = std::vector<int64_t>;

constexpr int64_t kUnknown = -1;
// Sizes beyond this are not real tensors; treating them as unknown keeps the
// arithmetic below free of overflow on hostile input.
constexpr int64_t kMaxDim = int64_t{1} << 40;

int64_t Checked(int64_t v) { return v < 0 || v > kMaxDim ? kUnknown : v; }
int64_t FromU64(uint64_t v) { return v > static_cast<uint64_t>(kMaxDim) ? kUnknown : static_cast<int64_t>(v); }

bool Known(int64_t d) { return d >= 0; }

// a * b for dimension arithmetic: unknown when an operand is unknown or the
// product overflows or exceeds kMaxDim.
int64_t Mul(int64_t a, int64_t b) {
  int64_t r;
  if (!Known(a) || !Known(b) || __builtin_mul_overflow(a, b, &r)) return kUnknown;
  return Checked(r);
}

// Index of C, H, W in a shape of rank >= 3.
struct Chw {
  size_t c, h, w;
};
std::optional<Chw> ChwOf(const NnShape& s) {
  if (!s || s->size() < 3) return std::nullopt;
  size_t r = s->size();
  return Chw{r - 3, r - 2, r - 1};
}

uint64_t At(const google::protobuf::RepeatedField<uint64_t>& v, int i, uint64_t dflt) {
  return i < v.size() ? v.Get(i) : dflt;
}

// (start, end) padding of one spatial axis from BorderAmounts ([H, W]).
std::pair<int64_t, int64_t> Border(const spec::BorderAmounts& b, int axis) {
  if (axis >= b.borderamounts_size()) return {0, 0};
  const auto& e = b.borderamounts(axis);
  return {FromU64(e.startedgesize()), FromU64(e.endedgesize())};
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Output extent of a sliding window along one axis.
int64_t ValidExtent(int64_t in, int64_t pad, int64_t kernel, int64_t stride) {
  if (!Known(in) || !Known(pad) || kernel <= 0 || stride <= 0) return kUnknown;
  int64_t span = in + pad - kernel;
  return span < 0 ? kUnknown : span / stride + 1;
}

NnShape Convolution(const spec::ConvolutionLayerParams& p, const NnShape& in) {
  auto chw = ChwOf(in);
  if (!chw) return std::nullopt;
  Dims out = *in;
  out[chw->c] = FromU64(p.outputchannels());
  for (int axis = 0; axis < 2; ++axis) {
    size_t idx = axis == 0 ? chw->h : chw->w;
    int64_t size = (*in)[idx];
    int64_t k = FromU64(At(p.kernelsize(), axis, 3));
    int64_t s = FromU64(At(p.stride(), axis, 1));
    int64_t d = FromU64(At(p.dilationfactor(), axis, 1));
    if (!Known(size) || k <= 0 || s <= 0 || d <= 0) { out[idx] = kUnknown; continue; }
    int64_t dk = Mul(k - 1, d);
    if (!Known(dk)) { out[idx] = kUnknown; continue; }
    dk += 1;
    if (p.isdeconvolution()) {
      if (p.outputshape_size() == 2) { out[idx] = FromU64(p.outputshape(axis)); continue; }
      if (p.has_same()) { out[idx] = Mul(size, s); continue; }
      auto [a, b] = Border(p.valid().paddingamounts(), axis);
      int64_t grown = Mul(size - 1, s);
      out[idx] = Known(grown) && Known(a) && Known(b) ? Checked(grown + dk - a - b) : kUnknown;
      continue;
    }
    if (p.has_same()) { out[idx] = CeilDiv(size, s); continue; }
    auto [a, b] = Border(p.valid().paddingamounts(), axis);
    out[idx] = ValidExtent(size, a + b, dk, s);
  }
  return out;
}

NnShape Pooling(const spec::PoolingLayerParams& p, const NnShape& in) {
  auto chw = ChwOf(in);
  if (!chw) return std::nullopt;
  Dims out = *in;
  if (p.globalpooling()) {
    out[chw->h] = 1;
    out[chw->w] = 1;
    return out;
  }
  for (int axis = 0; axis < 2; ++axis) {
    size_t idx = axis == 0 ? chw->h : chw->w;
    int64_t size = (*in)[idx];
    int64_t k = FromU64(At(p.kernelsize(), axis, 3));
    int64_t s = FromU64(At(p.stride(), axis, 1));
    if (!Known(size) || k <= 0 || s <= 0) { out[idx] = kUnknown; continue; }
    if (p.has_same()) {
      out[idx] = CeilDiv(size, s);
    } else if (p.has_includelastpixel()) {
      int64_t pad = FromU64(At(p.includelastpixel().paddingamounts(), axis, 0));
      int64_t span = size + 2 * pad - k;
      out[idx] = span < 0 ? kUnknown : CeilDiv(span, s) + 1;
    } else {
      auto [a, b] = Border(p.valid().paddingamounts(), axis);
      out[idx] = ValidExtent(size, a + b, k, s);
    }
  }
  return out;
}

// [..., C, 1, 1] -> [..., out, 1, 1]; a rank-1 vector -> [out].
NnShape ChannelsTo(const NnShape& in, int64_t channels) {
  if (!in) return std::nullopt;
  if (in->size() >= 3) {
    Dims out(in->begin(), in->end() - 3);
    out.insert(out.end(), {channels, 1, 1});
    return out;
  }
  Dims out = *in;
  if (!out.empty()) out.back() = channels;
  return out;
}

// NumPy-style broadcast of all inputs (right-aligned).
NnShape Broadcast(const std::vector<NnShape>& inputs) {
  if (inputs.empty()) return std::nullopt;
  size_t rank = 0;
  for (const auto& s : inputs) {
    if (!s) return std::nullopt;
    rank = std::max(rank, s->size());
  }
  Dims out(rank, 1);
  for (const auto& s : inputs) {
    size_t offset = rank - s->size();
    for (size_t i = 0; i < s->size(); ++i) {
      int64_t d = (*s)[i];
      int64_t& o = out[offset + i];
      if (d == 1 || d == o) continue;
      if (o == 1 || !Known(o)) {
        if (Known(d) || o == 1) o = d;
        continue;
      }
      if (!Known(d)) continue;
      return std::nullopt;  // not broadcastable: leave unknown
    }
  }
  return out;
}

// Concatenation along `axis` (may be negative).
NnShape ConcatAlong(const std::vector<NnShape>& inputs, int64_t axis) {
  if (inputs.empty() || !inputs[0]) return std::nullopt;
  size_t rank = inputs[0]->size();
  if (axis < 0) axis += static_cast<int64_t>(rank);
  if (axis < 0 || static_cast<size_t>(axis) >= rank) return std::nullopt;
  Dims out = *inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    if (!inputs[i] || inputs[i]->size() != rank) return std::nullopt;
    int64_t d = (*inputs[i])[axis];
    out[axis] = Known(out[axis]) && Known(d) ? Checked(out[axis] + d) : kUnknown;
  }
  return out;
}

int64_t Product(const Dims& d, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to; ++i) {
    if (!Known(d[i])) return kUnknown;
    n = Mul(n, d[i]);
    if (!Known(n)) return kUnknown;
  }
  return n;
}

NnShape Reshape(const spec::ReshapeLayerParams& p, const NnShape& in) {
  int n = p.targetshape_size();
  if (n != 3 && n != 4) return std::nullopt;
  // [Seq, C, H, W] targets keep their last three; the sequence axis is not
  // part of the [C, H, W] blob view.
  Dims out;
  for (int i = n - 3; i < n; ++i) out.push_back(Checked(p.targetshape(i)));
  // One -1 entry takes whatever the input's element count leaves.
  auto unknown = std::count(out.begin(), out.end(), kUnknown);
  if (unknown == 1 && in && in->size() >= 3) {
    int64_t total = Product(*in, in->size() - 3, in->size());
    int64_t known = 1;
    for (int64_t d : out) known = d == kUnknown ? known : Mul(known, d);
    if (Known(total) && known > 0 && total % known == 0) {
      *std::find(out.begin(), out.end(), kUnknown) = total / known;
    }
  }
  if (in && in->size() > 3) out.insert(out.begin(), in->begin(), in->end() - 3);
  return out;
}

NnShape Permute(const spec::PermuteLayerParams& p, const NnShape& in) {
  auto chw = ChwOf(in);
  if (!chw || p.axis_size() != 4) return std::nullopt;
  // Axes index [Seq, C, H, W]; the sequence length of a CHW blob is 1.
  Dims src = {1, (*in)[chw->c], (*in)[chw->h], (*in)[chw->w]};
  Dims perm(4);
  for (int i = 0; i < 4; ++i) {
    uint64_t a = p.axis(i);
    if (a > 3) return std::nullopt;
    perm[i] = src[a];
  }
  if (perm[0] != 1) return std::nullopt;  // would move data into the sequence axis
  Dims out(in->begin(), in->end() - 3);
  out.insert(out.end(), perm.begin() + 1, perm.end());
  return out;
}

NnShape Upsample(const spec::UpsampleLayerParams& p, const NnShape& in) {
  auto chw = ChwOf(in);
  if (!chw) return std::nullopt;
  Dims out = *in;
  for (int axis = 0; axis < 2; ++axis) {
    size_t idx = axis == 0 ? chw->h : chw->w;
    int64_t size = (*in)[idx];
    if (!Known(size)) continue;
    if (p.fractionalscalingfactor_size() == 2) {
      double f = p.fractionalscalingfactor(axis);
      double v = std::floor(static_cast<double>(size) * f);
      out[idx] = (std::isfinite(v) && v >= 0 && v <= static_cast<double>(kMaxDim))
                     ? static_cast<int64_t>(v) : kUnknown;
    } else {
      int64_t f = FromU64(At(p.scalingfactor(), axis, 1));
      out[idx] = Mul(size, f);
    }
  }
  return out;
}

NnShape Padding(const spec::PaddingLayerParams& p, const NnShape& in) {
  auto chw = ChwOf(in);
  if (!chw) return std::nullopt;
  Dims out = *in;
  for (int axis = 0; axis < 2; ++axis) {
    size_t idx = axis == 0 ? chw->h : chw->w;
    auto [a, b] = Border(p.paddingamounts(), axis);
    out[idx] = Known(out[idx]) && Known(a) && Known(b) ? Checked(out[idx] + a + b) : kUnknown;
  }
  return out;
}

NnShape Crop(const spec::CropLayerParams& p, const std::vector<NnShape>& inputs) {
  auto chw = ChwOf(inputs[0]);
  if (!chw) return std::nullopt;
  Dims out = *inputs[0];
  if (inputs.size() >= 2) {  // crop to the second input's H and W
    auto ref = ChwOf(inputs[1]);
    if (!ref) return std::nullopt;
    out[chw->h] = (*inputs[1])[ref->h];
    out[chw->w] = (*inputs[1])[ref->w];
    return out;
  }
  for (int axis = 0; axis < 2; ++axis) {
    size_t idx = axis == 0 ? chw->h : chw->w;
    auto [a, b] = Border(p.cropamounts(), axis);
    int64_t v = Known(out[idx]) && Known(a) && Known(b) ? out[idx] - a - b : kUnknown;
    out[idx] = v < 0 ? kUnknown : v;
  }
  return out;
}

NnShape Flatten(const NnShape& in) {
  auto chw = ChwOf(in);
  if (!in) return std::nullopt;
  if (!chw) return Dims{Product(*in, 0, in->size()), 1, 1};
  Dims out(in->begin(), in->end() - 3);
  out.insert(out.end(), {Product(*in, chw->c, in->size()), 1, 1});
  return out;
}

NnShape BatchedMatMul(const spec::BatchedMatMulLayerParams& p, const std::vector<NnShape>& in) {
  const NnShape& a = in[0];
  if (!a || a->size() < 2) return std::nullopt;
  Dims out = *a;
  size_t r = out.size();
  int64_t m = p.transposea() ? (*a)[r - 1] : (*a)[r - 2];
  out[r - 2] = m;
  if (in.size() == 1) {  // weights held by the layer: [K, N]
    out[r - 1] = FromU64(p.weightmatrixseconddimension());
    return out;
  }
  const NnShape& b = in[1];
  if (!b || b->size() < 2) return std::nullopt;
  size_t rb = b->size();
  out[r - 1] = p.transposeb() ? (*b)[rb - 2] : (*b)[rb - 1];
  // Leading (batch) dimensions broadcast.
  NnShape batch = Broadcast({Dims(a->begin(), a->end() - 2), Dims(b->begin(), b->end() - 2)});
  if (!batch) return std::nullopt;
  batch->push_back(out[r - 2]);
  batch->push_back(out[r - 1]);
  return batch;
}

// Space-to-depth moves b x b pixel blocks into channels; depth-to-space and
// pixel shuffle move them back.
NnShape ReorganizeData(const spec::ReorganizeDataLayerParams& p, const NnShape& in) {
  auto chw = ChwOf(in);
  int64_t b = FromU64(p.blocksize());
  if (!chw || b <= 0 || b > (int64_t{1} << 16)) return std::nullopt;
  Dims out = *in;
  int64_t c = out[chw->c], h = out[chw->h], w = out[chw->w];
  if (p.mode() == spec::ReorganizeDataLayerParams::SPACE_TO_DEPTH) {
    out[chw->c] = Mul(Mul(c, b), b);
    out[chw->h] = Known(h) && h % b == 0 ? h / b : kUnknown;
    out[chw->w] = Known(w) && w % b == 0 ? w / b : kUnknown;
  } else {
    out[chw->c] = Known(c) && c % (b * b) == 0 ? c / (b * b) : kUnknown;
    out[chw->h] = Mul(h, b);
    out[chw->w] = Mul(w, b);
  }
  return out;
}

// The reduced axes keep size 1 (the blob stays [C, H, W]).
NnShape Reduce(const spec::ReduceLayerParams& p, const NnShape& in) {
  auto chw = ChwOf(in);
  if (!chw) return std::nullopt;
  Dims out = *in;
  using R = spec::ReduceLayerParams;
  switch (p.axis()) {
    case R::CHW: out[chw->c] = out[chw->h] = out[chw->w] = 1; break;
    case R::HW: out[chw->h] = out[chw->w] = 1; break;
    case R::C: out[chw->c] = 1; break;
    case R::H: out[chw->h] = 1; break;
    case R::W: out[chw->w] = 1; break;
    default: return std::nullopt;
  }
  return out;
}

NnShape Transpose(const spec::TransposeLayerParams& p, const NnShape& in) {
  if (!in || static_cast<size_t>(p.axes_size()) != in->size()) return std::nullopt;
  Dims out(in->size());
  for (int i = 0; i < p.axes_size(); ++i) {
    if (p.axes(i) >= in->size()) return std::nullopt;
    out[i] = (*in)[p.axes(i)];
  }
  return out;
}

Dims FromShapeField(const google::protobuf::RepeatedField<uint64_t>& shape) {
  Dims out;
  out.reserve(shape.size());
  for (uint64_t d : shape) out.push_back(FromU64(d));
  return out;
}

// Layers whose output has the shape of their (first) input.
bool IsShapePreserving(Layer::LayerCase c) {
  switch (c) {
    case Layer::kActivation: case Layer::kBatchnorm: case Layer::kSoftmax: case Layer::kSoftmaxND:
    case Layer::kUnary: case Layer::kL2Normalize: case Layer::kLrn: case Layer::kMvn:
    case Layer::kScale: case Layer::kBias: case Layer::kClip: case Layer::kCopy:
    case Layer::kLayerNormalization: case Layer::kClampedReLU: case Layer::kGelu:
    case Layer::kErf: case Layer::kCeil: case Layer::kFloor: case Layer::kSign:
    case Layer::kRound: case Layer::kExp2: case Layer::kSin: case Layer::kCos: case Layer::kTan:
    case Layer::kAsin: case Layer::kAcos: case Layer::kAtan: case Layer::kSinh: case Layer::kCosh:
    case Layer::kTanh: case Layer::kAsinh: case Layer::kAcosh: case Layer::kAtanh:
    case Layer::kCumSum: case Layer::kLogicalNot: case Layer::kReverse:
      return true;
    default:
      return false;
  }
}

// Elementwise layers over several inputs, broadcasting.
bool IsElementwise(Layer::LayerCase c) {
  switch (c) {
    case Layer::kAdd: case Layer::kMultiply: case Layer::kAverage: case Layer::kMax:
    case Layer::kMin: case Layer::kAddBroadcastable: case Layer::kMultiplyBroadcastable:
    case Layer::kSubtractBroadcastable: case Layer::kDivideBroadcastable:
    case Layer::kMaxBroadcastable: case Layer::kMinBroadcastable: case Layer::kPowBroadcastable:
    case Layer::kModBroadcastable: case Layer::kFloorDivBroadcastable:
    case Layer::kEqual: case Layer::kNotEqual: case Layer::kLessThan: case Layer::kLessEqual:
    case Layer::kGreaterThan: case Layer::kGreaterEqual: case Layer::kLogicalOr:
    case Layer::kLogicalXor: case Layer::kLogicalAnd:
      return true;
    default:
      return false;
  }
}

NnShape Single(const Layer& layer, const std::vector<NnShape>& in) {
  const NnShape none;
  const NnShape& x = in.empty() ? none : in[0];
  auto c = layer.layer_case();
  if (IsShapePreserving(c)) return x;
  if (IsElementwise(c)) return Broadcast(in);
  switch (c) {
    case Layer::kConvolution: return Convolution(layer.convolution(), x);
    case Layer::kPooling: return Pooling(layer.pooling(), x);
    case Layer::kInnerProduct: return ChannelsTo(x, FromU64(layer.innerproduct().outputchannels()));
    case Layer::kEmbedding: return ChannelsTo(x, FromU64(layer.embedding().outputchannels()));
    case Layer::kConcat:
      if (layer.concat().sequenceconcat()) return std::nullopt;
      return in.empty() || !in[0] || in[0]->size() < 3 ? NnShape() : ConcatAlong(in, -3);
    case Layer::kConcatND: return ConcatAlong(in, layer.concatnd().axis());
    case Layer::kFlatten: return Flatten(x);
    case Layer::kReshape: return Reshape(layer.reshape(), x);
    case Layer::kPermute: return Permute(layer.permute(), x);
    case Layer::kTranspose: return Transpose(layer.transpose(), x);
    case Layer::kReorganizeData: return ReorganizeData(layer.reorganizedata(), x);
    case Layer::kReduce: return Reduce(layer.reduce(), x);
    case Layer::kUpsample: return Upsample(layer.upsample(), x);
    case Layer::kPadding: return Padding(layer.padding(), x);
    case Layer::kCrop: return in.empty() ? NnShape() : Crop(layer.crop(), in);
    case Layer::kLoadConstant: {
      Dims d = FromShapeField(layer.loadconstant().shape());
      return d.size() == 3 ? NnShape(d) : NnShape();
    }
    case Layer::kLoadConstantND: {
      Dims d = FromShapeField(layer.loadconstantnd().shape());
      return d.empty() ? NnShape() : NnShape(d);
    }
    case Layer::kBatchedMatmul: return in.empty() ? NnShape() : BatchedMatMul(layer.batchedmatmul(), in);
    default: return std::nullopt;
  }
}

}  // namespace

std::vector<NnShape> DeriveNnLayerShapes(const Layer& layer, const std::vector<NnShape>& raw_inputs) {
  // Sizes beyond kMaxDim (hostile or corrupt descriptions) count as unknown,
  // so that no rule's arithmetic can overflow.
  std::vector<NnShape> inputs = raw_inputs;
  for (auto& s : inputs) {
    if (!s) continue;
    for (auto& d : *s) d = Checked(d);
  }
  size_t outputs = static_cast<size_t>(layer.output_size());
  if (layer.layer_case() == Layer::kSplit) {
    // Equal parts along C.
    std::vector<NnShape> out(outputs);
    auto chw = ChwOf(inputs.empty() ? NnShape() : inputs[0]);
    if (chw && outputs > 0) {
      Dims d = *inputs[0];
      d[chw->c] = Known(d[chw->c]) && d[chw->c] % static_cast<int64_t>(outputs) == 0
                      ? d[chw->c] / static_cast<int64_t>(outputs) : kUnknown;
      for (auto& o : out) o = d;
    }
    return out;
  }
  std::vector<NnShape> out(outputs);
  if (outputs > 0) out[0] = Single(layer, inputs);
  return out;
}

const std::vector<std::string_view>& NnLayersWithShapeRules() {
  static const std::vector<std::string_view> kRules = {
      // Sliding windows and channel changes.
      "convolution", "pooling", "innerProduct", "embedding", "batchedMatmul",
      // Same shape as the input.
      "activation", "batchnorm", "softmax", "softmaxND", "unary", "l2normalize", "lrn", "mvn",
      "scale", "bias", "clip", "copy", "layerNormalization", "clampedReLU", "gelu", "erf",
      "ceil", "floor", "sign", "round", "exp2", "sin", "cos", "tan", "asin", "acos", "atan",
      "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "cumSum", "logicalNot", "reverse",
      // Elementwise with broadcasting.
      "add", "multiply", "average", "max", "min", "addBroadcastable", "multiplyBroadcastable",
      "subtractBroadcastable", "divideBroadcastable", "maxBroadcastable", "minBroadcastable",
      "powBroadcastable", "modBroadcastable", "floorDivBroadcastable", "equal", "notEqual",
      "lessThan", "lessEqual", "greaterThan", "greaterEqual", "logicalOr", "logicalXor",
      "logicalAnd",
      // Layout.
      "concat", "concatND", "split", "flatten", "reshape", "permute", "transpose", "reorganizeData", "reduce", "upsample",
      "padding", "crop", "loadConstant", "loadConstantND",
  };
  return kRules;
}

}  // namespace anepilot::format
