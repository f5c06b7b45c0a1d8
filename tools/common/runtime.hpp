// Runtime: everything a program needs to run one Stack on one TUN device, shared by tunstackd and
// the tunstack client so that neither copies the other's plumbing.
//
//   auto rt = Runtime::create(options, "tunstackd");      // TUN opened + configured, loop, pcap, impair
//   rt->on_app([&](Instant now) { ...drain rt->stack().tcp().next_event()... return did_work; });
//   rt->on_signal([&](int signo) { ... });                 // SIGINT/SIGTERM/SIGUSR1/SIGHUP
//   int rc = rt->run();                                    // until stop()
//
// The packet path:  TUN read  → [pcap record] → [FaultyDevice rx] → Stack::ingress
//                   Stack::poll → [FaultyDevice tx] → [PcapTap] → TUN write
// so a capture shows what crossed the device (rx before impairment, tx after it).
//
// Each loop iteration ends with one tick: due impaired rx packets are delivered, then the application
// hook runs (it drains TCP events and acts on them), then Stack::poll sends; the hook and poll repeat
// (bounded) while the hook reports work, so events produced by poll are not left waiting for the next
// packet. The loop's wakeup is min(stack.poll_at(), impairment next_due()), and the TUN is watched for
// EPOLLOUT only while the stack holds output the device refused.
//
// Errors are returned as one-line messages (no prefix); the caller prints them. Runtime errors are
// logged through logger() (levels, tools/common/log.hpp); SYNs dropped by the admission limits
// (--max-connections, --mem-budget) are logged as a rate-limited warning, once per burst. At
// --log-level debug every dropped packet is logged, rate-limited per drop reason
// ("debug: dropped 3 packets: udp.drop.no_port (total 7)").
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/event_loop.hpp"
#include "drivers/fault_injector.hpp"
#include "drivers/pcap_writer.hpp"
#include "drivers/tun_device.hpp"
#include "stack/base/result.hpp"
#include "stack/stack.hpp"
#include "stack/wire/address.hpp"
#include "tools/common/log.hpp"

namespace tools {

struct RuntimeOptions {
    std::string tun;                  // TUN device to create (must not exist)
    stack::wire::Ipv4Cidr host_addr;  // kernel side of the TUN
    stack::wire::Ipv4Address addr;    // the stack's own address
    std::uint32_t mtu = 1500;
    std::uint32_t txqueuelen = 5000;
    bool offload = false;  // IFF_VNET_HDR with checksum + TSO offloads from the kernel
    std::uint32_t reasm_timeout_s = 30;
    std::string pcap;                            // empty: no capture
    std::optional<drivers::FaultConfig> impair;  // both directions (rx uses seed+1)
    stack::tcp::TcpConfig tcp;
    LogLevel log_level = LogLevel::Info;
    bool log_timestamps = false;  // Logger::set_timestamps (the daemon's, not the client's)
};

// getrandom(), or a weak pid/clock mix with a warning on stderr prefixed by `prog`.
std::uint64_t random_seed(const std::string& prog);

// The IPv4 addresses ("198.18.0.5/16 on eth1") of interfaces other than `own_device` (in this
// network namespace, loopback excepted) whose subnet overlaps `subnet`.
std::vector<std::string> overlapping_subnets(const stack::wire::Ipv4Cidr& subnet,
                                             std::string_view own_device);
// 256 bits from getrandom() for StackConfig::tcp_secret (ISN and SYN-cookie keys); nullopt (with a
// warning) if getrandom fails.
std::optional<std::array<std::uint8_t, 32>> random_tcp_secret(const std::string& prog);

class Runtime {
public:
    // Returns true if it did something (consumed events, sent data); the runtime then polls the
    // stack and calls it again, at most a few times per tick.
    using AppHook = std::function<bool(stack::Instant now)>;
    using SignalHook = std::function<void(int signo)>;

    // Opens the pcap file (first, so a bad path creates no device), the TUN device, configures it
    // (IPv6 off, MTU, txqueuelen, address, up), creates the stack and the loop. Error: one line.
    static stack::Result<std::unique_ptr<Runtime>, std::string> create(const RuntimeOptions& o,
                                                                       std::string prog);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    stack::Stack& stack() { return *stack_; }
    const stack::Stack& stack() const { return *stack_; }
    drivers::EventLoop& loop() { return loop_; }
    const drivers::TunDevice& tun() const { return tun_; }
    const RuntimeOptions& options() const { return options_; }

    void on_app(AppHook hook) { app_ = std::move(hook); }
    // The application's own next deadline (e.g. a TLS handshake timeout): the loop wakes by then
    // even if no packet arrives, and the app hook runs.
    void on_app_poll_at(std::function<stack::Instant()> fn) { app_poll_at_ = std::move(fn); }
    // Installs the signal handler (SIGINT, SIGTERM, SIGUSR1, SIGHUP through a signalfd). Without a
    // hook, SIGINT/SIGTERM stop the loop and the others are ignored.
    void on_signal(SignalHook hook) { signal_ = std::move(hook); }

    // Runs the loop until stop() (or a device error). Returns false on a runtime failure (device
    // error, epoll failure, pcap write error), after logging it.
    bool run();
    void stop() { loop_.stop(); }

    // Appends the runtime's counters as "stat NAME VALUE\n" lines: the stack's, tun.*, and
    // impair.{tx,rx}.* when --impair is on.
    void append_stats(std::string& out) const;

    // Flushes the pcap file; false (logged) on a write error.
    bool flush_pcap();

    Logger& logger() { return logger_; }

    void log(const std::string& line) const;

private:
    Runtime(const RuntimeOptions& o, std::string prog, drivers::TunDevice tun,
            drivers::EventLoop loop);
    void tick(stack::Instant now);
    void on_tun(drivers::IoEvents ev);
    void deliver(stack::Instant now, stack::Bytes packet);

    RuntimeOptions options_;
    std::string prog_;
    drivers::TunDevice tun_;
    drivers::EventLoop loop_;
    std::optional<drivers::PcapWriter> pcap_;
    std::optional<drivers::PcapTap> tap_;
    std::optional<drivers::FaultyDevice> faulty_;
    std::unique_ptr<stack::Stack> stack_;
    stack::PacketSink* sink_ = nullptr;
    AppHook app_;
    std::function<stack::Instant()> app_poll_at_;
    SignalHook signal_;
    std::vector<std::uint8_t> rx_;
    bool want_write_ = false;
    bool fatal_ = false;
    Logger logger_;
    std::uint64_t seen_limit_drops_ = 0;
    std::vector<std::uint64_t>
        seen_drops_;  // --log-level debug: last value of every *.drop.* counter
    void log_drops(stack::Instant now);
};

}  // namespace tools
