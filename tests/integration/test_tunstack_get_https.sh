#!/usr/bin/env bash
# tunstack get https://: the client's TLS over its own stack verifies kernel-side `openssl s_server
# -WWW` instances whose certificates a test CA signed. A good certificate downloads 20 MiB byte-exact
# (by address, and by name with --resolve: SNI + DNS name check); a certificate for another address,
# another name, an expired one and one from an unknown CA each fail with exit 6 and a message naming
# the reason; --insecure accepts the unknown CA; an unreadable --cacert fails at once with exit 1.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

TUNSTACK=${TUNSTACK:-$TS_BUILD/tools/tunstack}
[[ -x $TUNSTACK ]] || { echo "FAIL: $TS_TEST: tunstack not built: $TUNSTACK"; exit 1; }
ts_ns_create tst-tunstack_get_https
PY=/usr/bin/python3
PKI=$TS_TMP/pki
WWW=$TS_TMP/www
mkdir -p "$PKI" "$WWW"
SIZE=$((20 * 1024 * 1024))
timeout 30 openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f -iv 0 -nosalt </dev/zero 2>/dev/null |
    head -c "$SIZE" >"$WWW/file.bin"
echo "small" >"$WWW/small.txt"
want=$(sha256sum <"$WWW/file.bin" | cut -d' ' -f1)

ts_tls_ca "$PKI" ca
ts_tls_ca "$PKI" rogue-ca
ts_tls_cert "$PKI" good ca "IP:$TS_PEER,DNS:tunstack.test"
ts_tls_cert "$PKI" wrongaddr ca "IP:198.18.0.9,DNS:other.test"
ts_tls_cert "$PKI" expired ca "IP:$TS_PEER" -1
ts_tls_cert "$PKI" untrusted rogue-ca "IP:$TS_PEER"

# One s_server per certificate. `tunstack get` creates the TUN (kernel side 198.18.0.1) each run,
# so the servers listen on every address of this private namespace.
declare -A PORT=([good]=4433 [wrongaddr]=4434 [expired]=4435 [untrusted]=4436)
for name in good wrongaddr expired untrusted; do
    (cd "$WWW" && exec timeout 120 ip netns exec "$TS_NS" openssl s_server -accept "${PORT[$name]}" \
        -cert "$PKI/$name.pem" -key "$PKI/$name.key" -WWW -quiet) >"$TS_TMP/s_server-$name.log" 2>&1 &
    TS_PIDS+=($!)
done
up() { ts_ns_t 5 "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1).close()" 2>/dev/null; }
for name in good wrongaddr expired untrusted; do
    wait_for 15 up "${PORT[$name]}" || ts_fail "s_server for $name did not start: $(tail -n 3 "$TS_TMP/s_server-$name.log")"
done

get() { # get OUTFILE URL [ARGS...] — runs tunstack get; stdout+stderr in $TS_TMP/get.out; returns its rc
    local out=$1 url=$2 rc=0
    shift 2
    ts_ns_t 90 "$TUNSTACK" get "$url" -o "$out" --tun tcl0 --host-addr "$TS_HOST_ADDR" \
        --addr "$TS_ADDR" --timeout 60 "$@" >"$TS_TMP/get.out" 2>&1 || rc=$?
    return "$rc"
}

# 1. Verified downloads, by address and by name.
get "$TS_TMP/got.bin" "https://$TS_PEER:4433/file.bin" --cacert "$PKI/ca.pem" ||
    ts_fail "download failed (exit $?): $(cat "$TS_TMP/get.out")"
got=$(sha256sum <"$TS_TMP/got.bin" | cut -d' ' -f1)
[[ $got == "$want" ]] || ts_fail "sha256 differs: got $got ($(stat -c %s "$TS_TMP/got.bin") bytes)"
grep -q 'TLSv1.2 .*certificate verified' "$TS_TMP/get.out" || ts_fail "no TLS note: $(cat "$TS_TMP/get.out")"
echo "  $(cat "$TS_TMP/get.out")"
get "$TS_TMP/small.txt" "https://tunstack.test:4433/small.txt" --cacert "$PKI/ca.pem" \
    --resolve "tunstack.test:$TS_PEER" || ts_fail "download by name failed: $(cat "$TS_TMP/get.out")"
[[ $(cat "$TS_TMP/small.txt") == small ]] || ts_fail "by name: wrong body"
echo "  by name (SNI tunstack.test, --resolve): ok"

# 2. Verification failures: exit 6, the reason named.
reject() { # reject WHY URL ARGS...
    local why=$1 url=$2 rc=0
    shift 2
    get "$TS_TMP/x" "$url" "$@" || rc=$?
    [[ $rc == 6 ]] || ts_fail "$why: exit $rc, expected 6: $(cat "$TS_TMP/get.out")"
    [[ $(wc -l <"$TS_TMP/get.out") == 1 ]] || ts_fail "$why: expected one line: $(cat "$TS_TMP/get.out")"
    grep -q "rejected: .*$why" "$TS_TMP/get.out" || ts_fail "$why: message does not say '$why': $(cat "$TS_TMP/get.out")"
    echo "  exit 6: $(cat "$TS_TMP/get.out")"
}
reject "wrong name" "https://$TS_PEER:4434/small.txt" --cacert "$PKI/ca.pem"
reject "wrong name" "https://wrong.test:4433/small.txt" --cacert "$PKI/ca.pem" --resolve "wrong.test:$TS_PEER"
reject "expired" "https://$TS_PEER:4435/small.txt" --cacert "$PKI/ca.pem"
reject "untrusted" "https://$TS_PEER:4436/small.txt" --cacert "$PKI/ca.pem"
reject "untrusted" "https://$TS_PEER:4433/small.txt"  # the system bundle does not know the test CA

# 3. --insecure accepts it, and says so.
get "$TS_TMP/x" "https://$TS_PEER:4436/small.txt" --insecure || ts_fail "--insecure failed: $(cat "$TS_TMP/get.out")"
grep -q 'NOT verified' "$TS_TMP/get.out" || ts_fail "--insecure does not say it skipped verification"
echo "  --insecure: $(cat "$TS_TMP/get.out")"

# 4. A bad CA file: exit 1 before any device exists; usage errors: exit 2.
rc=0; get "$TS_TMP/x" "https://$TS_PEER:4433/" --cacert "$PKI/missing.pem" || rc=$?
[[ $rc == 1 ]] && grep -q 'cannot read' "$TS_TMP/get.out" || ts_fail "missing --cacert: exit $rc: $(cat "$TS_TMP/get.out")"
rc=0; get "$TS_TMP/x" "https://$TS_PEER:4433/" --cacert "$WWW/small.txt" || rc=$?
[[ $rc == 1 ]] && grep -q 'no usable PEM certificate' "$TS_TMP/get.out" || ts_fail "junk --cacert: exit $rc: $(cat "$TS_TMP/get.out")"
rc=0; get "$TS_TMP/x" "http://$TS_PEER:4433/" --insecure || rc=$?
[[ $rc == 2 ]] || ts_fail "--insecure with http://: exit $rc, expected 2"
rc=0; get "$TS_TMP/x" "https://name.test/" || rc=$?
[[ $rc == 2 ]] && grep -q -- '--resolve' "$TS_TMP/get.out" || ts_fail "a name without --resolve: exit $rc: $(cat "$TS_TMP/get.out")"
echo "  bad --cacert: exit 1; --insecure on http://, names without --resolve: exit 2"

ts_pass "20 MiB over https verified (address and name/SNI); wrong name, expired, untrusted → exit 6 with the reason; --insecure; bad CA file → 1"
