// function_ref: a non-owning, non-allocating reference to a callable, for callbacks on the fast path
// (std::function may allocate). The referenced callable must outlive the function_ref.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace stack {

template <typename Sig>
class function_ref;

template <typename R, typename... Args>
class function_ref<R(Args...)> {
public:
    template <typename F,
              typename = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, function_ref> &&
                                          std::is_invocable_r_v<R, F&, Args...>>>
    function_ref(F&& f) noexcept  // NOLINT: implicit by design
        : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* obj, Args... args) -> R {
              return (*static_cast<std::remove_reference_t<F>*>(obj))(std::forward<Args>(args)...);
          }) {}

    R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

private:
    void* obj_;
    R (*call_)(void*, Args...);
};

}  // namespace stack
