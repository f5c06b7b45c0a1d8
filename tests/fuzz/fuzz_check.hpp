// FUZZ_CHECK: the fuzz targets' invariant check. Unlike assert() it stays on in every build type, and
// it aborts (which libFuzzer reports as a crash with the input saved) after naming the failed check.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)
