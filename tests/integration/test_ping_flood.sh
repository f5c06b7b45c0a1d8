#!/usr/bin/env bash
# 1000 pings, 2 ms apart, from the kernel side to the stack: no loss, and the daemon counted
# 1000 echo requests in and 1000 echo replies out.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-ping_flood
ts_daemon_start

ts_stats "$TS_TMP/before"
TS_PING_TIMEOUT=60 ts_ping -q -c 1000 -i 0.002 -W 2 -w 50 "$TS_ADDR"
rc=$?
cat "$TS_TMP/ping.out"
got=$(ts_ping_received)
((rc == 0)) && [[ $got == 1000 ]] || ts_fail "ping -c 1000: ${got:-0} of 1000 replies (ping exit $rc)"
grep -q ' 0% packet loss' "$TS_TMP/ping.out" || ts_fail "ping reports loss"

ts_stats "$TS_TMP/after"
req=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" icmp.rx_echo_request)
rep=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" icmp.tx_echo_reply)
echo "daemon: icmp.rx_echo_request +$req, icmp.tx_echo_reply +$rep"
[[ $req == 1000 ]] || ts_fail "icmp.rx_echo_request went up by $req, expected 1000"
[[ $rep == 1000 ]] || ts_fail "icmp.tx_echo_reply went up by $rep, expected 1000"

ts_daemon_stop TERM || ts_fail "tunstackd did not exit on SIGTERM"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited with status $TS_DAEMON_RC on SIGTERM, expected 0"
ts_pass "1000/1000 replies, 0% loss; daemon counted 1000 requests in and 1000 replies out"
