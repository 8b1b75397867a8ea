#include "format/mlmodel_program.h"

#include <limits>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <google/protobuf/arena.h>

namespace anepilot::format {
namespace mil = CoreML::Specification::MILSpec;

namespace {

ir::DType MilDTypeToIr(mil::DataType t) {
  switch (t) {
    case mil::BOOL: return ir::DType::kBool;
    case mil::STRING: return ir::DType::kString;
    case mil::FLOAT16: return ir::DType::kFloat16;
    case mil::FLOAT32: return ir::DType::kFloat32;
    case mil::FLOAT64: return ir::DType::kFloat64;
    case mil::BFLOAT16: return ir::DType::kBFloat16;
    case mil::INT8: return ir::DType::kInt8;
    case mil::INT16: return ir::DType::kInt16;
    case mil::INT32: return ir::DType::kInt32;
    case mil::INT64: return ir::DType::kInt64;
    case mil::INT4: return ir::DType::kInt4;
    case mil::UINT8: return ir::DType::kUInt8;
    case mil::UINT16: return ir::DType::kUInt16;
    case mil::UINT32: return ir::DType::kUInt32;
    case mil::UINT64: return ir::DType::kUInt64;
    case mil::UINT4: return ir::DType::kUInt4;
    case mil::UINT2: return ir::DType::kUInt2;
    case mil::UINT1: return ir::DType::kUInt1;
    case mil::UINT6: return ir::DType::kUInt6;
    case mil::UINT3: return ir::DType::kUInt3;
    case mil::FLOAT8E4M3FN: return ir::DType::kFloat8E4M3;
    case mil::FLOAT8E5M2: return ir::DType::kFloat8E5M2;
    default: return ir::DType::kUnknown;
  }
}

ir::TensorType MilTensorTypeToIr(const mil::TensorType& t) {
  ir::TensorType out;
  out.dtype = MilDTypeToIr(t.datatype());
  // rank -1 marks an unranked tensor; a listed dimension set wins otherwise.
  if (t.rank() < 0 && t.dimensions_size() == 0) {
    out.rank_known = false;
    return out;
  }
  out.shape.reserve(t.dimensions_size());
  for (const auto& d : t.dimensions()) {
    if (d.has_constant() && d.constant().size() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      out.shape.push_back(ir::Dim::Known(static_cast<int64_t>(d.constant().size())));
    } else {
      out.shape.push_back(ir::Dim{});
    }
  }
  return out;
}

template <typename Repeated>
void DecodeNumbers(const Repeated& values, ir::Constant* c, size_t element_bytes) {
  if (values.size() <= kMaxDecodedElements) {
    c->numbers.assign(values.begin(), values.end());
  } else {
    c->values_elided = true;
  }
  if (c->byte_size == 0) c->byte_size = static_cast<uint64_t>(values.size()) * element_bytes;
}

void TensorValueToIr(mil::TensorValue* t, ir::Constant* c) {
  switch (t->value_case()) {
    case mil::TensorValue::kFloats: DecodeNumbers(t->floats().values(), c, 4); break;
    case mil::TensorValue::kDoubles: DecodeNumbers(t->doubles().values(), c, 8); break;
    case mil::TensorValue::kInts: DecodeNumbers(t->ints().values(), c, 4); break;
    case mil::TensorValue::kLongInts: DecodeNumbers(t->longints().values(), c, 8); break;
    case mil::TensorValue::kBools: DecodeNumbers(t->bools().values(), c, 1); break;
    case mil::TensorValue::kStrings: {
      auto* strings = t->mutable_strings()->mutable_values();
      uint64_t total = 0;
      for (const auto& s : *strings) total += s.size();
      if (c->byte_size == 0) c->byte_size = total;
      if (strings->size() <= kMaxDecodedElements) {
        c->strings.reserve(strings->size());
        for (auto& s : *strings) c->strings.push_back(std::move(s));
      } else {
        c->values_elided = true;
      }
      break;
    }
    case mil::TensorValue::kBytes: {
      const std::string& bytes = t->bytes().values();
      c->byte_size = bytes.size();
      auto count = SafeElementCount(c->type.tensor);
      if (count && *count <= kMaxDecodedElements &&
          DecodePackedBytes(bytes, c->type.tensor.dtype, *count, &c->numbers)) {
        break;
      }
      c->numbers.clear();
      c->values_elided = true;
      break;
    }
    default: break;
  }
}

}  // namespace

ir::ValueType MilTypeToIr(const mil::ValueType& type) {
  ir::ValueType out;
  switch (type.type_case()) {
    case mil::ValueType::kTensorType:
      out.kind = ir::ValueType::Kind::kTensor;
      out.tensor = MilTensorTypeToIr(type.tensortype());
      break;
    case mil::ValueType::kListType:
      out.kind = ir::ValueType::Kind::kList;
      if (type.listtype().type().has_tensortype()) {
        out.tensor = MilTensorTypeToIr(type.listtype().type().tensortype());
      }
      break;
    case mil::ValueType::kTupleType:
      out.kind = ir::ValueType::Kind::kTuple;
      out.members.reserve(type.tupletype().types_size());
      for (const auto& m : type.tupletype().types()) out.members.push_back(MilTypeToIr(m));
      break;
    case mil::ValueType::kDictionaryType:
      out.kind = ir::ValueType::Kind::kDictionary;
      out.members = {MilTypeToIr(type.dictionarytype().keytype()),
                     MilTypeToIr(type.dictionarytype().valuetype())};
      break;
    case mil::ValueType::kStateType:
      out.kind = ir::ValueType::Kind::kState;
      if (type.statetype().wrappedtype().has_tensortype()) {
        out.tensor = MilTensorTypeToIr(type.statetype().wrappedtype().tensortype());
      }
      break;
    default:
      out.kind = ir::ValueType::Kind::kUnknown;
      break;
  }
  return out;
}

ir::Constant MilValueToIr(mil::Value* value) {
  ir::Constant c;
  c.type = MilTypeToIr(value->type());
  if (c.type.kind == ir::ValueType::Kind::kTensor) {
    if (auto bytes = SafeByteSize(c.type.tensor)) c.byte_size = *bytes;
  }
  switch (value->value_case()) {
    case mil::Value::kBlobFileValue: {
      auto* blob = value->mutable_blobfilevalue();
      c.blob = ir::BlobRef{std::move(*blob->mutable_filename()), blob->offset()};
      c.values_elided = true;
      break;
    }
    case mil::Value::kImmediateValue: {
      auto* imm = value->mutable_immediatevalue();
      if (imm->has_tensor()) {
        TensorValueToIr(imm->mutable_tensor(), &c);
      } else {
        // Tuples, lists and dictionaries as values are rare inside programs;
        // their type is kept, their contents are not decoded.
        c.values_elided = true;
      }
      break;
    }
    default: break;
  }
  return c;
}

namespace {

// A value's text when it is a single string (or a scalar), for flattening
// attributes such as buildInfo into strings.
std::string ConstantText(const ir::Constant& c) {
  if (c.strings.size() == 1) return c.strings[0].str();
  return c.ToString();
}

ir::Value NamedValueToIr(mil::NamedValueType* v) {
  return ir::Value{std::move(*v->mutable_name()), MilTypeToIr(v->type())};
}

// Bytes of the arena block each nesting level parses operations into; most
// operations fit, larger ones spill into blocks the arena allocates itself.
constexpr size_t kArenaFirstBlockBytes = 16 * 1024;

// Converts blocks, parsing their serialized operations one at a time.
class BlockConverter {
 public:
  BlockConverter(const std::string& file, const std::string& function)
      : file_(file), function_(function) {}

  Status Convert(mil::Block* block, int depth, ir::Block* out) {
    if (depth > kMaxBlockDepth) {
      return CorruptModel(fmt::format("{}: function '{}': blocks nest deeper than {} levels", file_,
                                      function_, kMaxBlockDepth));
    }
    out->inputs.reserve(block->inputs_size());
    for (auto& v : *block->mutable_inputs()) out->inputs.push_back(NamedValueToIr(&v));
    out->ops.reserve(block->operations_size());
    // Each operation is parsed into a fresh message on an arena that is reset
    // between operations: the arena's first block is reused, so parsing an
    // operation costs no malloc/free for the message tree itself (reusing one
    // heap message instead spent a fifth of the time in Clear(), which
    // deletes and re-creates oneof members). Strings moved into the IR keep
    // their own heap buffers; the arena only runs their (now empty)
    // destructors. One arena per nesting level: a nested block is converted
    // while its parent operation is still in use.
    std::unique_ptr<char[]> first_block(new char[kArenaFirstBlockBytes]);
    google::protobuf::ArenaOptions arena_options;
    arena_options.initial_block = first_block.get();
    arena_options.initial_block_size = kArenaFirstBlockBytes;
    google::protobuf::Arena arena(arena_options);
    for (int i = 0; i < block->operations_size(); ++i) {
      arena.Reset();
      auto* op = google::protobuf::Arena::CreateMessage<mil::Operation>(&arena);
      if (!op->ParseFromString(block->operations(i))) {
        return CorruptModel(fmt::format(
            "{}: function '{}': operation {} of a depth-{} block does not parse; the file is corrupt",
            file_, function_, i, depth));
      }
      std::string().swap(*block->mutable_operations(i));  // release the serialized copy as we go
      ANEPILOT_RETURN_IF_ERROR(ConvertOperation(op, depth, &out->ops.emplace_back()));
    }
    out->outputs.reserve(block->outputs_size());
    for (auto& name : *block->mutable_outputs()) out->outputs.push_back(std::move(name));
    return Status::Ok();
  }

 private:
  Status ConvertOperation(mil::Operation* op, int depth, ir::Op* out) {
    out->type = std::move(*op->mutable_type());
    out->inputs.reserve(op->inputs_size());
    for (auto& entry : *op->mutable_inputs()) {
      ir::Argument arg;
      arg.param = std::move(*entry.mutable_key());
      auto* bindings = entry.mutable_value()->mutable_arguments();
      arg.bindings.reserve(bindings->size());
      for (auto& b : *bindings) {
        ir::Binding binding;
        if (b.has_value()) {
          binding.constant = MilValueToIr(b.mutable_value());
        } else {
          binding.name = std::move(*b.mutable_name());
        }
        arg.bindings.push_back(std::move(binding));
      }
      out->inputs.push_back(std::move(arg));
    }
    for (auto& entry : *op->mutable_attributes()) {
      ir::Constant c = MilValueToIr(entry.mutable_value());
      if (entry.key() == "name") {
        if (c.strings.size() == 1) out->name = std::move(c.strings[0]);
        continue;
      }
      out->attributes.insert_or_assign(std::move(*entry.mutable_key()), std::move(c));
    }
    out->outputs.reserve(op->outputs_size());
    for (auto& o : *op->mutable_outputs()) out->outputs.push_back(NamedValueToIr(&o));
    // An op without a "name" attribute is identified by its first output.
    if (out->name.empty() && !out->outputs.empty()) out->name = out->outputs.front().name;
    out->blocks.resize(op->blocks_size());
    for (int i = 0; i < op->blocks_size(); ++i) {
      ANEPILOT_RETURN_IF_ERROR(Convert(op->mutable_blocks(i), depth + 1, &out->blocks[i]));
    }
    return Status::Ok();
  }

  const std::string& file_;
  const std::string& function_;
};

}  // namespace

Result<ir::Program> MilProgramToIr(mil::Program* program, const std::string& file,
                                   std::vector<std::string>* warnings) {
  ir::Program out;
  out.version = program->version();
  for (auto& entry : *program->mutable_attributes()) {
    auto* value = entry.mutable_value();
    if (value->has_immediatevalue() && value->immediatevalue().has_dictionary()) {
      for (auto& kv : *value->mutable_immediatevalue()->mutable_dictionary()->mutable_values()) {
        ir::Constant k = MilValueToIr(kv.mutable_key());
        ir::Constant v = MilValueToIr(kv.mutable_value());
        out.attributes.insert_or_assign(entry.key() + "." + ConstantText(k), ConstantText(v));
      }
      continue;
    }
    out.attributes.insert_or_assign(entry.key(), ConstantText(MilValueToIr(value)));
  }

  out.functions.reserve(program->functions_size());
  for (auto& entry : *program->mutable_functions()) {
    ir::Function fn;
    fn.name = std::move(*entry.mutable_key());
    mil::Function* f = entry.mutable_value();
    fn.opset = std::move(*f->mutable_opset());
    fn.inputs.reserve(f->inputs_size());
    for (auto& v : *f->mutable_inputs()) fn.inputs.push_back(NamedValueToIr(&v));
    mil::Block* chosen = nullptr;
    for (auto& spec : *f->mutable_block_specializations()) {
      if (spec.key() == fn.opset) chosen = spec.mutable_value();
    }
    if (chosen == nullptr && f->block_specializations_size() > 0) {
      auto& first = *f->mutable_block_specializations(0);
      warnings->push_back(fmt::format(
          "function '{}': no block for its opset '{}'; read the '{}' block instead", fn.name,
          fn.opset, first.key()));
      chosen = first.mutable_value();
    }
    if (chosen == nullptr) {
      warnings->push_back(fmt::format("function '{}' has no block (no operations)", fn.name));
    } else {
      ANEPILOT_RETURN_IF_ERROR(BlockConverter(file, fn.name).Convert(chosen, 0, &fn.body));
    }
    out.functions.push_back(std::move(fn));
  }
  return out;
}

}  // namespace anepilot::format
