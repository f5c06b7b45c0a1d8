// TunDevice: a Linux TUN interface (layer 3: every read/write is exactly one IPv4/IPv6 packet, no
// link header, no packet-info prefix).
//
// Invariants:
//  - The device is created by us (IFF_TUN_EXCL and an if_nametoindex() check beforehand): we never
//    attach to a device someone else made, and it is not persistent, so closing the fd
//    (destruction) removes the interface.
//  - The fd is non-blocking and close-on-exec; read() and transmit() never block.
//  - No virtio_net_hdr yet. TunOptions and tun_flags() are where IFF_VNET_HDR/TUNSETOFFLOAD will
//  go;
//    until then requesting vnet_hdr is an Unsupported error rather than a silently ignored option.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "drivers/error.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/packet_sink.hpp"
#include "stack/base/result.hpp"

namespace drivers {

struct TunOptions {
    // Prefix packets with a virtio_net_hdr and negotiate offloads. Not implemented yet.
    bool vnet_hdr = false;
};

// The TUNSETIFF flags for `options`.
short tun_flags(const TunOptions& options);

struct TunStats {
    std::uint64_t rx_packets = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_full = 0;    // EAGAIN/ENOBUFS: transmit() returned false
    std::uint64_t tx_errors = 0;  // other write errors: the packet was dropped
    int last_tx_errno = 0;
};

class TunDevice : public stack::PacketSink {
public:
    // Creates the TUN interface `name` (at most IFNAMSIZ-1 bytes; empty lets the kernel pick tunN).
    // Errors: Exists "device NAME already exists"; Permission "permission denied opening
    // /dev/net/tun (need CAP_NET_ADMIN)"; Invalid for bad names; Unsupported for options not
    // implemented.
    static stack::Result<TunDevice, Error> open(std::string_view name,
                                                const TunOptions& options = {});

    TunDevice(TunDevice&& other) noexcept;
    TunDevice& operator=(TunDevice&& other) noexcept;
    TunDevice(const TunDevice&) = delete;
    TunDevice& operator=(const TunDevice&) = delete;
    ~TunDevice() override;

    // Reads one packet into `buf` and returns its length (a packet longer than `buf` is truncated
    // by the kernel). Nothing queued → an error with would_block() true (no allocation on that
    // path).
    stack::Result<std::size_t, Error> read(stack::MutBytes buf);

    // Writes one packet. False when the kernel queue is full (EAGAIN/ENOBUFS): retry later. Other
    // errors (e.g. a malformed packet, EINVAL) drop the packet, count it in stats() and return
    // true, because retrying them could never succeed.
    bool transmit(stack::Bytes packet) override;

    int fd() const { return fd_; }
    const std::string& name() const { return name_; }
    unsigned ifindex() const { return ifindex_; }
    const TunStats& stats() const { return stats_; }

private:
    TunDevice(int fd, std::string name, unsigned ifindex)
        : fd_(fd), name_(std::move(name)), ifindex_(ifindex) {}
    void close_fd();

    int fd_ = -1;
    std::string name_;
    unsigned ifindex_ = 0;
    TunStats stats_;
};

}  // namespace drivers
