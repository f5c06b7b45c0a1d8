#!/usr/bin/env bash
# HTTPS from the userspace stack: `curl --cacert` downloads a 100 MB file from --serve https:443 (a
# certificate signed by a test CA made with openssl) byte-exact; keep-alive over TLS; the daemon's
# RSS stays small. Then the generated certificate: without --cert the daemon logs a SHA-256
# fingerprint equal to openssl's for the file it wrote with --cert-out, and curl trusting that file
# gets the page. Bad TLS files fail the start with one line and exit 1 (exit 2 for bad flags). With
# --tls-max-sessions 1 and that session held by a stalled client, another client is reset at once
# (counted), and served once the stalled handshake timed out.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tls_https_curl
PKI=$TS_TMP/pki
WWW=$TS_TMP/www
mkdir -p "$PKI" "$WWW"
ts_tls_ca "$PKI" ca
ts_tls_cert "$PKI" server ca "IP:$TS_ADDR,DNS:tunstack.test"
SIZE=$((100 * 1024 * 1024))
timeout 60 openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f -iv 0 -nosalt </dev/zero 2>/dev/null |
    head -c "$SIZE" >"$WWW/big.bin"
echo "small page" >"$WWW/index.html"
want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)

# ---- 1. startup errors: one line, exit 1 (bad files) or 2 (bad flags); no device left behind ----
start_err() { # start_err WANT_RC GREP ARGS... — tunstackd must fail with WANT_RC and one stderr line
    local want_rc=$1 pattern=$2 rc=0
    shift 2
    ts_ns "$TUNSTACKD" --tun tun0 --host-addr "$TS_HOST_ADDR" --addr "$TS_ADDR" --stay-root "$@" \
        >/dev/null 2>"$TS_TMP/err" || rc=$?
    [[ $rc == "$want_rc" ]] || ts_fail "tunstackd $* exited $rc, expected $want_rc: $(cat "$TS_TMP/err")"
    [[ $(wc -l <"$TS_TMP/err") == 1 ]] || ts_fail "tunstackd $*: expected one stderr line: $(cat "$TS_TMP/err")"
    grep -q -- "$pattern" "$TS_TMP/err" || ts_fail "tunstackd $*: message lacks '$pattern': $(cat "$TS_TMP/err")"
    ! timeout 5 ip -n "$TS_NS" link show tun0 >/dev/null 2>&1 || ts_fail "tunstackd $* left tun0 behind"
    echo "  exit $rc: $(cat "$TS_TMP/err")"
}
ts_tls_cert "$PKI" other ca "DNS:other.test"
echo "not a certificate" >"$PKI/junk.pem"
chmod 000 "$PKI/other.key"
TLS=(--serve https:443 --www "$WWW")
start_err 1 "does not match" "${TLS[@]}" --cert "$PKI/server.pem" --key "$PKI/ca.key"
start_err 1 "No such file" "${TLS[@]}" --cert "$PKI/missing.pem" --key "$PKI/server.key"
start_err 1 "not a valid PEM certificate" "${TLS[@]}" --cert "$PKI/junk.pem" --key "$PKI/server.key"
start_err 1 "private key" "${TLS[@]}" --cert "$PKI/server.pem" --key "$PKI/junk.pem"
# An unreadable key. Root reads mode-000 files, so the daemon runs as an unprivileged user (65534)
# that holds only CAP_NET_ADMIN (ambient, as a service manager could give it), from a copy of the
# binary that user may execute; everything else it needs (--www, the certificate) is readable. The
# files are read before the device is created, so the error must name the key (with a readable key
# this run gets further and fails differently: checked once by hand).
cp "$TUNSTACKD" "$TS_TMP/tunstackd.unpriv" && chmod 755 "$TS_TMP/tunstackd.unpriv"
chmod 644 "$PKI/other.pem"
chmod 755 "$PKI" "$WWW"
rc=0
ts_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin \
    "$TS_TMP/tunstackd.unpriv" --tun tun0 --host-addr "$TS_HOST_ADDR" --addr "$TS_ADDR" "${TLS[@]}" \
    --cert "$PKI/other.pem" --key "$PKI/other.key" >/dev/null 2>"$TS_TMP/err" || rc=$?
[[ $rc == 1 && $(wc -l <"$TS_TMP/err") == 1 ]] && grep -q -- "$PKI/other.key.*Permission denied" "$TS_TMP/err" ||
    ts_fail "unreadable --key as uid 65534 with CAP_NET_ADMIN: exit $rc, expected 1 and one line naming $PKI/other.key: $(cat "$TS_TMP/err")"
! timeout 5 ip -n "$TS_NS" link show tun0 >/dev/null 2>&1 || ts_fail "the unreadable --key left tun0 behind"
echo "  exit 1 (as uid 65534 with CAP_NET_ADMIN): $(cat "$TS_TMP/err")"
chmod 600 "$PKI/other.key"
start_err 1 "is a directory" "${TLS[@]}" --cert "$PKI" --key "$PKI/server.key"
start_err 2 "pairs" "${TLS[@]}" --cert "$PKI/server.pem"
start_err 2 "needs a TLS service" --serve echo:7 --cert "$PKI/server.pem" --key "$PKI/server.key"
start_err 2 "out of range" "${TLS[@]}" --tls-handshake-timeout 0

# ---- 2. curl --cacert: 100 MB byte-exact, keep-alive ----
ts_daemon_start "${TLS[@]}" --cert "$PKI/server.pem" --key "$PKI/server.key"
grep -q "tls: certificate $PKI/server.pem: CN=server" "$TS_DAEMON_LOG" ||
    ts_fail "the daemon did not log the certificate it loaded"
t0=$(ts_now_ms)
ts_ns_t 120 curl -sS --fail --cacert "$PKI/ca.pem" -o "$TS_TMP/got.bin" \
    -w '%{http_code} %{size_download} %{ssl_verify_result}\n' "https://$TS_ADDR/big.bin" \
    >"$TS_TMP/curl.out" 2>&1 || ts_fail "curl failed: $(cat "$TS_TMP/curl.out")"
t1=$(ts_now_ms)
got=$(sha256sum <"$TS_TMP/got.bin" | cut -d' ' -f1)
[[ $got == "$want" ]] || ts_fail "sha256 differs: got $got ($(stat -c %s "$TS_TMP/got.bin") bytes)"
ms=$((t1 - t0))
echo "  100 MiB over https byte-exact in $ms ms ($(awk -v b="$SIZE" -v ms="$ms" 'BEGIN {printf "%.0f", b / 1e6 / (ms / 1000)}') MB/s wall): $(cat "$TS_TMP/curl.out")"
rss=$(ts_rss_kb)
((rss < 65536)) || ts_fail "RSS $rss kB after streaming 100 MB (files must be streamed, not loaded)"

# Keep-alive: two requests on one TLS connection (curl reuses it).
ts_ns_t 30 curl -sS --fail --cacert "$PKI/ca.pem" -v "https://$TS_ADDR/" "https://$TS_ADDR/index.html" \
    -o /dev/null -o /dev/null >"$TS_TMP/ka.out" 2>&1 || ts_fail "keep-alive curl failed: $(tail -n 5 "$TS_TMP/ka.out")"
grep -q 'Re-using existing connection' "$TS_TMP/ka.out" || ts_fail "curl did not reuse the TLS connection"
grep -q 'SSL connection using TLSv1.2 / ECDHE-ECDSA-CHACHA20-POLY1305' "$TS_TMP/ka.out" ||
    ts_fail "unexpected protocol/suite: $(grep 'SSL connection' "$TS_TMP/ka.out")"
grep -q 'ALPN: server accepted http/1.1' "$TS_TMP/ka.out" || ts_fail "ALPN http/1.1 not negotiated"

ts_stats "$TS_TMP/s1"
for n in tls.handshakes_ok svc.https.443.requests svc.https.443.status_2xx; do
    v=$(ts_stat "$TS_TMP/s1" "$n")
    [[ $v != - ]] && ((v >= 2)) || ts_fail "$n = $v, expected >= 2"
done
v=$(ts_stat "$TS_TMP/s1" tls.close_notify_received)
((v >= 1)) || ts_fail "tls.close_notify_received = $v (curl closes with close_notify)"
ts_daemon_stop
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exit status $TS_DAEMON_RC"

# ---- 3. the generated certificate ----
ts_daemon_start "${TLS[@]}" --cert-out "$TS_TMP/generated.pem"
line=$(grep -m1 'generated a self-signed ECDSA P-256 certificate' "$TS_DAEMON_LOG")
[[ -n $line ]] || ts_fail "no 'generated ... certificate' line in the log"
logged=$(grep -oE 'fingerprint [0-9A-F:]{95}' <<<"$line" | cut -d' ' -f2)
actual=$(timeout 10 openssl x509 -in "$TS_TMP/generated.pem" -noout -fingerprint -sha256 | cut -d= -f2)
[[ -n $logged && $logged == "$actual" ]] || ts_fail "logged fingerprint '$logged' != openssl's '$actual'"
grep -q "written to $TS_TMP/generated.pem" <<<"$line" || ts_fail "the log does not say where the certificate is: $line"
timeout 10 openssl x509 -in "$TS_TMP/generated.pem" -noout -text | grep -q "IP Address:$TS_ADDR" ||
    ts_fail "the generated certificate has no IP SAN for $TS_ADDR"
body=$(ts_ns_t 30 curl -sS --fail --cacert "$TS_TMP/generated.pem" "https://$TS_ADDR/") ||
    ts_fail "curl trusting the generated certificate failed"
[[ $body == "small page" ]] || ts_fail "unexpected body '$body'"
rc=0; ts_ns_t 30 curl -sS "https://$TS_ADDR/" >/dev/null 2>"$TS_TMP/untrusted.err" || rc=$?
((rc == 60)) || ts_fail "curl without --cacert: exit $rc, expected 60 (certificate not trusted)"
echo "  generated certificate: fingerprint logged = openssl's ($actual), curl --cacert works, without it: exit 60"
ts_stats "$TS_TMP/s2"
v=$(ts_stat "$TS_TMP/s2" tls.handshake_failed.alert_received)
((v >= 1)) || ts_fail "tls.handshake_failed.alert_received = $v after curl refused the certificate"
ts_daemon_stop
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exit status $TS_DAEMON_RC"

# ---- 4. the session limit: past --tls-max-sessions a connection is reset at once, counted ----
ts_daemon_start "${TLS[@]}" --cert "$PKI/server.pem" --key "$PKI/server.key" --tls-max-sessions 1 \
    --tls-handshake-timeout 2
timeout 30 ip netns exec "$TS_NS" /usr/bin/python3 "$TS_ROOT/tests/integration/tls_client.py" stall \
    "$TS_ADDR" 443 15 >"$TS_TMP/stall.out" 2>&1 &
STALL=$!
TS_PIDS+=("$STALL")
one_active() { ts_stats "$TS_TMP/s3" && [[ $(ts_stat "$TS_TMP/s3" tls.sessions_active) == 1 ]]; }
wait_for 10 one_active || ts_fail "the stalled client does not hold the one TLS session"
rc=0; ts_ns_t 30 curl -sS --cacert "$PKI/ca.pem" "https://$TS_ADDR/" >/dev/null 2>"$TS_TMP/busy.err" || rc=$?
((rc != 0)) || ts_fail "a second TLS session was served with --tls-max-sessions 1"
ts_stats "$TS_TMP/s4"
[[ $(ts_stat "$TS_TMP/s4" tls.sessions_rejected) == 1 ]] || ts_fail "tls.sessions_rejected is not 1"
wait "$STALL" || ts_fail "stalled client: $(cat "$TS_TMP/stall.out")"
ts_forget_pid "$STALL"
body=$(ts_ns_t 30 curl -sS --fail --cacert "$PKI/ca.pem" "https://$TS_ADDR/") ||
    ts_fail "no TLS session served after the stalled one timed out"
[[ $body == "small page" ]] || ts_fail "unexpected body '$body'"
echo "  --tls-max-sessions 1: a second client reset (curl exit $rc, tls.sessions_rejected 1), served once the first timed out"
ts_daemon_stop

ts_pass "100 MiB over https byte-exact (curl --cacert), keep-alive + ALPN, generated certificate fingerprint = openssl's, bad TLS files refused at start, session limit"
