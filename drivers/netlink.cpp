#include "drivers/netlink.hpp"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace drivers {
namespace {

// Builds one netlink request in an aligned buffer: header, a fixed family struct, then attributes.
// Kernel structs are copied in with memcpy (no casts of the byte buffer).
class Request {
public:
    Request(std::uint16_t type, std::uint16_t flags) {
        hdr_.nlmsg_type = type;
        hdr_.nlmsg_flags = static_cast<std::uint16_t>(flags | NLM_F_REQUEST | NLM_F_ACK);
        len_ = NLMSG_HDRLEN;
    }

    template <typename T>
    void put_struct(const T& value) {
        append(&value, sizeof value);
    }
    void put_attr(std::uint16_t type, const void* data, std::size_t size) {
        struct rtattr rta {};
        rta.rta_type = type;
        rta.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
        append(&rta, sizeof rta);
        append(data, size);
    }
    void put_u32(std::uint16_t type, std::uint32_t v) { put_attr(type, &v, sizeof v); }

    // Finalises the header with `seq` and returns the bytes to send.
    std::pair<const std::uint8_t*, std::size_t> finish(std::uint32_t seq) {
        hdr_.nlmsg_len = static_cast<std::uint32_t>(len_);
        hdr_.nlmsg_seq = seq;
        std::memcpy(buf_.data(), &hdr_, sizeof hdr_);
        return {buf_.data(), len_};
    }

private:
    void append(const void* data, std::size_t size) {
        std::size_t aligned = NLMSG_ALIGN(size);
        STACK_ASSERT(len_ + aligned <= buf_.size());
        std::memcpy(buf_.data() + len_, data, size);
        std::memset(buf_.data() + len_ + size, 0, aligned - size);
        len_ += aligned;
    }

    struct nlmsghdr hdr_ {};
    alignas(NLMSG_ALIGNTO) std::array<std::uint8_t, 256> buf_{};
    std::size_t len_ = 0;
};

// Sends `req` on a fresh NETLINK_ROUTE socket and waits for the ACK/NACK with the same sequence
// number. `what` names the operation in error messages.
stack::Result<void, Error> transact(Request& req, const std::string& what) {
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return stack::Err{Error::system(errno, what + ": netlink socket")};
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};

    // A receive timeout bounds the wait should the kernel never answer (it always does).
    struct timeval tv {
        5, 0
    };
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    struct sockaddr_nl kernel {};
    kernel.nl_family = AF_NETLINK;
    const std::uint32_t seq = 1;
    auto [data, len] = req.finish(seq);
    ssize_t sent =
        ::sendto(fd, data, len, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (sent != static_cast<ssize_t>(len)) {
        return stack::Err{Error::system(sent < 0 ? errno : EMSGSIZE, what + ": netlink send")};
    }

    alignas(NLMSG_ALIGNTO) std::array<std::uint8_t, 8192> rx{};
    // Bounded: the answer to a single request is one message; skip at most a few unrelated ones.
    for (int round = 0; round < 16; ++round) {
        ssize_t n = ::recv(fd, rx.data(), rx.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return stack::Err{Error::system(errno, what + ": netlink receive")};
        }
        std::size_t off = 0;
        auto total = static_cast<std::size_t>(n);
        while (off + sizeof(nlmsghdr) <= total) {
            struct nlmsghdr h {};
            std::memcpy(&h, rx.data() + off, sizeof h);
            if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > total) break;
            if (h.nlmsg_seq == seq && h.nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr e {};
                if (h.nlmsg_len < NLMSG_HDRLEN + sizeof(int)) {
                    return stack::Err{Error::system(EPROTO, what + ": truncated netlink ACK")};
                }
                std::memcpy(&e.error, rx.data() + off + NLMSG_HDRLEN, sizeof(int));
                if (e.error == 0) return stack::Ok{};
                return stack::Err{Error::system(-e.error, what)};
            }
            off += NLMSG_ALIGN(h.nlmsg_len);
        }
    }
    return stack::Err{Error::system(EPROTO, what + ": no netlink ACK")};
}

Request link_request(unsigned ifindex) {
    Request req(RTM_NEWLINK, 0);
    struct ifinfomsg ifi {};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = static_cast<int>(ifindex);
    req.put_struct(ifi);
    return req;
}

std::string on_if(unsigned ifindex) { return " on ifindex " + std::to_string(ifindex); }

}  // namespace

stack::Result<void, Error> set_mtu(unsigned ifindex, std::uint32_t mtu) {
    Request req = link_request(ifindex);
    req.put_u32(IFLA_MTU, mtu);
    return transact(req, "set MTU " + std::to_string(mtu) + on_if(ifindex));
}

stack::Result<void, Error> set_txqueuelen(unsigned ifindex, std::uint32_t qlen) {
    Request req = link_request(ifindex);
    req.put_u32(IFLA_TXQLEN, qlen);
    return transact(req, "set txqueuelen " + std::to_string(qlen) + on_if(ifindex));
}

stack::Result<void, Error> set_link_up(unsigned ifindex) {
    Request req(RTM_NEWLINK, 0);
    struct ifinfomsg ifi {};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = static_cast<int>(ifindex);
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
    req.put_struct(ifi);
    return transact(req, "set link up" + on_if(ifindex));
}

stack::Result<void, Error> add_ipv4_address(unsigned ifindex, stack::wire::Ipv4Address addr,
                                            std::uint8_t prefix_len) {
    std::string what =
        "add address " + addr.to_string() + "/" + std::to_string(prefix_len) + on_if(ifindex);
    if (prefix_len > 32) return stack::Err{Error::invalid(what + ": prefix length above 32")};
    Request req(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg ifa {};
    ifa.ifa_family = AF_INET;
    ifa.ifa_prefixlen = prefix_len;
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = ifindex;
    req.put_struct(ifa);
    std::array<std::uint8_t, 4> be{};
    stack::store_be32(be.data(), addr.value);
    req.put_attr(IFA_LOCAL, be.data(), be.size());
    req.put_attr(IFA_ADDRESS, be.data(), be.size());
    return transact(req, what);
}

stack::Result<void, Error> disable_ipv6(std::string_view ifname) {
    std::string path = "/proc/sys/net/ipv6/conf/" + std::string(ifname) + "/disable_ipv6";
    if (ifname.empty() || ifname.find('/') != std::string_view::npos || ifname == "." ||
        ifname == "..") {
        return stack::Err{
            Error::invalid("disable_ipv6: bad interface name '" + std::string(ifname) + "'")};
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        struct stat st {};
        if (err == ENOENT && ::stat("/proc/sys/net/ipv6", &st) != 0) return stack::Ok{};  // no IPv6
        return stack::Err{Error::system(err, "open " + path)};
    }
    ssize_t n = ::write(fd, "1\n", 2);
    int err = errno;
    ::close(fd);
    if (n != 2) return stack::Err{Error::system(n < 0 ? err : EIO, "write " + path)};
    return stack::Ok{};
}

stack::Result<void, Error> configure_tun(const TunDevice& tun, stack::wire::Ipv4Address host_addr,
                                         std::uint8_t prefix_len, std::uint32_t mtu,
                                         std::uint32_t txqueuelen) {
    if (auto r = disable_ipv6(tun.name()); !r) return r;
    if (auto r = set_mtu(tun.ifindex(), mtu); !r) return r;
    if (auto r = set_txqueuelen(tun.ifindex(), txqueuelen); !r) return r;
    if (auto r = add_ipv4_address(tun.ifindex(), host_addr, prefix_len); !r) return r;
    return set_link_up(tun.ifindex());
}

}  // namespace drivers
