#include "stack/wire/icmpv4.hpp"

#include <cstring>

#include "stack/base/checksum.hpp"

namespace stack::wire {

std::string_view to_string(Icmpv4Error e) {
    switch (e) {
        case Icmpv4Error::Truncated: return "truncated";
        case Icmpv4Error::BadChecksum: return "bad_checksum";
    }
    return "unknown";
}

Result<Icmpv4Packet, Icmpv4Error> Icmpv4Packet::parse(Bytes buffer, Checksum check) {
    if (buffer.size() < kIcmpv4HeaderLen) return Err{Icmpv4Error::Truncated};
    if (check == Checksum::Verify && !checksum::verify(buffer)) {
        return Err{Icmpv4Error::BadChecksum};
    }
    return Icmpv4Packet(buffer);
}

Icmpv4Repr Icmpv4Repr::parse(const Icmpv4Packet& p) {
    return {p.type(), p.code(), p.rest_of_header(), p.body()};
}

void Icmpv4Repr::emit(MutBytes out) const {
    STACK_ASSERT(out.size() >= len());
    std::uint8_t* h = out.data();
    h[0] = type;
    h[1] = code;
    store_be16(h + 2, 0);
    store_be32(h + 4, rest_of_header);
    if (!body.empty()) std::memmove(h + kIcmpv4HeaderLen, body.data(), body.size());
    store_be16(h + 2, checksum::compute(Bytes(h, len())));
}

}  // namespace stack::wire
