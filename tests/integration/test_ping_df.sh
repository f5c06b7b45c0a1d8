#!/usr/bin/env bash
# `ping -M do -s 2000` with MTU 1500: the kernel refuses to send it (message too long) and the stack
# sees no echo request. A DF ping that fits (1472 B) goes through, proving the path works.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-ping_df
ts_daemon_start --mtu 1500

ts_stats "$TS_TMP/s0"
ts_ping -M do -s 2000 -c 2 -W 1 -w 10 "$TS_ADDR"
rc=$?
cat "$TS_TMP/ping.out"
((rc != 0)) || ts_fail "ping -M do -s 2000 exited 0; expected the kernel to refuse it"
grep -qiE 'message too long|local error' "$TS_TMP/ping.out" ||
    ts_fail "ping -M do -s 2000 failed (exit $rc) but not with 'message too long'"
[[ $(ts_ping_received) == 0 ]] || ts_fail "ping -M do -s 2000 got replies"
ts_stats "$TS_TMP/s1"
req=$(ts_delta "$TS_TMP/s0" "$TS_TMP/s1" icmp.rx_echo_request)
[[ $req == 0 ]] || ts_fail "the daemon received $req echo requests from the refused ping, expected 0"

# Control: the largest DF ping that fits in 1500 bytes is answered and counted.
ts_ping -M do -s 1472 -c 2 -W 2 -w 10 "$TS_ADDR"
rc=$?
cat "$TS_TMP/ping.out"
((rc == 0)) && [[ $(ts_ping_received) == 2 ]] || ts_fail "control ping -M do -s 1472 not answered (exit $rc)"
ts_stats "$TS_TMP/s2"
req=$(ts_delta "$TS_TMP/s1" "$TS_TMP/s2" icmp.rx_echo_request)
[[ $req == 2 ]] || ts_fail "control: icmp.rx_echo_request went up by $req, expected 2"

ts_daemon_stop TERM || ts_fail "tunstackd did not exit on SIGTERM"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited with status $TS_DAEMON_RC on SIGTERM, expected 0"
ts_pass "DF 2000 B refused by the kernel ('message too long'), 0 requests reached the stack; DF 1472 B answered"
