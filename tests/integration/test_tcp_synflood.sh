#!/usr/bin/env bash
# Issue 8, SYN flood: 2,000 spoofed SYN/s (sources in 198.18.128.0/17, sent from inside the test's
# namespace through a raw socket, tests/integration/synflood.py) for 20 s against --serve http:80
# and https:443, while curl keeps downloading over http and https: every legitimate request
# succeeds (they get in through SYN cookies once the SYN queues are full), cookies were sent
# (tcp.syncookies_sent) and used (tcp.syncookies_ok), half-open connections hold no buffers
# (tcp.mem_in_use stays at what the real connections hold), and the daemon's RSS, sampled
# throughout, stays far below what 40,000 half-open connections with 1 MiB of buffers each would
# cost (it is bounded at 64 MB).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tcp_synflood
PKI=$TS_TMP/pki
WWW=$TS_TMP/www
mkdir -p "$PKI" "$WWW"
ts_tls_ca "$PKI" ca
ts_tls_cert "$PKI" server ca "IP:$TS_ADDR"
head -c $((256 * 1024)) /dev/urandom >"$WWW/file.bin"
want=$(sha256sum <"$WWW/file.bin" | cut -d' ' -f1)
ts_daemon_start --serve http:80 --serve https:443 --www "$WWW" --cert "$PKI/server.pem" \
    --key "$PKI/server.key"
rss0=$(ts_rss_kb)

RATE=2000 SECONDS_=20
timeout 40 ip netns exec "$TS_NS" /usr/bin/python3 "$TS_ROOT/tests/integration/synflood.py" \
    "$TS_ADDR" $((RATE * SECONDS_)) "$RATE" "$SECONDS_" 80,443 >"$TS_TMP/flood.out" 2>&1 &
FLOOD=$!
TS_PIDS+=("$FLOOD")

# Legitimate downloads, alternating http and https, for as long as the flood runs (bounded).
ok=0 failed=0 rss_max=$rss0
for ((i = 0; i < 2000; i++)); do
    kill -0 "$FLOOD" 2>/dev/null || break
    if ((i % 2 == 0)); then url="http://$TS_ADDR/file.bin"; else url="https://$TS_ADDR/file.bin"; fi
    rm -f "$TS_TMP/got.bin"
    if ts_ns_t 20 curl -sS --fail --cacert "$PKI/ca.pem" -o "$TS_TMP/got.bin" "$url" 2>>"$TS_TMP/curl.err" &&
        [[ $(sha256sum <"$TS_TMP/got.bin" | cut -d' ' -f1) == "$want" ]]; then
        ok=$((ok + 1))
    else
        failed=$((failed + 1))
        echo "  request $i ($url) failed: $(tail -n 1 "$TS_TMP/curl.err")"
    fi
    rss=$(ts_rss_kb)
    ((rss > rss_max)) && rss_max=$rss
done
wait "$FLOOD" || ts_fail "the flood failed: $(cat "$TS_TMP/flood.out")"
ts_forget_pid "$FLOOD"
sent=$(cat "$TS_TMP/flood.out")
ts_stats "$TS_TMP/s"
cookies=$(ts_stat "$TS_TMP/s" tcp.syncookies_sent)
cookies_ok=$(ts_stat "$TS_TMP/s" tcp.syncookies_ok)
half_open=$(ts_stat "$TS_TMP/s" tcp.state.syn_received)
mem=$(ts_stat "$TS_TMP/s" tcp.mem_in_use)
drops=$(ts_stat "$TS_TMP/s" tcp.drop.mem_budget tcp.drop.max_connections tcp.drop.no_memory)
echo "  $sent spoofed SYNs; $ok requests served, $failed failed; tcp.syncookies_sent $cookies, syncookies_ok $cookies_ok, state.syn_received $half_open, mem_in_use $mem"
echo "  VmRSS $rss0 kB at start, at most $rss_max kB during the flood"
((failed == 0)) || ts_fail "$failed of $((ok + failed)) legitimate requests failed during the flood"
((ok >= 10)) || ts_fail "only $ok requests completed during the flood"
((sent >= RATE * SECONDS_ / 2)) || ts_fail "the flood sent only $sent SYNs"
((cookies >= sent - 2 * 1024 - ok)) || ts_fail "tcp.syncookies_sent $cookies for $sent SYNs (two SYN queues of 1024)"
((cookies_ok >= 1)) || ts_fail "no legitimate connection came in through a cookie"
((half_open <= 2 * 1024)) || ts_fail "$half_open half-open connections, beyond the two SYN queues"
((mem <= 8 * 1048576)) || ts_fail "tcp.mem_in_use $mem after the downloads ended: half-open connections hold buffers"
((rss_max < 65536)) || ts_fail "RSS reached $rss_max kB during the flood"
ts_pass "$sent spoofed SYNs in ${SECONDS_} s: all $ok http/https downloads served, $cookies cookies sent, $cookies_ok used, RSS at most $rss_max kB"
