// TxQueue: a fixed ring of preallocated outbound frames. Protocol code builds packets directly into a
// frame (acquire → fill → commit), so output never allocates and payload is copied exactly once, from the
// source (socket ring, reassembly buffer, request) into the frame. Stack::poll drains it to a PacketSink.
//
// With TCP segmentation offload the queue also owns `large_frames` frames of `large_frame_size` bytes
// for TCP super-packets (acquire_large → fill → commit_large with their GsoInfo). They share the one
// ring of queued packets, so the order of plain packets and super-packets is kept; a super-packet takes
// one slot of the ring (whose small frame then goes unused) and the oldest large frame in use, which
// are released in order too. Without TSO there are no large frames and nothing changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/base/packet_sink.hpp"

namespace stack::ip {

class TxQueue {
public:
    // `frames` frames of `frame_size` bytes each, and `large_frames` of `large_frame_size` bytes,
    // all allocated here and never again.
    TxQueue(std::size_t frames, std::size_t frame_size, std::size_t large_frames = 0,
            std::size_t large_frame_size = 0);

    std::size_t free_frames() const { return lens_.size() - count_; }
    // True if a super-packet can be queued now (a free slot and a free large frame).
    bool can_acquire_large() const { return free_frames() > 0 && large_count_ < large_frames_; }
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    std::size_t frame_size() const { return frame_size_; }
    std::size_t large_frame_size() const { return large_frames_ > 0 ? large_frame_size_ : 0; }

    // The next free frame, to be filled then commit()ed. Precondition: free_frames() > 0.
    MutBytes acquire();
    // Queues the frame last acquired with its first `len` bytes as the packet.
    void commit(std::size_t len);

    // The next free large frame, to be filled then commit_large()d. Precondition: can_acquire_large().
    MutBytes acquire_large();
    // Queues the large frame last acquired, `len` bytes, as a super-packet segmented per `gso`.
    void commit_large(std::size_t len, const GsoInfo& gso);

    // The oldest queued packet. Precondition: !empty().
    Bytes front() const;
    // Its segmentation, or nullptr for a plain packet. Precondition: !empty().
    const GsoInfo* front_gso() const;
    void pop();

private:
    std::size_t frame_size_;
    std::vector<std::uint8_t> storage_;
    std::vector<std::uint32_t> lens_;
    std::size_t head_ = 0;  // index of the oldest queued frame
    std::size_t count_ = 0;

    // Large frames, used in ring order: slot i of the ring holds a super-packet iff large_[i].
    std::size_t large_frames_;
    std::size_t large_frame_size_;
    std::vector<std::uint8_t> large_storage_;
    std::vector<std::uint8_t> large_;  // per slot, 1 if it holds a super-packet (empty without TSO)
    std::vector<GsoInfo> gso_;         // per slot (empty without TSO)
    std::size_t large_head_ = 0;       // the oldest large frame in use
    std::size_t large_count_ = 0;
};

}  // namespace stack::ip
