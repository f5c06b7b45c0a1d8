// RingBuffer: a fixed-capacity byte ring for socket send/receive buffers, allocated once at construction
// (DESIGN.md §3.7: rings for socket buffers, nothing allocated on the fast path).
//
// Model: the ring holds `size()` readable bytes starting at the read position; the `free()` bytes after
// them are free space. Free space can be filled in two ways:
//   - in order: write() (copy) or writable() + commit(n) (zero copy), which append readable bytes;
//   - out of order (TCP reassembly, RFC 9293 §3.10.7.4 "segments with higher beginning sequence numbers
//     may be held"): write_at(offset, data) stores bytes `offset` bytes past the end of the readable data
//     WITHOUT making them readable; a later commit(n) makes the first n bytes past the end readable,
//     whatever was put there by write_at() or writable().
// Bytes placed in free space are not tracked: a write() or writable() fill covering them overwrites them
// (for TCP they are the same bytes). The caller (the receiver) tracks which out-of-order ranges it holds.
//
// Capacity may be any size, including 0 (every operation then moves 0 bytes). Positions wrap with a
// compare-and-subtract, not a mask, so no power-of-two rounding is needed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "stack/base/assert.hpp"
#include "stack/base/bytes.hpp"

namespace stack {

class RingBuffer {
public:
    // The storage is not zeroed (make_unique_for_overwrite): untouched pages of a large buffer cost no
    // resident memory until data first reaches them, so an idle connection's 2 x 512 KiB stay virtual.
    explicit RingBuffer(std::size_t capacity)
        : buf_(capacity ? std::make_unique_for_overwrite<std::uint8_t[]>(capacity) : nullptr),
          cap_(capacity) {}

    // A moved-from ring has capacity 0.
    RingBuffer(RingBuffer&& o) noexcept
        : buf_(std::move(o.buf_)),
          cap_(std::exchange(o.cap_, 0)),
          head_(std::exchange(o.head_, 0)),
          size_(std::exchange(o.size_, 0)) {}
    RingBuffer& operator=(RingBuffer&& o) noexcept {
        buf_ = std::move(o.buf_);
        cap_ = std::exchange(o.cap_, 0);
        head_ = std::exchange(o.head_, 0);
        size_ = std::exchange(o.size_, 0);
        return *this;
    }
    RingBuffer(const RingBuffer&) = delete;
    RingBuffer& operator=(const RingBuffer&) = delete;

    std::size_t size() const { return size_; }
    std::size_t capacity() const { return cap_; }
    std::size_t free() const { return cap_ - size_; }
    bool empty() const { return size_ == 0; }
    bool full() const { return size_ == cap_; }

    // Drops all data (readable and out-of-order) and rewinds to the start of the storage.
    void clear() {
        head_ = 0;
        size_ = 0;
    }

    // Appends as much of `data` as fits; returns the number of bytes appended (made readable).
    std::size_t write(Bytes data) {
        const std::size_t n = write_at(0, data);
        size_ += n;
        return n;
    }

    // Copies up to out.size() readable bytes into `out` and consumes them; returns the count.
    std::size_t read(MutBytes out) {
        const std::size_t n = peek(0, out);
        consume(n);
        return n;
    }

    // Copies up to out.size() readable bytes starting `offset` bytes past the read position into `out`
    // without consuming them; returns the count (0 if offset >= size()).
    std::size_t peek(std::size_t offset, MutBytes out) const {
        auto [a, b] = readable(offset, out.size());
        if (!a.empty()) std::memcpy(out.data(), a.data(), a.size());
        if (!b.empty()) std::memcpy(out.data() + a.size(), b.data(), b.size());
        return a.size() + b.size();
    }

    // Discards the first n readable bytes. Precondition: n <= size().
    void consume(std::size_t n) {
        STACK_ASSERT(n <= size_);
        size_ -= n;
        // Never rewind to 0 when empty: bytes placed past the end with write_at() (out-of-order TCP
        // data) must stay where they are.
        head_ = wrap(head_ + n);
    }

    // Zero-copy read access: up to `max` readable bytes starting `offset` bytes past the read position,
    // as at most two contiguous spans (the second non-empty only when the data wraps). Both are empty if
    // offset >= size(). The spans stay valid until the next mutating call.
    std::pair<Bytes, Bytes> readable(std::size_t offset = 0, std::size_t max = SIZE_MAX) const {
        if (offset >= size_) return {};
        const std::size_t n = std::min(size_ - offset, max);
        return spans(wrap(head_ + offset), n);
    }

    // Zero-copy write access: all free space as at most two contiguous spans, in order. Fill a prefix of
    // their concatenation and commit() its length.
    std::pair<MutBytes, MutBytes> writable() {
        const std::size_t n = free();
        if (n == 0) return {};
        const std::size_t pos = wrap(head_ + size_);
        const std::size_t first = std::min(n, cap_ - pos);
        return {MutBytes(buf_.get() + pos, first), MutBytes(buf_.get(), n - first)};
    }

    // Makes the first n bytes of free space readable (after writable() or write_at()). Precondition:
    // n <= free().
    void commit(std::size_t n) {
        STACK_ASSERT(n <= free());
        size_ += n;
    }

    // Stores `data` `offset` bytes past the end of the readable data, in free space, without making it
    // readable. Truncated at the end of free space; returns the number of bytes stored (0 if offset >=
    // free()).
    std::size_t write_at(std::size_t offset, Bytes data) {
        const std::size_t room = free();
        if (offset >= room) return 0;
        const std::size_t n = std::min(data.size(), room - offset);
        if (n == 0) return 0;
        const std::size_t pos = wrap(head_ + size_ + offset);  // < 2*cap before wrap: offset < cap
        const std::size_t first = std::min(n, cap_ - pos);
        std::memcpy(buf_.get() + pos, data.data(), first);
        if (n > first) std::memcpy(buf_.get(), data.data() + first, n - first);
        return n;
    }

private:
    // Reduces a position in [0, 2*cap) to [0, cap).
    std::size_t wrap(std::size_t pos) const { return pos >= cap_ ? pos - cap_ : pos; }

    // The n bytes starting at storage position pos, split at the end of the storage.
    std::pair<Bytes, Bytes> spans(std::size_t pos, std::size_t n) const {
        if (n == 0) return {};
        const std::size_t first = std::min(n, cap_ - pos);
        return {Bytes(buf_.get() + pos, first), Bytes(buf_.get(), n - first)};
    }

    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t cap_ = 0;
    std::size_t head_ =
        0;  // storage position of the first readable byte, < cap_ (0 when cap_ == 0)
    std::size_t size_ = 0;  // readable bytes
};

}  // namespace stack
