// Value helpers shared by the two ML Program readers: the wire decoder the
// product uses (mil_wire_decoder.h) and the libprotobuf-based converter kept
// as its test oracle (mlmodel_program.h). Internal to the format module.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "anepilot/ir.h"

namespace anepilot::format {

// Immediate tensors with at most this many elements keep their values
// decoded (Constant::numbers / strings); larger ones keep only their size.
inline constexpr int64_t kMaxDecodedElements = 64;

// Blocks nested deeper than this (cond / while_loop inside each other) are
// refused: real programs nest a few levels, hostile ones could exhaust the
// stack (operations are parsed one at a time, so a per-message recursion
// limit does not bound the total depth).
inline constexpr int kMaxBlockDepth = 32;

// The value of an IEEE 754 half-precision number given its bits.
double HalfBitsToDouble(uint16_t bits);

// The IR dtype of MILSpec.DataType enum value `value` (Apple's numbering);
// kUnknown for values this reader does not know.
ir::DType MilDataTypeToIr(int64_t value);

// Element count of a fully known shape, or nullopt (unknown dims, overflow).
std::optional<int64_t> SafeElementCount(const ir::TensorType& t);

// Byte size of a fully known tensor, or nullopt (unknown dims, unknown
// dtype, overflow).
std::optional<uint64_t> SafeByteSize(const ir::TensorType& t);

// Decodes `count` packed little-endian elements of an 8- or 16-bit type
// from `bytes` into `out`; false (and `out` untouched) for other element
// types (sub-byte, 8-bit floats) or when `bytes` is too short.
bool DecodePackedBytes(std::string_view bytes, ir::DType dtype, int64_t count,
                       ArenaVector<double>* out);

}  // namespace anepilot::format
