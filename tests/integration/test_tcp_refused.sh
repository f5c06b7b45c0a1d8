#!/usr/bin/env bash
# A SYN to a port nobody listens on is answered with RST (RFC 9293 §3.10.7.1): the kernel's connect()
# fails with ECONNREFUSED at once — not after SYN retransmissions (the first would be at 1 s).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tcp_refused
ts_daemon_start --serve echo:7
for port in 8 80 65535; do
    out=$(ts_ns_t 20 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" refused "$TS_ADDR" "$port")
    echo "  port $port: $out"
    [[ $out == OK* ]] || ts_fail "port $port: $out"
    ms=$(awk '{print int($4)}' <<<"$out")
    ((ms < 500)) || ts_fail "port $port: refused only after $ms ms (a retransmitted SYN?)"
done
# The listening port still works.
out=$(ts_ns_t 30 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" echo "$TS_ADDR" 7 1000 1)
[[ $out == OK* ]] || ts_fail "echo:7 after the refusals: $out"
ts_stats "$TS_TMP/stats"
echo "  counters: $(grep -E '^tcp\.(tx_resets|rx_segments|tx_segments) ' "$TS_TMP/stats" | tr '\n' ' ')"
ts_pass "3 closed ports refused at once (ECONNREFUSED); the open one still echoes"
