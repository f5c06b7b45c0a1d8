// `tunstack iperf3 -c HOST`: an iperf3 client (tools/common/iperf3.hpp) on this client's own stack
// and TUN device (tools/common/runtime.hpp), against a stock `iperf3 -s` on the kernel side.
//
// It follows iperf 3.12's client: control connection and cookie, the parameters, `parallel` data
// streams connected one after the other (so the server numbers them in our order), data for
// `time` seconds from TEST_START (client → server, or server → client with -R), TEST_END, the
// results exchange, IPERF_DONE. Bytes count from TEST_RUNNING (after --omit seconds) until
// TEST_END; a receiver keeps draining its streams after TEST_END without counting, as iperf3
// does, so the server's writes never block on us.
//
// The report pairs each stream's sender and receiver figures (ours and the server's, matched by
// stream id): as text like iperf3's summary, or with -J as JSON in a subset of iperf3's own -J
// shape (README: "tunstack iperf3").
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "stack/wire/address.hpp"
#include "tools/common/iperf3.hpp"
#include "tools/common/runtime.hpp"

namespace tunstack {

struct Iperf3Options {
    stack::wire::Ipv4Address server;
    std::uint16_t port = 5201;
    int duration_s = 10;
    int omit_s = 0;
    int parallel = 1;
    bool reverse = false;
    bool json = false;
};

// Exit codes (tunstack's): 0 done; 1 local failure; 3 connection refused/reset/closed early;
// 4 timed out; 5 the server refused the test (busy, SERVER_ERROR, SERVER_TERMINATE) or broke the
// protocol.
class Iperf3Client {
public:
    Iperf3Client(tools::Runtime& rt, const Iperf3Options& o, std::string cookie);
    ~Iperf3Client();
    Iperf3Client(const Iperf3Client&) = delete;
    Iperf3Client& operator=(const Iperf3Client&) = delete;

    // Runs the test; on failure prints one line on stderr. Returns the exit code.
    int run();
    // After a successful run: the report (text or JSON), ending with a newline.
    const std::string& report() const { return report_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string report_;
};

}  // namespace tunstack
