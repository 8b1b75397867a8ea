// Visiting every op of a function in program order: each op, then the ops of
// its nested blocks (recursively), then the next op. This is the order in
// which a model file lists them, so tools that print ops match coremltools.
// Iterative: a hostile program's deep nesting cannot overflow the stack.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "anepilot/ir.h"

namespace anepilot::ir {

// Calls visit(const Op&) for ops [begin, end) of `block` and everything
// nested in them, in program order.
template <typename Visit>
void ForEachOpInProgramOrder(const Block& block, size_t begin, size_t end, Visit&& visit) {
  // (block, next op index) frames; a nested block's frame sits above its parent's.
  std::vector<std::pair<const Block*, size_t>> stack{{&block, begin}};
  while (!stack.empty()) {
    auto& [current, next] = stack.back();
    if (next == (stack.size() == 1 ? end : current->ops.size())) {
      stack.pop_back();
      continue;
    }
    const Op& op = current->ops[next++];
    visit(op);
    // Push nested blocks last-first so that the first one is visited first.
    for (auto it = op.blocks.rbegin(); it != op.blocks.rend(); ++it) stack.emplace_back(&*it, 0);
  }
}

// Calls visit(const Op&) for every op of `fn` in program order.
template <typename Visit>
void ForEachOpInProgramOrder(const Function& fn, Visit&& visit) {
  ForEachOpInProgramOrder(fn.body, 0, fn.body.ops.size(), std::forward<Visit>(visit));
}

}  // namespace anepilot::ir
