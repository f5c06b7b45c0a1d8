# bench/e2e/lib.sh — what the end-to-end benchmark scripts share (source it after setting BENCH_NAME).
#
#   e2e_require [--iperf3] BIN...
#                            exit 2 with one line unless root, each BIN is built (executable) and,
#                            with --iperf3, iperf3 is installed; before e2e_init
#   e2e_init                 a temp dir ($TMP), the cleanup trap; BENCH_NSES and PIDS start empty
#   e2e_ns NAME              create namespace NAME (lo up, IPv6 off, tcp_no_metrics_save=1), deleted
#                            by the cleanup trap on every exit path
#   die MSG                  "BENCH_NAME: MSG" on stderr, exit 1 (inside $(...) only the subshell
#                            exits: callers write `v=$(...) || exit 1`)
#   now_ms, wait_for SECS CMD..., median (numbers on stdin), PIN_D/PIN_C (daemon and client cores)
#
# The cleanup trap ends only the PIDs a script put in PIDS (TERM, then KILL after 5 s), deletes the
# namespaces in BENCH_NSES and the temp dir, and keeps the script's exit status.

e2e_cleanup() {
    local rc=$? p ns
    set +e
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for ns in "${BENCH_NSES[@]}"; do timeout 10 ip netns del "$ns" 2>/dev/null; done
    rm -rf -- "$TMP"
    exit "$rc"
}

e2e_require() {
    local b
    ((EUID == 0)) || { echo "$BENCH_NAME: must run as root (namespaces, TUN devices)" >&2; exit 2; }
    if [[ ${1:-} == --iperf3 ]]; then
        shift
        command -v iperf3 >/dev/null ||
            { echo "$BENCH_NAME: iperf3 missing (tools/setup installs it)" >&2; exit 2; }
    fi
    for b in "$@"; do
        [[ -x $b ]] || { echo "$BENCH_NAME: $b not built (meson setup $BUILD && ninja -C $BUILD)" >&2; exit 2; }
    done
}

e2e_init() {
    PIDS=()
    BENCH_NSES=()
    TMP=$(mktemp -d "/tmp/tsbench-$BENCH_NAME.XXXXXX")
    trap e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
wait_for() { # SECS CMD...
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do (($(now_ms) >= deadline)) && return 1; sleep 0.05; done
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

e2e_ns() {
    timeout 10 ip netns add "$1" || die "cannot create namespace $1"
    BENCH_NSES+=("$1")
    timeout 10 ip -n "$1" link set lo up
    timeout 10 ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 net.ipv4.tcp_no_metrics_save=1 >/dev/null
}

if (($(nproc) >= 2)); then PIN_D=(taskset -c 0); PIN_C=(taskset -c 1); else PIN_D=(); PIN_C=(); fi
