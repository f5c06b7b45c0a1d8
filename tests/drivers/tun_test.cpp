// TunDevice and rtnetlink against the real kernel. Root only (skipped otherwise), and only inside
// an anonymous network namespace made by a forked child with unshare(CLONE_NEWNET): the namespace,
// its interfaces and routes vanish when the child exits, and the host's are never touched. The
// child reports through its exit status; each step has its own code so a failure says where it
// happened.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "drivers/event_loop.hpp"
#include "drivers/netlink.hpp"
#include "drivers/tun_device.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/checksum.hpp"
#include "stack/stack.hpp"
#include "tests/drivers/netns_child.hpp"

namespace {

using drivers::ErrorKind;
using drivers::TunDevice;
using netns_child::fail;
using netns_child::run_in_netns;
using stack::wire::Ipv4Address;

constexpr const char* kTunName = "tsdrv0";
const Ipv4Address kHost(198, 18, 0, 1);
const Ipv4Address kPeer(198, 18, 0, 2);

// Reads from the TUN until the UDP datagram to peer:9 shows up or 5 s pass (other packets, should
// the kernel send any, are skipped). Returns its length, 0 on timeout.
std::size_t read_udp_to_peer(TunDevice& tun, stack::MutBytes buf) {
    const stack::Instant deadline = drivers::EventLoop::now() + stack::Duration::seconds(5);
    for (int i = 0; i < 1000; ++i) {
        stack::Instant now = drivers::EventLoop::now();
        if (now >= deadline) return 0;
        struct pollfd pfd {
            tun.fd(), POLLIN, 0
        };
        int rc = ::poll(&pfd, 1, drivers::EventLoop::timeout_ms(now, deadline));
        if (rc <= 0) continue;
        auto r = tun.read(buf);
        if (!r) {
            if (r.error().would_block()) continue;
            fail(20, r.error().message);
        }
        std::size_t n = *r;
        if (n >= 28 && (buf[0] >> 4) == 4 && buf[9] == 17 &&
            stack::load_be32(&buf[16]) == kPeer.value && stack::load_be16(&buf[22]) == 9) {
            return n;
        }
    }
    return 0;
}

void tun_child() {
    // Loopback up, through our own netlink code (nothing else is configured in a new namespace).
    unsigned lo = ::if_nametoindex("lo");
    if (lo == 0) fail(3, "no lo");
    if (auto r = drivers::set_link_up(lo); !r) fail(4, r.error().message);

    auto opened = TunDevice::open(kTunName);
    if (!opened) fail(5, opened.error().message);
    TunDevice tun = std::move(opened).value();
    if (tun.name() != kTunName || tun.ifindex() != ::if_nametoindex(kTunName))
        fail(6, "name/index");

    auto again = TunDevice::open(kTunName);
    if (again) fail(7, "second open of the same name succeeded");
    if (again.error().kind != ErrorKind::Exists ||
        again.error().message != std::string("device ") + kTunName + " already exists") {
        fail(7, "unexpected error: " + again.error().message);
    }

    // Nothing queued yet: a WouldBlock error, not a 0-byte packet.
    std::array<std::uint8_t, 2048> buf{};
    auto empty = tun.read(buf);
    if (empty || !empty.error().would_block())
        fail(8, "read on an idle TUN did not report WouldBlock");

    // Errors from the kernel come back with errno and the operation named.
    auto bad = drivers::set_mtu(9999, 1500);
    if (bad || bad.error().sys_errno != ENODEV ||
        bad.error().message.find("set MTU 1500 on ifindex 9999") == std::string::npos) {
        fail(9, "bad ifindex not reported: " + (bad ? std::string("ok") : bad.error().message));
    }

    if (auto r = drivers::configure_tun(tun, kHost, 24, 1400); !r) fail(10, r.error().message);
    // Adding the same address again is refused with EEXIST (NLM_F_EXCL).
    auto dup = drivers::add_ipv4_address(tun.ifindex(), kHost, 24);
    if (dup || dup.error().sys_errno != EEXIST) fail(11, "duplicate address accepted");

    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) fail(12, "socket");
    const char payload[] = "tunstack drivers test";
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    to.sin_addr.s_addr = htonl(kPeer.value);
    if (::sendto(sock, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) !=
        static_cast<ssize_t>(sizeof payload)) {
        fail(13, std::string("sendto: ") + std::strerror(errno));
    }
    sockaddr_in local{};
    socklen_t local_len = sizeof local;
    ::getsockname(sock, reinterpret_cast<sockaddr*>(&local), &local_len);

    std::size_t n = read_udp_to_peer(tun, buf);
    if (n == 0) fail(14, "no UDP packet on the TUN within 5 s");
    const std::uint8_t* p = buf.data();
    std::size_t ihl = (p[0] & 0xfu) * 4u;
    if (n != ihl + 8 + sizeof payload || stack::load_be16(p + 2) != n) fail(15, "length");
    if (stack::load_be32(p + 12) != kHost.value) fail(16, "source address");
    if (!stack::checksum::verify(stack::Bytes(p, ihl))) fail(17, "IPv4 header checksum");
    if (stack::load_be16(p + ihl) != ntohs(local.sin_port)) fail(18, "source port");
    if (std::memcmp(p + ihl + 8, payload, sizeof payload) != 0) fail(19, "payload");

    // Writing a packet back is accepted (the kernel drops it: nobody listens on that port).
    if (!tun.transmit(stack::Bytes(p, n)) || tun.stats().tx_packets != 1) fail(21, "transmit");

    // Closing the fd removes the non-persistent device.
    { TunDevice gone = std::move(tun); }
    if (::if_nametoindex(kTunName) != 0) fail(22, "device still exists after close");
}

// With vnet_hdr: a kernel TCP connection to a Stack on the TUN moves 4 MB byte-exact, the kernel
// hands over TSO super-packets (rx_gso > 0) and partial checksums that read() completes (the stack
// would drop them as bad checksums otherwise).
void vnet_child() {
    if (auto r = drivers::set_link_up(::if_nametoindex("lo")); !r) fail(30, r.error().message);
    drivers::TunOptions options;
    options.vnet_hdr = true;
    auto opened = TunDevice::open(kTunName, options);
    if (!opened) fail(31, opened.error().message);
    TunDevice tun = std::move(opened).value();
    if (auto r = drivers::configure_tun(tun, kHost, 24, 1500); !r) fail(32, r.error().message);

    stack::StackConfig config;
    config.addr = kPeer;
    config.seed = 42;
    config.tcp.max_sockets = 8;
    stack::Stack st(config);
    auto listener = st.tcp().listen(5001, 4);
    if (!listener) fail(33, "listen");

    int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(5001);
    to.sin_addr.s_addr = htonl(kPeer.value);
    if (::connect(sock, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
        fail(34, std::string("connect: ") + std::strerror(errno));

    constexpr std::size_t kTotal = 4 << 20;
    std::vector<std::uint8_t> data(kTotal), got;
    for (std::size_t i = 0; i < kTotal; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + (i >> 13));
    std::size_t sent = 0;
    stack::SocketHandle conn;
    std::vector<std::uint8_t> rx(65536 + 64), chunk(65536);
    const stack::Instant deadline = drivers::EventLoop::now() + stack::Duration::seconds(15);
    while (got.size() < kTotal) {
        const stack::Instant now = drivers::EventLoop::now();
        if (now >= deadline) fail(35, "timed out with " + std::to_string(got.size()) + " bytes");
        if (sent < kTotal) {
            ssize_t n = ::send(sock, data.data() + sent, kTotal - sent, MSG_NOSIGNAL);
            if (n > 0) sent += static_cast<std::size_t>(n);
        }
        for (int i = 0; i < 64; ++i) {
            auto r = tun.read(stack::MutBytes(rx));
            if (!r) break;
            st.ingress(now, stack::Bytes(rx.data(), *r));
        }
        if (!conn.valid()) {
            if (auto a = st.tcp().accept(*listener)) conn = *a;
        }
        if (conn.valid()) {
            for (;;) {
                auto n = st.tcp().recv(conn, stack::MutBytes(chunk));
                if (!n || *n == 0) break;
                got.insert(got.end(), chunk.begin(), chunk.begin() + static_cast<long>(*n));
            }
        }
        stack::SocketEvent ev;
        while (st.tcp().next_event(ev)) {
        }
        st.poll(now, tun);
        struct pollfd pfd {
            tun.fd(), POLLIN, 0
        };
        ::poll(&pfd, 1, 1);
    }
    if (got != data) fail(36, "data differs");
    if (st.stats().ip.drop_bad_checksum != 0 || st.stats().tcp.drop_bad_checksum != 0)
        fail(37, "the stack saw bad checksums");
    if (tun.stats().rx_gso == 0) fail(38, "no TSO super-packet arrived");
    if (tun.stats().rx_csum_completed == 0) fail(39, "no partial checksum was completed");
    ::close(sock);
}

void no_caps_child() {
    // Drop every capability (we stay uid 0, but without CAP_NET_ADMIN).
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capset, &header, data) != 0)
        fail(3, std::string("capset: ") + std::strerror(errno));
    auto r = TunDevice::open("tsdrv2");
    if (r) fail(4, "TUN created without CAP_NET_ADMIN");
    if (r.error().kind != ErrorKind::Permission ||
        r.error().message != "permission denied opening /dev/net/tun (need CAP_NET_ADMIN)") {
        fail(5, "unexpected error: " + r.error().message);
    }
}

// An unprivileged user that does hold CAP_NET_ADMIN (as a service manager can grant): whether it can
// open /dev/net/tun depends on the node's file mode (0666 on most systems, 0600 on some). When the
// mode refuses it, the error must say so instead of blaming a capability the process has.
void net_admin_user_child() {
    struct stat st {};
    if (::stat("/dev/net/tun", &st) != 0) fail(10, "stat /dev/net/tun");
    if (::prctl(PR_SET_KEEPCAPS, 1) != 0) fail(11, "PR_SET_KEEPCAPS");
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
        fail(12, std::string("setresuid: ") + std::strerror(errno));
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    data[0].effective = data[0].permitted = 1u << CAP_NET_ADMIN;
    if (::syscall(SYS_capset, &header, data) != 0) {
        fail(13, std::string("capset: ") + std::strerror(errno));
    }
    auto r = TunDevice::open("tsdrv3");
    const bool others_may_open = (st.st_mode & S_IROTH) && (st.st_mode & S_IWOTH);
    if (others_may_open) {
        if (!r) fail(14, "CAP_NET_ADMIN as uid 65534 could not create a TUN: " + r.error().message);
    } else {
        if (r) fail(15, "opened a node whose mode refuses uid 65534");
        if (r.error().kind != ErrorKind::Permission ||
            r.error().message.find("file mode") == std::string::npos) {
            fail(16, "unexpected error: " + r.error().message);
        }
    }
}

TEST(TunDeviceTest, NameTooLongIsRejected) {
    auto r = TunDevice::open("this-name-is-far-too-long-for-linux");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
    EXPECT_NE(r.error().message.find("longer than 15 bytes"), std::string::npos);
}

TEST(TunDeviceTest, PartialChecksumIsCompletedAsVirtioDefines) {
    // A UDP datagram whose checksum field holds only the pseudo-header sum (what the kernel sends
    // with NEEDS_CSUM) must verify after completion.
    std::array<std::uint8_t, 20 + 8 + 11> p{};
    p[0] = 0x45;
    stack::store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
    p[8] = 64;
    p[9] = 17;
    stack::store_be32(&p[12], kHost.value);
    stack::store_be32(&p[16], kPeer.value);
    stack::store_be16(&p[10], stack::checksum::compute(stack::Bytes(p.data(), 20)));
    stack::store_be16(&p[20], 5555);
    stack::store_be16(&p[22], 9);
    stack::store_be16(&p[24], 19);
    std::memcpy(&p[28], "hello world", 11);
    const std::uint32_t pseudo =
        stack::checksum::pseudo_header_v4(kHost.value, kPeer.value, 17, 19);
    stack::store_be16(&p[26], stack::checksum::fold(pseudo));
    ASSERT_TRUE(drivers::complete_partial_checksum(stack::MutBytes(p), 20, 6));
    EXPECT_TRUE(stack::checksum::verify(stack::Bytes(p).subspan(20), pseudo));
    // Offsets that do not fit are refused and nothing is written.
    auto before = p;
    EXPECT_FALSE(drivers::complete_partial_checksum(stack::MutBytes(p), 38, 6));
    EXPECT_FALSE(drivers::complete_partial_checksum(stack::MutBytes(p), 60, 0));
    EXPECT_EQ(p, before);
}

TEST(TunDeviceTest, VnetHeaderDeliversCompletedChecksumsAndTcpSuperPackets) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace and a TUN device";
    EXPECT_EQ(run_in_netns(vnet_child), 0);
}

TEST(TunDeviceTest, ExistingHostInterfaceNameIsRefusedWithoutTouchingIt) {
    // "lo" exists in every namespace; open() must refuse before any ioctl.
    auto r = TunDevice::open("lo");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::Exists);
    EXPECT_EQ(r.error().message, "device lo already exists");
}

TEST(TunDeviceTest, WithoutCapNetAdminTheErrorSaysSo) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a namespace and drop capabilities";
    EXPECT_EQ(run_in_netns(no_caps_child), 0);
}

TEST(TunDeviceTest, NodeModeRefusalIsNamedAsSuch) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a namespace and change user";
    EXPECT_EQ(run_in_netns(net_admin_user_child), 0);
}

TEST(TunNetlinkTest, KernelUdpDatagramArrivesOnConfiguredTun) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN) for TUN and unshare";
    int code = run_in_netns(tun_child);
    EXPECT_EQ(code, 0) << "child failed at the step with this code (see its stderr)";
}

}  // namespace
