#!/usr/bin/env bash
# SIGHUP reloads tunstackd's certificates: after the --cert/--key files are replaced and the daemon
# gets SIGHUP, a new `openssl s_client` sees the new certificate's fingerprint, while a TLS connection
# opened before the reload keeps echoing on the old session. A bad new file (garbage key, a key that
# does not match the certificate) logs an error and keeps the current certificate in service.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tls_reload
PY=/usr/bin/python3
CLIENT=$TS_ROOT/tests/integration/tls_client.py
PKI=$TS_TMP/pki
mkdir -p "$PKI"
ts_tls_ca "$PKI" ca
ts_tls_cert "$PKI" first ca "IP:$TS_ADDR"
ts_tls_cert "$PKI" second ca "IP:$TS_ADDR"
fingerprint() { timeout 10 openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
FP1=$(fingerprint "$PKI/first.pem")
FP2=$(fingerprint "$PKI/second.pem")
cp "$PKI/first.pem" "$PKI/live.pem"
cp "$PKI/first.key" "$PKI/live.key"

ts_daemon_start --serve tls-echo:7 --cert "$PKI/live.pem" --key "$PKI/live.key"

# served_fingerprint — the certificate a new s_client sees.
served_fingerprint() {
    ts_ns_t 15 openssl s_client -connect "$TS_ADDR:7" -CAfile "$PKI/ca.pem" -verify_return_error \
        </dev/null 2>/dev/null | timeout 10 openssl x509 -noout -fingerprint -sha256 | cut -d= -f2
}
[[ $(served_fingerprint) == "$FP1" ]] || ts_fail "before the reload s_client does not see the first certificate"

# A connection opened before the reload.
timeout 90 ip netns exec "$TS_NS" "$PY" "$CLIENT" hold "$TS_ADDR" 7 "$PKI/ca.pem" "$TS_TMP/ready" "$TS_TMP/go" \
    >"$TS_TMP/hold.out" 2>&1 &
HOLD=$!
TS_PIDS+=("$HOLD")
wait_for 20 test -f "$TS_TMP/ready" || ts_fail "the long-lived client did not connect: $(cat "$TS_TMP/hold.out")"
[[ $(cat "$TS_TMP/ready") == "$FP1" ]] || ts_fail "the long-lived client saw $(cat "$TS_TMP/ready"), not $FP1"

# reload SIGNAL-LINE — SIGHUP, then wait for the log line that says how it went.
reload() {
    local pattern=$1 before
    before=$(grep -c "$pattern" "$TS_DAEMON_LOG")
    kill -HUP "$TS_DAEMON_PID"
    # (eval runs inside wait_for: bash's dynamic scoping lets it see `pattern` and `before`.)
    wait_for 10 eval '(( $(grep -c "$pattern" "$TS_DAEMON_LOG") > before ))' ||
        ts_fail "no '$1' in the log within 10 s of SIGHUP"
}

cp "$PKI/second.pem" "$PKI/live.pem"
cp "$PKI/second.key" "$PKI/live.key"
reload "tls: reloaded certificate"
got=$(served_fingerprint)
[[ $got == "$FP2" ]] || ts_fail "after the reload s_client sees $got, expected the second certificate $FP2"
echo "  SIGHUP: new connections get $FP2"

touch "$TS_TMP/go"
wait "$HOLD" || ts_fail "the connection opened before the reload broke: $(cat "$TS_TMP/hold.out")"
ts_forget_pid "$HOLD"
echo "  $(cat "$TS_TMP/hold.out")"

# Bad files: the error is logged, the second certificate stays in service.
echo "garbage" >"$PKI/live.key"
reload "reload failed"
grep "reload failed" "$TS_DAEMON_LOG" | tail -n 1 | grep -q "not a valid unencrypted PEM private key" ||
    ts_fail "reload error does not name the problem: $(grep 'reload failed' "$TS_DAEMON_LOG" | tail -n 1)"
[[ $(served_fingerprint) == "$FP2" ]] || ts_fail "a bad key file replaced the certificate in service"
cp "$PKI/first.pem" "$PKI/live.pem"
cp "$PKI/second.key" "$PKI/live.key"
reload "does not match"
[[ $(served_fingerprint) == "$FP2" ]] || ts_fail "a mismatched key replaced the certificate in service"
echo "  bad key, mismatched key: logged ($(grep 'reload failed' "$TS_DAEMON_LOG" | tail -n 1 | cut -c1-120)...), $FP2 still served"

ts_alive "$TS_DAEMON_PID" || ts_fail "tunstackd died"
ts_stats "$TS_TMP/stats"
ok=$(ts_stat "$TS_TMP/stats" tls.handshakes_ok)
((ok >= 5)) || ts_fail "tls.handshakes_ok = $ok, expected >= 5"
ts_daemon_stop
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exit status $TS_DAEMON_RC"
ts_pass "SIGHUP swaps the certificate for new connections; an older connection keeps working; bad files keep the old one"
