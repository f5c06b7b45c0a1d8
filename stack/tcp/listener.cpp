#include "stack/tcp/listener.hpp"

#include <utility>

namespace stack::tcp {

void AcceptQueue::push(std::uint32_t index) {
    if (count_ == ring_.size()) {
        // Full (or never used): unroll into a ring twice the size.
        std::vector<std::uint32_t> bigger(ring_.empty() ? 4 : ring_.size() * 2);
        for (std::size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) % ring_.size()];
        ring_ = std::move(bigger);
        head_ = 0;
    }
    ring_[(head_ + count_) % ring_.size()] = index;
    ++count_;
}

void AcceptQueue::pop() {
    head_ = (head_ + 1) % ring_.size();
    --count_;
}

bool AcceptQueue::remove(std::uint32_t index) {
    for (std::size_t i = 0; i < count_; ++i) {
        if (ring_[(head_ + i) % ring_.size()] != index) continue;
        for (std::size_t j = i; j + 1 < count_; ++j) {
            ring_[(head_ + j) % ring_.size()] = ring_[(head_ + j + 1) % ring_.size()];
        }
        --count_;
        return true;
    }
    return false;
}

}  // namespace stack::tcp
