// STACK_ASSERT: checks a broken invariant and aborts with file:line. Always on (release too): a network
// stack that continues on corrupted state is worse than one that stops. Never used for packet validation:
// malformed input is dropped and counted, not asserted.
#pragma once

namespace stack::detail {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line) noexcept;
}

#define STACK_ASSERT(cond)                                           \
    do {                                                             \
        if (!(cond)) [[unlikely]]                                    \
            ::stack::detail::assert_fail(#cond, __FILE__, __LINE__); \
    } while (0)
