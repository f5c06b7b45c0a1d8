// TxQueue: a fixed ring of preallocated outbound frames. Protocol code builds packets directly into a
// frame (acquire → fill → commit), so output never allocates and payload is copied exactly once, from the
// source (socket ring, reassembly buffer, request) into the frame. Stack::poll drains it to a PacketSink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "stack/base/bytes.hpp"

namespace stack::ip {

class TxQueue {
public:
    // `frames` frames of `frame_size` bytes each, all allocated here and never again.
    TxQueue(std::size_t frames, std::size_t frame_size);

    std::size_t free_frames() const { return lens_.size() - count_; }
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    std::size_t frame_size() const { return frame_size_; }

    // The next free frame, to be filled then commit()ed. Precondition: free_frames() > 0.
    MutBytes acquire();
    // Queues the frame last acquired with its first `len` bytes as the packet.
    void commit(std::size_t len);

    // The oldest queued packet. Precondition: !empty().
    Bytes front() const;
    void pop();

private:
    std::size_t frame_size_;
    std::vector<std::uint8_t> storage_;
    std::vector<std::uint32_t> lens_;
    std::size_t head_ = 0;  // index of the oldest queued frame
    std::size_t count_ = 0;
};

}  // namespace stack::ip
