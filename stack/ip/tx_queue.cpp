#include "stack/ip/tx_queue.hpp"

#include "stack/base/assert.hpp"

namespace stack::ip {

TxQueue::TxQueue(std::size_t frames, std::size_t frame_size, std::size_t large_frames,
                 std::size_t large_frame_size)
    : frame_size_(frame_size),
      storage_(frames * frame_size),
      lens_(frames, 0),
      large_frames_(large_frames),
      large_frame_size_(large_frame_size),
      large_storage_(large_frames * large_frame_size),
      large_(large_frames > 0 ? frames : 0, 0),
      gso_(large_frames > 0 ? frames : 0) {
    STACK_ASSERT(frames > 0 && frame_size > 0);
    STACK_ASSERT(large_frames == 0 || large_frame_size >= frame_size);
}

MutBytes TxQueue::acquire() {
    STACK_ASSERT(free_frames() > 0);
    std::size_t slot = (head_ + count_) % lens_.size();
    return MutBytes(storage_.data() + slot * frame_size_, frame_size_);
}

void TxQueue::commit(std::size_t len) {
    STACK_ASSERT(free_frames() > 0 && len <= frame_size_);
    const std::size_t slot = (head_ + count_) % lens_.size();
    lens_[slot] = static_cast<std::uint32_t>(len);
    if (!large_.empty()) large_[slot] = 0;
    ++count_;
}

MutBytes TxQueue::acquire_large() {
    STACK_ASSERT(can_acquire_large());
    const std::size_t frame = (large_head_ + large_count_) % large_frames_;
    return MutBytes(large_storage_.data() + frame * large_frame_size_, large_frame_size_);
}

void TxQueue::commit_large(std::size_t len, const GsoInfo& gso) {
    STACK_ASSERT(can_acquire_large() && len <= large_frame_size_);
    const std::size_t slot = (head_ + count_) % lens_.size();
    lens_[slot] = static_cast<std::uint32_t>(len);
    large_[slot] = 1;
    gso_[slot] = gso;
    ++large_count_;
    ++count_;
}

Bytes TxQueue::front() const {
    STACK_ASSERT(!empty());
    if (!large_.empty() && large_[head_] != 0) {
        return Bytes(large_storage_.data() + large_head_ * large_frame_size_, lens_[head_]);
    }
    return Bytes(storage_.data() + head_ * frame_size_, lens_[head_]);
}

const GsoInfo* TxQueue::front_gso() const {
    STACK_ASSERT(!empty());
    return !large_.empty() && large_[head_] != 0 ? &gso_[head_] : nullptr;
}

void TxQueue::pop() {
    STACK_ASSERT(!empty());
    if (!large_.empty() && large_[head_] != 0) {
        large_head_ = (large_head_ + 1) % large_frames_;
        --large_count_;
    }
    head_ = (head_ + 1) % lens_.size();
    --count_;
}

}  // namespace stack::ip
