// UrgentPointer: RCV.UP (see urgent.hpp).
#include "stack/tcp/urgent.hpp"

namespace stack::tcp {

bool UrgentPointer::on_segment(SeqNumber seg_seq, std::uint16_t seg_up, SeqNumber read) {
    const SeqNumber mark = seg_seq + seg_up;
    if (!(read < mark)) return false;  // read already (a retransmission), or no urgent data
    if (pending_ && !(up_ < mark))
        return false;  // the same or an older mark: RCV.UP never retreats
    up_ = mark;
    pending_ = true;
    return true;
}

}  // namespace stack::tcp
