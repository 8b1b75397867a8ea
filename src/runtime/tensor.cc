#include "runtime/tensor.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace anepilot::runtime {

int64_t Tensor::ElementCount() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const Tensor* FindTensor(const Tensors& tensors, const std::string& name) {
  for (const Tensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

bool AllFinite(const Tensors& tensors) {
  for (const Tensor& t : tensors) {
    for (float v : t.data) {
      if (!std::isfinite(v)) return false;
    }
  }
  return true;
}

double MaxRelativeDifference(const Tensors& a, const Tensors& b) {
  constexpr double kDisagree = std::numeric_limits<double>::infinity();
  if (a.size() != b.size()) return kDisagree;
  double worst = 0.0;
  for (const Tensor& ta : a) {
    const Tensor* tb = FindTensor(b, ta.name);
    if (tb == nullptr || tb->shape != ta.shape || tb->data.size() != ta.data.size()) return kDisagree;
    for (size_t i = 0; i < ta.data.size(); ++i) {
      const double x = ta.data[i];
      const double y = tb->data[i];
      if (!std::isfinite(x) || !std::isfinite(y)) return kDisagree;
      worst = std::max(worst, std::fabs(x - y) / std::max(1.0, std::fabs(x)));
    }
  }
  return worst;
}

}  // namespace anepilot::runtime
