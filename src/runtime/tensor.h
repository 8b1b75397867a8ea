// The runtime's tensor: a named buffer of 32-bit floats with a shape. Deliberately
// minimal: the runtime moves inputs to a backend and outputs back, it does no math
// on them except validation (all finite, agreement within a tolerance).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace anepilot::runtime {

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major; data.size() == product of shape

  // Number of elements the shape describes (1 for a scalar shape {}).
  int64_t ElementCount() const;
};

// Inputs or outputs of one prediction, in the order the model declares them.
using Tensors = std::vector<Tensor>;

// The tensor called `name`, or nullptr.
const Tensor* FindTensor(const Tensors& tensors, const std::string& name);

// True when every element of every tensor is finite (no NaN, no infinity).
bool AllFinite(const Tensors& tensors);

// Largest |a - b| / max(1, |a|) over matching elements. The tensors must agree in
// names and shapes; otherwise the result is +infinity (they do not agree at all).
double MaxRelativeDifference(const Tensors& a, const Tensors& b);

}  // namespace anepilot::runtime
