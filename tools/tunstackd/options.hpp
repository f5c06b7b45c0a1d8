// tunstackd's command line: the daemon's contract with its users, tests and later tools.
//
//   tunstackd --tun NAME --host-addr 198.18.0.1/24 --addr 198.18.0.2 [--mtu N] [--pcap FILE]
//             [--impair SPEC] [--serve KIND:PORT]... [--www DIR]
//             [--cert FILE --key FILE]... [--cert-out FILE] [--tls-handshake-timeout S]
//             [--tls-max-sessions N]
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
#include "tools/tunstackd/services/services.hpp"

#include "stack/tcp/congestion.hpp"
#include "stack/wire/address.hpp"

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
    std::uint32_t tls_max_sessions = 512;
    bool serves_tls() const {
        for (const auto& s : services) {
            if (is_tls(s.kind)) return true;
        }
        return false;
    }
};

struct ShowText {
    std::string text;  // --help or --version output, for stdout, exit 0
};
struct UsageError {
    std::string message;  // one line, no trailing newline
};

using ParseOutcome = std::variant<Options, ShowText, UsageError>;

ParseOutcome parse_options(int argc, const char* const* argv);

}  // namespace tunstackd
