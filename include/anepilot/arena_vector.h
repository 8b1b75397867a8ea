// The IR's list type: a std::vector-like sequence whose storage comes from the
// Arena current when it first allocates (see arena.h), else from the heap.
// Readers build whole programs inside an ArenaScope, so a program's thousands
// of small lists cost pointer bumps instead of malloc/free pairs. Later growth
// stays with wherever the first storage came from: each allocation starts with
// a header naming its arena (nullptr: heap), so the object itself is 16 bytes
// (an IR op holds five lists).
//
// Contract:
//  - Value semantics like std::vector: copies are deep and independent. A copy
//    takes its storage from the copying thread's current arena (normally none:
//    the heap), so copying a part out of a Program is always safe.
//  - A move steals the storage, arena and all. Arena storage lives as long as
//    the arena: moving a list out of a Program (ir::Program::storage) and
//    destroying the Program leaves it dangling. Copy instead.
//  - Iterators are plain pointers; growth invalidates them as in std::vector.
//  - An empty list owns nothing and belongs to no arena: a list made empty
//    outside a scope and first filled inside one takes that scope's arena.
//  - At most 2^32 - 1 elements (32-bit size and capacity keep the object at
//    16 bytes).
// Not thread-safe for mutation; concurrent readers are fine.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "anepilot/arena.h"

namespace anepilot {

template <typename T>
class ArenaVector {
 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  ArenaVector() noexcept = default;
  explicit ArenaVector(size_t n) : ArenaVector() { resize(n); }
  ArenaVector(size_t n, const T& value) : ArenaVector() { resize(n, value); }
  ArenaVector(std::initializer_list<T> values) : ArenaVector() { assign(values.begin(), values.end()); }
  template <std::input_iterator It>
  ArenaVector(It first, It last) : ArenaVector() { assign(first, last); }
  ArenaVector(const ArenaVector& o) : ArenaVector() { assign(o.begin(), o.end()); }
  ArenaVector(ArenaVector&& o) noexcept : data_(o.data_), size_(o.size_), capacity_(o.capacity_) {
    o.data_ = nullptr;
    o.size_ = o.capacity_ = 0;
  }
  ~ArenaVector() {
    std::destroy_n(data_, size_);
    Release();
  }

  ArenaVector& operator=(const ArenaVector& o) {
    if (this != &o) assign(o.begin(), o.end());
    return *this;
  }
  ArenaVector& operator=(ArenaVector&& o) noexcept {
    if (this != &o) {
      std::destroy_n(data_, size_);
      Release();
      data_ = o.data_;
      size_ = o.size_;
      capacity_ = o.capacity_;
      o.data_ = nullptr;
      o.size_ = o.capacity_ = 0;
    }
    return *this;
  }
  ArenaVector& operator=(std::initializer_list<T> values) {
    assign(values.begin(), values.end());
    return *this;
  }

  // ------------------------------------------------------------ access ----
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& at(size_t i) { return i < size_ ? data_[i] : OutOfRange(); }
  const T& at(size_t i) const { return i < size_ ? data_[i] : OutOfRange(); }
  T& front() { return data_[0]; }
  const T& front() const { return data_[0]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }

  iterator begin() { return data_; }
  iterator end() { return data_ + size_; }
  const_iterator begin() const { return data_; }
  const_iterator end() const { return data_ + size_; }
  const_iterator cbegin() const { return data_; }
  const_iterator cend() const { return data_ + size_; }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

  // ---------------------------------------------------------- mutation ----
  void reserve(size_t n) {
    if (n > capacity_) Reallocate(n);
  }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) {
      // The argument may live in our own storage: construct before moving.
      T value(std::forward<Args>(args)...);
      Grow(size_ + 1);
      return *::new (static_cast<void*>(data_ + size_++)) T(std::move(value));
    }
    return *::new (static_cast<void*>(data_ + size_++)) T(std::forward<Args>(args)...);
  }
  void push_back(const T& value) { emplace_back(value); }
  void push_back(T&& value) { emplace_back(std::move(value)); }
  void pop_back() { std::destroy_at(data_ + --size_); }
  void clear() {
    std::destroy_n(data_, size_);
    size_ = 0;
  }
  // Appends n elements left unconstructed and returns the first. The caller
  // must construct every one of them (placement new) before the list is
  // read, grown, copied or destroyed. For a list whose slices are built on
  // several threads, each constructing (and so first touching) its own.
  T* append_unconstructed(size_t n) {
    reserve(size_ + n);
    T* first = data_ + size_;
    size_ = static_cast<uint32_t>(size_ + n);
    return first;
  }

  void resize(size_t n) {
    if (n < size_) {
      std::destroy(data_ + n, data_ + size_);
    } else if (n > size_) {
      reserve(n);
      std::uninitialized_value_construct(data_ + size_, data_ + n);
    }
    size_ = static_cast<uint32_t>(n);
  }
  void resize(size_t n, const T& value) {
    if (n < size_) {
      std::destroy(data_ + n, data_ + size_);
    } else if (n > size_) {
      if (n > capacity_) {
        T copy(value);  // value may live in our storage
        Reallocate(n);
        std::uninitialized_fill(data_ + size_, data_ + n, copy);
      } else {
        std::uninitialized_fill(data_ + size_, data_ + n, value);
      }
    }
    size_ = static_cast<uint32_t>(n);
  }
  template <std::input_iterator It>
  void assign(It first, It last) {
    clear();
    if constexpr (std::forward_iterator<It>) reserve(static_cast<size_t>(std::distance(first, last)));
    for (; first != last; ++first) emplace_back(*first);
  }
  void assign(std::initializer_list<T> values) { assign(values.begin(), values.end()); }

  iterator insert(const_iterator pos, const T& value) { return emplace(pos, value); }
  iterator insert(const_iterator pos, T&& value) { return emplace(pos, std::move(value)); }
  template <typename... Args>
  iterator emplace(const_iterator pos, Args&&... args) {
    const size_t at = static_cast<size_t>(pos - data_);
    emplace_back(std::forward<Args>(args)...);
    std::rotate(data_ + at, data_ + size_ - 1, data_ + size_);
    return data_ + at;
  }
  template <std::input_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    const size_t at = static_cast<size_t>(pos - data_);
    const size_t old_size = size_;
    for (; first != last; ++first) emplace_back(*first);
    std::rotate(data_ + at, data_ + old_size, data_ + size_);
    return data_ + at;
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    T* f = data_ + (first - data_);
    T* l = data_ + (last - data_);
    if (f != l) {
      T* new_end = std::move(l, end(), f);
      std::destroy(new_end, end());
      size_ = static_cast<uint32_t>(new_end - data_);
    }
    return f;
  }
  void swap(ArenaVector& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
  }

  // The arena the storage comes from; nullptr for heap storage and for a list
  // that owns no storage yet.
  Arena* arena() const { return data_ != nullptr ? StorageHeader()->arena : nullptr; }

  friend bool operator==(const ArenaVector& a, const ArenaVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const ArenaVector& a, const std::vector<T>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  [[noreturn]] static T& OutOfRange() { throw std::out_of_range("ArenaVector::at"); }

  void Grow(size_t min_capacity) { Reallocate(std::max<size_t>(min_capacity, size_t{capacity_} * 2)); }

  // Storage layout: [Header, padded to alignof(T)][elements...]; data_ points
  // at the first element.
  struct Header {
    Arena* arena;
  };
  // A function, not a constant: T may be incomplete where the class is
  // instantiated (ValueType holds a list of ValueType).
  static constexpr size_t HeaderBytes() {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "heap storage must align T");
    static_assert(alignof(T) <= 64, "arena storage aligns to at most 64");
    return std::max(sizeof(Header), alignof(T));
  }
  Header* StorageHeader() const { return reinterpret_cast<Header*>(reinterpret_cast<char*>(data_) - HeaderBytes()); }

  void Reallocate(size_t n) {
    if (n > UINT32_MAX) throw std::length_error("ArenaVector: more than 2^32-1 elements");
    Arena* arena = data_ != nullptr ? StorageHeader()->arena : Arena::Current();
    if (arena != nullptr && data_ != nullptr &&
        arena->TryExtend(StorageHeader(), HeaderBytes() + capacity_ * sizeof(T), HeaderBytes() + n * sizeof(T))) {
      capacity_ = static_cast<uint32_t>(n);
      return;
    }
    const size_t bytes = HeaderBytes() + n * sizeof(T);
    char* block = static_cast<char*>(arena != nullptr ? arena->Allocate(bytes, std::max(alignof(T), alignof(Header)))
                                                      : ::operator new(bytes));
    reinterpret_cast<Header*>(block)->arena = arena;
    T* fresh = reinterpret_cast<T*>(block + HeaderBytes());
    std::uninitialized_move(data_, data_ + size_, fresh);
    std::destroy_n(data_, size_);
    Release();
    data_ = fresh;
    capacity_ = static_cast<uint32_t>(n);
  }
  void Release() {
    if (data_ != nullptr && StorageHeader()->arena == nullptr) ::operator delete(static_cast<void*>(StorageHeader()));
  }

  T* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace anepilot
