#include "drivers/sim_link.hpp"

#include <algorithm>

#include "drivers/gso.hpp"
#include "stack/base/assert.hpp"

namespace drivers {

std::uint64_t SimLink::reverse_seed(std::uint64_t seed) {
    // One splitmix64 step: a fixed, well-mixed function of the seed.
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

FaultConfig SimLink::reversed(const FaultConfig& config) {
    FaultConfig c = config;
    c.seed = reverse_seed(config.seed);
    return c;
}

SimLink::SimLink(const FaultConfig& config) : SimLink(config, reversed(config)) {}

SimLink::SimLink(const FaultConfig& zero_to_one, const FaultConfig& one_to_zero)
    : channels_{FaultyChannel(zero_to_one), FaultyChannel(one_to_zero)},
      ends_{End(*this, 0), End(*this, 1)},
      scratch_(65536) {}

std::size_t SimLink::index(int side) {
    STACK_ASSERT(side == 0 || side == 1);
    return static_cast<std::size_t>(side);
}

stack::PacketSink& SimLink::side(int i) { return ends_[index(i)]; }

bool SimLink::End::transmit(stack::Bytes packet) {
    link_.channels_[index(from_)].offer(link_.now_, packet);
    return true;
}

bool SimLink::End::transmit_gso(stack::Bytes packet, const stack::GsoInfo& gso) {
    FaultyChannel& channel = link_.channels_[index(from_)];
    const std::size_t n =
        segment_tcp4(packet, gso, stack::MutBytes(link_.scratch_),
                     [&](stack::Bytes segment) { channel.offer(link_.now_, segment); });
    STACK_ASSERT(n == gso.segments);  // the stack's metadata must describe its packet
    return true;
}

void SimLink::set_now(stack::Instant now) { now_ = std::max(now_, now); }

std::size_t SimLink::deliver(stack::Instant now, int side,
                             stack::function_ref<void(stack::Bytes)> fn) {
    set_now(now);
    return channels_[1 - index(side)].drain(now_, fn);
}

stack::Instant SimLink::next_delivery() const {
    return std::min(channels_[0].next_due(), channels_[1].next_due());
}

stack::Instant SimLink::next_delivery(int side) const {
    return channels_[1 - index(side)].next_due();
}

std::size_t SimLink::in_flight() const { return channels_[0].queued() + channels_[1].queued(); }

const FaultCounters& SimLink::counters(int from_side) const {
    return channels_[index(from_side)].counters();
}

const FaultConfig& SimLink::config(int from_side) const {
    return channels_[index(from_side)].config();
}

}  // namespace drivers
