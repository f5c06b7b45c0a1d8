#include "drivers/tun_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "stack/base/assert.hpp"

namespace drivers {

short tun_flags(const TunOptions& options) {
    // IFF_TUN_EXCL: TUNSETIFF fails with EBUSY instead of attaching to an existing device.
    int flags = IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL;
    if (options.vnet_hdr) flags |= IFF_VNET_HDR;
    return static_cast<short>(flags);
}

stack::Result<TunDevice, Error> TunDevice::open(std::string_view name, const TunOptions& options) {
    if (name.size() >= IFNAMSIZ) {
        return stack::Err{Error::invalid("device name '" + std::string(name) + "' is longer than " +
                                         std::to_string(IFNAMSIZ - 1) + " bytes")};
    }
    if (name.find_first_of("/ \t\n:") != std::string_view::npos || name == "." || name == "..") {
        return stack::Err{Error::invalid("device name '" + std::string(name) + "' is not valid")};
    }
    std::string wanted(name);
    auto exists = [&] {
        return Error{ErrorKind::Exists, EEXIST, "device " + wanted + " already exists"};
    };
    if (!wanted.empty() && ::if_nametoindex(wanted.c_str()) != 0) return stack::Err{exists()};

    int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == EACCES) {
            // The node's file mode (0600 on some systems) refuses this user, whatever capabilities
            // it holds: say that rather than blame CAP_NET_ADMIN.
            return stack::Err{Error{ErrorKind::Permission, err,
                                    "permission denied opening /dev/net/tun (its file mode refuses "
                                    "this user: run as root, or grant access to the node)"}};
        }
        if (err == EPERM) {
            return stack::Err{Error{ErrorKind::Permission, err,
                                    "permission denied opening /dev/net/tun (need CAP_NET_ADMIN)"}};
        }
        return stack::Err{Error::system(err, "open /dev/net/tun")};
    }

    struct ifreq ifr {};
    ifr.ifr_flags = tun_flags(options);
    std::memcpy(ifr.ifr_name, wanted.data(), wanted.size());
    if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = errno;
        ::close(fd);
        if (err == EBUSY || err == EEXIST) return stack::Err{exists()};
        if (err == EPERM || err == EACCES) {
            // Opening usually succeeds (the node is 0666); creating the device is what needs the
            // capability. One message for both, as the CLI contract promises.
            return stack::Err{Error{ErrorKind::Permission, err,
                                    "permission denied opening /dev/net/tun (need CAP_NET_ADMIN)"}};
        }
        return stack::Err{Error::system(err, "TUNSETIFF " + wanted)};
    }
    if (options.vnet_hdr) {
        int size = sizeof(VirtioNetHdr);
        unsigned offloads = TUN_F_CSUM | TUN_F_TSO4;
        if (::ioctl(fd, TUNSETVNETHDRSZ, &size) < 0 || ::ioctl(fd, TUNSETOFFLOAD, offloads) < 0) {
            int err = errno;
            ::close(fd);
            return stack::Err{Error::system(err, "enabling vnet_hdr offloads on " + wanted)};
        }
    }
    // The kernel writes back the actual name (it fills in tunN when we passed none).
    std::string actual(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));
    unsigned ifindex = ::if_nametoindex(actual.c_str());
    if (ifindex == 0) {
        int err = errno;
        ::close(fd);
        return stack::Err{Error::system(err, "if_nametoindex " + actual)};
    }
    return TunDevice(fd, std::move(actual), ifindex, options.vnet_hdr);
}

TunDevice::TunDevice(TunDevice&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      ifindex_(std::exchange(other.ifindex_, 0)),
      vnet_hdr_(other.vnet_hdr_),
      stats_(other.stats_) {}

TunDevice& TunDevice::operator=(TunDevice&& other) noexcept {
    if (this != &other) {
        close_fd();
        fd_ = std::exchange(other.fd_, -1);
        name_ = std::move(other.name_);
        ifindex_ = std::exchange(other.ifindex_, 0);
        vnet_hdr_ = other.vnet_hdr_;
        stats_ = other.stats_;
    }
    return *this;
}

TunDevice::~TunDevice() { close_fd(); }

void TunDevice::close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

stack::Result<std::size_t, Error> TunDevice::read(stack::MutBytes buf) {
    // EINTR cannot loop forever: a signal interrupts at most a handful of consecutive attempts.
    VirtioNetHdr hdr;
    iovec iov[2] = {{&hdr, sizeof hdr}, {buf.data(), buf.size()}};
    for (int attempt = 0; attempt < 4; ++attempt) {
        ssize_t n = vnet_hdr_ ? ::readv(fd_, iov, 2) : ::read(fd_, buf.data(), buf.size());
        if (n >= 0) {
            ++stats_.rx_packets;
            if (!vnet_hdr_) return static_cast<std::size_t>(n);
            if (static_cast<std::size_t>(n) < sizeof hdr) return std::size_t{0};
            const std::size_t len = static_cast<std::size_t>(n) - sizeof hdr;
            if (hdr.gso_type != VirtioNetHdr::kGsoNone) ++stats_.rx_gso;
            if (hdr.flags & VirtioNetHdr::kNeedsCsum) {
                if (complete_partial_checksum(buf.first(len), hdr.csum_start, hdr.csum_offset)) {
                    ++stats_.rx_csum_completed;
                } else {
                    ++stats_.rx_bad_vnet;  // left as is: the stack drops it as a bad checksum
                }
            }
            return len;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return stack::Err{Error::would_block_error()};
        return stack::Err{Error::system(errno, "read from TUN device " + name_)};
    }
    return stack::Err{Error::would_block_error()};
}

bool TunDevice::transmit(stack::Bytes packet) {
    static constexpr VirtioNetHdr kPlain{};  // complete checksums, no segmentation
    return write_packet(kPlain, packet);
}

bool TunDevice::transmit_gso(stack::Bytes packet, const stack::GsoInfo& gso) {
    STACK_ASSERT(vnet_hdr_);
    VirtioNetHdr hdr;
    hdr.flags = gso.csum_partial ? VirtioNetHdr::kNeedsCsum : 0;
    hdr.gso_type = VirtioNetHdr::kGsoTcpV4;
    hdr.hdr_len = gso.hdr_len;
    hdr.gso_size = gso.gso_size;
    hdr.csum_start = gso.csum_partial ? gso.csum_start : 0;
    hdr.csum_offset = gso.csum_partial ? gso.csum_offset : 0;
    const std::uint64_t before = stats_.tx_packets;
    if (!write_packet(hdr, packet)) return false;
    if (stats_.tx_packets != before) {
        ++stats_.tx_gso;
        stats_.tx_gso_segments += gso.segments;
    }
    return true;
}

bool TunDevice::write_packet(const VirtioNetHdr& hdr, stack::Bytes packet) {
    iovec iov[2] = {{const_cast<VirtioNetHdr*>(&hdr), sizeof hdr},
                    {const_cast<std::uint8_t*>(packet.data()), packet.size()}};
    for (int attempt = 0; attempt < 4; ++attempt) {
        ssize_t n = vnet_hdr_ ? ::writev(fd_, iov, 2) : ::write(fd_, packet.data(), packet.size());
        if (n >= 0) {
            ++stats_.tx_packets;
            return true;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == ENOBUFS) {
            ++stats_.tx_full;
            return false;
        }
        ++stats_.tx_errors;
        stats_.last_tx_errno = errno;
        return true;
    }
    ++stats_.tx_full;
    return false;
}

}  // namespace drivers
