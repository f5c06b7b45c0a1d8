// IpOutput: the one door transports send through, for either family. Transports hold an IpOutput and
// name peers by wire::IpAddress; IPv4 goes to ip::Ipv4Output, IPv6 to whatever implements Ipv6Sender
// (ip::Ipv6Output), attached by the Stack when it has an IPv6 address. Without one, IPv6 sends fail
// and are counted by the caller (no route for that family).
//
// TSO is IPv4-only for now: tso_max_size(V6) is 0, so TCP emits plain segments to IPv6 peers.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>

#include "stack/base/bytes.hpp"
#include "stack/ip/output.hpp"
#include "stack/wire/ip_address.hpp"

namespace stack::ip {

// The IPv6 output side (RFC 8200), implemented by ip::Ipv6Output.
class Ipv6Sender {
public:
    virtual ~Ipv6Sender() = default;
    // Queues one datagram from our IPv6 address to `dst` with the given upper-layer protocol (Next
    // Header) and payload the concatenation of `parts`. False (and counted by the sender) if dropped.
    virtual bool send(const wire::Ipv6Address& dst, std::uint8_t next_header,
                      std::initializer_list<Bytes> parts) = 0;
    virtual wire::Ipv6Address addr() const = 0;
    virtual std::uint16_t mtu() const = 0;  // the link MTU (>= 1280)
};

class IpOutput {
public:
    explicit IpOutput(Ipv4Output& v4) : v4_(v4) {}
    void attach_v6(Ipv6Sender* v6) { v6_ = v6; }

    bool has(wire::IpFamily family) const { return family == wire::IpFamily::V4 || v6_ != nullptr; }
    // Our address of that family, if we have one.
    std::optional<wire::IpAddress> local_address(wire::IpFamily family) const {
        if (family == wire::IpFamily::V4) return wire::IpAddress(v4_.addr());
        if (v6_ == nullptr) return std::nullopt;
        return wire::IpAddress(v6_->addr());
    }
    std::uint16_t mtu(wire::IpFamily family) const {
        return family == wire::IpFamily::V4 ? v4_.mtu() : (v6_ != nullptr ? v6_->mtu() : 1280);
    }
    std::uint32_t tso_max_size(wire::IpFamily family) const {
        return family == wire::IpFamily::V4 ? v4_.tso_max_size() : 0;
    }
    bool tso_partial_checksum() const { return v4_.tso_partial_checksum(); }

    // `dont_frag` applies to IPv4 only (IPv6 routers never fragment).
    bool send(const wire::IpAddress& dst, wire::IpProtocol protocol,
              std::initializer_list<Bytes> parts, bool dont_frag = false) {
        if (dst.is_v4()) return v4_.send(dst.as_v4(), protocol, parts, dont_frag);
        if (v6_ == nullptr) return false;
        return v6_->send(dst.as_v6(), static_cast<std::uint8_t>(protocol), parts);
    }
    // IPv4 only (tso_max_size(V4) > 0).
    bool send_gso(const wire::IpAddress& dst, wire::IpProtocol protocol,
                  std::initializer_list<Bytes> parts, const GsoRequest& request) {
        return dst.is_v4() && v4_.send_gso(dst.as_v4(), protocol, parts, request);
    }

    Ipv4Output& v4() { return v4_; }

private:
    Ipv4Output& v4_;
    Ipv6Sender* v6_ = nullptr;
};

}  // namespace stack::ip
