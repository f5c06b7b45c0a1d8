// tunstackd: the daemon. Opens and configures the TUN device, runs the stack on an epoll loop, records
// pcap, and shuts down cleanly on SIGINT/SIGTERM. See options.hpp for the command-line contract.
//
// Exit codes: 0 clean shutdown, 1 runtime failure (privileges, device, files), 2 bad command line.
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "drivers/event_loop.hpp"
#include "drivers/netlink.hpp"
#include "drivers/pcap_writer.hpp"
#include "drivers/tun_device.hpp"
#include "stack/stack.hpp"
#include "tools/tunstackd/options.hpp"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kReadBatch = 64;  // packets read per readiness event before yielding to timers/output

void log_line(const std::string& line) { std::fprintf(stderr, "tunstackd: %s\n", line.c_str()); }

std::uint64_t random_seed() {
    std::uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
        log_line(std::string("warning: getrandom failed (") + std::strerror(errno) +
                 "), using a weak seed");
        seed = static_cast<std::uint64_t>(getpid()) ^
               static_cast<std::uint64_t>(drivers::EventLoop::now().as_micros());
    }
    return seed;
}

void dump_stats(const stack::Stack& stack, const drivers::TunDevice& tun) {
    std::string out = "tunstackd: stats\n";
    stack.stats().visit([&](std::string_view name, std::uint64_t value) {
        out += "stat ";
        out += name;
        out += ' ';
        out += std::to_string(value);
        out += '\n';
    });
    out += "stat tun.rx_packets " + std::to_string(tun.stats().rx_packets) + "\n";
    out += "stat tun.tx_packets " + std::to_string(tun.stats().tx_packets) + "\n";
    out += "stat tun.tx_full " + std::to_string(tun.stats().tx_full) + "\n";
    out += "stat tun.tx_errors " + std::to_string(tun.stats().tx_errors) + "\n";
    out += "tunstackd: end stats\n";
    std::fputs(out.c_str(), stderr);
    std::fflush(stderr);
}

int run(const tunstackd::Options& o) {
    std::optional<drivers::PcapWriter> pcap;
    if (!o.pcap.empty()) {
        auto opened = drivers::PcapWriter::open(o.pcap);
        if (!opened) {
            log_line("error: --pcap: " + opened.error().message);
            return kExitFailure;
        }
        pcap.emplace(std::move(*opened));
    }

    auto opened = drivers::TunDevice::open(o.tun);
    if (!opened) {
        log_line("error: " + opened.error().message);
        return kExitFailure;
    }
    drivers::TunDevice tun = std::move(*opened);
    if (auto r = drivers::configure_tun(tun, o.host_addr.address, o.host_addr.prefix_len, o.mtu,
                                        o.txqueuelen);
        !r) {
        log_line("error: configuring " + o.tun + ": " + r.error().message);
        return kExitFailure;
    }

    stack::StackConfig config;
    config.addr = o.addr;
    config.mtu = static_cast<std::uint16_t>(o.mtu);
    config.seed = random_seed();
    config.reassembly.timeout = stack::Duration::seconds(o.reasm_timeout_s);
    stack::Stack stack(config);

    auto created = drivers::EventLoop::create();
    if (!created) {
        log_line("error: " + created.error().message);
        return kExitFailure;
    }
    drivers::EventLoop loop = std::move(*created);
    std::optional<drivers::PcapTap> tap;
    if (pcap) tap.emplace(tun, *pcap);
    stack::PacketSink& sink = tap ? static_cast<stack::PacketSink&>(*tap) : tun;
    bool want_write = false;

    auto signals = loop.handle_signals([&](int signo) {
        if (signo == SIGUSR1) {
            dump_stats(stack, tun);
        } else if (signo == SIGINT || signo == SIGTERM) {
            log_line(std::string("received ") + sigabbrev_np(signo) + ", shutting down");
            loop.stop();
        }
    });
    if (!signals) {
        log_line("error: " + signals.error().message);
        return kExitFailure;
    }

    std::vector<std::uint8_t> rx(65536);
    bool fatal = false;
    auto added = loop.add_fd(tun.fd(), drivers::Interest::Read, [&](drivers::IoEvents ev) {
        if (ev.error) {
            log_line("error: " + o.tun + " reported an error condition");
            fatal = true;
            loop.stop();
            return;
        }
        if (!ev.readable) return;
        const stack::Instant now = drivers::EventLoop::now();
        for (int i = 0; i < kReadBatch; ++i) {
            auto n = tun.read(stack::MutBytes(rx));
            if (!n) {
                if (!n.error().would_block()) {
                    log_line("error: reading " + o.tun + ": " + n.error().message);
                    fatal = true;
                    loop.stop();
                }
                break;
            }
            stack::Bytes packet(rx.data(), *n);
            if (pcap) pcap->record_now(packet);
            stack.ingress(now, packet);
        }
    });
    if (!added) {
        log_line("error: " + added.error().message);
        return kExitFailure;
    }
    loop.on_tick([&](stack::Instant now) {
        stack.poll(now, sink);
        loop.set_wakeup(stack.poll_at());
        // A refused packet stays queued; wait for the device to become writable instead of spinning.
        if (stack.has_pending_output() != want_write) {
            want_write = stack.has_pending_output();
            (void)loop.set_interest(tun.fd(), want_write ? drivers::Interest::ReadWrite
                                                         : drivers::Interest::Read);
        }
    });

    log_line("ready: device " + o.tun + " (kernel side " + o.host_addr.to_string() + ", stack " +
             o.addr.to_string() + ", mtu " + std::to_string(o.mtu) + ")");
    auto ran = loop.run();
    if (!ran) {
        log_line("error: event loop: " + ran.error().message);
        fatal = true;
    }
    loop.remove_fd(tun.fd());
    dump_stats(stack, tun);
    if (pcap) {
        if (auto r = pcap->flush(); !r) {
            log_line("error: --pcap: " + r.error().message);
            fatal = true;
        }
    }
    log_line("removed device " + o.tun + ", exiting");
    return fatal ? kExitFailure : 0;
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
