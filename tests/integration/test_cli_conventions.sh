#!/usr/bin/env bash
# Issue 11, daemon and client conventions:
#  tunstackd: a flag given twice takes its last value (so the unit's $TUNSTACKD_ARGS override its own
#  flags); an unknown option is named as such even when a required one is missing too; a command-line
#  error carries the journal priority <3> under journald (JOURNAL_STREAM naming stderr) like runtime
#  errors, and none without; each --metrics mistake is named (no port, bad address, bad port, not
#  loopback); the unit's --metrics port is not node_exporter's 9100; a --host-addr overlapping another
#  interface's subnet is warned about; not under journald the daemon's log lines carry UTC timestamps.
#  tunstack get: `-o -` writes the body to stdout (the summary to stderr); `-o /dev/stdout` with stdout
#  redirected to a file writes into that file in place (same inode, appended with >>); its own
#  address and loopback URLs fail at once (exit 2, well before --timeout).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

TUNSTACK=${TUNSTACK:-$TS_BUILD/tools/tunstack}
ts_ns_create tst-cli_conventions
ts_require_daemon
[[ -x $TUNSTACK ]] || ts_fail "tunstack not built: $TUNSTACK"
D=$TUNSTACKD
base=(--tun tcv0 --host-addr "$TS_HOST_ADDR" --addr "$TS_ADDR")

# run_d ARGS... — tunstackd's command line only (every case fails before a device is created);
# stderr in $TS_TMP/err, exit status in $rc.
run_d() {
    rc=0
    ts_ns_t 10 "$D" "$@" >"$TS_TMP/out" 2>"$TS_TMP/err" </dev/null || rc=$?
}
expect_line() { # expect_line LABEL RC REGEX — exit RC and exactly one stderr line matching REGEX
    local n
    n=$(wc -l <"$TS_TMP/err")
    [[ $rc == "$2" && $n == 1 ]] && grep -qE -- "$3" "$TS_TMP/err" ||
        ts_fail "$1: exit $rc (want $2), $n line(s), want /$3/: $(cat "$TS_TMP/err")"
    echo "  ok   $1: $(cat "$TS_TMP/err")"
}

# ---- last value wins (CLI11 refused a second --log-level before) ----
run_d "${base[@]}" --log-level loud --log-level info --mtu 1
expect_line "--log-level twice, last valid" 2 '^tunstackd: error: --mtu: 1 is out of range'
run_d "${base[@]}" --log-level info --log-level loud
expect_line "--log-level twice, last invalid" 2 "^tunstackd: error: --log-level: unknown level 'loud'"
run_d --tun tcv0 --host-addr 198.18.9.1/24 --addr 198.18.9.2 "${base[@]}" --mtu 1
expect_line "--tun/--addr twice (as the unit plus TUNSTACKD_ARGS)" 2 'error: --mtu: 1 is out of range'
run_d "${base[@]}" --serve echo:7 --serve discard:7
expect_line "--serve stays repeatable" 2 "--serve 'discard:7': port 7 is already served"

run_d "${base[@]}" --serve echo:7 --access-log "$TS_TMP/a.log"
expect_line "--access-log without http" 2 "--access-log needs an http:PORT or https:PORT service"

# ---- unknown options first ----
run_d --tunn tcv0 --addr "$TS_ADDR"
expect_line "unknown option with --host-addr missing" 2 "^tunstackd: error: unknown option '--tunn'"
run_d "${base[@]}" stray
expect_line "stray argument" 2 "^tunstackd: error: unexpected argument 'stray'"
run_d --addr "$TS_ADDR"
expect_line "missing --tun" 2 '^tunstackd: error: --tun is required$'

# ---- journal priority for command-line errors ----
: >"$TS_TMP/journal"
rc=0
ts_ns_t 10 bash -c 'exec 2>>"$1"; shift; JOURNAL_STREAM=$(stat -L -c "%d:%i" /proc/self/fd/2) exec "$@"' _ \
    "$TS_TMP/journal" "$D" --bogus </dev/null >/dev/null || rc=$?
cp "$TS_TMP/journal" "$TS_TMP/err"
expect_line "command-line error under journald" 2 "^<3>tunstackd: error: unknown option '--bogus'"
run_d --bogus
expect_line "command-line error, not under journald" 2 "^tunstackd: error: unknown option '--bogus'"

# ---- --metrics says what is wrong ----
run_d "${base[@]}" --metrics 127.0.0.1
expect_line "--metrics without port" 2 "--metrics '127.0.0.1': expected ADDR:PORT.*no ':PORT'"
run_d "${base[@]}" --metrics localhost:9464
expect_line "--metrics name" 2 "--metrics 'localhost:9464': 'localhost' is not an IPv4 address"
run_d "${base[@]}" --metrics 127.0.0.1:http
expect_line "--metrics bad port" 2 "port 'http' is not a number in 1..65535"
run_d "${base[@]}" --metrics 127.0.0.1:0
expect_line "--metrics port 0" 2 "port '0' is not a number in 1..65535"
run_d "${base[@]}" --metrics 198.18.0.2:9464
expect_line "--metrics not loopback" 2 "only a loopback address"

# ---- the unit's metrics port ----
UNIT=$TS_ROOT/tools/tunstackd.service
port=$(grep -oE -- '--metrics 127\.0\.0\.1:[0-9]+' "$UNIT" | grep -oE '[0-9]+$')
[[ -n $port && $port != 9100 ]] || ts_fail "the unit's --metrics port is '$port' (9100 is node_exporter's)"
echo "  ok   the unit's metrics port is $port"

# ---- an overlapping subnet on another interface is warned about ----
ts_ns ip link add tcvdummy type veth peer name tcvpeer || ts_fail "cannot add a veth pair"
ts_ns ip addr add 198.18.0.77/16 dev tcvdummy || ts_fail "cannot address the veth interface"
ts_ns ip link set tcvdummy up
ts_daemon_start
# Not under journald: every log line of the running daemon starts with the UTC time (RFC 3339).
bare=$(grep -E 'tunstackd: ' "$TS_DAEMON_LOG" | grep -vE '^(tunstackd: (end )?stats$|stat )' |
    grep -cvE '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z tunstackd: ')
[[ $bare == 0 ]] || ts_fail "$bare log line(s) without a timestamp: $(head -n 3 "$TS_DAEMON_LOG")"
grep -qE '^20[0-9-]+T[0-9:.]+Z tunstackd: ready' "$TS_DAEMON_LOG" || ts_fail "no timestamped ready line"
echo "  ok   daemon log lines carry RFC 3339 UTC timestamps: $(grep -m1 'tunstackd: ready' "$TS_DAEMON_LOG" | cut -c1-60)"
grep -qE "warning: --host-addr $TS_HOST_ADDR overlaps 198\.18\.0\.77/16 on tcvdummy" "$TS_DAEMON_LOG" ||
    ts_fail "no overlap warning: $(head -n 5 "$TS_DAEMON_LOG")"
echo "  ok   overlap warned: $(grep -m1 overlaps "$TS_DAEMON_LOG")"
ts_daemon_stop TERM
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exit $TS_DAEMON_RC"
ts_ns ip link del tcvdummy

# ---- tunstack get: stdout ----
PY=/usr/bin/python3
WWW=$TS_TMP/www
mkdir -p "$WWW"
head -c 300000 /dev/urandom >"$WWW/f.bin"
want=$(sha256sum <"$WWW/f.bin" | cut -d' ' -f1)
ts_ns_t 120 "$PY" -m http.server 8000 --bind 0.0.0.0 --directory "$WWW" >"$TS_TMP/http.log" 2>&1 </dev/null &
TS_PIDS+=($!)
server_up() { ts_ns_t 5 "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 8000), 1).close()' 2>/dev/null; }
wait_for 15 server_up || ts_fail "python3 -m http.server did not start"
get=(get "http://$TS_PEER:8000/f.bin" --tun tcl0 --host-addr "$TS_HOST_ADDR" --addr "$TS_ADDR" --timeout 30)

rc=0
ts_ns_t 60 "$TUNSTACK" "${get[@]}" -o - >"$TS_TMP/dash.out" 2>"$TS_TMP/dash.err" || rc=$?
[[ $rc == 0 ]] || ts_fail "-o -: exit $rc: $(cat "$TS_TMP/dash.err")"
[[ $(sha256sum <"$TS_TMP/dash.out" | cut -d' ' -f1) == "$want" ]] ||
    ts_fail "-o -: stdout is not the body ($(wc -c <"$TS_TMP/dash.out") bytes)"
grep -q 'written to standard output' "$TS_TMP/dash.err" || ts_fail "-o -: no summary on stderr: $(cat "$TS_TMP/dash.err")"
echo "  ok   -o -: body byte-exact on stdout; $(cat "$TS_TMP/dash.err")"

printf 'kept\n' >"$TS_TMP/redir.out"
ino=$(stat -c %i "$TS_TMP/redir.out")
rc=0
ts_ns_t 60 "$TUNSTACK" "${get[@]}" -o /dev/stdout >>"$TS_TMP/redir.out" 2>"$TS_TMP/redir.err" || rc=$?
[[ $rc == 0 ]] || ts_fail "-o /dev/stdout: exit $rc: $(cat "$TS_TMP/redir.err")"
[[ $(stat -c %i "$TS_TMP/redir.out") == "$ino" ]] || ts_fail "-o /dev/stdout replaced the redirect target (new inode)"
{ printf 'kept\n'; cat "$WWW/f.bin"; } | sha256sum | cut -d' ' -f1 >"$TS_TMP/want2"
[[ $(sha256sum <"$TS_TMP/redir.out" | cut -d' ' -f1) == "$(cat "$TS_TMP/want2")" ]] ||
    ts_fail "-o /dev/stdout >>FILE: FILE is not its old line + the body"
echo "  ok   -o /dev/stdout >>FILE: appended in place (inode $ino kept)"

# ---- tunstack get: own address, loopback ----
for url in "http://$TS_ADDR:8000/f.bin" "http://127.0.0.1:8000/f.bin"; do
    rc=0
    t0=$(ts_now_ms)
    ts_ns_t 60 "$TUNSTACK" get "$url" -o "$TS_TMP/x" --tun tcl0 --host-addr "$TS_HOST_ADDR" \
        --addr "$TS_ADDR" --timeout 30 >"$TS_TMP/out" 2>"$TS_TMP/err" || rc=$?
    expect_line "get $url" 2 "^tunstack: error: cannot connect to .*(own address|loopback)"
    (($(ts_now_ms) - t0 < 25000)) || ts_fail "get $url took until the --timeout"
    [[ ! -e $TS_TMP/x ]] || ts_fail "get $url created -o FILE"
done

ts_pass "last value wins, unknown options named first, <3> under journald, --metrics errors named, unit port $port, overlap warned, -o - and -o /dev/stdout in place, own/loopback address refused at once"
