// tunstack: the client and operations CLI. Subcommands:
//
//   tunstack get URL -o FILE --tun NAME --host-addr CIDR --addr IP [--mtu N] [--pcap F] [--timeout S]
//                [--cacert FILE] [--insecure] [--resolve NAME:ADDR] [--stats]
//   tunstack iperf3 -c HOST [-p PORT] [-t S] [-P N] [-O S] [-R] [-J] --tun NAME --host-addr CIDR
//                --addr IP [--mtu N] [--pcap F]      (an iperf3 client: tunstack/iperf3_client.hpp)
//   tunstack stats [--control PATH] [--prometheus | --nonzero | --json] [--timeout S]
//   tunstack conns [--control PATH] [--json] [--state STATE] [--port PORT] [--timeout S]
//
// `stats` and `conns` ask a running tunstackd over its control socket (tools/common/control_protocol.hpp)
// and print its counters as a table (or in the Prometheus text format) and its TCP connections like
// `ss -tni`. Their exit codes: 0 printed; 1 the control socket cannot be used (missing, permission
// denied, nobody listening); 2 bad command line; 4 no complete answer within --timeout; 5 the daemon
// answered with an error or a malformed reply.
//
// `get` runs its own stack on its own TUN device (tools/common/runtime.hpp): the kernel side of the
// device is the server (e.g. `python3 -m http.server` bound to the --host-addr address), and the
// stack, answering as --addr, opens the connection actively through the TUN and downloads URL with
// HTTP/1.1 (Content-Length, chunked or close-delimited bodies) into FILE. The body is written to a
// temporary file next to FILE that replaces it only when the download succeeded, so a failure
// leaves an existing FILE as it was (output_file.hpp). On success it prints one line to stdout:
// bytes, seconds, throughput. --stats prints the client stack's counters to stderr at exit.
//
// https:// URLs run TLS 1.2 (tls/) over that same connection: the server's certificate is verified
// against --cacert (default: the system CA bundle) and must name the URL's host (its IP address
// for an address literal; the name, also sent as SNI, for a --resolve'd name); ALPN offers
// http/1.1. --insecure skips verification. The body must end with close_notify when the response is
// close-delimited (a bare FIN would be a truncation).
//
// Exit codes: 0 downloaded; 1 local failure (privileges, device, output file, CA file); 2 bad command
// line (incl. a bad URL); 3 connection refused, reset or closed before the response was complete,
// or the TLS handshake failed (e.g. an alert from the server); 4 timed out; 5 the server answered
// with an HTTP error status (>= 300) or a malformed response; 6 the server's certificate failed
// verification (untrusted, expired, wrong name). Every failure is one line on stderr.
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "tls/config.hpp"
#include "tls/session.hpp"
#include "tools/common/channel.hpp"
#include "tools/common/client_tun.hpp"
#include "tools/common/control_protocol.hpp"
#include "tools/common/metrics.hpp"
#include "tools/common/runtime.hpp"
#include "tools/tunstack/http_client.hpp"
#include "tools/tunstack/iperf3_client.hpp"
#include "tools/tunstack/output_file.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitConnection = 3;
constexpr int kExitTimeout = 4;
constexpr int kExitHttp = 5;
constexpr int kExitTlsVerify = 6;

constexpr const char* kDescription =
    "tunstack: the tunstack client. It runs its own userspace TCP/IP stack on its own TUN device.\n"
    "Exit codes: 0 success; 1 local failure (privileges, device, output file); 2 bad command line\n"
    "or URL; 3 connection refused/reset/closed early or TLS handshake failure; 4 timeout; 5 HTTP\n"
    "error status or malformed response; 6 TLS certificate verification failed (untrusted,\n"
    "expired, wrong name) (stats/conns: 1 control socket unusable, 4 no answer in time, 5 daemon\n"
    "error; iperf3: 5 the server refused the test or broke the protocol).";

constexpr const char* kDefaultControl = "/run/tunstackd/control";

struct GetOptions {
    std::string url, output;
    tools::ClientTunFlags net;  // --tun --host-addr --addr --mtu --pcap
    std::string cacert, resolve;
    bool insecure = false;
    bool stats = false;
    double timeout_s = 30;
};

std::string one_line(std::string s) {
    for (char& c : s) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "tunstack: error: %s\n", msg.c_str());
    return kExitUsage;
}

class GetClient {
public:
    GetClient(tools::Runtime& rt, tunstack::Url url, int out_fd, std::string out_path,
              double timeout_s, std::shared_ptr<const tls::ClientConfig> tls_config)
        : rt_(rt),
          url_(std::move(url)),
          out_fd_(out_fd),
          out_path_(std::move(out_path)),
          timeout_s_(timeout_s),
          tls_config_(std::move(tls_config)),
          parser_([this](std::string_view body) { write_body(body); }),
          request_(tunstack::build_get(url_)) {}

    int run() {
        start_ = drivers::EventLoop::now();
        rt_.loop().add_timer(
            start_ + stack::Duration::micros(static_cast<std::int64_t>(timeout_s_ * 1e6)),
            [this](stack::Instant) {
                fail(kExitTimeout,
                     "timed out after " + format_secs(timeout_s_) + " s " +
                         (connected_ ? "receiving (" + std::to_string(parser_.body_bytes()) +
                                           " body bytes so far)"
                                     : "connecting to " + endpoint()));
            });
        rt_.on_app([this](stack::Instant now) { return step(now); });
        rt_.on_signal([this](int signo) {
            if (signo == SIGINT || signo == SIGTERM) {
                fail(kExitFailure, std::string("interrupted by ") + sigabbrev_np(signo));
            }
        });
        if (!rt_.run() && rc_ == kExitOk) rc_ = kExitFailure;
        return rc_;
    }

private:
    std::string endpoint() const { return url_.host.to_string() + ":" + std::to_string(url_.port); }
    std::string url_text() const {
        return std::string(url_.https ? "https://" : "http://") + url_.host_header + url_.path;
    }
    static std::string format_secs(double s) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3g", s);
        return buf;
    }

    void fail(int rc, const std::string& msg) {
        if (finished_) return;
        finished_ = true;
        rc_ = rc;
        std::fprintf(stderr, "tunstack: error: %s\n", msg.c_str());
        if (h_.valid()) (void)rt_.stack().tcp().abort(drivers::EventLoop::now(), h_);
        rt_.stop();
    }

    // A TLS failure: verification failures exit 6 and say why; the rest are connection failures.
    void fail_tls(const tls::Error& e) {
        if (e.reason == tls::Reason::BadCertificate) {
            fail(kExitTlsVerify, "TLS: the certificate of " + endpoint() + " was rejected: " +
                                     tls::describe_verify_flags(e.verify_flags));
            return;
        }
        fail(kExitConnection,
             std::string(tls_->session().handshake_done() ? "TLS connection to "
                                                          : "TLS handshake with ") +
                 endpoint() + " failed: " + e.message());
    }

    // Application bytes out/in, over TLS or straight on the socket; nullopt after a failure.
    std::optional<std::size_t> io_send(stack::Bytes data) {
        const tools::Channel::Io io = channel_->send(data);
        if (io.failed) {
            fail_io("sending the request: ");
            return std::nullopt;
        }
        return io.n;
    }
    std::optional<std::size_t> io_recv(stack::MutBytes out) {
        const tools::Channel::Io io = channel_->recv(out);
        if (io.failed) {
            fail_io("receiving: ");
            return std::nullopt;
        }
        return io.n;
    }
    void fail_io(const std::string& doing) {
        if (tls_) {
            fail_tls(*tls_->error());
        } else {
            fail(kExitConnection, doing + std::string(stack::to_string(*plain_->error())));
        }
    }
    // The server finished sending: TLS close_notify, or TCP FIN with everything read.
    bool at_end() const { return channel_->peer_finished(); }

    void succeed(stack::Instant now) {
        if (finished_) return;
        finished_ = true;
        if (tls_) tls_->session().close();  // close_notify (queued in the socket), then FIN
        (void)rt_.stack().tcp().close(now, h_);
        const double secs = static_cast<double>((now - start_).as_micros()) / 1e6;
        const std::uint64_t bytes = parser_.body_bytes();
        const double mbit = secs > 0 ? static_cast<double>(bytes) * 8 / secs / 1e6 : 0;
        std::string tls_note;
        if (tls_) {
            tls_note =
                ", " + std::string(tls_->session().version()) + " " +
                std::string(tls_->session().ciphersuite()) +
                (tls_config_->verify() ? ", certificate verified" : ", NOT verified (--insecure)");
        }
        char line[160];
        std::snprintf(line, sizeof line, "tunstack: got %llu bytes in %.3f s (%.1f Mbit/s) from ",
                      static_cast<unsigned long long>(bytes), secs, mbit);
        summary_ = line + url_text() + ", HTTP " + std::to_string(parser_.status_code()) +
                   tls_note +
                   (tunstack::OutputFile::names_stdout(out_path_) ? ", written to standard output"
                                                                  : ", saved to " + out_path_);
        rt_.stop();
    }

public:
    // The success line, printed by the caller once the file is in place.
    const std::string& summary() const { return summary_; }

private:
    void write_body(std::string_view body) {
        while (!body.empty() && !write_failed_) {
            const ssize_t n = write(out_fd_, body.data(), body.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                write_errno_ = errno;
                write_failed_ = true;
                return;
            }
            body.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    bool step(stack::Instant now) {
        if (finished_) return false;
        auto& tcp = rt_.stack().tcp();
        if (!h_.valid()) {
            auto h = tcp.connect(now, url_.host, url_.port);
            if (!h) {
                fail(kExitConnection,
                     "connect to " + endpoint() + ": " + std::string(stack::to_string(h.error())));
                return false;
            }
            h_ = *h;
            return true;
        }
        bool any = false;
        stack::SocketEvent ev;
        while (tcp.next_event(ev)) {
            any = true;
            if (ev.handle != h_) continue;
            if (ev.bits & stack::kEventError) {
                const auto err = tcp.error(h_).value_or(stack::SocketError::Reset);
                std::string what = std::string(stack::to_string(err));
                if (err == stack::SocketError::TimedOut) {
                    fail(kExitTimeout, (connected_ ? "connection to " : "connect to ") +
                                           endpoint() + ": " + what);
                } else {
                    fail(kExitConnection, (connected_ ? "connection to " : "connect to ") +
                                              endpoint() + ": " + what);
                }
                return false;
            }
            if (ev.bits & stack::kEventConnected) connected_ = true;
        }
        if (!connected_) return any;
        if (url_.https) {
            if (!tls_) {
                tls::ClientTarget target;
                if (url_.host_name.empty()) {
                    target.ipv4 = url_.host.value;
                } else {
                    target.server_name = url_.host_name;
                }
                auto c = tools::TlsChannel::client(tcp, h_, tls_config_, target, nullptr);
                if (!c) {
                    fail(kExitFailure, "TLS: " + c.error().message());
                    return false;
                }
                tls_ = std::move(*c);
                channel_ = tls_.get();
            }
            const auto phase = tls_->session().advance();
            if (phase == tls::TlsSession::Phase::Failed) {
                fail_tls(*tls_->session().error());
                return false;
            }
            if (phase == tls::TlsSession::Phase::Handshake) return any;
        } else if (!plain_) {
            plain_ = std::make_unique<tools::TcpChannel>(tcp, h_);
            channel_ = plain_.get();
        }
        // Send the request (small: one call normally takes it all).
        while (sent_ < request_.size()) {
            auto n =
                io_send(stack::Bytes(reinterpret_cast<const std::uint8_t*>(request_.data()) + sent_,
                                     request_.size() - sent_));
            if (!n) return false;
            if (*n == 0) break;
            sent_ += *n;
            any = true;
        }
        // Read everything available.
        for (int guard = 0; guard < 4096; ++guard) {
            auto n = io_recv(stack::MutBytes(buf_, sizeof buf_));
            if (!n) return false;
            if (*n == 0) break;
            any = true;
            const auto st = parser_.feed(std::string_view(reinterpret_cast<const char*>(buf_), *n));
            if (!check(now, st)) return false;
        }
        if (at_end()) {
            // The server closed. A response it cut short is a connection failure (exit 3), not a
            // malformed one: what arrived was well-formed, only the rest never came.
            if (parser_.finish() == tunstack::ResponseParser::Status::Error && !write_failed_) {
                fail(kExitConnection,
                     "connection to " + endpoint() +
                         " closed before the response was complete: " + parser_.error());
                return false;
            }
            if (!check(now, parser_.status())) return false;
        }
        return any;
    }

    // Acts on the parser's state; false when the download ended (either way).
    bool check(stack::Instant now, tunstack::ResponseParser::Status st) {
        if (write_failed_) {
            fail(kExitFailure,
                 std::string("writing the output file: ") + std::strerror(write_errno_));
            return false;
        }
        if (st == tunstack::ResponseParser::Status::Error) {
            fail(kExitHttp, "bad response from " + endpoint() + ": " + parser_.error());
            return false;
        }
        if (parser_.have_head() && parser_.status_code() >= 300) {
            fail(kExitHttp, "HTTP " + std::to_string(parser_.status_code()) + " " +
                                parser_.reason() + " for " + url_text());
            return false;
        }
        if (st == tunstack::ResponseParser::Status::Done) {
            succeed(now);
            return false;
        }
        return true;
    }

    tools::Runtime& rt_;
    tunstack::Url url_;
    int out_fd_;
    std::string out_path_;
    double timeout_s_;
    std::shared_ptr<const tls::ClientConfig> tls_config_;
    // The connection's byte stream, once connected: TLS (https) or the socket itself.
    std::unique_ptr<tools::TlsChannel> tls_;
    std::unique_ptr<tools::TcpChannel> plain_;
    tools::Channel* channel_ = nullptr;
    tunstack::ResponseParser parser_;
    std::string request_;
    std::size_t sent_ = 0;
    stack::SocketHandle h_;
    bool connected_ = false;
    bool finished_ = false;
    bool write_failed_ = false;
    int write_errno_ = 0;
    int rc_ = kExitOk;
    std::string summary_;
    stack::Instant start_;
    std::uint8_t buf_[65536];
};

struct ControlOptions {
    std::string control = kDefaultControl;
    bool prometheus = false;
    bool nonzero = false;
    bool json = false;                  // stats/conns --json
    tools::control::ConnFilter filter;  // conns --state/--port
    double timeout_s = 5;
};

int control_fail(int rc, const std::string& msg) {
    std::fprintf(stderr, "tunstack: error: %s\n", msg.c_str());
    return rc;
}

// One request over the control socket; the reply's payload, or an exit code (message printed).
std::variant<std::string, int> control_request(const ControlOptions& c,
                                               const std::string& command) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (c.control.empty() || c.control.size() >= sizeof sa.sun_path) {
        return usage_error("--control: invalid socket path '" + c.control + "'");
    }
    std::memcpy(sa.sun_path, c.control.c_str(), c.control.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return control_fail(kExitFailure, std::string("socket: ") + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { close(fd); }
    } closer{fd};
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        const int e = errno;
        std::string why = std::strerror(e);
        if (e == ECONNREFUSED) why += " (no tunstackd is listening on it)";
        if (e == ENOENT) why += " (is tunstackd running with --control " + c.control + "?)";
        return control_fail(kExitFailure, "control socket " + c.control + ": " + why);
    }
    const std::string req = command + "\n";
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        return control_fail(kExitFailure,
                            "control socket " + c.control + ": sending: " + std::strerror(errno));
    }
    const stack::Instant deadline =
        drivers::EventLoop::now() +
        stack::Duration::micros(static_cast<std::int64_t>(c.timeout_s * 1e6));
    std::string reply;
    char buf[65536];
    while (true) {
        const std::int64_t left_ms = (deadline - drivers::EventLoop::now()).as_micros() / 1000;
        if (left_ms <= 0) {
            return control_fail(kExitTimeout, "control socket " + c.control +
                                                  ": no complete answer within " +
                                                  std::to_string(c.timeout_s).substr(0, 5) + " s");
        }
        pollfd p{fd, POLLIN, 0};
        const int pr = poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left_ms, 1 << 30)));
        if (pr < 0 && errno != EINTR) {
            return control_fail(kExitFailure, std::string("poll: ") + std::strerror(errno));
        }
        if (pr <= 0) continue;
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return control_fail(
                kExitFailure, "control socket " + c.control + ": reading: " + std::strerror(errno));
        }
        if (n == 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
        if (reply.size() > (std::size_t{256} << 20)) {
            return control_fail(kExitHttp, "control socket " + c.control + ": reply too large");
        }
    }
    std::string error;
    auto payload = tools::control::parse_reply(reply, error);
    if (!payload) return control_fail(kExitHttp, "tunstackd (" + c.control + "): " + error);
    return *payload;
}

int run_stats(const ControlOptions& c) {
    auto r = control_request(c, "stats");
    if (auto* rc = std::get_if<int>(&r)) return *rc;
    const auto samples = tools::parse_stat_lines(std::get<std::string>(r));
    const std::string out = c.prometheus ? tools::format_prometheus(samples)
                            : c.json     ? tools::format_json(samples)
                                         : tools::format_table(samples, c.nonzero);
    std::fputs(out.c_str(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

int run_conns(const ControlOptions& c) {
    auto r = control_request(c, "conns");
    if (auto* rc = std::get_if<int>(&r)) return *rc;
    const auto conns = tools::control::filter_conns(
        tools::control::parse_conns(std::get<std::string>(r)), c.filter);
    const std::string out =
        c.json ? tools::control::format_conns_json(conns) : tools::control::format_conns(conns);
    std::fputs(out.c_str(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

int run_get(const GetOptions& g) {
    std::string error;
    std::optional<tunstack::Resolve> resolve;
    if (!g.resolve.empty()) {
        resolve = tunstack::parse_resolve(g.resolve, error);
        if (!resolve) return usage_error(error);
    }
    auto url = tunstack::parse_url(g.url, error, resolve);
    if (!url) return usage_error(error);
    if (!url->https && (g.insecure || !g.cacert.empty())) {
        return usage_error(std::string(g.insecure ? "--insecure" : "--cacert") +
                           " only applies to https:// URLs");
    }
    if (g.insecure && !g.cacert.empty()) {
        return usage_error("--insecure and --cacert exclude each other");
    }
    auto ro = tools::client_runtime_options(g.net);
    if (!ro) return usage_error(ro.error());
    if (auto why = tools::unreachable_server(*ro, url->host); !why.empty()) {
        return usage_error(why);
    }
    if (!(g.timeout_s > 0 && g.timeout_s <= 86400)) {
        return usage_error("--timeout: expected seconds in (0, 86400]");
    }

    // TLS trust anchors before anything is created: a bad CA file fails at once (exit 1).
    std::shared_ptr<const tls::ClientConfig> tls_config;
    if (url->https) {
        auto rng = tls::Rng::create();
        if (!rng) {
            std::fprintf(stderr, "tunstack: error: TLS: %s\n", rng.error().c_str());
            return kExitFailure;
        }
        tls::ClientOptions to;
        to.verify = !g.insecure;
        to.ca_file = g.cacert;
        to.alpn = {"http/1.1"};
        auto config = tls::ClientConfig::create(*rng, to);
        if (!config) {
            std::fprintf(stderr, "tunstack: error: %s%s\n",
                         g.cacert.empty() ? "" : "--cacert: ", config.error().c_str());
            return kExitFailure;
        }
        tls_config = *config;
    }

    // The body goes to a temporary file that replaces -o FILE only once the download succeeded: a
    // failure of any kind leaves an existing FILE as it was (tools/tunstack/output_file.hpp).
    auto out = tunstack::OutputFile::open(g.output);
    if (!out) {
        std::fprintf(stderr, "tunstack: error: %s\n", out.error().c_str());
        return kExitFailure;
    }
    auto created = tools::Runtime::create(*ro, "tunstack");
    if (!created) {
        out->discard();
        std::fprintf(stderr, "tunstack: error: %s\n", created.error().c_str());
        return kExitFailure;
    }
    GetClient client(**created, *url, out->fd(), g.output, g.timeout_s, tls_config);
    int rc = client.run();
    if (!(*created)->flush_pcap() && rc == kExitOk) rc = kExitFailure;
    if (rc == kExitOk) {
        if (auto c = out->commit(); !c) {
            std::fprintf(stderr, "tunstack: error: %s\n", c.error().c_str());
            rc = kExitFailure;
        } else {
            // With the body on stdout (-o -) the summary goes to stderr, out of its way.
            std::fprintf(out->to_stdout() ? stderr : stdout, "%s\n", client.summary().c_str());
            if (std::fflush(stdout) != 0) rc = kExitFailure;
        }
    } else {
        out->discard();
    }
    if (g.stats) {
        std::string dump;
        (*created)->append_stats(dump);
        std::fputs(dump.c_str(), stderr);
    }
    return rc;
}

// ---- tunstack iperf3 (tools/tunstack/iperf3_client.hpp) ----
struct Iperf3Cli {
    std::string host;
    tunstack::Iperf3Options o;
    tools::ClientTunFlags net;
};

int run_iperf3(Iperf3Cli& c) {
    auto server = stack::wire::Ipv4Address::parse(c.host);
    if (!server) return usage_error("-c: expected an IPv4 address, got '" + c.host + "'");
    c.o.server = *server;
    if (c.o.port == 0) return usage_error("-p: expected a port in 1..65535");
    if (c.o.duration_s < 1 || c.o.duration_s > 3600) return usage_error("-t: expected 1..3600 s");
    if (c.o.parallel < 1 || c.o.parallel > 128) return usage_error("-P: expected 1..128 streams");
    if (c.o.omit_s < 0 || c.o.omit_s > 60) return usage_error("-O: expected 0..60 s");
    auto ro = tools::client_runtime_options(c.net);
    if (!ro) return usage_error(ro.error());
    if (auto why = tools::unreachable_server(*ro, *server); !why.empty()) return usage_error(why);
    std::uint8_t random[36];
    if (getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
        std::fprintf(stderr, "tunstack: error: getrandom: %s\n", std::strerror(errno));
        return kExitFailure;
    }
    auto created = tools::Runtime::create(*ro, "tunstack");
    if (!created) {
        std::fprintf(stderr, "tunstack: error: %s\n", created.error().c_str());
        return kExitFailure;
    }
    tunstack::Iperf3Client client(**created, c.o, tools::iperf3::make_cookie(random));
    int rc = client.run();
    if (!(*created)->flush_pcap() && rc == kExitOk) rc = kExitFailure;
    if (rc == kExitOk) {
        std::fputs(client.report().c_str(), stdout);
        if (std::fflush(stdout) != 0) rc = kExitFailure;
    }
    return rc;
}

}  // namespace

namespace {
int main_impl(int argc, char** argv) {
    CLI::App app{kDescription, "tunstack"};
    app.set_version_flag("--version", std::string("tunstack ") + TUNSTACK_VERSION);
    app.require_subcommand(1);
    GetOptions g;
    CLI::App* get = app.add_subcommand(
        "get",
        "download URL over HTTP/1.1 (or HTTPS) through this client's own stack on its own TUN "
        "device");
    get->add_option("URL", g.url,
                    "http[s]://HOST[:PORT][/PATH]; HOST an IPv4 literal or a --resolve'd name")
        ->required();
    get->add_option("-o,--output", g.output,
                    "write the body to FILE (replaced only on success); - for standard output")
        ->required();
    tools::add_client_tun_flags(*get, g.net);
    get->add_option("--timeout", g.timeout_s, "give up after SECONDS in total")
        ->capture_default_str();
    get->add_option("--cacert", g.cacert,
                    std::string("https: trust the CA certificates in FILE (PEM) instead of ") +
                        tls::kSystemCaFile);
    get->add_flag("--insecure", g.insecure, "https: do not verify the server's certificate at all");
    get->add_flag("--stats", g.stats,
                  "at exit, print this client's stack counters to stderr as 'stat NAME VALUE' "
                  "lines (as tunstackd's dump)");
    get->add_option("--resolve", g.resolve,
                    "NAME:ADDRESS: connect to ADDRESS for URLs with host NAME (sent as SNI and "
                    "checked against the certificate)");
    Iperf3Cli ip3;
    CLI::App* iperf3 = app.add_subcommand(
        "iperf3",
        "an iperf3 client (TCP, like `iperf3 -c`) through this client's own stack on its own TUN "
        "device, against a stock `iperf3 -s` on the kernel side");
    iperf3->add_option("-c,--client", ip3.host, "the iperf3 server's IPv4 address")->required();
    iperf3->add_option("-p,--port", ip3.o.port, "its port")->capture_default_str();
    iperf3->add_option("-t,--time", ip3.o.duration_s, "seconds to send (1..3600)")
        ->capture_default_str();
    iperf3->add_option("-P,--parallel", ip3.o.parallel, "parallel streams (1..128)")
        ->capture_default_str();
    iperf3->add_option("-O,--omit", ip3.o.omit_s, "leave out the first SECONDS (0..60)")
        ->capture_default_str();
    iperf3->add_flag("-R,--reverse", ip3.o.reverse, "the server sends, we receive");
    iperf3->add_flag("-J,--json", ip3.o.json, "print the results as JSON (iperf3's -J shape)");
    tools::add_client_tun_flags(*iperf3, ip3.net);
    ControlOptions ctl;
    CLI::App* stats = app.add_subcommand(
        "stats", "print a running tunstackd's counters (table, or Prometheus text format)");
    CLI::App* conns = app.add_subcommand(
        "conns", "list a running tunstackd's TCP listeners and connections like `ss -tlni`");
    for (CLI::App* sub : {stats, conns}) {
        sub->add_option("--control", ctl.control, "tunstackd's control socket (its --control PATH)")
            ->capture_default_str();
        sub->add_option("--timeout", ctl.timeout_s, "give up after SECONDS")->capture_default_str();
    }
    auto* prom =
        stats->add_flag("--prometheus", ctl.prometheus, "Prometheus text exposition format 0.0.4");
    auto* nonzero =
        stats->add_flag("--nonzero", ctl.nonzero, "leave out counters that are 0 (table only)")
            ->excludes(prom);
    stats->add_flag("--json", ctl.json, "one JSON object: counter name to value")
        ->excludes(prom)
        ->excludes(nonzero);
    conns->add_flag("--json", ctl.json, "a JSON array of objects, one per socket");
    conns->add_option("--state", ctl.filter.state,
                      "only sockets in STATE: ESTABLISHED/ESTAB, LISTEN, SYN-RECV, TIME-WAIT, ... "
                      "or listening, connected");
    conns->add_option("--port", ctl.filter.port, "only sockets with local or peer port PORT");
    // The program's own options (--help, --version) take no value, so the first word that is not
    // an option must be the subcommand: name it when it is unknown (CLI11 would only say that a
    // subcommand is required).
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (!arg.empty() && arg.front() == '-') continue;
        if (arg != "get" && arg != "stats" && arg != "conns" && arg != "iperf3") {
            return usage_error("unknown subcommand '" + std::string(arg) +
                               "' (get, iperf3, stats or conns; see tunstack --help)");
        }
        break;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        const CLI::App* shown = get->parsed()      ? get
                                : iperf3->parsed() ? iperf3
                                : stats->parsed()  ? stats
                                : conns->parsed()  ? conns
                                                   : &app;
        // A subcommand's usage line names the program too ("Usage: tunstack get ...").
        std::fputs(shown->help(shown == &app ? "" : "tunstack").c_str(), stdout);
        return kExitOk;
    } catch (const CLI::CallForVersion&) {
        std::printf("tunstack %s\n", TUNSTACK_VERSION);
        return kExitOk;
    } catch (const CLI::ParseError& e) {
        return usage_error(one_line(e.what()));
    }
    if (get->parsed()) return run_get(g);
    if (iperf3->parsed()) return run_iperf3(ip3);
    if (!(ctl.timeout_s > 0 && ctl.timeout_s <= 3600)) {
        return usage_error("--timeout: expected seconds in (0, 3600]");
    }
    if (stats->parsed()) return run_stats(ctl);
    if (std::string why; conns->parsed() && !ctl.filter.state.empty() &&
                         !tools::control::valid_state_filter(ctl.filter.state, why)) {
        return usage_error("--state: " + why);
    }
    if (conns->parsed()) return run_conns(ctl);
    return usage_error("no subcommand (see tunstack --help)");
}
}  // namespace

// Nothing below main_impl is expected to throw; a std::bad_alloc (or a library exception) still ends
// with one line and exit 1 rather than std::terminate.
int main(int argc, char** argv) {
    try {
        return main_impl(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tunstack: error: %s\n", e.what());
        return 1;
    }
}
