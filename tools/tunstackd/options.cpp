#include "tools/tunstackd/options.hpp"

#include <net/if.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <set>

#include "tools/tunstackd/privileges.hpp"

namespace tunstackd {

namespace {
std::string one_line(std::string s) {
    for (char& c : s) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}
}  // namespace

std::optional<std::size_t> parse_bytes(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::size_t mult = 1;
    switch (text.back()) {
        case 'K':
        case 'k': mult = std::size_t{1} << 10; break;
        case 'M':
        case 'm': mult = std::size_t{1} << 20; break;
        case 'G':
        case 'g': mult = std::size_t{1} << 30; break;
        default: break;
    }
    if (mult != 1) text.remove_suffix(1);
    if (text.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
        if (v > (std::uint64_t{1} << 40)) return std::nullopt;
    }
    v *= mult;
    if (v > (std::uint64_t{1} << 40)) return std::nullopt;
    return static_cast<std::size_t>(v);
}

ParseOutcome parse_options(int argc, const char* const* argv) {
    CLI::App app{
        "tunstackd: a userspace TCP/IP stack on a Linux TUN device.\n"
        "Creates TUN device NAME, gives the kernel side HOST-ADDR, and answers as ADDR.\n"
        "Exit codes: 0 clean shutdown (SIGINT/SIGTERM), 1 runtime failure (device, privileges),\n"
        "2 bad command line. SIGUSR1 prints the counters to stderr as 'stat NAME VALUE' lines.\n"
        "SIGTERM/SIGINT drain (stop accepting, finish responses, FIN idle connections) for up to\n"
        "--drain-timeout seconds, then reset what remains and exit 0; a second signal stops at "
        "once.\n"
        "As root it drops to --user NAME after setup (default: nobody, with a warning) unless\n"
        "--stay-root keeps root on purpose.\n"
        "Services (--serve, repeatable): echo:PORT (RFC 862), discard:PORT (RFC 863),\n"
        "chargen:PORT (RFC 864), http:PORT (HTTP/1.1 GET/HEAD of files under --www DIR),\n"
        "https:PORT (the same over TLS 1.2), tls-echo:PORT (echo over TLS 1.2),\n"
        "iperf3:PORT (the iperf3 protocol: `iperf3 -c ADDR [-R] [-P N]` measures throughput).\n"
        "TLS: --cert FILE --key FILE (PEM; repeat for SNI), or a generated self-signed ECDSA\n"
        "certificate for --addr (its SHA-256 fingerprint is logged; --cert-out FILE saves it).\n"
        "SIGHUP reloads the --cert/--key files (a bad file keeps the old ones).",
        "tunstackd"};
    app.set_version_flag("--version", std::string("tunstackd ") + TUNSTACK_VERSION);
    // A flag given twice takes its last value (as most daemons do), so the unit's
    // $TUNSTACKD_ARGS, which come after its own flags, override them. The repeatable ones
    // (--serve, --cert, --key) collect every value instead.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    Options o;
    std::string host_addr_text, addr_text;
    // Required, but checked after the parse (below): CLI11 reports a missing option before an
    // unknown one, and "--tun is required" for a misspelt "--tunn" hides the real mistake.
    app.add_option("--tun", o.tun, "TUN device to create (must not exist); required");
    app.add_option("--host-addr", host_addr_text,
                   "kernel-side address of the TUN, CIDR, e.g. 198.18.0.1/24; required");
    app.add_option("--addr", addr_text,
                   "the stack's own address in that subnet, e.g. 198.18.0.2; required");
    app.add_option("--mtu", o.mtu, "device and stack MTU (576..65535)")->capture_default_str();
    app.add_option("--pcap", o.pcap, "record every packet in and out to FILE (pcap, LINKTYPE_RAW)");
    app.add_option("--reasm-timeout", o.reasm_timeout_s,
                   "IPv4 reassembly timeout in seconds (1..120)")
        ->capture_default_str();
    app.add_option("--txqueuelen", o.txqueuelen, "TUN transmit queue length")
        ->capture_default_str();
    std::string cc_text = "cubic";
    app.add_option("--cc", cc_text,
                   "TCP congestion control: cubic (RFC 9438) or newreno (RFC 5681/6582)")
        ->capture_default_str();
    app.add_flag("--offload", o.offload,
                 "vnet_hdr offloads both ways: the kernel may send 64 KB TCP super-packets with "
                 "partial checksums (completed by the driver), and TCP sends super-segments of "
                 "several MSS for the kernel to segment (TSO)");
    std::string impair_text;
    std::vector<std::string> serve_text;
    app.add_option("--impair", impair_text,
                   "impair both directions of the device, e.g. "
                   "loss=3%,dup=1%,reorder=5%,delay=10ms,corrupt=0.1%,seed=N");
    app.add_option("--serve", serve_text,
                   "run a service: echo:PORT, discard:PORT, chargen:PORT, http:PORT, https:PORT, "
                   "tls-echo:PORT or iperf3:PORT (repeatable)")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--www", o.www, "document root for http:PORT and https:PORT services");
    app.add_option("--access-log", o.access_log,
                   "append one line per http/https response to FILE (Common Log Format: peer, "
                   "time, request line, status, length)");
    app.add_option("--cert", o.certs,
                   "TLS certificate chain, PEM (repeatable, paired in order with --key; the first "
                   "pair is the default, others are chosen by SNI name)")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--key", o.keys,
                   "private key (PEM, unencrypted) for the --cert at the same position")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--cert-out", o.cert_out,
                   "without --cert: write the generated self-signed certificate (PEM) to FILE");
    app.add_option("--tls-handshake-timeout", o.tls_handshake_timeout_s,
                   "seconds a TLS handshake may take before the connection is closed (1..300)")
        ->capture_default_str();
    app.add_option("--tls-max-sessions", o.tls_max_sessions,
                   "concurrent TLS sessions (each holds ~35 KB); more connections are reset "
                   "(1..100000)")
        ->capture_default_str();
    app.add_option(
        "--user", o.user,
        "after setup, drop to user NAME: its uid/gid only, no capabilities, no_new_privs");
    app.add_flag("--stay-root", o.stay_root, "keep running as root (not recommended)");
    app.add_option("--control", o.control,
                   "Unix socket (mode 0600) for `tunstack stats|conns --control PATH`");
    std::string metrics_text, log_level_text = "info", mem_budget_text = "4G";
    std::string sndbuf_text = "512K", rcvbuf_text = "512K";
    app.add_option(
        "--metrics", metrics_text,
        "serve Prometheus metrics over HTTP on a kernel loopback socket, e.g. 127.0.0.1:19464");
    app.add_option("--log-level", log_level_text, "error, warn, info or debug")
        ->capture_default_str();
    app.add_option("--drain-timeout", o.drain_timeout_s,
                   "seconds to let connections finish after SIGTERM/SIGINT (0..3600)")
        ->capture_default_str();
    app.add_option("--max-connections", o.max_connections,
                   "TCP connections at most (not counting TIME-WAIT), 0..1048576; further SYNs "
                   "are dropped; the socket table is sized from it (0: no limit but a table "
                   "for 4096)")
        ->capture_default_str();
    app.add_option("--sndbuf", sndbuf_text,
                   "send buffer per connection, bytes (K/M suffixes), 4K..64M")
        ->capture_default_str();
    app.add_option("--rcvbuf", rcvbuf_text,
                   "receive buffer per connection, bytes (K/M suffixes), 4K..64M")
        ->capture_default_str();
    app.add_option("--mem-budget", mem_budget_text,
                   "bytes all connection buffers may reserve together; further SYNs are dropped "
                   "(K/M/G suffixes; 0: no limit)")
        ->capture_default_str();
    app.add_option("--max-time-wait", o.max_time_wait,
                   "TIME-WAIT entries at most (compact, no buffers), 0..4194304; at the cap the "
                   "oldest is forgotten early (tcp.time_wait_evicted); 0 keeps none")
        ->capture_default_str();

    // http/https timeouts (issue 8: slow and idle clients are not held forever).
    app.add_option("--header-timeout", o.header_timeout_s,
                   "http/https: seconds for a request head to arrive complete (from accept, or "
                   "from the first byte of a later request); then the connection is closed "
                   "(1..3600)")
        ->capture_default_str();
    app.add_option("--keepalive-timeout", o.keepalive_timeout_s,
                   "http/https: seconds an idle keep-alive connection waits for its next request "
                   "(1..3600)")
        ->capture_default_str();
    app.add_option("--body-timeout", o.body_timeout_s,
                   "http/https: seconds without progress reading a request body or sending a "
                   "response the peer does not take; then closed (a stuck response: reset) "
                   "(1..3600)")
        ->capture_default_str();

    // Extras are collected, not thrown, so an unknown option is named as such (below).
    app.allow_extras();
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        return ShowText{app.help()};
    } catch (const CLI::CallForVersion&) {
        return ShowText{std::string("tunstackd ") + TUNSTACK_VERSION + "\n"};
    } catch (const CLI::ParseError& e) {
        return UsageError{one_line(e.what())};
    }
    if (const auto extra = app.remaining(); !extra.empty()) {
        const std::string& first = extra.front();
        if (first.size() > 1 && first[0] == '-') {
            return UsageError{"unknown option '" + first + "' (see tunstackd --help)"};
        }
        return UsageError{"unexpected argument '" + first + "' (see tunstackd --help)"};
    }
    for (const char* flag : {"--tun", "--host-addr", "--addr"}) {
        if (app.count(flag) == 0) return UsageError{std::string(flag) + " is required"};
    }

    if (auto lvl = tools::parse_log_level(log_level_text)) {
        o.log_level = *lvl;
    } else {
        return UsageError{"--log-level: unknown level '" + log_level_text +
                          "' (error, warn, info or debug)"};
    }
    if (!o.user.empty() && o.stay_root) {
        return UsageError{"--user and --stay-root exclude each other"};
    }
    if (!o.user.empty()) {
        const auto uid = user_uid(o.user);
        if (!uid) return UsageError{"--user " + o.user + ": no such user"};
        // Dropping to uid 0 would keep root: refused here, before any device is created.
        if (*uid == 0) {
            return UsageError{"--user " + o.user +
                              ": is root (uid 0), which drops nothing; name an unprivileged "
                              "user, or use --stay-root"};
        }
    }
    if (app.count("--metrics") > 0) {
        // Each mistake named: the shape, the address, the port, the loopback rule.
        const std::string m = "--metrics '" + metrics_text + "': ";
        const std::size_t colon = metrics_text.rfind(':');
        if (colon == std::string::npos) {
            return UsageError{m + "expected ADDR:PORT, e.g. 127.0.0.1:19464 (no ':PORT')"};
        }
        const std::string addr_part = metrics_text.substr(0, colon);
        const std::string port_part = metrics_text.substr(colon + 1);
        auto a = stack::wire::Ipv4Address::parse(addr_part);
        if (!a) {
            return UsageError{m + "'" + addr_part +
                              "' is not an IPv4 address (expected ADDR:PORT, e.g. "
                              "127.0.0.1:19464)"};
        }
        unsigned long port = 0;
        bool port_ok = !port_part.empty() && port_part.size() <= 5 &&
                       port_part.find_first_not_of("0123456789") == std::string::npos;
        if (port_ok) port = std::strtoul(port_part.c_str(), nullptr, 10);
        if (!port_ok || port < 1 || port > 65535) {
            return UsageError{m + "port '" + port_part + "' is not a number in 1..65535"};
        }
        if ((a->value >> 24) != 127) {
            return UsageError{m +
                              "only a loopback address (127.0.0.0/8) is allowed: the "
                              "metrics are served without authentication"};
        }
        o.metrics_addr = *a;
        o.metrics_port = static_cast<std::uint16_t>(port);
    }
    if (!(o.drain_timeout_s >= 0 && o.drain_timeout_s <= 3600)) {
        return UsageError{"--drain-timeout: expected seconds in 0..3600"};
    }
    if (o.max_connections > (std::size_t{1} << 20)) {
        return UsageError{"--max-connections: " + std::to_string(o.max_connections) +
                          " is above 1048576"};
    }
    if (o.max_time_wait > (std::size_t{1} << 22)) {
        return UsageError{"--max-time-wait: " + std::to_string(o.max_time_wait) +
                          " is above 4194304"};
    }
    auto buf = [](const std::string& flag, const std::string& text,
                  std::size_t& out) -> std::optional<UsageError> {
        auto v = parse_bytes(text);
        if (!v || *v < 4096 || *v > (std::size_t{64} << 20)) {
            return UsageError{flag + " '" + text + "': expected bytes in 4K..64M"};
        }
        out = *v;
        return std::nullopt;
    };
    if (auto e = buf("--sndbuf", sndbuf_text, o.sndbuf)) return *e;
    if (auto e = buf("--rcvbuf", rcvbuf_text, o.rcvbuf)) return *e;
    if (auto v = parse_bytes(mem_budget_text)) {
        o.mem_budget = *v;
    } else {
        return UsageError{"--mem-budget '" + mem_budget_text +
                          "': expected bytes, e.g. 256M or 1G"};
    }
    if (o.mem_budget != 0 && o.mem_budget < o.sndbuf + o.rcvbuf) {
        return UsageError{"--mem-budget " + mem_budget_text +
                          " is smaller than one connection's buffers (--sndbuf + --rcvbuf)"};
    }
    if (o.tun.empty() || o.tun.size() >= IFNAMSIZ || o.tun.find('/') != std::string::npos ||
        o.tun.find(' ') != std::string::npos) {
        return UsageError{"--tun: invalid interface name '" + o.tun + "' (1 to " +
                          std::to_string(IFNAMSIZ - 1) + " characters, no '/' or spaces)"};
    }
    auto cidr = stack::wire::Ipv4Cidr::parse(host_addr_text);
    if (!cidr || cidr->prefix_len < 1 || cidr->prefix_len > 30) {
        return UsageError{
            "--host-addr: expected an IPv4 address with a prefix length 1..30, e.g. "
            "198.18.0.1/24, got '" +
            host_addr_text + "'"};
    }
    o.host_addr = *cidr;
    auto addr = stack::wire::Ipv4Address::parse(addr_text);
    if (!addr) return UsageError{"--addr: expected an IPv4 address, got '" + addr_text + "'"};
    o.addr = *addr;
    if (!o.host_addr.contains(o.addr)) {
        return UsageError{"--addr " + addr_text + " is not in the --host-addr subnet " +
                          host_addr_text};
    }
    if (o.addr == o.host_addr.address) {
        return UsageError{"--addr must differ from the kernel side's address " +
                          o.host_addr.address.to_string()};
    }
    if (o.addr.value == (o.host_addr.address.value & o.host_addr.netmask()) ||
        o.addr == o.host_addr.broadcast()) {
        return UsageError{"--addr " + addr_text + " is the subnet's network or broadcast address"};
    }
    if (o.mtu < 576 || o.mtu > 65535) {
        return UsageError{"--mtu: " + std::to_string(o.mtu) + " is out of range 576..65535"};
    }
    if (o.reasm_timeout_s < 1 || o.reasm_timeout_s > 120) {
        return UsageError{"--reasm-timeout: " + std::to_string(o.reasm_timeout_s) +
                          " is out of range 1..120"};
    }
    if (auto cc = stack::tcp::parse_cc(cc_text)) {
        o.congestion = *cc;
    } else {
        return UsageError{"--cc: unknown congestion control '" + cc_text + "' (cubic or newreno)"};
    }
    if (o.txqueuelen < 1 || o.txqueuelen > 1'000'000) {
        return UsageError{"--txqueuelen: " + std::to_string(o.txqueuelen) +
                          " is out of range 1..1000000"};
    }
    if (app.count("--impair") > 0) {
        auto fc = drivers::FaultConfig::parse(impair_text);
        if (!fc) return UsageError{"--impair '" + impair_text + "': " + fc.error().message};
        o.impair = *fc;
    }
    std::set<std::uint16_t> ports;
    bool want_http = false, want_tls = false;
    for (const std::string& text : serve_text) {
        std::string error;
        auto spec = parse_service_spec(text, error);
        if (!spec) return UsageError{error};
        if (!ports.insert(spec->port).second) {
            return UsageError{"--serve '" + text + "': port " + std::to_string(spec->port) +
                              " is already served"};
        }
        want_http = want_http || serves_files(spec->kind);
        want_tls = want_tls || is_tls(spec->kind);
        o.services.push_back(*spec);
    }
    if (!o.access_log.empty() && !want_http) {
        return UsageError{"--access-log needs an http:PORT or https:PORT service"};
    }
    if (want_http && o.www.empty()) {
        return UsageError{"--serve http:PORT and https:PORT need --www DIR"};
    }
    if (o.certs.size() != o.keys.size()) {
        return UsageError{"--cert and --key come in pairs: got " + std::to_string(o.certs.size()) +
                          " --cert and " + std::to_string(o.keys.size()) + " --key"};
    }
    if (!want_tls && (!o.certs.empty() || !o.cert_out.empty())) {
        return UsageError{std::string(o.certs.empty() ? "--cert-out" : "--cert") +
                          " needs a TLS service (--serve https:PORT or tls-echo:PORT)"};
    }
    if (!o.certs.empty() && !o.cert_out.empty()) {
        return UsageError{
            "--cert-out saves the generated certificate; it cannot be used with --cert"};
    }
    if (o.tls_handshake_timeout_s < 1 || o.tls_handshake_timeout_s > 300) {
        return UsageError{"--tls-handshake-timeout: " + std::to_string(o.tls_handshake_timeout_s) +
                          " is out of range 1..300"};
    }
    if (o.tls_max_sessions < 1 || o.tls_max_sessions > 100000) {
        return UsageError{"--tls-max-sessions: " + std::to_string(o.tls_max_sessions) +
                          " is out of range 1..100000"};
    }
    for (auto [flag, v] : {std::pair{"--header-timeout", o.header_timeout_s},
                           std::pair{"--keepalive-timeout", o.keepalive_timeout_s},
                           std::pair{"--body-timeout", o.body_timeout_s}}) {
        if (v < 1 || v > 3600) {
            return UsageError{std::string(flag) + ": " + std::to_string(v) +
                              " is out of range 1..3600"};
        }
    }
    if (!o.www.empty()) {
        if (!want_http) {
            return UsageError{"--www needs an http:PORT or https:PORT service (--serve http:PORT)"};
        }
        char real[PATH_MAX];
        struct stat st {};
        if (realpath(o.www.c_str(), real) == nullptr || stat(real, &st) != 0) {
            return UsageError{"--www '" + o.www + "': " + std::strerror(errno)};
        }
        if (!S_ISDIR(st.st_mode)) return UsageError{"--www '" + o.www + "': not a directory"};
        o.www = real;
    }
    return o;
}

}  // namespace tunstackd
