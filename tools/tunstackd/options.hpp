// tunstackd's command line: the daemon's contract with its users, tests and later tools.
//
//   tunstackd --tun NAME --host-addr 198.18.0.1/24 --addr 198.18.0.2 [--mtu N] [--pcap FILE]
//             [--impair SPEC] [--serve KIND:PORT]... [--www DIR]
//             [--cert FILE --key FILE]... [--cert-out FILE] [--tls-handshake-timeout S]
//             [--tls-max-sessions N]
//             [--user NAME | --stay-root] [--control PATH] [--metrics 127.0.0.1:PORT]
//             [--log-level error|warn|info|debug] [--drain-timeout SECONDS]
//             [--max-connections N] [--sndbuf BYTES] [--rcvbuf BYTES] [--mem-budget BYTES]
//             [--max-time-wait N]
//             [--header-timeout S] [--keepalive-timeout S] [--body-timeout S]
//
// parse_options() never prints and never exits: it returns the options, a request for help/version
// text, or a one-line error naming the problem (the caller prints it and exits 2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "drivers/fault_injector.hpp"
#include "stack/tcp/congestion.hpp"
#include "stack/wire/address.hpp"
#include "tools/common/log.hpp"
#include "tools/tunstackd/services/services.hpp"

namespace tunstackd {

struct Options {
    std::string tun;
    stack::wire::Ipv4Cidr host_addr;
    stack::wire::Ipv4Address addr;
    std::uint32_t mtu = 1500;
    std::string pcap;
    std::uint32_t reasm_timeout_s = 30;
    std::uint32_t txqueuelen = 5000;
    bool offload = false;
    stack::tcp::CcAlgorithm congestion = stack::tcp::CcAlgorithm::Cubic;
    std::optional<drivers::FaultConfig> impair;  // --impair: both directions of the TUN
    std::vector<ServiceSpec> services;           // --serve, in order
    std::string www;                             // --www: the real path of the document root
    // TLS (https:PORT, tls-echo:PORT): certificate/key pairs in order (the first is the default),
    // or none for a generated self-signed certificate, optionally written to cert_out.
    std::vector<std::string> certs, keys;
    std::string cert_out;
    std::uint32_t tls_handshake_timeout_s = 10;
    std::uint32_t tls_max_sessions = 4096;
    bool serves_tls() const {
        for (const auto& s : services) {
            if (is_tls(s.kind)) return true;
        }
        return false;
    }

    // Operations (README "Running as a service").
    std::string user;        // --user: drop to this user after setup ("" = no drop)
    bool stay_root = false;  // --stay-root: keep root on purpose
    std::string control;     // --control: Unix socket path for `tunstack stats|conns`
    std::optional<stack::wire::Ipv4Address> metrics_addr;  // --metrics ADDR:PORT (loopback only)
    std::uint16_t metrics_port = 0;
    std::string access_log;  // --access-log FILE ("" none)
    tools::LogLevel log_level = tools::LogLevel::Info;
    double drain_timeout_s = 5;       // --drain-timeout
    std::size_t max_connections = 0;  // --max-connections (0: only the socket table's 4096)
    std::size_t sndbuf = 512 * 1024;  // --sndbuf, per connection
    std::size_t rcvbuf = 512 * 1024;  // --rcvbuf, per connection
    std::size_t mem_budget = std::size_t{4}
                             << 30;  // --mem-budget: all connection buffers (0: none)
    // --max-time-wait: TIME-WAIT records kept at most (0: none).
    std::size_t max_time_wait = 16384;
    // http/https timeouts (services.hpp HttpServiceOptions), seconds.
    std::uint32_t header_timeout_s = 60, keepalive_timeout_s = 75, body_timeout_s = 60;
};

// "64K", "1M", "2G", "4096" → bytes (K/M/G are powers of 1024); nullopt if malformed or > 2^40.
std::optional<std::size_t> parse_bytes(std::string_view text);

struct ShowText {
    std::string text;  // --help or --version output, for stdout, exit 0
};
struct UsageError {
    std::string message;  // one line, no trailing newline
};

using ParseOutcome = std::variant<Options, ShowText, UsageError>;

ParseOutcome parse_options(int argc, const char* const* argv);

}  // namespace tunstackd
