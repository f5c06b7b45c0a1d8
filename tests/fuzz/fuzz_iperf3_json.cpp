// libFuzzer target for the iperf3 control protocol's input path: the strict JSON reader
// (tools/common/json) and what the service does with a message (tools/common/iperf3). The input is
// fed to json::parse; a value that parses must serialize to text that parses again and serializes
// the same (a fixed point), and goes through parse_params and parse_results, which must not
// crash whatever it holds. The same bytes are also fed to a ControlReader in two pieces, taking
// states and messages until it needs more or refuses, as the service's loop does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.hpp"
#include "tools/common/iperf3.hpp"
#include "tools/common/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace ip3 = tools::iperf3;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto v = tools::json::parse(text)) {
        const std::string once = tools::json::serialize(*v);
        auto again = tools::json::parse(once);
        FUZZ_CHECK(again);                                   // serialized JSON parses again
        FUZZ_CHECK(tools::json::serialize(*again) == once);  // a fixed point
        (void)ip3::parse_params(*v, {});
        if (auto r = ip3::parse_results(*v)) {
            FUZZ_CHECK(ip3::parse_results(ip3::results_json(*r)));
        }
    }
    ip3::ControlReader reader;
    const std::size_t half = size / 2;
    for (const std::string_view piece : {text.substr(0, half), text.substr(half)}) {
        reader.feed(piece);
        for (int guard = 0; guard < 64; ++guard) {
            tools::json::Value v;
            std::string error;
            const auto took = reader.take_message(v, error);
            if (took == ip3::ControlReader::Take::Error) break;
            if (took == ip3::ControlReader::Take::NeedMore && !reader.take_byte()) break;
        }
    }
    return 0;
}
