#include "stack/base/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace stack::detail {
void assert_fail(const char* expr, const char* file, int line) noexcept {
    std::fprintf(stderr, "tunstack: assertion failed: %s at %s:%d\n", expr, file, line);
    std::abort();
}
}  // namespace stack::detail
