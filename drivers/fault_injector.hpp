// Seeded packet impairment: the fault decisions (FaultInjector), a delay line that holds packets
// until they are due (DelayLine), the two joined as a one-way FaultyChannel, and FaultyDevice,
// which wraps any PacketSink (transmit) and receive path with such channels. SimLink (sim_link.hpp)
// is two channels.
//
// Invariants:
//  - Determinism: every decision comes from the injector's own std::mt19937_64 seeded by
//    FaultConfig::seed, and each packet consumes the same number of draws whatever the
//    configuration, so the same seed and the same sequence of packets always give the same faults.
//    Uniform variates are derived from the raw 64-bit output by us (not
//    std::uniform_*_distribution, whose algorithms differ between standard libraries).
//  - Only `reorder` reorders: delayed or jittered packets keep their order (a packet never becomes
//  due
//    before an earlier in-order packet); a reordered packet is held back by reorder_delay so that
//    later packets overtake it.
//  - Corruption flips exactly one bit of one copy. Duplication delivers the packet twice.
//  - A channel holds at most `capacity` packets; more are dropped and counted as overflowed.
//  - Time is data: channels never read a clock; they are told `now`.
//  - A TCP super-packet (TSO, PacketSink::transmit_gso) is one packet to the injector: it is dropped,
//    duplicated, delayed or reordered whole and keeps its GsoInfo. If it is corrupted and its TCP
//    checksum is partial, the checksum is completed first and the copy goes on as not partial, so
//    that the receiver can detect the flipped bit, as it would in a corrupted segment on a wire
//    (a partial checksum is trusted by the kernel and would deliver the damage).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/error.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/function_ref.hpp"
#include "stack/base/packet_sink.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"

namespace drivers {

struct FaultConfig {
    double loss = 0;        // probability in [0, 1] that a packet is dropped
    double duplicate = 0;   // ... that it is delivered twice
    double reorder = 0;     // ... that it is held back by reorder_delay (later packets overtake it)
    double corrupt = 0;     // ... that one random bit of it is flipped
    stack::Duration delay;  // fixed one-way delay
    stack::Duration jitter;                                      // plus uniform [0, jitter]
    stack::Duration reorder_delay = stack::Duration::millis(5);  // extra hold for reordered packets
    std::size_t capacity = 1024;                                 // packets held at once
    std::uint64_t seed = 1;

    // Parses the CLI syntax "loss=3%,dup=1%,reorder=5%,delay=10ms,corrupt=0.1%,seed=N". Keys: loss,
    // dup (or duplicate), reorder, corrupt (percentages "N%", or a bare 0), delay, jitter,
    // reorder_delay (durations with unit us/ms/s, or a bare 0), capacity (packets, >= 1), seed
    // (unsigned 64-bit). Unset keys keep their defaults; "" is the identity. Errors name the bad
    // item.
    static stack::Result<FaultConfig, Error> parse(std::string_view spec);
    // The canonical spec with every key; parse(to_string()) gives an equivalent config (rates to
    // six significant digits, durations in whole microseconds).
    std::string to_string() const;
};

struct FaultCounters {
    std::uint64_t packets = 0;     // offered
    std::uint64_t dropped = 0;     // lost on purpose (loss)
    std::uint64_t duplicated = 0;  // an extra copy made
    std::uint64_t corrupted = 0;   // a bit flipped
    std::uint64_t reordered = 0;   // held back by reorder_delay
    std::uint64_t overflowed = 0;  // dropped because `capacity` packets were already held
    std::uint64_t delivered = 0;   // copies handed out (by a channel)
};

// What happens to one packet.
struct FaultPlan {
    static constexpr std::size_t kNoFlip = ~std::size_t{0};
    struct Copy {
        stack::Duration delay;           // from the time it was offered
        bool in_order = true;            // false: reordered, may be overtaken
        std::size_t flip_bit = kNoFlip;  // bit index (byte*8 + bit, bit 0 = LSB) to invert
    };
    std::size_t copies = 1;  // 0 (dropped), 1 or 2 (duplicated)
    std::array<Copy, 2> copy{};
};

class FaultInjector {
public:
    explicit FaultInjector(const FaultConfig& config) : config_(config), rng_(config.seed) {}

    // Decides the fate of one packet of `length` bytes and counts it (all but
    // delivered/overflowed).
    FaultPlan decide(std::size_t length);

    const FaultConfig& config() const { return config_; }
    FaultCounters& counters() { return counters_; }
    const FaultCounters& counters() const { return counters_; }

private:
    double uniform01();                    // [0, 1) with 53 random bits
    std::uint64_t below(std::uint64_t n);  // [0, n), n > 0

    FaultConfig config_;
    std::mt19937_64 rng_;
    FaultCounters counters_;
};

// Packets waiting for their due time, ordered by (due, arrival). Buffers are pooled and reused, so
// once warmed up a DelayLine does not allocate.
class DelayLine {
public:
    explicit DelayLine(std::size_t capacity) : capacity_(capacity) {}

    // Copies `data` in, due at `due` (pushed later for an in-order packet so that it never becomes
    // due before an earlier in-order one), flipping `flip_bit` if set. `gso` (may be null) is kept
    // with a super-packet; flipping a bit of one with a partial checksum completes the checksum
    // first (see the header comment). False if full.
    bool push(stack::Instant due, bool in_order, stack::Bytes data,
              std::size_t flip_bit = FaultPlan::kNoFlip, const stack::GsoInfo* gso = nullptr);
    // Hands every packet due by `now` to `fn`, earliest first. Packets pushed by `fn` itself wait
    // for the next call, which bounds the work. Returns the number handed out.
    std::size_t pop_due(stack::Instant now, stack::function_ref<void(stack::Bytes)> fn);
    // The same, with each packet's GsoInfo (null for a plain packet).
    std::size_t pop_due(stack::Instant now,
                        stack::function_ref<void(stack::Bytes, const stack::GsoInfo*)> fn);

    stack::Instant next_due() const;
    std::size_t size() const { return heap_.size(); }
    bool empty() const { return heap_.empty(); }

private:
    struct Entry {
        stack::Instant due;
        std::uint64_t seq;
        std::uint32_t buffer;
        bool has_gso = false;
        stack::GsoInfo gso;
    };
    static bool later(const Entry& a, const Entry& b);

    std::size_t capacity_;
    std::vector<Entry> heap_;  // min-heap by (due, seq) via later()
    std::vector<std::vector<std::uint8_t>> buffers_;
    std::vector<std::uint32_t> free_buffers_;
    std::uint64_t next_seq_ = 0;
    stack::Instant last_in_order_due_;
};

// One direction of impairment: FaultInjector decisions applied through a DelayLine.
class FaultyChannel {
public:
    explicit FaultyChannel(const FaultConfig& config) : injector_(config), line_(config.capacity) {}

    // Applies the faults to `packet` offered at `now` and queues the surviving copies. `gso`: the
    // packet is a TCP super-packet (kept with its copies), or null.
    void offer(stack::Instant now, stack::Bytes packet, const stack::GsoInfo* gso = nullptr);
    // True (and the packet untouched) when the plan for it is exactly one clean, undelayed copy and
    // nothing is queued: the caller may then pass it straight through. Otherwise the packet has
    // been queued (or dropped) as offer() does. Lets FaultyDevice keep the inner sink's
    // backpressure.
    bool offer_or_pass(stack::Instant now, stack::Bytes packet,
                       const stack::GsoInfo* gso = nullptr);
    // Hands out everything due by `now`.
    std::size_t drain(stack::Instant now, stack::function_ref<void(stack::Bytes)> fn);
    // The same, with each packet's GsoInfo (null for a plain packet).
    std::size_t drain(stack::Instant now,
                      stack::function_ref<void(stack::Bytes, const stack::GsoInfo*)> fn);

    stack::Instant next_due() const { return line_.next_due(); }
    std::size_t queued() const { return line_.size(); }
    const FaultCounters& counters() const { return injector_.counters(); }
    const FaultConfig& config() const { return injector_.config(); }

private:
    void enqueue(stack::Instant now, stack::Bytes packet, const FaultPlan& plan,
                 const stack::GsoInfo* gso);

    FaultInjector injector_;
    DelayLine line_;
};

// Wraps a real device: transmit() applies `tx` faults before the inner sink, receive() applies `rx`
// faults before the stack. Delayed packets need time to pass: call poll(now) when next_due() is
// reached (an event loop adds it to its wakeup). Packets the inner sink refuses after a delay are
// dropped and counted in inner_refused().
class FaultyDevice : public stack::PacketSink {
public:
    FaultyDevice(stack::PacketSink& inner, const FaultConfig& tx, const FaultConfig& rx)
        : inner_(inner), tx_(tx), rx_(rx) {}

    // The time transmit() stamps packets with (transmit has no `now` parameter). Never goes back.
    void set_now(stack::Instant now);
    // Same return contract as the inner sink when the packet passes straight through; true
    // otherwise.
    bool transmit(stack::Bytes packet) override;
    // A TCP super-packet: impaired as one packet (see the header comment), then handed to the inner
    // sink's transmit_gso.
    bool transmit_gso(stack::Bytes packet, const stack::GsoInfo& gso) override;
    // A packet read from the real device at `now`: whatever is due immediately goes to `deliver`.
    void receive(stack::Instant now, stack::Bytes packet,
                 stack::function_ref<void(stack::Bytes)> deliver);
    // Flushes due transmit copies to the inner sink and due receive copies to `deliver`.
    void poll(stack::Instant now, stack::function_ref<void(stack::Bytes)> deliver);
    // The earliest instant at which poll() has work (Instant::never() if none).
    stack::Instant next_due() const;

    const FaultCounters& tx_counters() const { return tx_.counters(); }
    const FaultCounters& rx_counters() const { return rx_.counters(); }
    std::uint64_t inner_refused() const { return inner_refused_; }

private:
    void flush_tx(stack::Instant now);

    stack::PacketSink& inner_;
    FaultyChannel tx_;
    FaultyChannel rx_;
    stack::Instant now_;
    std::uint64_t inner_refused_ = 0;
};

}  // namespace drivers
