// tunstackd: the daemon. Opens and configures the TUN device, runs the stack on an epoll loop
// (tools/common/runtime.hpp), serves TCP services (services/), records pcap, and shuts down cleanly
// on SIGINT/SIGTERM. See options.hpp for the command-line contract.
//
// Exit codes: 0 clean shutdown, 1 runtime failure (privileges, device, files), 2 bad command line.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

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
    if (auto r = services.start(o.services); !r) {
        log_line("error: " + r.error());
        return kExitFailure;
    }
    rt.on_app([&](stack::Instant now) { return services.handle_events(now); });
    rt.on_signal([&](int signo) {
        if (signo == SIGUSR1) {
            dump_stats(rt, services);
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
