// SocketTable<T>: the slab every protocol's sockets live in (TCP today, UDP next). A fixed number of
// slots, each holding a T, a generation and the readiness bits not yet reported; a handle
// (SocketHandle: index + generation, socket.hpp) names one slot's current occupant, so a handle to a
// released socket is stale (find() returns nullptr) and never reaches the slot's next occupant.
//
// Ownership: a slot in use is either held by the application ("owned": its handle was given out and
// not released) or only by the protocol (an unaccepted passive connection, a connection closed by the
// application that finishes on its own). find() and events see owned slots only.
//
// Events: notify(index, bits) ORs readiness bits into the slot and queues the slot in a ring the first
// time (one entry per socket however many notifications); next_event() pops them in order, skipping
// entries whose slot was released or reported meanwhile. Storage (slots, free list, ring) is allocated
// in the constructor: nothing here allocates afterwards (T's own members aside).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "stack/base/assert.hpp"
#include "stack/socket/socket.hpp"

namespace stack {

template <typename T>
class SocketTable {
public:
    explicit SocketTable(std::size_t capacity) : slots_(capacity), events_(capacity) {
        free_.reserve(capacity);
        // Lowest index first; released indices are reused last-in first-out.
        for (std::size_t i = capacity; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
    }

    std::size_t capacity() const { return slots_.size(); }
    std::size_t free_count() const { return free_.size(); }
    bool full() const { return free_.empty(); }

    // A free slot (its T default-constructed, not owned), or nullopt when the table is full.
    std::optional<std::uint32_t> allocate() {
        if (free_.empty()) return std::nullopt;
        const std::uint32_t i = free_.back();
        free_.pop_back();
        slots_[i].in_use = true;
        return i;
    }
    // Frees the slot: its T is reset, pending bits dropped (a queued ring entry is skipped), and every
    // handle to it goes stale.
    void release(std::uint32_t index) {
        Slot& s = slots_[index];
        STACK_ASSERT(s.in_use);
        s.value = T{};
        s.in_use = false;
        s.owned = false;
        s.pending = 0;
        ++s.generation;
        free_.push_back(index);
    }

    bool in_use(std::uint32_t index) const { return slots_[index].in_use; }
    bool owned(std::uint32_t index) const { return slots_[index].owned; }
    void set_owned(std::uint32_t index, bool owned) { slots_[index].owned = owned; }
    SocketHandle handle(std::uint32_t index) const { return {index, slots_[index].generation}; }

    T& operator[](std::uint32_t index) { return slots_[index].value; }
    const T& operator[](std::uint32_t index) const { return slots_[index].value; }

    // The socket a handle names, if it is current and owned by the application; else nullptr.
    T* find(SocketHandle h) {
        if (h.index >= slots_.size()) return nullptr;
        Slot& s = slots_[h.index];
        if (!s.in_use || !s.owned || s.generation != h.generation) return nullptr;
        return &s.value;
    }
    const T* find(SocketHandle h) const { return const_cast<SocketTable*>(this)->find(h); }

    // ORs `bits` into an owned slot's pending event (queued once); a slot nobody owns is not told.
    void notify(std::uint32_t index, std::uint8_t bits) {
        Slot& s = slots_[index];
        if (!s.in_use || !s.owned || bits == 0) return;
        s.pending |= bits;
        if (s.queued) return;
        s.queued = true;
        STACK_ASSERT(events_count_ < events_.size());
        events_[(events_head_ + events_count_) % events_.size()] = index;
        ++events_count_;
    }
    // The next socket with pending bits (and clears them); false when none.
    bool next_event(SocketEvent& out) {
        while (events_count_ > 0) {
            const std::uint32_t index = events_[events_head_];
            events_head_ = (events_head_ + 1) % events_.size();
            --events_count_;
            Slot& s = slots_[index];
            s.queued = false;
            if (s.pending == 0 || !s.in_use || !s.owned) continue;
            out.handle = handle(index);
            out.bits = s.pending;
            s.pending = 0;
            return true;
        }
        return false;
    }
    std::uint8_t pending(std::uint32_t index) const { return slots_[index].pending; }

    // fn(index, T&) for every slot in use, in index order.
    template <typename Fn>
    void for_each(Fn&& fn) {
        for (std::uint32_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].in_use) fn(i, slots_[i].value);
        }
    }
    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (std::uint32_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].in_use) fn(i, slots_[i].value);
        }
    }

private:
    struct Slot {
        T value{};
        std::uint32_t generation = 1;
        bool in_use = false;
        bool owned = false;
        bool queued = false;  // an entry for this slot is in the event ring
        std::uint8_t pending = 0;
    };
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_;
    std::vector<std::uint32_t> events_;  // ring of slot indices with pending bits
    std::size_t events_head_ = 0, events_count_ = 0;
};

}  // namespace stack
