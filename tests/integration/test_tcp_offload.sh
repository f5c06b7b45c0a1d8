#!/usr/bin/env bash
# --offload (IFF_VNET_HDR + TUN_F_CSUM|TUN_F_TSO4), both directions:
#   1. kernel → stack and back: a 50 MB round trip through echo:7 byte-exact; the kernel hands the
#      daemon 64 KB TCP super-packets with partial checksums (completed by the driver), and the
#      echo goes back as TSO super-packets (the kernel takes them whole);
#   2. stack → kernel: curl downloads 50 MB from http:80 byte-exact (sha256) through TSO
#      super-packets; the kernel's TCP counts no checksum error;
#   3. --pcap records the super-packets as written (tshark sees TCP packets from the stack longer
#      than the 1500-byte MTU);
#   4. under --impair (super-packets dropped, duplicated, reordered, delayed and corrupted whole) a
#      20 MB echo is still byte-exact;
#   5. --offload with --mtu 65535 (no super-packet can be larger) starts and echoes.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

SEED=${TS_IMPAIR_SEED:-7}
ts_ns_create tst-tcp_offload
kernel_csum_errors() { # the namespace's TcpInCsumErrors (/proc/net/snmp)
    ts_ns awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InCsumErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# 1. Echo round trip.
ts_daemon_start --offload --serve echo:7 --serve http:80 --www "$TS_TMP"
out=$(ts_ns_t 120 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" echo "$TS_ADDR" 7 50000000 11)
echo "  $out"
[[ $out == OK* ]] || ts_fail "echo round trip with --offload: $out"
ts_stats "$TS_TMP/s1"
gso=$(ts_stat "$TS_TMP/s1" tun.rx_gso)
done_csum=$(ts_stat "$TS_TMP/s1" tun.rx_csum_completed)
bad=$(( $(ts_stat "$TS_TMP/s1" tcp.drop.bad_checksum) + $(ts_stat "$TS_TMP/s1" ip.drop.bad_checksum) + $(ts_stat "$TS_TMP/s1" tun.rx_bad_vnet) ))
tx_gso1=$(ts_stat "$TS_TMP/s1" tun.tx_gso)
echo "  super-packets in $gso, checksums completed $done_csum, bad $bad; super-packets out $tx_gso1"
((gso > 0)) || ts_fail "no TSO super-packet arrived (tun.rx_gso 0): offloads not negotiated?"
((done_csum > 0)) || ts_fail "no partial checksum was completed"
((bad == 0)) || ts_fail "$bad packets dropped for checksums or bad vnet headers"
((tx_gso1 > 0)) || ts_fail "the echo went back without super-packets (tun.tx_gso 0)"

# 2. Download: stack → kernel.
SIZE=$((50 * 1000 * 1000))
timeout 60 openssl enc -aes-128-ctr -K 00112233445566778899aabbccddeeff -iv 0 -nosalt </dev/zero 2>/dev/null |
    head -c "$SIZE" >"$TS_TMP/big.bin"
want=$(sha256sum <"$TS_TMP/big.bin" | cut -d' ' -f1)
csum_before=$(kernel_csum_errors)
ts_ns_t 60 curl -sS --max-time 50 -o "$TS_TMP/got.bin" "http://$TS_ADDR/big.bin" || ts_fail "curl failed ($?)"
got=$(sha256sum <"$TS_TMP/got.bin" | cut -d' ' -f1)
[[ $got == "$want" ]] || ts_fail "sha256 of the download differs ($(stat -c %s "$TS_TMP/got.bin") bytes)"
rm -f "$TS_TMP/got.bin"
ts_stats "$TS_TMP/s2"
tx_gso=$(( $(ts_stat "$TS_TMP/s2" tun.tx_gso) - tx_gso1 ))
tx_segs=$(ts_stat "$TS_TMP/s2" tun.tx_gso_segments)
tso=$(ts_stat "$TS_TMP/s2" tcp.tx_tso_packets)
tx_err=$(ts_stat "$TS_TMP/s2" tun.tx_errors)
csum_delta=$(( $(kernel_csum_errors) - csum_before ))
echo "  50 MB download byte-exact: $tx_gso super-packets written ($tx_segs segments in all), tun.tx_errors $tx_err, kernel TcpInCsumErrors +$csum_delta"
((tx_gso > 100)) || ts_fail "the download used $tx_gso super-packets: TSO not in use?"
((tso >= tx_gso)) || ts_fail "tcp.tx_tso_packets $tso below the super-packets written"
((tx_err == 0)) || ts_fail "the kernel refused $tx_err writes"
((csum_delta == 0)) || ts_fail "the kernel counted $csum_delta TCP checksum errors"
ts_daemon_stop TERM || ts_fail "tunstackd did not stop"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC"

# 3. The capture shows the super-packets as handed to the device.
head -c 2000000 "$TS_TMP/big.bin" >"$TS_TMP/small.bin"
rm -f "$TS_TMP/big.bin"
ts_daemon_start --offload --serve http:80 --www "$TS_TMP" --pcap "$TS_TMP/cap.pcap"
ts_ns_t 30 curl -sS --max-time 20 -o /dev/null "http://$TS_ADDR/small.bin" || ts_fail "curl small.bin failed"
ts_daemon_stop TERM || ts_fail "tunstackd did not stop"
big=$(timeout 60 tshark -n -r "$TS_TMP/cap.pcap" -Y "ip.src == $TS_ADDR && tcp && frame.len > 1500" 2>/dev/null | wc -l)
echo "  pcap: $big TCP packets from the stack longer than the MTU (super-packets as written)"
((big > 0)) || ts_fail "the capture shows no super-packet"

# 4. Impaired.
ts_daemon_start --offload --serve echo:7 --impair "loss=1%,dup=1%,reorder=2%,delay=1ms,corrupt=1%,seed=$SEED"
out=$(ts_ns_t 120 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" echo "$TS_ADDR" 7 20000000 12)
echo "  --impair: $out"
[[ $out == OK* ]] || ts_fail "echo under --impair with --offload: $out"
ts_stats "$TS_TMP/s4"
echo "  impairment: tx dropped $(ts_stat "$TS_TMP/s4" impair.tx.dropped), corrupted $(ts_stat "$TS_TMP/s4" impair.tx.corrupted); super-packets out $(ts_stat "$TS_TMP/s4" tun.tx_gso); tcp retransmits $(ts_stat "$TS_TMP/s4" tcp.retransmits), rto $(ts_stat "$TS_TMP/s4" tcp.rto)"
(($(ts_stat "$TS_TMP/s4" tun.tx_gso) > 0)) || ts_fail "no super-packet under --impair"
(($(ts_stat "$TS_TMP/s4" impair.tx.dropped) > 0 && $(ts_stat "$TS_TMP/s4" impair.tx.corrupted) > 0)) ||
    ts_fail "the fault injector dropped or corrupted nothing: impairment not applied?"
ts_daemon_stop TERM || ts_fail "tunstackd did not stop"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC"
# 5. --offload with the largest MTU (no room left for a super-packet: TSO stays off) still serves.
ts_daemon_start --offload --mtu 65535 --serve echo:7
out=$(ts_ns_t 60 /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" echo "$TS_ADDR" 7 2000000 13)
[[ $out == OK* ]] || ts_fail "echo with --offload --mtu 65535: $out"
ts_daemon_stop TERM || ts_fail "tunstackd did not stop"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd --offload --mtu 65535 exited $TS_DAEMON_RC"
ts_pass "50 MB echoed and 50 MB downloaded byte-exact with offloads ($gso super-packets in, $tx_gso out for the download), super-packets in the pcap, 20 MB echo under --impair"
