// A string the size of one pointer, for text that is usually absent: an
// ir::Dim's symbol (almost every dimension is a number, and an InlineString
// made every Dim 40 bytes instead of 16). Empty is a null pointer; otherwise
// one heap allocation holds the size and the characters. Value semantics:
// copies are deep. Not thread-safe for mutation; concurrent readers are fine.
#pragma once

#include <cstdint>
#include <cstring>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace anepilot {

class BoxedString {
 public:
  BoxedString() noexcept = default;
  BoxedString(std::string_view s) { Init(s); }                    // NOLINT: implicit like std::string
  BoxedString(const char* s) : BoxedString(std::string_view(s)) {}  // NOLINT
  BoxedString(const std::string& s) : BoxedString(std::string_view(s)) {}  // NOLINT
  BoxedString(const BoxedString& o) { Init(o.view()); }
  BoxedString(BoxedString&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  ~BoxedString() { delete[] p_; }
  BoxedString& operator=(const BoxedString& o) {
    if (this != &o) *this = BoxedString(o);
    return *this;
  }
  BoxedString& operator=(BoxedString&& o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }

  bool empty() const { return p_ == nullptr; }
  size_t size() const {
    if (p_ == nullptr) return 0;
    uint32_t n;
    std::memcpy(&n, p_, sizeof n);
    return n;
  }
  const char* data() const { return p_ != nullptr ? p_ + sizeof(uint32_t) : ""; }
  std::string_view view() const { return {data(), size()}; }
  operator std::string_view() const { return view(); }  // NOLINT: implicit by design
  std::string str() const { return std::string(view()); }

  friend bool operator==(const BoxedString& a, const BoxedString& b) { return a.view() == b.view(); }
  friend bool operator==(const BoxedString& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const BoxedString& a, const char* b) { return a.view() == std::string_view(b); }
  friend std::ostream& operator<<(std::ostream& os, const BoxedString& s) { return os << s.view(); }

 private:
  // [uint32 size][characters][NUL]; nothing at all for the empty string.
  void Init(std::string_view s) {
    if (s.empty()) return;
    if (s.size() > UINT32_MAX - sizeof(uint32_t) - 1) throw std::length_error("BoxedString: longer than 4 GiB");
    const auto n = static_cast<uint32_t>(s.size());
    p_ = new char[sizeof n + n + 1];
    std::memcpy(p_, &n, sizeof n);
    std::memcpy(p_ + sizeof n, s.data(), n);
    p_[sizeof n + n] = '\0';
  }

  char* p_ = nullptr;
};

}  // namespace anepilot
