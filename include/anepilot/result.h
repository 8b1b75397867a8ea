// Result<T>: a value or a non-OK Status. The project's std::expected (which
// C++20 lacks). Accessing value() of an error Result is a bug and aborts.
#pragma once

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "anepilot/status.h"

namespace anepilot {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) std::abort();    // an OK Status carries no value
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  T& value() & { Check(); return std::get<T>(v_); }
  const T& value() const& { Check(); return std::get<T>(v_); }
  T&& value() && { Check(); return std::get<T>(std::move(v_)); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void Check() const { if (!ok()) std::abort(); }
  std::variant<T, Status> v_;
};

}  // namespace anepilot

#define ANEPILOT_CONCAT_INNER(a, b) a##b
#define ANEPILOT_CONCAT(a, b) ANEPILOT_CONCAT_INNER(a, b)

// ANEPILOT_ASSIGN_OR_RETURN(auto x, Foo());  returns Foo()'s Status on error.
#define ANEPILOT_ASSIGN_OR_RETURN(lhs, expr) \
  ANEPILOT_ASSIGN_OR_RETURN_IMPL(ANEPILOT_CONCAT(_anepilot_r_, __LINE__), lhs, expr)
#define ANEPILOT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
