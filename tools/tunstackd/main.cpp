// tunstackd: the daemon. Opens and configures the TUN device, runs the stack on an epoll loop
// (tools/common/runtime.hpp), serves TCP and TLS services (services/), records pcap, reloads TLS
// certificates on SIGHUP, and shuts down cleanly on SIGINT/SIGTERM. See options.hpp for the
// command-line contract.
//
// TLS material is loaded (or generated) before the device is created, so a bad certificate or key
// file fails the start with one line and no side effects.
//
// Exit codes: 0 clean shutdown, 1 runtime failure (privileges, device, files), 2 bad command line.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

#include "tls/certgen.hpp"
#include "tls/config.hpp"
#include "tools/common/runtime.hpp"
#include "tools/tunstackd/options.hpp"
#include "tools/tunstackd/services/services.hpp"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

void log_line(const std::string& line) { std::fprintf(stderr, "tunstackd: %s\n", line.c_str()); }

void dump_stats(const tools::Runtime& rt, const tunstackd::ServiceHost& services) {
    std::string out = "tunstackd: stats\n";
    rt.append_stats(out);
    services.append_stats(out);
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
    const tunstackd::Options& o, Tls& t) {
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    tls::CertRequest req;
    req.common_name = o.addr.to_string();
    req.ipv4s = {o.addr.value};
    req.not_before = tls::x509_time(now - 3600);
    req.not_after = tls::x509_time(now + 365 * 86400);
    std::uint64_t serial = 0;
    if (tls::Rng::random(t.rng.get(), reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 0) {
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
                              std::strerror(n < 0 ? e : errno != 0 ? errno : EIO));
        }
        where = "written to " + o.cert_out;
    }
    log_line("tls: generated a self-signed ECDSA P-256 certificate for " + o.addr.to_string() +
             ", valid until " + req.not_after.substr(0, 8) + ", SHA-256 fingerprint " +
             (*ck)->fingerprint() + ", " + where);
    std::vector<std::unique_ptr<tls::CertKey>> certs;
    certs.push_back(std::move(*ck));
    auto config = tls::ServerConfig::create(t.rng, std::move(certs), t.tickets, {});
    if (!config) return stack::Err(config.error());
    return std::shared_ptr<const tls::ServerConfig>(*config);
}

stack::Result<void, std::string> setup_tls(const tunstackd::Options& o, Tls& t) {
    auto rng = tls::Rng::create();
    if (!rng) return stack::Err("TLS: " + rng.error());
    t.rng = *rng;
    auto tickets = tls::TicketKeys::create(t.rng, tls::kDefaultTicketLifetimeS);
    if (!tickets) return stack::Err("TLS: " + tickets.error());
    t.tickets = *tickets;
    if (o.certs.empty()) {
        auto config = generate_certificate(o, t);
        if (!config) return stack::Err(config.error());
        t.config = *config;
        return stack::Ok{};
    }
    std::vector<std::string> described;
    auto config = load_certificates(o, t, described);
    if (!config) return stack::Err(config.error());
    t.config = *config;
    for (const auto& d : described) log_line("tls: certificate " + d);
    return stack::Ok{};
}

// SIGHUP: rebuild from the same files; on any error keep serving with the current configuration.
void reload_tls(const tunstackd::Options& o, Tls& t, tunstackd::ServiceHost& services) {
    if (o.certs.empty()) {
        log_line("tls: SIGHUP: no --cert files to reload; keeping the generated certificate");
        return;
    }
    std::vector<std::string> described;
    auto config = load_certificates(o, t, described);
    if (!config) {
        log_line("error: tls: reload failed, keeping the current certificates: " + config.error());
        return;
    }
    t.config = *config;
    services.replace_tls_config(t.config);
    for (const auto& d : described) log_line("tls: reloaded certificate " + d);
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

int run(const tunstackd::Options& o) {
    const Fd www(o.www.empty() ? -1 : open(o.www.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!o.www.empty() && www.get() < 0) {
        log_line("error: --www " + o.www + ": " + std::strerror(errno));
        return kExitFailure;
    }

    Tls tls_state;
    if (o.serves_tls()) {
        if (auto r = setup_tls(o, tls_state); !r) {
            log_line("error: " + r.error());
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
    ro.reasm_timeout_s = o.reasm_timeout_s;
    ro.pcap = o.pcap;
    ro.impair = o.impair;
    auto created = tools::Runtime::create(ro, "tunstackd");
    if (!created) {
        log_line("error: " + created.error());
        return kExitFailure;
    }
    tools::Runtime& rt = **created;

    tunstackd::ServiceHost services(rt.stack().tcp(), o.www, www.get());
    services.set_logger(log_line);
    if (tls_state.config) {
        tunstackd::TlsServiceOptions to;
        to.handshake_timeout = stack::Duration::seconds(o.tls_handshake_timeout_s);
        to.max_sessions = o.tls_max_sessions;
        services.set_tls(tls_state.config, to);
    }
    if (auto r = services.start(o.services); !r) {
        log_line("error: " + r.error());
        return kExitFailure;
    }
    rt.on_app([&](stack::Instant now) { return services.handle_events(now); });
    rt.on_app_poll_at([&] { return services.poll_at(); });
    rt.on_signal([&](int signo) {
        if (signo == SIGUSR1) {
            dump_stats(rt, services);
        } else if (signo == SIGHUP) {
            if (tls_state.config) {
                reload_tls(o, tls_state, services);
            } else {
                log_line("SIGHUP: nothing to reload (no TLS service)");
            }
        } else if (signo == SIGINT || signo == SIGTERM) {
            log_line(std::string("received ") + sigabbrev_np(signo) + ", shutting down");
            rt.stop();
        }
    });

    std::string served;
    for (const auto& s : o.services) {
        served += (served.empty() ? ", serving " : " ") + std::string(tunstackd::to_string(s.kind)) +
                  ":" + std::to_string(s.port);
    }
    if (o.impair) served += ", impair " + o.impair->to_string();
    log_line("ready: device " + o.tun + " (kernel side " + o.host_addr.to_string() + ", stack " +
             o.addr.to_string() + ", mtu " + std::to_string(o.mtu) + ")" + served);
    bool ok = rt.run();
    dump_stats(rt, services);
    ok = rt.flush_pcap() && ok;
    log_line("removed device " + o.tun + ", exiting");
    return ok ? 0 : kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
    auto outcome = tunstackd::parse_options(argc, argv);
    if (auto* text = std::get_if<tunstackd::ShowText>(&outcome)) {
        std::fputs(text->text.c_str(), stdout);
        return 0;
    }
    if (auto* err = std::get_if<tunstackd::UsageError>(&outcome)) {
        std::fprintf(stderr, "tunstackd: error: %s\n", err->message.c_str());
        return kExitUsage;
    }
    return run(std::get<tunstackd::Options>(outcome));
}
