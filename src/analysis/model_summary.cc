#include "analysis/model_summary.h"

#include "ir/op_walk.h"
#include "base/parallel_for.h"

#include <algorithm>
#include <charconv>
#include <queue>
#include <string_view>
#include <unordered_map>

namespace anepilot::analysis {

namespace {

struct OsRelease {
  int spec_version;
  const char* ios;
  const char* macos;
};

// Core ML specification versions and the first OS releases that read them.
constexpr OsRelease kReleases[] = {
    {1, "iOS 11", "macOS 10.13"},   {2, "iOS 11.2", "macOS 10.13.2"},
    {3, "iOS 12", "macOS 10.14"},   {4, "iOS 13", "macOS 10.15"},
    {5, "iOS 14", "macOS 11"},      {6, "iOS 15", "macOS 12"},
    {7, "iOS 16", "macOS 13"},      {8, "iOS 17", "macOS 14"},
    {9, "iOS 18", "macOS 15"},      {10, "iOS 26", "macOS 26"},
};

const OsRelease* ReleaseForSpec(int spec_version) {
  for (const auto& r : kReleases) {
    if (r.spec_version == spec_version) return &r;
  }
  return nullptr;
}

// "CoreML6" -> spec 7; "ios16" -> spec 7; 0 when not recognised.
int SpecVersionForOpset(std::string_view opset) {
  auto number_after = [&](std::string_view prefix) -> int {
    if (opset.substr(0, prefix.size()) != prefix) return 0;
    std::string_view digits = opset.substr(prefix.size());
    int n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
    return n;
  };
  if (int n = number_after("CoreML"); n >= 5 && n <= 9) return n + 1;
  if (int n = number_after("ios"); n > 0) {
    for (const auto& r : kReleases) {
      if (std::string_view(r.ios) == "iOS " + std::to_string(n)) return r.spec_version;
    }
  }
  return 0;
}

struct CompressionType {
  std::string_view type;
  std::string_view method;
};

constexpr CompressionType kCompressionTypes[] = {
    {"constexpr_affine_dequantize", "quantization"},
    {"constexpr_blockwise_shift_scale", "quantization"},
    {"constexpr_sparse_blockwise_shift_scale", "quantization+sparsity"},
    {"dequantize", "quantization"},
    {"quantize", "quantization"},
    {"constexpr_lut_to_dense", "palettization"},
    {"constexpr_lut_to_sparse", "palettization+sparsity"},
    {"constexpr_sparse_to_dense", "sparsity"},
    {"constexpr_cast", "cast"},
};

// NeuralNetwork layers keep weights as constant attributes; the reader notes
// the spec's QuantizationParams as "<weights>.quantization" = "linear 8-bit" /
// "lookup_table 4-bit". Weights in 8 bits or fewer without that note (int8
// raw values) count as quantized too.
constexpr std::string_view kNnQuantizedWeights = "neuralnetwork_quantized_weights";
constexpr std::string_view kNnPalettizedWeights = "neuralnetwork_palettized_weights";

bool IsLowBitInteger(ir::DType t) {
  switch (t) {
    case ir::DType::kInt4: case ir::DType::kUInt1: case ir::DType::kUInt2:
    case ir::DType::kUInt3: case ir::DType::kUInt4: case ir::DType::kUInt6:
    case ir::DType::kUInt8: case ir::DType::kInt8:
      return true;
    default:
      return false;
  }
}

// kNnPalettizedWeights, kNnQuantizedWeights, or empty for a layer with
// full-precision (or no) weights.
std::string_view NnWeightCompression(const ir::Op& op);

bool HasLowBitConstant(const ir::Op& op) {
  for (const auto& [key, c] : op.attributes) {
    if (c.type.kind == ir::ValueType::Kind::kTensor && IsLowBitInteger(c.type.tensor.dtype) &&
        !c.type.tensor.shape.empty()) {
      return true;
    }
  }
  for (const auto& arg : op.inputs) {
    for (const auto& b : arg.bindings) {
      if (b.constant && IsLowBitInteger(b.constant->type.tensor.dtype) &&
          !b.constant->type.tensor.shape.empty()) {
        return true;
      }
    }
  }
  return false;
}

std::string_view NnWeightCompression(const ir::Op& op) {
  constexpr std::string_view kSuffix = ".quantization";
  for (const auto& [key, c] : op.attributes) {
    if (key.size() <= kSuffix.size() || key.compare(key.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0 ||
        c.strings.empty()) {
      continue;
    }
    return c.strings.front().rfind("lookup_table", 0) == 0 ? kNnPalettizedWeights : kNnQuantizedWeights;
  }
  return HasLowBitConstant(op) ? kNnQuantizedWeights : std::string_view();
}

const ir::TensorType* FirstTensorOutput(const ir::Op& op) {
  for (const auto& out : op.outputs) {
    if (out.type.kind == ir::ValueType::Kind::kTensor) return &out.type.tensor;
  }
  return nullptr;
}

// Min-heap of the N largest tensors seen so far: O(ops * log N). Each
// tensor comes with its position in program order (`order`, increasing along
// the program); equal sizes rank the earlier first, so output is deterministic
// however the walk was split.
class LargestTensors {
 public:
  explicit LargestTensors(size_t limit) : limit_(limit) {}

  // Cheap test first so that the common case (a small tensor) copies nothing.
  bool WouldKeep(int64_t bytes) const {
    if (limit_ == 0) return false;
    return heap_.size() < limit_ || bytes > heap_.front().tensor.bytes;
  }
  void Add(IntermediateTensor t, uint64_t order) {
    heap_.push_back({std::move(t), order});
    std::push_heap(heap_.begin(), heap_.end(), Greater);
    if (heap_.size() > limit_) {
      std::pop_heap(heap_.begin(), heap_.end(), Greater);
      heap_.pop_back();
    }
  }
  void Merge(LargestTensors&& other) {
    for (Entry& e : other.heap_) {
      if (limit_ > 0 && (heap_.size() < limit_ || Greater(e, heap_.front()))) Add(std::move(e.tensor), e.order);
    }
    other.heap_.clear();
  }
  std::vector<IntermediateTensor> TakeSorted() {
    std::sort_heap(heap_.begin(), heap_.end(), Greater);  // best first
    std::vector<IntermediateTensor> out;
    out.reserve(heap_.size());
    for (auto& e : heap_) out.push_back(std::move(e.tensor));
    return out;
  }

 private:
  struct Entry {
    IntermediateTensor tensor;
    uint64_t order;
  };
  // "a ranks before b": larger, or as large and earlier.
  static bool Greater(const Entry& a, const Entry& b) {
    if (a.tensor.bytes != b.tensor.bytes) return a.tensor.bytes > b.tensor.bytes;
    return a.order < b.order;
  }
  size_t limit_;
  std::vector<Entry> heap_;
};

// What a walk over some ops of a program counts. Programs are walked in
// pieces (several threads for a large function) whose tallies merge into one.
// Keys view strings owned by the model, which outlives the tally.
struct Tally {
  struct TypeEntry {
    size_t count = 0;
    bool compression = false;  // a compression op (CompressionMethod)
    bool weight_op = false;    // IsWeightOp
  };

  Tally(size_t top_intermediates, uint64_t first_order) : largest(top_intermediates), next_order(first_order) {}

  // `function` names the function the ops belong to; `neural_network` says
  // the program holds NeuralNetwork layers (whose weight compression is a
  // layer parameter, not an op).
  void Visit(const ir::Op& op, const std::string& function, bool neural_network) {
    ++op_count;
    // Per-type facts are computed once per distinct type, not per op.
    auto [entry, first_of_type] = histogram.try_emplace(op.type);
    TypeEntry& type = entry->second;
    if (first_of_type) {
      type.compression = !CompressionMethod(op.type).empty();
      type.weight_op = IsWeightOp(op);
    }
    ++type.count;
    if (type.compression) ++compression[op.type];
    if (neural_network) {
      if (std::string_view nn = NnWeightCompression(op); !nn.empty()) ++compression[nn];
    }
    // One position per output, so that equal outputs of one op keep their order too.
    const uint64_t order = next_order;
    next_order += 1 + op.outputs.size();
    if (type.weight_op) return;

    const ir::TensorType* first = FirstTensorOutput(op);
    ir::DType dt = first ? first->dtype : ir::DType::kUnknown;
    if (dt == ir::DType::kFloat16 || dt == ir::DType::kBFloat16) ++precision.fp16;
    else if (dt == ir::DType::kFloat32 || dt == ir::DType::kFloat64) ++precision.fp32;
    else if (dt == ir::DType::kUnknown || dt == ir::DType::kString || ir::IsFloat(dt)) ++precision.unknown;
    else ++precision.integer;

    for (size_t i = 0; i < op.outputs.size(); ++i) {
      const ir::Value& out = op.outputs[i];
      if (out.type.kind != ir::ValueType::Kind::kTensor) continue;
      std::optional<int64_t> bytes = out.type.tensor.byte_size();
      if (!bytes || !largest.WouldKeep(*bytes)) continue;
      largest.Add({function, op.name.str(), op.type.str(), out.name.str(), out.type.tensor, *bytes}, order + i);
    }
  }

  // Adds `other`'s counts (ops later in program order than this tally's).
  void Merge(Tally&& other) {
    op_count += other.op_count;
    for (const auto& [type, e] : other.histogram) {
      auto [it, inserted] = histogram.try_emplace(type, e);
      if (!inserted) it->second.count += e.count;
    }
    for (const auto& [type, n] : other.compression) compression[type] += n;
    precision.fp16 += other.precision.fp16;
    precision.fp32 += other.precision.fp32;
    precision.integer += other.precision.integer;
    precision.unknown += other.precision.unknown;
    largest.Merge(std::move(other.largest));
    next_order = std::max(next_order, other.next_order);
  }

  size_t op_count = 0;
  std::unordered_map<std::string_view, TypeEntry> histogram;
  std::unordered_map<std::string_view, size_t> compression;
  PrecisionSummary precision;
  LargestTensors largest;
  uint64_t next_order;
};

// Functions with at least this many top-level ops are summarized on several
// threads: below it, starting them costs more than the walk (about 100 ns an
// op on a program too big for the caches).
constexpr size_t kParallelSummaryMinOps = 20000;

class Summarizer {
 public:
  Summarizer(const ir::Model& model, const SummaryOptions& options)
      : model_(model), options_(options), tally_(options.top_intermediates, 0) {}

  void WalkFunctions(ModelSummary& s) {
    const bool nn = model_.program.version == 0;
    for (const auto& fn : model_.program.functions) {
      const size_t before = tally_.op_count;
      const size_t n = fn.body.ops.size();
      const size_t wanted = options_.threads != 0              ? options_.threads
                            : n >= kParallelSummaryMinOps ? UsefulThreads()
                                                          : 1;
      const auto threads = static_cast<unsigned>(std::clamp<size_t>(wanted, 1, std::max<size_t>(n, 1)));
      if (threads <= 1) {
        ir::ForEachOpInProgramOrder(fn, [&](const ir::Op& op) { tally_.Visit(op, fn.name, nn); });
      } else {
        // Contiguous ranges of top-level ops; orders are spaced so that each
        // range's come after the previous range's (2^40 positions per range).
        std::vector<Tally> parts;
        parts.reserve(threads);
        for (unsigned t = 0; t < threads; ++t) {
          parts.emplace_back(options_.top_intermediates, tally_.next_order + (uint64_t{t} << 40));
        }
        ParallelForRanges(n, threads, [&](size_t t, size_t begin, size_t end) {
          ir::ForEachOpInProgramOrder(fn.body, begin, end, [&](const ir::Op& op) { parts[t].Visit(op, fn.name, nn); });
        });
        for (Tally& part : parts) tally_.Merge(std::move(part));
      }
      s.functions.push_back({fn.name, fn.opset, tally_.op_count - before});
    }
  }

  void Finish(ModelSummary& s) {
    s.op_count = tally_.op_count;
    s.op_histogram.reserve(tally_.histogram.size());
    for (const auto& [type, entry] : tally_.histogram) s.op_histogram.push_back({std::string(type), entry.count});
    auto by_count = [](const auto& a, const auto& b) {
      return a.count != b.count ? a.count > b.count : a.type < b.type;
    };
    std::sort(s.op_histogram.begin(), s.op_histogram.end(), by_count);
    for (const auto& [type, count] : tally_.compression) {
      std::string method = type == kNnQuantizedWeights    ? "quantization"
                           : type == kNnPalettizedWeights ? "palettization"
                                                          : CompressionMethod(std::string(type));
      s.compression.push_back({std::string(type), method, count});
    }
    std::sort(s.compression.begin(), s.compression.end(), by_count);
    s.largest_intermediates = tally_.largest.TakeSorted();
    PrecisionSummary& p = s.precision;
    p = tally_.precision;
    p.verdict = p.fp16 && p.fp32 ? "mixed" : p.fp16 ? "fp16" : p.fp32 ? "fp32" : "unknown";
  }

 private:
  const ir::Model& model_;
  const SummaryOptions& options_;
  Tally tally_;
};

DeploymentTarget ProgramTarget(const ir::Model& model) {
  // The highest opset among functions decides (a multifunction model needs
  // the newest OS any of its functions needs).
  int best = 0;
  std::string best_opset;
  for (const auto& fn : model.program.functions) {
    int v = SpecVersionForOpset(fn.opset);
    if (v > best) { best = v; best_opset = fn.opset; }
  }
  if (best > 0) return TargetForOpset(best_opset);
  return TargetForSpecVersion(model.spec_version);
}

}  // namespace

DeploymentTarget TargetForSpecVersion(int spec_version) {
  const OsRelease* r = ReleaseForSpec(spec_version);
  if (!r) return {};
  return {r->ios, r->macos, "spec version " + std::to_string(spec_version)};
}

DeploymentTarget TargetForOpset(const std::string& opset) {
  const OsRelease* r = ReleaseForSpec(SpecVersionForOpset(opset));
  if (!r) return {};
  return {r->ios, r->macos, "opset " + opset};
}

bool IsWeightOp(const ir::Op& op) {
  return op.type == "const" || std::string_view(op.type).substr(0, 10) == "constexpr_";
}

std::string CompressionMethod(std::string_view op_type) {
  for (const auto& c : kCompressionTypes) {
    if (c.type == op_type) return std::string(c.method);
  }
  return {};
}

ModelSummary Summarize(const ir::Model& model, const SummaryOptions& options) {
  ModelSummary s;
  s.path = model.path;
  s.container = std::string(ir::ContainerName(model.container));
  s.model_file = model.model_file;
  s.kind = model.kind;
  s.spec_version = model.spec_version;
  s.deployment = ProgramTarget(model);
  s.is_updatable = model.is_updatable;
  s.inputs = model.inputs;
  s.outputs = model.outputs;
  s.states = model.states;
  s.weights = model.weights;
  s.metadata = model.metadata;
  s.custom_layers = model.custom_layers;
  s.warnings = model.warnings;

  Summarizer summarizer(model, options);
  summarizer.WalkFunctions(s);
  summarizer.Finish(s);

  for (const auto& stage : model.stages) s.stages.push_back(Summarize(stage, options));
  return s;
}

}  // namespace anepilot::analysis
