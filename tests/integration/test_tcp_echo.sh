#!/usr/bin/env bash
# echo (RFC 862): 100 MB of seeded bytes round-trip through tunstackd's echo:7 byte-exact (sha256 of
# what was sent and of what came back), written and read concurrently by a kernel-side client.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tcp_echo
ts_daemon_start --serve echo:7
out=$(ts_ns_t 120 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" echo "$TS_ADDR" 7 100000000 42)
echo "  $out"
[[ $out == OK* ]] || ts_fail "echo round trip: $out"
ts_stats "$TS_TMP/stats"
wait_for 10 eval '(( $(ts_stats "$TS_TMP/stats"; ts_stat "$TS_TMP/stats" svc.echo.7.active) == 0 ))' ||
    ts_fail "the echo session did not end after the client's FIN"
in=$(ts_stat "$TS_TMP/stats" svc.echo.7.bytes_in)
[[ $in == 100000000 ]] || ts_fail "svc.echo.7.bytes_in is $in, expected 100000000"
ts_pass "100 MB echoed byte-exact; svc.echo.7 counted 100000000 bytes in and out, session closed"
