#!/usr/bin/python3
# Writes the seed corpus of fuzz_tls_server into tests/fuzz/corpus/tls_server/. Needs Debian's
# /usr/bin/python3 (its ssl module). The ClientHellos carry fresh random bytes, so reruns differ in
# those bytes only. Run from anywhere: /usr/bin/python3 tests/fuzz/corpus/make_tls_server.py
#
# fuzz_tls_server's first input byte says how the rest is cut into pieces (0: whole; else pieces of
# (byte % 64) + 1 bytes), so every seed starts with that byte.
import os
import ssl

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tls_server')


def client_hello(configure):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    configure(ctx)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname='fuzz.test')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def tls12(ctx):
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers('ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305')


def default(ctx):
    pass


def cbc_only(ctx):
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers('ECDHE-ECDSA-AES128-SHA')


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {
        'hello_tls12': b'\x00' + client_hello(tls12),
        'hello_tls12_pieces7': b'\x06' + client_hello(tls12),
        'hello_openssl_default': b'\x00' + client_hello(default),
        'hello_cbc_only': b'\x00' + client_hello(cbc_only),
        'hello_truncated': b'\x00' + client_hello(tls12)[:60],
        'http_request': b'\x00GET / HTTP/1.1\r\nHost: x\r\n\r\n',
        'alert_record': b'\x00\x15\x03\x03\x00\x02\x02\x28',
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
