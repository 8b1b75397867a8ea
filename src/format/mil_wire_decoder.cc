#include "format/mil_wire_decoder.h"

#include <cstring>
#include <algorithm>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "anepilot/arena.h"
#include "base/parallel_for.h"
#include "format/mil_values.h"
#include "format/wire_reader.h"

namespace anepilot::format {
namespace {

using wire::FieldKey;
using wire::WireErrorKind;
using wire::WireReader;
using wire::WireType;

// libprotobuf's default recursion limit: how deeply messages may nest inside
// one parsed unit (the program; each operation, which the oracle parses on
// its own).
constexpr int kMessageDepthLimit = 100;

// IR bytes per byte of encoded MIL, for sizing the decoding arena: reading
// faceapp-problem1's 0.37 MB program fills about 3 MB of lists.
constexpr size_t kArenaBytesPerEncodedByte = 8;

// MILSpec field numbers (src/format/proto/MIL.proto).
namespace field {
// Program
constexpr uint32_t kProgramVersion = 1, kProgramFunctions = 2, kProgramAttributes = 4;
// map entries (FunctionEntry, BlockEntry, ValueEntry, ArgumentEntry)
constexpr uint32_t kEntryKey = 1, kEntryValue = 2;
// Function
constexpr uint32_t kFunctionInputs = 1, kFunctionOpset = 2, kFunctionBlocks = 3, kFunctionAttributes = 4;
// Block
constexpr uint32_t kBlockInputs = 1, kBlockOutputs = 2, kBlockOperations = 3, kBlockAttributes = 4;
// Argument, Argument.Binding
constexpr uint32_t kArgumentBindings = 1, kBindingName = 1, kBindingValue = 2;
// Operation
constexpr uint32_t kOpType = 1, kOpInputs = 2, kOpOutputs = 3, kOpBlocks = 4, kOpAttributes = 5;
// NamedValueType
constexpr uint32_t kNamedName = 1, kNamedType = 2;
// ValueType oneof
constexpr uint32_t kTensorType = 1, kListType = 2, kTupleType = 3, kDictionaryType = 4, kStateType = 5;
// TensorType
constexpr uint32_t kTensorDataType = 1, kTensorRank = 2, kTensorDimensions = 3, kTensorAttributes = 4;
// Dimension oneof
constexpr uint32_t kDimConstant = 1, kDimUnknown = 2;
// Value
constexpr uint32_t kValueType = 2, kValueImmediate = 3, kValueBlob = 5;
// ImmediateValue oneof
constexpr uint32_t kImmTensor = 1, kImmTuple = 2, kImmList = 3, kImmDictionary = 4;
// TensorValue oneof
constexpr uint32_t kTvFloats = 1, kTvInts = 2, kTvBools = 3, kTvStrings = 4, kTvLongInts = 5,
                   kTvDoubles = 6, kTvBytes = 7;
}  // namespace field

// The occurrences of a singular embedded-message field. One occurrence (the
// only case encoders produce) is a view into the input; further ones are
// merged the way protobuf merges them: decoding the concatenation (of
// occurrences that are each whole sequences of fields), kept in `merged`. Safe to copy and move (bytes() is computed, never a view into
// the object's own string).
struct SubMessage {
  std::string_view first;
  size_t offset = 0;
  bool present = false;
  bool owned = false;
  // An occurrence that is not a whole sequence of fields by itself (a field
  // running into the next occurrence) makes libprotobuf fail; such an
  // occurrence alone is kept, so decoding it fails the same way.
  bool poisoned = false;
  std::string merged;

  std::string_view bytes() const { return owned ? std::string_view(merged) : first; }

  void Merge(std::string_view v, size_t off) {
    if (!present) {
      first = v;
      offset = off;
      present = true;
      return;
    }
    if (poisoned) return;
    if (!owned) {
      merged.assign(first);
      owned = true;
      if (!WholeFields(first)) {
        poisoned = true;
        return;
      }
    }
    if (!WholeFields(v)) {
      merged.assign(v);
      offset = off;
      poisoned = true;
      return;
    }
    merged.append(v);
  }
  // A oneof member replacing whatever member was set before.
  void Replace(std::string_view v, size_t off) {
    first = v;
    offset = off;
    present = true;
    owned = false;
    poisoned = false;
  }

  static bool WholeFields(std::string_view bytes) {
    WireReader r(bytes, 0);
    FieldKey k;
    while (r.NextField(&k)) {
      if (!r.Skip(k)) break;
    }
    return !r.failed();
  }
};

// A member replaced by a later, different member must still be valid:
// libprotobuf parses every occurrence. Decoders check it when the switch is
// seen (Switching), with the decoder of the enclosing message (SingleField).
struct OneofMessage {
  uint32_t which = 0;  // field number of the member set, 0 for none
  SubMessage member;

  bool Switching(uint32_t number) const { return which != 0 && number != which; }
  void Set(uint32_t number, std::string_view v, size_t off) {
    if (number == which) {
      member.Merge(v, off);
      return;
    }
    which = number;
    member.Replace(v, off);
  }
};

// The encoding of a message holding only field `number` = `bytes`: how a
// replaced oneof member is checked with the decoder of its enclosing message.
std::string SingleField(uint32_t number, std::string_view bytes) {
  std::string out;
  auto put = [&out](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  put((static_cast<uint64_t>(number) << 3) | 2);
  put(bytes.size());
  out.append(bytes);
  return out;
}

// Reads a length-delimited field's value, or skips a field of another wire
// type (protobuf treats it as unknown). True when `v` was read.
ANEPILOT_WIRE_INLINE bool ReadLenField(WireReader& r, const FieldKey& k, std::string_view* v, size_t* off) {
  if (k.type != WireType::kLen) {
    r.Skip(k);
    return false;
  }
  return r.ReadLen(v, off);
}

ANEPILOT_WIRE_INLINE bool ReadVarintField(WireReader& r, const FieldKey& k, uint64_t* v) {
  if (k.type != WireType::kVarint) {
    r.Skip(k);
    return false;
  }
  return r.ReadVarint(v);
}

// ---------------------------------------------------------- fast paths ----
// Every MIL writer (coremltools, Apple's compiler) encodes the most frequent
// messages of a program the same way: each op's "name" attribute, each
// single-name argument, each tensor output (CanonicalTensorValue, below).
// Together ~70% of a program's bytes. When the bytes are exactly that encoding,
// every field present once, in order, with one-byte lengths, they are read
// by matching, which gives the IR the general decoder would give (the bytes
// are a complete, valid message); anything else takes the general path.

// A map entry {key = 1: "name", value = 2: V} with V's bytes returned.
ANEPILOT_WIRE_INLINE bool CanonicalNameEntry(std::string_view b, std::string_view* value) {
  static constexpr char kPrefix[] = {0x0a, 0x04, 'n', 'a', 'm', 'e', 0x12};
  if (b.size() < sizeof kPrefix + 1 || std::memcmp(b.data(), kPrefix, sizeof kPrefix) != 0) return false;
  auto len = static_cast<uint8_t>(b[sizeof kPrefix]);
  if (len >= 0x80 || len != b.size() - sizeof kPrefix - 1) return false;
  *value = b.substr(sizeof kPrefix + 1);
  return true;
}

// A Value {type = 2: {tensorType = 1: {dataType = 1: STRING (2)}},
// immediateValue = 3: {tensor = 1: {strings = 4: {values = 1: S}}}}; S returned.
ANEPILOT_WIRE_INLINE bool CanonicalStringScalar(std::string_view b, std::string_view* text) {
  static constexpr char kType[] = {0x12, 0x04, 0x0a, 0x02, 0x08, 0x02};
  constexpr size_t kHead = sizeof kType + 8;  // the type, then four (tag, length) pairs
  if (b.size() < kHead || std::memcmp(b.data(), kType, sizeof kType) != 0) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(b.data()) + sizeof kType;
  const size_t n = b.size() - kHead;
  if (n + 6 >= 0x80) return false;  // a length would take two bytes
  if (p[0] != 0x1a || p[1] != n + 6 || p[2] != 0x0a || p[3] != n + 4 || p[4] != 0x22 || p[5] != n + 2 ||
      p[6] != 0x0a || p[7] != n) {
    return false;
  }
  *text = b.substr(kHead);
  return true;
}

// An ArgumentEntry {key = 1: K, value = 2: {arguments = 1: {name = 1: N}}};
// K and N returned.
ANEPILOT_WIRE_INLINE bool CanonicalNamedArgument(std::string_view b, std::string_view* key, std::string_view* name) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  if (b.size() < 2 || p[0] != 0x0a || p[1] >= 0x80) return false;
  const size_t k = p[1];
  if (b.size() < 2 + k + 6) return false;
  const uint8_t* q = p + 2 + k;
  const size_t n = b.size() - (2 + k + 6);
  if (n + 4 >= 0x80) return false;
  if (q[0] != 0x12 || q[1] != n + 4 || q[2] != 0x0a || q[3] != n + 2 || q[4] != 0x0a || q[5] != n) return false;
  *key = b.substr(2, k);
  *name = b.substr(2 + k + 6);
  return true;
}

// A varint of at most 10 bytes (bits beyond 64 dropped, as the reader does).
ANEPILOT_WIRE_INLINE bool FastVarint(const uint8_t** p, const uint8_t* end, uint64_t* v) {
  uint64_t result = 0;
  for (int i = 0; i < 10 && *p < end; ++i) {
    uint8_t b = *(*p)++;
    result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      *v = result;
      return true;
    }
  }
  return false;
}

// The bytes of a TensorType {dataType = 1, rank = 2, dimensions = 3...}, each
// dimension {constant = 1: {size = 1}} or {unknown = 2: {variadic = 1}},
// fields in that order, absent scalars allowed (proto3 omits zeros), at most
// kMaxFastDims dimensions. Writes `out` (a fresh TensorType) only when the
// whole message matched.
constexpr size_t kMaxFastDims = 16;
bool CanonicalTensorType(const uint8_t* p, const uint8_t* end, ir::TensorType* out) {
  uint64_t dtype = 0, rank = 0;
  if (p < end && *p == 0x08 && !FastVarint(&(++p), end, &dtype)) return false;
  if (p < end && *p == 0x10 && !FastVarint(&(++p), end, &rank)) return false;
  int64_t dims[kMaxFastDims];
  size_t count = 0;
  while (p < end) {
    if (count == kMaxFastDims || end - p < 2 || p[0] != 0x1a || p[1] >= 0x80 || p[1] > end - p - 2) return false;
    const uint8_t* dim_end = p + 2 + p[1];
    p += 2;
    // {constant = 1: {size = 1}} or {unknown = 2: {variadic = 1}}: one member.
    if (dim_end - p < 2 || (p[0] != 0x0a && p[0] != 0x12) || p[1] != dim_end - p - 2) return false;
    const bool constant = p[0] == 0x0a;
    p += 2;
    uint64_t value = 0;
    if (p < dim_end) {
      if (*p != 0x08 || !FastVarint(&(++p), dim_end, &value) || p != dim_end) return false;
    }
    dims[count++] = constant && value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                        ? static_cast<int64_t>(value)
                        : -1;
  }
  out->dtype = MilDataTypeToIr(static_cast<int32_t>(dtype));
  out->shape.reserve(count);
  for (size_t i = 0; i < count; ++i) out->shape.push_back(dims[i] >= 0 ? ir::Dim::Known(dims[i]) : ir::Dim{});
  if (static_cast<int64_t>(rank) < 0 && count == 0) out->rank_known = false;
  return true;
}

// The bytes of a ValueType {tensorType = 1: T} with T canonical (above).
ANEPILOT_WIRE_INLINE bool CanonicalTensorValueType(const uint8_t* p, const uint8_t* end, ir::TensorType* out) {
  if (end - p < 2 || p[0] != 0x0a || p[1] >= 0x80 || p[1] != end - p - 2) return false;
  return CanonicalTensorType(p + 2, end, out);
}

// A NamedValueType {name = 1: N, type = 2: {tensorType = 1: T}} with T
// canonical. Writes `out` (a fresh Value) only when the whole message matched.
bool CanonicalTensorValue(std::string_view b, ir::Value* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  const uint8_t* end = p + b.size();
  if (end - p < 2 || p[0] != 0x0a || p[1] >= 0x80) return false;
  const size_t n = p[1];
  if (static_cast<size_t>(end - p) < 2 + n + 2) return false;
  p += 2 + n;
  if (p[0] != 0x12 || p[1] >= 0x80 || p[1] != end - p - 2) return false;
  if (!CanonicalTensorValueType(p + 2, end, &out->type.tensor)) return false;
  out->name.assign(b.substr(2, n));
  return true;
}

// The arena block to start with for decoding `bytes` of MIL, so that one
// block usually holds a whole read (see kArenaBytesPerEncodedByte).
size_t ArenaBytesFor(size_t bytes) {
  return std::clamp<size_t>(bytes * kArenaBytesPerEncodedByte, 4096, Arena::kMaxBlockBytes);
}

std::string ConstantText(const ir::Constant& c) {
  if (c.strings.size() == 1) return c.strings[0].str();
  return c.ToString();
}

class Decoder {
 public:
  // threads == 0: decide per block (kParallelMinBytes); else use up to that many.
  Decoder(const std::string& file, std::vector<std::string>* warnings, unsigned threads)
      : file_(file),
        warnings_(warnings),
        threads_(threads == 0 ? UsefulThreads() : threads),
        automatic_(threads == 0) {}

  bool Program(std::string_view bytes, size_t off, ir::Program* out);

  Status status() const { return status_; }

 private:
  // ------------------------------------------------------------ errors ----
  bool Fail(const WireReader& r, bool top_level) {
    const auto& e = r.error();
    if (e.kind == WireErrorKind::kTruncated && top_level) {
      return SetStatus(TruncatedModel(fmt::format(
          "{}: the ML Program ends inside a field at byte {} ({}){}; the file was cut short "
          "(an incomplete download or copy): copy or export the model again",
          file_, e.offset, e.what, Where())));
    }
    return SetStatus(CorruptModel(fmt::format(
        "{}: the ML Program is corrupt at byte {}: {}{}; re-export the model",
        file_, e.offset, e.kind == WireErrorKind::kTruncated ? std::string(e.what) + " of its enclosing message"
                                                             : std::string(e.what),
        Where())));
  }
  bool FailText(size_t offset, std::string what) {
    return SetStatus(CorruptModel(
        fmt::format("{}: the ML Program is corrupt at byte {}: {}{}", file_, offset, what, Where())));
  }
  bool TooDeep(size_t offset) {
    return FailText(offset, fmt::format("messages nest deeper than {} levels", kMessageDepthLimit));
  }
  bool SetStatus(Status s) {
    if (status_.ok()) status_ = std::move(s);
    return false;
  }
  std::string Where() const {
    if (function_ == nullptr) return {};
    if (op_index_ < 0) return fmt::format(" (function '{}')", *function_);
    return fmt::format(" (function '{}', operation {} of a depth-{} block)", *function_, op_index_,
                       block_depth_);
  }
  // Call after a field loop: false (with the status set) if the reader failed.
  bool Finish(const WireReader& r, bool top_level = false) { return r.failed() ? Fail(r, top_level) : true; }

  // ------------------------------------------------------- structure ----
  bool FunctionEntry(std::string_view bytes, size_t off, int depth, ir::Program* out);
  bool Function(std::string_view bytes, size_t off, int depth, ir::Function* fn);
  bool Block(std::string_view bytes, size_t off, int depth, int block_depth, bool decode_ops,
             ir::Block* out);
  bool Operation(std::string_view bytes, size_t off, int block_depth, ir::Op* out);
  // A top-level block's operations, given as (bytes, offset), decoded into
  // out->ops on up to threads_ threads (see mil_wire_decoder.h).
  struct OpBytes {
    std::string_view bytes;
    size_t offset;
  };
  bool OperationsInParallel(const std::vector<OpBytes>& ops, ir::Block* out);
  // An attributes entry {key = 1: K, value = 2: V}, K not "name", V a Value
  // {type = 2: {tensorType = 1: canonical}, then immediateValue = 3:
  // {tensor = 1: {one member: R}} or blobFileValue = 5: {fileName = 1,
  // offset = 2}}, fields once and in order: a const op's "val" as MIL writers
  // encode it. R (the Repeated* message) is decoded by RepeatedValues, as on
  // the general path. kNotCanonical leaves `op` untouched.
  enum class Match { kNotCanonical, kRead, kFailed };
  Match CanonicalAttribute(std::string_view bytes, size_t off, ir::Op* op);
  bool ArgumentEntry(std::string_view bytes, size_t off, int depth, ir::Argument* out);
  bool Argument(std::string_view bytes, size_t off, int depth, ir::Argument* out);
  bool Binding(std::string_view bytes, size_t off, int depth, ir::Binding* out);
  // A ValueEntry: its key and value (decoded into `value`); when
  // `dictionary` is given it receives the value's immediate dictionary, if
  // that is what the value holds.
  bool ValueEntry(std::string_view bytes, size_t off, int depth, std::string* key, ir::Constant* value);
  // An attributes entry the IR does not keep (function, block and tensor
  // type attributes): decoded only so that it is checked as libprotobuf would.
  bool IgnoredValueEntry(std::string_view bytes, size_t off, int depth);
  // The key (last occurrence) and value (merged occurrences) of an entry.
  bool ScanEntry(std::string_view bytes, size_t off, int depth, std::string_view* key, SubMessage* value);
  // Back to a default-constructed constant, keeping allocated capacity.
  static void ResetConstant(ir::Constant* c);

  // ----------------------------------------------------------- types ----
  bool NamedValue(std::string_view bytes, size_t off, int depth, ir::Value* out);
  bool ValueTypeOf(const SubMessage& m, int depth, ir::ValueType* out);
  bool ValueType(std::string_view bytes, size_t off, int depth, ir::ValueType* out);
  bool TensorType(std::string_view bytes, size_t off, int depth, ir::TensorType* out);
  bool Dimension(std::string_view bytes, size_t off, int depth, ir::Dim* out);
  bool ListOrStateType(std::string_view bytes, size_t off, int depth, uint32_t inner_field,
                       ir::ValueType* out);

  // ---------------------------------------------------------- values ----
  bool ValueOf(const SubMessage& m, int depth, ir::Constant* out, SubMessage* dictionary = nullptr);
  bool Value(std::string_view bytes, size_t off, int depth, ir::Constant* out,
             SubMessage* dictionary = nullptr);
  bool ImmediateValue(std::string_view bytes, size_t off, int depth, ir::Constant* c,
                      SubMessage* dictionary);
  bool TensorValue(std::string_view bytes, size_t off, int depth, ir::Constant* c);
  bool RepeatedValues(std::string_view bytes, size_t off, int depth, uint32_t tensor_case, ir::Constant* c);
  // Decodes (and discards) a message holding `repeated Value` at field 1
  // (TupleValue, ListValue) or `repeated KeyValuePair` (DictionaryValue).
  bool ValueListForValidity(std::string_view bytes, size_t off, int depth, bool pairs);
  bool KeyValuePair(std::string_view bytes, size_t off, int depth, ir::Constant* key, ir::Constant* value);

  const std::string& file_;
  std::vector<std::string>* warnings_;
  unsigned threads_;
  bool automatic_;
  Status status_;
  const std::string* function_ = nullptr;
  int op_index_ = -1;
  int block_depth_ = 0;
  ir::Constant name_scratch_;  // the "name" attribute of the operation being decoded
};

// ------------------------------------------------------------ program ----

bool Decoder::Program(std::string_view bytes, size_t off, ir::Program* out) {
  const int depth = kMessageDepthLimit;
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  while (r.NextField(&k)) {
    switch (k.number) {
      case field::kProgramVersion: {
        uint64_t x;
        if (ReadVarintField(r, k, &x)) out->version = static_cast<int64_t>(x);
        break;
      }
      case field::kProgramFunctions:
        if (ReadLenField(r, k, &v, &voff) && !FunctionEntry(v, voff, depth - 1, out)) return false;
        break;
      case field::kProgramAttributes: {
        if (!ReadLenField(r, k, &v, &voff)) break;
        // The entry is scanned here (not by ValueEntry) so that the value's
        // bytes, possibly a merged copy, outlive the dictionary view below.
        if (depth - 1 < 0) return TooDeep(voff);
        std::string key;
        SubMessage value_msg;
        WireReader e(v, voff);
        FieldKey ek;
        std::string_view ev;
        size_t eoff = 0;
        while (e.NextField(&ek)) {
          if (ek.number == field::kEntryKey) {
            if (ReadLenField(e, ek, &ev, &eoff)) key.assign(ev);
          } else if (ek.number == field::kEntryValue) {
            if (ReadLenField(e, ek, &ev, &eoff)) value_msg.Merge(ev, eoff);
          } else {
            e.Skip(ek);
          }
        }
        if (!Finish(e)) return false;
        ir::Constant value;
        SubMessage dictionary;
        if (!ValueOf(value_msg, depth - 2, &value, &dictionary)) return false;
        if (!dictionary.present) {
          out->attributes.insert_or_assign(std::move(key), ConstantText(value));
          break;
        }
        // A dictionary attribute (buildInfo) becomes one "<key>.<entry>" each.
        // Its depth was checked when the value was decoded above.
        const int pair_depth = depth - 1 /*entry*/ - 1 /*value*/ - 1 /*immediate*/ - 1 /*dict*/ - 1;
        WireReader d(dictionary.bytes(), dictionary.offset);
        FieldKey dk;
        std::string_view pv;
        size_t poff = 0;
        while (d.NextField(&dk)) {
          if (dk.number != 1) {
            d.Skip(dk);
            continue;
          }
          if (!ReadLenField(d, dk, &pv, &poff)) continue;
          ir::Constant kc, vc;
          if (!KeyValuePair(pv, poff, pair_depth, &kc, &vc)) return false;
          out->attributes.insert_or_assign(key + "." + ConstantText(kc), ConstantText(vc));
        }
        if (!Finish(d)) return false;
        break;
      }
      default:
        r.Skip(k);
        break;
    }
  }
  return Finish(r, /*top_level=*/true);
}

bool Decoder::FunctionEntry(std::string_view bytes, size_t off, int depth, ir::Program* out) {
  function_ = nullptr;  // the previous function's name may move as the vector grows
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view key;
  size_t key_off = 0;
  SubMessage value;
  std::string_view v;
  size_t voff = 0;
  while (r.NextField(&k)) {
    if (k.number == field::kEntryKey) {
      ReadLenField(r, k, &key, &key_off);
    } else if (k.number == field::kEntryValue) {
      if (ReadLenField(r, k, &v, &voff)) value.Merge(v, voff);
    } else {
      r.Skip(k);
    }
  }
  if (!Finish(r)) return false;
  ir::Function& fn = out->functions.emplace_back();
  fn.name.assign(key);
  if (!value.present) {
    warnings_->push_back(fmt::format("function '{}' has no block (no operations)", fn.name));
    return true;
  }
  return Function(value.bytes(), value.offset, depth - 1, &fn);
}

bool Decoder::Function(std::string_view bytes, size_t off, int depth, ir::Function* fn) {
  if (depth < 0) return TooDeep(off);
  function_ = &fn->name;
  op_index_ = -1;
  struct Specialization {
    std::string_view key;
    SubMessage block;
  };
  std::vector<Specialization> specs;
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  while (r.NextField(&k)) {
    switch (k.number) {
      case field::kFunctionInputs:
        if (ReadLenField(r, k, &v, &voff) && !NamedValue(v, voff, depth - 1, &fn->inputs.emplace_back())) {
          return false;
        }
        break;
      case field::kFunctionOpset:
        if (ReadLenField(r, k, &v, &voff)) fn->opset.assign(v);
        break;
      case field::kFunctionBlocks: {
        if (!ReadLenField(r, k, &v, &voff)) break;
        if (depth - 1 < 0) return TooDeep(voff);
        Specialization& spec = specs.emplace_back();
        WireReader e(v, voff);
        FieldKey ek;
        std::string_view ev;
        size_t eoff = 0;
        while (e.NextField(&ek)) {
          if (ek.number == field::kEntryKey) {
            if (ReadLenField(e, ek, &ev, &eoff)) spec.key = ev;
          } else if (ek.number == field::kEntryValue) {
            if (ReadLenField(e, ek, &ev, &eoff)) spec.block.Merge(ev, eoff);
          } else {
            e.Skip(ek);
          }
        }
        if (!Finish(e)) return false;
        break;
      }
      case field::kFunctionAttributes: {
        if (ReadLenField(r, k, &v, &voff) && !IgnoredValueEntry(v, voff, depth - 1)) return false;
        break;
      }
      default:
        r.Skip(k);
        break;
    }
  }
  if (!Finish(r)) return false;

  // The block of the function's opset (the last one so keyed, as the
  // oracle's loop keeps), else the first one.
  const Specialization* chosen = nullptr;
  for (const auto& s : specs) {
    if (s.key == fn->opset) chosen = &s;
  }
  if (chosen == nullptr && !specs.empty()) {
    warnings_->push_back(fmt::format(
        "function '{}': no block for its opset '{}'; read the '{}' block instead", fn->name,
        fn->opset, specs.front().key));
    chosen = &specs.front();
  }
  if (chosen == nullptr) {
    warnings_->push_back(fmt::format("function '{}' has no block (no operations)", fn->name));
  }
  // Blocks of other opsets are not read into the IR, but their structure
  // (not their operations, kept serialized) must be valid, as for libprotobuf.
  for (const auto& s : specs) {
    const int block_msg_depth = depth - 2;  // BlockEntry, Block
    if (!s.block.present) {
      continue;
    }
    if (&s == chosen) {
      if (!Block(s.block.bytes(), s.block.offset, block_msg_depth, 0, /*decode_ops=*/true, &fn->body)) {
        return false;
      }
    } else {
      ir::Block ignored;
      if (!Block(s.block.bytes(), s.block.offset, block_msg_depth, 0, /*decode_ops=*/false, &ignored)) {
        return false;
      }
    }
  }
  return true;
}

bool Decoder::Block(std::string_view bytes, size_t off, int depth, int block_depth, bool decode_ops,
                    ir::Block* out) {
  if (depth < 0) return TooDeep(off);
  if (decode_ops && block_depth > kMaxBlockDepth) {
    return FailText(off, fmt::format("blocks nest deeper than {} levels", kMaxBlockDepth));
  }
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  // One pass over the block's fields decodes its inputs and outputs and
  // collects where its operations are; the operations are decoded afterwards,
  // into an op list allocated once, on several threads for a large top-level
  // block.
  std::vector<OpBytes> op_bytes;
  while (r.NextField(&k)) {
    switch (k.number) {
      case field::kBlockInputs:
        if (ReadLenField(r, k, &v, &voff) && !NamedValue(v, voff, depth - 1, &out->inputs.emplace_back())) {
          return false;
        }
        break;
      case field::kBlockOutputs:
        if (ReadLenField(r, k, &v, &voff)) out->outputs.emplace_back(v);
        break;
      case field::kBlockOperations:
        if (ReadLenField(r, k, &v, &voff) && decode_ops) op_bytes.push_back({v, voff});
        break;
      case field::kBlockAttributes: {
        if (ReadLenField(r, k, &v, &voff) && !IgnoredValueEntry(v, voff, depth - 1)) return false;
        break;
      }
      default:
        r.Skip(k);
        break;
    }
  }
  if (!Finish(r)) return false;
  const size_t n = op_bytes.size();
  if (block_depth == 0 && threads_ > 1 && n >= kParallelMinOps && (!automatic_ || bytes.size() >= kParallelMinBytes)) {
    return OperationsInParallel(op_bytes, out);
  }
  out->ops.reserve(n);
  const int saved_index = op_index_, saved_depth = block_depth_;
  block_depth_ = block_depth;
  for (size_t i = 0; i < n; ++i) {
    op_index_ = static_cast<int>(i);
    if (!Operation(op_bytes[i].bytes, op_bytes[i].offset, block_depth, &out->ops.emplace_back())) return false;
  }
  op_index_ = saved_index;
  block_depth_ = saved_depth;
  return true;
}

bool Decoder::OperationsInParallel(const std::vector<OpBytes>& ops, ir::Block* out) {
  // Runs of consecutive operations with about equal bytes each.
  size_t total = 0;
  for (const OpBytes& op : ops) total += op.bytes.size();
  // More runs than threads, claimed as threads become free: a thread that
  // wakes late (common on busy or virtual machines) then leaves a shorter
  // tail than a fixed half would.
  constexpr size_t kOpsPerRun = 128;
  const unsigned runs = static_cast<unsigned>(
      std::clamp<size_t>(ops.size() / kOpsPerRun, std::min<size_t>(threads_, ops.size()), size_t{threads_} * 8));
  std::vector<size_t> begin(runs + 1, ops.size());
  begin[0] = 0;
  size_t bytes_so_far = 0;
  unsigned next = 1;
  for (size_t i = 0; i < ops.size() && next < runs; ++i) {
    bytes_so_far += ops[i].bytes.size();
    if (bytes_so_far * runs >= total * next) begin[next++] = i + 1;
  }

  // Each run constructs its own slice of the op list: zeroing 128-byte ops on
  // this thread cost time here and then moved every cache line to the
  // decoding core.
  ir::Op* const slots = out->ops.append_unconstructed(ops.size());  // the block's ops were empty
  // Each run allocates from an arena of its own (arenas are single-threaded):
  // a child of this thread's arena, which the Program keeps, so that the
  // run's lists can still grow from it later.
  struct Run {
    Status status;
    std::vector<std::string> warnings;
    Arena* arena = nullptr;
  };
  std::vector<Run> results(runs);
  if (Arena* const storage = Arena::Current(); storage != nullptr) {
    for (unsigned run = 0; run < runs; ++run) {
      const size_t run_bytes = begin[run + 1] > begin[run]
                                   ? size_t(ops[begin[run + 1] - 1].offset - ops[begin[run]].offset)
                                   : 0;
      results[run].arena = storage->NewChild(ArenaBytesFor(run_bytes));
    }
  }
  auto decode_run = [&](unsigned run) {
    ArenaScope scope(results[run].arena);
    Decoder d(file_, &results[run].warnings, /*threads=*/1);
    d.function_ = function_;
    d.block_depth_ = 0;
    for (size_t i = begin[run]; i < begin[run + 1]; ++i) {
      d.op_index_ = static_cast<int>(i);
      // The op's lists are empty until decoded here, so they take this run's arena.
      ir::Op* op = new (&slots[i]) ir::Op();
      if (!d.Operation(ops[i].bytes, ops[i].offset, 0, op)) {
        results[run].status = d.status();
        // Every slot must hold an op before the list is destroyed.
        for (size_t j = i + 1; j < begin[run + 1]; ++j) new (&slots[j]) ir::Op();
        return;
      }
    }
  };
  ParallelFor(runs, [&](size_t run) { decode_run(static_cast<unsigned>(run)); });

  for (Run& r : results) {
    for (std::string& w : r.warnings) warnings_->push_back(std::move(w));
    if (!r.status.ok()) return SetStatus(std::move(r.status));
  }
  return true;
}

bool Decoder::Operation(std::string_view bytes, size_t off, int block_depth, ir::Op* out) {
  const int depth = kMessageDepthLimit;  // parsed on its own by the oracle
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  // An if-chain with the most frequent fields first, not a switch: the
  // switch's indirect jump was the op loop's most mispredicted branch.
  while (r.NextField(&k)) {
    if (k.number == field::kOpInputs) {
      if (!ReadLenField(r, k, &v, &voff)) continue;
      if (out->inputs.empty()) {
        // Writers put an op's inputs one after another: count them so the
        // list is allocated once. (Grown one by one, each outgrown copy
        // would stay behind in the arena: its argument's bindings were
        // allocated after it, so it cannot be extended in place.)
        WireReader ahead = r;
        FieldKey next;
        size_t n = 1;
        while (ahead.NextField(&next) && next.number == field::kOpInputs && next.type == WireType::kLen) {
          ++n;
          ahead.Skip(next);
        }
        out->inputs.reserve(n);
      }
      std::string_view param, name;
      if (CanonicalNamedArgument(v, &param, &name)) {
        ir::Argument& a = out->inputs.emplace_back();
        a.param.assign(param);
        a.bindings.emplace_back().name.assign(name);
        continue;
      }
      if (!ArgumentEntry(v, voff, depth - 1, &out->inputs.emplace_back())) return false;
      continue;
    }
    if (k.number == field::kOpAttributes) {
      if (!ReadLenField(r, k, &v, &voff)) continue;
      std::string_view name_value, text;
      if (CanonicalNameEntry(v, &name_value) && CanonicalStringScalar(name_value, &text)) {
        out->name.assign(text);
        continue;
      }
      if (Match m = CanonicalAttribute(v, voff, out); m != Match::kNotCanonical) {
        if (m == Match::kFailed) return false;
        continue;
      }
      std::string_view key;
      SubMessage value;
      if (!ScanEntry(v, voff, depth - 1, &key, &value)) return false;
      if (key == "name") {
        // Decoded into a reused constant: only its string is kept.
        ResetConstant(&name_scratch_);
        if (!ValueOf(value, depth - 2, &name_scratch_)) return false;
        if (name_scratch_.strings.size() == 1) out->name = std::move(name_scratch_.strings[0]);
        continue;
      }
      ir::Constant c;
      if (!ValueOf(value, depth - 2, &c)) return false;
      out->attributes.insert_or_assign(std::string(key), std::move(c));
      continue;
    }
    if (k.number == field::kOpOutputs) {
      if (!ReadLenField(r, k, &v, &voff)) continue;
      ir::Value& value = out->outputs.emplace_back();
      if (!CanonicalTensorValue(v, &value) && !NamedValue(v, voff, depth - 1, &value)) return false;
      continue;
    }
    if (k.number == field::kOpType) {
      if (ReadLenField(r, k, &v, &voff)) out->type.assign(v);
      continue;
    }
    if (k.number == field::kOpBlocks) {
      if (ReadLenField(r, k, &v, &voff) &&
          !Block(v, voff, depth - 1, block_depth + 1, /*decode_ops=*/true, &out->blocks.emplace_back())) {
        return false;
      }
      continue;
    }
    r.Skip(k);
  }
  if (!Finish(r)) return false;
  // An op without a "name" attribute is identified by its first output.
  if (out->name.empty() && !out->outputs.empty()) out->name = out->outputs.front().name;
  return true;
}

Decoder::Match Decoder::CanonicalAttribute(std::string_view bytes, size_t off, ir::Op* op) {
  // The depth RepeatedValues gets on the general path: Operation (100),
  // entry, Value, ImmediateValue, TensorValue, Repeated*.
  constexpr int kLeafDepth = kMessageDepthLimit - 5;
  auto len_field = [](WireReader& r, uint32_t number, std::string_view* v, size_t* voff = nullptr) {
    FieldKey k;
    return r.NextField(&k) && k.number == number && k.type == WireType::kLen && r.ReadLen(v, voff);
  };
  std::string_view key, value, type, member;
  size_t value_off = 0, member_off = 0;
  WireReader entry(bytes, off);
  if (!len_field(entry, field::kEntryKey, &key) ||
      !len_field(entry, field::kEntryValue, &value, &value_off) || !entry.at_end() || key == "name") {
    return Match::kNotCanonical;
  }
  WireReader v(value, value_off);
  if (!len_field(v, field::kValueType, &type)) return Match::kNotCanonical;
  FieldKey k;
  if (!v.NextField(&k) || (k.number != field::kValueImmediate && k.number != field::kValueBlob) ||
      k.type != WireType::kLen || !v.ReadLen(&member, &member_off) || !v.at_end()) {
    return Match::kNotCanonical;
  }
  const uint32_t which = k.number;
  ir::TensorType tensor;
  const auto* t = reinterpret_cast<const uint8_t*>(type.data());
  if (!CanonicalTensorValueType(t, t + type.size(), &tensor)) return Match::kNotCanonical;
  // The constant is built in place in the op's attributes; a later duplicate
  // key replaces an earlier one, as on the general path. If the rest does not
  // match after all, the general path decodes this entry again and replaces
  // what is left here under the same key.
  auto [slot, fresh] = op->attributes.try_emplace(key);
  ir::Constant& c = slot->second;
  if (!fresh) c = ir::Constant();
  c.type.tensor = std::move(tensor);
  if (auto size = SafeByteSize(c.type.tensor)) c.byte_size = *size;
  if (which == field::kValueBlob) {
    // BlobFileValue {bytes fileName = 1; uint64 offset = 2;}, either omitted when empty / zero.
    WireReader b(member, member_off);
    std::string_view name;
    uint64_t blob_offset = 0;
    bool seen_name = false, seen_offset = false;
    while (b.NextField(&k)) {
      if (k.number == 1 && k.type == WireType::kLen && !seen_name && !seen_offset) {
        if (!b.ReadLen(&name)) return Match::kNotCanonical;
        seen_name = true;
      } else if (k.number == 2 && k.type == WireType::kVarint && !seen_offset) {
        if (!b.ReadVarint(&blob_offset)) return Match::kNotCanonical;
        seen_offset = true;
      } else {
        return Match::kNotCanonical;
      }
    }
    if (b.failed()) return Match::kNotCanonical;
    c.blob = ir::BlobRef{InlineString(name), blob_offset};
    c.values_elided = true;
  } else {
    // ImmediateValue {tensor = 1: TensorValue {exactly one member = F: R}}.
    std::string_view tensor, leaf;
    size_t tensor_off = 0, leaf_off = 0;
    WireReader imm(member, member_off);
    if (!len_field(imm, field::kImmTensor, &tensor, &tensor_off) || !imm.at_end()) return Match::kNotCanonical;
    WireReader tv(tensor, tensor_off);
    if (!tv.NextField(&k) || k.number < field::kTvFloats || k.number > field::kTvBytes || k.type != WireType::kLen ||
        !tv.ReadLen(&leaf, &leaf_off) || !tv.at_end()) {
      return Match::kNotCanonical;
    }
    if (!RepeatedValues(leaf, leaf_off, kLeafDepth, k.number, &c)) return Match::kFailed;
  }
  return Match::kRead;
}

bool Decoder::ArgumentEntry(std::string_view bytes, size_t off, int depth, ir::Argument* out) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  while (r.NextField(&k)) {
    if (k.number == field::kEntryKey) {
      if (ReadLenField(r, k, &v, &voff)) out->param.assign(v);
    } else if (k.number == field::kEntryValue) {
      // Argument holds only a repeated field, so merging its occurrences is
      // appending their bindings in order.
      if (ReadLenField(r, k, &v, &voff) && !Argument(v, voff, depth - 1, out)) return false;
    } else {
      r.Skip(k);
    }
  }
  return Finish(r);
}

bool Decoder::Argument(std::string_view bytes, size_t off, int depth, ir::Argument* out) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  while (r.NextField(&k)) {
    if (k.number == field::kArgumentBindings) {
      if (ReadLenField(r, k, &v, &voff) && !Binding(v, voff, depth - 1, &out->bindings.emplace_back())) {
        return false;
      }
    } else {
      r.Skip(k);
    }
  }
  return Finish(r);
}

bool Decoder::Binding(std::string_view bytes, size_t off, int depth, ir::Binding* out) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v, name;
  size_t voff = 0;
  uint32_t which = 0;  // oneof binding: name or value
  SubMessage value;
  while (r.NextField(&k)) {
    if (k.number == field::kBindingName) {
      if (ReadLenField(r, k, &v, &voff)) {
        if (which == field::kBindingValue) {
          // The value this name replaces was still parsed by libprotobuf.
          ir::Constant scratch;
          if (!ValueOf(value, depth - 1, &scratch)) return false;
        }
        name = v;
        which = field::kBindingName;
      }
    } else if (k.number == field::kBindingValue) {
      if (ReadLenField(r, k, &v, &voff)) {
        if (which == field::kBindingValue) {
          value.Merge(v, voff);
        } else {
          value.Replace(v, voff);
        }
        which = field::kBindingValue;
      }
    } else {
      r.Skip(k);
    }
  }
  if (!Finish(r)) return false;
  if (which == field::kBindingValue) return ValueOf(value, depth - 1, &out->constant.emplace());
  out->name.assign(name);
  return true;
}

bool Decoder::ScanEntry(std::string_view bytes, size_t off, int depth, std::string_view* key,
                        SubMessage* value) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  while (r.NextField(&k)) {
    if (k.number == field::kEntryKey) {
      if (ReadLenField(r, k, &v, &voff)) *key = v;
    } else if (k.number == field::kEntryValue) {
      if (ReadLenField(r, k, &v, &voff)) value->Merge(v, voff);
    } else {
      r.Skip(k);
    }
  }
  return Finish(r);
}

bool Decoder::ValueEntry(std::string_view bytes, size_t off, int depth, std::string* key,
                         ir::Constant* value) {
  std::string_view key_view;
  SubMessage value_msg;
  if (!ScanEntry(bytes, off, depth, &key_view, &value_msg)) return false;
  key->assign(key_view);
  return ValueOf(value_msg, depth - 1, value);
}

bool Decoder::IgnoredValueEntry(std::string_view bytes, size_t off, int depth) {
  std::string key;
  ir::Constant ignored;
  return ValueEntry(bytes, off, depth, &key, &ignored);
}

void Decoder::ResetConstant(ir::Constant* c) {
  c->type.kind = ir::ValueType::Kind::kTensor;
  c->type.tensor.dtype = ir::DType::kUnknown;
  c->type.tensor.shape.clear();
  c->type.tensor.rank_known = true;
  c->type.members.clear();
  c->numbers.clear();
  c->strings.clear();
  c->blob.reset();
  c->byte_size = 0;
  c->values_elided = false;
}

// -------------------------------------------------------------- types ----

bool Decoder::NamedValue(std::string_view bytes, size_t off, int depth, ir::Value* out) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  SubMessage type;
  while (r.NextField(&k)) {
    if (k.number == field::kNamedName) {
      if (ReadLenField(r, k, &v, &voff)) out->name.assign(v);
    } else if (k.number == field::kNamedType) {
      if (ReadLenField(r, k, &v, &voff)) type.Merge(v, voff);
    } else {
      r.Skip(k);
    }
  }
  if (!Finish(r)) return false;
  return ValueTypeOf(type, depth - 1, &out->type);
}

bool Decoder::ValueTypeOf(const SubMessage& m, int depth, ir::ValueType* out) {
  if (!m.present) {
    out->kind = ir::ValueType::Kind::kUnknown;  // an absent ValueType sets no member
    return true;
  }
  return ValueType(m.bytes(), m.offset, depth, out);
}

bool Decoder::ValueType(std::string_view bytes, size_t off, int depth, ir::ValueType* out) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  OneofMessage type;
  while (r.NextField(&k)) {
    if (k.number >= field::kTensorType && k.number <= field::kStateType) {
      if (!ReadLenField(r, k, &v, &voff)) continue;
      if (type.Switching(k.number)) {
        ir::ValueType scratch;
        if (!ValueType(SingleField(type.which, type.member.bytes()), type.member.offset, depth, &scratch)) return false;
      }
      type.Set(k.number, v, voff);
    } else {
      r.Skip(k);
    }
  }
  if (!Finish(r)) return false;
  const SubMessage& m = type.member;
  switch (type.which) {
    case field::kTensorType:
      out->kind = ir::ValueType::Kind::kTensor;
      return TensorType(m.bytes(), m.offset, depth - 1, &out->tensor);
    case field::kListType:
      out->kind = ir::ValueType::Kind::kList;
      return ListOrStateType(m.bytes(), m.offset, depth - 1, 1, out);
    case field::kStateType:
      out->kind = ir::ValueType::Kind::kState;
      return ListOrStateType(m.bytes(), m.offset, depth - 1, 1, out);
    case field::kTupleType: {
      out->kind = ir::ValueType::Kind::kTuple;
      if (depth - 1 < 0) return TooDeep(m.offset);
      WireReader t(m.bytes(), m.offset);
      while (t.NextField(&k)) {
        if (k.number == 1) {
          if (ReadLenField(t, k, &v, &voff) && !ValueType(v, voff, depth - 2, &out->members.emplace_back())) {
            return false;
          }
        } else {
          t.Skip(k);
        }
      }
      return Finish(t);
    }
    case field::kDictionaryType: {
      out->kind = ir::ValueType::Kind::kDictionary;
      if (depth - 1 < 0) return TooDeep(m.offset);
      SubMessage key, value;
      WireReader t(m.bytes(), m.offset);
      while (t.NextField(&k)) {
        if (k.number == 1 || k.number == 2) {
          if (ReadLenField(t, k, &v, &voff)) (k.number == 1 ? key : value).Merge(v, voff);
        } else {
          t.Skip(k);
        }
      }
      if (!Finish(t)) return false;
      out->members.resize(2);
      return ValueTypeOf(key, depth - 2, &out->members[0]) && ValueTypeOf(value, depth - 2, &out->members[1]);
    }
    default:
      out->kind = ir::ValueType::Kind::kUnknown;
      return true;
  }
}

// ListType {ValueType type = 1; Dimension length = 2;} and StateType
// {ValueType wrappedType = 1;}: the IR keeps the element tensor type.
bool Decoder::ListOrStateType(std::string_view bytes, size_t off, int depth, uint32_t inner_field,
                              ir::ValueType* out) {
  if (depth < 0) return TooDeep(off);
  const bool is_list = out->kind == ir::ValueType::Kind::kList;
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  SubMessage inner, length;
  while (r.NextField(&k)) {
    if (k.number == inner_field) {
      if (ReadLenField(r, k, &v, &voff)) inner.Merge(v, voff);
    } else if (is_list && k.number == 2) {
      if (ReadLenField(r, k, &v, &voff)) length.Merge(v, voff);
    } else {
      r.Skip(k);
    }
  }
  if (!Finish(r)) return false;
  if (length.present) {
    ir::Dim ignored;
    if (!Dimension(length.bytes(), length.offset, depth - 1, &ignored)) return false;
  }
  if (!inner.present) return true;
  ir::ValueType element;
  if (!ValueType(inner.bytes(), inner.offset, depth - 1, &element)) return false;
  if (element.kind == ir::ValueType::Kind::kTensor) out->tensor = std::move(element.tensor);
  return true;
}

bool Decoder::TensorType(std::string_view bytes, size_t off, int depth, ir::TensorType* out) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  int64_t rank = 0;
  uint64_t x;
  while (r.NextField(&k)) {
    switch (k.number) {
      case field::kTensorDataType:
        // An enum is an int32 on the wire; proto3 keeps unknown values.
        if (ReadVarintField(r, k, &x)) out->dtype = MilDataTypeToIr(static_cast<int32_t>(x));
        break;
      case field::kTensorRank:
        if (ReadVarintField(r, k, &x)) rank = static_cast<int64_t>(x);
        if (rank > 0 && rank <= 64 && out->shape.empty()) out->shape.reserve(static_cast<size_t>(rank));
        break;
      case field::kTensorDimensions:
        if (ReadLenField(r, k, &v, &voff) && !Dimension(v, voff, depth - 1, &out->shape.emplace_back())) {
          return false;
        }
        break;
      case field::kTensorAttributes: {
        if (ReadLenField(r, k, &v, &voff) && !IgnoredValueEntry(v, voff, depth - 1)) return false;
        break;
      }
      default:
        r.Skip(k);
        break;
    }
  }
  if (!Finish(r)) return false;
  // rank -1 marks an unranked tensor; a listed dimension set wins otherwise.
  if (rank < 0 && out->shape.empty()) out->rank_known = false;
  return true;
}

bool Decoder::Dimension(std::string_view bytes, size_t off, int depth, ir::Dim* out) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  OneofMessage dim;
  while (r.NextField(&k)) {
    if (k.number == field::kDimConstant || k.number == field::kDimUnknown) {
      if (!ReadLenField(r, k, &v, &voff)) continue;
      if (dim.Switching(k.number)) {
        ir::Dim scratch;
        if (!Dimension(SingleField(dim.which, dim.member.bytes()), dim.member.offset, depth, &scratch)) return false;
      }
      dim.Set(k.number, v, voff);
    } else {
      r.Skip(k);
    }
  }
  if (!Finish(r)) return false;
  if (dim.which == 0) return true;
  // ConstantDimension {uint64 size = 1;} / UnknownDimension {bool variadic = 1;}
  if (depth - 1 < 0) return TooDeep(dim.member.offset);
  WireReader d(dim.member.bytes(), dim.member.offset);
  uint64_t size = 0, x;
  while (d.NextField(&k)) {
    if (k.number == 1) {
      if (ReadVarintField(d, k, &x)) size = x;
    } else {
      d.Skip(k);
    }
  }
  if (!Finish(d)) return false;
  if (dim.which == field::kDimConstant &&
      size <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    *out = ir::Dim::Known(static_cast<int64_t>(size));
  }
  return true;
}

// ------------------------------------------------------------- values ----

bool Decoder::ValueOf(const SubMessage& m, int depth, ir::Constant* out, SubMessage* dictionary) {
  if (!m.present) {
    out->type.kind = ir::ValueType::Kind::kUnknown;  // an absent Value: no type, no value
    return true;
  }
  return Value(m.bytes(), m.offset, depth, out, dictionary);
}

bool Decoder::Value(std::string_view bytes, size_t off, int depth, ir::Constant* c, SubMessage* dictionary) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  SubMessage type;
  OneofMessage value;  // immediateValue or blobFileValue
  while (r.NextField(&k)) {
    switch (k.number) {
      case field::kValueType:
        if (ReadLenField(r, k, &v, &voff)) type.Merge(v, voff);
        break;
      case field::kValueImmediate:
      case field::kValueBlob:
        if (!ReadLenField(r, k, &v, &voff)) break;
        if (value.Switching(k.number)) {
          ir::Constant scratch;
          if (!Value(SingleField(value.which, value.member.bytes()), value.member.offset, depth, &scratch)) return false;
        }
        value.Set(k.number, v, voff);
        break;
      default:  // docString (1) and unknown fields
        r.Skip(k);
        break;
    }
  }
  if (!Finish(r)) return false;
  if (!ValueTypeOf(type, depth - 1, &c->type)) return false;
  if (c->type.kind == ir::ValueType::Kind::kTensor) {
    if (auto size = SafeByteSize(c->type.tensor)) c->byte_size = *size;
  }
  const SubMessage& m = value.member;
  if (value.which == field::kValueImmediate) return ImmediateValue(m.bytes(), m.offset, depth - 1, c, dictionary);
  if (value.which != field::kValueBlob) return true;
  // BlobFileValue {bytes fileName = 1; uint64 offset = 2;}
  if (depth - 1 < 0) return TooDeep(m.offset);
  WireReader b(m.bytes(), m.offset);
  std::string_view name;
  uint64_t blob_offset = 0, x;
  while (b.NextField(&k)) {
    if (k.number == 1) {
      if (ReadLenField(b, k, &v, &voff)) name = v;
    } else if (k.number == 2) {
      if (ReadVarintField(b, k, &x)) blob_offset = x;
    } else {
      b.Skip(k);
    }
  }
  if (!Finish(b)) return false;
  c->blob = ir::BlobRef{std::string(name), blob_offset};
  c->values_elided = true;
  return true;
}

bool Decoder::ImmediateValue(std::string_view bytes, size_t off, int depth, ir::Constant* c,
                             SubMessage* dictionary) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  OneofMessage value;
  while (r.NextField(&k)) {
    if (k.number >= field::kImmTensor && k.number <= field::kImmDictionary) {
      if (!ReadLenField(r, k, &v, &voff)) continue;
      if (value.Switching(k.number)) {
        ir::Constant scratch;
        if (!ImmediateValue(SingleField(value.which, value.member.bytes()), value.member.offset, depth, &scratch,
                            nullptr)) {
          return false;
        }
      }
      value.Set(k.number, v, voff);
    } else {
      r.Skip(k);
    }
  }
  if (!Finish(r)) return false;
  const SubMessage& m = value.member;
  if (value.which == field::kImmTensor) return TensorValue(m.bytes(), m.offset, depth - 1, c);
  // Tuples, lists and dictionaries as values are rare inside programs; their
  // type is kept, their contents are checked but not decoded.
  c->values_elided = true;
  if (value.which == 0) return true;
  if (!ValueListForValidity(m.bytes(), m.offset, depth - 1, value.which == field::kImmDictionary)) return false;
  if (dictionary != nullptr && value.which == field::kImmDictionary) {
    // Copied: `m` may view a merged buffer of a caller that is gone by the
    // time the dictionary is read.
    dictionary->merged.assign(m.bytes());
    dictionary->owned = true;
    dictionary->present = true;
    dictionary->offset = m.offset;
  }
  return true;
}

bool Decoder::ValueListForValidity(std::string_view bytes, size_t off, int depth, bool pairs) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  while (r.NextField(&k)) {
    if (k.number != 1) {
      r.Skip(k);
      continue;
    }
    if (!ReadLenField(r, k, &v, &voff)) continue;
    ir::Constant a, b;
    if (pairs ? !KeyValuePair(v, voff, depth - 1, &a, &b) : !Value(v, voff, depth - 1, &a)) return false;
  }
  return Finish(r);
}

bool Decoder::KeyValuePair(std::string_view bytes, size_t off, int depth, ir::Constant* key,
                           ir::Constant* value) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  SubMessage key_msg, value_msg;
  while (r.NextField(&k)) {
    if (k.number == 1 || k.number == 2) {
      if (ReadLenField(r, k, &v, &voff)) (k.number == 1 ? key_msg : value_msg).Merge(v, voff);
    } else {
      r.Skip(k);
    }
  }
  if (!Finish(r)) return false;
  return ValueOf(key_msg, depth - 1, key) && ValueOf(value_msg, depth - 1, value);
}

bool Decoder::TensorValue(std::string_view bytes, size_t off, int depth, ir::Constant* c) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;
  OneofMessage value;
  while (r.NextField(&k)) {
    if (k.number >= field::kTvFloats && k.number <= field::kTvBytes) {
      if (!ReadLenField(r, k, &v, &voff)) continue;
      if (value.Switching(k.number)) {
        ir::Constant scratch;
        if (!TensorValue(SingleField(value.which, value.member.bytes()), value.member.offset, depth, &scratch)) {
          return false;
        }
      }
      value.Set(k.number, v, voff);
    } else {
      r.Skip(k);
    }
  }
  if (!Finish(r)) return false;
  if (value.which == 0) return true;
  return RepeatedValues(value.member.bytes(), value.member.offset, depth - 1, value.which, c);
}

// The Repeated* message of a TensorValue: `values = 1` of the member's type.
bool Decoder::RepeatedValues(std::string_view bytes, size_t off, int depth, uint32_t tensor_case,
                             ir::Constant* c) {
  if (depth < 0) return TooDeep(off);
  WireReader r(bytes, off);
  FieldKey k;
  std::string_view v;
  size_t voff = 0;

  if (tensor_case == field::kTvBytes) {
    std::string_view packed;  // singular bytes: the last occurrence wins
    while (r.NextField(&k)) {
      if (k.number == 1) {
        if (ReadLenField(r, k, &v, &voff)) packed = v;
      } else {
        r.Skip(k);
      }
    }
    if (!Finish(r)) return false;
    c->byte_size = packed.size();
    auto count = SafeElementCount(c->type.tensor);
    if (count && *count <= kMaxDecodedElements &&
        DecodePackedBytes(packed, c->type.tensor.dtype, *count, &c->numbers)) {
      return true;
    }
    c->numbers.clear();
    c->values_elided = true;
    return true;
  }

  if (tensor_case == field::kTvStrings) {
    uint64_t total = 0;
    int64_t count = 0;
    while (r.NextField(&k)) {
      if (k.number == 1) {
        if (!ReadLenField(r, k, &v, &voff)) continue;
        total += v.size();
        if (++count <= kMaxDecodedElements) c->strings.emplace_back(v);
      } else {
        r.Skip(k);
      }
    }
    if (!Finish(r)) return false;
    if (c->byte_size == 0) c->byte_size = total;
    if (count > kMaxDecodedElements) {
      c->strings.clear();
      c->values_elided = true;
    }
    return true;
  }

  // Numbers: decoded while there are at most kMaxDecodedElements of them.
  int64_t count = 0;
  auto add = [&](double d) {
    if (++count <= kMaxDecodedElements) c->numbers.push_back(d);
  };
  while (r.NextField(&k)) {
    if (k.number != 1) {
      r.Skip(k);
      continue;
    }
    switch (tensor_case) {
      case field::kTvFloats:
        wire::ReadRepeatedScalar<WireType::kFixed32>(r, k, [&](uint64_t raw) {
          float f;
          auto bits = static_cast<uint32_t>(raw);
          std::memcpy(&f, &bits, sizeof f);
          add(f);
        });
        break;
      case field::kTvDoubles:
        wire::ReadRepeatedScalar<WireType::kFixed64>(r, k, [&](uint64_t raw) {
          double d;
          std::memcpy(&d, &raw, sizeof d);
          add(d);
        });
        break;
      case field::kTvInts:
        wire::ReadRepeatedScalar<WireType::kVarint>(
            r, k, [&](uint64_t raw) { add(static_cast<int32_t>(raw)); });
        break;
      case field::kTvLongInts:
        wire::ReadRepeatedScalar<WireType::kVarint>(
            r, k, [&](uint64_t raw) { add(static_cast<double>(static_cast<int64_t>(raw))); });
        break;
      case field::kTvBools:
        wire::ReadRepeatedScalar<WireType::kVarint>(r, k, [&](uint64_t raw) { add(raw != 0 ? 1 : 0); });
        break;
      default:
        r.Skip(k);
        break;
    }
  }
  if (!Finish(r)) return false;
  size_t element_bytes = 1;  // bools
  if (tensor_case == field::kTvFloats || tensor_case == field::kTvInts) element_bytes = 4;
  if (tensor_case == field::kTvDoubles || tensor_case == field::kTvLongInts) element_bytes = 8;
  if (count > kMaxDecodedElements) {
    c->numbers.clear();
    c->values_elided = true;
  }
  if (c->byte_size == 0) c->byte_size = static_cast<uint64_t>(count) * element_bytes;
  return true;
}

}  // namespace

Result<ir::Program> DecodeMilProgram(std::string_view bytes, size_t base_offset, const std::string& file,
                                     std::vector<std::string>* warnings, unsigned threads) {
  auto storage = std::make_shared<Arena>(ArenaBytesFor(bytes.size()));
  ir::Program program;
  {
    ArenaScope scope(storage.get());
    Decoder decoder(file, warnings, threads);
    if (!decoder.Program(bytes, base_offset, &program)) return decoder.status();
  }
  program.storage = std::move(storage);
  return program;
}

}  // namespace anepilot::format
