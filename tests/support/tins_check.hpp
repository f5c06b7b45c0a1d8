// An independent decoder for output packets: libtins parses the bytes and serializes them again,
// recomputing every length and checksum itself. Byte-identical output means our lengths and checksums
// agree with a second implementation.
#pragma once

#include <gtest/gtest.h>
#include <tins/tins.h>

#include <cstdint>
#include <vector>

namespace stack::testing {

inline void expect_tins_roundtrip(const std::vector<std::uint8_t>& p) {
    Tins::IP ip(p.data(), static_cast<std::uint32_t>(p.size()));
    const std::vector<std::uint8_t> again = ip.serialize();
    EXPECT_EQ(again, p) << "libtins re-serialization differs (a length or checksum disagrees)";
}

// As above for the IP header only (libtins adds an RFC 4884 length to Destination Unreachable messages
// quoting more than 128 bytes when it re-serializes them; RFC 4884 §5 leaves it zero without extensions).
inline void expect_tins_ip_header_roundtrip(const std::vector<std::uint8_t>& p) {
    Tins::IP ip(p.data(), static_cast<std::uint32_t>(p.size()));
    const std::vector<std::uint8_t> again = ip.serialize();
    ASSERT_GE(again.size(), 20u);
    EXPECT_EQ(std::vector<std::uint8_t>(again.begin(), again.begin() + 20),
              std::vector<std::uint8_t>(p.begin(), p.begin() + 20))
        << "libtins disagrees with the IP header (length or checksum)";
}

}  // namespace stack::testing
