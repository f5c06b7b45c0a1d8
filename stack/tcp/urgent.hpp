// UrgentPointer: the receive urgent pointer RCV.UP (RFC 9293 §3.8.5, §3.10.7.4 step 6; RFC 6093).
//
// Urgent data is never taken out of band: it stays in the byte stream and is read in line like the
// rest (RFC 6093 §6; new applications SHOULD NOT use the mechanism, RFC 9293 SHLD-13, but a TCP
// MUST still support it, MUST-30, for urgent data of any length, MUST-31). This type only tracks the
// mark: SEG.SEQ + SEG.UP is the sequence number of the octet following the urgent data (MUST-62, the
// RFC 793 / RFC 6093 §4 interpretation), and urgent data is pending while the user's read point is
// behind it, so the application can learn how much urgent data remains to be read (MUST-33, through
// ConnectionInfo). A pointer beyond the data received so far (the sender marks urgent data it has not
// yet sent, or a pure ACK announces it) is only a number: nothing is read or buffered because of it,
// and it stays pending until the read point reaches it. Every pointer lies within 2^16 of a segment
// the window accepted, so the modular comparisons here never flip.
//
// Sending urgent data (SND.UP, the URG bit on output) is not implemented: Connection::send has no
// urgent flag, and every segment we send has URG clear and an urgent pointer of zero.
#pragma once

#include <cstdint>

#include "stack/wire/seq.hpp"

namespace stack::tcp {

class UrgentPointer {
public:
    using SeqNumber = wire::SeqNumber;

    // Step 6 for a segment with URG set (ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2): RCV.UP <-
    // max(RCV.UP, SEG.SEQ + SEG.UP). `read` is the first sequence number the user has not read.
    // Returns whether the user is to be signalled: urgent data newly pending, or the mark advanced
    // (MUST-32). A mark the user has already read past (or SEG.UP = 0 at the read point) is ignored.
    bool on_segment(SeqNumber seg_seq, std::uint16_t seg_up, SeqNumber read);
    // The user has read up to `read`: once it reaches RCV.UP, no urgent data is pending.
    void on_read(SeqNumber read) {
        if (pending_ && !(read < up_)) pending_ = false;
    }
    bool pending(SeqNumber read) const { return pending_ && read < up_; }
    // Bytes from the read point to the mark (including urgent bytes not yet arrived); 0 if none.
    std::uint32_t remaining(SeqNumber read) const {
        return pending(read) ? static_cast<std::uint32_t>(up_ - read) : 0;
    }
    SeqNumber up() const { return up_; }

private:
    SeqNumber up_;  // RCV.UP, meaningful while pending_
    bool pending_ = false;
};

}  // namespace stack::tcp
