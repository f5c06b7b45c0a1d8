// Helpers shared by the wire tests: hex decoding of golden packets, gtest printers for wire types,
// placing a packet at an odd offset in a larger buffer, and the golden packets themselves.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/wire/icmpv4.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/seq.hpp"
#include "stack/wire/tcp.hpp"
#include "stack/wire/tcp_options.hpp"
#include "stack/wire/udp.hpp"

namespace stack::wire {

inline void PrintTo(SeqNumber s, std::ostream* os) { *os << "seq " << s.value(); }
inline void PrintTo(TcpFlags f, std::ostream* os) { *os << f.to_string(); }
inline void PrintTo(Ipv4Address a, std::ostream* os) { *os << a.to_string(); }
inline void PrintTo(Ipv4Error e, std::ostream* os) { *os << to_string(e); }
inline void PrintTo(Icmpv4Error e, std::ostream* os) { *os << to_string(e); }
inline void PrintTo(UdpError e, std::ostream* os) { *os << to_string(e); }
inline void PrintTo(TcpError e, std::ostream* os) { *os << to_string(e); }
inline void PrintTo(TcpOptionError e, std::ostream* os) { *os << to_string(e); }

inline void PrintTo(const TcpOptions& o, std::ostream* os) {
    *os << "{mss " << (o.mss ? int{*o.mss} : -1) << " ws "
        << (o.window_scale ? int{*o.window_scale} : -1) << " sackok " << o.sack_permitted << " ts ";
    if (o.timestamps) {
        *os << o.timestamps->tsval << "/" << o.timestamps->tsecr;
    } else {
        *os << "-";
    }
    *os << " sack";
    for (std::size_t i = 0; i < o.sack_count; ++i) {
        *os << " " << o.sack_blocks[i].left.value() << "-" << o.sack_blocks[i].right.value();
    }
    *os << "}";
}
inline void PrintTo(const TcpRepr& r, std::ostream* os) {
    *os << "{" << r.src_port << "->" << r.dst_port << " seq " << r.seq.value() << " ack "
        << r.ack.value() << " " << r.flags.to_string() << " win " << r.window << " urg " << r.urgent
        << " len " << r.payload_len << " opts ";
    PrintTo(r.options, os);
    *os << "}";
}

}  // namespace stack::wire

namespace stack::wire::testing {

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
    auto nibble = [](char c) -> std::uint8_t {
        if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
        ADD_FAILURE() << "bad hex digit " << c;
        return 0;
    };
    std::vector<std::uint8_t> out;
    std::size_t i = 0;
    while (i < hex.size()) {
        if (hex[i] == ' ') {
            ++i;
            continue;
        }
        out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
        i += 2;
    }
    return out;
}

// A copy of `bytes` at `offset` (1..7 gives odd alignments) in a larger zero-filled buffer.
class Placed {
public:
    Placed(Bytes bytes, std::size_t offset)
        : storage_(bytes.size() + offset + 16), offset_(offset) {
        std::copy(bytes.begin(), bytes.end(),
                  storage_.begin() + static_cast<std::ptrdiff_t>(offset));
        size_ = bytes.size();
    }
    Bytes bytes() const { return Bytes(storage_.data() + offset_, size_); }
    MutBytes mut() { return MutBytes(storage_.data() + offset_, size_); }

private:
    std::vector<std::uint8_t> storage_;
    std::size_t offset_;
    std::size_t size_ = 0;
};

// Real packets written by Linux 6.x into a TUN device (198.18.0.1 -> 198.18.0.2), captured with
// tests/wire/capture_golden.py in a private network namespace.
// UDP datagram with the 15-byte payload "hello tunstack!" to port 5353.
inline constexpr std::string_view kGoldenUdp =
    "4500002b7ae94000401133b1c6120001c6120002b96d14e90017859968656c6c6f2074756e737461636b21";
// TCP SYN to port 8080: MSS 1460, SACK permitted, timestamps, NOP, window scale 10.
inline constexpr std::string_view kGoldenTcpSyn =
    "4500003cdc8440004006d20fc6120001c6120002eb861f90a59211dd00000000a002faf012910000020405b4"
    "0402080a96bd550f000000000103030a";
// ICMP echo request (ping -s 21): ident 0x2898, seq 1, 21 data bytes (odd length).
inline constexpr std::string_view kGoldenIcmpEcho =
    "450000319a1940004001148bc6120001c61200020800eded289800012833056b0000000070b60d00000000001011"
    "121314";

inline constexpr Ipv4Address kGoldenSrc{198, 18, 0, 1};
inline constexpr Ipv4Address kGoldenDst{198, 18, 0, 2};

}  // namespace stack::wire::testing
