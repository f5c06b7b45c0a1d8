#include "drivers/fault_injector.hpp"

#include <algorithm>

#include "drivers/gso.hpp"
#include "stack/base/assert.hpp"

namespace drivers {

// ------------------------------------------------------------------------------------------------
// FaultInjector

double FaultInjector::uniform01() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

std::uint64_t FaultInjector::below(std::uint64_t n) {
    STACK_ASSERT(n > 0);
    // Plain modulo: for packet-sized n the bias is about n / 2^64, irrelevant here.
    return rng_() % n;
}

FaultPlan FaultInjector::decide(std::size_t length) {
    // Always the same seven draws, in the same order, so that a packet's fate depends only on the
    // seed and its position in the sequence.
    const double u_loss = uniform01();
    const double u_dup = uniform01();
    const double u_reorder = uniform01();
    const double u_corrupt = uniform01();
    const std::uint64_t bit = below(length > 0 ? length * 8 : 1);
    const double u_jitter[2] = {uniform01(), uniform01()};

    ++counters_.packets;
    FaultPlan plan;
    if (u_loss < config_.loss) {
        ++counters_.dropped;
        plan.copies = 0;
        return plan;
    }
    plan.copies = u_dup < config_.duplicate ? 2 : 1;
    if (plan.copies == 2) ++counters_.duplicated;
    const bool reorder = u_reorder < config_.reorder;
    if (reorder) ++counters_.reordered;
    for (std::size_t i = 0; i < plan.copies; ++i) {
        FaultPlan::Copy& c = plan.copy[i];
        auto jitter_us = static_cast<std::int64_t>(
            u_jitter[i] * static_cast<double>(config_.jitter.as_micros() + 1));
        c.delay = config_.delay +
                  stack::Duration::micros(std::min(jitter_us, config_.jitter.as_micros()));
        if (reorder) {
            c.delay += config_.reorder_delay;
            c.in_order = false;
        }
    }
    if (u_corrupt < config_.corrupt && length > 0) {
        ++counters_.corrupted;
        plan.copy[0].flip_bit = static_cast<std::size_t>(bit);
    }
    return plan;
}

// ------------------------------------------------------------------------------------------------
// DelayLine

bool DelayLine::later(const Entry& a, const Entry& b) {
    if (a.due != b.due) return a.due > b.due;
    return a.seq > b.seq;
}

bool DelayLine::push(stack::Instant due, bool in_order, stack::Bytes data, std::size_t flip_bit,
                     const stack::GsoInfo* gso) {
    if (heap_.size() >= capacity_) return false;
    if (in_order) {
        due = std::max(due, last_in_order_due_);
        last_in_order_due_ = due;
    }
    std::uint32_t index;
    if (!free_buffers_.empty()) {
        index = free_buffers_.back();
        free_buffers_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(buffers_.size());
        buffers_.emplace_back();
    }
    std::vector<std::uint8_t>& buf = buffers_[index];
    buf.assign(data.begin(), data.end());
    Entry entry{due, next_seq_++, index};
    if (gso != nullptr) {
        entry.has_gso = true;
        entry.gso = *gso;
    }
    if (flip_bit != FaultPlan::kNoFlip && flip_bit / 8 < buf.size()) {
        if (entry.has_gso && entry.gso.csum_partial &&
            complete_partial_checksum(stack::MutBytes(buf), entry.gso.csum_start,
                                      entry.gso.csum_offset)) {
            entry.gso.csum_partial = false;
        }
        buf[flip_bit / 8] = static_cast<std::uint8_t>(buf[flip_bit / 8] ^ (1u << (flip_bit % 8)));
    }
    heap_.push_back(entry);
    std::push_heap(heap_.begin(), heap_.end(), later);
    return true;
}

std::size_t DelayLine::pop_due(stack::Instant now, stack::function_ref<void(stack::Bytes)> fn) {
    return pop_due(now, [&](stack::Bytes p, const stack::GsoInfo*) { fn(p); });
}

std::size_t DelayLine::pop_due(stack::Instant now,
                               stack::function_ref<void(stack::Bytes, const stack::GsoInfo*)> fn) {
    const std::uint64_t limit = next_seq_;
    std::size_t n = 0;
    // Bounded by the number of entries present at the start (each iteration removes one of them).
    while (!heap_.empty() && heap_.front().due <= now && heap_.front().seq < limit) {
        std::pop_heap(heap_.begin(), heap_.end(), later);
        Entry e = heap_.back();
        heap_.pop_back();
        // The inner vector's storage stays put even if fn() pushes and buffers_ reallocates; the
        // buffer returns to the pool only after fn() is done with it.
        const std::vector<std::uint8_t>& buf = buffers_[e.buffer];
        fn(stack::Bytes(buf.data(), buf.size()), e.has_gso ? &e.gso : nullptr);
        free_buffers_.push_back(e.buffer);
        ++n;
    }
    return n;
}

stack::Instant DelayLine::next_due() const {
    return heap_.empty() ? stack::Instant::never() : heap_.front().due;
}

// ------------------------------------------------------------------------------------------------
// FaultyChannel

void FaultyChannel::enqueue(stack::Instant now, stack::Bytes packet, const FaultPlan& plan,
                            const stack::GsoInfo* gso) {
    for (std::size_t i = 0; i < plan.copies; ++i) {
        const FaultPlan::Copy& c = plan.copy[i];
        if (!line_.push(now + c.delay, c.in_order, packet, c.flip_bit, gso)) {
            ++injector_.counters().overflowed;
        }
    }
}

void FaultyChannel::offer(stack::Instant now, stack::Bytes packet, const stack::GsoInfo* gso) {
    enqueue(now, packet, injector_.decide(packet.size()), gso);
}

bool FaultyChannel::offer_or_pass(stack::Instant now, stack::Bytes packet,
                                  const stack::GsoInfo* gso) {
    FaultPlan plan = injector_.decide(packet.size());
    const FaultPlan::Copy& c = plan.copy[0];
    if (plan.copies == 1 && line_.empty() && c.delay == stack::Duration::zero() &&
        c.flip_bit == FaultPlan::kNoFlip) {
        ++injector_.counters().delivered;
        return true;
    }
    enqueue(now, packet, plan, gso);
    return false;
}

std::size_t FaultyChannel::drain(stack::Instant now, stack::function_ref<void(stack::Bytes)> fn) {
    std::size_t n = line_.pop_due(now, fn);
    injector_.counters().delivered += n;
    return n;
}

std::size_t FaultyChannel::drain(
    stack::Instant now, stack::function_ref<void(stack::Bytes, const stack::GsoInfo*)> fn) {
    std::size_t n = line_.pop_due(now, fn);
    injector_.counters().delivered += n;
    return n;
}

// ------------------------------------------------------------------------------------------------
// FaultyDevice

void FaultyDevice::set_now(stack::Instant now) { now_ = std::max(now_, now); }

void FaultyDevice::flush_tx(stack::Instant now) {
    tx_.drain(now, [this](stack::Bytes p, const stack::GsoInfo* gso) {
        const bool taken = gso != nullptr ? inner_.transmit_gso(p, *gso) : inner_.transmit(p);
        if (!taken) ++inner_refused_;
    });
}

bool FaultyDevice::transmit(stack::Bytes packet) {
    if (tx_.offer_or_pass(now_, packet)) return inner_.transmit(packet);
    flush_tx(now_);
    return true;
}

bool FaultyDevice::transmit_gso(stack::Bytes packet, const stack::GsoInfo& gso) {
    if (tx_.offer_or_pass(now_, packet, &gso)) return inner_.transmit_gso(packet, gso);
    flush_tx(now_);
    return true;
}

void FaultyDevice::receive(stack::Instant now, stack::Bytes packet,
                           stack::function_ref<void(stack::Bytes)> deliver) {
    set_now(now);
    if (rx_.offer_or_pass(now_, packet)) {
        deliver(packet);
        return;
    }
    rx_.drain(now_, deliver);
}

void FaultyDevice::poll(stack::Instant now, stack::function_ref<void(stack::Bytes)> deliver) {
    set_now(now);
    flush_tx(now_);
    rx_.drain(now_, deliver);
}

stack::Instant FaultyDevice::next_due() const { return std::min(tx_.next_due(), rx_.next_due()); }

}  // namespace drivers
