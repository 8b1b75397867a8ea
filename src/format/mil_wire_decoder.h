// Decoding a serialized ML Program (the bytes of Core ML's Model.mlProgram,
// a MILSpec.Program message) straight into ir::Program, without building
// libprotobuf messages. This is the reader the product uses; the
// libprotobuf-based MilProgramToIr (mlmodel_program.h) is its test oracle and
// both must produce the same IR for every input both accept
// (mil_wire_decoder_test.cc, fuzz/mil_wire_fuzz.cc).
//
// What it produces (same as the oracle): functions in file order, each with
// the block of its opset (else the first block, with a warning), ops in
// order with inputs, bindings, attributes (the "name" attribute becomes
// Op::name; without one the first output names the op), outputs, nested
// blocks; constants with small immediates decoded (kMaxDecodedElements),
// sizes, blob references and strings; value types incl. list, tuple,
// dictionary and state; program attributes with dictionaries flattened to
// "<key>.<entry>".
//
// Protobuf semantics followed, so any valid encoding reads as libprotobuf
// reads it: fields in any order; unknown fields (and known fields with an
// unexpected wire type) skipped, including groups; repeated scalars packed or
// not; a singular scalar or string given twice: the last wins; a singular
// embedded message given twice: the occurrences are merged (decoded as their
// concatenation, which is protobuf's merge rule); a oneof member replaces a
// different member set before it. Parts the IR does not keep (doc strings,
// block/function/tensor-type attributes, non-chosen block specializations,
// the contents of tuple/list/dictionary immediates) are still decoded for
// validity, as libprotobuf would parse them. Message nesting is bounded like
// libprotobuf's recursion limit (100 per program, and 100 per operation,
// which the oracle parses one at a time); blocks nest at most kMaxBlockDepth.
// Known differences from the oracle, all in what is accepted, never in the
// IR of an input both accept: length varints longer than 5 bytes are
// accepted; groups are skipped with their own depth limit (wire_reader.h)
// rather than protobuf's shared one.
// No encoder writes any of these.
//
// Parallel decoding: the operations of a function's top-level block are
// independent messages, so a large block (see `threads` below) is split
// into byte-balanced runs of operations decoded on several threads (a
// process-wide pool, base/parallel_for.h), each
// writing its own slice of the op vector. The IR, the warnings and the error
// reported are the same as on one thread, except that when an operation and a
// later field of its block are both corrupt, the block's field is named.
//
// Thread-safe: no shared state. Linear in the input size.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "anepilot/ir.h"
#include "anepilot/result.h"

namespace anepilot::format {

// Decodes `bytes` (a serialized MILSpec.Program). `base_offset` is the offset
// of `bytes` in `file`, so errors name file positions; `file` is used only in
// messages. Warnings (a function without a block for its opset, a function
// with no block) are appended to `warnings`.
//
// Errors: kTruncatedModel when the program's own bytes end inside a field
// (a cut-short file); kCorruptModel for any other malformed encoding (naming
// the byte offset and, inside operations, the function and operation index),
// messages nested deeper than the limits above.
//
// `threads`: how many threads may decode a large block (1: the caller's
// thread only; 0: automatic, UsefulThreads() (base/parallel_for.h) for blocks
// of kParallelMinBytes or more, one thread below).
Result<ir::Program> DecodeMilProgram(std::string_view bytes, size_t base_offset,
                                     const std::string& file, std::vector<std::string>* warnings,
                                     unsigned threads = 0);

// Blocks with fewer operations are always decoded on the caller's thread.
inline constexpr size_t kParallelMinOps = 512;
// Automatic mode's threshold. Handing runs to the pool's threads costs a
// fixed ~50-100 us on the 2-core CI VM, against ~1.5 ms per MB of decoding:
// two threads took faceapp-problem1 (0.37 MB) from 0.87 to 0.78 ms in-process
// and a 27 MB program from 130 to 113 ms, for ~20% more CPU time
// (anepilot_inspect_bench MODEL N THREADS); below a quarter MB the gain fades.
inline constexpr size_t kParallelMinBytes = size_t{256} << 10;

}  // namespace anepilot::format
