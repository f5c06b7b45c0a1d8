#!/usr/bin/env bash
# tunstack get: the client's own stack on its own TUN opens connections actively to a kernel-side
# `python3 -m http.server` (bound to 198.18.0.1 in the namespace) and downloads a 20 MB file byte-exact
# (sha256); a refused port fails at once with exit 3 and "refused"; a bad URL fails with exit 2; a
# 404 fails with exit 5.
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
        --addr "$TS_ADDR" --timeout 60 "$@" >"$TS_TMP/get.out" 2>&1 || rc=$?
    return "$rc"
}

# 1. The download.
t0=$(ts_now_ms)
get "$TS_TMP/got.bin" "http://$TS_PEER:8000/file.bin" || ts_fail "download failed (exit $?): $(cat "$TS_TMP/get.out")"
t1=$(ts_now_ms)
got=$(sha256sum <"$TS_TMP/got.bin" | cut -d' ' -f1)
[[ $got == "$want" ]] || ts_fail "sha256 differs: got $got ($(stat -c %s "$TS_TMP/got.bin") bytes), want $want"
line=$(grep 'tunstack: got' "$TS_TMP/get.out")
[[ -n $line ]] || ts_fail "no 'tunstack: got' line: $(cat "$TS_TMP/get.out")"
echo "  $line ($((t1 - t0)) ms wall)"

# 2. A refused port: RST → exit 3 at once (well before any retransmission timeout).
t0=$(ts_now_ms)
rc=0; get "$TS_TMP/x" "http://$TS_PEER:8001/" || rc=$?
t1=$(ts_now_ms)
[[ $rc == 3 ]] || ts_fail "refused port: exit $rc, expected 3: $(cat "$TS_TMP/get.out")"
grep -qi 'refused' "$TS_TMP/get.out" || ts_fail "refused port: message does not say refused: $(cat "$TS_TMP/get.out")"
((t1 - t0 < 3000)) || ts_fail "refused port took $((t1 - t0)) ms (should fail at once)"
echo "  refused: exit 3 in $((t1 - t0)) ms: $(cat "$TS_TMP/get.out")"

# 3. A bad URL: exit 2, one line, before any device is created.
for url in "ftp://$TS_PEER/" "http://localhost:8000/" "http://$TS_PEER:99999/"; do
    rc=0; get "$TS_TMP/x" "$url" || rc=$?
    [[ $rc == 2 && $(wc -l <"$TS_TMP/get.out") == 1 ]] ||
        ts_fail "bad URL $url: exit $rc (expected 2), output: $(cat "$TS_TMP/get.out")"
    echo "  bad URL: exit 2: $(cat "$TS_TMP/get.out")"
done

# 4. An HTTP error status: exit 5 naming it.
rc=0; get "$TS_TMP/x" "http://$TS_PEER:8000/missing" || rc=$?
[[ $rc == 5 ]] && grep -q '404' "$TS_TMP/get.out" ||
    ts_fail "404: exit $rc (expected 5): $(cat "$TS_TMP/get.out")"
echo "  404: exit 5: $(cat "$TS_TMP/get.out")"

ts_pass "20 MiB byte-exact from python3 http.server; refused → 3, bad URL → 2, 404 → 5"
