#!/usr/bin/python3
"""Kernel-side TLS clients and misbehaving peers for tunstackd's TLS integration tests
(run with /usr/bin/python3 inside the test's namespace).

  tls_client.py garbage HOST PORT              send an HTTP request (not TLS) to the TLS port; expect a
                                               fatal alert record, then EOF
  tls_client.py truncated HOST PORT            send half a real ClientHello, then FIN; expect EOF
  tls_client.py stall HOST PORT LIMIT          send half a ClientHello and go quiet; expect the server to
                                               close within LIMIT seconds; prints the milliseconds
  tls_client.py echo HOST PORT CAFILE NBYTES   TLS to a tls-echo port, verified against CAFILE: NBYTES
                                               seeded bytes echoed byte-exact, then close_notify both ways
  tls_client.py hold HOST PORT CAFILE READY GO TLS echo connection that stays open: echoes once, writes
                                               the peer certificate's SHA-256 fingerprint to READY, waits
                                               (up to 60 s) for the file GO to exist, echoes again
  tls_client.py idle HOST PORT CAFILE READY    TLS echo connection: echoes once, creates READY, then waits
                                               (up to 60 s) for the server to end it; passes only on a
                                               close_notify (not a bare FIN, not a reset)
  tls_client.py download HOST PORT CAFILE PATH OUT RATE
                                               HTTPS GET of PATH (keep-alive), the body written to OUT
                                               as it arrives, read at about RATE bytes/s; then reads on
                                               (up to 60 s) until the server ends the session: passes
                                               only on a complete body followed by close_notify

Every verified connection clears OP_IGNORE_UNEXPECTED_EOF and reads with suppress_ragged_eofs=False:
a FIN without close_notify raises an error (tls_recv: RaggedEof) instead of reading as a clean end
(b""), so "closed with close_notify" is really checked.

Prints one result line; exit 0 on success, 1 on a failed check (the line says which).
"""
import hashlib
import os
import random
import socket
import ssl
import sys
import time

ALERT = 21


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def read_to_eof(s, limit):
    s.settimeout(limit)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return got, "eof"
            got += b
    except socket.timeout:
        return got, "timeout"
    except ConnectionResetError:
        return got, "reset"


def garbage(host, port):
    s = socket.create_connection((host, port), 5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    got, how = read_to_eof(s, 15)
    if how != "eof":
        fail("garbage: expected EOF after the alert, got %s after %d bytes" % (how, len(got)))
    if len(got) < 7 or got[0] != ALERT or got[1] != 3 or got[5] != 2:
        fail("garbage: expected a fatal alert record, got %r" % got[:16])
    print("ok garbage: fatal alert %d then EOF" % got[6])


def truncated(host, port):
    hello = client_hello()
    s = socket.create_connection((host, port), 5)
    s.sendall(hello[: len(hello) // 2])
    s.shutdown(socket.SHUT_WR)
    got, how = read_to_eof(s, 15)
    if how == "timeout":
        fail("truncated: the server did not close after a truncated ClientHello")
    print("ok truncated: %s after %d bytes" % (how, len(got)))


def stall(host, port, limit):
    hello = client_hello()
    s = socket.create_connection((host, port), 5)
    s.sendall(hello[: len(hello) // 2])
    t0 = time.monotonic()
    got, how = read_to_eof(s, limit)
    ms = int((time.monotonic() - t0) * 1000)
    if how == "timeout":
        fail("stall: still open after %d ms" % ms)
    print("ok stall: closed (%s) after %d ms" % (how, ms))


class RaggedEof(Exception):
    """The peer's FIN arrived without close_notify (a truncation in TLS terms)."""


def tls_recv(s, n):
    # OpenSSL 3 without IGNORE_UNEXPECTED_EOF reports a bare FIN as SSLError
    # UNEXPECTED_EOF_WHILE_READING (Python 3.11 does not make it an SSLEOFError); older ones as EOF.
    try:
        return s.recv(n)
    except ssl.SSLEOFError as e:
        raise RaggedEof() from e
    except ssl.SSLError as e:
        if getattr(e, "reason", "") == "UNEXPECTED_EOF_WHILE_READING":
            raise RaggedEof() from e
        raise


def tls_connect(host, port, cafile):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    ctx.check_hostname = False  # the address is checked by the CA-issued IP SAN below
    ctx.verify_mode = ssl.CERT_REQUIRED
    # A bare FIN must not pass for close_notify. Two defaults hide it: Python sets OpenSSL 3's
    # SSL_OP_IGNORE_UNEXPECTED_EOF on every context (the FIN then reads as a clean end), and
    # suppress_ragged_eofs=True turns an SSLEOFError into b"" (older OpenSSL reports the FIN so).
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    raw = socket.create_connection((host, port), 10)
    s = ctx.wrap_socket(raw, suppress_ragged_eofs=False)
    s.settimeout(30)
    return s


def echo_once(s, payload):
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        b = s.recv(65536)
        if not b:
            fail("echo: EOF after %d of %d bytes" % (len(got), len(payload)))
        got += b
    if got != payload:
        fail("echo: bytes differ")


def echo(host, port, cafile, nbytes):
    s = tls_connect(host, port, cafile)
    data = random.Random(7).randbytes(nbytes)
    sent = 0
    got = hashlib.sha256()
    received = 0
    s.setblocking(True)
    # Interleave: the echo server stops reading while it cannot send.
    while received < nbytes:
        if sent < nbytes:
            n = s.send(data[sent : sent + 16384])
            sent += n
        while received < sent:
            b = s.recv(65536)
            if not b:
                fail("echo: EOF after %d bytes" % received)
            got.update(b)
            received += len(b)
    if got.hexdigest() != hashlib.sha256(data).hexdigest():
        fail("echo: sha256 differs")
    version, cipher = s.version(), s.cipher()[0]
    s = s.unwrap()  # our close_notify, then the server's
    rest = s.recv(1)
    print("ok echo: %d bytes byte-exact over %s %s, close_notify both ways%s"
          % (nbytes, version, cipher, "" if not rest else " (then %r)" % rest))


def hold(host, port, cafile, ready, go):
    s = tls_connect(host, port, cafile)
    echo_once(s, b"before reload\n")
    fp = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest().upper()
    with open(ready + ".tmp", "w") as f:
        f.write(":".join(fp[i : i + 2] for i in range(0, len(fp), 2)) + "\n")
    os.rename(ready + ".tmp", ready)
    deadline = time.monotonic() + 60
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            fail("hold: %s never appeared" % go)
        time.sleep(0.05)
    echo_once(s, b"after reload\n" * 1000)
    s.unwrap()
    print("ok hold: the connection opened before the reload still echoes")


def idle(host, port, cafile, ready):
    s = tls_connect(host, port, cafile)
    echo_once(s, b"hello\n")
    open(ready, "w").close()
    s.settimeout(60)
    try:
        rest = tls_recv(s, 4096)
    except RaggedEof:
        fail("idle: the server closed without close_notify")
    except ConnectionResetError:
        fail("idle: the server reset the connection")
    except socket.timeout:
        fail("idle: the server did not close within 60 s")
    if rest != b"":
        fail("idle: unexpected data %r" % rest[:40])
    print("ok idle: the server ended the session with close_notify")


def download(host, port, cafile, path, out, rate):
    s = tls_connect(host, port, cafile)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(16384)
        if not b:
            fail("download: the session ended inside the response header")
        head += b
    head, body = head.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 200"):
        fail("download: status %r" % lines[0])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        fail("download: no Content-Length")
    t0 = time.monotonic()
    got = len(body)
    with open(out, "wb") as f:
        f.write(body)
        f.flush()
        try:
            while got < length:
                b = tls_recv(s, min(16384, length - got))
                if not b:
                    fail("download: close_notify after %d of %d body bytes" % (got, length))
                f.write(b)
                f.flush()
                got += len(b)
                # Pacing only (so that the download is still running when the test acts).
                ahead = got / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        except RaggedEof:
            fail("download: FIN without close_notify after %d of %d body bytes" % (got, length))
    s.settimeout(60)
    try:
        rest = tls_recv(s, 4096)
    except RaggedEof:
        fail("download: the server closed without close_notify after the body")
    except ConnectionResetError:
        fail("download: the server reset the connection after the body")
    except socket.timeout:
        fail("download: the server did not end the session within 60 s")
    if rest != b"":
        fail("download: unexpected data after the body %r" % rest[:40])
    print("ok download: %d body bytes, then close_notify" % got)


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        sys.exit(2)
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "garbage":
        garbage(host, port)
    elif mode == "truncated":
        truncated(host, port)
    elif mode == "stall":
        stall(host, port, float(sys.argv[4]))
    elif mode == "echo":
        echo(host, port, sys.argv[4], int(sys.argv[5]))
    elif mode == "idle":
        idle(host, port, sys.argv[4], sys.argv[5])
    elif mode == "download":
        download(host, port, sys.argv[4], sys.argv[5], sys.argv[6], float(sys.argv[7]))
    elif mode == "hold":
        hold(host, port, sys.argv[4], sys.argv[5], sys.argv[6])
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
