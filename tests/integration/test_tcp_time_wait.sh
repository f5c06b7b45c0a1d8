#!/usr/bin/env bash
# Issue 8, TIME-WAIT churn: 8,000 short HTTP/1.0 connections in a row, each closed by the server (so
# TIME-WAIT is on the stack's side), with --max-time-wait 1000: every one is served, the daemon
# keeps accepting at once (a further connection succeeds within a short deadline), the TIME-WAIT
# count stays at its cap (tcp.state.time_wait 1000, `tunstack conns` lists them) and the counters
# show the rest forgotten early or reused (tcp.time_wait_evicted + tcp.time_wait_reused), none
# holds buffers (tcp.mem_in_use 0), and the RSS stays bounded.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tcp_time_wait
WWW=$TS_TMP/www
mkdir -p "$WWW"
echo "small page" >"$WWW/index.html"
CTL=$TS_TMP/control
CAP=1000 N=8000
ts_daemon_start --serve http:80 --www "$WWW" --max-time-wait "$CAP" --control "$CTL"
rss0=$(ts_rss_kb)

cat >"$TS_TMP/churn.py" <<'PY'
import socket, sys, time
host, n, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
start, ok = time.monotonic(), 0
for i in range(n):
    if time.monotonic() - start > limit:
        break
    s = socket.create_connection((host, 80), timeout=5)
    s.sendall(b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)  # until the server's FIN
        if not chunk:
            break
        data += chunk
    s.close()
    if data.startswith(b"HTTP/1.") and data.endswith(b"small page\n"):
        ok += 1
    else:
        print("connection %d: unexpected reply %r" % (i, data[:80]))
        break
print(ok)
PY
t0=$(ts_now_ms)
ts_ns_t 150 /usr/bin/python3 "$TS_TMP/churn.py" "$TS_ADDR" "$N" 120 >"$TS_TMP/churn.out" 2>&1 ||
    ts_fail "the connection loop failed: $(tail -n 3 "$TS_TMP/churn.out")"
served=$(tail -n 1 "$TS_TMP/churn.out")
echo "  $served of $N server-closed connections served in $(($(ts_now_ms) - t0)) ms"
[[ $served == "$N" ]] || ts_fail "$served of $N connections served: $(head -n 2 "$TS_TMP/churn.out")"

# At once: one more connection (a deadline, not a measurement: it must not wait on TIME-WAIT).
body=$(ts_ns_t 10 curl -sS --fail --max-time 3 "http://$TS_ADDR/index.html") ||
    ts_fail "a further connection after the churn was not served at once"
[[ $body == "small page" ]] || ts_fail "unexpected body '$body'"

ts_stats "$TS_TMP/s"
tw=$(ts_stat "$TS_TMP/s" tcp.state.time_wait)
evicted=$(ts_stat "$TS_TMP/s" tcp.time_wait_evicted)
reused=$(ts_stat "$TS_TMP/s" tcp.time_wait_reused)
mem=$(ts_stat "$TS_TMP/s" tcp.mem_in_use)
est=$(ts_stat "$TS_TMP/s" tcp.established)
echo "  tcp.state.time_wait $tw (cap $CAP), time_wait_evicted $evicted, time_wait_reused $reused, mem_in_use $mem, established $est"
[[ $tw == "$CAP" ]] || ts_fail "tcp.state.time_wait is $tw, expected the cap $CAP"
((evicted + reused + tw >= N)) ||
    ts_fail "evicted $evicted + reused $reused + kept $tw < $N connections closed by the server"
((evicted >= 1)) || ts_fail "no TIME-WAIT record was evicted at the cap"
((mem == 0)) || ts_fail "tcp.mem_in_use $mem with only TIME-WAIT left"
timeout 10 "$TUNSTACK" conns --control "$CTL" >"$TS_TMP/conns" || ts_fail "tunstack conns failed"
listed=$(grep -c 'TIME-WAIT' "$TS_TMP/conns")
[[ $listed == "$CAP" ]] || ts_fail "tunstack conns lists $listed TIME-WAIT connections, expected $CAP"
rss=$(ts_rss_kb)
echo "  VmRSS $rss0 kB at start, $rss kB after the churn; tunstack conns lists $listed in TIME-WAIT"
((rss - rss0 < 16384)) || ts_fail "RSS grew by $((rss - rss0)) kB"
ts_pass "$N server-closed connections served, a further one at once, TIME-WAIT held at its cap $CAP ($evicted evicted, $reused reused), no buffers, RSS +$((rss - rss0)) kB"
