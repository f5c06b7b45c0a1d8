#!/usr/bin/python3
"""Kernel-side TCP clients for tunstackd's integration tests (run with /usr/bin/python3 in the netns).

  tcp_client.py echo HOST PORT NBYTES SEED       send NBYTES seeded bytes, read the echo back concurrently;
                                                 half-closes after sending; checks sha256 both ways
  tcp_client.py halfclose HOST PORT NBYTES SEED  send all, shutdown(SHUT_WR) first, only then read: every
                                                 echoed byte arrives after our FIN; then EOF from the server
  tcp_client.py refused HOST PORT                connect must fail with ECONNREFUSED; prints milliseconds
  tcp_client.py concurrent HOST PORT N PATH SHA  N simultaneous HTTP/1.1 GETs of PATH (asyncio), each body
                                                 checked against SHA (hex sha256)
  tcp_client.py send HOST PORT NBYTES            (bench) send NBYTES to a discard port; prints seconds
  tcp_client.py recv HOST PORT NBYTES            (bench) read NBYTES from a chargen port; prints seconds

Prints one result line; exit 0 on success, 1 on a failed check (the line says which).
"""
import asyncio
import errno
import hashlib
import random
import socket
import sys
import threading
import time

CHUNK = 256 * 1024


def data_chunks(nbytes, seed):
    rng = random.Random(seed)
    left = nbytes
    while left > 0:
        n = min(CHUNK, left)
        yield rng.randbytes(n)
        left -= n


def connect(host, port, cc=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if cc:  # NOTES.md: a new namespace inherits bbr; benchmarks set the algorithm per socket
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    s.settimeout(30)
    s.connect((host, port))
    s.settimeout(60)
    return s


def echo(host, port, nbytes, seed, half_close_first=False):
    s = connect(host, port)
    sent = hashlib.sha256()
    got = hashlib.sha256()
    received = 0
    err = []
    t0 = time.monotonic()

    def writer():
        try:
            for c in data_chunks(nbytes, seed):
                sent.update(c)
                s.sendall(c)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(f"send: {e}")

    if half_close_first:
        writer()
        t_fin = time.monotonic()
    else:
        th = threading.Thread(target=writer)
        th.start()
    while True:
        try:
            b = s.recv(CHUNK)
        except OSError as e:
            err.append(f"recv after {received} bytes: {e}")
            break
        if not b:
            break
        got.update(b)
        received += len(b)
    if not half_close_first:
        th.join()
    dt = time.monotonic() - t0
    s.close()
    if err:
        print(f"FAIL {'; '.join(err)}")
        return 1
    if received != nbytes or sent.hexdigest() != got.hexdigest():
        print(f"FAIL received {received} of {nbytes} bytes; sha256 sent {sent.hexdigest()} "
              f"received {got.hexdigest()}")
        return 1
    extra = f", all {received} echoed bytes read after our FIN, then EOF" if half_close_first else ""
    print(f"OK {nbytes} bytes echoed byte-exact in {dt:.2f} s ({nbytes * 8 / dt / 1e6:.0f} Mbit/s "
          f"each way), sha256 {sent.hexdigest()[:16]}{extra}")
    return 0


def refused(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    t0 = time.monotonic()
    try:
        s.connect((host, port))
    except ConnectionRefusedError:
        ms = (time.monotonic() - t0) * 1000
        print(f"OK ECONNREFUSED after {ms:.1f} ms")
        return 0
    except socket.timeout:
        print(f"FAIL timed out after {time.monotonic() - t0:.1f} s (no RST)")
        return 1
    except OSError as e:
        print(f"FAIL {errno.errorcode.get(e.errno, e.errno)}: {e}")
        return 1
    print("FAIL connect succeeded")
    return 1


async def one_get(host, port, path, want):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read(-1)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if not status.startswith(b"HTTP/1.1 200"):
        return f"status {status!r}"
    if hashlib.sha256(body).hexdigest() != want:
        return f"body of {len(body)} bytes has the wrong sha256"
    return None


async def concurrent(host, port, n, path, want):
    t0 = time.monotonic()
    results = await asyncio.gather(*(asyncio.wait_for(one_get(host, port, path, want), 60)
                                     for _ in range(n)), return_exceptions=True)
    dt = time.monotonic() - t0
    bad = [r for r in results if r is not None]
    if bad:
        print(f"FAIL {len(bad)} of {n} requests failed, e.g. {bad[0]!r}")
        return 1
    print(f"OK {n} concurrent connections, every body byte-exact, in {dt:.2f} s")
    return 0


def bench_send(host, port, nbytes):
    s = connect(host, port, "cubic")
    buf = bytes(CHUNK)
    t0 = time.monotonic()
    left = nbytes
    while left > 0:
        n = s.send(buf[:min(left, CHUNK)])
        left -= n
    s.shutdown(socket.SHUT_WR)
    # The discard server closes after reading everything: EOF means every byte was consumed.
    while s.recv(65536):
        pass
    dt = time.monotonic() - t0
    s.close()
    print(f"{dt:.6f}")
    return 0


def bench_recv(host, port, nbytes):
    s = connect(host, port, "cubic")
    buf = bytearray(CHUNK)
    t0 = time.monotonic()
    left = nbytes
    while left > 0:
        n = s.recv_into(buf, min(left, CHUNK))
        if n == 0:
            print("FAIL EOF early")
            return 1
        left -= n
    dt = time.monotonic() - t0
    s.close()
    print(f"{dt:.6f}")
    return 0


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    mode, host, port = argv[1], argv[2], int(argv[3])
    if mode == "echo":
        return echo(host, port, int(argv[4]), int(argv[5]))
    if mode == "halfclose":
        return echo(host, port, int(argv[4]), int(argv[5]), half_close_first=True)
    if mode == "refused":
        return refused(host, port)
    if mode == "concurrent":
        return asyncio.run(concurrent(host, port, int(argv[4]), argv[5], argv[6]))
    if mode == "send":
        return bench_send(host, port, int(argv[4]))
    if mode == "recv":
        return bench_recv(host, port, int(argv[4]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
