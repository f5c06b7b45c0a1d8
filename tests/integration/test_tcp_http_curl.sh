#!/usr/bin/env bash
# http: curl downloads a 200 MB file from tunstackd's http service byte-exact (sha256), then checks the
# rest of the contract: keep-alive reuse, HEAD, Content-Type, 404, 405, 400 for a malformed request,
# Connection: close honoured, and no escape from --www through "..", encoded "..", or a symlink.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-tcp_http_curl
WWW=$TS_TMP/www
mkdir -p "$WWW/sub"
SIZE=$((200 * 1000 * 1000))
timeout 60 openssl enc -aes-128-ctr -K 00112233445566778899aabbccddeeff -iv 0 -nosalt </dev/zero 2>/dev/null |
    head -c "$SIZE" >"$WWW/big.bin"
[[ $(stat -c %s "$WWW/big.bin") == "$SIZE" ]] || ts_fail "could not create the 200 MB file"
want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
echo '<html>hi</html>' >"$WWW/index.html"
echo 'sub text' >"$WWW/sub/a.txt"
echo 'secret' >"$TS_TMP/secret.txt"
ln -s "$TS_TMP/secret.txt" "$WWW/escape"
ln -s sub/a.txt "$WWW/inside"
ts_daemon_start --serve http:80 --www "$WWW"
URL=http://$TS_ADDR

# 1. The 200 MB download.
t0=$(ts_now_ms)
ts_ns_t 120 curl -sS --max-time 100 -o "$TS_TMP/got.bin" "$URL/big.bin" || ts_fail "curl big.bin failed ($?)"
t1=$(ts_now_ms)
got=$(sha256sum <"$TS_TMP/got.bin" | cut -d' ' -f1)
[[ $got == "$want" ]] || ts_fail "sha256 of the download differs ($(stat -c %s "$TS_TMP/got.bin") bytes)"
ms=$((t1 - t0))
echo "  200 MB byte-exact in $ms ms ($((SIZE * 8 / (ms > 0 ? ms : 1) / 1000)) Mbit/s)"
rss=$(ts_rss_kb)
echo "  tunstackd VmRSS after the download: $rss kB (the file is streamed, not loaded)"
((rss < 150000)) || ts_fail "tunstackd RSS is $rss kB after serving 200 MB: file loaded into memory?"

# 2. Keep-alive: two URLs, one connection.
ts_ns_t 20 curl -sS -v -o /dev/null -o /dev/null "$URL/index.html" "$URL/sub/a.txt" 2>"$TS_TMP/ka.err" ||
    ts_fail "curl keep-alive run failed"
grep -q 'Re-using existing connection' "$TS_TMP/ka.err" || ts_fail "curl did not reuse the connection (keep-alive)"
echo "  keep-alive: curl reused the connection for the second request"

status() { ts_ns_t 20 curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect() { # expect LABEL WANT CURL-ARGS...
    local label=$1 want=$2 got
    shift 2
    got=$(status "$@")
    [[ $got == "$want" ]] || ts_fail "$label: HTTP $got, expected $want"
    echo "  $label: $got"
}
expect "GET /" 200 "$URL/"
expect "GET /sub/ (no index.html)" 404 "$URL/sub/"
expect "missing file" 404 "$URL/nope"
expect "POST" 405 -X POST --data x "$URL/index.html"
expect "path with .." 400 --path-as-is "$URL/../secret.txt"
expect "encoded .." 400 --path-as-is "$URL/%2e%2e/secret.txt"
expect "symlink out of --www" 404 "$URL/escape"
expect "symlink inside --www" 200 "$URL/inside"
ct=$(ts_ns_t 20 curl -s -o /dev/null -w '%{content_type}' "$URL/index.html")
[[ $ct == text/html* ]] || ts_fail "Content-Type of index.html is '$ct'"
hl=$(ts_ns_t 20 curl -sS -I "$URL/big.bin" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-length"{print $2}')
[[ $hl == "$SIZE" ]] || ts_fail "HEAD big.bin: Content-Length '$hl', expected $SIZE"
echo "  HEAD: Content-Length $hl, no body; Content-Type of index.html: $ct"
ts_ns_t 20 curl -sS -v -o /dev/null -H 'Connection: close' "$URL/index.html" 2>"$TS_TMP/cl.err"
grep -qi '< Connection: close' "$TS_TMP/cl.err" || ts_fail "Connection: close not answered with Connection: close"
printf 'GARBAGE\r\n\r\n' | ts_ns_t 20 nc -N -w 5 "$TS_ADDR" 80 >"$TS_TMP/bad.out"
head -n 1 "$TS_TMP/bad.out" | grep -q '^HTTP/1.1 400' || ts_fail "malformed request: $(head -n 1 "$TS_TMP/bad.out")"
echo "  malformed request: $(head -n 1 "$TS_TMP/bad.out" | tr -d '\r'); Connection: close honoured"
grep -q secret "$TS_TMP/bad.out" && ts_fail "secret leaked"
ts_pass "200 MB byte-exact in $ms ms; keep-alive, HEAD, 404, 405, 400, no escape from --www"
