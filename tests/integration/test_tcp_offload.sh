#!/usr/bin/env bash
# --offload (IFF_VNET_HDR + TUN_F_CSUM|TUN_F_TSO4): the kernel hands the daemon 64 KB TCP super-packets
# with partial checksums; the driver completes the checksums and the stack takes the segments whole.
# 50 MB round-trip through echo:7 byte-exact, with super-packets seen and no checksum drops.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tcp_offload
ts_daemon_start --offload --serve echo:7
out=$(ts_ns_t 120 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" echo "$TS_ADDR" 7 50000000 11)
echo "  $out"
[[ $out == OK* ]] || ts_fail "echo round trip with --offload: $out"
ts_stats "$TS_TMP/stats"
gso=$(ts_stat "$TS_TMP/stats" tun.rx_gso)
done_csum=$(ts_stat "$TS_TMP/stats" tun.rx_csum_completed)
bad=$(( $(ts_stat "$TS_TMP/stats" tcp.drop.bad_checksum) + $(ts_stat "$TS_TMP/stats" ip.drop.bad_checksum) + $(ts_stat "$TS_TMP/stats" tun.rx_bad_vnet) ))
echo "  super-packets $gso, checksums completed $done_csum, bad $bad"
((gso > 0)) || ts_fail "no TSO super-packet arrived (tun.rx_gso 0): offloads not negotiated?"
((done_csum > 0)) || ts_fail "no partial checksum was completed"
((bad == 0)) || ts_fail "$bad packets dropped for checksums or bad vnet headers"
ts_daemon_stop TERM || ts_fail "tunstackd did not stop"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC"
ts_pass "50 MB echoed byte-exact with offloads: $gso super-packets, $done_csum checksums completed, 0 bad"
