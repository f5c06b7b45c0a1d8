#include "stack/ip/tx_queue.hpp"

#include "stack/base/assert.hpp"

namespace stack::ip {

TxQueue::TxQueue(std::size_t frames, std::size_t frame_size)
    : frame_size_(frame_size), storage_(frames * frame_size), lens_(frames, 0) {
    STACK_ASSERT(frames > 0 && frame_size > 0);
}

MutBytes TxQueue::acquire() {
    STACK_ASSERT(free_frames() > 0);
    std::size_t slot = (head_ + count_) % lens_.size();
    return MutBytes(storage_.data() + slot * frame_size_, frame_size_);
}

void TxQueue::commit(std::size_t len) {
    STACK_ASSERT(free_frames() > 0 && len <= frame_size_);
    lens_[(head_ + count_) % lens_.size()] = static_cast<std::uint32_t>(len);
    ++count_;
}

Bytes TxQueue::front() const {
    STACK_ASSERT(!empty());
    return Bytes(storage_.data() + head_ * frame_size_, lens_[head_]);
}

void TxQueue::pop() {
    STACK_ASSERT(!empty());
    head_ = (head_ + 1) % lens_.size();
    --count_;
}

}  // namespace stack::ip
