#!/usr/bin/env bash
# 200 concurrent connections: a kernel-side asyncio client opens 200 HTTP/1.1 connections to
# tunstackd's http service at once, each GETs a 256 KiB file; every body must be byte-exact. Then 200
# parallel curl processes the same way.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tcp_concurrent
mkdir -p "$TS_TMP/www"
timeout 10 openssl enc -aes-128-ctr -K 0f0e0d0c0b0a09080706050403020100 -iv 0 -nosalt </dev/zero 2>/dev/null |
    head -c 262144 >"$TS_TMP/www/f.bin"
want=$(sha256sum <"$TS_TMP/www/f.bin" | cut -d' ' -f1)
ts_daemon_start --serve http:80 --www "$TS_TMP/www"

out=$(ts_ns_t 120 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" concurrent "$TS_ADDR" 80 200 /f.bin "$want")
echo "  asyncio: $out"
[[ $out == OK* ]] || ts_fail "asyncio: $out"

pids=()
t0=$(ts_now_ms)
for i in $(seq 1 200); do
    ts_ns_t 90 curl -sS --max-time 60 -o "$TS_TMP/c$i" "http://$TS_ADDR/f.bin" 2>"$TS_TMP/c$i.err" &
    pids+=($!)
    TS_PIDS+=($!)
done
fails=0
for p in "${pids[@]}"; do
    wait "$p" || fails=$((fails + 1))
    ts_forget_pid "$p"
done
t1=$(ts_now_ms)
((fails == 0)) || ts_fail "$fails of 200 curl runs failed, e.g.: $(cat "$TS_TMP"/c*.err | head -n 2)"
bad=0
for i in $(seq 1 200); do
    [[ $(sha256sum <"$TS_TMP/c$i" | cut -d' ' -f1) == "$want" ]] || bad=$((bad + 1))
done
((bad == 0)) || ts_fail "$bad of 200 curl downloads differ"
echo "  curl: 200 parallel downloads byte-exact in $((t1 - t0)) ms"
ts_stats "$TS_TMP/stats"
acc=$(ts_stat "$TS_TMP/stats" svc.http.80.accepted)
[[ $acc == 400 ]] || ts_fail "svc.http.80.accepted is $acc, expected 400"
ts_pass "200 concurrent connections (asyncio) and 200 parallel curl: all byte-exact; 400 accepted"
