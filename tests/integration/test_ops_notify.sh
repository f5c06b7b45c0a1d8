#!/usr/bin/env bash
# Issue 5, systemd readiness without systemd: the test binds a NOTIFY_SOCKET (AF_UNIX datagram, in
# its temp dir, writable by the daemon's --user like systemd's) and starts tunstackd with it. READY=1
# must arrive once the device is up and the services listen: the listener checks, the moment the
# datagram arrives, that the TUN is up with its address and that echo:7 accepts a connection and
# echoes. SIGTERM then sends STOPPING=1 before the daemon exits 0.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

ts_ns_create tst-ops_notify
SOCK=$TS_TMP/notify.sock
cat >"$TS_TMP/listen.py" <<'PY'
import os, socket, subprocess, sys, time
sock_path, out_path, tun, addr = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
os.chmod(sock_path, 0o666)           # systemd's notify socket is writable by any service user
open(out_path + ".bound", "w").close()
s.settimeout(1)
deadline = time.time() + 40
with open(out_path, "a", buffering=1) as out:
    while time.time() < deadline:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        for line in msg.split("\n"):
            if line:
                out.write("msg " + line + "\n")
        if "READY=1" in msg.split("\n"):
            link = subprocess.run(["ip", "-o", "link", "show", "dev", tun], capture_output=True, text=True).stdout
            out.write("link " + " ".join(link.split()[:3]) + "\n")
            a = subprocess.run(["ip", "-br", "addr", "show", "dev", tun], capture_output=True, text=True).stdout
            out.write("addr " + " ".join(a.split()) + "\n")
            try:
                c = socket.create_connection((addr, 7), timeout=3)
                c.sendall(b"ready?\n")
                out.write("echo " + repr(c.recv(100)) + "\n")
                c.close()
            except OSError as e:
                out.write("echo failed " + str(e) + "\n")
        if "STOPPING=1" in msg.split("\n"):
            break
PY
timeout 60 ip netns exec "$TS_NS" /usr/bin/python3 "$TS_TMP/listen.py" "$SOCK" "$TS_TMP/notify.log" "$TS_TUN" "$TS_ADDR" &
LISTENER=$!
TS_PIDS+=("$LISTENER")
wait_for 10 test -e "$TS_TMP/notify.log.bound" || ts_fail "the NOTIFY_SOCKET listener did not start"

NOTIFY_SOCKET=$SOCK ts_daemon_start --user nobody --serve echo:7
wait_for 10 grep -q '^echo ' "$TS_TMP/notify.log" || ts_fail "no READY=1 on NOTIFY_SOCKET within 10 s: $(cat "$TS_TMP/notify.log")"
sed 's/^/  /' "$TS_TMP/notify.log"
grep -q '^msg READY=1$' "$TS_TMP/notify.log" || ts_fail "no READY=1 line"
grep -qE "^link [0-9]+: $TS_TUN: <([A-Z_]+,)*UP[,>]" "$TS_TMP/notify.log" ||
    ts_fail "at READY=1 the device was not up: $(grep ^link "$TS_TMP/notify.log")"
grep -qE "^addr $TS_TUN .* 198\.18\.0\.1/24" "$TS_TMP/notify.log" ||
    ts_fail "at READY=1 the device had no address: $(grep ^addr "$TS_TMP/notify.log")"
grep -qF "echo b'ready?\n'" "$TS_TMP/notify.log" ||
    ts_fail "at READY=1 echo:7 did not answer: $(grep ^echo "$TS_TMP/notify.log")"
grep -q '^msg STATUS=ready' "$TS_TMP/notify.log" || ts_fail "no STATUS= with READY=1"

ts_daemon_stop TERM || ts_fail "tunstackd did not exit on SIGTERM"
[[ $TS_DAEMON_RC == 0 ]] || ts_fail "tunstackd exited $TS_DAEMON_RC"
wait_for 5 grep -q '^msg STOPPING=1$' "$TS_TMP/notify.log" || ts_fail "no STOPPING=1 after SIGTERM"
[[ $(grep -c '^msg READY=1$' "$TS_TMP/notify.log") == 1 ]] || ts_fail "READY=1 sent more than once"
ts_pass "READY=1 (with STATUS) arrived when the device was up and echo:7 answered (daemon as nobody); STOPPING=1 on SIGTERM"
