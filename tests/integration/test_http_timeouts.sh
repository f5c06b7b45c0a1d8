#!/usr/bin/env bash
# Idle and slow HTTP clients are not held forever (issue 8, point 3), against the kernel's TCP:
#   - an idle keep-alive connection is closed (FIN) by --keepalive-timeout;
#   - a POST whose body stalls after 1000 of its 1,000,000 bytes is closed (FIN) by --body-timeout;
#   - a GET of a large file whose client never reads (its window closes) is reset by
#     --body-timeout (a FIN would queue behind the response the peer never takes);
#   - a connection that sends nothing is closed by --header-timeout;
# each counted in svc.http.80.timeout_{keepalive,body,header}, and the daemon still serves.
# Short timeouts keep the test quick; the unit tests (tests/tools/http_service_test.cpp) check the
# timers' exact semantics in simulated time.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-http_timeouts
mkdir -p "$TS_TMP/www"
echo "small page" >"$TS_TMP/www/index.html"
head -c $((16 * 1024 * 1024)) /dev/zero >"$TS_TMP/www/big.bin"
# Bad values: exit 2, one line naming the flag, before anything is created.
for bad in "--header-timeout 0" "--keepalive-timeout 3601" "--body-timeout x"; do
    rc=0
    # shellcheck disable=SC2086
    ts_ns "$TUNSTACKD" --tun tun0 --host-addr "$TS_HOST_ADDR" --addr "$TS_ADDR" --stay-root \
        --serve http:80 --www "$TS_TMP/www" $bad >/dev/null 2>"$TS_TMP/err" || rc=$?
    [[ $rc == 2 && $(wc -l <"$TS_TMP/err") == 1 ]] && grep -q -- "${bad%% *}" "$TS_TMP/err" ||
        ts_fail "$bad: exit $rc, expected 2 and one line naming the flag: $(cat "$TS_TMP/err")"
    echo "  $bad: exit 2: $(cat "$TS_TMP/err")"
done
ts_daemon_start --serve http:80 --www "$TS_TMP/www" --sndbuf 64K \
    --header-timeout 6 --keepalive-timeout 3 --body-timeout 3
PY=(/usr/bin/python3 "$TS_ROOT/tests/integration/slow_clients.py")
counter() { ts_stats "$TS_TMP/s" && ts_stat "$TS_TMP/s" "svc.http.80.$1"; }

# Idle keep-alive.
out=$(ts_ns_t 40 "${PY[@]}" idle "$TS_ADDR" 80 30 2>&1)
echo "  idle keep-alive: $out"
[[ $out == "idle-closed eof "* ]] || ts_fail "idle keep-alive connection: expected a FIN, got: $out"
[[ $(counter timeout_keepalive) == 1 ]] || ts_fail "svc.http.80.timeout_keepalive is $(ts_stat "$TS_TMP/s" svc.http.80.timeout_keepalive), expected 1"

# A stalled request body.
out=$(ts_ns_t 40 "${PY[@]}" slowbody "$TS_ADDR" 80 30 2>&1)
echo "  stalled POST body: $out"
[[ $out == "body-closed eof "* ]] || ts_fail "stalled POST body: expected a FIN after the 405, got: $out"
[[ $(counter timeout_body) == 1 ]] || ts_fail "svc.http.80.timeout_body is $(ts_stat "$TS_TMP/s" svc.http.80.timeout_body), expected 1"

# A response the client never reads.
out=$(ts_ns_t 40 "${PY[@]}" noread "$TS_ADDR" 80 /big.bin 30 2>&1)
echo "  response never read: $out"
[[ $out == "noread-closed reset "* ]] || ts_fail "unread response: expected a reset, got: $out"
[[ $(counter timeout_body) == 2 ]] || ts_fail "svc.http.80.timeout_body is $(ts_stat "$TS_TMP/s" svc.http.80.timeout_body), expected 2"

# A connection that never sends a byte.
out=$(ts_ns_t 40 /usr/bin/python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=30)
t = time.monotonic()
try:
    d = s.recv(100)
    print("eof" if not d else "data", flush=True)
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("still-open")
' "$TS_ADDR" 2>&1)
echo "  silent connection: $out"
[[ $out == eof ]] || ts_fail "a connection that sends nothing: expected a FIN, got: $out"
[[ $(counter timeout_header) == 1 ]] || ts_fail "svc.http.80.timeout_header is $(ts_stat "$TS_TMP/s" svc.http.80.timeout_header), expected 1"
[[ $(ts_stat "$TS_TMP/s" svc.http.80.active) == 0 ]] || ts_fail "sessions left: $(ts_stat "$TS_TMP/s" svc.http.80.active)"

ts_ns_t 20 curl -sS --fail --max-time 10 -o /dev/null "http://$TS_ADDR/index.html" ||
    ts_fail "curl failed afterwards"
ts_pass "idle keep-alive closed (FIN), stalled body closed (FIN), unread response reset, silent connection closed (FIN); each counted"
