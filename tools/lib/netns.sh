# tools/lib/netns.sh — shell helpers for the demo and the integration tests (source it; bash only).
#
# What it gives:
#   ts_ns_create PREFIX        create network namespace "PREFIX-$$" (lo up, IPv6 off inside), a temp dir,
#                              and an EXIT trap that kills only the PIDs we started and deletes both
#   ts_ns CMD...               run CMD inside the namespace under `timeout $TS_CMD_TIMEOUT`
#   ts_ns_t SECS CMD...        same with an explicit timeout
#   wait_for SECS CMD...       poll CMD every 50 ms until it succeeds (0) or SECS pass (1)
#   ts_daemon_start [ARGS...]  start tunstackd in the namespace in the background, stderr to a log,
#                              and wait (deadline) for "tunstackd: ready". --stay-root is added
#                              unless ARGS has --user or --stay-root, or TS_DAEMON_DEFAULT_PRIV=1
#                              (then tunstackd gets neither and drops to nobody by default);
#                              --control $TS_TMP/control is added unless ARGS has --control
#                              (TS_CONTROL is the daemon's control socket either way)
#   ts_daemon_stop [SIG]       send SIGTERM (or SIG), wait (deadline) for exit; sets TS_DAEMON_RC
#   ts_stats FILE              the daemon's counters through its control socket (`tunstack stats
#                              --control $TS_CONTROL --json`), saved as "NAME VALUE" lines
#   ts_stat FILE NAME...       print the value of the first NAME present in FILE, or "-" if none is
#   ts_rss_kb                  the daemon's VmRSS in kB
#   ts_prom FILE NAME          value of the Prometheus sample NAME (with labels, as printed) in FILE
#   ts_pass MSG / ts_fail MSG  print "PASS: test: MSG" / "FAIL: test: MSG" and exit 0 / 1; ts_pass first
#                              stops a running daemon (SIGTERM) and fails unless it exits 0
#   ts_tls_ca DIR NAME         a test CA (ECDSA P-256, openssl): DIR/NAME.pem, DIR/NAME.key
#   ts_tls_cert DIR NAME CA SAN [DAYS] [ec|rsa]
#                              a server certificate DIR/NAME.pem + .key signed by DIR/CA, with
#                              subjectAltName SAN (e.g. "IP:198.18.0.2,DNS:tunstack.test"); DAYS -1
#                              makes it already expired
#
# To run something else in the background, start the command itself (`cmd &`, then TS_PIDS+=($!)),
# never a shell function: $! would be a subshell whose children a SIGTERM does not reach.
#
# Rules it enforces: every namespace is ours and removed on every exit path; we kill only PIDs we
# started, by PID; every external tool runs under `timeout`; waits are conditions with deadlines.

TS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${TS_BUILD:=$TS_ROOT/build}"
: "${TUNSTACKD:=$TS_BUILD/tools/tunstackd}"
: "${TUNSTACK:=$TS_BUILD/tools/tunstack}"
: "${TS_CMD_TIMEOUT:=60}"
: "${TS_READY_TIMEOUT:=15}"
TS_TEST=${TS_TEST:-$(basename "$0" .sh)}
TS_TUN=${TS_TUN:-tun0}
TS_HOST_ADDR=198.18.0.1/24   # kernel side of the TUN
TS_PEER=198.18.0.1
TS_ADDR=198.18.0.2           # the stack
TS_NS=""
TS_TMP=""
TS_PIDS=()
TS_DAEMON_PID=""
TS_DAEMON_LOG=""
TS_DAEMON_RC=""
TS_CONTROL=""

ts_log() { printf '%s: %s\n' "$TS_TEST" "$*" >&2; }

ts_now_ms() { date +%s%3N; }

# wait_for SECS CMD... — poll CMD until it succeeds or the deadline passes.
wait_for() {
    local secs=$1
    shift
    local deadline=$(($(ts_now_ms) + secs * 1000))
    while true; do
        if "$@"; then return 0; fi
        (($(ts_now_ms) >= deadline)) && return 1
        sleep 0.05
    done
}

# ts_alive PID — true while PID runs (a zombie counts as gone).
ts_alive() {
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $st && ${st%% *} != Z ]]
}

ts_forget_pid() {
    local p keep=()
    for p in "${TS_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    TS_PIDS=("${keep[@]}")
}

ts_cleanup() {
    local rc=$? pid
    set +e
    trap - INT TERM HUP
    for pid in "${TS_PIDS[@]}"; do
        ts_alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${TS_PIDS[@]}"; do
        if ! wait_for 5 eval "! ts_alive $pid"; then
            ts_log "pid $pid ignored SIGTERM for 5 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null
            wait_for 5 eval "! ts_alive $pid"
        fi
        wait "$pid" 2>/dev/null
    done
    TS_PIDS=()
    if [[ -n $TS_NS ]]; then
        timeout 10 ip netns del "$TS_NS" 2>/dev/null
        if timeout 10 ip netns list | grep -qw -- "$TS_NS"; then
            ts_log "could not delete namespace $TS_NS"
            ((rc == 0)) && rc=1
        fi
        TS_NS=""
    fi
    if [[ -n $TS_TMP && -d $TS_TMP && -z ${TS_KEEP_TMP:-} ]]; then rm -rf -- "$TS_TMP"; fi
    exit "$rc"
}

ts_require_root() {
    if ((EUID != 0)); then
        echo "FAIL: $TS_TEST: must run as root (network namespaces, TUN devices)"
        exit 1
    fi
}

# ts_ns_create PREFIX — namespace PREFIX-$$; installs the cleanup trap first.
ts_ns_create() {
    ts_require_root
    trap ts_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    TS_TMP=$(mktemp -d "/tmp/${1}.XXXXXX")
    chmod 755 "$TS_TMP"
    TS_NS="$1-$$"
    timeout 10 ip netns add "$TS_NS" || ts_fail "cannot create namespace $TS_NS"
    timeout 10 ip -n "$TS_NS" link set lo up || ts_fail "cannot bring up lo in $TS_NS"
    # The kernel would write IPv6 router solicitations into a new TUN: keep counters deterministic.
    timeout 10 ip netns exec "$TS_NS" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
}

ts_ns() { timeout "$TS_CMD_TIMEOUT" ip netns exec "$TS_NS" "$@"; }
ts_ns_t() {
    local t=$1
    shift
    timeout "$t" ip netns exec "$TS_NS" "$@"
}

ts_daemon_log_tail() {
    [[ -n $TS_DAEMON_LOG && -f $TS_DAEMON_LOG ]] || return 0
    echo "---- last lines of the tunstackd log ($TS_DAEMON_LOG) ----"
    tail -n "${1:-25}" "$TS_DAEMON_LOG"
    echo "----"
}

ts_pass() {
    # A passing test also ends with a clean daemon: SIGTERM, exit 0. Under the sanitizers this is
    # where a leak (or any late report) shows.
    if [[ -n $TS_DAEMON_PID ]] && ts_alive "$TS_DAEMON_PID"; then
        ts_daemon_stop TERM || ts_fail "tunstackd did not stop on SIGTERM at the end of the test"
        [[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited with status $TS_DAEMON_RC at the end of the test"
    fi
    echo "PASS: $TS_TEST: $*"
    exit 0
}
ts_fail() {
    echo "FAIL: $TS_TEST: $*"
    ts_daemon_log_tail
    exit 1
}

ts_require_daemon() {
    [[ -x $TUNSTACKD ]] || ts_fail "tunstackd not built: $TUNSTACKD (build first: meson setup $TS_BUILD && ninja -C $TS_BUILD)"
}

ts__ready_or_dead() {
    grep -q 'tunstackd: ready' "$TS_DAEMON_LOG" 2>/dev/null || ! ts_alive "$TS_DAEMON_PID"
}

# ts_daemon_start [EXTRA ARGS...] — tunstackd in the namespace, stderr to $TS_TMP/tunstackd.log.
ts_daemon_start() {
    ts_require_daemon
    TS_DAEMON_LOG=$TS_TMP/tunstackd.log
    : >"$TS_DAEMON_LOG"
    local a prev="" priv=(--stay-root) ctl=(--control "$TS_TMP/control")
    TS_CONTROL=$TS_TMP/control
    for a in "$@"; do
        [[ $a == --user || $a == --stay-root ]] && priv=()
        if [[ $prev == --control ]]; then
            TS_CONTROL=$a
            ctl=()
        elif [[ $a == --control=* ]]; then
            TS_CONTROL=${a#--control=}
            ctl=()
        fi
        prev=$a
    done
    [[ ${TS_DAEMON_DEFAULT_PRIV:-0} == 1 ]] && priv=()
    # `ip netns exec` execs the command, so $! is tunstackd itself: signals reach it directly.
    ip netns exec "$TS_NS" "$TUNSTACKD" --tun "$TS_TUN" --host-addr "$TS_HOST_ADDR" --addr "$TS_ADDR" \
        "${priv[@]}" "${ctl[@]}" "$@" </dev/null >"$TS_TMP/tunstackd.out" 2>"$TS_DAEMON_LOG" &
    TS_DAEMON_PID=$!
    TS_PIDS+=("$TS_DAEMON_PID")
    wait_for "$TS_READY_TIMEOUT" ts__ready_or_dead ||
        ts_fail "tunstackd printed no 'tunstackd: ready' within ${TS_READY_TIMEOUT}s"
    if ! grep -q 'tunstackd: ready' "$TS_DAEMON_LOG"; then
        wait "$TS_DAEMON_PID"
        local rc=$?
        ts_forget_pid "$TS_DAEMON_PID"
        ts_fail "tunstackd exited (status $rc) before 'tunstackd: ready'"
    fi
}

# ts_daemon_stop [SIGNAL] — signal the daemon, wait for it to exit; TS_DAEMON_RC gets its status.
ts_daemon_stop() {
    local sig=${1:-TERM}
    TS_DAEMON_RC=""
    [[ -n $TS_DAEMON_PID ]] || return 1
    kill "-$sig" "$TS_DAEMON_PID" 2>/dev/null
    if ! wait_for 10 eval "! ts_alive $TS_DAEMON_PID"; then
        ts_log "tunstackd did not exit within 10 s of SIG$sig"
        return 1
    fi
    wait "$TS_DAEMON_PID"
    TS_DAEMON_RC=$?
    ts_forget_pid "$TS_DAEMON_PID"
    TS_DAEMON_PID=""
    return 0
}

# ts_stats FILE — the daemon's counters through its control socket, stored as "NAME VALUE" lines.
ts_stats() {
    local out=$1
    ts_alive "$TS_DAEMON_PID" || ts_fail "tunstackd is not running (wanted its counters)"
    timeout 10 "$TUNSTACK" stats --control "$TS_CONTROL" --json >"$out.json" 2>"$out.err" ||
        ts_fail "tunstack stats --control $TS_CONTROL failed: $(head -c 300 "$out.err")"
    # One JSON object of "name": integer; names hold no quotes or commas.
    tr -d '{}[:space:]' <"$out.json" | tr ',' '\n' |
        sed -nE 's/^"([A-Za-z0-9_.]+)":(-?[0-9]+)$/\1 \2/p' >"$out"
    [[ -s $out ]] || ts_fail "tunstack stats --json gave no counters: $(head -c 300 "$out.json")"
}

# ts_stat FILE NAME... — value of the first NAME found, "-" if none.
ts_stat() {
    local f=$1 n v
    shift
    for n in "$@"; do
        v=$(awk -v n="$n" '$1 == n {print $2; exit}' "$f")
        if [[ -n $v ]]; then
            echo "$v"
            return 0
        fi
    done
    echo "-"
}

# ts_delta BEFORE AFTER NAME... — AFTER-BEFORE for the first NAME present in AFTER ("-" if none).
ts_delta() {
    local b=$1 a=$2 n va vb
    shift 2
    for n in "$@"; do
        va=$(awk -v n="$n" '$1 == n {print $2; exit}' "$a")
        if [[ -n $va ]]; then
            vb=$(awk -v n="$n" '$1 == n {print $2; exit}' "$b")
            echo $((va - ${vb:-0}))
            return 0
        fi
    done
    echo "-"
}

ts_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$TS_DAEMON_PID/status"; }

ts_prom() { awk -v n="$2" '$1 == n {print $2; found=1; exit} END {if (!found) print "-"}' "$1"; }

# ts_ping ARGS... — ping from the kernel side inside the namespace; output in $TS_TMP/ping.out.
ts_ping() {
    local rc=0
    ts_ns_t "${TS_PING_TIMEOUT:-60}" ping "$@" >"$TS_TMP/ping.out" 2>&1 || rc=$?
    return "$rc"
}

# ts_ping_received — number of replies from the last ts_ping ("N received").
ts_ping_received() { grep -oE '[0-9]+ received' "$TS_TMP/ping.out" | awk '{print $1}' | tail -n 1; }

# ts_tls_ca DIR NAME — a self-signed test CA, ECDSA P-256, ten years.
ts_tls_ca() {
    timeout 30 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1/$2.key" -out "$1/$2.pem" -subj "/CN=$2" -days 3650 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        >/dev/null 2>&1 || ts_fail "openssl could not create the test CA $2"
}

# ts_tls_cert DIR NAME CA SAN [DAYS] [ec|rsa] — a server certificate signed by the test CA DIR/CA.
ts_tls_cert() {
    local dir=$1 name=$2 ca=$3 san=$4 days=${5:-30} type=${6:-ec} newkey
    if [[ $type == rsa ]]; then newkey=(-newkey rsa:2048); else newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); fi
    timeout 30 openssl req "${newkey[@]}" -nodes -keyout "$dir/$name.key" -out "$dir/$name.csr" \
        -subj "/CN=$name" >/dev/null 2>&1 || ts_fail "openssl could not create the key for $name"
    printf 'subjectAltName=%s\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
        "$san" >"$dir/$name.ext"
    timeout 30 openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
        -CAcreateserial -out "$dir/$name.pem" -days "$days" -extfile "$dir/$name.ext" \
        >/dev/null 2>&1 || ts_fail "openssl could not sign the certificate for $name"
}
