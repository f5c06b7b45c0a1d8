#include "tests/support/alloc_counter.hpp"

#include <cstdlib>
#include <new>

namespace {
// Thread-local: another thread's allocations never show in this thread's counts.
thread_local std::uint64_t g_allocations = 0;  // NOLINT(*-avoid-non-const-global-variables)

void* counted_alloc(std::size_t n) {
    ++g_allocations;
    if (n == 0) n = 1;
    void* p = std::malloc(n);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    ++g_allocations;
    return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    ++g_allocations;
    return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace tunstack_test {

std::uint64_t allocation_count() { return g_allocations; }

AllocationCounter::AllocationCounter() : start_(g_allocations) {}
std::uint64_t AllocationCounter::stop() const { return g_allocations - start_; }

}  // namespace tunstack_test
