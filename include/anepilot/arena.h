// A bump allocator for memory that lives and dies together: the IR a reader
// builds for one program. Allocation is a pointer increment; nothing is freed
// individually; destroying the Arena returns every block at once.
//
// Why: reading a 2,385-op ML Program into the IR made ~14,600 heap
// allocations, one per list of arguments, bindings, outputs and dimensions,
// and freeing the model as many again. Arena-backed lists (ArenaVector) turn
// those into pointer bumps in a few large blocks.
//
// ArenaScope makes an arena the calling thread's current one: ArenaVectors
// that first allocate on that thread while the scope lives take their storage
// from it. Readers open a scope around decoding and hand the arena to the Program
// they return (ir::Program::storage), which keeps it alive.
//
// Not thread-safe: one thread allocates from an arena at a time (parallel
// decoding gives each run of ops a child arena of the program's, see
// NewChild).
#pragma once

#include <cstddef>
#include <cstdint>

namespace anepilot {

class Arena {
 public:
  // `first_block_bytes`: size of the first block (later blocks double, up to
  // kMaxBlockBytes). Readers pass an estimate from the input's size so that
  // most reads use one block.
  explicit Arena(size_t first_block_bytes = 4096);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // `bytes` of storage aligned to `align` (a power of two, at most 64). Never null;
  // throws std::bad_alloc like operator new.
  void* Allocate(size_t bytes, size_t align) {
    bytes += bytes == 0;  // distinct, non-null pointers for empty requests too
    uintptr_t p = (reinterpret_cast<uintptr_t>(ptr_) + align - 1) & ~(uintptr_t{align} - 1);
    if (p + bytes <= reinterpret_cast<uintptr_t>(end_) && p >= reinterpret_cast<uintptr_t>(ptr_)) {
      ptr_ = reinterpret_cast<char*>(p + bytes);
      return reinterpret_cast<void*>(p);
    }
    return AllocateSlow(bytes, align);
  }

  // Grows the most recent allocation `p` (of `old_bytes`) to `new_bytes` in
  // place when it is the last thing allocated and the block has room. Returns
  // false (and changes nothing) otherwise.
  bool TryExtend(void* p, size_t old_bytes, size_t new_bytes) {
    char* c = static_cast<char*>(p);
    if (c + old_bytes != ptr_ || new_bytes < old_bytes || new_bytes - old_bytes > size_t(end_ - ptr_)) return false;
    ptr_ = c + new_bytes;
    return true;
  }

  // A new arena owned by this one, for another thread to allocate from. It
  // lives, with everything allocated from it, until this arena is destroyed:
  // lists whose storage came from it keep growing from it (ArenaVector
  // remembers its arena), so it must outlive them as the parent does. Call on
  // the thread that owns this arena, before handing the child out.
  Arena* NewChild(size_t first_block_bytes = 4096);

  // True if `other` is this arena or one of its children (recursively).
  bool Owns(const Arena* other) const;

  // Bytes in blocks held (allocated or not) by this arena and its children,
  // for tests and statistics.
  size_t bytes_reserved() const;

  // The calling thread's current arena (see ArenaScope), or nullptr.
  static Arena* Current() { return current_; }

  static constexpr size_t kMaxBlockBytes = size_t{8} << 20;

  // Huge-page blocks (see NewBlock in arena.cc) of destroyed arenas are kept,
  // up to this many bytes in all, for the next arena of the process: reading
  // a large program fills 100 MB of fresh pages, and the kernel zeroing them
  // was a sixth of the read. 256 MiB by default; 0 returns every kept block to
  // the system now and keeps none from then on. Thread-safe. Only Linux has
  // huge-page blocks; elsewhere nothing is kept.
  static void SetKeptBlockBytesLimit(size_t bytes);
  static size_t kept_block_bytes();  // bytes kept right now

 private:
  friend class ArenaScope;
  struct BlockHeader {
    BlockHeader* next;
    size_t bytes;
    bool huge;  // from the huge-page path of NewBlock: released with free()
  };
  static constexpr size_t kHugePageBytes = size_t{2} << 20;
  static BlockHeader* NewBlock(size_t bytes);
  static void FreeBlock(BlockHeader* b);

  void* AllocateSlow(size_t bytes, size_t align);

  char* ptr_ = nullptr;
  char* end_ = nullptr;
  BlockHeader* blocks_ = nullptr;
  size_t next_block_bytes_;
  size_t reserved_ = 0;
  Arena* first_child_ = nullptr;   // owned; a list through next_sibling_
  Arena* next_sibling_ = nullptr;

  static inline thread_local Arena* current_ = nullptr;
};

// Makes `arena` the calling thread's current arena until destroyed, then
// restores the previous one (scopes nest). `arena` may be nullptr (heap).
class ArenaScope {
 public:
  explicit ArenaScope(Arena* arena) : saved_(Arena::current_) { Arena::current_ = arena; }
  ~ArenaScope() { Arena::current_ = saved_; }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

 private:
  Arena* saved_;
};

}  // namespace anepilot
