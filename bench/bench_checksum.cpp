// The Internet checksum against memcpy of the same bytes, in the same run: checksum::compute (64-bit
// accumulation) and checksum::reference_compute (the textbook 16-bit loop) at 64, 1500 and 65536 bytes.
// Reports bytes/s for each and, at the end, time ratios checksum/memcpy and reference/compute.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/ratio_reporter.hpp"
#include "stack/base/checksum.hpp"

namespace {

constexpr std::size_t kSizes[] = {64, 1500, 65536};

std::vector<std::uint8_t> random_bytes(std::size_t n) {
    std::mt19937 rng(7);
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

void BM_ChecksumCompute(benchmark::State& state) {
    auto data = random_bytes(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        benchmark::DoNotOptimize(data.data());
        std::uint16_t c = stack::checksum::compute(data);
        benchmark::DoNotOptimize(c);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_ChecksumReference(benchmark::State& state) {
    auto data = random_bytes(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        benchmark::DoNotOptimize(data.data());
        std::uint16_t c = stack::checksum::reference_compute(data);
        benchmark::DoNotOptimize(c);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_Memcpy(benchmark::State& state) {
    auto src = random_bytes(static_cast<std::size_t>(state.range(0)));
    std::vector<std::uint8_t> dst(src.size());
    for (auto _ : state) {
        benchmark::DoNotOptimize(src.data());
        std::memcpy(dst.data(), src.data(), src.size());
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

}  // namespace

int main(int argc, char** argv) {
    for (std::size_t n : kSizes) {
        auto arg = static_cast<std::int64_t>(n);
        benchmark::RegisterBenchmark("BM_Memcpy", BM_Memcpy)->Arg(arg);
        benchmark::RegisterBenchmark("BM_ChecksumCompute", BM_ChecksumCompute)->Arg(arg);
        benchmark::RegisterBenchmark("BM_ChecksumReference", BM_ChecksumReference)->Arg(arg);
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    bench::RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    std::printf("\n");
    for (std::size_t n : kSizes) {
        std::string s = "/" + std::to_string(n);
        reporter.print_ratio("BM_ChecksumCompute" + s, "BM_Memcpy" + s,
                             "time checksum / time memcpy, same bytes; 1 = as fast as memcpy");
        reporter.print_ratio("BM_ChecksumReference" + s, "BM_ChecksumCompute" + s,
                             "textbook loop / ours: our speedup");
    }
    benchmark::Shutdown();
    return reporter.complete() ? 0 : 1;
}
