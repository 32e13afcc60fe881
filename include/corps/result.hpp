// Result<T>: a value or the corps::Error that prevented it.
//
// Per-record outcomes (decode, delivery, commit) are returned as values so a
// consumer loop can handle a bad record and keep going; nothing is thrown for
// them. Status is Result<void>.
#pragma once

#include <utility>
#include <variant>

#include "corps/error.hpp"

namespace corps {

/// Either a T or the Error that prevented it. Accessing the wrong side throws
/// corps::Exception carrying the error, so a forgotten check fails loudly.
template <class T>
class [[nodiscard]] Result {
 public:
  /// A success holding `value`.
  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  /// A failure holding `error`.
  Result(Error error)
      : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  /// True on success.
  [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value; throws the error if there is none.
  [[nodiscard]] T& value() & { return checked(); }
  [[nodiscard]] const T& value() const& { return const_cast<Result*>(this)->checked(); }
  [[nodiscard]] T&& value() && { return std::move(checked()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; only valid when !ok().
  [[nodiscard]] const Error& error() const { return std::get<1>(state_); }

 private:
  T& checked() {
    if (state_.index() != 0) throw Exception(std::get<1>(state_));
    return std::get<0>(state_);
  }
  std::variant<T, Error> state_;
};

/// Success, or the Error that prevented it.
class [[nodiscard]] Status {
 public:
  /// A success.
  Status() = default;
  /// A failure holding `error`.
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  /// True on success.
  [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  /// The error; only valid when !ok().
  [[nodiscard]] const Error& error() const { return *error_; }
  /// Throws the error, if any.
  void throw_if_error() const {
    if (error_) throw Exception(*error_);
  }

 private:
  std::optional<Error> error_;
};

}  // namespace corps
