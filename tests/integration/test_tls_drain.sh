#!/usr/bin/env bash
# The SIGTERM drain over TLS: an idle tls-echo session is ended with close_notify before FIN (the
# client sees a clean TLS close, not a truncation or a reset), and an https download in progress
# (`curl --limit-rate`) finishes byte-exact and closes cleanly (curl would fail on a missing
# close_notify) within --drain-timeout; the daemon exits 0 with tls.close_notify_sent counted.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tls_drain
PY=/usr/bin/python3
CLIENT=$TS_ROOT/tests/integration/tls_client.py
PKI=$TS_TMP/pki
WWW=$TS_TMP/www
mkdir -p "$PKI" "$WWW"
ts_tls_ca "$PKI" ca
ts_tls_cert "$PKI" server ca "IP:$TS_ADDR"
SIZE=3000000
RATE=1000000
head -c "$SIZE" /dev/urandom >"$WWW/big.bin"
want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
ts_daemon_start --serve tls-echo:7 --serve https:443 --www "$WWW" --drain-timeout 10 \
    --cert "$PKI/server.pem" --key "$PKI/server.key"

timeout 60 ip netns exec "$TS_NS" "$PY" "$CLIENT" idle "$TS_ADDR" 7 "$PKI/ca.pem" "$TS_TMP/idle.ready" \
    >"$TS_TMP/idle.out" 2>&1 &
IDLE=$!
TS_PIDS+=("$IDLE")
wait_for 10 test -e "$TS_TMP/idle.ready" || ts_fail "the idle TLS client did not get its echo: $(cat "$TS_TMP/idle.out")"

timeout 60 ip netns exec "$TS_NS" curl -sS --fail --cacert "$PKI/ca.pem" --limit-rate "$RATE" \
    -o "$TS_TMP/got.bin" "https://$TS_ADDR/big.bin" 2>"$TS_TMP/curl.err" &
CURL=$!
TS_PIDS+=("$CURL")
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
wait_for 10 eval '(($(size_of "$TS_TMP/got.bin") > 300000))' || ts_fail "the https download did not start"
echo "  SIGTERM with $(size_of "$TS_TMP/got.bin") of $SIZE bytes downloaded over https, one idle TLS session"
kill -TERM "$TS_DAEMON_PID"

wait "$IDLE" || ts_fail "$(cat "$TS_TMP/idle.out")"
ts_forget_pid "$IDLE"
echo "  $(cat "$TS_TMP/idle.out")"
wait "$CURL" || ts_fail "the https download failed during the drain: $(cat "$TS_TMP/curl.err")"
ts_forget_pid "$CURL"
got=$(sha256sum <"$TS_TMP/got.bin" | cut -d' ' -f1)
[[ $got == "$want" ]] || ts_fail "the download is not byte-exact ($(size_of "$TS_TMP/got.bin") bytes)"
echo "  the https download finished byte-exact and closed cleanly during the drain"

wait_for 15 eval '! ts_alive "$TS_DAEMON_PID"' || ts_fail "tunstackd did not exit after the drain"
wait "$TS_DAEMON_PID"
rc=$?
ts_forget_pid "$TS_DAEMON_PID"
((rc == 0)) || ts_fail "tunstackd exit status $rc"
sent=$(grep -oE 'stat tls.close_notify_sent [0-9]+' "$TS_DAEMON_LOG" | tail -n 1 | awk '{print $3}')
((${sent:-0} >= 2)) || ts_fail "tls.close_notify_sent = ${sent:-none} at exit, expected >= 2"
ts_pass "drain over TLS: idle session ended with close_notify, https download completed byte-exact, exit 0"
