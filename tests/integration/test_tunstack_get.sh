#!/usr/bin/env bash
# tunstack get: the client's own stack on its own TUN opens connections actively to a kernel-side
# `python3 -m http.server` (bound to 198.18.0.1 in the namespace) and downloads a 20 MB file byte-exact
# (sha256) onto an existing file, leaving no temporary file. Failures never touch an existing -o FILE
# (sha256 unchanged, no FILE.part-* left): a refused port exits 3 naming the refusal, with the
# client's counters (--stats) showing one SYN out, one RST in and no SYN retransmission; an address
# nobody answers exits 4 naming the --timeout; a truncated body exits 3, a malformed response and a
# 404 exit 5; a bad URL exits 2.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

TUNSTACK=${TUNSTACK:-$TS_BUILD/tools/tunstack}
[[ -x $TUNSTACK ]] || { echo "FAIL: $TS_TEST: tunstack not built: $TUNSTACK"; exit 1; }
ts_ns_create tst-tunstack_get
PY=/usr/bin/python3
WWW=$TS_TMP/www
mkdir -p "$WWW"
SIZE=$((20 * 1024 * 1024))
timeout 30 openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f -iv 0 -nosalt </dev/zero 2>/dev/null |
    head -c "$SIZE" >"$WWW/file.bin"
want=$(sha256sum <"$WWW/file.bin" | cut -d' ' -f1)

# Each `tunstack get` creates (and on exit removes) the TUN whose kernel side is 198.18.0.1, so the
# server cannot bind to that address before the client runs: it binds to 0.0.0.0 inside this private
# namespace (nothing else is there) and is reached as 198.18.0.1 through the TUN.
ts_ns_t 120 "$PY" -m http.server 8000 --bind 0.0.0.0 --directory "$WWW" \
    >"$TS_TMP/http.log" 2>&1 </dev/null &
TS_PIDS+=($!)
SERVER_PID=$!
server_up() { ts_ns_t 5 "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 8000), 1).close()' 2>/dev/null; }
wait_for 15 server_up || ts_fail "python3 -m http.server did not start: $(tail -n 3 "$TS_TMP/http.log")"

get() { # get OUTFILE URL [ARGS...] — runs tunstack get, stdout+stderr to $TS_TMP/get.out; returns its rc
    local out=$1 url=$2
    shift 2
    local rc=0
    ts_ns_t 90 "$TUNSTACK" get "$url" -o "$out" --tun tcl0 --host-addr "$TS_HOST_ADDR" \
        --addr "$TS_ADDR" --timeout "${GET_TIMEOUT:-60}" "$@" >"$TS_TMP/get.out" 2>&1 || rc=$?
    return "$rc"
}
# The -o files live alone in $OUT, so anything else there is a temporary file left behind.
OUT=$TS_TMP/out
mkdir -p "$OUT"
only_file_in_out() { # only_file_in_out NAME LABEL — $OUT holds exactly NAME
    local left
    left=$(cd "$OUT" && ls -A | grep -vxF "$1")
    [[ -z $left ]] || ts_fail "$2: left behind in the output directory: $left"
}
sha() { sha256sum <"$1" | cut -d' ' -f1; }
KEEP=$OUT/keep.bin
head -c 100000 /dev/urandom >"$KEEP"
keep_sha=$(sha "$KEEP")
kept() { # kept LABEL — the pre-existing -o file is intact and nothing else was created
    [[ -f $KEEP && $(sha "$KEEP") == "$keep_sha" ]] ||
        ts_fail "$1: the existing -o file was changed ($(stat -c %s "$KEEP" 2>/dev/null || echo missing) bytes)"
    only_file_in_out keep.bin "$1"
}
# stat_of NAME — a counter from the client's --stats dump in $TS_TMP/get.out
stat_of() { awk -v n="$1" '$1 == "stat" && $2 == n {print $3; f=1} END {if (!f) print "-"}' "$TS_TMP/get.out"; }

# 1. The download, onto an existing file (replaced only once complete).
echo stale >"$OUT/got.bin"
t0=$(ts_now_ms)
get "$OUT/got.bin" "http://$TS_PEER:8000/file.bin" || ts_fail "download failed (exit $?): $(cat "$TS_TMP/get.out")"
t1=$(ts_now_ms)
got=$(sha "$OUT/got.bin")
[[ $got == "$want" ]] || ts_fail "sha256 differs: got $got ($(stat -c %s "$OUT/got.bin") bytes), want $want"
[[ $(stat -c %a "$OUT/got.bin") == 644 ]] || ts_fail "downloaded file has mode $(stat -c %a "$OUT/got.bin"), expected 644"
line=$(grep 'tunstack: got' "$TS_TMP/get.out")
[[ -n $line ]] || ts_fail "no 'tunstack: got' line: $(cat "$TS_TMP/get.out")"
rm -f "$OUT/got.bin"
only_file_in_out keep.bin "successful download"
echo "  $line ($((t1 - t0)) ms wall)"

# 2. A refused port: the kernel answers the SYN with RST → exit 3 at once, not after SYN
#    retransmissions: the client's own counters show exactly one segment out (the SYN), one RST in,
#    no retransmission. The time is printed, not judged.
t0=$(ts_now_ms)
rc=0; get "$KEEP" "http://$TS_PEER:8001/" --stats || rc=$?
t1=$(ts_now_ms)
[[ $rc == 3 ]] || ts_fail "refused port: exit $rc, expected 3: $(cat "$TS_TMP/get.out")"
err=$(grep '^tunstack: error:' "$TS_TMP/get.out")
[[ $(grep -c '^tunstack: error:' "$TS_TMP/get.out") == 1 ]] && grep -qi 'refused' <<<"$err" ||
    ts_fail "refused port: expected one error line saying refused: $(cat "$TS_TMP/get.out")"
opens=$(stat_of tcp.active_opens) tx=$(stat_of tcp.tx_segments) rst=$(stat_of tcp.rx_resets)
rsyn=$(stat_of tcp.retransmit.syn) rtx=$(stat_of tcp.retransmits)
[[ $opens == 1 && $tx == 1 && $rst == 1 && $rsyn == 0 && $rtx == 0 ]] ||
    ts_fail "refused port: client counters active_opens=$opens tx_segments=$tx rx_resets=$rst retransmit.syn=$rsyn retransmits=$rtx, expected 1 1 1 0 0"
kept "refused port"
echo "  refused: exit 3 ($((t1 - t0)) ms wall), 1 SYN out, 1 RST in, 0 retransmitted: $err"

# 3. Nobody answers (198.18.0.9 is in the TUN's subnet, but no host has it): exit 4, naming the
#    --timeout; the SYN was sent again meanwhile.
rc=0; GET_TIMEOUT=2 get "$KEEP" "http://198.18.0.9/" --stats || rc=$?
[[ $rc == 4 ]] || ts_fail "unanswered address: exit $rc, expected 4: $(cat "$TS_TMP/get.out")"
err=$(grep '^tunstack: error:' "$TS_TMP/get.out")
grep -q 'timed out after 2 s connecting to 198.18.0.9:80' <<<"$err" ||
    ts_fail "unanswered address: message does not name the timeout: $(cat "$TS_TMP/get.out")"
rsyn=$(stat_of tcp.retransmit.syn)
((${rsyn/-/0} >= 1)) || ts_fail "unanswered address: tcp.retransmit.syn=$rsyn, expected >= 1"
kept "timeout"
echo "  timeout: exit 4: $err (SYN retransmitted $rsyn times)"

# 4. Bad responses from a kernel-side server that misbehaves on purpose: /trunc promises 100000
#    body bytes and closes after 5000 (exit 3: closed before the response was complete), /bad
#    answers a line that is not HTTP (exit 5). Either way the existing file stays as it was.
ts_ns_t 120 "$PY" -c '
import socket
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 8002))
srv.listen(8)
while True:
    c, _ = srv.accept()
    req = b""
    while b"\r\n\r\n" not in req:
        b = c.recv(4096)
        if not b:
            break
        req += b
    if req.startswith(b"GET /trunc "):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
    else:
        c.sendall(b"SPDY/9 what\r\n\r\n")
    c.close()
' >"$TS_TMP/bad.log" 2>&1 </dev/null &
TS_PIDS+=($!)
bad_up() { ts_ns_t 5 "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 8002), 1).close()' 2>/dev/null; }
wait_for 15 bad_up || ts_fail "the misbehaving server did not start: $(tail -n 3 "$TS_TMP/bad.log")"
rc=0; get "$KEEP" "http://$TS_PEER:8002/trunc" || rc=$?
[[ $rc == 3 ]] && grep -q 'closed after 5000 of 100000 body bytes' "$TS_TMP/get.out" ||
    ts_fail "truncated body: exit $rc (expected 3, 'closed after 5000 of 100000 body bytes'): $(cat "$TS_TMP/get.out")"
kept "truncated body"
echo "  truncated body: exit 3: $(cat "$TS_TMP/get.out")"
rc=0; get "$KEEP" "http://$TS_PEER:8002/bad" || rc=$?
[[ $rc == 5 ]] || ts_fail "malformed response: exit $rc, expected 5: $(cat "$TS_TMP/get.out")"
kept "malformed response"
echo "  malformed response: exit 5: $(cat "$TS_TMP/get.out")"

# 5. A bad URL: exit 2, one line, before any device or file is created.
for url in "ftp://$TS_PEER/" "http://localhost:8000/" "http://$TS_PEER:99999/"; do
    rc=0; get "$OUT/x" "$url" || rc=$?
    [[ $rc == 2 && $(wc -l <"$TS_TMP/get.out") == 1 ]] ||
        ts_fail "bad URL $url: exit $rc (expected 2), output: $(cat "$TS_TMP/get.out")"
    echo "  bad URL: exit 2: $(cat "$TS_TMP/get.out")"
done
only_file_in_out keep.bin "bad URL"

# 6. An HTTP error status: exit 5 naming it; the 404 page's body is not saved over the file.
rc=0; get "$KEEP" "http://$TS_PEER:8000/missing" || rc=$?
[[ $rc == 5 ]] && grep -q '404' "$TS_TMP/get.out" ||
    ts_fail "404: exit $rc (expected 5): $(cat "$TS_TMP/get.out")"
kept "404"
echo "  404: exit 5: $(cat "$TS_TMP/get.out")"

ts_pass "20 MiB byte-exact from python3 http.server; refused → 3 (1 SYN, 1 RST, no retransmission), no answer → 4 (timeout), truncated → 3, malformed/404 → 5, bad URL → 2; an existing -o file survives every failure, no temporary left"
