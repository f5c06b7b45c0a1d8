// TCP options (RFC 9293 §3.1-3.2, RFC 7323, RFC 2018): a validating iterator over the raw option bytes,
// the decoded TcpOptions the stack uses, and their encoder.
//
// Decoding rules: End of Option List (kind 0) ends parsing; No-Operation (kind 1) is skipped; every other
// option has a length byte >= 2 that must not run past the end; the known kinds (MSS, window scale,
// SACK-permitted, SACK, timestamps) must have their fixed length (SACK: 2 + 8n, n = 1..4); unknown kinds
// are skipped by their length (RFC 9293 MUST-6/7). A window scale shift > 14 is used as 14 (RFC 7323
// §2.3). If a known option appears twice the last one wins.
//
// Encoding: TcpOptions::emit lays options out 4-byte aligned with NOP padding (MSS; SACK-permitted +
// timestamps as `04 02 08 0a` or `01 01 08 0a`; window scale as `01 03 03 s`; SACK as `01 01 05 len`),
// as Linux does, and falls back to a compact unaligned layout when the aligned one would exceed the
// 40-byte limit. The tail is padded to a multiple of 4 with EOL. SACK blocks that still do not fit are
// dropped from the end (RFC 2018 §3: report as many as fit).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/seq.hpp"

namespace stack::wire {

inline constexpr std::size_t kTcpMaxOptionsLen = 40;
inline constexpr std::uint8_t kTcpMaxWindowScale = 14;  // RFC 7323 §2.3
inline constexpr std::size_t kTcpMaxSackBlocks = 4;     // RFC 2018 §3: at most 4 in 40 bytes

enum class TcpOptionKind : std::uint8_t {
    EndOfList = 0,
    Nop = 1,
    Mss = 2,
    WindowScale = 3,
    SackPermitted = 4,
    Sack = 5,
    Timestamps = 8,
};

enum class TcpOptionError : std::uint8_t {
    MissingLength,   // a kind other than EOL/NOP is the last byte: no room for its length byte
    BadLength,       // a length byte < 2, or an option that runs past the end of the options
    BadKnownLength,  // a known kind with the wrong length (e.g. MSS with length != 4)
};
std::string_view to_string(TcpOptionError e);

// One option as found on the wire: its kind and its data (the bytes after kind and length).
struct TcpOption {
    std::uint8_t kind = 0;
    Bytes data;
};

// Walks raw option bytes. next() yields each option other than NOP/EOL in order, std::nullopt at the
// end (EOL or no bytes left), or the reason the bytes are malformed (after which it stays at the end).
// After an error or the end, next() keeps returning std::nullopt.
class TcpOptionIterator {
public:
    explicit TcpOptionIterator(Bytes options) : rest_(options) {}
    Result<std::optional<TcpOption>, TcpOptionError> next();

private:
    Bytes rest_;
};

struct SackBlock {
    SeqNumber left;   // first sequence number of the block
    SeqNumber right;  // sequence number just after the block
    bool operator==(const SackBlock&) const = default;
};

struct TcpTimestamps {
    std::uint32_t tsval = 0;
    std::uint32_t tsecr = 0;
    bool operator==(const TcpTimestamps&) const = default;
};

struct TcpOptions {
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> window_scale;  // shift count, 0..14 once parsed
    bool sack_permitted = false;
    std::array<SackBlock, kTcpMaxSackBlocks> sack_blocks{};
    std::uint8_t sack_count = 0;  // how many of sack_blocks are meaningful
    std::optional<TcpTimestamps> timestamps;

    static Result<TcpOptions, TcpOptionError> parse(Bytes options);

    bool empty() const {
        return !mss && !window_scale && !sack_permitted && sack_count == 0 && !timestamps;
    }
    // Bytes emit() writes: a multiple of 4, at most kTcpMaxOptionsLen.
    std::size_t padded_len() const;
    // Writes padded_len() bytes into out. out.size() must be >= padded_len(); sack_count <= 4. A window
    // scale above 14 is sent as 14.
    void emit(MutBytes out) const;

    // Compares the meaningful fields (only the first sack_count SACK blocks).
    bool operator==(const TcpOptions& o) const;
};

}  // namespace stack::wire
