#!/usr/bin/env bash
# A barrage of malformed IPv4/ICMP packets written into the TUN from the kernel side (AF_PACKET, so
# the kernel fixes nothing): each class is dropped and counted by its reason, ping is still answered,
# and once the reassembly timeout passes the reassembly memory is back to 0 and the daemon's RSS did
# not grow by more than a few MB.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3 # the python3 on PATH may lack Debian's modules
MAX_RSS_GROWTH_KB=${MAX_RSS_GROWTH_KB:-4096}
FLOOD=${FLOOD:-3000}

ts_ns_create tst-malformed
ts_require_daemon

# Shorten the reassembly timeout if the daemon lets us (the default is 30 s).
extra=()
reasm_wait=45
help=$(timeout 10 "$TUNSTACKD" --help 2>&1)
for flag in --reasm-timeout --reassembly-timeout; do
    if grep -q -- "$flag" <<<"$help"; then
        extra=("$flag" 3)
        reasm_wait=15
        break
    fi
done
ts_daemon_start --mtu 1500 "${extra[@]}"

ts_ping -c 2 -W 2 -w 10 "$TS_ADDR" || ts_fail "ping not answered before the barrage: $(tail -n 2 "$TS_TMP/ping.out")"
rss0=$(ts_rss_kb)
ts_stats "$TS_TMP/before"

echo "writing malformed packets into $TS_TUN (flood: $FLOOD incomplete datagrams)"
ts_ns_t 120 "$PY" "$HERE/malformed.py" "$TS_TUN" "$TS_PEER" "$TS_ADDR" --flood "$FLOOD" ||
    ts_fail "malformed.py failed"

ts_ping -c 3 -W 2 -w 15 "$TS_ADDR"
rc=$?
[[ $rc == 0 && $(ts_ping_received) == 3 ]] || ts_fail "ping not answered after the barrage: $(tail -n 2 "$TS_TMP/ping.out")"
echo "ping still answered: $(grep -E 'packets transmitted' "$TS_TMP/ping.out")"
ts_stats "$TS_TMP/after"
rss1=$(ts_rss_kb)

echo "counters that changed:"
join <(sort "$TS_TMP/before") <(sort "$TS_TMP/after") | awk '$3 != $2 {printf "  %-40s +%d\n", $1, $3 - $2}'

# Each class: label, then the acceptable counter names (the first present is used; it must grow).
fails=()
check() {
    local label=$1 d
    shift
    d=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" "$@")
    if [[ $d == - ]]; then
        fails+=("$label: no counter named ${*}")
    elif ((d <= 0)); then
        fails+=("$label: ${*} did not grow")
    else
        printf '  ok %-28s %s +%d\n' "$label" "$1" "$d"
    fi
}
check "bad IP checksum"          ip.drop.bad_checksum
check "bad IHL"                  ip.drop.bad_ihl
check "version 6"                ip.drop.ipv6 ip.drop.not_ipv4 ip.drop.bad_version
check "version 7"                ip.drop.bad_version ip.drop.not_ipv4
check "truncated header"         ip.drop.truncated ip.drop.too_short
check "bad total length"         ip.drop.bad_total_length ip.drop.bad_length ip.drop.truncated
check "overlapping fragments"    ip.drop.frag_overlap ip.drop.reasm_overlap
check "inconsistent fragments"   ip.drop.frag_inconsistent ip.drop.frag_overlap ip.drop.reasm_inconsistent
check "reassembly > 65535"       ip.drop.frag_too_big ip.drop.reasm_too_big
check "not our address"          ip.drop.not_for_us ip.drop.not_ours ip.drop.bad_destination
check "bad ICMP checksum"        icmp.drop.bad_checksum
check "truncated ICMP"           icmp.drop.truncated icmp.drop.too_short
check "fragment flood capped"    ip.drop.frag_evicted ip.drop.frag_no_memory
inflight=$(ts_stat "$TS_TMP/after" ip.reasm_datagrams_in_flight)
if [[ $inflight == - ]] || ((inflight >= FLOOD)); then
    fails+=("fragment flood: ip.reasm_datagrams_in_flight is $inflight after $FLOOD incomplete datagrams: no cap")
else
    printf '  ok %-28s %s\n' "reassembly cap" "ip.reasm_datagrams_in_flight $inflight, ip.reasm_bytes_in_use $(ts_stat "$TS_TMP/after" ip.reasm_bytes_in_use)"
fi
((${#fails[@]} == 0)) || ts_fail "drops not counted as expected: $(IFS=';'; echo "${fails[*]}")"

# Reassembly state must drain once the timeout passes.
drained() {
    ts_stats "$TS_TMP/drain"
    [[ $(ts_stat "$TS_TMP/drain" ip.reasm_bytes_in_use) == 0 &&
        $(ts_stat "$TS_TMP/drain" ip.reasm_datagrams_in_flight) == 0 ]]
}
echo "waiting up to ${reasm_wait}s for the reassembly timeout to free incomplete datagrams"
wait_for "$reasm_wait" drained || ts_fail "reassembly not drained after ${reasm_wait}s: ip.reasm_bytes_in_use=$(ts_stat "$TS_TMP/drain" ip.reasm_bytes_in_use) ip.reasm_datagrams_in_flight=$(ts_stat "$TS_TMP/drain" ip.reasm_datagrams_in_flight)"
rss2=$(ts_rss_kb)
echo "dropped by the reassembly timeout: $(ts_delta "$TS_TMP/after" "$TS_TMP/drain" ip.drop.frag_timeout) datagrams"
echo "VmRSS: ${rss0} kB before, ${rss1} kB after the barrage, ${rss2} kB after draining"
((rss2 - rss0 <= MAX_RSS_GROWTH_KB)) || ts_fail "VmRSS grew by $((rss2 - rss0)) kB (limit $MAX_RSS_GROWTH_KB kB)"

ts_ping -c 2 -W 2 -w 10 "$TS_ADDR" || ts_fail "ping not answered after draining"
ts_daemon_stop TERM || ts_fail "tunstackd did not exit on SIGTERM"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited with status $TS_DAEMON_RC on SIGTERM, expected 0"
ts_pass "every malformed class dropped and counted; ping answered; reassembly drained; RSS +$((rss2 - rss0)) kB"
