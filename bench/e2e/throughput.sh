#!/usr/bin/env bash
# bench/e2e/throughput.sh — end-to-end TCP throughput against the Linux kernel, in one run:
#
#   kernel → stack   a kernel socket sends N bytes to tunstackd's discard:9 through the TUN; timed
#                    from connect to the server's FIN (sent only after it has read every byte)
#   stack → kernel   a kernel socket reads N bytes from tunstackd's chargen:19; timed from connect to
#                    the N-th byte
#   kernel → kernel  iperf3 over a veth pair between two namespaces (-C cubic on both ends, -t SECS):
#                    the reference the table's ratios are taken against
#
# Each figure is the median of RUNS runs. Hygiene (NOTES.md): fresh namespaces, cubic per socket
# (TCP_CONGESTION; iperf3 -C cubic), net.ipv4.tcp_no_metrics_save=1, MTU 1500 everywhere, the daemon
# and the kernel-side client pinned to different cores when there are two. Timing only: not part of
# tools/test. Run as root: bench/e2e/throughput.sh
#
# Environment: BYTES (per TUN run, default 500000000), RUNS (default 3), SECS (iperf3 -t, default 5),
# BUILD (build dir, default build), DAEMON_ARGS (extra tunstackd flags, e.g. "--offload" or
# "--cc newreno"). Exit codes: 0 table printed, 1 a measurement failed, 2 not root or
# not built.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BYTES=${BYTES:-500000000}
RUNS=${RUNS:-3}
SECS=${SECS:-5}
TUNSTACKD=$ROOT/$BUILD/tools/tunstackd
CLIENT=$ROOT/tests/integration/tcp_client.py
PY=/usr/bin/python3


NS_TUN=tsbench-tun-$$
NS_A=tsbench-a-$$
NS_B=tsbench-b-$$
BENCH_NAME=throughput
source "$ROOT/bench/e2e/lib.sh"
e2e_require --iperf3 "$TUNSTACKD"
e2e_init

# ---- TUN: tunstackd with discard and chargen ----
e2e_ns "$NS_TUN"
ip netns exec "$NS_TUN" "${PIN_D[@]}" "$TUNSTACKD" --tun tun0 --host-addr 198.18.0.1/24 --addr 198.18.0.2 \
    --stay-root --serve discard:9 --serve chargen:19 ${DAEMON_ARGS:-} </dev/null 2>"$TMP/tunstackd.log" &
PIDS+=($!)
wait_for 15 grep -q 'tunstackd: ready' "$TMP/tunstackd.log" || die "tunstackd not ready: $(tail -n 2 "$TMP/tunstackd.log")"

gbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.2f", b * 8 / s / 1e9}'; }
tun_run() { # MODE PORT → Gbit/s
    local secs
    secs=$(timeout 120 ip netns exec "$NS_TUN" "${PIN_C[@]}" "$PY" "$CLIENT" "$1" 198.18.0.2 "$2" "$BYTES") ||
        die "$1 to port $2 failed: $secs"
    [[ $secs =~ ^[0-9.]+$ ]] || die "$1 to port $2: $secs"
    gbps "$BYTES" "$secs"
}
in_runs=() out_runs=()
for ((i = 0; i < RUNS; i++)); do
    v=$(tun_run send 9) || exit 1  # die in $(...) ends only the subshell
    in_runs+=("$v")
    v=$(tun_run recv 19) || exit 1
    out_runs+=("$v")
done
IN=$(printf '%s\n' "${in_runs[@]}" | median)
OUT=$(printf '%s\n' "${out_runs[@]}" | median)

# ---- veth: kernel ↔ kernel reference ----
e2e_ns "$NS_A"
e2e_ns "$NS_B"
timeout 10 ip link add tsb-a netns "$NS_A" type veth peer name tsb-b netns "$NS_B" || die "cannot create the veth pair"
timeout 10 ip -n "$NS_A" addr add 198.18.1.1/24 dev tsb-a
timeout 10 ip -n "$NS_B" addr add 198.18.1.2/24 dev tsb-b
timeout 10 ip -n "$NS_A" link set tsb-a up
timeout 10 ip -n "$NS_B" link set tsb-b up
ip netns exec "$NS_B" "${PIN_D[@]}" iperf3 -s -B 198.18.1.2 >"$TMP/iperf3-s.log" 2>&1 </dev/null &
PIDS+=($!)
iperf_up() { timeout 5 ip netns exec "$NS_A" "$PY" -c 'import socket; socket.create_connection(("198.18.1.2", 5201), 1).close()' 2>/dev/null; }
wait_for 15 iperf_up || die "iperf3 server did not start: $(tail -n 2 "$TMP/iperf3-s.log")"
veth_runs=()
for ((i = 0; i < RUNS; i++)); do
    timeout $((SECS + 30)) ip netns exec "$NS_A" "${PIN_C[@]}" iperf3 -c 198.18.1.2 -C cubic -t "$SECS" -J \
        >"$TMP/iperf3.json" 2>&1 || die "iperf3 client failed: $(head -c 300 "$TMP/iperf3.json")"
    v=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))' "$TMP/iperf3.json") ||
        die "cannot read iperf3's result: $(head -c 300 "$TMP/iperf3.json")"
    veth_runs+=("$v")
done
VETH=$(printf '%s\n' "${veth_runs[@]}" | median)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
echo
echo "tunstack end-to-end throughput ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, kernel $(uname -r), MTU 1500,"
echo "kernel side cubic, medians of $RUNS; TUN runs move $BYTES bytes each, iperf3 -t $SECS)"
printf '%-34s %10s %10s   %s\n' "path" "Gbit/s" "vs veth" "runs"
printf '%-34s %10s %10s   %s\n' "kernel -> stack (discard, TUN)" "$IN" "$(ratio "$IN" "$VETH")" "${in_runs[*]}"
printf '%-34s %10s %10s   %s\n' "stack -> kernel (chargen, TUN)" "$OUT" "$(ratio "$OUT" "$VETH")" "${out_runs[*]}"
printf '%-34s %10s %10s   %s\n' "kernel -> kernel (veth, iperf3)" "$VETH" "1.00" "${veth_runs[*]}"
