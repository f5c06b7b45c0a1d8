#!/usr/bin/env bash
# bench/e2e/compare.sh — tunstack against lwIP 2.1.3 and against the kernel, in one run:
#
#   in        a kernel socket sends BYTES to discard:9 through the TUN, timed from connect to the
#             server's FIN (sent only after it read every byte)
#   out       a kernel socket reads BYTES from chargen:19 (every byte checked against RFC 864)
#   crr echo  connections/s: connect, 32 bytes to echo:7 and back, the client closes first
#   crr http  connections/s: connect, GET with Connection: close to :80, the reply read to the
#             server's FIN (the server closes first)
#   rr        request/response latency over one connection to echo:7 (64 bytes), p50 and p99
#
# for four peers on the same setup:
#   tunstack          tunstackd (no offloads) on a TUN in a fresh namespace
#   tunstack-offload  tunstackd --offload (vnet_hdr super-packets) on a TUN in a fresh namespace
#   lwip              bench/e2e/lwip_peer (our own program around Debian's liblwip 2.1.3, linked
#                     as-is: its compile-time options, e.g. a 64 KiB window and no SACK, are listed in
#                     lwip_peer.c) on a TUN in a fresh namespace; lwIP has no offloads, so the same
#                     lwIP figures are the reference for both tunstack rows
#   kernel-veth       kernel <-> kernel over a veth pair between two namespaces: in/out with iperf3
#                     -C cubic -t SECS, crr/rr against tcpbench's own epoll servers (serve mode)
#
# The kernel-side client is bench/e2e/tcpbench.c (C: a Python client manages fewer connections/s
# than the stacks). The table's "crr client core % busy" is the client's own CPU time over the
# run: near 100 the client (its core) is the bound, not the peer. On veth that core also carries
# much of both kernel ends' TCP work (softirq in the sender's context), so the kernel-veth crr
# figure is a kernel-to-kernel figure, not a pure bound of the client. Both C
# programs are compiled by this script with cc into its temp dir (warnings are errors), so neither
# meson nor tools/test needs liblwip-dev; without `pkg-config lwip` the script exits 2.
#
# Each in/out/crr figure is the median of RUNS runs (crr runs last SECS seconds, CONC connections at
# a time); rr is RR_COUNT round trips. Hygiene (NOTES.md): fresh namespaces, cubic per socket,
# tcp_no_metrics_save=1, MTU 1500, TUN txqueuelen 5000, tcp_max_tw_buckets=0 and the whole local
# port range on the client side, the peer and the client pinned to different cores (PIN_D/PIN_C of
# lib.sh: cores 0 and 1 when nproc >= 2; on more cores the same two, the rest stays idle for the
# kernel's softirq work). Timing only: never a pass/fail test. Run as root: bench/e2e/compare.sh
#
# Environment: BYTES (per in/out run, default 500000000), RUNS (default 3), SECS (crr and iperf3
# seconds, default 5), CONC (crr connections in flight, default 8), RR_COUNT (default 20000), BUILD
# (build dir, default build), OUT (JSON file, default bench-compare.json), PEERS (default
# "tunstack tunstack-offload lwip kernel-veth"; a subset measures only those). Exit codes: 0 table
# and JSON written, 1 a measurement or a check failed, 2 not root, not built, iperf3 or liblwip-dev
# missing, an unknown peer.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BYTES=${BYTES:-500000000}
RUNS=${RUNS:-3}
SECS=${SECS:-5}
CONC=${CONC:-8}
RR_COUNT=${RR_COUNT:-20000}
OUT=${OUT:-bench-compare.json}
PEERS=${PEERS:-tunstack tunstack-offload lwip kernel-veth}
TUNSTACKD=$ROOT/$BUILD/tools/tunstackd
PY=/usr/bin/python3

BENCH_NAME=compare
source "$ROOT/bench/e2e/lib.sh"
e2e_require --iperf3 "$TUNSTACKD"
pkg-config --exists lwip ||
    { echo "$BENCH_NAME: liblwip-dev missing (apt-get install liblwip-dev): no lwIP to compare with" >&2; exit 2; }
for p in $PEERS; do
    [[ $p =~ ^(tunstack|tunstack-offload|lwip|kernel-veth)$ ]] ||
        { echo "$BENCH_NAME: unknown peer $p (PEERS: tunstack tunstack-offload lwip kernel-veth)" >&2; exit 2; }
done
e2e_init

# ---- build the two C programs (warning-free or not at all) ----
CFLAGS=(-O2 -std=gnu11 -Wall -Wextra -Wshadow -Werror)
timeout 120 cc "${CFLAGS[@]}" "$ROOT/bench/e2e/tcpbench.c" -o "$TMP/tcpbench" 2>"$TMP/cc.log" ||
    die "cannot build tcpbench: $(head -c 600 "$TMP/cc.log")"
# shellcheck disable=SC2046  # pkg-config prints separate flags
timeout 120 cc "${CFLAGS[@]}" $(pkg-config --cflags lwip) "$ROOT/bench/e2e/lwip_peer/lwip_peer.c" \
    -o "$TMP/lwip_peer" $(pkg-config --libs lwip) 2>"$TMP/cc.log" ||
    die "cannot build lwip_peer: $(head -c 600 "$TMP/cc.log")"
TB=$TMP/tcpbench

stop_pid() { # PID: TERM, wait for it, forget it (so the cleanup trap never signals a reused PID)
    local p=$1 q keep=()
    kill -TERM "$p" 2>/dev/null
    wait_for 20 eval "! kill -0 $p 2>/dev/null" || kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    for q in "${PIDS[@]}"; do [[ $q == "$p" ]] || keep+=("$q"); done
    PIDS=("${keep[@]}")
}

client_ns() { # NS: the kernel side of a measurement is a client
    timeout 10 ip netns exec "$1" sysctl -q -w net.ipv4.tcp_max_tw_buckets=0 \
        net.ipv4.ip_local_port_range="1024 65535" >/dev/null || die "sysctl in $1 failed"
}

# ---- measurements against HOST in namespace NS; results in R[peer.metric] ----
declare -A R RUNS_OF
run_tb() { # NS SECS_LIMIT ARGS... → the client's line, or die
    local ns=$1 lim=$2 out
    shift 2
    out=$(timeout "$lim" ip netns exec "$ns" "${PIN_C[@]}" "$TB" "$@" 2>&1) || die "tcpbench $* in $ns failed: $out"
    [[ $out == FAIL* ]] && die "tcpbench $*: $out"
    echo "$out"
}
gbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.2f", b * 8 / s / 1e9}'; }
measure() { # PEER NS HOST (in, out, crr echo, crr http, rr)
    local peer=$1 ns=$2 host=$3 i v ins=() outs=()
    for ((i = 0; i < RUNS; i++)); do
        v=$(run_tb "$ns" 300 send "$host" 9 "$BYTES") || exit 1
        ins+=("$(gbps "$BYTES" "$v")")
        v=$(run_tb "$ns" 300 recv "$host" 19 "$BYTES") || exit 1
        outs+=("$(gbps "$BYTES" "$v")")
    done
    measure_crr_rr "$peer" "$ns" "$host"
    R[$peer.in]=$(printf '%s\n' "${ins[@]}" | median)
    R[$peer.out]=$(printf '%s\n' "${outs[@]}" | median)
    RUNS_OF[$peer.in]="${ins[*]}"
    RUNS_OF[$peer.out]="${outs[*]}"
}
measure_crr_rr() { # PEER NS HOST
    local peer=$1 ns=$2 host=$3 i v f ces=() chs=() cpus=() errs=0
    for ((i = 0; i < RUNS; i++)); do
        v=$(run_tb "$ns" $((SECS + 30)) crr "$host" 7 "$SECS" "$CONC" echo) || exit 1
        read -ra f <<<"$v" # CONN_PER_S DONE ERRORS CLIENT_CPU_PERCENT
        ces+=("${f[0]}")
        errs=$((errs + f[2]))
        cpus+=("${f[3]}")
        v=$(run_tb "$ns" $((SECS + 30)) crr "$host" 80 "$SECS" "$CONC" http) || exit 1
        read -ra f <<<"$v"
        chs+=("${f[0]}")
        errs=$((errs + f[2]))
        cpus+=("${f[3]}")
    done
    R[$peer.crr_client_cpu]=$(printf '%s\n' "${cpus[@]}" | median)
    R[$peer.crr_echo]=$(printf '%s\n' "${ces[@]}" | median)
    R[$peer.crr_http]=$(printf '%s\n' "${chs[@]}" | median)
    RUNS_OF[$peer.crr_echo]="${ces[*]}"
    RUNS_OF[$peer.crr_http]="${chs[*]}"
    R[$peer.crr_errors]=$errs
    v=$(run_tb "$ns" 120 rr "$host" 7 "$RR_COUNT" 64) || exit 1
    R[$peer.rr_p50]=${v%% *}
    R[$peer.rr_p99]=${v##* }
}

# ---- tunstackd, with and without --offload ----
tunstack_peer() { # PEER EXTRA_ARGS...
    local peer=$1 ns=tsbench-$1-$$ log=$TMP/$1.log
    shift
    e2e_ns "$ns"
    client_ns "$ns"
    mkdir -p "$TMP/www" && printf '0123456789abcde\n' >"$TMP/www/r"
    ip netns exec "$ns" "${PIN_D[@]}" "$TUNSTACKD" --tun tun0 --host-addr 198.18.0.1/24 --addr 198.18.0.2 \
        --stay-root --serve discard:9 --serve chargen:19 --serve echo:7 --serve http:80 --www "$TMP/www" \
        "$@" </dev/null 2>"$log" &
    local pid=$!
    PIDS+=("$pid")
    wait_for 15 grep -qs 'tunstackd: ready' "$log" || die "tunstackd not ready: $(tail -n 2 "$log")"
    measure "$peer" "$ns" 198.18.0.2
    stop_pid "$pid"
    timeout 10 ip netns del "$ns"
}

# ---- lwIP ----
lwip_peer() {
    local ns=tsbench-lwip-$$ log=$TMP/lwip.log
    e2e_ns "$ns"
    client_ns "$ns"
    ip netns exec "$ns" "${PIN_D[@]}" "$TMP/lwip_peer" tun0 198.18.0.2 </dev/null 2>"$log" &
    local pid=$!
    PIDS+=("$pid")
    wait_for 15 grep -qs 'lwip_peer: ready' "$log" || die "lwip_peer not ready: $(tail -n 2 "$log")"
    timeout 10 ip -n "$ns" addr add 198.18.0.1/24 dev tun0 &&
        timeout 10 ip -n "$ns" link set tun0 mtu 1500 txqueuelen 5000 up || die "cannot configure lwIP's TUN"
    measure lwip "$ns" 198.18.0.2
    # Bytes check: every in run's connection was read to the byte by lwIP's discard.
    local n
    n=$(grep -c "^discard: $BYTES bytes\$" "$log")
    ((n == RUNS)) || die "lwIP discard logged $n of $RUNS connections with $BYTES bytes: $(grep '^discard' "$log" | head -n 3)"
    stop_pid "$pid"
    LWIP_SUMMARY=$(grep 'lwip_peer: done' "$log")
    timeout 10 ip netns del "$ns"
}

# ---- kernel <-> kernel over veth ----
veth_peer() {
    local a=tsbench-a-$$ b=tsbench-b-$$ i v runs=()
    e2e_ns "$a"
    e2e_ns "$b"
    client_ns "$a"
    timeout 10 ip netns exec "$b" sysctl -q -w net.ipv4.tcp_max_tw_buckets=0 >/dev/null
    timeout 10 ip link add tsb-a netns "$a" type veth peer name tsb-b netns "$b" || die "cannot create the veth pair"
    timeout 10 ip -n "$a" addr add 198.18.1.1/24 dev tsb-a
    timeout 10 ip -n "$b" addr add 198.18.1.2/24 dev tsb-b
    timeout 10 ip -n "$a" link set tsb-a mtu 1500 up
    timeout 10 ip -n "$b" link set tsb-b mtu 1500 up
    ip netns exec "$b" "${PIN_D[@]}" iperf3 -s -B 198.18.1.2 >"$TMP/iperf3-s.log" 2>&1 </dev/null &
    PIDS+=($!)
    ip netns exec "$b" "${PIN_D[@]}" "$TB" serve 198.18.1.2 >"$TMP/serve.log" 2>&1 </dev/null &
    PIDS+=($!)
    iperf_up() { timeout 5 ip netns exec "$a" "$PY" -c 'import socket; socket.create_connection(("198.18.1.2", 5201), 1).close()' 2>/dev/null; }
    wait_for 15 iperf_up || die "iperf3 server did not start: $(tail -n 2 "$TMP/iperf3-s.log")"
    wait_for 15 grep -qs ready "$TMP/serve.log" || die "tcpbench serve did not start: $(tail -n 2 "$TMP/serve.log")"
    for ((i = 0; i < RUNS; i++)); do
        timeout $((SECS + 30)) ip netns exec "$a" "${PIN_C[@]}" iperf3 -c 198.18.1.2 -C cubic -t "$SECS" -J \
            >"$TMP/iperf3.json" 2>&1 || die "iperf3 client failed: $(head -c 300 "$TMP/iperf3.json")"
        v=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))' "$TMP/iperf3.json") ||
            die "cannot read iperf3's result: $(head -c 300 "$TMP/iperf3.json")"
        runs+=("$v")
    done
    R[kernel-veth.in]=$(printf '%s\n' "${runs[@]}" | median)
    R[kernel-veth.out]=${R[kernel-veth.in]} # kernel to kernel: the same path both ways
    RUNS_OF[kernel-veth.in]="${runs[*]}"
    RUNS_OF[kernel-veth.out]="${runs[*]}"
    measure_crr_rr kernel-veth "$a" 198.18.1.2
}

LWIP_SUMMARY=""
for p in $PEERS; do
    case $p in
        tunstack) tunstack_peer tunstack ;;
        tunstack-offload) tunstack_peer tunstack-offload --offload ;;
        lwip) lwip_peer ;;
        kernel-veth) veth_peer ;;
    esac
done

# ---- report ----
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b}'; }
METRICS=(in out crr_echo crr_http)
declare -A UNIT=([in]="Gbit/s" [out]="Gbit/s" [crr_echo]="conn/s" [crr_http]="conn/s")
echo
echo "tunstack vs lwIP 2.1.3 (Debian, as shipped) vs kernel veth ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores,"
echo "kernel $(uname -r), MTU 1500, kernel side cubic; medians of $RUNS; in/out $BYTES bytes per run,"
echo "crr $SECS s x $RUNS with $CONC connections in flight, rr $RR_COUNT x 64 B)"
printf '%-18s %-9s %10s %10s %10s %10s %10s %10s\n' "metric" "unit" "tunstack" "+offload" "lwip" "veth" \
    "ts/lwip" "ts/veth"
for m in "${METRICS[@]}"; do
    t=${R[tunstack.$m]:-} o=${R[tunstack-offload.$m]:-} l=${R[lwip.$m]:-} k=${R[kernel-veth.$m]:-}
    printf '%-18s %-9s %10s %10s %10s %10s %10s %10s\n' "$m" "${UNIT[$m]}" "${t:--}" "${o:--}" "${l:--}" "${k:--}" \
        "$(ratio "$t" "$l")" "$(ratio "$t" "$k")"
    printf '%-18s %-9s %10s %10s %10s %10s %10s %10s\n' "" "+offload" "" "" "" "" "$(ratio "$o" "$l")" "$(ratio "$o" "$k")"
done
printf '%-18s %-9s %10s %10s %10s %10s\n' "crr client core" "% busy" "${R[tunstack.crr_client_cpu]:--}" \
    "${R[tunstack-offload.crr_client_cpu]:--}" "${R[lwip.crr_client_cpu]:--}" "${R[kernel-veth.crr_client_cpu]:--}"
for m in rr_p50 rr_p99; do
    printf '%-18s %-9s %10s %10s %10s %10s %10s %10s\n' "$m" "us" "${R[tunstack.$m]:--}" "${R[tunstack-offload.$m]:--}" \
        "${R[lwip.$m]:--}" "${R[kernel-veth.$m]:--}" "$(ratio "${R[tunstack.$m]:-}" "${R[lwip.$m]:-}")" \
        "$(ratio "${R[tunstack.$m]:-}" "${R[kernel-veth.$m]:-}")"
done
echo "(ratios: higher is better for in/out/crr; for rr latency lower is better. crr errors:" \
    "tunstack ${R[tunstack.crr_errors]:--}, +offload ${R[tunstack-offload.crr_errors]:--}," \
    "lwip ${R[lwip.crr_errors]:--}, veth ${R[kernel-veth.crr_errors]:--})"
[[ -n $LWIP_SUMMARY ]] && echo "$LWIP_SUMMARY"

# JSON: {"meta": {...}, "peers": {peer: {metric: value, metric_runs: [...]}}, "ratios": {...}}
{
    for k in "${!R[@]}"; do printf 'R\t%s\t%s\n' "$k" "${R[$k]}"; done
    for k in "${!RUNS_OF[@]}"; do printf 'U\t%s\t%s\n' "$k" "${RUNS_OF[$k]}"; done
} | "$PY" -c '
import json, sys, time, os
peers, ratios = {}, {}
for line in sys.stdin:
    kind, key, val = line.rstrip("\n").split("\t")
    peer, metric = key.rsplit(".", 1)
    d = peers.setdefault(peer, {})
    if kind == "R":
        d[metric] = int(val) if val.isdigit() else float(val)
    else:
        d[metric + "_runs"] = [float(x) for x in val.split() if x.replace(".", "", 1).isdigit()]
def r(a, b, m):
    x, y = peers.get(a, {}).get(m), peers.get(b, {}).get(m)
    return round(x / y, 3) if x is not None and y else None
for m in ("in", "out", "crr_echo", "crr_http", "rr_p50", "rr_p99"):
    for t in ("tunstack", "tunstack-offload"):
        ratios[f"{t}/lwip.{m}"] = r(t, "lwip", m)
        ratios[f"{t}/kernel-veth.{m}"] = r(t, "kernel-veth", m)
meta = dict(date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), cores=os.cpu_count(),
            kernel=os.uname().release, mtu=1500, cc="cubic", bytes=int(sys.argv[1]), runs=int(sys.argv[2]),
            secs=float(sys.argv[3]), conc=int(sys.argv[4]), rr_count=int(sys.argv[5]),
            lwip="2.1.3 (Debian liblwip0, options as shipped: TCP_WND 65535, wscale 1, TCP_SND_BUF 65535, TCP_MSS 1460, no SACK)")
json.dump(dict(meta=meta, peers=peers, ratios=ratios), open(sys.argv[6], "w"), indent=2, sort_keys=True)
' "$BYTES" "$RUNS" "$SECS" "$CONC" "$RR_COUNT" "$OUT" || die "cannot write $OUT"
echo "wrote $OUT"
