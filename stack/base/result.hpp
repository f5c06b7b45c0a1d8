// Result<T, E>: a small subset of std::expected (which clang 14 lacks).
//
// Invariant: a Result holds exactly one of a value or an error. Accessing the wrong alternative is a
// broken invariant and aborts (STACK_ASSERT), never undefined behaviour.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "stack/base/assert.hpp"

namespace stack {

// Wraps an error for return. A constructor (not an aggregate) so that Err(x) also works with clang 14,
// which lacks parenthesized aggregate initialization (P0960).
template <typename E>
struct Err {
    constexpr explicit Err(E e) : error(std::move(e)) {}
    E error;
};
template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    template <typename E2>
    Result(Err<E2> err) : v_(std::in_place_index<1>, E(std::move(err.error))) {}  // NOLINT

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        STACK_ASSERT(ok());
        return std::get<0>(v_);
    }
    const T& value() const& {
        STACK_ASSERT(ok());
        return std::get<0>(v_);
    }
    T&& value() && {
        STACK_ASSERT(ok());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const E& error() const {
        STACK_ASSERT(!ok());
        return std::get<1>(v_);
    }

    template <typename U>
    T value_or(U&& fallback) const& {
        return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, E> v_;
};

// Result<void, E>: success carries nothing.
struct Ok {};

template <typename E>
class [[nodiscard]] Result<void, E> {
public:
    Result() = default;
    Result(Ok) {}  // NOLINT
    template <typename E2>
    Result(Err<E2> err) : has_error_(true), error_(E(std::move(err.error))) {}  // NOLINT

    bool ok() const { return !has_error_; }
    explicit operator bool() const { return ok(); }
    const E& error() const {
        STACK_ASSERT(!ok());
        return error_;
    }

private:
    bool has_error_ = false;
    E error_{};
};

}  // namespace stack
