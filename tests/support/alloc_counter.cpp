#include "tests/support/alloc_counter.hpp"

#include <cstdlib>
#include <new>

namespace {
// Thread-local: other threads (there are none in these tests, but gtest may grow some) never count.
thread_local bool g_counting = false;          // NOLINT(*-avoid-non-const-global-variables)
thread_local std::uint64_t g_allocations = 0;  // NOLINT(*-avoid-non-const-global-variables)

void* counted_alloc(std::size_t n) {
    if (g_counting) ++g_allocations;
    if (n == 0) n = 1;
    void* p = std::malloc(n);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    if (g_counting) ++g_allocations;
    return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    if (g_counting) ++g_allocations;
    return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace tunstack_test {

AllocationCounter::AllocationCounter() {
    g_allocations = 0;
    g_counting = true;
}
AllocationCounter::~AllocationCounter() { g_counting = false; }
std::uint64_t AllocationCounter::stop() {
    g_counting = false;
    return g_allocations;
}

}  // namespace tunstack_test
