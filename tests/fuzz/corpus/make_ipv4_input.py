#!/usr/bin/python3
# Writes the seed corpus of fuzz_ipv4_input into tests/fuzz/corpus/ipv4_input/. Deterministic; needs
# scapy (Debian's /usr/bin/python3). Run from anywhere: /usr/bin/python3 tests/fuzz/corpus/make_ipv4_input.py
#
# fuzz_ipv4_input reads an input three ways (see its header): as one packet, as the same packet with its
# header repaired, and as up to 4 packets each prefixed by a 2-byte big-endian length (the 4th takes the
# rest). The last byte of the input selects the MTU and the time step, so seeds end with a chosen knob.
import os
import struct
from scapy.all import IP, ICMP, UDP, TCP, Raw, fragment

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ipv4_input')
PEER, US = '198.18.0.1', '198.18.0.2'


def seq(*packets):
    """Length-prefixed packets, for the split reading."""
    return b''.join(struct.pack('!H', len(p)) + p for p in packets)


ping = bytes(IP(src=PEER, dst=US, id=0x1234) / ICMP(type=8, id=0x4242, seq=1) / Raw(bytes(range(56))))
big_ping = IP(src=PEER, dst=US, id=0x2222) / ICMP(type=8, id=1, seq=2) / Raw(bytes(range(256)) * 2)
frags = [bytes(f) for f in fragment(big_ping, fragsize=256)]
bad = bytearray(ping)
bad[10] ^= 0xff

seeds = {
    'ping': ping,
    'fragment_pair': seq(*[bytes(f) for f in fragment(
        IP(src=PEER, dst=US, id=0x3333) / ICMP(type=8, id=3, seq=3) / Raw(b'x' * 100), fragsize=64)]),
    'fragments_reversed': seq(*reversed(frags[:4])),
    # The second fragment starts 8 bytes into the first: RFC 5722-style overlap, discards the datagram.
    'fragments_overlap': seq(frags[0], bytes(IP(src=PEER, dst=US, id=0x2222, proto=1, flags='MF', frag=1) /
                                             Raw(b'O' * 64))),
    'udp': bytes(IP(src=PEER, dst=US) / UDP(sport=40000, dport=9) / Raw(b'hello tunstack')),
    'udp_nocsum': bytes(IP(src=PEER, dst=US) / UDP(sport=1, dport=2, chksum=0) / Raw(b'z' * 9)),
    'bad_checksum': bytes(bad),
    'unknown_protocol': bytes(IP(src=PEER, dst=US, proto=47) / Raw(b'\x00' * 24)),
    'options_ping': bytes(IP(src=PEER, dst=US, options=b'\x07\x07\x04\x00\x00\x00\x00\x00') /
                          ICMP(type=8, id=5, seq=5) / Raw(b'opt')),
    'tcp_syn': bytes(IP(src=PEER, dst=US) / TCP(sport=40000, dport=80, flags='S', seq=1000)),
    'icmp_unreachable_in': bytes(IP(src=PEER, dst=US) / ICMP(type=3, code=3) / ping[:28]),
}

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
print(f'wrote {len(seeds)} seeds to {OUT}')
