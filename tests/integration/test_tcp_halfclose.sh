#!/usr/bin/env bash
# Half-close: the client sends, then FIN (shutdown(SHUT_WR)) before reading anything; the stack keeps
# sending the echo after the client's FIN, and closes only when it has sent everything (the client
# sees all bytes, then EOF). Also with `nc -N` (FIN on stdin EOF) against echo and discard.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tcp_halfclose
ts_daemon_start --serve echo:7 --serve discard:9
out=$(ts_ns_t 60 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" halfclose "$TS_ADDR" 7 262144 7)
echo "  python: $out"
[[ $out == OK* ]] || ts_fail "half-close to echo: $out"

head -c 100000 /dev/zero | tr '\0' 'x' >"$TS_TMP/in.txt"
ts_ns_t 30 nc -N "$TS_ADDR" 7 <"$TS_TMP/in.txt" >"$TS_TMP/out.txt" ||
    ts_fail "nc -N to echo exited with $? (it waits for the server's FIN after its own)"
cmp -s "$TS_TMP/in.txt" "$TS_TMP/out.txt" ||
    ts_fail "nc -N to echo: got $(stat -c %s "$TS_TMP/out.txt") bytes back, expected 100000 identical"
echo "  nc -N echo: 100000 bytes back after our FIN, then the server's FIN"

ts_ns_t 30 nc -N "$TS_ADDR" 9 <"$TS_TMP/in.txt" >"$TS_TMP/out9.txt" ||
    ts_fail "nc -N to discard exited with $? (the server did not close after our FIN?)"
[[ ! -s $TS_TMP/out9.txt ]] || ts_fail "discard sent data back"
echo "  nc -N discard: server closed after our FIN, nothing sent back"
ts_stats "$TS_TMP/stats"
wait_for 10 eval '(( $(ts_stats "$TS_TMP/stats"; ts_stat "$TS_TMP/stats" svc.echo.7.active) == 0 ))' ||
    ts_fail "echo sessions still active"
[[ $(ts_stat "$TS_TMP/stats" svc.discard.9.bytes_in) == 100000 ]] ||
    ts_fail "svc.discard.9.bytes_in is $(ts_stat "$TS_TMP/stats" svc.discard.9.bytes_in), expected 100000"
ts_pass "data flows back after the client's FIN until the server closes (python, nc -N echo/discard)"
