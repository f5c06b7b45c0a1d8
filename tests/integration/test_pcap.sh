#!/usr/bin/env bash
# tunstackd --pcap FILE: ping (incl. a fragmented 3000-byte one), SIGTERM, then tshark reads the file
# and finds every echo request and reply; the daemon exits 0 and its TUN device is gone.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-pcap
PCAP=$TS_TMP/capture.pcap
ts_daemon_start --pcap "$PCAP"

ts_ping -c 3 -i 0.2 -W 2 -w 10 "$TS_ADDR" && [[ $(ts_ping_received) == 3 ]] ||
    ts_fail "ping -c 3 not answered: $(tail -n 2 "$TS_TMP/ping.out")"
ts_ping -c 2 -i 0.2 -s 3000 -W 2 -w 10 "$TS_ADDR" && [[ $(ts_ping_received) == 2 ]] ||
    ts_fail "ping -c 2 -s 3000 not answered: $(tail -n 2 "$TS_TMP/ping.out")"

ts_daemon_stop TERM || ts_fail "tunstackd did not exit on SIGTERM"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited with status $TS_DAEMON_RC on SIGTERM, expected 0"
if timeout 10 ip -n "$TS_NS" link show "$TS_TUN" >/dev/null 2>&1; then
    ts_fail "TUN device $TS_TUN still exists after tunstackd exited"
fi

[[ -s $PCAP ]] || ts_fail "pcap file $PCAP missing or empty"
# tshark reassembles the IP fragments, so each ping is one ICMP message.
timeout 60 tshark -n -r "$PCAP" >"$TS_TMP/tshark.out" 2>"$TS_TMP/tshark.err" ||
    ts_fail "tshark cannot read $PCAP: $(grep -v 'Running as user' "$TS_TMP/tshark.err" | head -n 2)"
echo "tshark -r capture.pcap:"
sed 's/^/  /' "$TS_TMP/tshark.out"
count() { timeout 60 tshark -n -r "$PCAP" -Y "$1" 2>/dev/null | wc -l; }
req=$(count 'icmp.type == 8')
rep=$(count 'icmp.type == 0')
frags=$(count 'ip.flags.mf == 1 || ip.frag_offset > 0')
echo "echo requests: $req, echo replies: $rep, IP fragments: $frags"
[[ $req == 5 ]] || ts_fail "tshark sees $req ICMP echo requests, expected 5"
[[ $rep == 5 ]] || ts_fail "tshark sees $rep ICMP echo replies, expected 5"
((frags >= 4)) || ts_fail "tshark sees $frags IP fragments, expected >= 4 (3000-byte pings both ways)"
ts_pass "tshark read the capture: 5 echo requests, 5 replies, $frags fragments; exit 0; device removed"
