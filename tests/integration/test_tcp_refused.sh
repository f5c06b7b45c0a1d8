#!/usr/bin/env bash
# A SYN to a port nobody listens on is answered with RST (RFC 9293 §3.10.7.1): the kernel's connect()
# fails with ECONNREFUSED, and the daemon's counters show, per attempt, exactly one segment in (the
# SYN: no retransmitted SYN ever arrived) and one RST out. The time each refusal took is printed,
# never judged.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tcp_refused
ts_daemon_start --serve echo:7
ports=(8 80 65535)
ts_stats "$TS_TMP/before"
for port in "${ports[@]}"; do
    out=$(ts_ns_t 20 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" refused "$TS_ADDR" "$port")
    echo "  port $port: $out"
    [[ $out == OK\ ECONNREFUSED* ]] || ts_fail "port $port: $out"
done
ts_stats "$TS_TMP/after"
n=${#ports[@]}
d_rx=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tcp.rx_segments)
d_rst=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tcp.tx_resets)
d_tx=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tcp.tx_segments)
d_nl=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tcp.drop.no_listener)
[[ $d_rx == "$n" && $d_rst == "$n" && $d_tx == "$n" && $d_nl == "$n" ]] ||
    ts_fail "$n refused connects: tcp.rx_segments +$d_rx, tcp.tx_resets +$d_rst, tcp.tx_segments +$d_tx, tcp.drop.no_listener +$d_nl; expected +$n each (one SYN in, one RST out per attempt)"
echo "  $n attempts: tcp.rx_segments +$d_rx (no SYN retransmitted), tcp.tx_resets +$d_rst, tcp.drop.no_listener +$d_nl"
# The listening port still works.
out=$(ts_ns_t 30 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" echo "$TS_ADDR" 7 1000 1)
[[ $out == OK* ]] || ts_fail "echo:7 after the refusals: $out"
ts_stats "$TS_TMP/stats"
echo "  counters: $(grep -E '^tcp\.(tx_resets|rx_segments|tx_segments) ' "$TS_TMP/stats" | tr '\n' ' ')"
ts_pass "3 closed ports refused with ECONNREFUSED, one SYN in and one RST out each; the open one still echoes"
