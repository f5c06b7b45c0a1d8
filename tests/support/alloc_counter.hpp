// Counting heap allocations in the unit tests (DESIGN.md §3.7: the fast path allocates nothing).
//
// alloc_counter.cpp replaces the global operator new/delete in every binary that links it (the
// unit tests, bench_tcp, bench_tls). The replacements forward to malloc/free (behaviour is unchanged
// everywhere) and count, per thread, every operator new call. Allocations made by C code
// (malloc/calloc, e.g. inside mbedTLS) are not seen.
#pragma once

#include <cstdint>

namespace tunstack_test {

// operator new calls made by this thread so far (benchmarks take differences around their loop).
std::uint64_t allocation_count();

// Counts the operator new calls of this thread from construction to stop().
class AllocationCounter {
public:
    AllocationCounter();
    ~AllocationCounter() = default;
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;

    // The number of operator new calls since construction.
    std::uint64_t stop() const;

private:
    std::uint64_t start_;
};

}  // namespace tunstack_test
