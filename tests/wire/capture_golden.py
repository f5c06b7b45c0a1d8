#!/usr/bin/python3
# Captures the golden packets of tests/wire/wire_test_support.hpp: real packets the Linux kernel writes
# into a TUN device (a ping, a UDP datagram, a TCP SYN) in a private network namespace, so nothing leaves
# the machine. Run as root:
#   ip netns add wgold && ip netns exec wgold /usr/bin/python3 tests/wire/capture_golden.py; \
#   ip netns del wgold
# Prints one hex line per packet.
import fcntl, os, struct, socket, subprocess, time, select
TUNSETIFF = 0x400454ca
fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', b'wgold0', 0x0001 | 0x1000))
subprocess.run('sysctl -qw net.ipv6.conf.wgold0.disable_ipv6=1', shell=True)
subprocess.run('ip addr add 198.18.0.1/24 dev wgold0 && ip link set wgold0 up', shell=True, check=True)
time.sleep(0.2)
subprocess.Popen(['ping', '-c1', '-W1', '-s', '21', '198.18.0.2'])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b'hello tunstack!', ('198.18.0.2', 5353))
t = socket.socket(); t.setblocking(False)
try: t.connect(('198.18.0.2', 8080))
except BlockingIOError: pass
out = []
end = time.time() + 1.5
while time.time() < end and len(out) < 6:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r: out.append(os.read(fd, 65535))
for p in out: print(p.hex())
