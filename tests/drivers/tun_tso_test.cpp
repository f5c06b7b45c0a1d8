// TCP segmentation offload on transmit against the real kernel (root only, each case in its own
// anonymous network namespace, see netns_child.hpp):
//  - a Stack with TSO sends to a kernel TCP socket through a vnet_hdr TUN: the kernel takes the
//    super-packets (partial or full checksums) and the socket reads every byte; with the fault
//    injector corrupting super-packets, the kernel must catch each corruption (TcpInCsumErrors) and
//    the bytes still arrive exact;
//  - the kernel forwards a super-packet we write to a second, offload-less TUN, so it must segment
//    it (GSO): every segment we read there is checked field by field (at most the MTU, lengths, IDs,
//    sequence numbers, FIN/PSH only on the last, CWR only on the first, the same timestamps, valid
//    checksums) and must equal, byte for byte, what drivers::segment_tcp4 makes of it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "drivers/event_loop.hpp"
#include "drivers/fault_injector.hpp"
#include "drivers/gso.hpp"
#include "drivers/netlink.hpp"
#include "drivers/tun_device.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/checksum.hpp"
#include "stack/stack.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "tests/drivers/netns_child.hpp"
#include "tests/support/super_packet.hpp"

namespace {

using drivers::TunDevice;
using netns_child::fail;
using netns_child::run_in_netns;
using stack::wire::Ipv4Address;

const Ipv4Address kHost(198, 18, 0, 1);
const Ipv4Address kStack(198, 18, 0, 2);
const Ipv4Address kFarHost(198, 18, 1, 1);  // the kernel's address on the second TUN
const Ipv4Address kFar(198, 18, 1, 2);      // behind the second TUN

void write_proc(const std::string& path, const std::string& value, int code) {
    std::ofstream f(path);
    f << value;
    f.close();
    if (!f) fail(code, "cannot write " + path);
}

// A counter of this namespace's kernel TCP MIB (/proc/net/snmp, "Tcp:" lines), e.g. InCsumErrors.
long kernel_tcp_counter(const std::string& name) {
    std::ifstream f("/proc/net/snmp");
    std::string names, values, line;
    while (std::getline(f, line)) {
        if (line.rfind("Tcp:", 0) != 0) continue;
        if (names.empty()) {
            names = line;
        } else {
            values = line;
            break;
        }
    }
    std::istringstream n(names), v(values);
    std::string key, val;
    while (n >> key && v >> val) {
        if (key == name) return std::stol(val);
    }
    return -1;
}

struct SendCase {
    bool partial = true;   // StackConfig::tso_partial_checksum
    bool corrupt = false;  // wrap the TUN in a FaultyDevice corrupting 3% of what we send
};

// The stack listens on kStack:5001 and sends 8 MB to a kernel socket that connected to it.
void send_child(SendCase cfg) {
    if (auto r = drivers::set_link_up(::if_nametoindex("lo")); !r) fail(30, r.error().message);
    drivers::TunOptions options;
    options.vnet_hdr = true;
    auto opened = TunDevice::open("tstso0", options);
    if (!opened) fail(31, opened.error().message);
    TunDevice tun = std::move(opened).value();
    if (auto r = drivers::configure_tun(tun, kHost, 24, 1500); !r) fail(32, r.error().message);

    stack::StackConfig config;
    config.addr = kStack;
    config.seed = 42;
    config.tcp.max_sockets = 8;
    config.tcp.send_buffer = 1 << 20;
    config.tso_max_size = 65535;
    config.tso_partial_checksum = cfg.partial;
    stack::Stack st(config);
    auto listener = st.tcp().listen(5001, 4);
    if (!listener) fail(33, "listen");

    drivers::FaultConfig tx_faults;
    tx_faults.corrupt = 0.03;
    tx_faults.seed = 5;
    drivers::FaultyDevice faulty(tun, tx_faults, drivers::FaultConfig{});
    stack::PacketSink& sink = cfg.corrupt ? static_cast<stack::PacketSink&>(faulty) : tun;

    int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(5001);
    to.sin_addr.s_addr = htonl(kStack.value);
    if (::connect(sock, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
        fail(34, std::string("connect: ") + std::strerror(errno));

    constexpr std::size_t kTotal = 8 << 20;
    std::vector<std::uint8_t> data(kTotal), got;
    got.reserve(kTotal);
    for (std::size_t i = 0; i < kTotal; ++i)
        data[i] = static_cast<std::uint8_t>(i * 13 + (i >> 11));
    std::size_t sent = 0;
    stack::SocketHandle conn;
    std::vector<std::uint8_t> rx(65536 + 64), chunk(1 << 18);
    const stack::Instant deadline = drivers::EventLoop::now() + stack::Duration::seconds(15);
    while (got.size() < kTotal) {
        const stack::Instant now = drivers::EventLoop::now();
        if (now >= deadline) fail(35, "timed out with " + std::to_string(got.size()) + " bytes");
        faulty.set_now(now);
        for (int i = 0; i < 64; ++i) {
            auto r = tun.read(stack::MutBytes(rx));
            if (!r) break;
            st.ingress(now, stack::Bytes(rx.data(), *r));
        }
        if (!conn.valid()) {
            if (auto a = st.tcp().accept(*listener)) conn = *a;
        }
        if (conn.valid()) {
            while (sent < kTotal) {
                auto n = st.tcp().send(conn, stack::Bytes(data).subspan(sent));
                if (!n || *n == 0) break;
                sent += *n;
            }
        }
        stack::SocketEvent ev;
        while (st.tcp().next_event(ev)) {
        }
        st.poll(now, sink);
        faulty.poll(now, [](stack::Bytes) {});
        for (;;) {
            ssize_t n = ::recv(sock, chunk.data(), chunk.size(), 0);
            if (n <= 0) break;
            got.insert(got.end(), chunk.begin(), chunk.begin() + n);
        }
        struct pollfd pfd[2] = {{tun.fd(), POLLIN, 0}, {sock, POLLIN, 0}};
        ::poll(pfd, 2, 1);
    }
    if (got != data) fail(36, "data differs");
    if (tun.stats().tx_gso == 0) fail(37, "no super-packet was written (tun.tx_gso 0)");
    if (tun.stats().tx_errors != 0) {
        fail(38, "the kernel refused writes: errno " + std::to_string(tun.stats().last_tx_errno));
    }
    if (st.stats().tcp.tx_tso_packets == 0) fail(39, "the stack built no super-packet");
    const long csum_errors = kernel_tcp_counter("InCsumErrors");
    if (cfg.corrupt) {
        if (faulty.tx_counters().corrupted == 0) fail(40, "nothing was corrupted");
        // Every corrupted packet whose flipped bit the kernel could see in the TCP checksum; some
        // flips hit the IPv4 header instead and are dropped before TCP. At least one must be TCP's.
        if (csum_errors <= 0) fail(41, "the kernel saw no TCP checksum error: corruption unseen?");
    } else if (csum_errors != 0) {
        fail(42, "the kernel counted " + std::to_string(csum_errors) + " TCP checksum errors");
    }
    ::close(sock);
}

TEST(TunTsoTest, KernelSocketReceivesSuperPacketsWithPartialChecksums) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace and a TUN device";
    EXPECT_EQ(run_in_netns([] { send_child({.partial = true}); }), 0);
}

TEST(TunTsoTest, KernelSocketReceivesSuperPacketsWithFullChecksums) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace and a TUN device";
    EXPECT_EQ(run_in_netns([] { send_child({.partial = false}); }), 0);
}

TEST(TunTsoTest, CorruptedSuperPacketsAreCaughtByTheKernelAndRecovered) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace and a TUN device";
    EXPECT_EQ(run_in_netns([] { send_child({.partial = true, .corrupt = true}); }), 0);
}

void forward_child(bool partial) {
    if (auto r = drivers::set_link_up(::if_nametoindex("lo")); !r) fail(50, r.error().message);
    drivers::TunOptions options;
    options.vnet_hdr = true;
    auto a = TunDevice::open("tstso1", options);
    if (!a) fail(51, a.error().message);
    auto b = TunDevice::open("tstso2");  // no offloads: the kernel must segment for it
    if (!b) fail(52, b.error().message);
    if (auto r = drivers::configure_tun(*a, kHost, 24, 1500); !r) fail(53, r.error().message);
    if (auto r = drivers::configure_tun(*b, kFarHost, 24, 1500); !r) fail(54, r.error().message);
    write_proc("/proc/sys/net/ipv4/ip_forward", "1", 55);
    for (const char* dev : {"all", "default", "tstso1", "tstso2"}) {
        write_proc(std::string("/proc/sys/net/ipv4/conf/") + dev + "/rp_filter", "0", 56);
    }

    // IPv4 + TCP with timestamps (11, 22), CWR|PSH|ACK|FIN, 10 full segments and a 700-byte tail,
    // the sequence number wrapping inside it.
    const std::uint16_t mss = 1448;  // 20 + 32 + 1448 = 1500
    const auto made = stack::testing::make_super_packet(
        {.src = kStack,
         .dst = kFar,
         .payload = 10 * std::size_t{mss} + 700,
         .mss = mss,
         .flags = stack::wire::TcpFlag::Ack | stack::wire::TcpFlag::Psh |
                  stack::wire::TcpFlag::Fin | stack::wire::TcpFlag::Cwr,
         .ip_id = 0x1234,
         .seq = 0xfffff000u,
         .partial = partial});
    const std::vector<std::uint8_t>& super = made.bytes;
    const stack::GsoInfo& gso = made.gso;
    if (!a->transmit_gso(stack::Bytes(super), gso)) fail(57, "transmit_gso refused");
    if (a->stats().tx_errors != 0) {
        fail(58, "the kernel refused the super-packet: errno " +
                     std::to_string(a->stats().last_tx_errno));
    }

    // What the kernel forwards: TTL 63, then cut into segments.
    std::vector<std::uint8_t> forwarded = super;
    forwarded[8] = 63;
    std::vector<std::vector<std::uint8_t>> expected;
    std::vector<std::uint8_t> scratch(65536);
    drivers::segment_tcp4(stack::Bytes(forwarded), gso, stack::MutBytes(scratch),
                          [&](stack::Bytes s) { expected.emplace_back(s.begin(), s.end()); });
    if (expected.size() != 11) fail(59, "segment_tcp4 made " + std::to_string(expected.size()));

    std::vector<std::vector<std::uint8_t>> got;
    std::vector<std::uint8_t> buf(65536);
    const stack::Instant deadline = drivers::EventLoop::now() + stack::Duration::seconds(5);
    while (got.size() < expected.size()) {
        const stack::Instant now = drivers::EventLoop::now();
        if (now >= deadline) fail(60, "only " + std::to_string(got.size()) + " segments arrived");
        struct pollfd pfd {
            b->fd(), POLLIN, 0
        };
        ::poll(&pfd, 1, drivers::EventLoop::timeout_ms(now, deadline));
        auto r = b->read(stack::MutBytes(buf));
        if (!r) continue;
        const std::size_t n = *r;
        if (n >= 20 && (buf[0] >> 4) == 4 && buf[9] == 6 &&
            stack::load_be32(&buf[16]) == kFar.value) {
            got.emplace_back(buf.begin(), buf.begin() + static_cast<long>(n));
        }
    }

    // Field by field, independently of segment_tcp4, then byte for byte against it.
    const std::size_t payload_total = super.size() - gso.hdr_len;
    std::size_t carried = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const auto& s = got[i];
        const std::string at = "segment " + std::to_string(i) + ": ";
        auto ip = stack::wire::Ipv4Packet::parse(s);  // verifies the header checksum
        if (!ip) fail(61, at + "bad IPv4 header");
        if (s.size() > 1500) fail(62, at + "larger than the MTU");
        if (ip->ident() != static_cast<std::uint16_t>(0x1234 + i)) fail(63, at + "IP ID");
        if (!ip->dont_frag() || ip->ttl() != 63) fail(64, at + "DF/TTL");
        auto tcp = stack::wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst());
        if (!tcp) fail(65, at + "TCP header or checksum");
        auto repr = stack::wire::TcpRepr::parse(*tcp);
        if (!repr || !repr->options.timestamps || repr->options.timestamps->tsval != 11 ||
            repr->options.timestamps->tsecr != 22) {
            fail(66, at + "timestamps");
        }
        if (tcp->seq().value() != 0xfffff000u + static_cast<std::uint32_t>(carried)) {
            fail(67, at + "sequence number");
        }
        const bool last = i + 1 == got.size();
        const auto f = tcp->flags();
        if (f.fin() != last || f.psh() != last || f.cwr() != (i == 0) || !f.ack()) {
            fail(68, at + "flags " + f.to_string());
        }
        if (tcp->payload().size() != (last ? 700u : mss)) fail(69, at + "payload length");
        if (std::memcmp(tcp->payload().data(), super.data() + gso.hdr_len + carried,
                        tcp->payload().size()) != 0) {
            fail(70, at + "payload bytes");
        }
        carried += tcp->payload().size();
        if (s != expected[i]) fail(71, at + "differs from drivers::segment_tcp4");
    }
    if (carried != payload_total) fail(72, "payload lost");
}

TEST(TunTsoTest, KernelSegmentsAForwardedSuperPacketLikeSegmentTcp4_PartialChecksum) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace and TUN devices";
    EXPECT_EQ(run_in_netns([] { forward_child(true); }), 0);
}

TEST(TunTsoTest, KernelSegmentsAForwardedSuperPacketLikeSegmentTcp4_FullChecksum) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace and TUN devices";
    EXPECT_EQ(run_in_netns([] { forward_child(false); }), 0);
}

}  // namespace
