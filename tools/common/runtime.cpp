#include "tools/common/runtime.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "drivers/netlink.hpp"

namespace tools {

namespace {
constexpr int kReadBatch = 64;  // packets read per readiness event before yielding to timers/output
constexpr int kAppRounds = 4;   // app hook + poll repetitions per tick while the hook has work
}  // namespace

std::uint64_t random_seed(const std::string& prog) {
    std::uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
        std::fprintf(stderr, "%s: warning: getrandom failed (%s), using a weak seed\n",
                     prog.c_str(), std::strerror(errno));
        seed = static_cast<std::uint64_t>(getpid()) ^
               static_cast<std::uint64_t>(drivers::EventLoop::now().as_micros());
    }
    return seed;
}

std::optional<std::array<std::uint8_t, 32>> random_tcp_secret(const std::string& prog) {
    std::array<std::uint8_t, 32> secret{};
    if (getrandom(secret.data(), secret.size(), 0) != static_cast<ssize_t>(secret.size())) {
        std::fprintf(stderr,
                     "%s: warning: getrandom failed (%s), TCP secrets derived from the seed\n",
                     prog.c_str(), std::strerror(errno));
        return std::nullopt;
    }
    return secret;
}

std::vector<std::string> overlapping_subnets(const stack::wire::Ipv4Cidr& subnet,
                                             std::string_view own_device) {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET ||
            i->ifa_netmask == nullptr || i->ifa_name == nullptr || own_device == i->ifa_name) {
            continue;
        }
        sockaddr_in a{}, m{};
        std::memcpy(&a, i->ifa_addr, sizeof a);
        std::memcpy(&m, i->ifa_netmask, sizeof m);
        stack::wire::Ipv4Cidr other;
        other.address = stack::wire::Ipv4Address(ntohl(a.sin_addr.s_addr));
        other.prefix_len = static_cast<std::uint8_t>(__builtin_popcount(m.sin_addr.s_addr));
        if (other.address.is_loopback()) continue;
        // Two subnets overlap when the shorter prefix contains the other's network.
        const auto& wider = other.prefix_len < subnet.prefix_len ? other : subnet;
        const auto& narrower = other.prefix_len < subnet.prefix_len ? subnet : other;
        if (wider.contains(narrower.address)) {
            out.push_back(other.to_string() + " on " + i->ifa_name);
        }
    }
    freeifaddrs(list);
    return out;
}

stack::Result<std::unique_ptr<Runtime>, std::string> Runtime::create(const RuntimeOptions& o,
                                                                     std::string prog) {
    // Another interface already routing (part of) this subnet makes the kernel's choice of device
    // for it ambiguous: warn before the device takes the address (not refused: it may be intended).
    const auto overlaps = overlapping_subnets(o.host_addr, o.tun);
    std::optional<drivers::PcapWriter> pcap;
    if (!o.pcap.empty()) {
        auto opened = drivers::PcapWriter::open(o.pcap);
        if (!opened) return stack::Err(std::string("--pcap: " + opened.error().message));
        pcap.emplace(std::move(*opened));
    }
    drivers::TunOptions tun_options;
    tun_options.vnet_hdr = o.offload;
    auto opened = drivers::TunDevice::open(o.tun, tun_options);
    if (!opened) return stack::Err(std::string(opened.error().message));
    drivers::TunDevice tun = std::move(*opened);
    if (auto r = drivers::configure_tun(tun, o.host_addr.address, o.host_addr.prefix_len, o.mtu,
                                        o.txqueuelen);
        !r) {
        return stack::Err(std::string("configuring " + o.tun + ": " + r.error().message));
    }
    auto created = drivers::EventLoop::create();
    if (!created) return stack::Err(std::string(created.error().message));

    std::unique_ptr<Runtime> rt(
        new Runtime(o, std::move(prog), std::move(tun), std::move(*created)));
    for (const std::string& other : overlaps) {
        rt->logger_.warn("--host-addr " + o.host_addr.to_string() + " overlaps " + other +
                         ": the kernel may route this subnet's traffic to either device");
    }
    if (pcap) {
        rt->pcap_.emplace(std::move(*pcap));
        rt->tap_.emplace(rt->tun_, *rt->pcap_);
    }
    stack::PacketSink& wire = rt->tap_ ? static_cast<stack::PacketSink&>(*rt->tap_) : rt->tun_;
    rt->sink_ = &wire;
    if (o.impair) {
        drivers::FaultConfig rx = *o.impair;
        rx.seed = o.impair->seed + 1;  // independent decisions per direction, still reproducible
        rt->faulty_.emplace(wire, *o.impair, rx);
        rt->sink_ = &*rt->faulty_;
    }

    Runtime* self = rt.get();
    auto signals = rt->loop_.handle_signals([self](int signo) {
        if (self->signal_) {
            self->signal_(signo);
        } else if (signo == SIGINT || signo == SIGTERM) {
            self->loop_.stop();
        }
    });
    if (!signals) return stack::Err(std::string(signals.error().message));
    auto added = rt->loop_.add_fd(rt->tun_.fd(), drivers::Interest::Read,
                                  [self](drivers::IoEvents ev) { self->on_tun(ev); });
    if (!added) return stack::Err(std::string(added.error().message));
    rt->loop_.on_tick([self](stack::Instant now) { self->tick(now); });
    return rt;
}

Runtime::Runtime(const RuntimeOptions& o, std::string prog, drivers::TunDevice tun,
                 drivers::EventLoop loop)
    : options_(o),
      prog_(std::move(prog)),
      tun_(std::move(tun)),
      loop_(std::move(loop)),
      rx_(65536),
      logger_(prog_, o.log_level) {
    logger_.set_timestamps(o.log_timestamps);
    stack::StackConfig config;
    config.addr = o.addr;
    config.mtu = static_cast<std::uint16_t>(o.mtu);
    config.seed = random_seed(prog_);
    config.tcp_secret = random_tcp_secret(prog_);
    config.reassembly.timeout = stack::Duration::seconds(o.reasm_timeout_s);
    config.tcp = o.tcp;
    // --offload: the device takes TCP super-packets (virtio_net_hdr GSO) up to the IPv4 maximum,
    // unless the MTU already reaches it.
    if (o.offload && o.mtu < stack::wire::kIpv4MaxPacketLen) {
        config.tso_max_size = stack::wire::kIpv4MaxPacketLen;
    }
    stack_ = std::make_unique<stack::Stack>(config);
}

Runtime::~Runtime() { loop_.remove_fd(tun_.fd()); }

void Runtime::log(const std::string& line) const {
    std::fprintf(stderr, "%s: %s\n", prog_.c_str(), line.c_str());
}

namespace {
// Drops by the admission limits: one event per refused SYN, so logged rate-limited.
std::uint64_t limit_drops(const stack::Stats& s) {
    return s.tcp.drop_max_connections + s.tcp.drop_mem_budget;
}
}  // namespace

void Runtime::deliver(stack::Instant now, stack::Bytes packet) { stack_->ingress(now, packet); }

void Runtime::on_tun(drivers::IoEvents ev) {
    if (ev.error) {
        logger_.error(options_.tun + " reported an error condition");
        fatal_ = true;
        loop_.stop();
        return;
    }
    if (!ev.readable) return;
    const stack::Instant now = drivers::EventLoop::now();
    for (int i = 0; i < kReadBatch; ++i) {
        auto n = tun_.read(stack::MutBytes(rx_));
        if (!n) {
            if (!n.error().would_block()) {
                logger_.error("reading " + options_.tun + ": " + n.error().message);
                fatal_ = true;
                loop_.stop();
            }
            break;
        }
        stack::Bytes packet(rx_.data(), *n);
        if (pcap_) pcap_->record_now(packet);
        if (faulty_) {
            faulty_->receive(now, packet, [&](stack::Bytes p) { deliver(now, p); });
        } else {
            deliver(now, packet);
        }
    }
}

void Runtime::log_drops(stack::Instant now) {
    std::size_t i = 0;
    stack_->stats().visit([&](std::string_view name, std::uint64_t value) {
        if (name.find(".drop.") == std::string_view::npos) return;
        if (i == seen_drops_.size()) seen_drops_.push_back(value);  // first pass: baseline
        std::uint64_t& seen = seen_drops_[i++];
        if (value == seen) return;
        logger_.limited(now, LogLevel::Debug, name,
                        "dropped " + std::to_string(value - seen) + " packet(s): " +
                            std::string(name) + " (total " + std::to_string(value) + ")");
        seen = value;
    });
}

void Runtime::tick(stack::Instant now) {
    if (faulty_) {
        faulty_->set_now(now);
        faulty_->poll(now, [&](stack::Bytes p) { deliver(now, p); });
    }
    bool again = true;
    for (int round = 0; round < kAppRounds && again; ++round) {
        again = app_ ? app_(now) : false;
        stack_->poll(now, *sink_);
    }
    if (const std::uint64_t d = limit_drops(stack_->stats()); d != seen_limit_drops_) {
        const auto& st = stack_->stats();
        logger_.limited(now, LogLevel::Warn, "tcp-limit",
                        "dropping new connections at the limit (" +
                            std::to_string(st.tcp.drop_max_connections) +
                            " SYNs dropped by --max-connections, " +
                            std::to_string(st.tcp.drop_mem_budget) + " by --mem-budget so far)");
        seen_limit_drops_ = d;
    }
    if (logger_.enabled(LogLevel::Debug)) log_drops(now);
    stack::Instant wake = stack_->poll_at();
    if (app_poll_at_) wake = std::min(wake, app_poll_at_());
    if (again) wake = now;  // the hook still had work: come straight back
    if (faulty_) wake = std::min(wake, faulty_->next_due());
    loop_.set_wakeup(wake);
    // A refused packet stays queued; wait for the device to become writable instead of spinning.
    if (stack_->has_pending_output() != want_write_) {
        want_write_ = stack_->has_pending_output();
        (void)loop_.set_interest(
            tun_.fd(), want_write_ ? drivers::Interest::ReadWrite : drivers::Interest::Read);
    }
}

bool Runtime::run() {
    loop_.set_wakeup(
        drivers::EventLoop::now());  // the first tick runs at once (the app may connect)
    auto ran = loop_.run();
    if (!ran) {
        logger_.error("event loop: " + ran.error().message);
        fatal_ = true;
    }
    return !fatal_;
}

bool Runtime::flush_pcap() {
    if (!pcap_) return true;
    if (auto r = pcap_->flush(); !r) {
        logger_.error("--pcap: " + r.error().message);
        return false;
    }
    return true;
}

void Runtime::append_stats(std::string& out) const {
    stack_->stats().visit([&](std::string_view name, std::uint64_t value) {
        out += "stat ";
        out += name;
        out += ' ';
        out += std::to_string(value);
        out += '\n';
    });
    auto line = [&](const char* name, std::uint64_t v) {
        out += "stat ";
        out += name;
        out += ' ';
        out += std::to_string(v);
        out += '\n';
    };
    line("tun.rx_packets", tun_.stats().rx_packets);
    line("tun.tx_packets", tun_.stats().tx_packets);
    line("tun.tx_full", tun_.stats().tx_full);
    line("tun.rx_gso", tun_.stats().rx_gso);
    line("tun.rx_csum_completed", tun_.stats().rx_csum_completed);
    line("tun.rx_bad_vnet", tun_.stats().rx_bad_vnet);
    line("tun.tx_errors", tun_.stats().tx_errors);
    line("tun.tx_gso", tun_.stats().tx_gso);
    line("tun.tx_gso_segments", tun_.stats().tx_gso_segments);
    if (faulty_) {
        auto counters = [&](const std::string& dir, const drivers::FaultCounters& c) {
            const std::string p = "impair." + dir + ".";
            line((p + "packets").c_str(), c.packets);
            line((p + "dropped").c_str(), c.dropped);
            line((p + "duplicated").c_str(), c.duplicated);
            line((p + "corrupted").c_str(), c.corrupted);
            line((p + "reordered").c_str(), c.reordered);
            line((p + "overflowed").c_str(), c.overflowed);
            line((p + "delivered").c_str(), c.delivered);
        };
        counters("tx", faulty_->tx_counters());
        counters("rx", faulty_->rx_counters());
        line("impair.tx.inner_refused", faulty_->inner_refused());
    }
}

}  // namespace tools
