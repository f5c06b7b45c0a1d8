// A console reporter that also remembers each benchmark's CPU time per iteration, so a custom main can
// print ratios between benchmarks measured in the same run (a comparison is only honest against a
// reference measured in the same process, on the same machine, at the same time). CPU time, not wall
// time: on a shared, loaded machine wall time includes time spent descheduled.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace bench {

class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& r : runs) {
            seen_.insert(r.run_name.str());
            if (r.error_occurred) continue;
            // With --benchmark_repetitions the median aggregate stands for the benchmark (and with
            // --benchmark_report_aggregates_only it is all we get); a single run stands for itself.
            const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
            if (r.run_type == Run::RT_Iteration && r.repetitions > 1) continue;
            if (r.run_type == Run::RT_Aggregate && !median) continue;
            // Normalise to nanoseconds whatever the benchmark's display unit.
            cpu_ns_[r.run_name.str()] =
                r.GetAdjustedCPUTime() * 1e9 / benchmark::GetTimeUnitMultiplier(r.time_unit);
        }
    }

    // Prints "ratio <num> / <den> = x" (CPU time of num divided by CPU time of den); silent if either
    // did not run (e.g. filtered out). If both ran but a time is missing, says so and complete()
    // turns false: a comparison the user asked for must not vanish silently.
    void print_ratio(const std::string& num, const std::string& den, const char* meaning) {
        if (!seen_.contains(num) || !seen_.contains(den)) return;
        auto a = cpu_ns_.find(num), b = cpu_ns_.find(den);
        if (a == cpu_ns_.end() || b == cpu_ns_.end() || b->second <= 0) {
            std::printf("ratio %-34s / %-34s = unavailable (no time recorded)\n", num.c_str(),
                        den.c_str());
            complete_ = false;
            return;
        }
        std::printf("ratio %-34s / %-34s = %8.3f  (%s)\n", num.c_str(), den.c_str(),
                    a->second / b->second, meaning);
    }

    // False if some ratio could not be computed although both benchmarks ran.
    bool complete() const { return complete_; }

private:
    std::map<std::string, double> cpu_ns_;
    std::set<std::string> seen_;
    bool complete_ = true;
};

}  // namespace bench
