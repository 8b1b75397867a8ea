// anepilot's one in-memory representation of a Core ML model, whatever file it
// came from (.mlmodel, .mlpackage, .mlmodelc) and whatever its kind (ML
// Program, NeuralNetwork, pipeline, classic). Everything anepilot says about a
// model is computed from this.
//
// Shape of the IR (MIL's, which is the richest of the formats):
//   Model -> Program -> Function -> Block -> Op -> (inputs, attributes, outputs, nested blocks)
// NeuralNetwork layers become Ops of one function "main" (op type = the layer
// kind as the spec names it, e.g. "convolution", "innerProduct"), so analyses
// walk one structure. Pipelines keep their stages as sub-models.
//
// Plain value types: a Model owns everything; no pointers into other models.
// Lists are ArenaVectors: a reader allocates a program's lists in one arena
// that the Program keeps (Program::storage). Copies are always independent;
// do not move parts out of a Program that dies before them (copy them).
// Not thread-safe for mutation; concurrent readers are fine.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "anepilot/arena_vector.h"
#include "anepilot/boxed.h"
#include "anepilot/boxed_string.h"
#include "anepilot/inline_string.h"

namespace anepilot::ir {

// ---------------------------------------------------------------- types ----

enum class DType : uint8_t {
  kUnknown,
  kBool,
  kInt4, kUInt1, kUInt2, kUInt3, kUInt4, kUInt6, kUInt8, kInt8,
  kInt16, kUInt16, kInt32, kUInt32, kInt64, kUInt64,
  kFloat8E4M3, kFloat8E5M2, kFloat16, kBFloat16, kFloat32, kFloat64,
  kString,
};

// MIL spelling: "fp16", "fp32", "int8", "uint8", "bool", "string", ...
std::string_view DTypeName(DType t);
// Inverse of DTypeName; kUnknown for anything else.
DType DTypeFromName(std::string_view name);
// Size of one element in bits (4 for int4, 16 for fp16); 0 for unknown/string.
int DTypeBits(DType t);
bool IsFloat(DType t);

// One dimension: a known size, a named symbol ("is0", "batch"), or unknown.
struct Dim {
  int64_t size = -1;   // >= 0 when known
  BoxedString symbol;  // non-empty when symbolic (rare: one pointer, see boxed_string.h)
  static Dim Known(int64_t n) { return Dim{n, {}}; }
  static Dim Symbol(std::string_view s) { return Dim{-1, BoxedString(s)}; }
  bool known() const { return size >= 0; }
  bool operator==(const Dim&) const = default;
};

// A tensor's element type and shape. rank_known=false for unranked tensors
// (shape then empty). A rank-0 tensor with rank_known is a scalar.
struct TensorType {
  // The list first: the two one-byte fields then share its padding (24 bytes, not 32).
  ArenaVector<Dim> shape;
  DType dtype = DType::kUnknown;
  bool rank_known = true;

  bool fully_known() const;                 // rank and every dim known
  std::optional<int64_t> element_count() const;
  std::optional<int64_t> byte_size() const; // element_count * bits / 8, rounded up
  std::string ToString() const;             // "fp16[1, 3, 1024, 1024]", "fp32[?, is0]"
  bool operator==(const TensorType&) const = default;
};

// A value's type. MIL has tensors, lists, dictionaries, tuples and states;
// everything outside tensors is rare inside programs and kept shallow.
struct ValueType {
  enum class Kind : uint8_t { kTensor, kList, kDictionary, kTuple, kState, kUnknown };
  Kind kind = Kind::kTensor;
  TensorType tensor;              // kTensor; for kList/kState the element / wrapped tensor
  ArenaVector<ValueType> members; // kTuple members, kDictionary {key, value}
  std::string ToString() const;
  bool operator==(const ValueType&) const = default;
};

// ------------------------------------------------------------- constants ---

// Where a constant's bytes live when not inline: a blob in a weight file.
struct BlobRef {
  InlineString file;    // as written in the model, e.g. "@model_path/weights/weight.bin"
  uint64_t offset = 0;  // offset of the blob's metadata header in that file
};

// A constant value: immediate (inline in the model) or a blob reference. Only
// small immediates keep their values decoded; large inline tensors (e.g.
// NeuralNetwork weights) keep only their byte size, since analyses need sizes,
// not numbers.
struct Constant {
  ValueType type;
  ArenaVector<double> numbers;        // decoded numeric values (small tensors / scalars)
  ArenaVector<InlineString> strings;  // decoded string values
  std::optional<BlobRef> blob;        // set when the bytes live in a weight file
  uint64_t byte_size = 0;             // size of the data (inline or in the blob)
  bool values_elided = false;         // true when numbers were not decoded (large)

  std::string ToString() const;       // short printable form: "3", "[1, 2]", "blob@64", "fp16[64,3,3,3] (inline)"
};

// An op's attributes: a map from key to Constant, kept as one arena-backed
// array sorted by key (iteration order is std::map's). Ops have a handful of
// attributes at most (one, "val", for the thousands of const ops), so a sorted
// array beats a tree: no node per entry, and lookups touch one cache line.
// The subset of std::map's interface the IR's users need.
class AttributeMap {
 public:
  using value_type = std::pair<InlineString, Constant>;
  using iterator = value_type*;
  using const_iterator = const value_type*;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }

  iterator find(std::string_view key) {
    iterator it = LowerBound(key);
    return it != end() && it->first == key ? it : end();
  }
  const_iterator find(std::string_view key) const { return const_cast<AttributeMap*>(this)->find(key); }
  bool contains(std::string_view key) const { return find(key) != end(); }
  size_t count(std::string_view key) const { return contains(key) ? 1 : 0; }
  const Constant& at(std::string_view key) const;  // throws std::out_of_range

  // Sets `key` to `value` (replacing any). Returns the entry and whether it is new.
  std::pair<iterator, bool> insert_or_assign(std::string_view key, Constant&& value);
  std::pair<iterator, bool> insert_or_assign(std::string_view key, const Constant& value) {
    return insert_or_assign(key, Constant(value));
  }
  // Inserts an empty Constant under `key` unless `key` is present
  // (std::map::try_emplace). Returns the entry and whether it is new.
  std::pair<iterator, bool> try_emplace(std::string_view key);
  // Inserts `key` = `value` unless `key` is present (std::map::emplace).
  std::pair<iterator, bool> emplace(std::string_view key, Constant value) {
    auto entry = try_emplace(key);
    if (entry.second) entry.first->second = std::move(value);
    return entry;
  }
  // The value of `key`, inserted empty when absent.
  Constant& operator[](std::string_view key);
  size_t erase(std::string_view key);
  void clear() { entries_.clear(); }

 private:
  iterator LowerBound(std::string_view key);
  ArenaVector<value_type> entries_;
};

// ----------------------------------------------------------------- graph ---

// A named, typed value produced by an op (or a function / block input).
struct Value {
  InlineString name;
  ValueType type;
};

// One argument of an op: MIL allows several bindings (variadic inputs such
// as concat's `values`); each binding names a value or holds a constant.
struct Binding {
  InlineString name;                // referenced value name, empty for constants
  Boxed<Constant> constant;         // immediate value (rare in ML Programs, hence boxed)
  bool is_constant() const { return constant.has_value(); }
};

struct Argument {
  InlineString param;               // parameter name, e.g. "x", "weight", "values"
  ArenaVector<Binding> bindings;
};

struct Block;

struct Op {
  InlineString type;                          // "conv", "const", "convolution" (NN layer kind)
  InlineString name;                          // the op's name attribute (MIL) / layer name (NN)
  ArenaVector<Argument> inputs;               // in declaration order
  AttributeMap attributes;                    // op attributes ("name" excluded), NN layer params
  ArenaVector<Value> outputs;
  ArenaVector<Block> blocks;                  // nested blocks (cond, while_loop, ...)

  // Convenience: the first binding of input `param`, or nullptr.
  const Binding* input(std::string_view param) const;
  // The constant attribute / const-op value named `key`, or nullptr.
  const Constant* attribute(std::string_view key) const;
};

struct Block {
  ArenaVector<Value> inputs;          // block arguments (loop variables)
  ArenaVector<Op> ops;
  ArenaVector<InlineString> outputs;  // names of returned values
};

struct Function {
  std::string name;                   // "main"
  std::string opset;                  // "CoreML7" (.mlpackage) or "ios17" (model.mil); empty for NN
  ArenaVector<Value> inputs;
  Block body;

  // Number of ops, counting nested blocks recursively.
  size_t CountOps() const;
};

struct Program {
  Program() = default;
  Program(const Program&) = default;
  Program(Program&&) noexcept = default;
  // Copy-and-swap: the old functions die together with the old storage, lists
  // first. (Member-wise assignment would replace `storage` first and could
  // free the arena under the old lists still to be destroyed.)
  Program& operator=(Program other) noexcept {
    Swap(other);
    return *this;
  }
  void Swap(Program& other) noexcept;

  // Storage of the lists a reader built this program in (see arena_vector.h).
  // Declared first so it outlives them. Shared, so that copies of a Program
  // (whose lists are on the heap) and moves stay valid.
  std::shared_ptr<Arena> storage;
  int64_t version = 0;                // MIL program version (1); 0 for NeuralNetwork
  std::string text_version;           // "1.0", "1.3" from model.mil
  std::vector<Function> functions;
  std::map<std::string, std::string> attributes;  // buildInfo etc. flattened to strings

  const Function* FindFunction(std::string_view name) const;
};

// ------------------------------------------------------------ features ----

// Shape flexibility of a model input (Core ML's flexible shapes).
struct ShapeRange { int64_t lower = 0; int64_t upper = -1; };  // upper -1 = unbounded
struct Flexibility {
  enum class Kind : uint8_t { kNone, kRange, kEnumerated };
  Kind kind = Kind::kNone;
  std::vector<ShapeRange> ranges;                  // kRange: one per dim (image: {height, width})
  std::vector<std::vector<int64_t>> enumerated;    // kEnumerated: each allowed shape
  std::string ToString() const;
};

struct FeatureType {
  enum class Kind : uint8_t {
    kInt64, kDouble, kString, kImage, kMultiArray, kDictionary, kSequence, kState, kUnknown
  };
  Kind kind = Kind::kUnknown;
  bool optional = false;
  // kMultiArray / kState: dtype + default shape. kImage: shape {H, W} and
  // color_space ("RGB", "BGR", "GRAYSCALE", "GRAYSCALE_FLOAT16").
  TensorType array;
  std::string color_space;
  Flexibility flexibility;
  // kDictionary: key kind (kInt64 or kString). kSequence: element kind.
  Kind key_or_element = Kind::kUnknown;
  std::string ToString() const;     // "image RGB 1024x1024", "fp32[1, 3, 224, 224] ranges ..."
};

struct Feature {
  std::string name;
  std::string description;
  FeatureType type;
};

// ---------------------------------------------------------------- model ---

enum class Container : uint8_t { kMlModel, kMlPackage, kMlModelc };
std::string_view ContainerName(Container c);  // "mlmodel", "mlpackage", "mlmodelc"

// The spec's model type, as Model.proto names its `Type` oneof member
// ("mlProgram", "neuralNetwork", "neuralNetworkClassifier", "pipelineClassifier",
// "treeEnsembleRegressor", "textClassifier", ...). Kept as a string: there are
// ~40 and analyses care about a few.
using ModelKind = std::string;

struct Metadata {
  std::string short_description, author, license, version_string;
  std::map<std::string, std::string> user_defined;  // com.github.apple.coremltools.version, .source, ...
};

// What is known about a model's weight file(s).
struct WeightsInfo {
  enum class State : uint8_t { kNone, kPresent, kMissing, kPartial };
  State state = State::kNone;        // kNone: the model has no external weights
  std::string path;                  // resolved weight file path, if any
  uint64_t file_bytes = 0;           // size on disk when present
  uint64_t referenced_bytes = 0;     // sum of blob sizes referenced by the program (when known)
  uint64_t inline_bytes = 0;         // weights stored inside the model file itself
  size_t blob_count = 0;             // number of blob references
  std::string note;                  // e.g. "weights/weight.bin absent: program read, weights not checked"
};

struct Model {
  Container container = Container::kMlModel;
  std::string path;                  // what the user passed
  std::string model_file;            // the spec file actually read (model.mlmodel, model.mil, ...)
  int spec_version = 0;              // specificationVersion; 0 when unknown (.mlmodelc without it)
  ModelKind kind;                    // see ModelKind
  std::string description_note;      // e.g. what could not be read of an espresso .mlmodelc

  std::vector<Feature> inputs, outputs, states, training_inputs;
  std::string predicted_feature_name, predicted_probabilities_name;
  std::vector<std::string> class_labels;  // classifiers (first few hundred kept)
  Metadata metadata;
  bool is_updatable = false;

  Program program;                   // ML Program, or NeuralNetwork layers as function "main"
  std::vector<Model> stages;         // pipeline stages, in order
  WeightsInfo weights;
  std::vector<std::string> custom_layers;   // class names of NN custom layers
  std::vector<std::string> warnings;        // things read partially; shown by inspect

  bool has_program() const { return !program.functions.empty(); }
};

// ---------------------------------------------------------- graph index ---

// Producer / consumer index over one function (including nested blocks).
// Holds pointers into the Function: valid while it is alive and unmodified.
class GraphIndex {
 public:
  explicit GraphIndex(const Function& fn);

  // The op producing `value`, or nullptr for function inputs / unknown names.
  const Op* Producer(std::string_view value) const;
  // Ops that read `value` through an input binding (in program order).
  const std::vector<const Op*>& Consumers(std::string_view value) const;
  // Every op in program order, nested blocks after their parent op.
  const std::vector<const Op*>& Ops() const { return ops_; }
  // The type of a named value (function input or op output), or nullptr.
  const ValueType* TypeOf(std::string_view value) const;

 private:
  std::vector<const Op*> ops_;
  std::unordered_map<std::string_view, const Op*> producer_;
  std::unordered_map<std::string_view, std::vector<const Op*>> consumers_;
  std::unordered_map<std::string_view, const ValueType*> types_;
};

}  // namespace anepilot::ir
