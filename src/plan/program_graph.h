// The planner's flat, index-based view of the ops a model runs, built once per
// model and shared by every device: op class and work (FLOPs, bytes), which
// ops are constants (free at prediction time), which recompute weights at run
// time, producer indices and value lifetimes. Device-independent.
//
// Ownership: holds pointers into the ir::Model it was built from (and the
// GraphIndex objects it owns); the Model must outlive it.
// Thread-safety: immutable after Build.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anepilot/ir.h"
#include "anepilot/result.h"
#include "plan/cost_model.h"

namespace anepilot::plan {

// What an op is at prediction time.
enum class OpRole : uint8_t {
  kConstant,           // const: data, no work
  kCompressedConstant, // constexpr_*: decompressed at load (or just in time on the ANE)
  kFoldedConstant,     // computes only on plain constants: Core ML folds it at compile time
  kRuntimeTransform,   // computes on decompressed (constexpr_*) weights at every prediction
  kCompute,            // everything else
};

struct PlanOp {
  const ir::Op* op = nullptr;
  uint16_t function = 0;         // index into ProgramGraph::function_names
  OpRole role = OpRole::kCompute;
  OpClass op_class = OpClass::kOther;
  bool weight_is_runtime = false;  // reads a kRuntimeTransform result (e.g. conv weight after pow)
  bool float_compute = true;       // has a float input or output (else integer / shape work)
  bool fp32 = false;               // an ML Program op producing fp32 tensors (NN layers never are)
  bool dynamic_shape = false;      // an output's shape is not fully known
  bool control_flow = false;       // has nested blocks (cond, while_loop)
  bool custom = false;             // NeuralNetwork custom layer
  double flops = 0;
  double bytes = 0;                // activations read + written + weights read
  double out_bytes = 0;            // bytes of its outputs
  double in_bytes = 0;             // bytes of its non-constant inputs
  double weight_bytes = 0;         // bytes of constant inputs (weights)
  uint32_t producers_begin = 0, producers_end = 0;  // range in ProgramGraph::producers
  uint32_t graph = 0;              // index into ProgramGraph::graphs (for rule evaluation)
  bool is_constant() const {
    return role == OpRole::kConstant || role == OpRole::kCompressedConstant ||
           role == OpRole::kFoldedConstant;
  }
};

struct ProgramGraph {
  std::vector<std::string> function_names;
  std::vector<std::unique_ptr<ir::GraphIndex>> graphs;   // one per planned function
  std::vector<PlanOp> ops;                               // all ops, program order
  std::vector<uint32_t> producers;                       // compute-op producers of each op's inputs
  std::vector<uint32_t> compute_ops;                     // indices of ops that compute (role kCompute/kRuntimeTransform)
  std::vector<int32_t> position;                         // op index -> its index in compute_ops, -1 for constants
  double weight_bytes = 0;           // all constant tensors (decompressed size)
  double compressed_weight_bytes = 0;  // outputs of constexpr_* (decompressed at load)
  double lut_weight_bytes = 0;         // outputs of constexpr_lut_to_dense (palettized weights)
  double lut_stored_bytes = 0;         //   and what they occupy compressed (indices + LUT)
  double peak_intermediate_bytes = 0;  // liveness over program order
  std::vector<std::string> notes;

  std::string OpLabel(uint32_t i) const;  // "main/conv_3 (conv)"
};

// Builds the graph of every planned function: an ML Program's "main" (or its
// first function; the others are noted), a NeuralNetwork's layers, and each
// stage of a pipeline in order. Errors: kUnsupported "cannot plan: <kind> runs
// on CPU only" for a model with no program.
Result<ProgramGraph> BuildProgramGraph(const ir::Model& model);

// Classifies an op type (MIL or NeuralNetwork spelling).
OpClass ClassifyOpType(std::string_view type);

}  // namespace anepilot::plan
