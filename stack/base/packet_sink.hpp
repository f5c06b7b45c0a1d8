// PacketSink: where the sans-IO stack hands finished outbound IPv4 packets. Implemented by drivers (the TUN
// device, the in-memory link, the fault injector, the pcap tap) and by tests that capture output.
#pragma once

#include "stack/base/bytes.hpp"

namespace stack {

class PacketSink {
public:
    virtual ~PacketSink() = default;
    // Offers one whole IPv4 packet. Returns true if it was taken (copied or sent), false if the sink is
    // full right now (the caller keeps the packet and retries later). The span is valid only for the call.
    virtual bool transmit(Bytes packet) = 0;
};

}  // namespace stack
