#!/usr/bin/env bash
# Slowloris (issue 8, point 3): 2,000 connections held mid-header (1,000 on http:80, 1,000 on
# https:443 after a full TLS handshake; each sent a partial request head and stalls) do not stop
# new clients: curl over http and https is served while they are held, with the daemon's default
# limits (--mem-budget, --max-connections, --tls-max-sessions). The header timeout then closes every
# held connection with FIN: counted from the client side (EOF) and by the daemon
# (svc.{http.80,https.443}.timeout_header). RSS is sampled throughout and stays under a bound.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

N_HTTP=1000
N_HTTPS=1000
N=$((N_HTTP + N_HTTPS))
HEADER_TIMEOUT=45 # the hold must be complete well within it (1,000 TLS handshakes: 9-14 s here)

ts_ns_create tst-http_slowloris
PKI=$TS_TMP/pki
mkdir -p "$PKI" "$TS_TMP/www"
ts_tls_ca "$PKI" ca
ts_tls_cert "$PKI" server ca "IP:$TS_ADDR"
echo "small page" >"$TS_TMP/www/index.html"
ts_daemon_start --serve http:80 --serve https:443 --www "$TS_TMP/www" \
    --cert "$PKI/server.pem" --key "$PKI/server.key" --header-timeout "$HEADER_TIMEOUT"
rss0=$(ts_rss_kb)

t0=$(ts_now_ms)
ts_ns_t 150 /usr/bin/python3 "$TS_ROOT/tests/integration/slow_clients.py" hold "$TS_ADDR" \
    "$N_HTTP" "$N_HTTPS" "$PKI/ca.pem" 100 >"$TS_TMP/hold.out" 2>&1 &
TS_PIDS+=($!)
rss_max=$rss0
sample_rss() {
    local r
    r=$(ts_rss_kb)
    ((r > rss_max)) && rss_max=$r
    return 0
}
held() { sample_rss && grep -q "^held $N" "$TS_TMP/hold.out"; }
wait_for 60 held || ts_fail "could not hold $N connections: $(tail -n 3 "$TS_TMP/hold.out")"
t_held=$(ts_now_ms)
echo "  $N connections held mid-header after $((t_held - t0)) ms"

# While they are held: a new client over http and one over https are served.
ts_ns_t 20 curl -sS --fail --max-time 10 -o "$TS_TMP/h.out" "http://$TS_ADDR/index.html" 2>"$TS_TMP/h.err" ||
    ts_fail "curl over http failed while $N were held: $(cat "$TS_TMP/h.err")"
ts_ns_t 20 curl -sS --fail --max-time 10 --cacert "$PKI/ca.pem" -o "$TS_TMP/s.out" \
    "https://$TS_ADDR/index.html" 2>"$TS_TMP/s.err" ||
    ts_fail "curl over https failed while $N were held: $(cat "$TS_TMP/s.err")"
[[ $(cat "$TS_TMP/h.out") == "small page" && $(cat "$TS_TMP/s.out") == "small page" ]] ||
    ts_fail "wrong page served while held"
sample_rss
ts_stats "$TS_TMP/held"
active_http=$(ts_stat "$TS_TMP/held" svc.http.80.active)
active_https=$(ts_stat "$TS_TMP/held" svc.https.443.active)
tls_active=$(ts_stat "$TS_TMP/held" tls.sessions_active)
# Still held when the curls were served: no connection closed yet, the daemon shows them all.
! grep -q '^closed' "$TS_TMP/hold.out" || ts_fail "held connections were closed before the curls ran"
((active_http >= N_HTTP && active_https >= N_HTTPS)) ||
    ts_fail "the daemon shows $active_http http and $active_https https sessions, expected $N_HTTP and $N_HTTPS held"
echo "  while held: curl http and https served; svc.http.80.active $active_http, svc.https.443.active $active_https, tls.sessions_active $tls_active, RSS $(ts_rss_kb) kB"

# The header timeout closes all of them (FIN: the client sees EOF, not a reset).
done_() { sample_rss && grep -q '^done' "$TS_TMP/hold.out"; }
wait_for $((HEADER_TIMEOUT + 60)) done_ || ts_fail "the held connections were not closed: $(tail -n 2 "$TS_TMP/hold.out")"
t_done=$(ts_now_ms)
result=$(grep '^done' "$TS_TMP/hold.out")
echo "  client side: $result ($((t_done - t0)) ms after the first connect)"
[[ $result == "done eof=$N reset=0 open=0" ]] || ts_fail "expected all $N closed with EOF: $result"
! grep -q '^unexpected' "$TS_TMP/hold.out" || ts_fail "a held connection got data: $(grep -m1 '^unexpected' "$TS_TMP/hold.out")"
ts_stats "$TS_TMP/after"
th=$(ts_stat "$TS_TMP/after" svc.http.80.timeout_header)
ts=$(ts_stat "$TS_TMP/after" svc.https.443.timeout_header)
[[ $th == "$N_HTTP" && $ts == "$N_HTTPS" ]] ||
    ts_fail "timeout_header: http $th, https $ts; expected $N_HTTP and $N_HTTPS"
[[ $(ts_stat "$TS_TMP/after" svc.http.80.active) == 0 && $(ts_stat "$TS_TMP/after" svc.https.443.active) == 0 ]] ||
    ts_fail "sessions left after the header timeout"
# RSS bound: a held http connection costs its TCB, one touched page of its receive ring and a small
# session (~9 KB idle, test_tcp_concurrent; ~13 KB with a partial head); a TLS one also holds
# mbedTLS's two ~16.7 KB record buffers and handshake state (~40 KB measured here). Bound: 48 KB
# per https and 16 KB per http connection plus 16 MB of heap slack, far below the 2 x 512 KiB of
# buffers each reserves (2 GB for all of them), which are never touched by a stalled head.
bound=$((N_HTTPS * 48 + N_HTTP * 16 + 16384))
growth=$((rss_max - rss0))
echo "  RSS $rss0 kB at start, at most $rss_max kB (+$growth kB, bound $bound kB); timeout_header http $th, https $ts"
((growth < bound)) || ts_fail "RSS grew by $growth kB holding $N connections (bound $bound kB)"

# And the daemon still serves.
ts_ns_t 20 curl -sS --fail --max-time 10 -o /dev/null "http://$TS_ADDR/index.html" ||
    ts_fail "curl failed after the held connections were closed"
ts_pass "$N held mid-header (http + https): new clients served while held; all $N closed by --header-timeout (EOF client side, timeout_header counted); RSS +$growth kB (bound $bound kB)"
