#!/bin/sh
# Busy-poll on/off: request/response latency of xdpstack without and with
# --busy-poll, and of the kernel, on one veth pair in one run.
# Usage: scripts/bench_busypoll.sh BUILD_DIR   (as root). Prints a markdown table.
# PIN=1: servers (xdpstack, the kernel's echo servers) on CPU 1, clients on
# CPU 0, as a daemon with a core of its own serving remote clients would be;
# unpinned, the scheduler may put a sleeping daemon next to its client.
set -eu
B=${1:-build}
BIN=$B/xdpstack
UDPB=$B/udp_bench
TCPRR=$B/tcp_rr
PING_N=${PING_N:-2000}
SRV="" CLI=""
if [ "${PIN:-0}" = 1 ]; then SRV="taskset -c 1" CLI="taskset -c 0"; fi
RR_N=${RR_N:-5000}
[ "$(id -u)" = 0 ] || { echo "bench_busypoll.sh: needs root (namespaces, XDP)" >&2; exit 1; }
[ -x "$BIN" ] && [ -x "$UDPB" ] && [ -x "$TCPRR" ] ||
	{ echo "bench_busypoll.sh: build first (make bench-busy-poll)" >&2; exit 1; }

tag=$$$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
NA=xsbpb-$tag-a NB=xsbpb-$tag-b VA=xqa$tag VB=xqb$tag
PIDS="" XPID=""
OUT=$(mktemp)
cleanup() {
	for p in $PIDS $XPID; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	ip netns del "$NA" 2>/dev/null || true
	ip netns del "$NB" 2>/dev/null || true
	rm -f "$OUT"
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

# The kernel's UDP and TCP echo on its own address, port 8888 as xdpstack's.
ip netns exec "$NA" $SRV "$UDPB" server 172.17.0.1 8888 900 >/dev/null &
PIDS="$PIDS $!"
ip netns exec "$NA" $SRV "$TCPRR" server 172.17.0.1 8888 900 >/dev/null &
PIDS="$PIDS $!"
# And one that spins on its socket (while a client is connected), the
# kernel-side counterpart of --busy-poll, for the spinning-client rows.
ip netns exec "$NA" $SRV "$TCPRR" server 172.17.0.1 8889 900 spin >/dev/null &
PIDS="$PIDS $!"

start_xs() { # extra args
	: >"$OUT"
	ip netns exec "$NA" $SRV "$BIN" --ip 172.17.0.253 --dev "$VA" --ctl "/run/xdpstack/$VA.sock" "$@" >"$OUT" 2>&1 &
	XPID=$!
	i=0
	until grep -q serving "$OUT"; do
		i=$((i + 1)); [ $i -lt 50 ] || { cat "$OUT" >&2; exit 1; }
		sleep 0.1
	done
	ip netns exec "$NB" ping -c 3 -i 0.2 -q 172.17.0.253 >/dev/null
}
stop_xs() { kill "$XPID"; wait "$XPID" 2>/dev/null || true; XPID=""; }
cpu_s() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }

ping_avg() { ip netns exec "$NB" $CLI ping -c "$2" -i "$3" -q "$1" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }
udp_lat() { ip netns exec "$NB" $CLI "$UDPB" client "$1" 8888 20000 64 1 30 | sed -n 's/.* latency_us \([0-9.]*\).*/\1/p'; }
tcp_rr() { ip netns exec "$NB" $CLI "$TCPRR" client "$1" "$2" "$RR_N" 64 ${3:-}; }

# One column: ping 1 ms apart, ping 50 ms apart, UDP 1-in-flight, TCP 64 B
# ping-pong (mean, p50, p99), the same with a client that spins on its socket
# (against port spin_port), and the server's CPU seconds over all of it.
measure() { # ip pid-or-empty spin_port
	c0=0; [ -n "$2" ] && c0=$(cpu_s "$2")
	t0=$(date +%s.%N)
	p1=$(ping_avg "$1" "$PING_N" 0.001)
	p2=$(ping_avg "$1" 100 0.05)
	u=$(udp_lat "$1")
	r=$(tcp_rr "$1" 8888)
	rs=$(tcp_rr "$1" "$3" spin)
	t1=$(date +%s.%N)
	cpu=-; [ -n "$2" ] && cpu=$(awk -v a="$c0" -v b="$(cpu_s "$2")" -v w0="$t0" -v w1="$t1" \
		'BEGIN { printf "%.1f of %.1f", b - a, w1 - w0 }')
	echo "$p1|$p2|$u|$(echo "$r" | awk '{ print $6 "|" $8 "|" $10 }')|$(echo "$rs" | awk '{ print $6 "|" $8 "|" $10 }')|$cpu"
}

start_xs
OFF=$(measure 172.17.0.253 "$XPID" 8888)
stop_xs
start_xs --busy-poll
grep "busy-poll:" "$OUT" >&2 || true
ON=$(measure 172.17.0.253 "$XPID" 8888)
napi=$("$B/xdpstack-ctl" --ctl "/run/xdpstack/$VA.sock" stats | awk '/busy_poll_napi_id/ { print $2 }')
echo "kernel busy polling for the socket: napi_id ${napi:-?} (0: none)" >&2
stop_xs
K=$(measure 172.17.0.1 "" 8889)

col() { echo "$1" | cut -d'|' -f"$2"; }
echo "| workload | unit | xdpstack | xdpstack --busy-poll | kernel |"
echo "|---|---|---|---|---|"
row() { echo "| $1 | $2 | $(col "$OFF" "$3") | $(col "$ON" "$3") | $(col "$K" "$3") |"; }
row "ping RTT, 56 B, $PING_N x 1 ms apart" "ms avg" 1
row "ping RTT, 56 B, 100 x 50 ms apart" "ms avg" 2
row "UDP echo, 64 B, 1 in flight" "us/transaction" 3
row "TCP echo ping-pong, 64 B, $RR_N round trips" "us mean" 4
row "same, median" "us p50" 5
row "same, 99th percentile" "us p99" 6
row "TCP ping-pong, client spinning (kernel: server too)" "us mean" 7
row "same, median" "us p50" 8
row "same, 99th percentile" "us p99" 9
row "server CPU over the runs above" "CPU s of wall s" 10
