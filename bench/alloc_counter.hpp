// Counts heap allocations: alloc_counter.cpp replaces the global operator new (forwarding to malloc)
// in the benchmark binaries that link it, so a benchmark can report allocations in its timed loop.
#pragma once

#include <cstddef>

namespace bench {
std::size_t allocation_count();
}
