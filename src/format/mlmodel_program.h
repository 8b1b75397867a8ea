// Conversion of an ML Program (Model.mlProgram, MIL protobuf) into
// ir::Program. Internal to the format module.
//
// The conversion moves strings out of the protobuf message (hence the
// non-const pointer): the message is left valid but with emptied strings.
// Linear in the size of the program; recursion follows the message's nesting,
// which the protobuf parser already bounds. Thread-safe: no shared state.
#pragma once

#include <string>
#include <vector>

#include "proto/MIL.pb.h"
#include "anepilot/ir.h"
#include "anepilot/result.h"

namespace anepilot::format {

// Immediate tensors with at most this many elements keep their values
// decoded (Constant::numbers / strings); larger ones keep only their size.
inline constexpr int64_t kMaxDecodedElements = 64;

// The value of an IEEE 754 half-precision number given its bits.
double HalfBitsToDouble(uint16_t bits);

// Converts a MIL value type (tensor, list, tuple, dictionary, state).
ir::ValueType MilTypeToIr(const CoreML::Specification::MILSpec::ValueType& type);

// Converts a MIL value (immediate or blob file reference) to a constant.
ir::Constant MilValueToIr(CoreML::Specification::MILSpec::Value* value);

// Blocks nested deeper than this (cond / while_loop inside each other) are
// refused: real programs nest a few levels, hostile ones could exhaust the
// stack (operations are parsed one at a time, so protobuf's own recursion
// limit does not bound the total depth).
inline constexpr int kMaxBlockDepth = 32;

// Converts the whole program: every function (in file order) with the block
// of its opset, nested blocks, and program attributes (dictionary attributes
// such as buildInfo flattened to "buildInfo.<key>" entries). Problems that
// do not prevent reading (e.g. a function whose opset has no block) are
// appended to `warnings`.
//
// Errors: kCorruptModel (naming `file`, the function and the operation's
// position) when a serialized operation does not parse or blocks nest deeper
// than kMaxBlockDepth.
Result<ir::Program> MilProgramToIr(CoreML::Specification::MILSpec::Program* program,
                                   const std::string& file, std::vector<std::string>* warnings);

}  // namespace anepilot::format
