#include "anepilot/arena.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace anepilot {

Arena::Arena(size_t first_block_bytes)
    : next_block_bytes_(std::clamp<size_t>(first_block_bytes, 256, kMaxBlockBytes)) {}

Arena::~Arena() {
  for (Arena* c = first_child_; c != nullptr;) {
    Arena* next = c->next_sibling_;
    delete c;
    c = next;
  }
  for (BlockHeader* b = blocks_; b != nullptr;) {
    BlockHeader* next = b->next;
    FreeBlock(b);
    b = next;
  }
}

namespace {

// Freed huge blocks kept for reuse (Arena::SetKeptBlockBytesLimit). Never
// destroyed, so that arenas destroyed during static destruction still find it
// and kept blocks stay reachable (not leaks) until exit.
struct KeptBlocks {
  std::mutex mu;
  std::vector<void*> blocks;  // Arena::BlockHeaders as FreeBlock got them (huge; `bytes` says their size)
  size_t bytes = 0;
  size_t limit = size_t{256} << 20;
};

KeptBlocks& Kept() {
  static auto* kept = new KeptBlocks;
  return *kept;
}

}  // namespace

// Blocks of 2 MiB and more are whole huge pages where the system offers them
// (Linux transparent huge pages, opted into per mapping with MADV_HUGEPAGE;
// the default policy is "madvise"). Reading the 200,000-op benchmark program
// filled ~130 MiB of 4 KiB pages: 15,000 page faults per read and 40% of its
// time in the kernel on a virtual machine; with huge pages, 11x fewer faults
// and the read 25% faster (see docs/ir.md). Smaller blocks stay on the heap.
// A kept block at least as large as asked (the smallest such) is reused first.
Arena::BlockHeader* Arena::NewBlock(size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= kHugePageBytes) {
    const size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
    {
      KeptBlocks& kept = Kept();
      std::lock_guard<std::mutex> lock(kept.mu);
      auto size_of = [](void* block) { return static_cast<BlockHeader*>(block)->bytes; };
      auto best = kept.blocks.end();
      for (auto it = kept.blocks.begin(); it != kept.blocks.end(); ++it) {
        if (size_of(*it) >= rounded && (best == kept.blocks.end() || size_of(*it) < size_of(*best))) best = it;
      }
      if (best != kept.blocks.end()) {
        auto* b = static_cast<BlockHeader*>(*best);
        kept.bytes -= b->bytes;
        kept.blocks.erase(best);
        return b;
      }
    }
    void* p = nullptr;
    if (posix_memalign(&p, kHugePageBytes, rounded) == 0) {
      madvise(p, rounded, MADV_HUGEPAGE);
      auto* b = static_cast<BlockHeader*>(p);
      b->bytes = rounded;
      b->huge = true;
      return b;
    }
  }
#endif
  auto* b = static_cast<BlockHeader*>(::operator new(bytes));
  b->bytes = bytes;
  b->huge = false;
  return b;
}

void Arena::FreeBlock(BlockHeader* b) {
  if (!b->huge) {
    ::operator delete(static_cast<void*>(b));
    return;
  }
  {
    KeptBlocks& kept = Kept();
    std::lock_guard<std::mutex> lock(kept.mu);
    if (kept.bytes + b->bytes <= kept.limit) {
      kept.blocks.push_back(b);
      kept.bytes += b->bytes;
      return;
    }
  }
  std::free(b);
}

void Arena::SetKeptBlockBytesLimit(size_t bytes) {
  std::vector<void*> release;
  {
    KeptBlocks& kept = Kept();
    std::lock_guard<std::mutex> lock(kept.mu);
    kept.limit = bytes;
    while (kept.bytes > kept.limit) {
      release.push_back(kept.blocks.back());
      kept.bytes -= static_cast<BlockHeader*>(kept.blocks.back())->bytes;
      kept.blocks.pop_back();
    }
  }
  for (void* p : release) std::free(p);
}

size_t Arena::kept_block_bytes() {
  KeptBlocks& kept = Kept();
  std::lock_guard<std::mutex> lock(kept.mu);
  return kept.bytes;
}

void* Arena::AllocateSlow(size_t bytes, size_t align) {
  // A new block holds the header, worst-case alignment padding and the
  // request. Requests larger than the next block get a block of their own.
  const size_t need = sizeof(BlockHeader) + align + bytes;
  const size_t block_bytes = std::max(next_block_bytes_, need);
  BlockHeader* block = NewBlock(block_bytes);
  block->next = blocks_;
  blocks_ = block;
  reserved_ += block->bytes;
  next_block_bytes_ = std::min(next_block_bytes_ * 2, kMaxBlockBytes);

  char* start = reinterpret_cast<char*>(block + 1);
  char* end = reinterpret_cast<char*>(block) + block->bytes;
  // Keep bump-allocating from whichever block has more room left.
  if (size_t(end - start) - bytes - align >= size_t(end_ - ptr_) || ptr_ == nullptr) {
    ptr_ = start;
    end_ = end;
    return Allocate(bytes, align);
  }
  uintptr_t p = (reinterpret_cast<uintptr_t>(start) + align - 1) & ~(uintptr_t{align} - 1);
  return reinterpret_cast<void*>(p);
}

Arena* Arena::NewChild(size_t first_block_bytes) {
  auto* child = new Arena(first_block_bytes);
  child->next_sibling_ = first_child_;
  first_child_ = child;
  return child;
}

bool Arena::Owns(const Arena* other) const {
  if (other == this) return true;
  for (const Arena* c = first_child_; c != nullptr; c = c->next_sibling_) {
    if (c->Owns(other)) return true;
  }
  return false;
}

size_t Arena::bytes_reserved() const {
  size_t total = reserved_;
  for (const Arena* c = first_child_; c != nullptr; c = c->next_sibling_) total += c->bytes_reserved();
  return total;
}

}  // namespace anepilot
