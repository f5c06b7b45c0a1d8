// Interface configuration over plain rtnetlink (a NETLINK_ROUTE socket and a small message builder
// of our own; no libnl, no shelling out to ip(8)).
//
// Every request carries NLM_F_ACK and waits for the kernel's answer to that sequence number, so a
// function that returns Ok has been applied; a refusal comes back as its errno in a message naming
// the operation and the interface ("set MTU 70000 on ifindex 5: Invalid argument"). Each call opens
// its own short-lived socket: configuration is rare and this keeps the functions free of shared
// state.
//
// All of these act on the network namespace of the calling thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "drivers/error.hpp"
#include "drivers/tun_device.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"

namespace drivers {

// RTM_NEWLINK with IFLA_MTU.
stack::Result<void, Error> set_mtu(unsigned ifindex, std::uint32_t mtu);
// RTM_NEWLINK with IFLA_TXQLEN (NOTES: 5000 avoids drops under TCP bursts; the default is 500).
stack::Result<void, Error> set_txqueuelen(unsigned ifindex, std::uint32_t qlen);
// RTM_NEWLINK with IFF_UP set in ifi_flags/ifi_change.
stack::Result<void, Error> set_link_up(unsigned ifindex);
// RTM_NEWADDR (create, exclusive) of addr/prefix_len with local == address, as `ip addr add` does;
// the kernel then adds the connected route for the prefix.
stack::Result<void, Error> add_ipv4_address(unsigned ifindex, stack::wire::Ipv4Address addr,
                                            std::uint8_t prefix_len);

// Writes 1 to /proc/sys/net/ipv6/conf/IFNAME/disable_ipv6, so the kernel does not send router
// solicitations and MLD into the device. Ok if the kernel has no IPv6 at all.
stack::Result<void, Error> disable_ipv6(std::string_view ifname);

inline constexpr std::uint32_t kDefaultTxQueueLen = 5000;

// Configures the kernel side of `tun`: IPv6 off, MTU, txqueuelen, host_addr/prefix_len, then link
// up (IPv6 must be off before the link comes up, or the kernel starts sending into it).
stack::Result<void, Error> configure_tun(const TunDevice& tun, stack::wire::Ipv4Address host_addr,
                                         std::uint8_t prefix_len, std::uint32_t mtu,
                                         std::uint32_t txqueuelen = kDefaultTxQueueLen);

}  // namespace drivers
