#!/usr/bin/env bash
# tunstackd's TLS against the kernel side's OpenSSL 3: `openssl s_client` completes a verified
# handshake with every allowed suite (ECDHE-ECDSA and ECDHE-RSA with ChaCha20-Poly1305, AES-128-GCM,
# AES-256-GCM) and groups X25519 and P-256, and is refused (fatal alert, no session) for CBC,
# static-RSA, DHE, P-384-only, TLS 1.0/1.1 and TLS 1.3-only offers; a session ticket is resumed
# (-sess_out/-sess_in: "Reused"); SNI picks the certificate by name; ALPN says http/1.1;
# renegotiation is refused. Then misbehaving peers (garbage, a truncated ClientHello, clients that
# stall mid-handshake) each end only their own connection (an alert where TLS allows one) while
# other clients are served: when the echo and the https GET have succeeded, the three stalled
# handshakes are still open (their clients waiting, tls.sessions_active >= 3, no timeout counted);
# then --tls-handshake-timeout (8 s) closes them, and the counters name each failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tls_openssl
PY=/usr/bin/python3
CLIENT=$TS_ROOT/tests/integration/tls_client.py
PKI=$TS_TMP/pki
WWW=$TS_TMP/www
mkdir -p "$PKI" "$WWW"
echo "hello over tls" >"$WWW/index.html"
ts_tls_ca "$PKI" ca
ts_tls_cert "$PKI" ec ca "IP:$TS_ADDR,DNS:tunstack.test"
ts_tls_cert "$PKI" rsa ca "IP:$TS_ADDR,DNS:tunstack.test" 30 rsa
ts_tls_cert "$PKI" other ca "DNS:other.test"

# The handshake timeout leaves ample time to serve others while three handshakes stall (below).
HS_TIMEOUT=8
ts_daemon_start --serve tls-echo:7 --serve https:443 --www "$WWW" --tls-handshake-timeout "$HS_TIMEOUT" \
    --cert "$PKI/ec.pem" --key "$PKI/ec.key" --cert "$PKI/rsa.pem" --key "$PKI/rsa.key" \
    --cert "$PKI/other.pem" --key "$PKI/other.key"

# sclient OUT ARGS... — s_client to tls-echo:7 with stdin closed; returns its exit status.
sclient() {
    local out=$1 rc=0
    shift
    ts_ns_t 15 openssl s_client -connect "$TS_ADDR:7" -CAfile "$PKI/ca.pem" -verify_return_error \
        "$@" </dev/null >"$out" 2>&1 || rc=$?
    return "$rc"
}

# ---- allowed suites and groups ----
for suite in ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 \
    ECDHE-RSA-CHACHA20-POLY1305 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384; do
    sclient "$TS_TMP/s.out" -tls1_2 -cipher "$suite" ||
        ts_fail "$suite refused: $(grep -iE 'error|alert' "$TS_TMP/s.out" | head -n 2)"
    grep -q "New, TLSv1.2, Cipher is $suite" "$TS_TMP/s.out" || ts_fail "$suite: no session line"
    grep -q 'Verify return code: 0 (ok)' "$TS_TMP/s.out" || ts_fail "$suite: certificate not verified"
done
echo "  6 suites: ECDHE-{ECDSA,RSA} x {CHACHA20-POLY1305, AES128-GCM, AES256-GCM}, verified"
sclient "$TS_TMP/s.out" -groups X25519:P-256 || ts_fail "X25519 refused"
grep -q 'Server Temp Key: X25519' "$TS_TMP/s.out" || ts_fail "X25519 not chosen: $(grep 'Temp Key' "$TS_TMP/s.out")"
sclient "$TS_TMP/s.out" -groups P-256 || ts_fail "P-256 refused"
grep -q 'Server Temp Key: ECDH, prime256v1' "$TS_TMP/s.out" || ts_fail "P-256 not chosen: $(grep 'Temp Key' "$TS_TMP/s.out")"
echo "  groups: X25519 and P-256 accepted"

# ---- refused offers: a fatal alert and no session ----
refuse() { # refuse WHAT ALERT-TEXT ARGS...
    local what=$1 alert=$2
    shift 2
    if sclient "$TS_TMP/r.out" "$@"; then ts_fail "$what was accepted"; fi
    grep -q 'Cipher is (NONE)' "$TS_TMP/r.out" || ts_fail "$what: a session was established"
    grep -q "$alert" "$TS_TMP/r.out" || ts_fail "$what: expected '$alert': $(grep -iE 'error|alert' "$TS_TMP/r.out" | head -n 2)"
    echo "  refused $what: $(grep -oE 'alert [a-z ]+' "$TS_TMP/r.out" | head -n 1)"
}
ts_stats "$TS_TMP/before"
refuse "AES128-SHA (static RSA, CBC)" "alert handshake failure" -tls1_2 -cipher AES128-SHA
refuse "AES128-GCM-SHA256 (static RSA)" "alert handshake failure" -tls1_2 -cipher AES128-GCM-SHA256
refuse "ECDHE-RSA-AES128-SHA (CBC)" "alert handshake failure" -tls1_2 -cipher ECDHE-RSA-AES128-SHA
refuse "ECDHE-ECDSA-AES128-SHA256 (CBC)" "alert handshake failure" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256
refuse "DHE-RSA-AES128-GCM-SHA256 (finite-field DHE)" "alert handshake failure" -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256
refuse "P-384 only" "alert handshake failure" -tls1_2 -groups P-384
refuse "TLS 1.1" "alert protocol version" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
refuse "TLS 1.0" "alert protocol version" -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
refuse "TLS 1.3 only" "alert" -tls1_3
ts_stats "$TS_TMP/after"
nsc=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tls.handshake_failed.no_shared_cipher)
nbv=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tls.handshake_failed.bad_version)
((nsc >= 6 && nbv >= 2)) || ts_fail "counters: no_shared_cipher +$nsc (want >= 6), bad_version +$nbv (want >= 2)"
echo "  counters: tls.handshake_failed.no_shared_cipher +$nsc, bad_version +$nbv"

# ---- resumption, SNI, ALPN, renegotiation ----
sclient "$TS_TMP/s.out" -tls1_2 -sess_out "$TS_TMP/sess.pem" || ts_fail "first session failed"
grep -q '^New, TLSv1.2' "$TS_TMP/s.out" || ts_fail "first session not new"
sclient "$TS_TMP/s.out" -tls1_2 -sess_in "$TS_TMP/sess.pem" || ts_fail "resumed session failed"
grep -q '^Reused, TLSv1.2' "$TS_TMP/s.out" || ts_fail "not resumed: $(grep -E '^(New|Reused)' "$TS_TMP/s.out")"
echo "  resumption: -sess_out then -sess_in: $(grep -E '^Reused' "$TS_TMP/s.out")"
# Regression: `s_time -reuse` resets each connection right after its abbreviated handshake; the
# client's Finished and the RST arrive together and the handshake must still count as done.
ts_stats "$TS_TMP/before"
ts_ns_t 20 openssl s_time -connect "$TS_ADDR:7" -reuse -time 1 >"$TS_TMP/stime.out" 2>&1 ||
    ts_fail "s_time -reuse failed: $(tail -n 2 "$TS_TMP/stime.out")"
n=$(awk '/connections in [0-9]+ real seconds/ {print $1; exit}' "$TS_TMP/stime.out")
ts_stats "$TS_TMP/after"
d_res=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tls.handshakes_resumed)
d_rst=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tls.handshake_failed.peer_reset)
[[ -n $n ]] && ((n > 10 && d_res >= n - 1 && d_rst == 0)) ||
    ts_fail "s_time -reuse: $n connections, handshakes_resumed +$d_res, handshake_failed.peer_reset +$d_rst"
echo "  s_time -reuse: $n connections, $d_res resumed handshakes counted, none lost to the client's reset"

sclient "$TS_TMP/s.out" -servername other.test || ts_fail "SNI other.test failed"
grep -q 'subject=CN = other' "$TS_TMP/s.out" || ts_fail "SNI other.test: $(grep '^subject=' "$TS_TMP/s.out")"
sclient "$TS_TMP/s.out" -servername tunstack.test || ts_fail "SNI tunstack.test failed"
grep -q 'subject=CN = ec' "$TS_TMP/s.out" || ts_fail "SNI tunstack.test: $(grep '^subject=' "$TS_TMP/s.out")"
sclient "$TS_TMP/s.out" || ts_fail "no SNI failed"
grep -q 'subject=CN = ec' "$TS_TMP/s.out" || ts_fail "no SNI: $(grep '^subject=' "$TS_TMP/s.out")"
echo "  SNI: other.test -> CN=other, tunstack.test and none -> CN=ec"

sclient "$TS_TMP/s.out" -alpn http/1.1 || ts_fail "ALPN failed"
grep -q 'ALPN protocol: http/1.1' "$TS_TMP/s.out" || ts_fail "ALPN: $(grep ALPN "$TS_TMP/s.out")"

# Renegotiation: s_client's "R" command starts one. Its stdin is a FIFO we hold open, so only the
# server's refusal can end it (a hang would be killed by the timeout: rc 124).
mkfifo "$TS_TMP/reneg.in"
timeout 15 ip netns exec "$TS_NS" openssl s_client -connect "$TS_ADDR:7" -CAfile "$PKI/ca.pem" \
    <"$TS_TMP/reneg.in" >"$TS_TMP/reneg.out" 2>&1 &
reneg_pid=$!
TS_PIDS+=("$reneg_pid")
exec 3>"$TS_TMP/reneg.in"
printf 'R\n' >&3
rc=0
wait "$reneg_pid" || rc=$?
ts_forget_pid "$reneg_pid"
exec 3>&-
((rc != 0 && rc != 124)) && grep -q 'RENEGOTIATING' "$TS_TMP/reneg.out" && grep -q 'no renegotiation' "$TS_TMP/reneg.out" ||
    ts_fail "renegotiation not refused (rc $rc): $(tail -n 3 "$TS_TMP/reneg.out")"
echo "  ALPN http/1.1; renegotiation refused (no_renegotiation)"

# ---- misbehaving peers end only their own connection ----
ts_stats "$TS_TMP/before"
stall_pids=()
for i in 1 2 3; do
    timeout 40 ip netns exec "$TS_NS" "$PY" "$CLIENT" stall "$TS_ADDR" 7 30 >"$TS_TMP/stall$i.out" 2>&1 &
    TS_PIDS+=($!)
    stall_pids+=($!)
done
# The three sessions exist (sessions_active counts TLS sessions from accept on) before the others come.
wait_for 10 eval '(( $(ts_ns_t 5 ss -tnH state established dst "$TS_ADDR" dport = :7 | wc -l) >= 3 ))' ||
    ts_fail "the three stalling clients did not connect"
ts_ns_t 30 "$PY" "$CLIENT" garbage "$TS_ADDR" 7 >"$TS_TMP/g.out" 2>&1 || ts_fail "$(cat "$TS_TMP/g.out")"
echo "  $(cat "$TS_TMP/g.out")"
ts_ns_t 30 "$PY" "$CLIENT" truncated "$TS_ADDR" 443 >"$TS_TMP/t.out" 2>&1 || ts_fail "$(cat "$TS_TMP/t.out")"
echo "  $(cat "$TS_TMP/t.out")"
# Served while three handshakes hang: an echo of 2 MB and an https GET.
ts_ns_t 60 "$PY" "$CLIENT" echo "$TS_ADDR" 7 "$PKI/ca.pem" 2000000 >"$TS_TMP/e.out" 2>&1 || ts_fail "$(cat "$TS_TMP/e.out")"
echo "  while 3 clients stall: $(cat "$TS_TMP/e.out")"
body=$(ts_ns_t 30 curl -sS --fail --cacert "$PKI/ca.pem" "https://$TS_ADDR/") || ts_fail "curl failed while clients stall"
[[ $body == "hello over tls" ]] || ts_fail "curl body '$body'"
# ... and the stalled handshakes were still open all along: their clients are still waiting, the
# daemon still holds their sessions, and no handshake has timed out yet.
ts_stats "$TS_TMP/mid"
d_timeout=$(ts_delta "$TS_TMP/before" "$TS_TMP/mid" tls.handshake_failed.timeout)
active=$(ts_stat "$TS_TMP/mid" tls.sessions_active)
waiting=0
for p in "${stall_pids[@]}"; do ts_alive "$p" && waiting=$((waiting + 1)); done
((waiting == 3 && active >= 3 && d_timeout == 0)) ||
    ts_fail "when the others were served: $waiting of 3 stalled clients still waiting, tls.sessions_active $active (want >= 3), handshake_failed.timeout +$d_timeout (want 0): $(cat "$TS_TMP"/stall*.out)"
echo "  when the echo and the GET were done: 3 stalled clients still waiting, tls.sessions_active $active, no timeout yet"
# Then the timeout ends them.
stalled_gone() { local p; for p in "${stall_pids[@]}"; do ! ts_alive "$p" || return 1; done; }
wait_for $((HS_TIMEOUT + 10)) stalled_gone ||
    ts_fail "the stalled handshakes were not closed within $((HS_TIMEOUT + 10)) s"
for i in 1 2 3; do
    wait "${stall_pids[$((i - 1))]}" || ts_fail "stalled client $i: $(cat "$TS_TMP/stall$i.out")"
    ts_forget_pid "${stall_pids[$((i - 1))]}"
done
echo "  stalled clients: $(cat "$TS_TMP/stall1.out"), $(cat "$TS_TMP/stall2.out"), $(cat "$TS_TMP/stall3.out")"
ts_stats "$TS_TMP/after"
d_timeout=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tls.handshake_failed.timeout)
d_bad=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tls.handshake_failed.bad_handshake)
d_closed=$(ts_delta "$TS_TMP/before" "$TS_TMP/after" tls.handshake_failed.peer_closed)
((d_timeout == 3 && d_bad == 1 && d_closed == 1)) ||
    ts_fail "handshake_failed: timeout +$d_timeout (want 3), bad_handshake +$d_bad (want 1), peer_closed +$d_closed (want 1)"
active=$(ts_stat "$TS_TMP/after" tls.sessions_active)
((active == 0)) || ts_fail "tls.sessions_active = $active after every client left"
grep -q "TLS handshake failed: handshake timed out (no complete handshake within $HS_TIMEOUT s)" "$TS_DAEMON_LOG" || ts_fail "no log line for the timeout"
echo "  counters: handshake_failed.timeout +3, bad_handshake +1, peer_closed +1; sessions_active 0"

ts_daemon_stop
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exit status $TS_DAEMON_RC"
ts_pass "6 suites x verified, X25519/P-256; CBC/static-RSA/DHE/P-384/TLS1.0/1.1/1.3-only refused with alerts; ticket resumption; SNI; ALPN; no renegotiation; garbage/truncated/stalled handshakes end only their connection"
