#!/usr/bin/python3
# Slow and idle HTTP clients for the timeout tests (run with /usr/bin/python3, under `timeout`).
#
#   hold ADDR N_HTTP N_HTTPS CAFILE WAIT_S
#       opens N_HTTP plain connections to ADDR:80 and N_HTTPS TLS connections to ADDR:443 (handshake
#       verified against CAFILE), sends each a partial request head and stalls. Prints "held N" once
#       all are open, then "closed K" whenever more were closed by the server, and at the end (all
#       closed, or WAIT_S passed) "done eof=E reset=R open=O".
#   idle ADDR PORT WAIT_S
#       one keep-alive GET /index.html, then idle: prints "idle-closed eof SECONDS" or
#       "idle-closed reset SECONDS" when the server ends it, "still-open" after WAIT_S.
#   slowbody ADDR PORT WAIT_S
#       a POST with Content-Length 1000000 and 1000 bytes of body, then stalls; reads the reply
#       (405) and prints how the server ended it, as idle does.
#   noread ADDR PORT PATH WAIT_S
#       GET PATH and never read: prints "noread-closed reset SECONDS" (or eof) once the server ends
#       it (seen as an error on a later send), "still-open" after WAIT_S.
#   badrequest KIND ADDR PORT TLS(0/1) CAFILE
#       KIND 431: a header that never ends; KIND 400: a malformed request line followed by more.
#       Sends 256 KiB in all, then reads (as curl does with a request body); prints
#       "status CODE eof" / "status CODE reset" / "noreply reset".
import resource
import selectors
import socket
import ssl
import sys
import time

PARTIAL = b"GET /index.html HTTP/1.1\r\nHost: tunstack.test\r\nX-Slow: "


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False  # the certificate names the address; verification still applies
    return ctx


def hold(addr, n_http, n_https, cafile, wait_s):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = tls_context(cafile)
    socks = []
    # TLS first (the slow part), then plain; every connection gets its partial head at once.
    for _ in range(n_https):
        s = socket.create_connection((addr, 443), timeout=20)
        t = ctx.wrap_socket(s)
        t.sendall(PARTIAL)
        socks.append(t)
    for _ in range(n_http):
        s = socket.create_connection((addr, 80), timeout=20)
        s.sendall(PARTIAL)
        socks.append(s)
    print("held", len(socks), flush=True)
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    eof = reset = 0
    open_ = len(socks)
    deadline = time.monotonic() + wait_s
    while open_ > 0 and time.monotonic() < deadline:
        before = eof + reset
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except (ConnectionResetError, ssl.SSLError, OSError):
                data = None
            if data:  # the server must not answer a request it never got in full
                print("unexpected data", data[:60], flush=True)
                continue
            if data is None:
                reset += 1
            else:
                eof += 1
            open_ -= 1
            sel.unregister(s)
            s.close()
        if eof + reset != before:
            print("closed", eof + reset, flush=True)
    print(f"done eof={eof} reset={reset} open={open_}", flush=True)


def wait_end(s, wait_s, start):
    s.settimeout(1)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return f"reset {time.monotonic() - start:.1f}"
        if not d:
            return f"eof {time.monotonic() - start:.1f}"
    return None


def read_reply(s):
    buf = b""
    s.settimeout(10)
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf


def idle(addr, port, wait_s):
    s = socket.create_connection((addr, port), timeout=10)
    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: tunstack.test\r\n\r\n")
    reply = read_reply(s)
    if not reply.startswith(b"HTTP/1.1 200"):
        print("bad reply", reply[:60])
        return
    start = time.monotonic()
    end = wait_end(s, wait_s, start)
    print(f"idle-closed {end}" if end else "still-open", flush=True)


def slowbody(addr, port, wait_s):
    s = socket.create_connection((addr, port), timeout=10)
    s.sendall(b"POST /index.html HTTP/1.1\r\nHost: tunstack.test\r\nContent-Length: 1000000\r\n\r\n"
              + b"b" * 1000)
    start = time.monotonic()
    reply = read_reply(s)
    if not reply.startswith(b"HTTP/1.1 405"):
        print("bad reply", reply[:60])
        return
    end = wait_end(s, wait_s, start)
    print(f"body-closed {end}" if end else "still-open", flush=True)


def noread(addr, port, path, wait_s):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # a small window, soon full
    s.settimeout(10)
    s.connect((addr, port))
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: tunstack.test\r\n\r\n")
    start = time.monotonic()
    deadline = start + wait_s
    # Never reads; a 1-byte send each second notices the server's RST (EPIPE/ECONNRESET).
    while time.monotonic() < deadline:
        time.sleep(1)
        try:
            s.send(b"x")
        except (BrokenPipeError, ConnectionResetError):
            print(f"noread-closed reset {time.monotonic() - start:.1f}", flush=True)
            return
    print("still-open", flush=True)


def badrequest(kind, addr, port, use_tls, cafile):
    s = socket.create_connection((addr, port), timeout=10)
    if use_tls:
        s = tls_context(cafile).wrap_socket(s)
    if kind == "431":
        first = b"GET /index.html HTTP/1.1\r\nHost: tunstack.test\r\nX-Big: " + b"a" * 4000
    else:
        first = b"BAD\r\n\r\n" + b"z" * 4000
    # As curl with a request body: everything is sent first (256 KiB), and only then is the reply
    # read. The server answers after its 8 KiB head limit (or the bad line), so most of this
    # arrives after its reply.
    data = first + b"a" * (256 * 1024 - len(first))
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
        pass  # a reset shows on the read below
    got = b""
    ended = None
    s.settimeout(10)
    while ended is None:
        try:
            d = s.recv(65536)
        except (socket.timeout, ConnectionResetError, ssl.SSLError, OSError) as e:
            ended = "timeout" if isinstance(e, socket.timeout) else "reset"
            break
        if not d:
            ended = "eof"
        got += d
    status = got.split(b" ", 2)[1].decode() if got.startswith(b"HTTP/1.1 ") else None
    print(f"status {status} {ended}" if status else f"noreply {ended}", flush=True)


def main():
    mode = sys.argv[1]
    a = sys.argv[2:]
    if mode == "hold":
        hold(a[0], int(a[1]), int(a[2]), a[3], float(a[4]))
    elif mode == "idle":
        idle(a[0], int(a[1]), float(a[2]))
    elif mode == "slowbody":
        slowbody(a[0], int(a[1]), float(a[2]))
    elif mode == "noread":
        noread(a[0], int(a[1]), a[2], float(a[3]))
    elif mode == "badrequest":
        badrequest(a[0], a[1], int(a[2]), a[3] == "1", a[4])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
