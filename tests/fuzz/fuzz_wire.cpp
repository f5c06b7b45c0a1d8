// libFuzzer target for every wire parser. The input is fed, whole, to Ipv4Packet, Icmpv4Packet,
// UdpPacket, TcpPacket (+ TcpOptions and the raw option iterator) with checksums verified and skipped,
// and, when the IPv4 parse succeeds, its payload to the parser its protocol names. For each successful
// parse it checks that every accessor's span lies inside the input, then round-trips: Repr -> emit ->
// parse -> Repr must be equal (and the re-parse must verify its checksums).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "stack/wire/icmpv4.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "stack/wire/tcp_options.hpp"
#include "stack/wire/udp.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace stack::wire {
namespace {

// `inner` lies within `outer` (an empty span anywhere in or just past it counts).
bool within(Bytes inner, Bytes outer) {
    if (inner.empty()) return true;
    return inner.data() >= outer.data() &&
           inner.data() + inner.size() <= outer.data() + outer.size();
}

// Touch every byte so ASan sees any read past the buffer.
std::uint32_t touch(Bytes b) {
    std::uint32_t s = 0;
    for (auto x : b) s += x;
    return s;
}

const Ipv4Address kSrc(10, 0, 0, 1);
const Ipv4Address kDst(10, 0, 0, 2);

void fuzz_ipv4(Bytes in) {
    for (auto mode : {Ipv4Packet::Checksum::Verify, Ipv4Packet::Checksum::Skip}) {
        auto p = Ipv4Packet::parse(in, mode);
        if (!p) continue;
        FUZZ_CHECK(within(p->bytes(), in) && within(p->header(), in) && within(p->options(), in) &&
                   within(p->payload(), in));
        FUZZ_CHECK(p->header().size() + p->payload().size() == p->total_len());
        (void)touch(p->bytes());
        (void)(p->version() + p->dscp_ecn() + p->ident() + p->frag_offset() + p->ttl() +
               p->protocol() + p->checksum() + p->src().value + p->dst().value);
        Ipv4Repr r = Ipv4Repr::parse(*p);
        std::vector<std::uint8_t> out(r.total_len());
        r.emit(out);
        auto again = Ipv4Packet::parse(out);
        FUZZ_CHECK(again.ok());
        FUZZ_CHECK(Ipv4Repr::parse(*again) == r);
    }
}

void fuzz_icmp(Bytes in) {
    for (auto mode : {Icmpv4Packet::Checksum::Verify, Icmpv4Packet::Checksum::Skip}) {
        auto p = Icmpv4Packet::parse(in, mode);
        if (!p) continue;
        FUZZ_CHECK(within(p->bytes(), in) && within(p->body(), in));
        (void)touch(p->bytes());
        (void)(p->type() + p->code() + p->checksum() + p->echo_ident() + p->echo_seq() +
               p->rest_of_header());
        Icmpv4Repr r = Icmpv4Repr::parse(*p);
        std::vector<std::uint8_t> out(r.len());
        r.emit(out);
        auto again = Icmpv4Packet::parse(out);
        FUZZ_CHECK(again.ok());
        Icmpv4Repr back = Icmpv4Repr::parse(*again);
        FUZZ_CHECK(back.type == r.type && back.code == r.code &&
                   back.rest_of_header == r.rest_of_header && back.body.size() == r.body.size());
        FUZZ_CHECK(std::equal(back.body.begin(), back.body.end(), r.body.begin()));
    }
}

void fuzz_udp(Bytes in, Ipv4Address src, Ipv4Address dst) {
    for (auto mode : {UdpPacket::Checksum::Verify, UdpPacket::Checksum::Skip}) {
        auto p = UdpPacket::parse(in, src, dst, mode);
        if (!p) continue;
        FUZZ_CHECK(within(p->bytes(), in) && within(p->header(), in) && within(p->payload(), in));
        FUZZ_CHECK(p->bytes().size() == p->length());
        (void)touch(p->bytes());
        (void)(p->src_port() + p->dst_port() + p->checksum());
        UdpRepr r = UdpRepr::parse(*p);
        std::vector<std::uint8_t> out(r.len());
        r.emit(out, src, dst, p->payload());
        auto again = UdpPacket::parse(out, src, dst);
        FUZZ_CHECK(again.ok() && again->has_checksum());
        FUZZ_CHECK(UdpRepr::parse(*again) == r);
        FUZZ_CHECK(
            std::equal(again->payload().begin(), again->payload().end(), p->payload().begin()));
    }
}

void fuzz_options(Bytes options) {
    TcpOptionIterator it(options);
    for (std::size_t yielded = 0;; ++yielded) {
        FUZZ_CHECK(yielded <= options.size() / 2);  // each option yielded takes >= 2 bytes
        auto next = it.next();
        if (!next || !next->has_value()) break;
        FUZZ_CHECK(within((*next)->data, options));
        (void)touch((*next)->data);
    }
    auto o = TcpOptions::parse(options);
    if (!o) return;
    FUZZ_CHECK(o->sack_count <= kTcpMaxSackBlocks);
    FUZZ_CHECK(!o->window_scale || *o->window_scale <= kTcpMaxWindowScale);
    if (options.size() > kTcpMaxOptionsLen)
        return;  // more than a header holds: emit may drop SACKs
    std::uint8_t out[kTcpMaxOptionsLen];
    std::size_t len = o->padded_len();
    FUZZ_CHECK(len <= kTcpMaxOptionsLen && len % 4 == 0);
    o->emit(MutBytes(out, len));
    auto again = TcpOptions::parse(Bytes(out, len));
    FUZZ_CHECK(again.ok() && *again == *o);
}

void fuzz_tcp(Bytes in, Ipv4Address src, Ipv4Address dst) {
    fuzz_options(in);
    for (auto mode : {TcpPacket::Checksum::Verify, TcpPacket::Checksum::Skip}) {
        auto p = TcpPacket::parse(in, src, dst, mode);
        if (!p) continue;
        FUZZ_CHECK(within(p->bytes(), in) && within(p->header(), in) && within(p->options(), in) &&
                   within(p->payload(), in));
        FUZZ_CHECK(p->header_len() + p->payload().size() == in.size());
        (void)touch(p->bytes());
        (void)(p->src_port() + p->dst_port() + p->seq().value() + p->ack().value() + p->reserved() +
               p->flags().bits() + p->window() + p->checksum() + p->urgent() + p->segment_len());
        fuzz_options(p->options());
        auto r = TcpRepr::parse(*p);
        if (!r) continue;
        std::vector<std::uint8_t> out(r->len());
        r->emit(out, src, dst, p->payload());
        auto again = TcpPacket::parse(out, src, dst);
        FUZZ_CHECK(again.ok());
        auto back = TcpRepr::parse(*again);
        // Options came from a header (<= 40 bytes), so the aligned or compact layout holds them all.
        FUZZ_CHECK(back.ok() && *back == *r);
        FUZZ_CHECK(
            std::equal(again->payload().begin(), again->payload().end(), p->payload().begin()));
    }
}

}  // namespace
}  // namespace stack::wire

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace stack::wire;
    stack::Bytes in(data, size);
    fuzz_ipv4(in);
    fuzz_icmp(in);
    fuzz_udp(in, kSrc, kDst);
    fuzz_tcp(in, kSrc, kDst);
    // And as a whole packet: the IPv4 payload to the parser its protocol names, with its addresses.
    auto ip = Ipv4Packet::parse(in, Ipv4Packet::Checksum::Skip);
    if (ip) {
        switch (ip->protocol()) {
            case static_cast<std::uint8_t>(IpProtocol::Icmp): fuzz_icmp(ip->payload()); break;
            case static_cast<std::uint8_t>(IpProtocol::Udp):
                fuzz_udp(ip->payload(), ip->src(), ip->dst());
                break;
            case static_cast<std::uint8_t>(IpProtocol::Tcp):
                fuzz_tcp(ip->payload(), ip->src(), ip->dst());
                break;
            default: break;
        }
    }
    return 0;
}
