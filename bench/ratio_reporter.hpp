// A console reporter that also remembers each benchmark's CPU time per iteration, so a custom main can
// print ratios between benchmarks measured in the same run (a comparison is only honest against a
// reference measured in the same process, on the same machine, at the same time). CPU time, not wall
// time: on a shared, loaded machine wall time includes time spent descheduled.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace bench {

class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& r : runs) {
            if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
            // Normalise to nanoseconds whatever the benchmark's display unit.
            cpu_ns_[r.benchmark_name()] =
                r.GetAdjustedCPUTime() * 1e9 / benchmark::GetTimeUnitMultiplier(r.time_unit);
        }
    }

    // Prints "ratio <num> / <den> = x" (CPU time of num divided by CPU time of den); silent if either
    // is missing (e.g. filtered out).
    void print_ratio(const std::string& num, const std::string& den, const char* meaning) const {
        auto a = cpu_ns_.find(num), b = cpu_ns_.find(den);
        if (a == cpu_ns_.end() || b == cpu_ns_.end() || b->second <= 0) return;
        std::printf("ratio %-34s / %-34s = %8.3f  (%s)\n", num.c_str(), den.c_str(),
                    a->second / b->second, meaning);
    }

private:
    std::map<std::string, double> cpu_ns_;
};

}  // namespace bench
