#!/usr/bin/env bash
# tunstackd's failure modes: each gives exactly one line on stderr naming the problem and a non-zero
# exit; --help and --version exit 0. Runs inside its own namespace (some cases create devices).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-cli_errors
ts_require_daemon
fails=()
ok() { printf '  ok   %s\n' "$1"; }
bad() {
    printf '  FAIL %s\n' "$1"
    fails+=("${1%%:*}")
}

# expect_error LABEL REGEX ARGS... — non-zero exit, exactly one stderr line matching REGEX (case-insens.)
# expect_exit RC LABEL REGEX ARGS... — the same with exactly exit status RC
want_rc=""
expect_error() {
    local label=$1 re=$2 rc=0 n
    shift 2
    ts_ns_t 10 "$@" >"$TS_TMP/out" 2>"$TS_TMP/err" </dev/null || rc=$?
    n=$(wc -l <"$TS_TMP/err")
    [[ -s $TS_TMP/err && $(tail -c 1 "$TS_TMP/err") != "" ]] && n=$((n + 1)) # no final newline
    if ((rc == 124)); then
        bad "$label: still running after 10 s (killed by timeout)"
    elif ((rc == 0)); then
        bad "$label: exit 0, expected non-zero"
    elif [[ -n $want_rc && $rc != "$want_rc" ]]; then
        bad "$label: exit $rc, expected $want_rc: $(head -c 300 "$TS_TMP/err" | tr '\n' '|')"
    elif ((n != 1)); then
        bad "$label: exit $rc but $n lines on stderr, expected 1: $(head -c 300 "$TS_TMP/err" | tr '\n' '|')"
    elif ! grep -qiE -- "$re" "$TS_TMP/err"; then
        bad "$label: exit $rc, stderr does not name the problem (/$re/): $(cat "$TS_TMP/err")"
    else
        ok "$label: exit $rc: $(cat "$TS_TMP/err")"
    fi
}

expect_exit() {
    want_rc=$1
    shift
    expect_error "$@"
    want_rc=""
}

D=$TUNSTACKD
base=(--host-addr "$TS_HOST_ADDR" --addr "$TS_ADDR")
root=(--stay-root)  # as root, cases that get past the command line need --user or --stay-root

expect_error "unknown flag" 'bogus' "$D" --tun tcli0 "${base[@]}" --bogus-flag
expect_error "missing --tun" 'tun' "$D" "${base[@]}"
expect_error "missing --addr" 'addr' "$D" --tun tcli0 --host-addr "$TS_HOST_ADDR"
expect_error "bad --addr" '300\.1\.2\.3|addr' "$D" --tun tcli0 --host-addr "$TS_HOST_ADDR" --addr 300.1.2.3
expect_error "bad --host-addr prefix" 'host-addr|198\.18\.0\.1/99|prefix' \
    "$D" --tun tcli0 --host-addr 198.18.0.1/99 --addr "$TS_ADDR"
expect_error "bad --mtu" 'mtu' "$D" --tun tcli0 "${base[@]}" --mtu abc
expect_error "bad --cc" "cc.*bogus" "$D" --tun tcli0 "${base[@]}" --cc bogus
expect_error "bad --log-level" 'log-level.*loud' "$D" --tun tcli0 "${base[@]}" --log-level loud
expect_error "bad --metrics (not loopback)" 'metrics.*loopback' "$D" --tun tcli0 "${base[@]}" --metrics 198.18.0.2:9100
expect_error "bad --metrics (no port)" 'metrics' "$D" --tun tcli0 "${base[@]}" --metrics 127.0.0.1
expect_error "bad --sndbuf" 'sndbuf' "$D" --tun tcli0 "${base[@]}" --sndbuf 12Q
expect_error "bad --mem-budget" 'mem-budget' "$D" --tun tcli0 "${base[@]}" --mem-budget lots
expect_error "bad --drain-timeout" 'drain-timeout' "$D" --tun tcli0 "${base[@]}" --drain-timeout -1
expect_exit 2 "unknown --user" 'no-such-user-x|no such user' "$D" --tun tcli0 "${base[@]}" --user no-such-user-x
# --user of a uid-0 account drops nothing: refused on the command line (exit 2) like an unknown
# user, before anything is created (the --pcap file, opened first at start, must not appear).
expect_exit 2 "--user root" 'user root.*uid 0' "$D" --tun tcli0 "${base[@]}" --user root \
    --pcap "$TS_TMP/user-root.pcap"
[[ ! -e $TS_TMP/user-root.pcap ]] || bad "--user root: the start went as far as creating the --pcap file"
expect_error "--user with --stay-root" 'user.*stay-root' "$D" --tun tcli0 "${base[@]}" --user nobody --stay-root
expect_error "--pcap into a missing directory" 'pcap|/nonexistent-dir' \
    "$D" --tun tcli0 "${base[@]}" "${root[@]}" --pcap /nonexistent-dir/x.pcap
expect_error "--control into a missing directory" 'control|/nonexistent-dir' \
    "$D" --tun tcli0 "${base[@]}" "${root[@]}" --control /nonexistent-dir/ctl
if timeout 10 ip -n "$TS_NS" link show tcli0 >/dev/null 2>&1; then
    bad "--pcap failure left device tcli0 behind"
fi

# A TUN name already in use (a persistent device made by `ip tuntap`): refused, and left intact.
if timeout 10 ip -n "$TS_NS" tuntap add dev tbusy0 mode tun; then
    expect_error "TUN name in use" 'tbusy0|in use|busy|exists' "$D" --tun tbusy0 "${base[@]}" "${root[@]}"
    timeout 10 ip -n "$TS_NS" link show tbusy0 >/dev/null 2>&1 ||
        bad "TUN name in use: the existing device tbusy0 was removed by the failed daemon"
else
    bad "could not create tbusy0 with ip tuntap (test setup)"
fi

# Unprivileged: copy the binary where nobody can run it, then drop to uid/gid 65534.
cp "$D" "$TS_TMP/tunstackd" && chmod 755 "$TS_TMP/tunstackd"
expect_error "unprivileged (uid 65534)" 'permission|privilege|CAP_NET_ADMIN|not permitted|root' \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$TS_TMP/tunstackd" --tun tcli1 "${base[@]}"

# The client's command line (no device is created for any of these).
C=$TUNSTACK
[[ -x $C ]] || ts_fail "tunstack not built: $C"
expect_exit 2 "tunstack: unknown subcommand" "unknown subcommand 'bogus'" "$C" bogus
expect_exit 2 "tunstack: no subcommand" 'subcommand' "$C"
expect_exit 2 "tunstack get: IPv6 literal" 'IPv6' "$C" get 'http://[::1]/' -o "$TS_TMP/x" \
    --tun tcli0 "${base[@]}"
[[ ! -e $TS_TMP/x ]] || bad "tunstack get with a bad URL created its output file"
for sub in get stats conns; do
    if ts_ns_t 10 "$C" "$sub" --help >"$TS_TMP/out" 2>&1 && grep -q "^Usage: tunstack $sub " "$TS_TMP/out"; then
        ok "tunstack $sub --help: exit 0, $(grep '^Usage:' "$TS_TMP/out")"
    else
        bad "tunstack $sub --help: no 'Usage: tunstack $sub' line: $(grep -m1 'Usage' "$TS_TMP/out")"
    fi
done

# --help and --version succeed and print to stdout.
if ts_ns_t 10 "$D" --help >"$TS_TMP/out" 2>&1 && grep -q -- '--tun' "$TS_TMP/out"; then
    ok "--help: exit 0, mentions --tun"
else
    bad "--help: non-zero exit or no --tun in the text"
fi
if ts_ns_t 10 "$D" --version >"$TS_TMP/out" 2>&1 && grep -qE '[0-9]+\.[0-9]+' "$TS_TMP/out"; then
    ok "--version: $(head -n 1 "$TS_TMP/out")"
else
    bad "--version: non-zero exit or no version number"
fi

((${#fails[@]} == 0)) || ts_fail "${#fails[@]} case(s) failed (details above): $(IFS=';'; echo "${fails[*]}")"
ts_pass "every bad invocation gave one stderr line and a non-zero exit; --help/--version work"
