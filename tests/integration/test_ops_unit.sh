#!/usr/bin/env bash
# Issue 5, systemd unit: tools/tunstackd.service passes `systemd-analyze verify` (pointing ExecStart at
# this build), is Type=notify with the hardening the README promises, and `systemd-analyze security
# --offline` rates its exposure at most 3.0 ("OK"); needs no running systemd. Then the unit's own
# ExecStart line is run (as nobody, in the test's namespace) and must serve and stop.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_require_root
ts_require_daemon
UNIT=$TS_ROOT/tools/tunstackd.service
command -v systemd-analyze >/dev/null || ts_fail "systemd-analyze missing (tools/setup installs systemd)"
ts_ns_create tst-ops_unit
TMP=$TS_TMP
sed "s#/usr/local/bin/tunstackd#$TUNSTACKD#" "$UNIT" >"$TMP/tunstackd.service"
(cd "$TMP" && timeout 60 systemd-analyze verify ./tunstackd.service) >"$TMP/verify" 2>&1 ||
    ts_fail "systemd-analyze verify: $(cat "$TMP/verify")"
[[ ! -s $TMP/verify ]] || ts_fail "systemd-analyze verify warns: $(cat "$TMP/verify")"
for d in 'Type=notify' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
    'CapabilityBoundingSet=CAP_NET_ADMIN CAP_SETUID CAP_SETGID CAP_SETPCAP' \
    'RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET' 'SystemCallFilter=@system-service' \
    'DeviceAllow=/dev/net/tun rw' 'RuntimeDirectory=tunstackd'; do
    grep -qxF "$d" "$UNIT" || ts_fail "unit lacks '$d'"
done
score=$(cd "$TMP" && timeout 60 systemd-analyze security --offline=true ./tunstackd.service 2>&1 |
    sed -n 's/.*Overall exposure level for tunstackd.service: \([0-9.]*\).*/\1/p')
[[ -n $score ]] || ts_fail "systemd-analyze security gave no score"
awk -v s="$score" 'BEGIN {exit !(s <= 3.0)}' || ts_fail "exposure level $score, expected at most 3.0"

# The unit's ExecStart, with its defaults filled in, --user nobody (no tunstackd user here) and the
# control socket in our temp dir, starts a working daemon in a namespace that stops cleanly.
args=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$UNIT" | sed 's/^ExecStart=//; s/\\$//' | tr -s ' \n' ' ')
read -r -a argv <<<"$args"
[[ ${argv[0]} == /usr/local/bin/tunstackd && ${argv[1]} == --tun && ${argv[3]} == --host-addr &&
    ${argv[5]} == --addr ]] || ts_fail "unexpected ExecStart: $args"
rest=()
for a in "${argv[@]:7}"; do
    case $a in
        tunstackd) rest+=(nobody) ;;
        /run/tunstackd/control) rest+=("$TMP/control") ;;
        '$TUNSTACKD_ARGS') rest+=(--serve echo:7) ;;
        *) rest+=("$a") ;;
    esac
done
ts_daemon_start "${rest[@]}"
ts_ns curl -sf --max-time 5 http://127.0.0.1:9100/metrics | grep -q '^tunstack_ip_rx_packets_total ' ||
    ts_fail "the unit's --metrics endpoint does not answer"
timeout 10 "$TUNSTACK" stats --control "$TMP/control" >/dev/null || ts_fail "the unit's control socket does not answer"
ts_daemon_stop TERM || ts_fail "tunstackd did not stop"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC"
ts_pass "systemd-analyze verify clean; Type=notify and hardening present; exposure $score (<= 3.0); the unit's ExecStart runs (as nobody), serves metrics and control, stops with 0"
