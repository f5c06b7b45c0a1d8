#!/usr/bin/env bash
# A barrage of malformed IPv4/ICMP packets written into the TUN from the kernel side (AF_PACKET, so
# the kernel fixes nothing), one class at a time with the counters read in between: each class
# raises exactly one drop counter, by exactly the number of drops malformed.py reports, every packet
# is seen (ip.rx_packets) and no other drop counter moves. Ping is still answered, and once the
# reassembly timeout passes the reassembly memory is back to 0 and the daemon's RSS did not grow by
# more than a few MB.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3 # the python3 on PATH may lack Debian's modules
MAX_RSS_GROWTH_KB=${MAX_RSS_GROWTH_KB:-4096}
FLOOD=${FLOOD:-3000}

ts_ns_create tst-malformed
ts_require_daemon

REASM_TIMEOUT=3
reasm_wait=15
ts_daemon_start --mtu 1500 --reasm-timeout "$REASM_TIMEOUT"

ts_ping -c 2 -W 2 -w 10 "$TS_ADDR" || ts_fail "ping not answered before the barrage: $(tail -n 2 "$TS_TMP/ping.out")"
rss0=$(ts_rss_kb)
ts_stats "$TS_TMP/before"

# The one counter each class must raise (malformed.py --list gives the classes, in sending order).
declare -A COUNTER=(
    [ip_bad_checksum]=ip.drop.bad_checksum
    [ip_ihl_below_5]=ip.drop.bad_ihl
    [ip_ihl_beyond_length]=ip.drop.bad_ihl
    [ip_version_6]=ip.drop.ipv6
    [ip_version_7]=ip.drop.bad_version
    [ip_truncated_header]=ip.drop.truncated
    [ip_total_length_too_big]=ip.drop.bad_total_length
    [ip_total_length_below_header]=ip.drop.bad_total_length
    [icmp_bad_checksum]=icmp.drop.bad_checksum
    [icmp_truncated]=icmp.drop.truncated
    [ip_not_ours]=ip.drop.not_for_us
    [ip_src_this_network]=ip.drop.bad_source
    [ip_src_loopback]=ip.drop.bad_source
    [ip_src_multicast]=ip.drop.bad_source
    [ip_src_reserved]=ip.drop.bad_source
    [ip_src_broadcast]=ip.drop.bad_source
    [ip_src_ours]=ip.drop.bad_source
    [frag_overlap]=ip.drop.frag_overlap
    [frag_inconsistent]=ip.drop.frag_inconsistent
    [frag_too_big]=ip.drop.frag_too_big
    [frag_flood]=ip.drop.frag_evicted
)
classes=$("$PY" "$HERE/malformed.py" - - - --list) || ts_fail "malformed.py --list failed"
fails=()
# other_drops BEFORE AFTER EXCEPT... — "name +delta" for every *.drop.* counter that moved, but EXCEPT
other_drops() {
    local b=$1 a=$2
    shift 2
    join <(sort "$b") <(sort "$a") | awk -v skip=" $* " '$1 ~ /\.drop\./ && $3 != $2 && index(skip, " " $1 " ") == 0 {printf "%s +%d ", $1, $3 - $2}'
}
echo "writing malformed packets into $TS_TUN, one class at a time (flood: $FLOOD incomplete datagrams)"
prev=$TS_TMP/before
for class in $classes; do
    counter=${COUNTER[$class]:-}
    [[ -n $counter ]] || ts_fail "malformed.py class $class has no expected counter in this test"
    out=$(ts_ns_t 120 "$PY" "$HERE/malformed.py" "$TS_TUN" "$TS_PEER" "$TS_ADDR" --only "$class" --flood "$FLOOD") ||
        ts_fail "malformed.py --only $class failed: $out"
    read -r _ name packets drops <<<"$out"
    [[ $name == "$class" && $packets -gt 0 && $drops -gt 0 ]] || ts_fail "malformed.py --only $class printed '$out'"
    ts_stats "$TS_TMP/after.$class"
    cur=$TS_TMP/after.$class
    d=$(ts_delta "$prev" "$cur" "$counter")
    rx=$(ts_delta "$prev" "$cur" ip.rx_packets)
    if [[ $class == frag_flood ]]; then
        # The flood cannot be counted as one fixed number: the reassembler keeps up to its caps
        # (datagrams, bytes) in flight and evicts the oldest to make room (frag_evicted); a datagram
        # whose --reasm-timeout passes while the flood is still being written is dropped as
        # frag_timeout instead. So: every flood datagram is either still in flight or dropped under
        # one of those two reasons, exactly once, and evictions did happen.
        to=$(ts_delta "$prev" "$cur" ip.drop.frag_timeout)
        in0=$(ts_stat "$prev" ip.reasm_datagrams_in_flight)
        in1=$(ts_stat "$cur" ip.reasm_datagrams_in_flight)
        others=$(other_drops "$prev" "$cur" "$counter" ip.drop.frag_timeout)
        if ((d > 0 && d + to == in0 + drops - in1 && rx == packets && in1 < drops)) && [[ -z $others ]]; then
            printf '  ok %-30s %s +%d, ip.drop.frag_timeout +%d, in flight %d -> %d\n' "$class" "$counter" "$d" "$to" "$in0" "$in1"
        else
            fails+=("$class: $counter +$d, frag_timeout +$to, in flight $in0 -> $in1, ip.rx_packets +$rx for $packets; other drops: ${others:-none}")
        fi
    else
        others=$(other_drops "$prev" "$cur" "$counter")
        if [[ $d == "$drops" && $rx == "$packets" && -z $others ]]; then
            printf '  ok %-30s %s +%d (%d packets)\n' "$class" "$counter" "$d" "$packets"
        else
            fails+=("$class: $counter +$d (want +$drops), ip.rx_packets +$rx (want +$packets), other drops: ${others:-none}")
        fi
    fi
    prev=$cur
done
((${#fails[@]} == 0)) || ts_fail "drops not counted as expected: $(IFS=';'; echo "${fails[*]}")"
inflight=$(ts_stat "$prev" ip.reasm_datagrams_in_flight)
printf '  ok %-30s %s\n' "reassembly cap" "ip.reasm_datagrams_in_flight $inflight, ip.reasm_bytes_in_use $(ts_stat "$prev" ip.reasm_bytes_in_use)"

ts_ping -c 3 -W 2 -w 15 "$TS_ADDR"
rc=$?
[[ $rc == 0 && $(ts_ping_received) == 3 ]] || ts_fail "ping not answered after the barrage: $(tail -n 2 "$TS_TMP/ping.out")"
echo "ping still answered: $(grep -E 'packets transmitted' "$TS_TMP/ping.out")"
ts_stats "$TS_TMP/after"
rss1=$(ts_rss_kb)

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
