// IPv4 header (RFC 791): a validated zero-copy view and a plain Repr.
//
// Ipv4Packet::parse checks, in order: the buffer holds a minimal header, version is 4, IHL >= 5 and the
// header fits the buffer, total length covers the header and fits the buffer, and (unless told not to)
// the header checksum. After a successful parse no accessor can read outside the packet; the view is
// trimmed to the total length (bytes beyond it, e.g. link padding, are not part of the packet).
// Options are kept as raw bytes (tolerated, not interpreted).
#pragma once

#include <cstdint>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"

namespace stack::wire {

enum class IpProtocol : std::uint8_t { Icmp = 1, Tcp = 6, Udp = 17 };

inline constexpr std::size_t kIpv4MinHeaderLen = 20;
inline constexpr std::size_t kIpv4MaxHeaderLen = 60;
inline constexpr std::size_t kIpv4MaxPacketLen = 65535;

enum class Ipv4Error : std::uint8_t {
    Truncated,       // shorter than a minimal header
    BadVersion,      // version field is not 4
    BadIhl,          // IHL < 5, or the header is longer than the buffer
    BadTotalLength,  // total length < header length, or > the buffer
    BadChecksum,     // header checksum does not verify
};
std::string_view to_string(Ipv4Error e);

class Ipv4Packet {
public:
    enum class Checksum : bool { Skip, Verify };

    static Result<Ipv4Packet, Ipv4Error> parse(Bytes buffer, Checksum check = Checksum::Verify);

    std::uint8_t version() const { return buf_[0] >> 4; }
    std::size_t header_len() const { return std::size_t{buf_[0] & 0x0fu} * 4; }
    std::uint8_t dscp_ecn() const { return buf_[1]; }
    std::uint16_t total_len() const { return load_be16(&buf_[2]); }
    std::uint16_t ident() const { return load_be16(&buf_[4]); }
    bool dont_frag() const { return (buf_[6] & 0x40) != 0; }
    bool more_frags() const { return (buf_[6] & 0x20) != 0; }
    bool reserved_flag() const { return (buf_[6] & 0x80) != 0; }
    // Fragment offset in bytes (the field counts 8-byte units).
    std::uint32_t frag_offset() const { return std::uint32_t{load_be16(&buf_[6]) & 0x1fffu} * 8; }
    bool is_fragment() const { return more_frags() || frag_offset() != 0; }
    std::uint8_t ttl() const { return buf_[8]; }
    std::uint8_t protocol() const { return buf_[9]; }
    std::uint16_t checksum() const { return load_be16(&buf_[10]); }
    Ipv4Address src() const { return Ipv4Address(load_be32(&buf_[12])); }
    Ipv4Address dst() const { return Ipv4Address(load_be32(&buf_[16])); }

    Bytes header() const { return buf_.first(header_len()); }
    Bytes options() const {
        return buf_.subspan(kIpv4MinHeaderLen, header_len() - kIpv4MinHeaderLen);
    }
    Bytes payload() const { return buf_.subspan(header_len()); }
    // The whole packet: header + payload, total_len() bytes.
    Bytes bytes() const { return buf_; }

private:
    explicit Ipv4Packet(Bytes buf) : buf_(buf) {}
    Bytes buf_;
};

// The fields the stack reads and writes. emit() writes a 20-byte header with no options.
struct Ipv4Repr {
    Ipv4Address src;
    Ipv4Address dst;
    std::uint8_t protocol = 0;
    std::uint8_t ttl = 64;
    std::uint8_t dscp_ecn = 0;
    std::uint16_t ident = 0;
    bool dont_frag = false;
    bool more_frags = false;
    std::uint32_t frag_offset = 0;  // bytes, a multiple of 8
    std::uint16_t payload_len = 0;

    static Ipv4Repr parse(const Ipv4Packet& p);
    static constexpr std::size_t header_len() { return kIpv4MinHeaderLen; }
    std::size_t total_len() const { return header_len() + payload_len; }
    // Writes the header (checksum included) into out[0..20). out.size() must be >= 20.
    void emit(MutBytes out) const;
    bool operator==(const Ipv4Repr&) const = default;
};

}  // namespace stack::wire
