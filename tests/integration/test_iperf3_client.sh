#!/usr/bin/env bash
# tunstack iperf3 -c: the client on its own stack and TUN against a stock `iperf3 -s` in the
# namespace (bound to 0.0.0.0, reached as 198.18.0.1 through the client's TUN). Forward, -R and
# -P 4 -R: our -J output parsed with /usr/bin/python3 (streams, bytes > 0 on both ends, the ends
# agree within reason) and cross-checked with the server's own -J log (stock iperf3 -s --json
# writes one JSON document per test): the server counts the same number of streams and, as the
# receiver of the forward test, the bytes our report calls received. The text summary names the
# sender and receiver. A server that is not there: exit 3. Bad flags: exit 2. Speed is never judged.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

command -v iperf3 >/dev/null || { echo "FAIL: $TS_TEST: iperf3 not installed (tools/setup)"; exit 1; }
TUNSTACK=${TUNSTACK:-$TS_BUILD/tools/tunstack}
[[ -x $TUNSTACK ]] || { echo "FAIL: $TS_TEST: tunstack not built: $TUNSTACK"; exit 1; }
ts_ns_create tst-iperf3_client
PY=/usr/bin/python3

# Started directly (not through a shell function), so that $! is the process the cleanup ends.
timeout 120 ip netns exec "$TS_NS" iperf3 -s -p 5201 --json --logfile "$TS_TMP/server.json" </dev/null &
TS_PIDS+=($!)
# Listening, seen with ss (a probe connection would end as an error test in iperf3 -s, which then
# closes and reopens its listener).
server_up() { ts_ns_t 5 ss -Hltn 'sport = :5201' | grep -q .; }
wait_for 15 server_up || ts_fail "iperf3 -s did not start"
client() { # client NAME ARGS... — tunstack iperf3, stdout in $TS_TMP/NAME.out, stderr .err
    local name=$1
    shift
    ts_ns_t 40 "$TUNSTACK" iperf3 -c "$TS_PEER" --tun tcl0 --host-addr "$TS_HOST_ADDR" \
        --addr "$TS_ADDR" "$@" >"$TS_TMP/$name.out" 2>"$TS_TMP/$name.err"
}

# check NAME STREAMS — our -J: no error, STREAMS streams, bytes > 0 both ways, the ends agree.
check() {
    "$PY" - "$TS_TMP/$1.out" "$2" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
end = j["end"]
if len(end["streams"]) != want or j["start"]["test_start"]["num_streams"] != want:
    sys.exit(f"{len(end['streams'])} streams, expected {want}")
for s in end["streams"]:
    if s["sender"]["bytes"] <= 0 or s["receiver"]["bytes"] <= 0:
        sys.exit("a stream moved no bytes: %r" % s)
sent, recv = end["sum_sent"]["bytes"], end["sum_received"]["bytes"]
if recv > sent * 1.01 or sent - recv > want * 8 * 1024 * 1024 + sent * 0.25:
    sys.exit(f"sender and receiver disagree: sent {sent}, received {recv}")
print(f"{sent} {recv} {end['sum_received']['bits_per_second'] / 1e9:.2f}")
EOF
}

# server_docs — the test documents (not error ones) of the server's log as a JSON list, to doc.json;
# prints how many there are.
server_docs() {
    "$PY" - "$TS_TMP/server.json" "$TS_TMP/doc.json" <<'EOF'
import json, sys
try:
    text = open(sys.argv[1]).read()
except FileNotFoundError:
    text = ""
dec = json.JSONDecoder()
docs, i = [], 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    try:
        d, i = dec.raw_decode(text, i)
    except ValueError:
        break  # a document still being written
    if "error" not in d:
        docs.append(d)
json.dump(docs, open(sys.argv[2], "w"))
print(len(docs))
EOF
}

n=0
for spec in "forward:1:" "reverse:1:-R" "parallel_reverse:4:-P 4 -R"; do
    IFS=: read -r name streams args <<<"$spec"
    # shellcheck disable=SC2086
    client "$name" -t 2 -J $args || ts_fail "$name: exit $?: $(cat "$TS_TMP/$name.err")"
    out=$(check "$name" "$streams") || ts_fail "$name: $out"
    read -r sent recv gbit <<<"$out"
    ts_log "$name: sent $sent, received $recv, $gbit Gbit/s"
    n=$((n + 1))
    # The server's view of the same test (its JSON document appears once it finished).
    server_has() { [[ $(server_docs) -ge $n ]]; }
    wait_for 10 server_has || ts_fail "$name: iperf3 -s logged no result"
    "$PY" - "$TS_TMP/doc.json" "$streams" "$recv" "$sent" "$name" "$n" <<'EOF' || ts_fail "$name: the server's view disagrees"
import json, sys
d = json.load(open(sys.argv[1]))[int(sys.argv[6]) - 1]
streams, recv, sent, name = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
if "error" in d:
    sys.exit("server error: " + d["error"])
if len(d["end"]["streams"]) != streams:
    sys.exit(f"server saw {len(d['end']['streams'])} streams")
mine = d["end"]["sum_received"]["bytes"] if name == "forward" else d["end"]["sum_sent"]["bytes"]
theirs = recv if name == "forward" else sent
if mine != theirs:
    sys.exit(f"server counted {mine}, our report says {theirs}")
EOF
done

# The text summary.
client text -t 1 || ts_fail "text: exit $?: $(cat "$TS_TMP/text.err")"
grep -q ' sender$' "$TS_TMP/text.out" && grep -q ' receiver$' "$TS_TMP/text.out" &&
    grep -q 'Gbit/s\|Mbit/s' "$TS_TMP/text.out" || ts_fail "text summary: $(cat "$TS_TMP/text.out")"

# Nobody on that port: refused, exit 3, one line.
rc=0
client refused -t 1 -p 5999 || rc=$?
[[ $rc == 3 ]] || ts_fail "refused port: exit $rc, expected 3: $(cat "$TS_TMP/refused.err")"
grep -q "refused" "$TS_TMP/refused.err" || ts_fail "refused port: $(cat "$TS_TMP/refused.err")"
# Bad flags: exit 2 before any device is made.
for bad in "-P 0" "-t 0" "-P 129"; do
    rc=0
    # shellcheck disable=SC2086
    client bad $bad || rc=$?
    [[ $rc == 2 ]] || ts_fail "'$bad': exit $rc, expected 2"
done
rc=0
ts_ns_t 10 "$TUNSTACK" iperf3 -c not-an-address --tun tcl0 --host-addr "$TS_HOST_ADDR" --addr "$TS_ADDR" \
    >/dev/null 2>"$TS_TMP/badhost.err" || rc=$?
[[ $rc == 2 ]] && grep -q -- "-c" "$TS_TMP/badhost.err" || ts_fail "bad -c: exit $rc: $(cat "$TS_TMP/badhost.err")"
ts_pass "tunstack iperf3 against stock iperf3 -s: forward, -R, -P 4 -R (our -J parsed, the server's -J agrees), text summary; refused port exit 3, bad flags exit 2"
