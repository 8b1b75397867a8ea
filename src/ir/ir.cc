#include "anepilot/ir.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <tuple>

namespace anepilot::ir {

namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  int bits;
};

constexpr std::array<DTypeInfo, 23> kDTypes = {{
    {DType::kUnknown, "unknown", 0},   {DType::kBool, "bool", 8},
    {DType::kInt4, "int4", 4},         {DType::kUInt1, "uint1", 1},
    {DType::kUInt2, "uint2", 2},       {DType::kUInt3, "uint3", 3},
    {DType::kUInt4, "uint4", 4},       {DType::kUInt6, "uint6", 6},
    {DType::kUInt8, "uint8", 8},       {DType::kInt8, "int8", 8},
    {DType::kInt16, "int16", 16},      {DType::kUInt16, "uint16", 16},
    {DType::kInt32, "int32", 32},      {DType::kUInt32, "uint32", 32},
    {DType::kInt64, "int64", 64},      {DType::kUInt64, "uint64", 64},
    {DType::kFloat8E4M3, "fp8e4m3", 8}, {DType::kFloat8E5M2, "fp8e5m2", 8},
    {DType::kFloat16, "fp16", 16},     {DType::kBFloat16, "bf16", 16},
    {DType::kFloat32, "fp32", 32},     {DType::kFloat64, "fp64", 64},
    {DType::kString, "string", 0},
}};

const DTypeInfo& Info(DType t) {
  for (const auto& i : kDTypes) {
    if (i.type == t) return i;
  }
  return kDTypes[0];
}

std::string DimToString(const Dim& d) {
  if (d.known()) return std::to_string(d.size);
  if (!d.symbol.empty()) return d.symbol.str();
  return "?";
}

}  // namespace

std::string_view DTypeName(DType t) { return Info(t).name; }

DType DTypeFromName(std::string_view name) {
  for (const auto& i : kDTypes) {
    if (i.name == name) return i.type;
  }
  return DType::kUnknown;
}

int DTypeBits(DType t) { return Info(t).bits; }

bool IsFloat(DType t) {
  switch (t) {
    case DType::kFloat8E4M3: case DType::kFloat8E5M2: case DType::kFloat16:
    case DType::kBFloat16: case DType::kFloat32: case DType::kFloat64:
      return true;
    default:
      return false;
  }
}

bool TensorType::fully_known() const {
  if (!rank_known) return false;
  for (const auto& d : shape) {
    if (!d.known()) return false;
  }
  return true;
}

std::optional<int64_t> TensorType::element_count() const {
  if (!fully_known()) return std::nullopt;
  // Hostile models can declare absurd dims: an overflowing count is unknown.
  int64_t n = 1;
  for (const auto& d : shape) {
    if (__builtin_mul_overflow(n, d.size, &n)) return std::nullopt;
  }
  return n;
}

std::optional<int64_t> TensorType::byte_size() const {
  auto n = element_count();
  int bits = DTypeBits(dtype);
  if (!n || bits == 0) return std::nullopt;
  int64_t total_bits = 0;
  if (__builtin_mul_overflow(*n, int64_t{bits}, &total_bits)) return std::nullopt;
  return total_bits / 8 + (total_bits % 8 != 0);
}

std::string TensorType::ToString() const {
  std::string out(DTypeName(dtype));
  if (!rank_known) return out + "[*]";
  out += "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += DimToString(shape[i]);
  }
  out += "]";
  return out;
}

std::string ValueType::ToString() const {
  switch (kind) {
    case Kind::kTensor: return tensor.ToString();
    case Kind::kList: return "list<" + tensor.ToString() + ">";
    case Kind::kState: return "state<" + tensor.ToString() + ">";
    case Kind::kDictionary: {
      std::string k = members.size() > 0 ? members[0].ToString() : "?";
      std::string v = members.size() > 1 ? members[1].ToString() : "?";
      return "dict<" + k + ", " + v + ">";
    }
    case Kind::kTuple: {
      std::string out = "tuple<";
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out += ", ";
        out += members[i].ToString();
      }
      return out + ">";
    }
    case Kind::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string Constant::ToString() const {
  if (blob) return fmt::format("{} @{}", type.ToString(), blob->offset);
  if (!strings.empty()) {
    if (strings.size() == 1) return "\"" + strings[0] + "\"";
    return fmt::format("[{} strings]", strings.size());
  }
  if (!values_elided && !numbers.empty()) {
    if (numbers.size() == 1 && type.tensor.rank_known && type.tensor.shape.empty()) {
      return fmt::format("{}", numbers[0]);
    }
    if (numbers.size() <= 8) return fmt::format("[{}]", fmt::join(numbers, ", "));
  }
  return fmt::format("{} ({} bytes inline)", type.ToString(), byte_size);
}

const Binding* Op::input(std::string_view param) const {
  for (const auto& a : inputs) {
    if (a.param == param && !a.bindings.empty()) return &a.bindings.front();
  }
  return nullptr;
}

const Constant* Op::attribute(std::string_view key) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? nullptr : &it->second;
}

namespace {
size_t CountBlockOps(const Block& b) {
  size_t n = b.ops.size();
  for (const auto& op : b.ops) {
    for (const auto& nested : op.blocks) n += CountBlockOps(nested);
  }
  return n;
}
}  // namespace

size_t Function::CountOps() const { return CountBlockOps(body); }

const Function* Program::FindFunction(std::string_view name) const {
  for (const auto& f : functions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string Flexibility::ToString() const {
  switch (kind) {
    case Kind::kNone: return "";
    case Kind::kRange: {
      std::string out = "range ";
      for (size_t i = 0; i < ranges.size(); ++i) {
        if (i) out += "x";
        const auto& r = ranges[i];
        if (r.upper == r.lower) {
          out += std::to_string(r.lower);
        } else {
          out += fmt::format("[{}..{}]", r.lower, r.upper < 0 ? std::string("inf") : std::to_string(r.upper));
        }
      }
      return out;
    }
    case Kind::kEnumerated:
      return fmt::format("{} enumerated shapes", enumerated.size());
  }
  return "";
}

std::string FeatureType::ToString() const {
  std::string out;
  switch (kind) {
    case Kind::kInt64: out = "int64"; break;
    case Kind::kDouble: out = "double"; break;
    case Kind::kString: out = "string"; break;
    case Kind::kImage: {
      std::string hw = array.shape.size() == 2 ? fmt::format("{}x{}", DimToString(array.shape[1]), DimToString(array.shape[0])) : "?";
      out = fmt::format("image {} {}", color_space.empty() ? "?" : color_space, hw);
      break;
    }
    case Kind::kMultiArray: out = "multiarray " + array.ToString(); break;
    case Kind::kState: out = "state " + array.ToString(); break;
    case Kind::kDictionary:
      out = key_or_element == Kind::kString ? "dictionary<string, double>" : "dictionary<int64, double>";
      break;
    case Kind::kSequence:
      out = key_or_element == Kind::kString ? "sequence<string>" : "sequence<int64>";
      break;
    case Kind::kUnknown: out = "unknown"; break;
  }
  std::string flex = flexibility.ToString();
  if (!flex.empty()) out += " (" + flex + ")";
  if (optional) out += " optional";
  return out;
}

std::string_view ContainerName(Container c) {
  switch (c) {
    case Container::kMlModel: return "mlmodel";
    case Container::kMlPackage: return "mlpackage";
    case Container::kMlModelc: return "mlmodelc";
  }
  return "mlmodel";
}

// ------------------------------------------------------------ GraphIndex ---

namespace {
const std::vector<const Op*> kNoConsumers;
}  // namespace

GraphIndex::GraphIndex(const Function& fn) {
  for (const auto& in : fn.inputs) types_[in.name] = &in.type;
  // Iterative walk so that deeply nested programs cannot overflow the stack.
  std::vector<const Block*> pending{&fn.body};
  while (!pending.empty()) {
    const Block* b = pending.back();
    pending.pop_back();
    for (const auto& in : b->inputs) types_[in.name] = &in.type;
    for (const auto& op : b->ops) {
      ops_.push_back(&op);
      for (const auto& arg : op.inputs) {
        for (const auto& bind : arg.bindings) {
          if (!bind.name.empty()) consumers_[bind.name].push_back(&op);
        }
      }
      for (const auto& out : op.outputs) {
        producer_[out.name] = &op;
        types_[out.name] = &out.type;
      }
      for (auto it = op.blocks.rbegin(); it != op.blocks.rend(); ++it) pending.push_back(&*it);
    }
  }
}

const Op* GraphIndex::Producer(std::string_view value) const {
  auto it = producer_.find(value);
  return it == producer_.end() ? nullptr : it->second;
}

const std::vector<const Op*>& GraphIndex::Consumers(std::string_view value) const {
  auto it = consumers_.find(value);
  return it == consumers_.end() ? kNoConsumers : it->second;
}

const ValueType* GraphIndex::TypeOf(std::string_view value) const {
  auto it = types_.find(value);
  return it == types_.end() ? nullptr : it->second;
}

void Program::Swap(Program& other) noexcept {
  using std::swap;
  swap(storage, other.storage);
  swap(version, other.version);
  swap(text_version, other.text_version);
  swap(functions, other.functions);
  swap(attributes, other.attributes);
}

// ------------------------------------------------------- AttributeMap ---

AttributeMap::iterator AttributeMap::LowerBound(std::string_view key) {
  return std::lower_bound(begin(), end(), key,
                          [](const value_type& e, std::string_view k) { return e.first.view() < k; });
}

const Constant& AttributeMap::at(std::string_view key) const {
  const_iterator it = find(key);
  if (it == end()) throw std::out_of_range("AttributeMap::at: no attribute " + std::string(key));
  return it->second;
}

std::pair<AttributeMap::iterator, bool> AttributeMap::try_emplace(std::string_view key) {
  iterator it = LowerBound(key);
  if (it != end() && it->first == key) return {it, false};
  return {entries_.emplace(it, std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple()), true};
}

std::pair<AttributeMap::iterator, bool> AttributeMap::insert_or_assign(std::string_view key, Constant&& value) {
  auto entry = try_emplace(key);
  entry.first->second = std::move(value);
  return entry;
}

Constant& AttributeMap::operator[](std::string_view key) { return try_emplace(key).first->second; }

size_t AttributeMap::erase(std::string_view key) {
  iterator it = find(key);
  if (it == end()) return 0;
  entries_.erase(it);
  return 1;
}

}  // namespace anepilot::ir
