#!/usr/bin/env bash
# Error replies reach a client that is still sending (issue 8, point 17): a 431 (a header that
# never ends) and a 400 (a malformed request line followed by more input), over http and https,
# while the client sends 256 KiB in all and reads only then (as curl with a body). Closing a socket with unread input
# resets the connection, and the RST would destroy the reply in the client's receive queue; the
# daemon closes lingering instead (FIN after the reply, input read and dropped until the client's
# FIN, bounded), so the client reads the whole reply and then a clean EOF. Counted in
# svc.*.lingering.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-http_error_close
PKI=$TS_TMP/pki
mkdir -p "$PKI" "$TS_TMP/www"
ts_tls_ca "$PKI" ca
ts_tls_cert "$PKI" server ca "IP:$TS_ADDR"
echo "small page" >"$TS_TMP/www/index.html"
ts_daemon_start --serve http:80 --serve https:443 --www "$TS_TMP/www" \
    --cert "$PKI/server.pem" --key "$PKI/server.key"

for kind in 431 400; do
    for svc in "80 0 http" "443 1 https"; do
        read -r port tls name <<<"$svc"
        out=$(ts_ns_t 40 /usr/bin/python3 "$TS_ROOT/tests/integration/slow_clients.py" badrequest \
            "$kind" "$TS_ADDR" "$port" "$tls" "$PKI/ca.pem" 2>&1)
        echo "  $name, $kind while still sending: $out"
        [[ $out == "status $kind eof" ]] ||
            ts_fail "$name: expected the $kind reply and a clean EOF, got: $out"
    done
done
ts_stats "$TS_TMP/stats"
for p in http.80 https.443; do
    l=$(ts_stat "$TS_TMP/stats" "svc.$p.lingering")
    x=$(ts_stat "$TS_TMP/stats" "svc.$p.status_4xx")
    echo "  svc.$p: lingering $l, status_4xx $x"
    [[ $l == 2 && $x == 2 ]] || ts_fail "svc.$p.lingering $l and status_4xx $x, expected 2 and 2"
done
# The lingering sessions end once the clients are gone.
gone() { ts_stats "$TS_TMP/end" && [[ $(ts_stat "$TS_TMP/end" svc.http.80.active) == 0 && $(ts_stat "$TS_TMP/end" svc.https.443.active) == 0 ]]; }
wait_for 40 gone || ts_fail "lingering sessions left: $(grep active "$TS_TMP/end")"
ts_ns_t 20 curl -sS --fail --max-time 10 -o /dev/null "http://$TS_ADDR/index.html" ||
    ts_fail "curl failed afterwards"
ts_pass "431 and 400 replies delivered over http and https to clients still sending (FIN, not RST); lingering counted"
