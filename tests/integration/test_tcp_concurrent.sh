#!/usr/bin/env bash
# 200 concurrent connections: a kernel-side asyncio client opens 200 HTTP/1.1 connections to
# tunstackd's http service at once, each GETs a 256 KiB file; every body must be byte-exact. Then 200
# parallel curl processes the same way. Then 200 idle connections held open at once: the daemon's
# resident memory may grow by far less than their buffers' capacity (2 x 512 KiB each), since buffer
# pages are only touched when data reaches them.
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

# 200 idle connections: a kernel-side python holds them open until its stdin closes (or 60 s pass).
rss0=$(ts_rss_kb)
hold_py='
import socket, sys, select
conns = [socket.create_connection((sys.argv[1], 80), timeout=10) for _ in range(200)]
print("held", len(conns), flush=True)
select.select([sys.stdin], [], [], 60)
'
mkfifo "$TS_TMP/hold.in"
ts_ns_t 90 /usr/bin/python3 -c "$hold_py" "$TS_ADDR" <"$TS_TMP/hold.in" >"$TS_TMP/hold.out" 2>&1 &
hold_pid=$!
TS_PIDS+=("$hold_pid")
exec {hold_in}>"$TS_TMP/hold.in"
wait_for 30 grep -q '^held 200' "$TS_TMP/hold.out" || ts_fail "could not hold 200 connections: $(cat "$TS_TMP/hold.out")"
held_all() { ts_stats "$TS_TMP/held" && [[ $(ts_stat "$TS_TMP/held" svc.http.80.active) == 200 ]]; }
wait_for 20 held_all || ts_fail "the daemon does not show 200 active http connections"
rss1=$(ts_rss_kb)
exec {hold_in}>&-
wait "$hold_pid"
ts_forget_pid "$hold_pid"
grown=$((rss1 - rss0))
echo "  200 idle connections: daemon RSS ${rss0} kB -> ${rss1} kB (+${grown} kB; buffer capacity 200 MiB)"
((grown < 32768)) || ts_fail "200 idle connections grew the daemon's RSS by ${grown} kB (limit 32768)"
ts_pass "200 concurrent connections (asyncio) and 200 parallel curl: all byte-exact; 400 accepted; 200 idle connections cost ${grown} kB resident"
