#!/usr/bin/env bash
# Pings of 8000 and 60000 bytes at MTU 1500: fragmented by the kernel on the way in, reassembled by the
# stack, answered, fragmented by the stack on the way out. Checks the daemon's fragment counters.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-ping_fragmented
ts_daemon_start --mtu 1500

ts_stats "$TS_TMP/before"
for size in 8000 60000; do
    ts_ping -c 3 -i 0.2 -s "$size" -W 3 -w 20 "$TS_ADDR"
    rc=$?
    cat "$TS_TMP/ping.out"
    got=$(ts_ping_received)
    ((rc == 0)) && [[ $got == 3 ]] || ts_fail "ping -s $size: ${got:-0} of 3 replies (ping exit $rc)"
done
ts_stats "$TS_TMP/after"

d() { ts_delta "$TS_TMP/before" "$TS_TMP/after" "$@"; }
rxf=$(d ip.rx_fragments)
txf=$(d ip.tx_fragments)
ok=$(d ip.reasm_ok)
req=$(d icmp.rx_echo_request)
echo "daemon: ip.rx_fragments +$rxf, ip.tx_fragments +$txf, ip.reasm_ok +$ok, icmp.rx_echo_request +$req"
# 8000 B -> 6 fragments at MTU 1500, 60000 B -> 41: at least 3*6 + 3*41 each way.
[[ $rxf != - ]] && ((rxf >= 141)) || ts_fail "ip.rx_fragments went up by $rxf, expected >= 141"
[[ $txf != - ]] && ((txf >= 141)) || ts_fail "ip.tx_fragments went up by $txf, expected >= 141"
[[ $ok != - ]] && ((ok >= 6)) || ts_fail "ip.reasm_ok went up by $ok, expected >= 6"
[[ $req == 6 ]] || ts_fail "icmp.rx_echo_request went up by $req, expected 6"
inuse=$(ts_stat "$TS_TMP/after" ip.reasm_bytes_in_use)
[[ $inuse == 0 ]] || ts_fail "ip.reasm_bytes_in_use is $inuse after complete datagrams, expected 0"

ts_daemon_stop TERM || ts_fail "tunstackd did not exit on SIGTERM"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited with status $TS_DAEMON_RC on SIGTERM, expected 0"
ts_pass "3x 8000 B and 3x 60000 B answered; $rxf fragments in, $txf out, $ok reassembled"
