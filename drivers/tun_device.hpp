// TunDevice: a Linux TUN interface (layer 3: every read/write is exactly one IPv4/IPv6 packet, no
// link header, no packet-info prefix).
//
// Invariants:
//  - The device is created by us (IFF_TUN_EXCL and an if_nametoindex() check beforehand): we never
//    attach to a device someone else made, and it is not persistent, so closing the fd
//    (destruction) removes the interface.
//  - The fd is non-blocking and close-on-exec; read() and transmit() never block.
//  - With TunOptions::vnet_hdr, every read/write carries a 10-byte virtio_net_hdr (NOTES.md) and the
//    kernel may hand us TCP super-packets (TSO, up to 64 KB) with partial checksums (NEEDS_CSUM).
//    read() strips the header and completes such checksums, so the stack above always sees plain,
//    fully checksummed IPv4 packets (possibly larger than the MTU); transmit() prefixes a zero
//    header (our packets are complete), transmit_gso() a header asking the kernel to segment a TCP
//    super-packet (TSO: gso_type TCPV4, gso_size, hdr_len, and NEEDS_CSUM with csum_start/offset when
//    its checksum is partial). The kernel delivers such a packet locally as one (as GRO does) or
//    segments it (GSO) when it forwards it. The header struct is our own: <linux/virtio_net.h> does
//    not compile as C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "drivers/error.hpp"
#include "drivers/gso.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/packet_sink.hpp"
#include "stack/base/result.hpp"

namespace drivers {

struct TunOptions {
    // IFF_VNET_HDR + TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4): the kernel may send 64 KB TCP
    // super-packets with partial checksums, which read() completes. Off by default.
    bool vnet_hdr = false;
};

// The virtio_net_hdr prefix (virtio spec §5.1.6), native byte order. Public for tests.
struct VirtioNetHdr {
    std::uint8_t flags = 0;     // kNeedsCsum, kDataValid
    std::uint8_t gso_type = 0;  // kGsoNone, kGsoTcpV4, ... | kGsoEcn
    std::uint16_t hdr_len = 0;
    std::uint16_t gso_size = 0;
    std::uint16_t csum_start = 0;
    std::uint16_t csum_offset = 0;
    static constexpr std::uint8_t kNeedsCsum = 1;
    static constexpr std::uint8_t kDataValid = 2;
    static constexpr std::uint8_t kGsoNone = 0;
    static constexpr std::uint8_t kGsoTcpV4 = 1;
};
static_assert(sizeof(VirtioNetHdr) == 10);

// The TUNSETIFF flags for `options`.
short tun_flags(const TunOptions& options);

struct TunStats {
    std::uint64_t rx_packets = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_full = 0;            // EAGAIN/ENOBUFS: transmit() returned false
    std::uint64_t tx_errors = 0;          // other write errors: the packet was dropped
    std::uint64_t rx_gso = 0;             // super-packets (vnet_hdr gso_type != NONE)
    std::uint64_t rx_csum_completed = 0;  // NEEDS_CSUM packets whose checksum read() completed
    std::uint64_t rx_bad_vnet = 0;        // a vnet header whose checksum offsets did not fit
    std::uint64_t tx_gso = 0;             // TCP super-packets written (transmit_gso), in tx_packets
    std::uint64_t tx_gso_segments = 0;    // the segments they make
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
    // by the kernel; with vnet_hdr, give at least 65535 bytes: super-packets are that large). Nothing queued → an error with would_block() true (no allocation on that
    // path).
    stack::Result<std::size_t, Error> read(stack::MutBytes buf);

    // Writes one packet. False when the kernel queue is full (EAGAIN/ENOBUFS): retry later. Other
    // errors (e.g. a malformed packet, EINVAL) drop the packet, count it in stats() and return
    // true, because retrying them could never succeed.
    bool transmit(stack::Bytes packet) override;
    // Writes one TCP super-packet for the kernel to segment (needs vnet_hdr: a broken invariant
    // otherwise). Same return contract as transmit().
    bool transmit_gso(stack::Bytes packet, const stack::GsoInfo& gso) override;

    int fd() const { return fd_; }
    const std::string& name() const { return name_; }
    unsigned ifindex() const { return ifindex_; }
    const TunStats& stats() const { return stats_; }
    bool vnet_hdr() const { return vnet_hdr_; }

private:
    TunDevice(int fd, std::string name, unsigned ifindex, bool vnet_hdr)
        : fd_(fd), name_(std::move(name)), ifindex_(ifindex), vnet_hdr_(vnet_hdr) {}
    void close_fd();
    bool write_packet(const VirtioNetHdr& hdr, stack::Bytes packet);

    int fd_ = -1;
    std::string name_;
    unsigned ifindex_ = 0;
    bool vnet_hdr_ = false;
    TunStats stats_;
};

}  // namespace drivers
