// IPv4 fragment reassembly (RFC 791 §3.2, RFC 815 hole tracking).
//
// Datagrams are keyed by (src, dst, protocol, ident). Each holds a buffer that grows to the highest
// fragment end seen and a sorted list of received byte ranges (merged when adjacent). Rules:
//  - a fragment wholly inside received data with identical bytes is a harmless duplicate (dropped alone);
//  - any other overlap, or disagreeing bytes, discards the whole datagram (RFC 5722's rule, applied to
//    IPv4 as Linux does, which closes the overlapping-fragment attacks of RFC 1858/3128);
//  - inconsistent fragments discard the datagram: a second last fragment with a different end, data past
//    a known end, or a non-last fragment whose length is not a multiple of 8; an empty fragment is
//    dropped alone (frag_inconsistent);
//  - a datagram whose header + payload would exceed 65535 bytes is discarded (frag_too_big);
//  - each datagram has a deadline (first fragment + timeout); expired ones are discarded (frag_timeout);
//  - memory (buffers + range lists) is capped in bytes and datagrams are capped in number: to make room the
//    datagram closest to its deadline is evicted (frag_evicted), so a flood of incomplete datagrams cannot
//    lock out a datagram that arrives whole. A fragment that alone exceeds the budget is frag_no_memory.
// Each discard is counted once in IpStats under its reason (one count per offending fragment or discarded
// datagram).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "stack/base/time.hpp"
#include "stack/stats.hpp"
#include "stack/wire/ipv4.hpp"

namespace stack::ip {

struct ReassemblyConfig {
    Duration timeout = Duration::seconds(30);
    std::size_t max_bytes = std::size_t{4} << 20;
    std::size_t max_datagrams = 64;
};

class Reassembler {
public:
    struct Datagram {
        wire::Ipv4Repr
            header;     // from the first fragment: offset 0, MF clear, payload_len = whole payload
        Bytes payload;  // valid until the next call to insert() or expire()
    };

    Reassembler(const ReassemblyConfig& config, IpStats& stats);

    // Takes one fragment (is_fragment() is true). Returns the whole datagram when this fragment completes
    // it. Counts ip.rx_fragments, ip.reasm_ok and the drop reasons.
    std::optional<Datagram> insert(Instant now, const wire::Ipv4Packet& fragment);

    // Discards every datagram whose deadline is <= now.
    void expire(Instant now);

    // The earliest deadline, or Instant::never().
    Instant next_deadline() const;

    std::size_t bytes_in_use() const { return bytes_in_use_; }
    std::size_t datagrams_in_flight() const { return slots_.size(); }

private:
    struct Range {
        std::uint32_t begin;
        std::uint32_t end;
    };
    struct Slot {
        wire::Ipv4Address src, dst;
        std::uint8_t protocol = 0;
        std::uint16_t ident = 0;
        Instant deadline;
        std::optional<std::uint32_t> total;  // payload length, known once the last fragment arrived
        bool have_first = false;
        wire::Ipv4Repr first_header;
        std::vector<std::uint8_t> data;
        std::vector<Range> ranges;  // sorted, disjoint, non-adjacent
        std::size_t accounted = 0;  // bytes charged to bytes_in_use_
    };

    Slot* find(const wire::Ipv4Packet& p);
    std::optional<Datagram> complete_if_done(Slot* slot);
    void discard(const Slot* slot, std::uint64_t& reason_counter);
    void remove(const Slot* slot);
    std::size_t footprint(const Slot& slot) const;
    bool make_room(std::size_t need, const Slot* keep);
    void update_gauges();

    ReassemblyConfig config_;
    IpStats& stats_;
    std::vector<std::unique_ptr<Slot>> slots_;  // unique_ptr: pointers stay valid across removal
    std::vector<std::uint8_t> completed_;       // the payload handed out by the last insert()
    std::size_t bytes_in_use_ = 0;
};

}  // namespace stack::ip
