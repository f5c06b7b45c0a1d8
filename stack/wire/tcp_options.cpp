#include "stack/wire/tcp_options.hpp"

#include <algorithm>

namespace stack::wire {

std::string_view to_string(TcpOptionError e) {
    switch (e) {
        case TcpOptionError::MissingLength: return "missing_length";
        case TcpOptionError::BadLength: return "bad_length";
        case TcpOptionError::BadKnownLength: return "bad_known_length";
    }
    return "unknown";
}

namespace {

// The length a known kind must have; 0 for unknown kinds (any length >= 2 goes).
bool known_length_ok(std::uint8_t kind, std::size_t len) {
    switch (static_cast<TcpOptionKind>(kind)) {
        case TcpOptionKind::Mss: return len == 4;
        case TcpOptionKind::WindowScale: return len == 3;
        case TcpOptionKind::SackPermitted: return len == 2;
        case TcpOptionKind::Timestamps: return len == 10;
        case TcpOptionKind::Sack:
            return len >= 10 && (len - 2) % 8 == 0 && (len - 2) / 8 <= kTcpMaxSackBlocks;
        default: return true;
    }
}

}  // namespace

Result<std::optional<TcpOption>, TcpOptionError> TcpOptionIterator::next() {
    while (!rest_.empty()) {
        const std::uint8_t kind = rest_[0];
        if (kind == static_cast<std::uint8_t>(TcpOptionKind::EndOfList)) {
            rest_ = {};
            break;
        }
        if (kind == static_cast<std::uint8_t>(TcpOptionKind::Nop)) {
            rest_ = rest_.subspan(1);
            continue;
        }
        if (rest_.size() < 2) {
            rest_ = {};
            return Err{TcpOptionError::MissingLength};
        }
        const std::size_t len = rest_[1];
        if (len < 2 || len > rest_.size()) {
            rest_ = {};
            return Err{TcpOptionError::BadLength};
        }
        if (!known_length_ok(kind, len)) {
            rest_ = {};
            return Err{TcpOptionError::BadKnownLength};
        }
        TcpOption opt{kind, rest_.subspan(2, len - 2)};
        rest_ = rest_.subspan(len);
        return std::optional<TcpOption>(opt);
    }
    return std::optional<TcpOption>();
}

Result<TcpOptions, TcpOptionError> TcpOptions::parse(Bytes options) {
    TcpOptions out;
    TcpOptionIterator it(options);
    for (;;) {
        auto next = it.next();
        if (!next) return Err{next.error()};
        if (!next->has_value()) break;
        const TcpOption& opt = **next;
        const std::uint8_t* d = opt.data.data();
        switch (static_cast<TcpOptionKind>(opt.kind)) {
            case TcpOptionKind::Mss: out.mss = load_be16(d); break;
            case TcpOptionKind::WindowScale:
                out.window_scale = std::min(d[0], kTcpMaxWindowScale);
                break;
            case TcpOptionKind::SackPermitted: out.sack_permitted = true; break;
            case TcpOptionKind::Sack: {
                out.sack_blocks = {};
                out.sack_count = static_cast<std::uint8_t>(opt.data.size() / 8);
                for (std::size_t i = 0; i < out.sack_count; ++i) {
                    out.sack_blocks[i] = {SeqNumber(load_be32(d + 8 * i)),
                                          SeqNumber(load_be32(d + 8 * i + 4))};
                }
                break;
            }
            case TcpOptionKind::Timestamps:
                out.timestamps = TcpTimestamps{load_be32(d), load_be32(d + 4)};
                break;
            default: break;  // unknown (or EOL/NOP, which the iterator never yields): skipped
        }
    }
    return out;
}

namespace {

struct Layout {
    bool aligned = true;
    std::size_t sack_count = 0;
    std::size_t len = 0;  // padded to 4
};

std::size_t round4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

std::size_t aligned_len(const TcpOptions& o, std::size_t sacks) {
    std::size_t n = 0;
    if (o.mss) n += 4;
    if (o.timestamps) {
        n += 12;  // [04 02 | 01 01] 08 0a tsval tsecr
    } else if (o.sack_permitted) {
        n += 4;  // 01 01 04 02
    }
    if (o.window_scale) n += 4;         // 01 03 03 s
    if (sacks > 0) n += 4 + 8 * sacks;  // 01 01 05 len blocks
    return n;
}

std::size_t compact_len(const TcpOptions& o, std::size_t sacks) {
    std::size_t n = 0;
    if (o.mss) n += 4;
    if (o.window_scale) n += 3;
    if (o.sack_permitted) n += 2;
    if (o.timestamps) n += 10;
    if (sacks > 0) n += 2 + 8 * sacks;
    return round4(n);
}

Layout plan(const TcpOptions& o) {
    STACK_ASSERT(o.sack_count <= kTcpMaxSackBlocks);
    for (std::size_t sacks = o.sack_count;; --sacks) {
        if (std::size_t len = aligned_len(o, sacks); len <= kTcpMaxOptionsLen) {
            return {true, sacks, len};
        }
        if (std::size_t len = compact_len(o, sacks); len <= kTcpMaxOptionsLen) {
            return {false, sacks, len};
        }
        // Without SACK blocks the longest layout is 20 bytes, so the loop ends at sacks == 0.
    }
}

class Writer {
public:
    explicit Writer(std::uint8_t* p) : p_(p) {}
    void u8(std::uint8_t v) { p_[n_++] = v; }
    void u16(std::uint16_t v) {
        store_be16(p_ + n_, v);
        n_ += 2;
    }
    void u32(std::uint32_t v) {
        store_be32(p_ + n_, v);
        n_ += 4;
    }
    std::size_t size() const { return n_; }

private:
    std::uint8_t* p_;
    std::size_t n_ = 0;
};

void write_sack(Writer& w, const TcpOptions& o, std::size_t sacks) {
    w.u8(static_cast<std::uint8_t>(TcpOptionKind::Sack));
    w.u8(static_cast<std::uint8_t>(2 + 8 * sacks));
    for (std::size_t i = 0; i < sacks; ++i) {
        w.u32(o.sack_blocks[i].left.value());
        w.u32(o.sack_blocks[i].right.value());
    }
}

void write_timestamps(Writer& w, const TcpTimestamps& ts) {
    w.u8(static_cast<std::uint8_t>(TcpOptionKind::Timestamps));
    w.u8(10);
    w.u32(ts.tsval);
    w.u32(ts.tsecr);
}

constexpr auto kNop = static_cast<std::uint8_t>(TcpOptionKind::Nop);
constexpr auto kSackPermitted = static_cast<std::uint8_t>(TcpOptionKind::SackPermitted);

}  // namespace

std::size_t TcpOptions::padded_len() const { return plan(*this).len; }

void TcpOptions::emit(MutBytes out) const {
    const Layout layout = plan(*this);
    STACK_ASSERT(out.size() >= layout.len);
    Writer w(out.data());
    if (mss) {
        w.u8(static_cast<std::uint8_t>(TcpOptionKind::Mss));
        w.u8(4);
        w.u16(*mss);
    }
    if (layout.aligned) {
        if (timestamps) {
            if (sack_permitted) {
                w.u8(kSackPermitted);
                w.u8(2);
            } else {
                w.u8(kNop);
                w.u8(kNop);
            }
            write_timestamps(w, *timestamps);
        } else if (sack_permitted) {
            w.u8(kNop);
            w.u8(kNop);
            w.u8(kSackPermitted);
            w.u8(2);
        }
        if (window_scale) {
            w.u8(kNop);
            w.u8(static_cast<std::uint8_t>(TcpOptionKind::WindowScale));
            w.u8(3);
            w.u8(std::min(*window_scale, kTcpMaxWindowScale));
        }
        if (layout.sack_count > 0) {
            w.u8(kNop);
            w.u8(kNop);
            write_sack(w, *this, layout.sack_count);
        }
    } else {
        if (window_scale) {
            w.u8(static_cast<std::uint8_t>(TcpOptionKind::WindowScale));
            w.u8(3);
            w.u8(std::min(*window_scale, kTcpMaxWindowScale));
        }
        if (sack_permitted) {
            w.u8(kSackPermitted);
            w.u8(2);
        }
        if (timestamps) write_timestamps(w, *timestamps);
        if (layout.sack_count > 0) write_sack(w, *this, layout.sack_count);
    }
    while (w.size() < layout.len) w.u8(static_cast<std::uint8_t>(TcpOptionKind::EndOfList));
}

bool TcpOptions::operator==(const TcpOptions& o) const {
    if (mss != o.mss || window_scale != o.window_scale || sack_permitted != o.sack_permitted ||
        timestamps != o.timestamps || sack_count != o.sack_count) {
        return false;
    }
    return std::equal(sack_blocks.begin(), sack_blocks.begin() + sack_count, o.sack_blocks.begin());
}

}  // namespace stack::wire
