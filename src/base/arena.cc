#include "anepilot/arena.h"

#include <algorithm>
#include <new>

namespace anepilot {

Arena::Arena(size_t first_block_bytes)
    : next_block_bytes_(std::clamp<size_t>(first_block_bytes, 256, kMaxBlockBytes)) {}

Arena::~Arena() {
  for (BlockHeader* b = blocks_; b != nullptr;) {
    BlockHeader* next = b->next;
    ::operator delete(static_cast<void*>(b));
    b = next;
  }
}

void* Arena::AllocateSlow(size_t bytes, size_t align) {
  // A new block holds the header, worst-case alignment padding and the
  // request. Requests larger than the next block get a block of their own.
  const size_t need = sizeof(BlockHeader) + align + bytes;
  const size_t block_bytes = std::max(next_block_bytes_, need);
  auto* block = static_cast<BlockHeader*>(::operator new(block_bytes));
  block->next = blocks_;
  block->bytes = block_bytes;
  blocks_ = block;
  reserved_ += block_bytes;
  next_block_bytes_ = std::min(next_block_bytes_ * 2, kMaxBlockBytes);

  char* start = reinterpret_cast<char*>(block + 1);
  char* end = reinterpret_cast<char*>(block) + block_bytes;
  // Keep bump-allocating from whichever block has more room left.
  if (size_t(end - start) - bytes - align >= size_t(end_ - ptr_) || ptr_ == nullptr) {
    ptr_ = start;
    end_ = end;
    return Allocate(bytes, align);
  }
  uintptr_t p = (reinterpret_cast<uintptr_t>(start) + align - 1) & ~(uintptr_t{align} - 1);
  return reinterpret_cast<void*>(p);
}

void Arena::Adopt(Arena& other) {
  if (other.blocks_ == nullptr) return;
  BlockHeader* last = other.blocks_;
  while (last->next != nullptr) last = last->next;
  // Splice other's blocks after our current one, so our bump pointer (which
  // is in blocks_, if any) stays valid.
  if (blocks_ == nullptr) {
    blocks_ = other.blocks_;
  } else {
    last->next = blocks_->next;
    blocks_->next = other.blocks_;
  }
  reserved_ += other.reserved_;
  other.blocks_ = nullptr;
  other.ptr_ = other.end_ = nullptr;
  other.reserved_ = 0;
}

}  // namespace anepilot
