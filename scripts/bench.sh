#!/bin/sh
# Benchmarks xdpstack against the kernel on the same veth pair, in one run:
# the same client workload aimed at xdpstack's IP and at the kernel's IP.
# Usage: scripts/bench.sh BUILD_DIR   (as root). Prints a markdown table.
set -eu
B=${1:-build}
BIN=$B/xdpstack
UDPB=$B/udp_bench
[ "$(id -u)" = 0 ] || { echo "bench.sh: needs root (namespaces, XDP)" >&2; exit 1; }
[ -x "$BIN" ] && [ -x "$UDPB" ] || { echo "bench.sh: build first (make bench)" >&2; exit 1; }

tag=$$$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
NA=xsbench-$tag-a NB=xsbench-$tag-b VA=xba$tag VB=xbb$tag
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	ip netns del "$NA" 2>/dev/null || true
	ip netns del "$NB" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ip netns add "$NA"
ip netns add "$NB"
ip link add "$VA" type veth peer name "$VB"
ip link set "$VA" netns "$NA"
ip link set "$VB" netns "$NB"
ip -n "$NA" addr add 172.17.0.1/24 dev "$VA"
ip -n "$NB" addr add 172.17.0.2/24 dev "$VB"
ip -n "$NA" link set "$VA" up
ip -n "$NB" link set "$VB" up
ip netns exec "$NA" ethtool -K "$VA" tx off tso off gso off gro off >/dev/null 2>&1 || true
ip netns exec "$NB" ethtool -K "$VB" tx off tso off gso off gro off >/dev/null 2>&1 || true

OUT=$(mktemp)
ip netns exec "$NA" "$BIN" --ip 172.17.0.253 --dev "$VA" >"$OUT" 2>&1 &
PIDS="$PIDS $!"
ip netns exec "$NA" "$UDPB" server 172.17.0.1 8888 600 >/dev/null &
PIDS="$PIDS $!"
# Kernel TCP discard (9) and source (19) on the kernel's own address, the
# same services xdpstack runs, so the same client measures both.
ip netns exec "$NA" /usr/bin/python3 -c '
import socket, threading
def serve(port, fn):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("172.17.0.1", port)); l.listen(64)
    while True:
        c, _ = l.accept(); threading.Thread(target=fn, args=(c,), daemon=True).start()
def discard(c):
    while c.recv(1 << 20): pass
    c.close()
def source(c):
    b = bytes(range(256)) * 4096
    try:
        while True: c.sendall(b)
    except OSError: pass
threading.Thread(target=serve, args=(9, discard), daemon=True).start()
serve(19, source)' &
PIDS="$PIDS $!"
i=0
until grep -q serving "$OUT"; do
	i=$((i + 1)); [ $i -lt 50 ] || { cat "$OUT" >&2; exit 1; }
	sleep 0.1
done
ip netns exec "$NB" ping -c 3 -i 0.2 -q 172.17.0.253 >/dev/null
ip netns exec "$NB" ping -c 3 -i 0.2 -q 172.17.0.1 >/dev/null

# ping: mean RTT over N echoes, 1 ms apart.
ping_avg() { ip netns exec "$NB" ping -c "$2" -i 0.001 -q -s "$3" "$1" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }
# flood ping: wall time for N echoes, one in flight at a time.
ping_flood() { ip netns exec "$NB" ping -f -c "$2" -q -s "$3" "$1" | sed -n 's|.*received.* time \([0-9]*\)ms|\1|p'; }
# UDP echo: transactions per second with W requests in flight.
udp_rate() { ip netns exec "$NB" "$UDPB" client "$1" 8888 "$2" "$3" "$4" 30 | sed -n 's/.* rate \([0-9]*\) .*/\1/p'; }
udp_lat() { ip netns exec "$NB" "$UDPB" client "$1" 8888 "$2" "$3" 1 30 | sed -n 's/.* latency_us \([0-9.]*\).*/\1/p'; }

# TCP bulk: MB/s for N bytes from the source service (down) or to discard (up).
tcp_rate() { ip netns exec "$NB" /usr/bin/python3 -c '
import socket, sys, time
ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((ip, port)); got = 0; t0 = time.time()
if port == 19:
    while got < n:
        b = s.recv(1 << 20)
        if not b: break
        got += len(b)
else:
    b = bytes(1 << 20)
    while got < n: s.sendall(b); got += len(b)
    s.shutdown(socket.SHUT_WR); s.recv(1)
print("%.0f" % (got / (time.time() - t0) / 1e6))' "$1" "$2" "$3"; }
row() { # name unit xdpstack kernel better(lower|higher)
	awk -v n="$1" -v u="$2" -v x="$3" -v k="$4" -v b="$5" 'BEGIN {
		r = (b == "lower") ? (x > 0 ? k / x : 0) : (k > 0 ? x / k : 0);
		printf "| %s | %s | %s | %s | %.2f |\n", n, u, x, k, r }'
}

echo "| workload | unit | xdpstack | kernel | xdpstack/kernel (>1 = xdpstack better) |"
echo "|---|---|---|---|---|"
row "ping RTT, 56 B, 2000 x 1 ms apart" "ms avg" "$(ping_avg 172.17.0.253 2000 56)" "$(ping_avg 172.17.0.1 2000 56)" lower
row "ping RTT, 1400 B, 2000 x 1 ms apart" "ms avg" "$(ping_avg 172.17.0.253 2000 1400)" "$(ping_avg 172.17.0.1 2000 1400)" lower
row "flood ping, 56 B, 20000 echoes" "ms total" "$(ping_flood 172.17.0.253 20000 56)" "$(ping_flood 172.17.0.1 20000 56)" lower
row "UDP echo, 64 B, 1 in flight" "us/transaction" "$(udp_lat 172.17.0.253 20000 64)" "$(udp_lat 172.17.0.1 20000 64)" lower
row "UDP echo, 64 B, 32 in flight" "transactions/s" "$(udp_rate 172.17.0.253 200000 64 32)" "$(udp_rate 172.17.0.1 200000 64 32)" higher
row "UDP echo, 1400 B, 32 in flight" "transactions/s" "$(udp_rate 172.17.0.253 100000 1400 32)" "$(udp_rate 172.17.0.1 100000 1400 32)" higher
row "ping 8000 B (fragmented both ways), 500 x" "ms avg" "$(ping_avg 172.17.0.253 500 8000)" "$(ping_avg 172.17.0.1 500 8000)" lower
row "TCP download 1 GiB (server sends)" "MB/s" "$(tcp_rate 172.17.0.253 19 1073741824)" "$(tcp_rate 172.17.0.1 19 1073741824)" higher
row "TCP upload 1 GiB (server receives)" "MB/s" "$(tcp_rate 172.17.0.253 9 1073741824)" "$(tcp_rate 172.17.0.1 9 1073741824)" higher
