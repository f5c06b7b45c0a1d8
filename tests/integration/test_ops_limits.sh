#!/usr/bin/env bash
# Issue 5, limits: with --max-connections 50, 500 concurrent connection attempts leave exactly 50
# connections established and served (each echoes), the other SYNs dropped and counted
# (tcp.drop.max_connections), ping still answered, memory bounded, the warning logged rate-limited;
# once the 50 close, new connections are accepted again. Then --mem-budget 1M with 64K+64K buffers
# admits exactly 8 connections and drops and counts the others (tcp.drop.mem_budget). Half-open
# connections hold no buffers (issue 8), so the budget applies when the handshake completes: the
# other 12 get a SYN-ACK (their kernel reports them connected) but their ACKs are dropped and counted
# until there is room, and they are never served meanwhile.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-ops_limits
CTL=$TS_TMP/control
ts_daemon_start --serve echo:7 --max-connections 50 --control "$CTL"
rss0=$(ts_rss_kb)

cat >"$TS_TMP/flood.py" <<'PY'
import asyncio, os, sys, time
tmp, attempts = sys.argv[1], int(sys.argv[2])

async def one(i):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection("198.18.0.2", 7), timeout=3)
    except (asyncio.TimeoutError, OSError):
        return None
    return (r, w)

async def main():
    conns = [c for c in await asyncio.gather(*(one(i) for i in range(attempts))) if c]

    async def echo(i, r, w):
        msg = b"conn %d\n" % i
        try:
            w.write(msg)
            await w.drain()
            return await asyncio.wait_for(r.readexactly(len(msg)), timeout=5) == msg
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, OSError):
            return False
    served = sum(await asyncio.gather(*(echo(i, r, w) for i, (r, w) in enumerate(conns))))
    open(tmp + "/flood.out", "w").write("%d %d\n" % (len(conns), served))
    deadline = time.time() + 30
    while not os.path.exists(tmp + "/release") and time.time() < deadline:
        await asyncio.sleep(0.05)
    for r, w in conns:
        w.close()
    open(tmp + "/released", "w").close()

asyncio.run(main())
PY
t0=$(ts_now_ms)
timeout 60 ip netns exec "$TS_NS" /usr/bin/python3 "$TS_TMP/flood.py" "$TS_TMP" 500 &
TS_PIDS+=($!)
wait_for 30 test -s "$TS_TMP/flood.out" || ts_fail "the 500 connection attempts did not finish within 30 s"
read -r connected served <"$TS_TMP/flood.out"
echo "  500 attempts in $(($(ts_now_ms) - t0)) ms: $connected connected, $served echoed"
[[ $connected == 50 && $served == 50 ]] || ts_fail "$connected connected and $served served, expected 50 and 50"

timeout 10 "$TUNSTACK" stats --control "$CTL" >"$TS_TMP/stats" || ts_fail "tunstack stats failed"
est=$(awk '/^tcp$/ {g=1; next} /^[^ ]/ {g=0} g && $1 == "state.established" {print $3}' "$TS_TMP/stats")
drops=$(awk '/^tcp$/ {g=1; next} /^[^ ]/ {g=0} g && $1 == "drop.max_connections" {print $2}' "$TS_TMP/stats")
echo "  tcp state.established $est, drop.max_connections $drops"
[[ $est == 50 ]] || ts_fail "tcp.state.established is $est, expected 50"
((drops >= 450)) || ts_fail "tcp.drop.max_connections is $drops, expected at least 450 (one per refused SYN)"

ts_ping -c 5 -i 0.05 -W 2 -w 10 "$TS_ADDR" || ts_fail "ping while at the limit: $(tail -n 2 "$TS_TMP/ping.out")"
[[ $(ts_ping_received) == 5 ]] || ts_fail "ping while at the limit: $(ts_ping_received)/5"
rss=$(ts_rss_kb)
echo "  VmRSS $rss0 kB at start, $rss kB with 50 connections"
((rss - rss0 < 50 * 1100 + 20000)) || ts_fail "RSS grew by $((rss - rss0)) kB: more than 50 connections' buffers"
warns=$(grep -c 'dropping new connections at the limit' "$TS_DAEMON_LOG")
((warns >= 1 && warns <= 10)) || ts_fail "$warns limit warnings in the log, expected 1..10 (rate-limited)"
echo "  limit warning logged $warns time(s) for $drops dropped SYNs"

touch "$TS_TMP/release"
wait_for 10 test -e "$TS_TMP/released" || ts_fail "the client did not close its connections"
wait_for 10 eval 'timeout 5 "$TUNSTACK" stats --control "$CTL" --prometheus | grep -qx "tunstack_tcp_connections{state=\"established\"} 0"' ||
    ts_fail "the 50 connections did not go away"
reply=$(ts_ns_t 10 /usr/bin/python3 -c '
import socket
s = socket.create_connection(("198.18.0.2", 7), timeout=3); s.sendall(b"again\n"); print(s.recv(100).decode().strip())')
[[ $reply == again ]] || ts_fail "a new connection after the 50 closed was not served ($reply)"

ts_daemon_stop TERM || ts_fail "tunstackd did not stop"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC"

# ---- the memory budget: 64K + 64K per connection, 1M in all → 8 connections ----
ts_daemon_start --serve echo:7 --sndbuf 64K --rcvbuf 64K --mem-budget 1M --control "$CTL"
rm -f "$TS_TMP/flood.out" "$TS_TMP/release" "$TS_TMP/released"
timeout 60 ip netns exec "$TS_NS" /usr/bin/python3 "$TS_TMP/flood.py" "$TS_TMP" 20 &
TS_PIDS+=($!)
wait_for 30 test -s "$TS_TMP/flood.out" || ts_fail "the 20 connection attempts did not finish"
read -r connected2 served2 <"$TS_TMP/flood.out"
timeout 10 "$TUNSTACK" stats --control "$CTL" --prometheus >"$TS_TMP/budget.prom" || ts_fail "tunstack stats failed"
mem=$(ts_prom "$TS_TMP/budget.prom" tunstack_tcp_mem_in_use_bytes)
bdrops=$(ts_prom "$TS_TMP/budget.prom" 'tunstack_tcp_drop_total{reason="mem_budget"}')
echo "  --mem-budget 1M with 64K+64K buffers: $connected2 of 20 connected, $served2 echoed, tcp.mem_in_use $mem, $bdrops SYNs dropped"
((connected2 >= 8 && served2 == 8)) || ts_fail "$connected2 connected, $served2 served under the budget, expected 8 served (of at least 8 connected)"
((mem == 8 * 131072)) || ts_fail "tcp.mem_in_use is $mem, expected $((8 * 131072))"
((bdrops >= 12)) || ts_fail "tcp.drop.mem_budget is $bdrops, expected at least 12 (SYNs or handshake ACKs)"
touch "$TS_TMP/release"
wait_for 10 test -e "$TS_TMP/released" || ts_fail "the client did not close its connections"
ts_daemon_stop TERM || ts_fail "tunstackd did not stop"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC"
ts_pass "500 attempts: 50 established and served, $drops SYNs dropped and counted, ping answered, RSS +$((rss - rss0)) kB; new connections accepted after they closed; --mem-budget admitted 8 of 20"
