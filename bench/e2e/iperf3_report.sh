#!/usr/bin/env bash
# bench/e2e/iperf3_report.sh — tunstack against the kernel, measured in one run with the same client
# (stock iperf3 -J, -C cubic) for every path, written as a JSON report and a PNG plot:
#
#   kernel -> tunstack   iperf3 -c 198.18.0.2 through the TUN to tunstackd --serve iperf3:5201
#   tunstack -> kernel   the same with -R (the stack sends)
#   kernel -> kernel     iperf3 -c to iperf3 -s over a veth pair between two namespaces (the reference)
#
# For each path: Gbit/s (the receiver's sum, as iperf3 reports it), the sender's retransmits, and the
# CPU the server process (tunstackd, or the kernel-side iperf3 -s) and the client used during the
# run: the server's from /proc/PID/stat (utime + stime), the client's from its own -J
# cpu_utilization_percent.host_total. CPU per Gbit/s is CPU seconds per Gbit moved, i.e. cores busy
# per Gbit/s of throughput. Figures are the median of RUNS runs (CPU: of the same run as the
# median throughput). Hygiene as throughput.sh (NOTES.md): fresh namespaces, cubic, no metrics
# saving, MTU 1500, server and client pinned to different cores when there are two. A benchmark:
# timing only, not part of tools/test. Run as root: bench/e2e/iperf3_report.sh
#
# Environment: SECS (iperf3 -t, default 5), RUNS (default 1), PARALLEL (iperf3 -P, default 1),
# BUILD (default build), DAEMON_ARGS (extra tunstackd flags, e.g. "--offload"), OUT (the JSON file,
# default bench-iperf3.json), PNG (default: OUT with .png). Exit codes: 0 report written, 1 a
# measurement failed, 2 not root or not built.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
SECS=${SECS:-5}
RUNS=${RUNS:-1}
PARALLEL=${PARALLEL:-1}
OUT=${OUT:-bench-iperf3.json}
PNG=${PNG:-${OUT%.json}.png}
TUNSTACKD=$ROOT/$BUILD/tools/tunstackd
PY=/usr/bin/python3


NS_TUN=tsbench-ip3-$$
NS_A=tsbench-ip3a-$$
NS_B=tsbench-ip3b-$$
BENCH_NAME=iperf3_report
source "$ROOT/bench/e2e/lib.sh"
e2e_require --iperf3 "$TUNSTACKD"
e2e_init

HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }  # utime + stime

# measure LABEL NS SERVER_PID ADDR [IPERF3 ARGS...] — one iperf3 -J run; appends a JSON line to
# $TMP/LABEL.runs: {"gbps", "retransmits", "server_cpu_s", "client_cpu_s", "seconds"}
measure() {
    local label=$1 ns=$2 spid=$3 addr=$4
    shift 4
    local t0 t1
    t0=$(cpu_ticks "$spid") || die "$label: the server (pid $spid) is gone"
    timeout $((SECS + 30)) ip netns exec "$ns" "${PIN_C[@]}" iperf3 -c "$addr" -C cubic -t "$SECS" \
        -P "$PARALLEL" -J "$@" >"$TMP/run.json" 2>&1 || die "$label: iperf3 failed: $(head -c 300 "$TMP/run.json")"
    t1=$(cpu_ticks "$spid") || die "$label: the server (pid $spid) is gone"
    "$PY" - "$TMP/run.json" "$(((t1 - t0)))" "$HZ" >>"$TMP/$label.runs" <<'EOF' || die "$label: cannot read iperf3's result"
import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d:
    sys.exit(d["error"])
e = d["end"]
secs = e["sum_received"]["seconds"]
print(json.dumps({
    "gbps": e["sum_received"]["bits_per_second"] / 1e9,
    "retransmits": e["sum_sent"].get("retransmits", 0),
    "seconds": secs,
    "server_cpu_s": int(sys.argv[2]) / int(sys.argv[3]),
    "client_cpu_s": e["cpu_utilization_percent"]["host_total"] / 100 * secs,
}))
EOF
}

# ---- TUN: tunstackd with the iperf3 service ----
e2e_ns "$NS_TUN"
# shellcheck disable=SC2086
ip netns exec "$NS_TUN" "${PIN_D[@]}" "$TUNSTACKD" --tun tun0 --host-addr 198.18.0.1/24 --addr 198.18.0.2 \
    --stay-root --serve iperf3:5201 ${DAEMON_ARGS:-} </dev/null 2>"$TMP/tunstackd.log" &
DPID=$!
PIDS+=($DPID)
wait_for 15 grep -q 'tunstackd: ready' "$TMP/tunstackd.log" || die "tunstackd not ready: $(tail -n 2 "$TMP/tunstackd.log")"

# ---- veth: kernel ↔ kernel ----
e2e_ns "$NS_A"
e2e_ns "$NS_B"
timeout 10 ip link add tsb-a netns "$NS_A" type veth peer name tsb-b netns "$NS_B" || die "cannot create the veth pair"
timeout 10 ip -n "$NS_A" addr add 198.18.1.1/24 dev tsb-a
timeout 10 ip -n "$NS_B" addr add 198.18.1.2/24 dev tsb-b
timeout 10 ip -n "$NS_A" link set tsb-a up
timeout 10 ip -n "$NS_B" link set tsb-b up
ip netns exec "$NS_B" "${PIN_D[@]}" iperf3 -s -B 198.18.1.2 >"$TMP/iperf3-s.log" 2>&1 </dev/null &
SPID=$!
PIDS+=($SPID)
iperf_up() { timeout 5 ip netns exec "$NS_B" ss -Hltn 'sport = :5201' | grep -q .; }
wait_for 15 iperf_up || die "iperf3 server did not start: $(tail -n 2 "$TMP/iperf3-s.log")"

for ((i = 0; i < RUNS; i++)); do
    measure kernel_to_tunstack "$NS_TUN" "$DPID" 198.18.0.2
    measure tunstack_to_kernel "$NS_TUN" "$DPID" 198.18.0.2 -R
    measure kernel_to_kernel "$NS_A" "$SPID" 198.18.1.2
done

"$PY" - "$TMP" "$OUT" "$SECS" "$RUNS" "$PARALLEL" "${DAEMON_ARGS:-}" "$(uname -r)" "$(nproc)" <<'EOF' || die "cannot write $OUT"
import datetime, json, sys
tmp, out, secs, runs, parallel, dargs, kernel, cores = sys.argv[1:9]
paths = [("kernel_to_tunstack", "kernel -> tunstack", "tunstackd"),
         ("tunstack_to_kernel", "tunstack -> kernel", "tunstackd"),
         ("kernel_to_kernel", "kernel -> kernel (veth)", "iperf3 -s")]
report = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "kernel": kernel, "cores": int(cores), "seconds": int(secs), "runs": int(runs),
    "parallel": int(parallel), "daemon_args": dargs, "client": "iperf3 -C cubic",
    "paths": [],
}
for key, label, server in paths:
    rs = [json.loads(l) for l in open(f"{tmp}/{key}.runs")]
    rs.sort(key=lambda r: r["gbps"])
    m = rs[(len(rs) - 1) // 2]  # the median run
    gbit = m["gbps"] * m["seconds"]
    report["paths"].append({
        "path": key, "label": label, "server": server,
        "gbps": round(m["gbps"], 3), "gbps_runs": [round(r["gbps"], 3) for r in rs],
        "retransmits": m["retransmits"], "seconds": round(m["seconds"], 3),
        "server_cpu_s": round(m["server_cpu_s"], 3), "client_cpu_s": round(m["client_cpu_s"], 3),
        "server_cpu_s_per_gbit": round(m["server_cpu_s"] / gbit, 4) if gbit > 0 else None,
        "client_cpu_s_per_gbit": round(m["client_cpu_s"] / gbit, 4) if gbit > 0 else None,
    })
ref = report["paths"][2]["gbps"]
for p in report["paths"]:
    p["vs_kernel"] = round(p["gbps"] / ref, 3) if ref > 0 else None
json.dump(report, open(out, "w"), indent=1)
print(f"{'path':26} {'Gbit/s':>8} {'vs veth':>8} {'server CPU s/Gbit':>18} {'client CPU s/Gbit':>18}")
for p in report["paths"]:
    print(f"{p['label']:26} {p['gbps']:8.2f} {p['vs_kernel']:8.2f} "
          f"{p['server_cpu_s_per_gbit']:18.3f} {p['client_cpu_s_per_gbit']:18.3f}")
EOF
"$PY" "$ROOT/bench/e2e/plot_report.py" "$OUT" "$PNG" || die "plotting failed"
echo "iperf3_report: wrote $OUT and $PNG"
