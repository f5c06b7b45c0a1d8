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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string>

#include "drivers/event_loop.hpp"
#include "drivers/netlink.hpp"
#include "drivers/tun_device.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/checksum.hpp"

namespace {

using drivers::ErrorKind;
using drivers::TunDevice;
using stack::wire::Ipv4Address;

constexpr const char* kTunName = "tsdrv0";
const Ipv4Address kHost(198, 18, 0, 1);
const Ipv4Address kPeer(198, 18, 0, 2);

[[noreturn]] void fail(int code, const std::string& why) {
    std::fprintf(stderr, "tun child: step %d failed: %s\n", code, why.c_str());
    std::fflush(stderr);
    ::_exit(code);
}

// Runs `body` in a forked child inside a fresh network namespace; returns the child's exit code.
template <typename F>
int run_in_netns(F body) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        ::alarm(20);  // a hung child dies of SIGALRM instead of hanging the test run
        if (::unshare(CLONE_NEWNET) != 0) fail(2, std::string("unshare: ") + std::strerror(errno));
        body();
        ::_exit(0);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

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

TEST(TunDeviceTest, NameTooLongIsRejected) {
    auto r = TunDevice::open("this-name-is-far-too-long-for-linux");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::Invalid);
    EXPECT_NE(r.error().message.find("longer than 15 bytes"), std::string::npos);
}

TEST(TunDeviceTest, VnetHeaderIsNotSupportedYet) {
    drivers::TunOptions options;
    options.vnet_hdr = true;
    auto r = TunDevice::open("tsdrv1", options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::Unsupported);
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

TEST(TunNetlinkTest, KernelUdpDatagramArrivesOnConfiguredTun) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN) for TUN and unshare";
    int code = run_in_netns(tun_child);
    EXPECT_EQ(code, 0) << "child failed at the step with this code (see its stderr)";
}

}  // namespace
