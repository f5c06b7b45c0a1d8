#!/usr/bin/env bash
# bench/e2e/tls_throughput.sh — TLS through the stack against the kernel side's OpenSSL, in one run:
#
#   bulk          `curl --cacert --ciphers C` downloads BYTES from tunstackd's https:443 over the TUN
#                 (one connection); MB/s of the data phase (time_total - time_appconnect), for
#                 ECDHE-ECDSA with ChaCha20-Poly1305, AES-128-GCM and AES-256-GCM
#   reference     bench_tls's raw AEAD encryption of 16 KiB buffers (one full TLS record, the size
#                 the daemon writes) for the same cipher, on the daemon's core, in this same run
#   handshakes    `openssl s_time -new` (full ECDHE-ECDSA handshakes, P-256 certificate, X25519 key
#                 exchange as OpenSSL negotiates) and `-reuse` (ticket resumption) for SECS each;
#                 the reference is bench_tls's BM_ServerPkOps, the server's public-key work per full
#                 handshake (X25519 key pair + shared secret + ECDSA P-256 signature through the pk
#                 layer, as mbedTLS signs in the handshake): 1/that is the most handshakes per second
#                 one core could do
#
# Each figure is also given per CPU second of the daemon (utime+stime from /proc, over the same
# interval): the raw references are CPU-time rates (Google Benchmark divides by CPU time), so on a
# machine loaded by other work the CPU-time ratio is the like-for-like one, the wall-time ratio the
# one a client sees. PERF_DIR=DIR records the daemon with `perf record -g` during each suite's
# downloads (DIR/bulk-CIPHER.data) and the full handshakes (DIR/handshakes.data).
#
# Each bulk figure is the median of RUNS. Hygiene: a fresh namespace (deleted afterwards), the daemon
# and the kernel-side client pinned to different cores, tcp_no_metrics_save=1, tcp_max_tw_buckets=0
# (s_time opens thousands of connections), MTU 1500. Timing only: not part of tools/test. As root.
#
# Environment: BYTES (default 300000000), RUNS (default 3), SECS (s_time, default 5), BUILD (default
# build), PERF_DIR (unset: no profile), OFFLOAD (1: the daemon runs with --offload, TSO super-segments
# to the kernel; default off, per-segment TUN writes), HS_CLIENTS (s_time processes at once, default 1:
# one sequential client waits for every round trip and its own public-key work, so the daemon idles
# part of the time; 2 keep it busy). Exit codes: 0 table printed, 1 a measurement failed, 2 not root or not built.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BYTES=${BYTES:-300000000}
RUNS=${RUNS:-3}
SECS=${SECS:-5}
PERF_DIR=${PERF_DIR:-}
HS_CLIENTS=${HS_CLIENTS:-1}
TUNSTACKD=$ROOT/$BUILD/tools/tunstackd
BENCH=$ROOT/$BUILD/bench/bench_tls
PY=/usr/bin/python3


NS=tsbench-tls-$$
BENCH_NAME=tls_throughput
source "$ROOT/bench/e2e/lib.sh"
e2e_require "$TUNSTACKD" "$BENCH"
e2e_init
nsx() { timeout "$1" ip netns exec "$NS" "${@:2}"; }

# ---- raw references, on the daemon's core ----
"${PIN_D[@]}" "$BENCH" --benchmark_filter='^BM_Seal/[a-z0-9]+/16384$|^BM_ServerPkOps$' \
    --benchmark_repetitions="$RUNS" --benchmark_report_aggregates_only=true \
    --benchmark_format=json --benchmark_out="$TMP/bench.json" --benchmark_out_format=json \
    >/dev/null 2>"$TMP/bench.err" || die "bench_tls failed: $(tail -n 3 "$TMP/bench.err")"
raw() { # raw NAME FIELD — FIELD of the median aggregate (of the single run when RUNS=1)
    "$PY" -c 'import json,sys
d = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("run_name") == sys.argv[2]]
m = [b for b in d if b.get("aggregate_name") == "median"] or [b for b in d if b.get("run_type") == "iteration"]
if m: print(m[0][sys.argv[3]])' "$TMP/bench.json" "$1" "$2"
}
declare -A RAW_MBS
for c in aes128gcm aes256gcm chacha20poly1305; do
    v=$(raw "BM_Seal/$c/16384" bytes_per_second)
    [[ -n $v ]] || die "no BM_Seal/$c/16384 in the bench output"
    RAW_MBS[$c]=$(awk -v b="$v" 'BEGIN {printf "%.1f", b / 1e6}')
done
pk_ns=$(raw BM_ServerPkOps cpu_time)
pk_unit=$("$PY" -c 'import json,sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_name") == "BM_ServerPkOps": print(b["time_unit"]); break' "$TMP/bench.json")
[[ -n $pk_ns ]] || die "no BM_ServerPkOps in the bench output"
HS_BOUND=$(awk -v t="$pk_ns" -v u="$pk_unit" 'BEGIN {m = (u == "ms") ? 1e-3 : (u == "us") ? 1e-6 : 1e-9; printf "%.0f", 1 / (t * m)}')

# ---- namespace, certificates, daemon ----
e2e_ns "$NS"
nsx 10 sysctl -q -w net.ipv4.tcp_max_tw_buckets=0 >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/ca.key" \
    -out "$TMP/ca.pem" -subj /CN=bench-ca -days 30 >/dev/null 2>&1 || die "openssl: CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/srv.key" \
    -out "$TMP/srv.csr" -subj /CN=198.18.0.2 >/dev/null 2>&1 || die "openssl: key"
printf 'subjectAltName=IP:198.18.0.2\n' >"$TMP/srv.ext"
openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
    -out "$TMP/srv.pem" -days 30 -extfile "$TMP/srv.ext" >/dev/null 2>&1 || die "openssl: sign"
mkdir -p "$TMP/www"
timeout 120 openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f -iv 0 -nosalt </dev/zero 2>/dev/null |
    head -c "$BYTES" >"$TMP/www/big.bin"
echo ok >"$TMP/www/index.html"

ip netns exec "$NS" "${PIN_D[@]}" "$TUNSTACKD" --tun tun0 --host-addr 198.18.0.1/24 --addr 198.18.0.2 \
    --serve https:443 --www "$TMP/www" --cert "$TMP/srv.pem" --key "$TMP/srv.key" \
    --tls-max-sessions 4096 ${OFFLOAD:+--offload} --stay-root </dev/null 2>"$TMP/tunstackd.log" &
PIDS+=($!)
wait_for 15 grep -q 'tunstackd: ready' "$TMP/tunstackd.log" || die "tunstackd not ready: $(tail -n 2 "$TMP/tunstackd.log")"
DPID=${PIDS[0]}
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$DPID/stat"; } # the daemon's utime + stime
PERF_PID=
perf_start() { # perf_start NAME — profile the daemon until perf_stop (PERF_DIR only)
    [[ -n $PERF_DIR ]] || return 0
    mkdir -p "$PERF_DIR"
    perf record -q -g -p "$DPID" -o "$PERF_DIR/$1.data" >/dev/null 2>&1 &
    PERF_PID=$!
    sleep 0.5
}
perf_stop() {
    [[ -n $PERF_PID ]] || return 0
    kill -INT "$PERF_PID" 2>/dev/null
    wait "$PERF_PID" 2>/dev/null
    PERF_PID=
}

# ---- bulk ----
declare -A BULK BULK_CPU SUITE
for c in chacha20poly1305 aes128gcm aes256gcm; do
    case $c in
    chacha20poly1305) suite=ECDHE-ECDSA-CHACHA20-POLY1305 ;;
    aes128gcm) suite=ECDHE-ECDSA-AES128-GCM-SHA256 ;;
    aes256gcm) suite=ECDHE-ECDSA-AES256-GCM-SHA384 ;;
    esac
    runs=()
    cpu_runs=()
    perf_start "bulk-$c"
    for ((i = 0; i < RUNS; i++)); do
        k0=$(cpu_ticks)
        out=$(nsx 300 "${PIN_C[@]}" curl -sS --fail --cacert "$TMP/ca.pem" --tlsv1.2 --ciphers "$suite" \
            -o /dev/null -w '%{size_download} %{time_appconnect} %{time_total}' https://198.18.0.2/big.bin) ||
            die "curl with $suite failed: $out"
        k1=$(cpu_ticks)
        read -r size t_conn t_total <<<"$out"
        [[ $size == "$BYTES" ]] || die "curl with $suite got $size of $BYTES bytes"
        runs+=("$(awk -v b="$size" -v a="$t_conn" -v t="$t_total" 'BEGIN {printf "%.1f", b / (t - a) / 1e6}')")
        # Per daemon CPU second (the handshake's share is negligible next to BYTES of records).
        cpu_runs+=("$(awk -v b="$size" -v k=$((k1 - k0)) -v hz="$HZ" 'BEGIN {printf "%.1f", (k > 0 ? b / (k / hz) / 1e6 : 0)}')")
    done
    perf_stop
    BULK[$c]="$(printf '%s\n' "${runs[@]}" | median) ${runs[*]}"
    BULK_CPU[$c]=$(printf '%s\n' "${cpu_runs[@]}" | median)
    SUITE[$c]=$suite
done

# ---- handshakes ----
stat_lines_above() { (($(grep -c "stat $1 " "$TMP/tunstackd.log") > $2)); }
daemon_stat() { # daemon_stat NAME — the counter's value now (SIGUSR1 prints the stats to the log)
    local before
    before=$(grep -c "stat $1 " "$TMP/tunstackd.log")
    kill -USR1 "$DPID"
    wait_for 5 stat_lines_above "$1" "$before" || die "no stats from the daemon"
    grep -oE "stat $1 [0-9]+" "$TMP/tunstackd.log" | tail -n 1 | awk '{print $3}'
}
s_time() { # s_time MODE → connections per second of wall time (s_time's own "real seconds" are whole)
    # HS_CLIENTS s_time processes at once (on the client core), their connection counts summed.
    local t0 t1 i n total=0 pids=()
    t0=$(now_ms)
    for ((i = 0; i < HS_CLIENTS; i++)); do
        nsx $((SECS + 60)) "${PIN_C[@]}" openssl s_time -connect 198.18.0.2:443 "$1" -time "$SECS" \
            -cipher ECDHE-ECDSA-AES128-GCM-SHA256 >"$TMP/s_time.$i" 2>&1 &
        pids+=($!)
    done
    for ((i = 0; i < HS_CLIENTS; i++)); do
        wait "${pids[$i]}" || die "s_time $1 failed: $(tail -n 2 "$TMP/s_time.$i")"
    done
    t1=$(now_ms)
    for ((i = 0; i < HS_CLIENTS; i++)); do
        n=$(awk '/connections in [0-9]+ real seconds/ {print $1; exit}' "$TMP/s_time.$i")
        [[ -n $n ]] || die "s_time $1: no connection count in its output"
        total=$((total + n))
    done
    awk -v n="$total" -v ms="$((t1 - t0))" 'BEGIN {printf "%.0f", n / (ms / 1000)}'
}
perf_start handshakes
k0=$(cpu_ticks)
ok0=$(daemon_stat tls.handshakes_ok)
HS_NEW=$(s_time -new)
ok1=$(daemon_stat tls.handshakes_ok)
k1=$(cpu_ticks)
perf_stop
# Full handshakes the daemon completed per second of its own CPU time.
HS_NEW_CPU=$(awk -v n=$((ok1 - ok0)) -v k=$((k1 - k0)) -v hz="$HZ" 'BEGIN {printf "%.0f", (k > 0 ? n / (k / hz) : 0)}')
HS_REUSE=$(s_time -reuse)
[[ -n $HS_NEW && -n $HS_REUSE ]] || die "could not read s_time's output"
resumed=$(daemon_stat tls.handshakes_resumed)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
echo
echo "tunstack TLS end-to-end ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, kernel $(uname -r), MTU 1500;"
echo "daemon on core 0${OFFLOAD:+ with --offload}, curl / openssl s_time on core 1; medians of $RUNS, $BYTES bytes per download)"
printf '%-32s %11s %9s %11s %8s %8s   %s\n' "TLS 1.2 suite (curl download)" "https MB/s" "MB/cpu-s" "raw seal" "ratio" "cpu-rat" "runs"
for c in chacha20poly1305 aes128gcm aes256gcm; do
    read -r med rest <<<"${BULK[$c]}"
    printf '%-32s %11s %9s %11s %8s %8s   %s\n' "${SUITE[$c]}" "$med" "${BULK_CPU[$c]}" "${RAW_MBS[$c]}" \
        "$(ratio "$med" "${RAW_MBS[$c]}")" "$(ratio "${BULK_CPU[$c]}" "${RAW_MBS[$c]}")" "$rest"
done
echo "  (raw seal: 16 KiB AEAD MB/s per CPU second; MB/cpu-s: https bytes per daemon CPU second)"
echo
printf '%-50s %10s\n' "full handshakes/s (s_time -new x$HS_CLIENTS, P-256, X25519)" "$HS_NEW"
printf '%-50s %10s\n' "  per daemon CPU second" "$HS_NEW_CPU"
printf '%-50s %10s   ratio %s, cpu-ratio %s\n' "  bound: 1 / server public-key ops per handshake" "$HS_BOUND" \
    "$(ratio "$HS_NEW" "$HS_BOUND")" "$(ratio "$HS_NEW_CPU" "$HS_BOUND")"
printf '%-50s %10s   (daemon counted %s resumed)\n' "resumed handshakes/s (s_time -reuse, ticket)" "$HS_REUSE" "${resumed:-?}"
