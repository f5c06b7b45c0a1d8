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

}  // namespace stack::testing
