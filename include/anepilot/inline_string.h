// A string that keeps up to 30 bytes inside the object and only longer ones
// on the heap: the IR's type for the names a model is made of (op types, op
// and value names, parameter names, attribute keys).
//
// Why not std::string: libstdc++ keeps at most 15 bytes inline, and about
// half of the names in real ML Programs are longer (coremltools names values
// "input_17_cast_fp16", "encoder_0_1_block_2_weight_to_fp16"; 19 bytes on
// average in faceapp-problem1, 4% over 30). Reading such a program made one
// heap allocation per name, several per op. InlineString is the same size as
// std::string (32 bytes) and copies a short name with one memcpy.
//
// Contract: value semantics like std::string; always NUL-terminated, so
// c_str() is valid; converts implicitly to std::string_view (so it compares,
// hashes and formats as one) and explicitly to std::string.
// Not thread-safe for mutation; concurrent readers are fine.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace anepilot {

class InlineString {
 public:
  static constexpr size_t kInlineCapacity = 30;

  InlineString() noexcept { SetInlineSize(0); }
  InlineString(std::string_view s) { Init(s.data(), s.size()); }       // NOLINT: implicit by design
  InlineString(const char* s) { Init(s, std::strlen(s)); }             // NOLINT
  InlineString(const std::string& s) { Init(s.data(), s.size()); }     // NOLINT
  InlineString(const InlineString& o) { Init(o.data(), o.size()); }
  InlineString(InlineString&& o) noexcept {
    std::memcpy(raw_, o.raw_, sizeof raw_);
    o.SetInlineSize(0);
  }
  ~InlineString() {
    if (on_heap()) delete[] heap_.ptr;
  }

  InlineString& operator=(const InlineString& o) {
    if (this != &o) assign(o.data(), o.size());
    return *this;
  }
  InlineString& operator=(InlineString&& o) noexcept {
    if (this != &o) {
      if (on_heap()) delete[] heap_.ptr;
      std::memcpy(raw_, o.raw_, sizeof raw_);
      o.SetInlineSize(0);
    }
    return *this;
  }
  InlineString& operator=(std::string_view s) { return assign(s.data(), s.size()); }
  InlineString& operator=(const char* s) { return assign(s, std::strlen(s)); }
  InlineString& operator=(const std::string& s) { return assign(s.data(), s.size()); }

  InlineString& assign(std::string_view s) { return assign(s.data(), s.size()); }
  InlineString& assign(const char* s, size_t n);

  const char* data() const { return on_heap() ? heap_.ptr : raw_; }
  const char* c_str() const { return data(); }
  size_t size() const { return on_heap() ? heap_.size : kInlineCapacity - static_cast<uint8_t>(raw_[kTag]); }
  size_t length() const { return size(); }
  bool empty() const { return size() == 0; }
  const char* begin() const { return data(); }
  const char* end() const { return data() + size(); }
  char operator[](size_t i) const { return data()[i]; }
  void clear() { assign("", 0); }

  std::string_view view() const { return {data(), size()}; }
  operator std::string_view() const { return view(); }  // NOLINT: implicit by design
  std::string str() const { return std::string(view()); }
  explicit operator std::string() const { return str(); }

  bool starts_with(std::string_view p) const { return view().starts_with(p); }
  bool ends_with(std::string_view p) const { return view().ends_with(p); }
  size_t find(std::string_view p, size_t pos = 0) const { return view().find(p, pos); }
  size_t find(const char* p, size_t pos = 0) const { return view().find(p, pos); }
  size_t find(char c, size_t pos = 0) const { return view().find(c, pos); }
  size_t rfind(std::string_view p, size_t pos = std::string_view::npos) const { return view().rfind(p, pos); }
  size_t rfind(const char* p, size_t pos = std::string_view::npos) const { return view().rfind(p, pos); }
  size_t rfind(char c, size_t pos = std::string_view::npos) const { return view().rfind(c, pos); }
  std::string_view substr(size_t pos, size_t n = std::string_view::npos) const { return view().substr(pos, n); }
  int compare(std::string_view o) const { return view().compare(o); }
  int compare(size_t pos, size_t n, std::string_view o) const { return view().compare(pos, n, o); }

  friend bool operator==(const InlineString& a, const InlineString& b) { return a.view() == b.view(); }
  friend bool operator==(const InlineString& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const InlineString& a, const char* b) { return a.view() == std::string_view(b); }
  friend bool operator==(const InlineString& a, const std::string& b) { return a.view() == std::string_view(b); }
  friend std::strong_ordering operator<=>(const InlineString& a, const InlineString& b) {
    return a.view() <=> b.view();
  }
  friend std::strong_ordering operator<=>(const InlineString& a, std::string_view b) { return a.view() <=> b; }
  friend std::strong_ordering operator<=>(const InlineString& a, const char* b) {
    return a.view() <=> std::string_view(b);
  }
  friend std::strong_ordering operator<=>(const InlineString& a, const std::string& b) {
    return a.view() <=> std::string_view(b);
  }
  friend std::string operator+(const InlineString& a, std::string_view b) {
    std::string s(a.view());
    s.append(b);
    return s;
  }
  friend std::string operator+(std::string_view a, const InlineString& b) {
    std::string s(a);
    s.append(b.view());
    return s;
  }
  friend std::string operator+(const std::string& a, const InlineString& b) { return a + std::string(b.view()); }
  friend std::string operator+(const char* a, const InlineString& b) { return std::string(a) + std::string(b.view()); }
  friend std::ostream& operator<<(std::ostream& os, const InlineString& s) { return os << s.view(); }

 private:
  static constexpr size_t kTag = sizeof(void*) * 4 - 1;  // last byte: inline spare capacity, or kHeapTag
  static constexpr uint8_t kHeapTag = 0xff;
  struct Heap {
    char* ptr;
    size_t size;
  };

  bool on_heap() const { return static_cast<uint8_t>(raw_[kTag]) == kHeapTag; }
  void SetInlineSize(size_t n) {
    raw_[n] = '\0';
    raw_[kTag] = static_cast<char>(kInlineCapacity - n);
  }
  void Init(const char* s, size_t n);

  union {
    char raw_[32];
    Heap heap_;
  };
};

static_assert(sizeof(InlineString) == 32);

inline void InlineString::Init(const char* s, size_t n) {
  if (n <= kInlineCapacity) {
    if (n != 0) std::memcpy(raw_, s, n);
    SetInlineSize(n);
    return;
  }
  char* p = new char[n + 1];
  std::memcpy(p, s, n);
  p[n] = '\0';
  heap_ = Heap{p, n};
  raw_[kTag] = static_cast<char>(kHeapTag);
}

inline InlineString& InlineString::assign(const char* s, size_t n) {
  if (on_heap()) {
    // The source may alias our own buffer (assign(substr of self)): copy first.
    char* old = heap_.ptr;
    Init(s, n);
    delete[] old;
    return *this;
  }
  if (n <= kInlineCapacity) {
    if (n != 0) std::memmove(raw_, s, n);  // an empty view may carry a null pointer
    SetInlineSize(n);
    return *this;
  }
  Init(s, n);  // an inline source of this length cannot be ourselves
  return *this;
}

}  // namespace anepilot

template <>
struct std::hash<anepilot::InlineString> {
  size_t operator()(const anepilot::InlineString& s) const noexcept { return std::hash<std::string_view>{}(s.view()); }
};

#if __has_include(<fmt/format.h>)
#include <fmt/format.h>
// Formats as the text it holds, with string_view's format specs.
template <>
struct fmt::formatter<anepilot::InlineString> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const anepilot::InlineString& s, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(s.view(), ctx);
  }
};
#endif
