// Conversion of an ML Program (Model.mlProgram, MIL protobuf) into
// ir::Program through libprotobuf's generated MILSpec messages.
//
// TEST ORACLE ONLY: the product reads programs with the wire decoder
// (mil_wire_decoder.h). This converter is built into the test-only library
// anepilot_mil_oracle (src/format/CMakeLists.txt), which the format tests and
// the differential fuzzer link to check that both produce the same IR.
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
#include "format/mil_values.h"

namespace anepilot::format {

// Converts a MIL value type (tensor, list, tuple, dictionary, state).
ir::ValueType MilTypeToIr(const CoreML::Specification::MILSpec::ValueType& type);

// Converts a MIL value (immediate or blob file reference) to a constant.
ir::Constant MilValueToIr(CoreML::Specification::MILSpec::Value* value);

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
