// TCP header (RFC 9293 §3.1): a validated zero-copy view, the control-bit set, and a plain Repr.
//
// TcpPacket::parse checks, in order: the segment is no longer than an IPv4 payload can be, the buffer
// holds the 20-byte fixed header, the data offset is >= 5 and the header it announces fits the buffer,
// and (unless told to skip) the checksum over the IPv4 pseudo-header and the whole segment. Options are
// not interpreted by parse: options() returns their raw bytes for TcpOptions::parse (or
// TcpRepr::parse). After a successful parse no accessor can read outside the segment.
//
// Sequence numbers are SeqNumber (stack/wire/seq.hpp), compared with serial arithmetic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/seq.hpp"
#include "stack/wire/tcp_options.hpp"

namespace stack::wire {

inline constexpr std::size_t kTcpMinHeaderLen = 20;
inline constexpr std::size_t kTcpMaxHeaderLen = 60;
inline constexpr std::size_t kTcpMaxSegmentLen =
    65535;  // bounded by the pseudo-header length field

// The control bits in byte 13 of the header (RFC 9293 §3.1; ECE/CWR from RFC 3168).
enum class TcpFlag : std::uint8_t {
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
};

// A set of TcpFlag values, stored as the wire byte.
class TcpFlags {
public:
    constexpr TcpFlags() = default;
    constexpr TcpFlags(TcpFlag f)
        : bits_(static_cast<std::uint8_t>(f)) {}  // NOLINT: implicit by design
    static constexpr TcpFlags from_bits(std::uint8_t bits) {
        TcpFlags f;
        f.bits_ = bits;
        return f;
    }

    constexpr std::uint8_t bits() const { return bits_; }
    constexpr bool has(TcpFlag f) const { return (bits_ & static_cast<std::uint8_t>(f)) != 0; }
    constexpr bool empty() const { return bits_ == 0; }
    constexpr bool fin() const { return has(TcpFlag::Fin); }
    constexpr bool syn() const { return has(TcpFlag::Syn); }
    constexpr bool rst() const { return has(TcpFlag::Rst); }
    constexpr bool psh() const { return has(TcpFlag::Psh); }
    constexpr bool ack() const { return has(TcpFlag::Ack); }
    constexpr bool urg() const { return has(TcpFlag::Urg); }
    constexpr bool ece() const { return has(TcpFlag::Ece); }
    constexpr bool cwr() const { return has(TcpFlag::Cwr); }

    constexpr TcpFlags operator|(TcpFlags o) const { return from_bits(bits_ | o.bits_); }
    constexpr TcpFlags& operator|=(TcpFlags o) {
        bits_ |= o.bits_;
        return *this;
    }
    constexpr TcpFlags without(TcpFlags o) const {
        return from_bits(static_cast<std::uint8_t>(bits_ & ~o.bits_));
    }
    constexpr bool operator==(const TcpFlags&) const = default;

    // "SYN|ACK", or "none".
    std::string to_string() const;

private:
    std::uint8_t bits_ = 0;
};
constexpr TcpFlags operator|(TcpFlag a, TcpFlag b) { return TcpFlags(a) | TcpFlags(b); }

enum class TcpError : std::uint8_t {
    TooLong,        // longer than 65535 bytes: cannot be an IPv4 payload
    Truncated,      // shorter than the 20-byte fixed header
    BadDataOffset,  // data offset < 5, or the header is longer than the buffer
    BadChecksum,    // the checksum over pseudo-header + segment does not verify
};
std::string_view to_string(TcpError e);

class TcpPacket {
public:
    enum class Checksum : bool { Skip, Verify };

    // `buffer` is the IPv4 payload (the whole segment); `src`/`dst` are the IPv4 addresses for the
    // pseudo-header.
    static Result<TcpPacket, TcpError> parse(Bytes buffer, Ipv4Address src, Ipv4Address dst,
                                             Checksum check = Checksum::Verify);

    std::uint16_t src_port() const { return load_be16(&buf_[0]); }
    std::uint16_t dst_port() const { return load_be16(&buf_[2]); }
    SeqNumber seq() const { return SeqNumber(load_be32(&buf_[4])); }
    SeqNumber ack() const { return SeqNumber(load_be32(&buf_[8])); }
    std::size_t header_len() const { return (std::size_t{buf_[12]} >> 4) * 4; }
    // The 4 bits after the data offset (reserved; the low one was the historic NS bit, RFC 3540).
    std::uint8_t reserved() const { return buf_[12] & 0x0fu; }
    TcpFlags flags() const { return TcpFlags::from_bits(buf_[13]); }
    std::uint16_t window() const { return load_be16(&buf_[14]); }
    std::uint16_t checksum() const { return load_be16(&buf_[16]); }
    std::uint16_t urgent() const { return load_be16(&buf_[18]); }

    Bytes header() const { return buf_.first(header_len()); }
    Bytes options() const {
        return buf_.subspan(kTcpMinHeaderLen, header_len() - kTcpMinHeaderLen);
    }
    Bytes payload() const { return buf_.subspan(header_len()); }
    // Sequence space the segment occupies: payload + SYN + FIN (RFC 9293 §3.4 SEG.LEN).
    std::uint32_t segment_len() const {
        return static_cast<std::uint32_t>(payload().size()) + (flags().syn() ? 1u : 0u) +
               (flags().fin() ? 1u : 0u);
    }
    Bytes bytes() const { return buf_; }

private:
    explicit TcpPacket(Bytes buf) : buf_(buf) {}
    Bytes buf_;
};

struct TcpRepr {
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    SeqNumber seq;
    SeqNumber ack;
    TcpFlags flags;
    std::uint16_t window = 0;
    std::uint16_t urgent = 0;
    TcpOptions options;
    std::uint16_t payload_len = 0;

    // Decodes the fields and the options; fails only if the options are malformed.
    static Result<TcpRepr, TcpOptionError> parse(const TcpPacket& p);

    // 20 + the options padded to a multiple of 4 (at most 60).
    std::size_t header_len() const { return kTcpMinHeaderLen + options.padded_len(); }
    std::size_t len() const { return header_len() + payload_len; }

    // Writes header, options and payload into out[0..len()) with the checksum over the pseudo-header
    // (src, dst). Reserved bits are sent as 0.
    // Contract: payload.size() == payload_len, len() <= 65535, out.size() >= len(). `payload` may
    // already sit at out[header_len()..] (it is then not copied) or anywhere else, overlapping or not.
    void emit(MutBytes out, Ipv4Address src, Ipv4Address dst, Bytes payload) const;
    bool operator==(const TcpRepr&) const = default;
};

}  // namespace stack::wire
