#include "anepilot/arena.h"

#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "anepilot/arena_vector.h"
#include "anepilot/boxed.h"

namespace anepilot {
namespace {

// Strings longer than any small-string buffer, so that a leaked, doubly
// destroyed or unmoved element shows up under AddressSanitizer.
std::string Long(int i) { return "element-number-" + std::to_string(i) + "-padded-past-small-string-size"; }

TEST(Arena, AllocationsAreAlignedDistinctAndWritable) {
  Arena arena(256);
  std::vector<std::pair<char*, size_t>> blocks;
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const size_t bytes = rng() % 300;
    const size_t align = size_t{1} << (rng() % 7);  // 1..64
    char* p = static_cast<char*>(arena.Allocate(bytes, align));
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << "allocation " << i;
    std::memset(p, i & 0xff, bytes);
    blocks.emplace_back(p, bytes);
  }
  // Nothing overwrote anything: each allocation still holds its own byte.
  for (size_t i = 0; i < blocks.size(); ++i) {
    for (size_t j = 0; j < blocks[i].second; ++j) {
      ASSERT_EQ(static_cast<unsigned char>(blocks[i].first[j]), i & 0xff) << "allocation " << i;
    }
  }
  EXPECT_GE(arena.bytes_reserved(), size_t{2000});
}

TEST(Arena, EmptyRequestsGetDistinctPointers) {
  Arena arena;
  void* a = arena.Allocate(0, 8);
  void* b = arena.Allocate(0, 8);
  EXPECT_NE(a, nullptr);
  EXPECT_NE(a, b);
}

TEST(Arena, ARequestLargerThanAnyBlockGetsItsOwn) {
  Arena arena(4096);
  char* small = static_cast<char*>(arena.Allocate(16, 8));
  // Larger than kMaxBlockBytes, and a whole number of huge pages less a little
  // (so that rounding a huge block up leaves less room than the small block).
  constexpr size_t kBig = (size_t{10} << 20) - 100;
  static_assert(kBig > Arena::kMaxBlockBytes);
  char* big = static_cast<char*>(arena.Allocate(kBig, 16));
  std::memset(big, 1, kBig);
  // The small block keeps serving: the next small allocation follows the first.
  char* next = static_cast<char*>(arena.Allocate(16, 8));
  EXPECT_EQ(next, small + 16);
  EXPECT_GE(arena.bytes_reserved(), kBig);
}

TEST(Arena, BlocksOfHugePageSizeAreWholeAndWritable) {
  Arena arena(4096);
  constexpr size_t kBytes = (size_t{5} << 20) + 123;
  char* p = static_cast<char*>(arena.Allocate(kBytes, 64));
  std::memset(p, 0xa5, kBytes);
  EXPECT_EQ(p[0], static_cast<char>(0xa5));
  EXPECT_EQ(p[kBytes - 1], static_cast<char>(0xa5));
  EXPECT_GE(arena.bytes_reserved(), kBytes);
#if defined(__linux__)
  EXPECT_EQ(arena.bytes_reserved() % (size_t{2} << 20), 0u) << "huge blocks are whole 2 MiB pages";
#endif
  // The rest of the big block serves later requests.
  const size_t before = arena.bytes_reserved();
  for (int i = 0; i < 1000; ++i) arena.Allocate(100, 8);
  EXPECT_EQ(arena.bytes_reserved(), before);
}

TEST(Arena, HugeBlocksOfDestroyedArenasAreKeptForTheNextUpToTheLimit) {
#if defined(__linux__)
  Arena::SetKeptBlockBytesLimit(0);  // start from none kept
  EXPECT_EQ(Arena::kept_block_bytes(), 0u);
  Arena::SetKeptBlockBytesLimit(size_t{16} << 20);
  char* first;
  {
    Arena a(4096);
    first = static_cast<char*>(a.Allocate(size_t{3} << 20, 64));
    std::memset(first, 1, size_t{3} << 20);
  }
  EXPECT_EQ(Arena::kept_block_bytes(), size_t{4} << 20) << "3 MiB and the header round up to 4 MiB";
  {
    Arena b(4096);
    char* again = static_cast<char*>(b.Allocate(size_t{3} << 20, 64));
    EXPECT_EQ(again, first) << "the kept block is reused";
    EXPECT_EQ(Arena::kept_block_bytes(), 0u);
    std::memset(again, 2, size_t{3} << 20);  // reused memory is writable as any
    // A request larger than any kept block gets a fresh one.
    char* big = static_cast<char*>(b.Allocate(size_t{10} << 20, 64));
    std::memset(big, 3, size_t{10} << 20);
  }
  // Both blocks (4 + 12 MiB) fit the 16 MiB limit; a third does not.
  EXPECT_EQ(Arena::kept_block_bytes(), size_t{16} << 20);
  { Arena c(size_t{2} << 20); c.Allocate(size_t{5} << 20, 8); c.Allocate(size_t{5} << 20, 8); }
  EXPECT_LE(Arena::kept_block_bytes(), size_t{16} << 20);
  Arena::SetKeptBlockBytesLimit(0);
  EXPECT_EQ(Arena::kept_block_bytes(), 0u);
  { Arena d(4096); d.Allocate(size_t{3} << 20, 8); }
  EXPECT_EQ(Arena::kept_block_bytes(), 0u) << "limit 0 keeps nothing";
  Arena::SetKeptBlockBytesLimit(size_t{256} << 20);
#else
  { Arena a(4096); a.Allocate(size_t{3} << 20, 64); }
  EXPECT_EQ(Arena::kept_block_bytes(), 0u);
#endif
}

TEST(Arena, OnlyTheLastAllocationExtendsInPlace) {
  Arena arena(4096);
  void* a = arena.Allocate(64, 8);
  void* b = arena.Allocate(64, 8);
  EXPECT_FALSE(arena.TryExtend(a, 64, 128));
  EXPECT_TRUE(arena.TryExtend(b, 64, 128));
  EXPECT_FALSE(arena.TryExtend(b, 64, 128)) << "b is now 128 bytes long";
  EXPECT_FALSE(arena.TryExtend(b, 128, 1 << 20)) << "no room in the block";
  void* c = arena.Allocate(8, 8);
  EXPECT_EQ(static_cast<char*>(c), static_cast<char*>(b) + 128);
}

TEST(Arena, ChildrenAllocateOnOtherThreadsAndLiveAsLongAsTheParent) {
  std::vector<char*> theirs;
  std::vector<Arena*> children;
  {
    auto parent = std::make_unique<Arena>(256);
    char* mine = static_cast<char*>(parent->Allocate(100, 8));
    std::memset(mine, 'k', 100);
    for (int t = 0; t < 3; ++t) children.push_back(parent->NewChild(256));
    theirs.resize(3 * 50);
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          char* p = static_cast<char*>(children[t]->Allocate(200, 8));
          std::memset(p, 'a' + (t * 50 + i) % 26, 200);
          theirs[t * 50 + i] = p;
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int i = 0; i < 150; ++i) EXPECT_EQ(theirs[i][199], 'a' + i % 26) << i;
    EXPECT_GE(parent->bytes_reserved(), 100u + 150u * 200u) << "children's blocks count for the parent";
    for (Arena* c : children) EXPECT_TRUE(parent->Owns(c));
    Arena* grandchild = children[0]->NewChild();
    EXPECT_TRUE(parent->Owns(grandchild));
    EXPECT_FALSE(children[1]->Owns(grandchild));
    // A child is an arena like any other: later allocations still work.
    std::memset(children[2]->Allocate(300, 8), 0, 300);
    std::memset(grandchild->Allocate(5000, 8), 0, 5000);
    EXPECT_EQ(mine[99], 'k');
  }  // the parent frees its children (AddressSanitizer and LeakSanitizer check)
}

TEST(ArenaScope, NestsAndIsPerThread) {
  EXPECT_EQ(Arena::Current(), nullptr);
  Arena a, b;
  {
    ArenaScope outer(&a);
    EXPECT_EQ(Arena::Current(), &a);
    {
      ArenaScope inner(&b);
      EXPECT_EQ(Arena::Current(), &b);
      Arena* seen = &a;
      std::thread([&] { seen = Arena::Current(); }).join();
      EXPECT_EQ(seen, nullptr) << "another thread has no current arena";
    }
    EXPECT_EQ(Arena::Current(), &a);
  }
  EXPECT_EQ(Arena::Current(), nullptr);
}

TEST(ArenaVector, TakesStorageFromTheArenaCurrentAtItsFirstAllocation) {
  static_assert(sizeof(ArenaVector<std::string>) == 16);
  Arena arena;
  ArenaVector<std::string> outside{Long(0)};
  EXPECT_EQ(outside.arena(), nullptr);
  ArenaVector<std::string> made_outside_filled_inside;
  {
    ArenaScope scope(&arena);
    ArenaVector<std::string> inside;
    EXPECT_EQ(inside.arena(), nullptr) << "owns nothing yet";
    for (int i = 0; i < 100; ++i) inside.push_back(Long(i));
    EXPECT_EQ(inside.arena(), &arena);
    EXPECT_GT(arena.bytes_reserved(), 0u);
    EXPECT_EQ(inside[99], Long(99));
    made_outside_filled_inside.push_back(Long(1));
    // A heap list stays on the heap when it grows inside a scope.
    for (int i = 0; i < 100; ++i) outside.push_back(Long(i));
    EXPECT_EQ(outside.arena(), nullptr);
  }
  EXPECT_EQ(made_outside_filled_inside.arena(), &arena);
  // Growth after the scope ends stays in the arena the storage came from.
  for (int i = 0; i < 100; ++i) made_outside_filled_inside.push_back(Long(i));
  EXPECT_EQ(made_outside_filled_inside.arena(), &arena);
  EXPECT_EQ(made_outside_filled_inside[100], Long(99));
  ArenaVector<std::string> heap;
  heap.reserve(0);  // allocates nothing: still no arena, and later growth is on the heap
  EXPECT_EQ(heap.arena(), nullptr);
  heap.push_back(Long(3));
  EXPECT_EQ(heap[0], Long(3));
}

TEST(ArenaVector, CopiesOutsideAScopeAreOnTheHeapAndIndependent) {
  Arena arena;
  ArenaVector<std::string> copy;
  {
    ArenaVector<std::string>* in_arena;
    ArenaScope scope(&arena);
    in_arena = new ArenaVector<std::string>{Long(1), Long(2), Long(3)};
    {
      ArenaScope heap(nullptr);
      copy = *in_arena;
    }
    delete in_arena;
  }
  EXPECT_EQ(copy.arena(), nullptr);
  ASSERT_EQ(copy.size(), 3u);
  EXPECT_EQ(copy[2], Long(3));
}

TEST(ArenaVector, MovesStealStorage) {
  Arena arena;
  ArenaScope scope(&arena);
  ArenaVector<std::string> a{Long(1), Long(2)};
  const std::string* storage = a.data();
  ArenaVector<std::string> b(std::move(a));
  EXPECT_EQ(b.data(), storage);
  EXPECT_TRUE(a.empty());  // NOLINT: moved-from is empty by contract
  ArenaVector<std::string> c;
  c = std::move(b);
  EXPECT_EQ(c.data(), storage);
  EXPECT_EQ(c.arena(), &arena);
}

TEST(ArenaVector, PushingAnElementOfItselfWhileGrowing) {
  for (Arena* arena : {static_cast<Arena*>(nullptr), new Arena(256)}) {
    {
      ArenaScope scope(arena);
      ArenaVector<std::string> v{Long(0)};
      for (int i = 0; i < 40; ++i) v.push_back(v[0]);
      v.insert(v.begin(), v.back());
      v.resize(200, v[1]);
      for (const std::string& s : v) ASSERT_EQ(s, Long(0));
    }
    delete arena;
  }
}

TEST(ArenaVector, BehavesLikeStdVectorUnderRandomEdits) {
  // The same random edits on an ArenaVector (heap and arena) and a std::vector
  // leave equal contents.
  for (bool use_arena : {false, true}) {
    Arena arena(256);
    ArenaScope scope(use_arena ? &arena : nullptr);
    ArenaVector<std::string> v;
    std::vector<std::string> ref;
    std::mt19937 rng(use_arena ? 11 : 12);
    for (int step = 0; step < 3000; ++step) {
      const int what = static_cast<int>(rng() % 9);
      const size_t at = ref.empty() ? 0 : rng() % (ref.size() + 1);
      switch (what) {
        case 0: case 1: v.push_back(Long(step)); ref.push_back(Long(step)); break;
        case 2: v.emplace_back(Long(step)); ref.emplace_back(Long(step)); break;
        case 3: v.insert(v.begin() + at, Long(step)); ref.insert(ref.begin() + at, Long(step)); break;
        case 4:
          if (at < ref.size()) { v.erase(v.begin() + at); ref.erase(ref.begin() + at); }
          break;
        case 5: {
          const size_t n = rng() % (ref.size() + 8);
          v.resize(n); ref.resize(n);
          break;
        }
        case 6:
          if (!ref.empty()) { v.pop_back(); ref.pop_back(); }
          break;
        case 7: {
          const std::vector<std::string> more{Long(-step), Long(step * 7)};
          v.insert(v.begin() + at, more.begin(), more.end());
          ref.insert(ref.begin() + at, more.begin(), more.end());
          break;
        }
        case 8:
          if (step % 500 == 0) { v.clear(); ref.clear(); }
          if (at < ref.size()) { v.erase(v.begin() + at, v.end()); ref.erase(ref.begin() + at, ref.end()); }
          break;
      }
      ASSERT_TRUE(v == ref) << "after step " << step << " (edit " << what << ")";
    }
    ArenaVector<std::string> assigned;
    assigned.assign(ref.begin(), ref.end());
    EXPECT_TRUE(assigned == v);
    EXPECT_EQ(std::vector<std::string>(v.rbegin(), v.rend()), std::vector<std::string>(ref.rbegin(), ref.rend()));
  }
}

TEST(ArenaVector, AppendUnconstructedLeavesSlotsForThreadsToConstruct) {
  Arena arena;
  ArenaScope scope(&arena);
  ArenaVector<ArenaVector<std::string>> lists;
  lists.emplace_back().push_back("first");
  auto* slots = lists.append_unconstructed(1000);
  ASSERT_EQ(lists.size(), 1001u);
  EXPECT_EQ(slots, lists.data() + 1);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([slots, t] {
      for (size_t i = t * 250; i < (t + 1) * 250; ++i) {
        auto* list = new (&slots[i]) ArenaVector<std::string>();
        for (size_t k = 0; k < i % 5; ++k) list->push_back("element " + std::to_string(i));  // heap: no scope here
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(lists[0][0], "first");
  for (size_t i = 0; i < 1000; ++i) {
    ASSERT_EQ(lists[1 + i].size(), i % 5) << i;
    if (i % 5 != 0) EXPECT_EQ(lists[1 + i].back(), "element " + std::to_string(i));
  }
  lists.push_back(lists[3]);  // grows and copies like any list (destroyed normally: LeakSanitizer checks)
  EXPECT_EQ(lists.back().size(), 2u);
}

TEST(ArenaVector, AtChecksBounds) {
  ArenaVector<int> v{1, 2, 3};
  EXPECT_EQ(v.at(2), 3);
  EXPECT_THROW(v.at(3), std::out_of_range);
}

TEST(Boxed, IsAnOptionalBehindAPointer) {
  Boxed<std::string> empty;
  EXPECT_FALSE(empty.has_value());
  EXPECT_FALSE(empty);
  Boxed<std::string> none = std::nullopt;
  EXPECT_FALSE(none);

  Boxed<std::string> a;
  a.emplace(Long(1));
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, Long(1));
  EXPECT_EQ(a->size(), Long(1).size());

  Boxed<std::string> copy = a;  // deep
  *copy += "!";
  EXPECT_EQ(*a, Long(1));
  EXPECT_EQ(*copy, Long(1) + "!");

  Boxed<std::string> moved = std::move(copy);
  EXPECT_EQ(*moved, Long(1) + "!");

  a = Long(2);
  EXPECT_EQ(*a, Long(2));
  a.reset();
  EXPECT_FALSE(a);
  EXPECT_LT(sizeof(Boxed<std::array<char, 200>>), sizeof(std::optional<std::array<char, 200>>));
}

}  // namespace
}  // namespace anepilot
