#!/usr/bin/env bash
# Issue 5, graceful shutdown: SIGTERM arrives while `curl --limit-rate` is in the middle of a download
# and while another client holds an idle keep-alive connection (one request answered, waiting). The
# daemon stops accepting at once (a new connection is refused), lets the download finish byte-exact
# within --drain-timeout, closes the idle connection with FIN (the client reads a clean EOF, not
# ECONNRESET), reports "drained" (not the timeout), and exits 0 with the device removed. Then, with
# --drain-timeout 1, a connection that cannot finish (a client that never reads) is reset (RST) when
# the timeout passes, and the daemon still exits 0.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-ops_drain
mkdir -p "$TS_TMP/www"
SIZE=3000000
RATE=1000000
head -c "$SIZE" /dev/urandom >"$TS_TMP/www/big.bin"
echo "small" >"$TS_TMP/www/small.txt"
DRAIN=10
ts_daemon_start --serve http:80 --www "$TS_TMP/www" --drain-timeout "$DRAIN"

# The idle keep-alive client: one request, its complete response, then wait for the server's close.
cat >"$TS_TMP/idle.py" <<'PY'
import socket, sys, time
tmp = sys.argv[1]
s = socket.create_connection(("198.18.0.2", 80), timeout=5)
s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
got = b""
while not got.endswith(b"small\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
assert b"200 OK" in got and b"Connection: close" not in got, got
open(tmp + "/idle.ready", "w").close()
s.settimeout(30)
try:
    rest = s.recv(4096)
    result = "FIN" if rest == b"" else "DATA " + repr(rest)
except ConnectionResetError:
    result = "RST"
except socket.timeout:
    result = "TIMEOUT"
open(tmp + "/idle.result", "w").write(result)
PY
timeout 60 ip netns exec "$TS_NS" /usr/bin/python3 "$TS_TMP/idle.py" "$TS_TMP" &
TS_PIDS+=($!)
wait_for 10 test -e "$TS_TMP/idle.ready" || ts_fail "the idle keep-alive client got no response"

timeout 60 ip netns exec "$TS_NS" curl -sS --limit-rate "$RATE" -o "$TS_TMP/got.bin" \
    "http://$TS_ADDR/big.bin" 2>"$TS_TMP/curl.err" &
CURL=$!
TS_PIDS+=("$CURL")
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
wait_for 10 eval '(($(size_of "$TS_TMP/got.bin") > 300000))' || ts_fail "the download did not start"
echo "  SIGTERM with $(size_of "$TS_TMP/got.bin") of $SIZE bytes downloaded at $RATE B/s, one idle keep-alive connection"
t0=$(ts_now_ms)
kill -TERM "$TS_DAEMON_PID"
wait_for 5 grep -q 'draining' "$TS_DAEMON_LOG" || ts_fail "no 'draining' in the log after SIGTERM"

# Stopped accepting: a new connection is refused (RST from the closed port) while the download runs.
rc=0
ts_ns curl -sS --max-time 3 -o /dev/null "http://$TS_ADDR/small.txt" 2>"$TS_TMP/new.err" || rc=$?
[[ $rc == 7 ]] || ts_fail "a new connection during the drain: curl exit $rc ($(cat "$TS_TMP/new.err")), expected 7 (refused)"
echo "  new connection during the drain refused (curl exit 7)"
ts_alive "$CURL" || ts_fail "the download ended before its time (rate $RATE B/s)"

wait_for 5 test -e "$TS_TMP/idle.result" || ts_fail "the idle connection was not closed"
idle=$(cat "$TS_TMP/idle.result")
[[ $idle == FIN ]] || ts_fail "the idle keep-alive connection saw $idle, expected FIN (clean EOF)"
echo "  idle keep-alive connection: FIN (clean EOF) at $(($(ts_now_ms) - t0)) ms"

wait "$CURL"
crc=$?
ts_forget_pid "$CURL"
[[ $crc == 0 ]] || ts_fail "curl exit $crc: $(cat "$TS_TMP/curl.err")"
cmp -s "$TS_TMP/got.bin" "$TS_TMP/www/big.bin" || ts_fail "the download is not byte-exact ($(size_of "$TS_TMP/got.bin") bytes)"
echo "  download complete and byte-exact at $(($(ts_now_ms) - t0)) ms"

wait_for $((DRAIN + 5)) eval '! ts_alive $TS_DAEMON_PID' || ts_fail "tunstackd still running $((DRAIN + 5)) s after SIGTERM"
wait "$TS_DAEMON_PID"
drc=$?
ts_forget_pid "$TS_DAEMON_PID"
elapsed=$(($(ts_now_ms) - t0))
[[ $drc == 0 ]] || ts_fail "tunstackd exited $drc after the drain"
grep -q 'drained: every connection finished' "$TS_DAEMON_LOG" ||
    ts_fail "the daemon did not report a complete drain: $(grep -E 'drain' "$TS_DAEMON_LOG")"
grep -q 'drain timeout' "$TS_DAEMON_LOG" && ts_fail "the drain timed out"
((elapsed < DRAIN * 1000)) || ts_fail "exit $elapsed ms after SIGTERM, not within the drain timeout"
if timeout 10 ip -n "$TS_NS" link show "$TS_TUN" >/dev/null 2>&1; then
    ts_fail "device $TS_TUN still exists after exit"
fi

# ---- what cannot finish within --drain-timeout is reset ----
# A chargen client that never reads: the daemon's FIN stays queued behind a full send buffer.
ts_daemon_start --serve chargen:19 --drain-timeout 1
cat >"$TS_TMP/stuck.py" <<'PY'
import socket, sys, time
tmp = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(5)
s.connect(("198.18.0.2", 19))
time.sleep(0.3)                       # the window fills: chargen has more than it can send
open(tmp + "/stuck.ready", "w").close()
deadline = time.time() + 20
while time.time() < deadline and not __import__("os").path.exists(tmp + "/stuck.read"):
    time.sleep(0.05)
result = "TIMEOUT"
try:
    while True:
        if not s.recv(65536):
            result = "FIN"
            break
except ConnectionResetError:
    result = "RST"
except socket.timeout:
    pass
open(tmp + "/stuck.result", "w").write(result)
PY
timeout 40 ip netns exec "$TS_NS" /usr/bin/python3 "$TS_TMP/stuck.py" "$TS_TMP" &
TS_PIDS+=($!)
wait_for 10 test -e "$TS_TMP/stuck.ready" || ts_fail "the chargen client did not connect"
t1=$(ts_now_ms)
ts_daemon_stop TERM || ts_fail "tunstackd did not exit after its 1 s drain timeout"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC after the drain timeout"
grep -qE 'drain timeout: reset 1 unfinished connection' "$TS_DAEMON_LOG" ||
    ts_fail "no 'drain timeout: reset 1 unfinished connection' in the log"
touch "$TS_TMP/stuck.read"
wait_for 10 test -e "$TS_TMP/stuck.result" || ts_fail "the chargen client saw nothing"
[[ $(cat "$TS_TMP/stuck.result") == RST ]] || ts_fail "the stuck connection saw $(cat "$TS_TMP/stuck.result"), expected RST"
echo "  a connection that could not finish: reset after the 1 s drain timeout (exit after $(($(ts_now_ms) - t1)) ms)"

ts_pass "download finished byte-exact during the drain, idle keep-alive closed with FIN, new connections refused, exit 0 after $elapsed ms (< ${DRAIN} s); an unfinishable connection reset at the timeout"
