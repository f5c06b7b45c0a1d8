// tunstackd: the daemon. Opens and configures the TUN device, runs the stack on an epoll loop
// (tools/common/runtime.hpp), serves TCP and TLS services (services/), records pcap, answers the
// control socket and the metrics endpoint, drops privileges, tells systemd when it is ready, reloads
// TLS certificates on SIGHUP, and drains on SIGINT/SIGTERM. See options.hpp for the command-line contract and README.md for the operations
// side.
//
// Start-up order (each step can fail with one line on stderr and exit 1; nothing is left behind):
//   as root without --user/--stay-root: warn, and --user nobody is implied → open --www → TLS certificates loaded (or one
//   generated) → pcap, TUN device, configure it
//   (Runtime) → listen on the services → bind --control and --metrics → drop privileges (--user) →
//   "tunstackd: ready" and sd_notify(READY=1).
// Shutdown: SIGINT/SIGTERM → drain (STOPPING=1; ServiceHost::drain: no new connections, responses
// finished, idle connections closed with FIN) until every connection is finished or --drain-timeout
// passes, then RST for what remains → counters → pcap flushed → device removed (closing the fd) →
// exit 0. A second SIGINT/SIGTERM during the drain ends it at once (same clean exit).
//
// Exit codes: 0 clean shutdown, 1 runtime failure (privileges, device, files), 2 bad command line.
#include <fcntl.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <string>

#include "tls/certgen.hpp"
#include "tls/config.hpp"
#include "tools/common/control_protocol.hpp"
#include "tools/common/http1.hpp"
#include "tools/common/metrics.hpp"
#include "tools/common/request_server.hpp"
#include "tools/common/runtime.hpp"
#include "tools/tunstackd/options.hpp"
#include "tools/tunstackd/privileges.hpp"
#include "tools/tunstackd/services/services.hpp"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr const char* kDefaultUser = "nobody";  // root without --user or --stay-root drops to it

std::string stats_text(const tools::Runtime& rt, const tunstackd::ServiceHost& services) {
    std::string out;
    rt.append_stats(out);
    services.append_stats(out);
    return out;
}

void dump_stats(const tools::Runtime& rt, const tunstackd::ServiceHost& services) {
    std::string out = "tunstackd: stats\n";
    out += stats_text(rt, services);
    out += "tunstackd: end stats\n";
    std::fputs(out.c_str(), stderr);
    std::fflush(stderr);
}

// TLS state that outlives reloads: the DRBG, the ticket keys (so tickets survive a reload), and
// what the current configuration was built from.
struct Tls {
    std::shared_ptr<tls::Rng> rng;
    std::shared_ptr<tls::TicketKeys> tickets;
    std::shared_ptr<const tls::ServerConfig> config;
};

std::string describe(const tls::CertKey& ck) {
    std::string names;
    for (const auto& n : ck.names()) names += (names.empty() ? "" : ",") + n;
    return ck.subject() + " (names " + (names.empty() ? "-" : names) + ") SHA-256 " +
           ck.fingerprint();
}

// Loads every --cert/--key pair. Error: one line naming the file.
stack::Result<std::shared_ptr<const tls::ServerConfig>, std::string> load_certificates(
    const tunstackd::Options& o, Tls& t, std::vector<std::string>& described) {
    std::vector<std::unique_ptr<tls::CertKey>> certs;
    for (std::size_t i = 0; i < o.certs.size(); ++i) {
        auto ck = tls::CertKey::from_files(o.certs[i], o.keys[i], *t.rng);
        if (!ck) return stack::Err(ck.error());
        described.push_back(o.certs[i] + ": " + describe(**ck));
        certs.push_back(std::move(*ck));
    }
    auto config = tls::ServerConfig::create(t.rng, std::move(certs), t.tickets, {});
    if (!config) return stack::Err(config.error());
    return std::shared_ptr<const tls::ServerConfig>(*config);
}

// A self-signed ECDSA P-256 certificate for --addr (CN and iPAddress SAN), valid from an hour ago
// (clock skew) for a year. Written to --cert-out if asked.
stack::Result<std::shared_ptr<const tls::ServerConfig>, std::string> generate_certificate(
    const tunstackd::Options& o, Tls& t, tools::Logger& log) {
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    tls::CertRequest req;
    req.common_name = o.addr.to_string();
    req.ipv4s = {o.addr.value};
    req.not_before = tls::x509_time(now - 3600);
    req.not_after = tls::x509_time(now + std::int64_t{365} * 86400);
    std::uint64_t serial = 0;
    if (tls::Rng::random(t.rng.get(), reinterpret_cast<unsigned char*>(&serial), sizeof serial) !=
        0) {
        return stack::Err(std::string("cannot draw a certificate serial number"));
    }
    req.serial = (serial >> 1) | 1;  // positive and non-zero (RFC 5280 §4.1.2.2)
    auto gen = tls::generate_cert(req, *t.rng);
    if (!gen) return stack::Err(gen.error());
    auto ck = tls::CertKey::from_pem(gen->cert_pem, gen->key_pem, *t.rng, "generated certificate");
    if (!ck) return stack::Err(ck.error());
    std::string where = "not written (--cert-out FILE saves it)";
    if (!o.cert_out.empty()) {
        const int fd = open(o.cert_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return stack::Err("--cert-out " + o.cert_out + ": " + std::strerror(errno));
        const std::string& pem = gen->cert_pem;
        const ssize_t n = write(fd, pem.data(), pem.size());
        const int e = errno;
        if (close(fd) != 0 || n != static_cast<ssize_t>(pem.size())) {
            return stack::Err("--cert-out " + o.cert_out + ": " +
                              std::strerror(n < 0        ? e
                                            : errno != 0 ? errno
                                                         : EIO));
        }
        where = "written to " + o.cert_out;
    }
    log.info("tls: generated a self-signed ECDSA P-256 certificate for " + o.addr.to_string() +
             ", valid until " + req.not_after.substr(0, 8) + ", SHA-256 fingerprint " +
             (*ck)->fingerprint() + ", " + where);
    std::vector<std::unique_ptr<tls::CertKey>> certs;
    certs.push_back(std::move(*ck));
    auto config = tls::ServerConfig::create(t.rng, std::move(certs), t.tickets, {});
    if (!config) return stack::Err(config.error());
    return std::shared_ptr<const tls::ServerConfig>(*config);
}

stack::Result<void, std::string> setup_tls(const tunstackd::Options& o, Tls& t,
                                           tools::Logger& log) {
    auto rng = tls::Rng::create();
    if (!rng) return stack::Err("TLS: " + rng.error());
    t.rng = *rng;
    auto tickets = tls::TicketKeys::create(t.rng, tls::kDefaultTicketLifetimeS);
    if (!tickets) return stack::Err("TLS: " + tickets.error());
    t.tickets = *tickets;
    if (o.certs.empty()) {
        auto config = generate_certificate(o, t, log);
        if (!config) return stack::Err(config.error());
        t.config = *config;
        return stack::Ok{};
    }
    std::vector<std::string> described;
    auto config = load_certificates(o, t, described);
    if (!config) return stack::Err(config.error());
    t.config = *config;
    for (const auto& d : described) log.info("tls: certificate " + d);
    return stack::Ok{};
}

// SIGHUP: rebuild from the same files; on any error keep serving with the current configuration.
void reload_tls(const tunstackd::Options& o, Tls& t, tunstackd::ServiceHost& services,
                tools::Logger& log) {
    if (o.certs.empty()) {
        log.info("tls: SIGHUP: no --cert files to reload; keeping the generated certificate");
        return;
    }
    std::vector<std::string> described;
    auto config = load_certificates(o, t, described);
    if (!config) {
        log.error("tls: reload failed, keeping the current certificates: " + config.error());
        return;
    }
    t.config = *config;
    services.replace_tls_config(t.config);
    for (const auto& d : described) log.info("tls: reloaded certificate " + d);
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// The control protocol's commands (tools/common/control_protocol.hpp).
std::string control_reply(const std::string& request, const tools::Runtime& rt,
                          const tunstackd::ServiceHost& services,
                          const std::vector<tunstackd::ServiceSpec>& specs) {
    namespace ctl = tools::control;
    const std::size_t nl = request.find('\n');
    if (nl == std::string::npos) {
        return ctl::error_reply("request too long or not ended by a newline");
    }
    std::string cmd = request.substr(0, nl);
    if (!cmd.empty() && cmd.back() == '\r') cmd.pop_back();
    if (cmd == "ping") return ctl::ok_reply("");
    if (cmd == "stats") return ctl::ok_reply(stats_text(rt, services));
    if (cmd == "conns") {
        std::string out;
        // The listeners are the services' (closed once a drain starts), then every connection.
        for (const auto& spec : specs) {
            if (services.draining()) break;
            out += ctl::encode_listener(rt.stack().config().addr, spec.port,
                                        tunstackd::to_string(spec.kind));
        }
        rt.stack().tcp().for_each_connection(
            [&](const stack::tcp::ConnectionInfo& i) { out += ctl::encode_conn(i); });
        return ctl::ok_reply(out);
    }
    std::string shown;
    for (char c : cmd.substr(0, 64)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    return ctl::error_reply("unknown command '" + shown + "' (ping, stats or conns)");
}

std::string http_reply(int status, std::string_view reason, std::string_view type,
                       const std::string& body) {
    return tools::http1::status_line(status, reason) + "Content-Type: " + std::string(type) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           body;
}

// GET /metrics (or /) → the Prometheus text exposition; anything else 404/405/400.
std::string metrics_reply(const std::string& request, const tools::Runtime& rt,
                          const tunstackd::ServiceHost& services) {
    const std::size_t eol = request.find("\r\n");
    if (eol == std::string::npos || request.find("\r\n\r\n") == std::string::npos) {
        return http_reply(400, "Bad Request", "text/plain", "bad request\n");
    }
    const std::string line = request.substr(0, eol);
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
        return http_reply(400, "Bad Request", "text/plain", "bad request\n");
    }
    const std::string method = line.substr(0, sp1);
    const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (method != "GET" && method != "HEAD") {
        return http_reply(405, "Method Not Allowed", "text/plain", "only GET\n");
    }
    if (target != "/metrics" && target != "/") {
        return http_reply(404, "Not Found", "text/plain", "try /metrics\n");
    }
    std::string body = tools::format_prometheus(tools::parse_stat_lines(stats_text(rt, services)));
    std::string reply = http_reply(200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
    if (method == "HEAD") reply.resize(reply.size() - body.size());
    return reply;
}

// SIGINT/SIGTERM: drain, then stop (see the top of this file).
class Shutdown {
public:
    Shutdown(tools::Runtime& rt, tunstackd::ServiceHost& services, double timeout_s)
        : rt_(rt), services_(services), timeout_s_(timeout_s) {}

    void begin(stack::Instant now, int signo) {
        if (draining_) {
            rt_.logger().warn(std::string("received ") + sigabbrev_np(signo) +
                              " again: stopping now");
            expired_ = true;
            return;
        }
        draining_ = true;
        sd_notify(0, "STOPPING=1\nSTATUS=draining connections");
        rt_.logger().info(std::string("received ") + sigabbrev_np(signo) + ", draining " +
                          std::to_string(services_.sessions()) + " session(s) for up to " +
                          format_secs(timeout_s_) + " s");
        services_.drain(now);
        rt_.loop().add_timer(
            now + stack::Duration::micros(static_cast<std::int64_t>(timeout_s_ * 1e6)),
            [this](stack::Instant) { expired_ = true; });
    }

    // Called from the application hook after the services ran; true if it did something.
    bool step(stack::Instant now) {
        if (!draining_ || stopping_) return false;
        if (expired_) {
            const std::size_t sessions = services_.abort_all(now);
            const std::size_t conns = rt_.stack().tcp().abort_all(now);
            if (sessions + conns > 0) {
                rt_.logger().warn("drain timeout: reset " + std::to_string(conns) +
                                  " unfinished connection(s)");
            }
            stopping_ = true;  // the RSTs go out with the next poll; stop on the next hook call
            return true;
        }
        if (services_.sessions() == 0 && all_finished()) {
            rt_.logger().info("drained: every connection finished");
            stopping_ = true;
            return true;
        }
        return false;
    }
    bool stopping() const { return stopping_; }

private:
    static std::string format_secs(double s) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", s);
        return buf;
    }
    // Finished: our FIN acknowledged (FIN-WAIT-2, TIME-WAIT) or gone; nothing of ours in flight.
    bool all_finished() const {
        bool done = true;
        rt_.stack().tcp().for_each_connection([&](const stack::tcp::ConnectionInfo& i) {
            if (i.state != stack::tcp::TcpState::TimeWait &&
                i.state != stack::tcp::TcpState::FinWait2 &&
                i.state != stack::tcp::TcpState::Closed) {
                done = false;
            }
        });
        return done;
    }

    tools::Runtime& rt_;
    tunstackd::ServiceHost& services_;
    double timeout_s_;
    bool draining_ = false;
    bool expired_ = false;
    bool stopping_ = false;
};

int run(const tunstackd::Options& o) {
    tools::Logger log("tunstackd", o.log_level);
    log.set_timestamps(true);  // a daemon's log lines carry the time (the journal adds its own)
    // Never keep running as root by accident: without --user or --stay-root, root drops to
    // kDefaultUser once the device is set up, and says so.
    std::string user = o.user;
    if (geteuid() == 0 && user.empty() && !o.stay_root) {
        if (!tunstackd::user_uid(kDefaultUser)) {
            log.error(std::string("not staying root, but there is no user '") + kDefaultUser +
                      "' to drop to: give --user NAME, or --stay-root to keep root on purpose");
            return kExitUsage;
        }
        user = kDefaultUser;
        log.warn(
            std::string("not staying root: no --user given, dropping to '") + kDefaultUser +
            "' once the device is set up (--user NAME picks the user, --stay-root keeps root)");
    }
    const Fd www(o.www.empty() ? -1 : open(o.www.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!o.www.empty() && www.get() < 0) {
        log.error("--www " + o.www + ": " + std::strerror(errno));
        return kExitFailure;
    }

    Tls tls_state;
    if (o.serves_tls()) {
        if (auto r = setup_tls(o, tls_state, log); !r) {
            log.error(r.error());
            return kExitFailure;
        }
    }

    tools::RuntimeOptions ro;
    ro.tun = o.tun;
    ro.host_addr = o.host_addr;
    ro.addr = o.addr;
    ro.mtu = o.mtu;
    ro.txqueuelen = o.txqueuelen;
    ro.offload = o.offload;
    ro.tcp.congestion = o.congestion;
    ro.tcp.max_connections = o.max_connections;
    ro.tcp.send_buffer = o.sndbuf;
    ro.tcp.recv_buffer = o.rcvbuf;
    ro.tcp.mem_budget = o.mem_budget;
    ro.tcp.max_time_wait = o.max_time_wait;
    ro.reasm_timeout_s = o.reasm_timeout_s;
    ro.pcap = o.pcap;
    ro.impair = o.impair;
    ro.log_level = o.log_level;
    ro.log_timestamps = true;
    auto created = tools::Runtime::create(ro, "tunstackd");
    if (!created) {
        log.error(created.error());
        return kExitFailure;
    }
    tools::Runtime& rt = **created;

    tunstackd::ServiceHost services(rt.stack().tcp(), o.www, www.get());
    services.set_logger([&rt](const std::string& line) { rt.logger().warn(line); });
    {
        tunstackd::HttpServiceOptions ho;
        ho.header_timeout = stack::Duration::seconds(o.header_timeout_s);
        ho.keepalive_timeout = stack::Duration::seconds(o.keepalive_timeout_s);
        ho.body_timeout = stack::Duration::seconds(o.body_timeout_s);
        services.set_http_options(ho);
    }
    // --access-log: opened here, before any privilege drop; one write(2) per line, O_APPEND.
    const Fd access_log(
        o.access_log.empty()
            ? -1
            : open(o.access_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (!o.access_log.empty() && access_log.get() < 0) {
        log.error("--access-log " + o.access_log + ": " + std::strerror(errno));
        return kExitFailure;
    }
    if (access_log.get() >= 0) {
        services.set_access_log([fd = access_log.get()](const std::string& line) {
            const std::string l = line + "\n";
            (void)!write(fd, l.data(), l.size());
        });
    }
    if (tls_state.config) {
        tunstackd::TlsServiceOptions to;
        to.handshake_timeout = stack::Duration::seconds(o.tls_handshake_timeout_s);
        to.max_sessions = o.tls_max_sessions;
        services.set_tls(tls_state.config, to);
    }
    if (auto r = services.start(o.services); !r) {
        log.error(r.error());
        return kExitFailure;
    }

    std::unique_ptr<tools::RequestServer> control, metrics;
    if (!o.control.empty()) {
        auto s = tools::RequestServer::listen_unix(
            rt.loop(), o.control, "\n", tools::control::kMaxRequest,
            [&](const std::string& req) { return control_reply(req, rt, services, o.services); });
        if (!s) {
            log.error(s.error());
            return kExitFailure;
        }
        control = std::move(*s);
    }
    if (o.metrics_addr) {
        auto s = tools::RequestServer::listen_tcp(
            rt.loop(), *o.metrics_addr, o.metrics_port, "\r\n\r\n", 8192,
            [&](const std::string& req) { return metrics_reply(req, rt, services); });
        if (!s) {
            log.error(s.error());
            return kExitFailure;
        }
        metrics = std::move(*s);
    }

    if (!user.empty()) {
        if (auto r = tunstackd::drop_privileges(user); !r) {
            log.error(r.error());
            return kExitFailure;
        }
    }

    Shutdown shutdown(rt, services, o.drain_timeout_s);
    rt.on_app([&](stack::Instant now) {
        if (shutdown.stopping()) {
            rt.stop();
            return false;
        }
        bool any = services.handle_events(now);
        any = shutdown.step(now) || any;
        return any;
    });
    rt.on_app_poll_at([&] { return services.poll_at(); });
    rt.on_signal([&](int signo) {
        if (signo == SIGUSR1) {
            dump_stats(rt, services);
        } else if (signo == SIGHUP) {
            if (tls_state.config) {
                reload_tls(o, tls_state, services, rt.logger());
            } else {
                rt.logger().info("SIGHUP: nothing to reload (no TLS service)");
            }
        } else if (signo == SIGINT || signo == SIGTERM) {
            shutdown.begin(drivers::EventLoop::now(), signo);
            rt.loop().set_wakeup(drivers::EventLoop::now());  // act on it in this iteration's tick
        }
    });

    std::string served;
    for (const auto& s : o.services) {
        served += (served.empty() ? ", serving " : " ") +
                  std::string(tunstackd::to_string(s.kind)) + ":" + std::to_string(s.port);
    }
    if (o.impair) served += ", impair " + o.impair->to_string();
    if (!user.empty()) served += ", running as " + user;
    if (!o.control.empty()) served += ", control " + o.control;
    if (o.metrics_addr) {
        served += ", metrics http://" + o.metrics_addr->to_string() + ":" +
                  std::to_string(o.metrics_port) + "/metrics";
    }
    const std::string ready = "ready: device " + o.tun + " (kernel side " +
                              o.host_addr.to_string() + ", stack " + o.addr.to_string() + ", mtu " +
                              std::to_string(o.mtu) + ")" + served;
    rt.logger().info(ready);
    // Type=notify: systemd starts dependent units only now. Harmless without NOTIFY_SOCKET.
    const std::string notify = "READY=1\nSTATUS=" + ready;
    sd_notify(0, notify.c_str());

    bool ok = rt.run();
    dump_stats(rt, services);
    ok = rt.flush_pcap() && ok;
    if (control) control->close_listener();
    rt.logger().info("removed device " + o.tun + ", exiting");
    return ok ? 0 : kExitFailure;
}

}  // namespace

namespace {
int main_impl(int argc, char** argv) {
    auto outcome = tunstackd::parse_options(argc, argv);
    if (auto* text = std::get_if<tunstackd::ShowText>(&outcome)) {
        std::fputs(text->text.c_str(), stdout);
        return 0;
    }
    if (auto* err = std::get_if<tunstackd::UsageError>(&outcome)) {
        tools::Logger("tunstackd").error(err->message);  // journal priority like runtime errors
        return kExitUsage;
    }
    return run(std::get<tunstackd::Options>(outcome));
}
}  // namespace

// Nothing below main_impl is expected to throw; a std::bad_alloc (or a library exception) still ends
// with one line and exit 1 rather than std::terminate.
int main(int argc, char** argv) {
    try {
        return main_impl(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tunstackd: error: %s\n", e.what());
        return 1;
    }
}
