// Counting heap allocations in the unit tests (DESIGN.md §3.7: the fast path allocates nothing).
//
// alloc_counter.cpp replaces the global operator new/delete for the whole unit_tests binary. The
// replacements forward to malloc/free (behaviour is unchanged everywhere) and only count while an
// AllocationCounter is alive on the calling thread. Allocations made by C code (malloc/calloc, e.g.
// inside mbedTLS) are not seen.
#pragma once

#include <cstdint>

namespace tunstack_test {

class AllocationCounter {
public:
    AllocationCounter();
    ~AllocationCounter();
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;

    // Stops counting and returns the number of operator new calls since construction.
    std::uint64_t stop();
};

}  // namespace tunstack_test
