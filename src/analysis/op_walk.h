// Visiting every op of a function in program order: each op, then the ops of
// its nested blocks (recursively), then the next op. This is the order in
// which a model file lists them, so tools that print ops match coremltools.
// Iterative: a hostile program's deep nesting cannot overflow the stack.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "anepilot/ir.h"

namespace anepilot::analysis {

// Calls visit(const ir::Op&) for every op of `fn` in program order.
template <typename Visit>
void ForEachOpInProgramOrder(const ir::Function& fn, Visit&& visit) {
  // (block, next op index) frames; a nested block's frame sits above its parent's.
  std::vector<std::pair<const ir::Block*, size_t>> stack{{&fn.body, 0}};
  while (!stack.empty()) {
    auto& [block, next] = stack.back();
    if (next == block->ops.size()) {
      stack.pop_back();
      continue;
    }
    const ir::Op& op = block->ops[next++];
    visit(op);
    // Push nested blocks last-first so that the first one is visited first.
    for (auto it = op.blocks.rbegin(); it != op.blocks.rend(); ++it) stack.emplace_back(&*it, 0);
  }
}

}  // namespace anepilot::analysis
