#!/usr/bin/python3
"""Write malformed IPv4 packets into a TUN device from the kernel side.

Run inside the test's network namespace: malformed.py IFNAME SRC DST [--only CLASS,...] [--flood N].
Packets go out through an AF_PACKET SOCK_DGRAM socket bound to the TUN (protocol ETH_P_IP): on a TUN
with IFF_NO_PI the bytes we give are exactly the IP packet the daemon reads; the kernel fixes nothing
(a raw IP socket would fill in the checksum and the total length).

Prints one line per class: "sent CLASS PACKETS DROPS": the packets written and the drop events they
must cause (one per packet, except for fragment classes, where one event discards a datagram).
--only sends just the listed classes (in the order of CLASSES), so a test can read the counters
between classes; --list prints the class names. Standard library only.
"""
import argparse
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
IPPROTO_ICMP = 1


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_header(src, dst, payload_len, *, ident=0x1234, flags_frag=0, proto=IPPROTO_ICMP, ttl=64,
              version=4, ihl=5, total_length=None, checksum=None, options=b""):
    if total_length is None:
        total_length = ihl * 4 + payload_len
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl & 0xF), 0, total_length & 0xFFFF, ident,
                      flags_frag, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + options
    if checksum is None:
        checksum = csum(hdr[:max(ihl * 4, 20)] if len(hdr) >= ihl * 4 else hdr)
    return hdr[:10] + struct.pack("!H", checksum) + hdr[12:]


def icmp_echo(ident, seq, data: bytes, *, bad_checksum=False):
    msg = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    c = csum(msg)
    if bad_checksum:
        c ^= 0x5A5A
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def frag(src, dst, ident, offset_bytes, more, payload):
    assert offset_bytes % 8 == 0
    ff = (0x2000 if more else 0) | (offset_bytes // 8)
    return ip_header(src, dst, len(payload), ident=ident, flags_frag=ff) + payload


CLASSES = ["ip_bad_checksum", "ip_ihl_below_5", "ip_ihl_beyond_length", "ip_version_6",
           "ip_version_7", "ip_truncated_header", "ip_total_length_too_big",
           "ip_total_length_below_header", "icmp_bad_checksum", "icmp_truncated", "ip_not_ours",
           "ip_src_this_network", "ip_src_loopback", "ip_src_multicast", "ip_src_reserved",
           "ip_src_broadcast", "ip_src_ours",
           "frag_overlap", "frag_inconsistent", "frag_too_big", "frag_flood"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifname")
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--only", default=",".join(CLASSES), help="comma-separated classes to send")
    ap.add_argument("--list", action="store_true", help="print the class names and exit")
    ap.add_argument("--flood", type=int, default=3000, help="distinct incomplete datagrams")
    ap.add_argument("--flood-size", type=int, default=1400, help="payload bytes per flood fragment")
    ap.add_argument("--repeat", type=int, default=3, help="copies of each malformed packet")
    a = ap.parse_args()
    if a.list:
        print("\n".join(CLASSES))
        return 0
    only = set(a.only.split(","))
    unknown = only - set(CLASSES)
    if unknown:
        raise SystemExit("unknown class(es): " + ",".join(sorted(unknown)))
    src, dst = a.src, a.dst

    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    s.bind((a.ifname, ETH_P_IP))

    def send(pkt):
        for _ in range(20):
            try:
                s.send(pkt)
                return
            except BlockingIOError:
                time.sleep(0.001)
            except OSError as e:  # ENOBUFS: the device queue is full; back off and retry
                if e.errno != 105:
                    raise
                time.sleep(0.001)
        raise SystemExit("could not send a packet: device queue stays full")

    def report(name, packets, drops):
        print(f"sent {name} {packets} {drops}", flush=True)

    def burst(name, pkts):
        if name not in only:
            return
        for _ in range(a.repeat):
            for p in pkts:
                send(p)
        report(name, a.repeat * len(pkts), a.repeat * len(pkts))

    def fragments(name, pkts, drops):
        if name not in only:
            return
        for p in pkts:
            send(p)
        report(name, len(pkts), drops)

    good_icmp = icmp_echo(0x4242, 1, b"tunstack-malformed" * 3)
    good = ip_header(src, dst, len(good_icmp)) + good_icmp

    # IP header checksum wrong.
    bad = bytearray(good)
    bad[10] ^= 0xFF
    burst("ip_bad_checksum", [bytes(bad)])

    # IHL below 5 (checksum computed over the 20 bytes there are).
    burst("ip_ihl_below_5", [ip_header(src, dst, len(good_icmp), ihl=4) + good_icmp,
                             ip_header(src, dst, len(good_icmp), ihl=0) + good_icmp])

    # IHL larger than the total length / the packet: IHL 15 = 60 bytes, packet is 40 bytes.
    hdr = ip_header(src, dst, 20, ihl=15, total_length=40,
                    checksum=csum(struct.pack("!BBHHHBBH4s4s", 0x4F, 0, 40, 0x1234, 0, 64, 1, 0,
                                              socket.inet_aton(src), socket.inet_aton(dst))))
    burst("ip_ihl_beyond_length", [hdr + b"\0" * 20])

    # Version 6 and 7 in an otherwise valid IPv4 header.
    burst("ip_version_6", [ip_header(src, dst, len(good_icmp), version=6) + good_icmp])
    burst("ip_version_7", [ip_header(src, dst, len(good_icmp), version=7) + good_icmp])

    # Truncated headers: fewer than 20 bytes.
    burst("ip_truncated_header", [good[:1], good[:10], good[:19]])

    # Total length larger than the packet, and smaller than the header.
    burst("ip_total_length_too_big", [ip_header(src, dst, len(good_icmp), total_length=1000) + good_icmp])
    burst("ip_total_length_below_header", [ip_header(src, dst, len(good_icmp), total_length=10) + good_icmp,
                                           ip_header(src, dst, len(good_icmp), total_length=19) + good_icmp])

    # ICMP: bad checksum; truncated (fewer than 8 bytes of ICMP header).
    bad_icmp = icmp_echo(0x4242, 2, b"x" * 32, bad_checksum=True)
    burst("icmp_bad_checksum", [ip_header(src, dst, len(bad_icmp)) + bad_icmp])
    short = struct.pack("!BBH", 8, 0, 0)
    burst("icmp_truncated", [ip_header(src, dst, 4) + short])

    # A datagram for someone else.
    burst("ip_not_ours", [ip_header(src, "198.18.0.77", len(good_icmp)) + good_icmp])

    # Martian sources (RFC 1122 §3.2.1.3): valid pings from addresses no peer can have, and from the
    # daemon's own address.
    for name, martian in [("ip_src_this_network", "0.18.0.1"), ("ip_src_loopback", "127.0.0.1"),
                          ("ip_src_multicast", "224.0.0.1"), ("ip_src_reserved", "240.0.0.1"),
                          ("ip_src_broadcast", "255.255.255.255"), ("ip_src_ours", dst)]:
        burst(name, [ip_header(martian, dst, len(good_icmp)) + good_icmp])

    # Fragments. Each datagram uses its own IP ID so classes do not interfere.
    def echo_payload(n, seq):
        return icmp_echo(0x4343, seq, bytes((i * 7) & 0xFF for i in range(n)))

    ident = 0x5000
    # Overlapping: [0,24) and the last piece [40,48), then [16,40), which overlaps the first: the
    # whole datagram is discarded (one drop; nothing of it stays in the reassembler).
    pkts = []
    for _ in range(a.repeat):
        ident += 1
        p = echo_payload(40, ident)
        pkts += [frag(src, dst, ident, 0, True, p[:24]), frag(src, dst, ident, 40, False, p[40:48]),
                 frag(src, dst, ident, 16, True, p[16:40])]
    fragments("frag_overlap", pkts, a.repeat)

    # Inconsistent: two "last fragment"s giving different total lengths (one drop per datagram).
    pkts = []
    for _ in range(a.repeat):
        ident += 1
        p = echo_payload(64, ident)
        pkts += [frag(src, dst, ident, 0, True, p[:16]), frag(src, dst, ident, 48, False, p[48:72]),
                 frag(src, dst, ident, 32, False, p[32:48])]
    fragments("frag_inconsistent", pkts, a.repeat)

    # Reassembly beyond 65535: a last fragment at offset 65512 carrying 40 bytes (ends at 65552),
    # after a valid first fragment; and a lone fragment at the largest offset (8191*8 + 24 > 65535).
    # Two drops per round.
    pkts = []
    for _ in range(a.repeat):
        ident += 1
        p = echo_payload(1400, ident)
        pkts += [frag(src, dst, ident, 0, True, p[:1400]), frag(src, dst, ident, 65512, False, b"Z" * 40)]
        ident += 1
        pkts += [frag(src, dst, ident, 8191 * 8, False, b"Y" * 24)]
    fragments("frag_too_big", pkts, 2 * a.repeat)

    # Flood: many distinct datagrams, only the first fragment of each (never completes). The drops
    # depend on the reassembler's caps: the test balances them against the datagrams in flight.
    if "frag_flood" in only:
        body = bytes(a.flood_size)
        for i in range(a.flood):
            ident = 0x8000 + (i & 0x7FFF)
            send(frag(src, dst, ident, 0, True, icmp_echo(0x4444, i & 0xFFFF, body)[: a.flood_size]))
            if i % 100 == 99:
                time.sleep(0.002)  # pacing so the TUN queue (500 packets) is not what drops them
        report("frag_flood", a.flood, a.flood)
    return 0


if __name__ == "__main__":
    sys.exit(main())
