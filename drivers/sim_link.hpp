// SimLink: an in-memory point-to-point link joining two stacks in one process, in simulated time.
//
// side(0) and side(1) are PacketSinks: what side i transmits travels toward side 1-i through its
// own FaultyChannel (seeded loss, duplication, reordering, corruption, delay + jitter, bounded
// capacity). The owner drives time: each step it calls deliver(now, side, fn) for both sides and
// asks next_delivery() when to step again. Packets transmitted between calls are stamped with the
// latest `now` the link was given (deliver() or set_now()).
//
// A TCP super-packet (transmit_gso, from a stack with TSO) is cut into its segments as a TSO device
// would (drivers/gso.hpp) and each segment travels on its own: faults hit segments, not the whole
// super-packet, and the receiving stack sees what a wire would carry.
//
// Invariants: deterministic for a given pair of seeds and sequence of calls; time never goes
// backwards (an older `now` is ignored); transmit() always takes the packet (a full link drops it
// and counts an overflow, as a full router queue would); deliver() hands out only packets
// transmitted before it was called, so two stacks answering each other inside `fn` cannot loop
// forever within one step.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "drivers/fault_injector.hpp"
#include "stack/base/function_ref.hpp"
#include "stack/base/packet_sink.hpp"
#include "stack/base/time.hpp"

namespace drivers {

class SimLink {
public:
    // Both directions impaired alike; the 1→0 direction uses a seed derived from config.seed so the
    // two directions do not mirror each other's faults.
    explicit SimLink(const FaultConfig& config);
    SimLink(const FaultConfig& zero_to_one, const FaultConfig& one_to_zero);
    SimLink(const SimLink&) = delete;
    SimLink& operator=(const SimLink&) = delete;

    // The sink side `i` (0 or 1) transmits into. Valid as long as the link.
    stack::PacketSink& side(int i);

    void set_now(stack::Instant now);
    stack::Instant now() const { return now_; }

    // Hands every packet arriving at `side` that is due by `now` to `fn`, in arrival order. Returns
    // how many.
    std::size_t deliver(stack::Instant now, int side, stack::function_ref<void(stack::Bytes)> fn);

    // The earliest pending arrival at either side (Instant::never() if the link is empty).
    stack::Instant next_delivery() const;
    // The earliest pending arrival at `side`.
    stack::Instant next_delivery(int side) const;
    std::size_t in_flight() const;

    // Counters of the direction leaving `from_side`.
    const FaultCounters& counters(int from_side) const;
    const FaultConfig& config(int from_side) const;

    // The seed the 1→0 direction gets in the one-config constructor.
    static std::uint64_t reverse_seed(std::uint64_t seed);

private:
    class End : public stack::PacketSink {
    public:
        End(SimLink& link, int from) : link_(link), from_(from) {}
        bool transmit(stack::Bytes packet) override;
        bool transmit_gso(stack::Bytes packet, const stack::GsoInfo& gso) override;

    private:
        SimLink& link_;
        int from_;
    };

    static FaultConfig reversed(const FaultConfig& config);
    static std::size_t index(int side);

    // channels_[i] carries what side i transmits (arrives at side 1-i).
    std::array<FaultyChannel, 2> channels_;
    std::array<End, 2> ends_;
    stack::Instant now_;
    std::vector<std::uint8_t> scratch_;  // one segment being cut from a super-packet
};

}  // namespace drivers
