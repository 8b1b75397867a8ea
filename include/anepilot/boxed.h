// An optional value kept behind a pointer: like std::optional<T> (has_value,
// emplace, *, ->, assignment from T, deep copies) but the size of one pointer
// when empty. For rare, large members: ir::Binding's constant is absent in
// almost every binding of an ML Program, and std::optional<ir::Constant> made
// every binding (a name, mostly) 224 bytes instead of 40.
// Not thread-safe for mutation; concurrent readers are fine.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace anepilot {

template <typename T>
class Boxed {
 public:
  Boxed() noexcept = default;
  Boxed(std::nullopt_t) noexcept {}                                     // NOLINT: like optional
  Boxed(const T& value) : p_(std::make_unique<T>(value)) {}             // NOLINT: like optional
  Boxed(T&& value) : p_(std::make_unique<T>(std::move(value))) {}       // NOLINT
  Boxed(const Boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(const T& value) { return *this = Boxed(value); }
  Boxed& operator=(T&& value) { return *this = Boxed(std::move(value)); }

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }

  template <typename... Args>
  T& emplace(Args&&... args) {
    p_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *p_;
  }
  void reset() { p_.reset(); }

 private:
  std::unique_ptr<T> p_;
};

}  // namespace anepilot
