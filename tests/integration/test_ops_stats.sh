#!/usr/bin/env bash
# Issue 5, counters and the socket table through the control socket: N pings give exactly N echo
# requests in and N replies out in `tunstack stats` (table and Prometheus, the latter checked with the
# prometheus_client parser, and the same over --metrics HTTP); `tunstack conns` lists a connection
# the test holds open, with its 4-tuple and state; the control socket is 0600; unknown command,
# missing socket, permission denied and a silent peer give one-line errors and documented exit codes;
# --metrics serves the same exposition on / as on /metrics and 404 elsewhere;
# --log-level debug logs dropped packets, rate-limited per reason.
# Issue 11: `stats --json` (parsed by python's json, same values); `conns` lists the listeners (LISTEN
# rows for echo:7 and http:80), filters by --state/--port, and `conns --json`; the exposition has a
# HELP text for every family that is not just its name, tunstack_build_info{version}, the byte gauges
# named *_bytes, HTTP status classes as tunstack_svc_responses_total{code}, and no
# tunstack_tcp_retransmits (the sum of tunstack_tcp_retransmit_total{cause}); --access-log writes one
# Common Log Format line per HTTP response.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-ops_stats
CTL=$TS_TMP/control
mkdir -p "$TS_TMP/www" && echo hello >"$TS_TMP/www/index.html"
ts_daemon_start --control "$CTL" --metrics 127.0.0.1:9100 --serve echo:7 --serve http:80 \
    --www "$TS_TMP/www" --access-log "$TS_TMP/access.log" --log-level debug
[[ -x $TUNSTACK ]] || ts_fail "tunstack not built: $TUNSTACK"
PY=/usr/bin/python3
"$PY" -c 'import prometheus_client' 2>/dev/null || ts_fail "python3-prometheus-client missing (tools/setup installs it)"

[[ $(stat -c '%a %U %F' "$CTL") == "600 root socket" ]] ||
    ts_fail "control socket: $(stat -c '%a %U %F' "$CTL"), expected '600 root socket'"

tstats() { timeout 10 "$TUNSTACK" stats --control "$CTL" "$@"; }

# ---- counters follow what we sent ----
tstats --prometheus >"$TS_TMP/before.prom" || ts_fail "tunstack stats --prometheus failed"
N=25
ts_ping -q -c "$N" -i 0.01 -W 2 -w 20 "$TS_ADDR" || ts_fail "ping: $(tail -n 2 "$TS_TMP/ping.out")"
[[ $(ts_ping_received) == "$N" ]] || ts_fail "ping: $(ts_ping_received) of $N replies"
tstats --prometheus >"$TS_TMP/after.prom" || ts_fail "tunstack stats --prometheus failed"
tstats >"$TS_TMP/after.table" || ts_fail "tunstack stats failed"
delta() { echo $(($(ts_prom "$TS_TMP/after.prom" "$1") - $(ts_prom "$TS_TMP/before.prom" "$1"))); }
for m in tunstack_icmp_rx_echo_request_total tunstack_icmp_tx_echo_reply_total \
    tunstack_icmp_rx_messages_total tunstack_icmp_tx_messages_total; do
    d=$(delta "$m")
    [[ $d == "$N" ]] || ts_fail "$m went up by $d, expected $N"
done
echo "  $N pings: icmp rx_echo_request/tx_echo_reply/rx_messages/tx_messages each +$N"
# The table shows the same value, in the icmp group, aligned.
req=$(ts_prom "$TS_TMP/after.prom" tunstack_icmp_rx_echo_request_total)
awk '/^icmp$/ {g=1; next} /^[^ ]/ {g=0} g' "$TS_TMP/after.table" | grep -qE "^  rx_echo_request +$req\$" ||
    ts_fail "table has no 'rx_echo_request $req' under icmp: $(head -c 600 "$TS_TMP/after.table")"

# ---- stats --json: one object, the same values ----
tstats --json >"$TS_TMP/after.json" || ts_fail "tunstack stats --json failed"
"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, dict) and len(d) > 50, len(d)
assert all(isinstance(v, int) for v in d.values())
assert d["icmp.rx_echo_request"] == int(sys.argv[2]), (d["icmp.rx_echo_request"], sys.argv[2])
assert "svc.echo.7.accepted" in d and "tcp.state.established" in d
' "$TS_TMP/after.json" "$req" || ts_fail "stats --json: not the counters as one JSON object (above)"
echo "  stats --json: $(grep -c : "$TS_TMP/after.json") counters, icmp.rx_echo_request $req as in the table"
rc=0
tstats --json --prometheus >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] || ts_fail "stats --json --prometheus: exit $rc, expected 2"

# ---- HTTP status classes as a code label ----
tstats --prometheus >"$TS_TMP/http.before"
code=$(ts_ns curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://$TS_ADDR/)
[[ $code == 200 ]] || ts_fail "GET / answered $code"
code=$(ts_ns curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://$TS_ADDR/missing)
[[ $code == 404 ]] || ts_fail "GET /missing answered $code"
tstats --prometheus >"$TS_TMP/http.after"
for c in 2xx 4xx; do
    m="tunstack_svc_responses_total{service=\"http\",port=\"80\",code=\"$c\"}"
    d=$(($(ts_prom "$TS_TMP/http.after" "$m") - $(ts_prom "$TS_TMP/http.before" "$m")))
    [[ $d == 1 ]] || ts_fail "$m went up by $d, expected 1"
done
# --access-log: one Common Log Format line per response, in order.
wait_for 5 eval '(($(wc -l <"$TS_TMP/access.log") >= 2))' || ts_fail "access log: $(cat "$TS_TMP/access.log")"
CLF='^198\.18\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\] "GET '
[[ $(wc -l <"$TS_TMP/access.log") == 2 ]] &&
    sed -n 1p "$TS_TMP/access.log" | grep -qE "$CLF/ HTTP/1\.1\" 200 6\$" &&
    sed -n 2p "$TS_TMP/access.log" | grep -qE "$CLF/missing HTTP/1\.1\" 404 [0-9]+\$" ||
    ts_fail "access log is not the two responses in Common Log Format: $(cat "$TS_TMP/access.log")"
echo "  access log: $(tail -n 1 "$TS_TMP/access.log")"
echo "  one 200 and one 404: tunstack_svc_responses_total{code=\"2xx\"} and {code=\"4xx\"} each +1"

# ---- a connection we hold open appears in `tunstack conns` ----
cat >"$TS_TMP/hold.py" <<'PY'
import os, socket, sys, time
tmp = sys.argv[1]
s = socket.create_connection(("198.18.0.2", 7), timeout=5)
s.sendall(b"hello\n")
assert s.recv(100) == b"hello\n"
open(tmp + "/held", "w").write(str(s.getsockname()[1]))
deadline = time.time() + 30
while not os.path.exists(tmp + "/release") and time.time() < deadline:
    time.sleep(0.05)
s.close()
PY
timeout 40 ip netns exec "$TS_NS" "$PY" "$TS_TMP/hold.py" "$TS_TMP" &
TS_PIDS+=($!)
wait_for 10 test -s "$TS_TMP/held" || ts_fail "the test's TCP client did not connect to echo:7"
port=$(cat "$TS_TMP/held")
timeout 10 "$TUNSTACK" conns --control "$CTL" >"$TS_TMP/conns" || ts_fail "tunstack conns failed"
cat "$TS_TMP/conns"
head -n 1 "$TS_TMP/conns" | grep -qE '^State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port' ||
    ts_fail "tunstack conns: no ss-like header"
grep -qE "^ESTAB +0 +0 +$TS_ADDR:7 +$TS_PEER:$port\$" "$TS_TMP/conns" ||
    ts_fail "tunstack conns does not list ESTAB $TS_ADDR:7 <-> $TS_PEER:$port"
grep -A1 -E "$TS_PEER:$port\$" "$TS_TMP/conns" | tail -n 1 |
    grep -qE $'^\t.*rto:[0-9.]+ rtt:[0-9.]+/[0-9.]+ mss:[0-9]+ cwnd:[0-9]+ .*retrans:0' ||
    ts_fail "tunstack conns: no detail line (rto, rtt, mss, cwnd, retrans) for the connection"
# The listeners, as `ss -tl` shows them; filters; JSON.
for p in 7 80; do
    grep -qE "^LISTEN +0 +0 +$TS_ADDR:$p +0\.0\.0\.0:\*\$" "$TS_TMP/conns" ||
        ts_fail "tunstack conns does not list LISTEN $TS_ADDR:$p"
done
timeout 10 "$TUNSTACK" conns --control "$CTL" --state estab --port "$port" >"$TS_TMP/conns.f" ||
    ts_fail "conns --state estab --port $port failed"
[[ $(grep -cvE $'^(State|\t)' "$TS_TMP/conns.f") == 1 ]] && grep -qE "^ESTAB .*$TS_PEER:$port\$" "$TS_TMP/conns.f" ||
    ts_fail "conns --state estab --port $port: $(cat "$TS_TMP/conns.f")"
timeout 10 "$TUNSTACK" conns --control "$CTL" --state listening >"$TS_TMP/conns.l" || ts_fail "conns --state listening failed"
[[ $(grep -c '^LISTEN ' "$TS_TMP/conns.l") == 2 && $(grep -cvE '^(State|LISTEN )' "$TS_TMP/conns.l") == 0 ]] ||
    ts_fail "conns --state listening: $(cat "$TS_TMP/conns.l")"
timeout 10 "$TUNSTACK" conns --control "$CTL" --json >"$TS_TMP/conns.json" || ts_fail "conns --json failed"
"$PY" -c '
import json, sys
c = json.load(open(sys.argv[1]))
mine = [x for x in c if x["remote"] == "198.18.0.1:" + sys.argv[2]]
assert len(mine) == 1 and mine[0]["state"] == "ESTABLISHED" and mine[0]["local"] == "198.18.0.2:7", mine
assert isinstance(mine[0]["cwnd"], int) and mine[0]["mss"] > 0
assert sorted(x["local"] for x in c if x["state"] == "LISTEN") == ["198.18.0.2:7", "198.18.0.2:80"]
' "$TS_TMP/conns.json" "$port" || ts_fail "conns --json (above)"
rc=0
timeout 10 "$TUNSTACK" conns --control "$CTL" --state open >/dev/null 2>"$TS_TMP/err" || rc=$?
[[ $rc == 2 ]] && grep -q "unknown state 'open'" "$TS_TMP/err" || ts_fail "conns --state open: exit $rc: $(cat "$TS_TMP/err")"
echo "  conns: LISTEN rows for :7 and :80; --state estab --port $port, --state listening and --json select as asked"
tstats --prometheus >"$TS_TMP/held.prom"
est=$(ts_prom "$TS_TMP/held.prom" 'tunstack_tcp_connections{state="established"}')
[[ $est == 1 ]] || ts_fail "tunstack_tcp_connections{state=\"established\"} is $est, expected 1"
touch "$TS_TMP/release"

# ---- the exposition parses with prometheus_client, and --metrics serves the same families ----
ts_ns curl -sS --max-time 5 http://127.0.0.1:9100/metrics -o "$TS_TMP/http.prom" -D "$TS_TMP/http.hdr" ||
    ts_fail "curl --metrics endpoint failed"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$TS_TMP/http.hdr" || ts_fail "--metrics: wrong Content-Type"
code=$(ts_ns curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:9100/nothing)
[[ $code == 404 ]] || ts_fail "--metrics /nothing answered $code, expected 404"
# README: / serves the same exposition as /metrics.
code=$(ts_ns curl -s --max-time 5 -o "$TS_TMP/root.prom" -w '%{http_code}' http://127.0.0.1:9100/)
[[ $code == 200 ]] || ts_fail "--metrics / answered $code, expected 200"
timeout 20 "$PY" - "$TS_TMP/after.prom" "$TS_TMP/http.prom" "$TS_TMP/root.prom" <<'PY' || ts_fail "Prometheus exposition rejected (above)"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = []
for path in sys.argv[1:]:
    parsed = list(text_string_to_metric_families(open(path).read()))
    f = {m.name: m.type for m in parsed}
    assert f["tunstack_icmp_rx_echo_request"] == "counter", f.get("tunstack_icmp_rx_echo_request")
    assert f["tunstack_ip_drop"] == "counter"
    assert f["tunstack_tcp_connections"] == "gauge"
    assert f["tunstack_ip_reasm_in_use_bytes"] == "gauge"
    assert f["tunstack_tcp_mem_in_use_bytes"] == "gauge"
    assert f["tunstack_svc_active"] == "gauge"
    assert f["tunstack_svc_responses"] == "counter"
    assert f["tunstack_svc_received_bytes"] == "counter"
    assert "tunstack_tcp_retransmits" not in f, "the sum of tunstack_tcp_retransmit_total is exported"
    assert f["tunstack_tcp_retransmit"] == "counter"
    info = [m for m in parsed if m.name == "tunstack_build_info"]
    assert info and info[0].type == "gauge" and info[0].samples[0].value == 1, info
    assert info[0].samples[0].labels["version"], info[0].samples
    for m in parsed:  # every family explained, not just named
        doc = m.documentation
        assert doc and len(doc) > 15 and m.name not in doc and "(a counter since start)" not in doc, (m.name, doc)
    fams.append(f)
    print(f"  {path.rsplit('/', 1)[1]}: {len(f)} families parsed by prometheus_client")
for f in fams[1:]:
    assert fams[0] == f, set(fams[0].items()) ^ set(f.items())
PY

# ---- --log-level debug logs every drop, rate-limited per reason ----
# The token bucket itself (burst, refill rate, the "suppressed" count) is unit-tested with injected
# time (tests/tools/metrics_test.cpp, Logger.*). Here, without judging any time: 100 datagrams to a
# closed port give at least one drop line and far fewer lines than datagrams; then one more datagram
# per poll until the bucket has refilled and a line reports what it suppressed (deadline 20 s).
ts_stats "$TS_TMP/udp.before"
SENT=0
send_udp() { # send_udp N — N datagrams to a closed port, back to back
    ts_ns_t 20 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"x", ("198.18.0.2", 9999))' "$1" || ts_fail "sending UDP datagrams failed"
    SENT=$((SENT + $1))
}
drop_lines() { grep -cE '^[0-9T:.-]+Z tunstackd: debug: dropped [0-9]* packet\(s\): udp\.drop\.no_port \(total [0-9]*\)' "$TS_DAEMON_LOG"; }
SUPPRESSED_RE='^[0-9T:.-]+Z tunstackd: debug: dropped [0-9]+ packet\(s\): udp\.drop\.no_port \(total [0-9]+\) \([0-9]+ similar messages? suppressed\)$'
suppressed_or_send_one() {
    grep -qE "$SUPPRESSED_RE" "$TS_DAEMON_LOG" && return 0
    send_udp 1
    return 1
}
send_udp 100
wait_for 10 eval '(($(drop_lines) >= 1))' || ts_fail "no 'debug: dropped ... udp.drop.no_port' line for 100 dropped datagrams"
wait_for 20 suppressed_or_send_one ||
    ts_fail "no 'dropped ... (N similar messages suppressed)' line after $SENT datagrams"
n=$(drop_lines)
grep -E '^[0-9T:.-]+Z tunstackd: debug: dropped .*udp.drop.no_port' "$TS_DAEMON_LOG" | tail -n 2 | sed 's/^/  /'
((n >= 1 && n * 4 <= SENT)) || ts_fail "$n debug lines for $SENT dropped datagrams: expected at least one, and far fewer than the datagrams (rate-limited)"
# Each datagram was dropped and counted once, and the lines' totals never exceed that count.
ts_stats "$TS_TMP/udp.after"
d=$(ts_delta "$TS_TMP/udp.before" "$TS_TMP/udp.after" udp.drop.no_port)
[[ $d == "$SENT" ]] || ts_fail "udp.drop.no_port went up by $d for $SENT datagrams"
total=$(grep -E "$SUPPRESSED_RE" "$TS_DAEMON_LOG" | tail -n 1 | sed -E 's/.*\(total ([0-9]+)\).*/\1/')
((total <= $(ts_stat "$TS_TMP/udp.after" udp.drop.no_port))) || ts_fail "a log line reports total $total, above the counter"
echo "  $SENT datagrams dropped (udp.drop.no_port +$d), $n debug lines, the last with a suppressed count"

# ---- errors: one line, documented exit codes ----
expect_rc() {  # LABEL RC REGEX CMD...
    local label=$1 want=$2 re=$3 rc=0
    shift 3
    "$@" >"$TS_TMP/out" 2>"$TS_TMP/err" </dev/null || rc=$?
    [[ $rc == "$want" ]] || ts_fail "$label: exit $rc, expected $want ($(cat "$TS_TMP/err"))"
    [[ $(wc -l <"$TS_TMP/err") == 1 ]] || ts_fail "$label: expected one stderr line: $(cat "$TS_TMP/err")"
    grep -qiE -- "$re" "$TS_TMP/err" || ts_fail "$label: stderr does not match /$re/: $(cat "$TS_TMP/err")"
    echo "  $label: exit $rc: $(cat "$TS_TMP/err")"
}
reply=$(printf 'bogus\n' | timeout 5 socat - "UNIX-CONNECT:$CTL")
[[ $reply == "error unknown command 'bogus' (ping, stats or conns)" ]] || ts_fail "unknown command: reply '$reply'"
echo "  unknown command: $reply"
expect_rc "missing socket" 1 'no such file' timeout 10 "$TUNSTACK" stats --control "$TS_TMP/nope"
expect_rc "permission denied" 1 'permission denied' \
    setpriv --reuid=65534 --regid=65534 --clear-groups timeout 10 "$TUNSTACK" conns --control "$CTL"
timeout 20 socat UNIX-LISTEN:"$TS_TMP/silent",fork EXEC:'sleep 10' 2>/dev/null &
TS_PIDS+=($!)
wait_for 5 test -S "$TS_TMP/silent" || ts_fail "socat did not listen"
expect_rc "silent daemon" 4 'no complete answer' timeout 10 "$TUNSTACK" stats --control "$TS_TMP/silent" --timeout 1
expect_rc "bad subcommand flag" 2 'bogus' timeout 10 "$TUNSTACK" stats --bogus

ts_daemon_stop TERM || ts_fail "tunstackd did not exit on SIGTERM"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC"
[[ ! -e $CTL ]] || ts_fail "control socket $CTL left behind by a daemon that stayed root"
ts_pass "$N pings counted exactly (table, Prometheus, --metrics, --json; prometheus_client parses them, every family with a HELP text, build_info, code labels); conns lists listeners and the held connection, filters and --json; errors one line with exit codes 1/4/2"
