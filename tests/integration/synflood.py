#!/usr/bin/env python3
"""Spoofed SYN flood for the integration tests (issue 8), run inside the test's own namespace.

    synflood.py DST COUNT RATE SECONDS PORT[,PORT...]

Sends at most COUNT SYNs at RATE per second for at most SECONDS, from random sources in
198.18.128.0/17 and random ports, to DST's PORTs in turn, through a raw IP_HDRINCL socket. Each SYN
offers MSS, SACK-permitted, timestamps and a window scale like a real client's. Prints the number
sent. Nothing ever answers: the sources do not exist (the kernel drops the SYN-ACKs).
"""
import random
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def syn(src, dst, sport, dport, seq, tsval):
    opts = struct.pack("!BBH", 2, 4, 1460) + struct.pack("!BB", 4, 2)
    opts += struct.pack("!BBII", 8, 10, tsval, 0) + struct.pack("!BBBB", 1, 3, 3, 7)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (20 + len(opts)) // 4 << 4, 0x02, 64240, 0, 0)
    tcp += opts
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def main():
    dst_text, count, rate, seconds, ports = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), [int(p) for p in sys.argv[5].split(",")]
    dst = socket.inet_aton(dst_text)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    base = struct.unpack("!I", socket.inet_aton("198.18.128.0"))[0]
    start = time.monotonic()
    sent = 0
    for i in range(count):
        now = time.monotonic()
        if now - start > seconds:
            break
        if i % 20 == 0:
            due = start + i / rate
            if due > now:
                time.sleep(due - now)
        src = struct.pack("!I", base + random.randrange(1, 1 << 15))
        pkt = syn(src, dst, random.randrange(1024, 65536), ports[i % len(ports)], random.getrandbits(32), random.getrandbits(32))
        s.sendto(pkt, (dst_text, 0))
        sent += 1
    print(sent)


main()
