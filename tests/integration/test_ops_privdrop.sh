#!/usr/bin/env bash
# Issue 5, least privilege: with --user nobody the daemon, once ready, runs as uid/gid 65534 with
# every capability set empty (effective, permitted, inheritable, bounding, ambient) and no_new_privs;
# it still answers ping and serves HTTP byte-exact through the already-open TUN, its control socket
# (made before the drop) still answers root, SIGTERM still ends it with status 0 and the kernel
# removes the (non-persistent) device although the process closing it has no privilege. The control
# socket the unprivileged daemon could not remove is replaced by the next daemon. Without --user or
# --stay-root, root warns and drops to nobody all the same.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-ops_privdrop
mkdir -p "$TS_TMP/www"
head -c 3000000 /dev/urandom >"$TS_TMP/www/file.bin"
chmod 755 "$TS_TMP/www" && chmod 644 "$TS_TMP/www/file.bin"
CTL=$TS_TMP/control
ts_daemon_start --user nobody --control "$CTL" --serve http:80 --www "$TS_TMP/www"

st=/proc/$TS_DAEMON_PID/status
grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs):' "$st" | sed 's/^/  /'
nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)
[[ $(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st") == "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ]] ||
    ts_fail "Uid is not nobody's ($nobody_uid) in real/effective/saved/fs: $(grep ^Uid: "$st")"
[[ $(awk '/^Gid:/ {print $2, $3, $4, $5}' "$st") == "$nobody_gid $nobody_gid $nobody_gid $nobody_gid" ]] ||
    ts_fail "Gid is not nobody's group ($nobody_gid): $(grep ^Gid: "$st")"
[[ $(awk '/^Groups:/ {$1=""; print}' "$st" | xargs) == "$nobody_gid" ]] ||
    ts_fail "supplementary groups not reduced to $nobody_gid: $(grep ^Groups: "$st")"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
    v=$(awk -v c="$c:" '$1 == c {print $2}' "$st")
    [[ $v =~ ^0+$ ]] || ts_fail "$c is $v, expected empty"
done
[[ $(awk '/^NoNewPrivs:/ {print $2}' "$st") == 1 ]] || ts_fail "NoNewPrivs is not set"

# Still serving through the device opened before the drop.
ts_ping -c 5 -i 0.05 -W 2 -w 10 "$TS_ADDR" || ts_fail "ping after the drop: $(tail -n 2 "$TS_TMP/ping.out")"
[[ $(ts_ping_received) == 5 ]] || ts_fail "ping after the drop: $(ts_ping_received)/5 replies"
ts_ns curl -sS --max-time 20 -o "$TS_TMP/got.bin" "http://$TS_ADDR/file.bin" || ts_fail "curl after the drop failed"
cmp -s "$TS_TMP/got.bin" "$TS_TMP/www/file.bin" || ts_fail "HTTP body differs from the file"
timeout 10 "$TUNSTACK" stats --control "$CTL" --nonzero >"$TS_TMP/stats" ||
    ts_fail "the control socket does not answer after the drop"
grep -qE '^  rx_echo_request +5$' "$TS_TMP/stats" || ts_fail "stats after the drop: no rx_echo_request 5"

ts_daemon_stop TERM || ts_fail "tunstackd (nobody) did not exit on SIGTERM"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd (nobody) exited $TS_DAEMON_RC"
if timeout 10 ip -n "$TS_NS" link show "$TS_TUN" >/dev/null 2>&1; then
    ts_fail "device $TS_TUN still exists after the unprivileged daemon exited"
fi
grep -qE '^([0-9T:.-]+Z )?tunstackd: error' "$TS_DAEMON_LOG" && ts_fail "errors in the log: $(grep -E '^([0-9T:.-]+Z )?tunstackd: error' "$TS_DAEMON_LOG")"

# The socket file stays (nobody may not unlink in a root-owned directory): the next start replaces it.
[[ -S $CTL ]] && echo "  stale control socket left by the unprivileged daemon: replaced by the next one"
ts_daemon_start --user nobody --control "$CTL"
timeout 10 "$TUNSTACK" stats --control "$CTL" >/dev/null || ts_fail "second daemon: control socket not usable"
ts_daemon_stop TERM || ts_fail "second daemon did not stop"

# Root with neither --user nor --stay-root (the plain contract of issue 2): a warning, then the same
# drop to nobody by default; ping still answered.
TS_DAEMON_DEFAULT_PRIV=1 ts_daemon_start
grep -q "warning: not staying root: no --user given, dropping to 'nobody'" "$TS_DAEMON_LOG" ||
    ts_fail "no warning about dropping root by default: $(head -n 3 "$TS_DAEMON_LOG")"
st=/proc/$TS_DAEMON_PID/status
[[ $(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st") == "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ]] ||
    ts_fail "without --user: Uid is not nobody's: $(grep ^Uid: "$st")"
[[ $(awk '/^CapEff:/ {print $2}' "$st") =~ ^0+$ ]] || ts_fail "without --user: capabilities kept"
ts_ping -c 3 -i 0.05 -W 2 -w 10 "$TS_ADDR" || ts_fail "ping (default drop): $(tail -n 2 "$TS_TMP/ping.out")"
[[ $(ts_ping_received) == 3 ]] || ts_fail "ping (default drop): $(ts_ping_received)/3 replies"
ts_daemon_stop TERM || ts_fail "the default-drop daemon did not stop"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "the default-drop daemon exited $TS_DAEMON_RC"
ts_pass "runs as nobody with empty capability sets and no_new_privs; ping, HTTP (3 MB byte-exact) and the control socket work; exit 0 and device removed; without --user/--stay-root root warns and drops to nobody"
