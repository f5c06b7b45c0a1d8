#!/usr/bin/env bash
# tunstackd --serve iperf3:5201 against the stock iperf3 client (Debian's iperf3, `-J` output parsed
# with /usr/bin/python3): forward (-t 3), reverse (-R) and 4 parallel streams both ways (-P 4). Each
# run must report no error, the right number of streams with bytes > 0 on both ends, the sender
# and receiver byte counts agreeing within reason (what was in flight at TEST_END), and the
# daemon's svc.iperf3.5201.* counters must count the tests and streams. Speed is never judged.
# Then refusals, each counted by reason and leaving the service usable: UDP (-u), a byte-limited
# test (-n), a second client while a test runs (ACCESS_DENIED), a malformed cookie, garbage
# instead of the parameters (a huge length, bad JSON), a control connection that goes silent
# (closed by the 10 s setup timeout); then a forward test still works; SIGTERM during a test ends it
# with SERVER_TERMINATE (stock iperf3: "the server has terminated") and the daemon exits 0.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

command -v iperf3 >/dev/null || { echo "FAIL: $TS_TEST: iperf3 not installed (tools/setup)"; exit 1; }
ts_ns_create tst-iperf3_server
PY=/usr/bin/python3
ts_daemon_start --serve iperf3:5201

# run_iperf3 NAME ARGS... — stock client against the stack, -J output in $TS_TMP/NAME.json
run_iperf3() {
    local name=$1
    shift
    ts_ns_t 40 iperf3 -c "$TS_ADDR" -p 5201 -J "$@" >"$TS_TMP/$name.json" 2>"$TS_TMP/$name.err"
}

# check NAME STREAMS — parse iperf3's -J: no error, STREAMS streams, bytes > 0 both ways, agreement
check() {
    "$PY" - "$TS_TMP/$1.json" "$2" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
if "error" in j:
    sys.exit("iperf3 reported an error: " + j["error"])
end = j["end"]
streams = end["streams"]
if len(streams) != want:
    sys.exit(f"{len(streams)} streams in the report, expected {want}")
if j["start"]["test_start"]["num_streams"] != want:
    sys.exit("test_start.num_streams is not %d" % want)
for s in streams:
    snd, rcv = s["sender"]["bytes"], s["receiver"]["bytes"]
    if snd <= 0 or rcv <= 0:
        sys.exit(f"a stream moved no bytes: sent {snd}, received {rcv}")
sent, recv = end["sum_sent"]["bytes"], end["sum_received"]["bytes"]
# The receiver stops counting at TEST_END while the sender's last writes may still be in flight
# (socket buffers on both sides): at most a few MB per stream, never more than was sent + 1%.
if recv > sent * 1.01 or sent - recv > want * 8 * 1024 * 1024 + sent * 0.25:
    sys.exit(f"sender and receiver disagree: sent {sent}, received {recv}")
if end["sum_received"]["seconds"] <= 0 or end["sum_sent"]["seconds"] <= 0:
    sys.exit("zero-length test")
print(f"{sent} bytes sent, {recv} received, "
      f"{end['sum_received']['bits_per_second'] / 1e9:.2f} Gbit/s")
EOF
}

n=0
for spec in "forward:1:" "reverse:1:-R" "parallel:4:-P 4" "parallel_reverse:4:-P 4 -R"; do
    IFS=: read -r name streams args <<<"$spec"
    # shellcheck disable=SC2086
    run_iperf3 "$name" -t 3 $args || ts_fail "$name: iperf3 exited non-zero: $(head -c 300 "$TS_TMP/$name.json") $(cat "$TS_TMP/$name.err")"
    out=$(check "$name" "$streams") || ts_fail "$name: $out"
    ts_log "$name: $out"
    n=$((n + 1))
done

ts_stats "$TS_TMP/s1"
[[ $(ts_stat "$TS_TMP/s1" svc.iperf3.5201.tests) == 4 ]] || ts_fail "svc.iperf3.5201.tests is $(ts_stat "$TS_TMP/s1" svc.iperf3.5201.tests), expected 4"
[[ $(ts_stat "$TS_TMP/s1" svc.iperf3.5201.tests_done) == 4 ]] || ts_fail "tests_done is $(ts_stat "$TS_TMP/s1" svc.iperf3.5201.tests_done), expected 4"
[[ $(ts_stat "$TS_TMP/s1" svc.iperf3.5201.streams) == 10 ]] || ts_fail "streams is $(ts_stat "$TS_TMP/s1" svc.iperf3.5201.streams), expected 10"
[[ $(ts_stat "$TS_TMP/s1" svc.iperf3.5201.tests_aborted) == 0 ]] || ts_fail "tests_aborted is not 0"

# ---- refusals ----
expect_refused() { # expect_refused NAME PATTERN ARGS... — iperf3 fails, naming PATTERN
    local name=$1 pattern=$2
    shift 2
    if ts_ns_t 20 iperf3 -c "$TS_ADDR" -p 5201 "$@" >"$TS_TMP/$name.out" 2>&1; then
        ts_fail "$name: iperf3 succeeded"
    fi
    grep -q "$pattern" "$TS_TMP/$name.out" || ts_fail "$name: expected '$pattern' in: $(cat "$TS_TMP/$name.out")"
}
expect_refused udp "protocol does not exist" -u -t 1
expect_refused bytes "not implemented" -n 1M

# A second client while a test runs is told the server is busy.
timeout 30 ip netns exec "$TS_NS" iperf3 -c "$TS_ADDR" -p 5201 -t 4 -J >"$TS_TMP/long.json" 2>&1 &
long_pid=$!
TS_PIDS+=($long_pid)
test_running() { ts_stats "$TS_TMP/sr" && [[ $(ts_stat "$TS_TMP/sr" svc.iperf3.5201.tests) == 5 ]]; }
wait_for 15 test_running || ts_fail "the long test did not start"
expect_refused busy "busy" -t 1
wait "$long_pid" || ts_fail "the long test failed while another client was refused: $(head -c 300 "$TS_TMP/long.json")"
out=$(check long 1) || ts_fail "long: $out"

# Raw protocol abuse on the control connection (python: exact bytes, reads the one-byte answers).
ts_ns_t 60 "$PY" - "$TS_ADDR" >"$TS_TMP/raw.out" 2>&1 <<'EOF' || ts_fail "raw protocol checks: $(cat "$TS_TMP/raw.out")"
import socket, sys, struct
addr = sys.argv[1]
def conn():
    s = socket.create_connection((addr, 5201), timeout=15)
    return s
def read_all(s):
    data = b""
    while True:
        try:
            d = s.recv(4096)
        except ConnectionResetError:
            return data
        if not d:
            return data
        data += d
cookie = b"abcdefghijklmnopqrstuvwxyz234567abcd\0"
# 1. a malformed cookie (a control character): closed without an answer
s = conn(); s.sendall(b"\x01" * 37); got = read_all(s); s.close()
assert got == b"", f"bad cookie answered {got!r}"
# 2. a length of 0x7fffffff instead of the parameters: SERVER_ERROR, closed
s = conn(); s.sendall(cookie); assert s.recv(1) == b"\x09"
s.sendall(struct.pack(">I", 0x7fffffff)); got = read_all(s); s.close()
assert got[:1] == b"\xfe" and len(got) == 9, f"huge length answered {got!r}"
# 3. bad JSON: SERVER_ERROR with iperf3's IERECVPARAMS (114)
s = conn(); s.sendall(cookie); assert s.recv(1) == b"\x09"
body = b'{"tcp":true,"time":1,'
s.sendall(struct.pack(">I", len(body)) + body); got = read_all(s); s.close()
assert got[:1] == b"\xfe" and struct.unpack(">i", got[1:5])[0] == 114, f"bad JSON answered {got!r}"
# 4. too many streams and too long: refused with IENUMSTREAMS (6) / IEDURATION (5)
for params, code in ((b'{"tcp":true,"time":1,"parallel":129}', 6), (b'{"tcp":true,"time":100000}', 5)):
    s = conn(); s.sendall(cookie); assert s.recv(1) == b"\x09"
    s.sendall(struct.pack(">I", len(params)) + params); got = read_all(s); s.close()
    assert got[:1] == b"\xfe" and struct.unpack(">i", got[1:5])[0] == code, f"{params!r} answered {got!r}"
print("ok")
EOF

# A connection that sends nothing is closed by the 10 s setup timeout (counted).
ts_ns_t 60 "$PY" - "$TS_ADDR" >"$TS_TMP/silent.out" 2>&1 <<'EOF' || ts_fail "silent connection: $(cat "$TS_TMP/silent.out")"
import socket, sys, time
s = socket.create_connection((sys.argv[1], 5201), timeout=30)
t = time.monotonic()
d = s.recv(1)
assert d == b"", f"got {d!r}"
assert time.monotonic() - t < 25, "not closed in time"
print("closed after %.1f s" % (time.monotonic() - t))
EOF

ts_stats "$TS_TMP/s2"
for c in "bad_cookie 1" "bad_params 2" "refused_params 4" "busy 1" "timeouts 1"; do
    read -r name want <<<"$c"
    got=$(ts_stat "$TS_TMP/s2" "svc.iperf3.5201.$name")
    [[ $got == "$want" ]] || ts_fail "svc.iperf3.5201.$name is $got, expected $want"
done

# The service still works.
run_iperf3 after -t 1 || ts_fail "after the refusals: iperf3 failed: $(head -c 300 "$TS_TMP/after.json")"
out=$(check after 1) || ts_fail "after: $out"
# SIGTERM during a test: the client is told the server terminated; the daemon drains and exits 0.
timeout 30 ip netns exec "$TS_NS" iperf3 -c "$TS_ADDR" -p 5201 -t 20 --forceflush >"$TS_TMP/term.out" 2>&1 &
term_pid=$!
TS_PIDS+=($term_pid)
# Running means the client has printed its first interval (--forceflush: line by line; under load
# it may end at 1.02 s rather than 1.00),
# not only that the server counted the test: a SIGTERM before TEST_START raced with the setup.
sixth_running() {
    grep -qE ' 0\.00-1\.[0-9]+ +sec' "$TS_TMP/term.out" && ts_stats "$TS_TMP/st" &&
        [[ $(ts_stat "$TS_TMP/st" svc.iperf3.5201.tests) == 7 ]]
}
wait_for 20 sixth_running || ts_fail "the test to be terminated did not start: $(cat "$TS_TMP/term.out")"
ts_daemon_stop TERM || ts_fail "tunstackd did not stop on SIGTERM during a test"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited with $TS_DAEMON_RC after SIGTERM during a test"
rc=0
wait "$term_pid" || rc=$?
((rc != 0)) && grep -q "server has terminated" "$TS_TMP/term.out" ||
    ts_fail "the client did not see the server terminate (exit $rc): $(cat "$TS_TMP/term.out")"
grep -q "svc.iperf3.5201.tests_aborted 1" "$TS_DAEMON_LOG" || ts_fail "the terminated test was not counted as aborted"
ts_pass "stock iperf3 -c: forward, -R, -P 4, -P 4 -R reported (bytes > 0, streams, ends agree); UDP, -n, busy, bad cookie, bad/huge/over-limit parameters and a silent connection refused and counted; SIGTERM mid-test: SERVER_TERMINATE, exit 0"
