#!/usr/bin/python3
# Writes the seed corpus of fuzz_wire into tests/fuzz/corpus/wire/: a handful of small valid packets
# (IPv4 + TCP with options, UDP, ICMP echo and unreachable, a fragment, bare transport headers) and
# invalid ones (truncated, bad lengths, bad checksums, malformed options). Deterministic; needs scapy
# (Debian's /usr/bin/python3). Run from anywhere: /usr/bin/python3 tests/fuzz/make_corpus.py
import os
from scapy.all import IP, TCP, UDP, ICMP, Raw

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'wire')
SRC, DST = '10.0.0.1', '10.0.0.2'  # the addresses fuzz_wire uses for bare transport headers


def pkt(p):
    return bytes(p)


seeds = {}
syn = IP(src='198.18.0.1', dst='198.18.0.2', flags='DF', id=0x1234) / TCP(
    sport=40000, dport=8080, flags='S', seq=0xa59211dd, window=64240,
    options=[('MSS', 1460), ('SAckOK', b''), ('Timestamp', (0x96bd550f, 0)), ('NOP', None),
             ('WScale', 10)])
seeds['tcp_syn'] = pkt(syn)
ack = IP(src='198.18.0.2', dst='198.18.0.1') / TCP(
    sport=8080, dport=40000, flags='PA', seq=1, ack=2, window=502,
    options=[('NOP', None), ('NOP', None), ('Timestamp', (1, 2)), ('NOP', None), ('NOP', None),
             ('SAck', (100, 200, 300, 400))]) / Raw(b'GET / HTTP/1.1\r\n\r\n')
seeds['tcp_ack_sack_data'] = pkt(ack)
seeds['udp'] = pkt(IP(src='198.18.0.1', dst='198.18.0.2') / UDP(sport=5353, dport=53) / Raw(b'hello!!'))
seeds['udp_nocsum'] = pkt(IP(src='198.18.0.1', dst='198.18.0.2') / UDP(sport=1, dport=2, chksum=0) / Raw(b'x'))
seeds['icmp_echo'] = pkt(IP(src='198.18.0.1', dst='198.18.0.2') / ICMP(type=8, id=7, seq=1) / Raw(b'0123456789abcdefghijk'))
seeds['icmp_unreach'] = pkt(IP(src='198.18.0.2', dst='198.18.0.1') / ICMP(type=3, code=3) / bytes(syn)[:28])
seeds['ip_fragment'] = pkt(IP(src='198.18.0.1', dst='198.18.0.2', proto=1, flags='MF', frag=0) / Raw(b'A' * 24))
seeds['ip_options'] = pkt(IP(src='198.18.0.1', dst='198.18.0.2', options=b'\x01\x01\x01\x00') / UDP(sport=9, dport=9))
# Bare transport headers: parsed directly with the fuzzer's fixed addresses.
seeds['bare_tcp'] = bytes(IP(src=SRC, dst=DST) / TCP(sport=1, dport=2, flags='SA', options=[('MSS', 536), ('WScale', 20)]))[20:]
seeds['bare_udp'] = bytes(IP(src=SRC, dst=DST) / UDP(sport=1, dport=2) / Raw(b'abc'))[20:]
seeds['bare_icmp'] = bytes(ICMP(type=0, id=1, seq=2) / Raw(b'ping'))
# Many options (more than a header holds), for the option iterator alone.
seeds['many_options'] = b'\xfe\x02' * 300
# Invalid ones.
seeds['bad_truncated_ip'] = seeds['tcp_syn'][:19]
seeds['bad_total_length'] = seeds['udp'][:2] + b'\xff\xff' + seeds['udp'][4:]
seeds['bad_ip_checksum'] = seeds['udp'][:10] + b'\x00\x00' + seeds['udp'][12:]
bad_tcp_off = bytearray(seeds['tcp_syn'])
bad_tcp_off[32] = 0xf0
seeds['bad_tcp_data_offset'] = bytes(bad_tcp_off)
bad_opt = IP(src='198.18.0.1', dst='198.18.0.2') / TCP(sport=1, dport=2, options=[])
raw = bytearray(bytes(bad_opt))
seeds['bad_tcp_option_len'] = bytes(IP(src='198.18.0.1', dst='198.18.0.2', proto=6) / Raw(bytes(raw[20:32]) + b'\x60' + bytes(raw[33:40]) + b'\x02\x03\x05\xb4'))
seeds['bad_udp_len'] = seeds['bare_udp'][:4] + b'\x00\x07' + seeds['bare_udp'][6:]

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
print(f'wrote {len(seeds)} seeds to {OUT}')
