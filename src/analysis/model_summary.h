// What `anepilot inspect` says about a model, computed once from the IR.
//
//   ANEPILOT_ASSIGN_OR_RETURN(ir::Model model, ReadModel(path));
//   analysis::ModelSummary summary = analysis::Summarize(model);
//
// A ModelSummary is a plain value: it copies what it reports (names, types,
// metadata) and keeps no pointer into the ir::Model, so it outlives it.
// Summarize is linear in the number of ops (a 200k-op program takes a few
// milliseconds) and cannot fail: whatever the reader could not determine shows
// up as unknown types, missing sizes or the reader's warnings.
// Thread-safe: no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "anepilot/ir.h"

namespace anepilot::analysis {

// The OS release a model needs, and why we think so.
struct DeploymentTarget {
  std::string ios;     // "iOS 16", "iOS 11.2"; empty when nothing tells
  std::string macos;   // "macOS 13"; empty when nothing tells
  std::string basis;   // "opset CoreML6", "spec version 4"
};

// The minimum OS implied by a specificationVersion (1 = iOS 11 ... 9 = iOS 18,
// 10 = iOS 26), per Core ML's release history. Empty target for unknown versions.
DeploymentTarget TargetForSpecVersion(int spec_version);
// The OS implied by an ML Program function opset: "CoreML5".."CoreML9"
// (.mlmodel / .mlpackage spelling) or "ios15".."ios26" (model.mil spelling).
// CoreML5 = iOS 15, CoreML6 = iOS 16, CoreML7 = iOS 17, CoreML8 = iOS 18,
// CoreML9 = iOS 26. Empty target for an opset it does not know.
DeploymentTarget TargetForOpset(const std::string& opset);

struct FunctionSummary {
  std::string name;
  std::string opset;     // empty for NeuralNetwork layers
  size_t op_count = 0;   // nested blocks included
};

struct OpTypeCount {
  std::string type;
  size_t count = 0;
};

// Output precision of the compute ops (weights-producing ops excluded: const
// and constexpr_*), classified by the dtype of each op's first tensor output.
struct PrecisionSummary {
  size_t fp16 = 0;      // fp16 and bf16 outputs
  size_t fp32 = 0;      // fp32 and fp64 outputs
  size_t integer = 0;   // int / uint / bool outputs
  size_t unknown = 0;   // no tensor output, or dtype unknown
  // "fp16", "fp32", "mixed" (both present) or "unknown" (neither).
  std::string verdict;
};

// Weight-compression ops (quantization, palettization, sparsity) by type.
struct CompressionOpCount {
  std::string type;     // "constexpr_affine_dequantize", "dequantize", ...
  std::string method;   // "quantization", "palettization", "sparsity", "cast"
  size_t count = 0;
};

// One op output, among the largest by byte size.
struct IntermediateTensor {
  std::string function;
  std::string op_name;
  std::string op_type;
  std::string value;     // output value name
  ir::TensorType type;
  int64_t bytes = 0;
};

struct ModelSummary {
  std::string path;
  std::string container;     // "mlmodel", "mlpackage", "mlmodelc"
  std::string model_file;
  std::string kind;          // "mlProgram", "neuralNetwork", "pipelineClassifier", ...
  int spec_version = 0;      // 0 when unknown
  DeploymentTarget deployment;
  bool is_updatable = false;

  std::vector<ir::Feature> inputs, outputs, states;
  std::vector<FunctionSummary> functions;
  size_t op_count = 0;                  // all functions, nested blocks included
  std::vector<OpTypeCount> op_histogram;   // by count descending, then type
  PrecisionSummary precision;
  std::vector<CompressionOpCount> compression;  // by count descending
  ir::WeightsInfo weights;
  std::vector<IntermediateTensor> largest_intermediates;  // by bytes descending
  ir::Metadata metadata;
  std::vector<std::string> custom_layers;
  std::vector<ModelSummary> stages;     // pipeline stages, each summarised
  std::vector<std::string> warnings;    // the reader's
};

struct SummaryOptions {
  size_t top_intermediates = 10;
  // Threads to walk one function's ops with. 0: automatic (one, or up to
  // UsefulThreads() for a function of 20,000 ops or more). The summary is the
  // same however many.
  unsigned threads = 0;
};

ModelSummary Summarize(const ir::Model& model, const SummaryOptions& options = {});

// True for ops that materialise weights rather than compute: "const" and the
// constexpr_* family (decompressed at load time).
bool IsWeightOp(const ir::Op& op);

// The compression method of an op type ("quantization", "palettization",
// "sparsity", "cast"), or empty when the type is not a compression op.
std::string CompressionMethod(std::string_view op_type);

}  // namespace anepilot::analysis
