#!/usr/bin/env bash
# The SIGTERM drain over TLS: an idle tls-echo session is ended with close_notify before FIN (the
# client sees a clean TLS close, not a truncation or a reset), and two https downloads in progress
# finish byte-exact within --drain-timeout: `curl --limit-rate` (a real client; with Content-Length
# it stops reading at the body's end, so it does not prove the close_notify) and tls_client.py
# `download`, which after the body reads on and passes only on close_notify (a bare FIN is an
# error there: tls_client.py's tls_recv). The daemon exits 0 with tls.close_notify_sent counted.
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

timeout 60 ip netns exec "$TS_NS" "$PY" "$CLIENT" download "$TS_ADDR" 443 "$PKI/ca.pem" /big.bin \
    "$TS_TMP/py.bin" "$RATE" >"$TS_TMP/py.out" 2>&1 &
PYDL=$!
TS_PIDS+=("$PYDL")
timeout 60 ip netns exec "$TS_NS" curl -sS --fail --cacert "$PKI/ca.pem" --limit-rate "$RATE" \
    -o "$TS_TMP/got.bin" "https://$TS_ADDR/big.bin" 2>"$TS_TMP/curl.err" &
CURL=$!
TS_PIDS+=("$CURL")
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
wait_for 10 eval '(($(size_of "$TS_TMP/got.bin") > 300000))' || ts_fail "the curl https download did not start"
wait_for 10 eval '(($(size_of "$TS_TMP/py.bin") > 300000))' || ts_fail "the python https download did not start: $(cat "$TS_TMP/py.out")"
echo "  SIGTERM with $(size_of "$TS_TMP/got.bin") and $(size_of "$TS_TMP/py.bin") of $SIZE bytes downloaded over https (curl, python), one idle TLS session"
kill -TERM "$TS_DAEMON_PID"

wait "$IDLE" || ts_fail "$(cat "$TS_TMP/idle.out")"
ts_forget_pid "$IDLE"
echo "  $(cat "$TS_TMP/idle.out")"
wait "$CURL" || ts_fail "the https download failed during the drain: $(cat "$TS_TMP/curl.err")"
ts_forget_pid "$CURL"
got=$(sha256sum <"$TS_TMP/got.bin" | cut -d' ' -f1)
[[ $got == "$want" ]] || ts_fail "the download is not byte-exact ($(size_of "$TS_TMP/got.bin") bytes)"
echo "  the curl download finished byte-exact during the drain"
wait "$PYDL" || ts_fail "$(cat "$TS_TMP/py.out")"
ts_forget_pid "$PYDL"
got=$(sha256sum <"$TS_TMP/py.bin" | cut -d' ' -f1)
[[ $got == "$want" ]] || ts_fail "the python download is not byte-exact ($(size_of "$TS_TMP/py.bin") bytes)"
echo "  $(cat "$TS_TMP/py.out") (byte-exact)"

wait_for 15 eval '! ts_alive "$TS_DAEMON_PID"' || ts_fail "tunstackd did not exit after the drain"
wait "$TS_DAEMON_PID"
rc=$?
ts_forget_pid "$TS_DAEMON_PID"
((rc == 0)) || ts_fail "tunstackd exit status $rc"
sent=$(grep -oE 'stat tls.close_notify_sent [0-9]+' "$TS_DAEMON_LOG" | tail -n 1 | awk '{print $3}')
((${sent:-0} >= 3)) || ts_fail "tls.close_notify_sent = ${sent:-none} at exit, expected >= 3"
ts_pass "drain over TLS: idle session ended with close_notify, https downloads completed byte-exact (python's with close_notify), exit 0"
