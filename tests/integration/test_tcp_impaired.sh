#!/usr/bin/env bash
# Under impairment, 20 MB still arrive byte-exact in both directions (an echo round trip: kernel →
# stack and stack → kernel at once):
#   1. the daemon's own --impair loss=3%,dup=1%,reorder=5%,delay=10ms,corrupt=0.1% (both directions):
#      each fault must really have happened in each direction (impair.{tx,rx}.{dropped,duplicated,
#      reordered,corrupted} > 0), and packets corrupted on the way in must have been caught by the
#      stack's checksums (ip.drop.bad_checksum + tcp.drop.bad_checksum > 0, and no more than were
#      corrupted: nothing else corrupts here);
#   2. a kernel-side nftables rule dropping 3% of the packets on the TUN, in and out.
# Time bounds: the two clients (170 s and 100 s at most; here they took ~80 s and ~25 s) stay within
# tools/test's 300 s per test.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

SEED=${TS_IMPAIR_SEED:-7}
NBYTES=20000000
ts_ns_create tst-tcp_impaired
client() { # client SECONDS SEED
    ts_ns_t "$1" /usr/bin/python3 "$TS_ROOT/tests/integration/tcp_client.py" echo "$TS_ADDR" 7 "$NBYTES" "$2"
}

# 1. --impair
ts_daemon_start --serve echo:7 --impair "loss=3%,dup=1%,reorder=5%,delay=10ms,corrupt=0.1%,seed=$SEED"
out=$(client 170 1)
echo "  --impair seed=$SEED: $out"
[[ $out == OK* ]] || ts_fail "--impair: $out"
ts_stats "$TS_TMP/s1"
missing=()
for dir in tx rx; do
    for what in dropped duplicated reordered corrupted; do
        v=$(ts_stat "$TS_TMP/s1" "impair.$dir.$what")
        [[ $v != - ]] && ((v > 0)) || missing+=("impair.$dir.$what=$v")
    done
done
((${#missing[@]} == 0)) || ts_fail "impairment not applied: ${missing[*]}"
echo "  impairment: $(grep -E '^impair\.(tx|rx)\.(dropped|duplicated|reordered|corrupted) ' "$TS_TMP/s1" | tr '\n' ' ')"
csum=$(($(ts_stat "$TS_TMP/s1" ip.drop.bad_checksum) + $(ts_stat "$TS_TMP/s1" tcp.drop.bad_checksum)))
rxc=$(ts_stat "$TS_TMP/s1" impair.rx.corrupted)
((csum > 0 && csum <= rxc)) ||
    ts_fail "checksum drops in the stack: ip.drop.bad_checksum + tcp.drop.bad_checksum = $csum for $rxc packets corrupted on the way in (want 1..$rxc)"
echo "  corrupted on the way in: $rxc; dropped by the stack's checksums: $csum (ip $(ts_stat "$TS_TMP/s1" ip.drop.bad_checksum), tcp $(ts_stat "$TS_TMP/s1" tcp.drop.bad_checksum)); tcp.retransmits $(ts_stat "$TS_TMP/s1" tcp.retransmits)"
ts_daemon_stop TERM || ts_fail "tunstackd did not stop"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC"

# 2. nftables: drop 3% on the TUN, both directions, on the kernel side; NewReno this time (CUBIC,
#    the default, ran above).
ts_daemon_start --serve echo:7 --cc newreno
timeout 10 ip netns exec "$TS_NS" nft -f - <<NFT || ts_fail "nft rules could not be installed"
table inet tslossy {
    chain in { type filter hook input priority 0; iifname "$TS_TUN" numgen random mod 100 < 3 counter drop; }
    chain out { type filter hook output priority 0; oifname "$TS_TUN" numgen random mod 100 < 3 counter drop; }
}
NFT
out=$(client 100 2)
echo "  nftables 3% drop: $out"
[[ $out == OK* ]] || ts_fail "nftables loss: $out"
drops=$(timeout 10 ip netns exec "$TS_NS" nft list table inet tslossy | grep -oE 'packets [0-9]+' | awk '{s+=$2} END {print s+0}')
echo "  nftables dropped $drops packets"
((drops > 0)) || ts_fail "nftables dropped nothing"
ts_pass "20 MB echoed byte-exact under --impair (seed $SEED, CUBIC) and under 3% nftables loss (NewReno)"
