#!/bin/sh
# Demo: xdpstack serves 172.17.0.253 on a veth whose kernel side keeps 172.17.0.1.
# Usage: sh scripts/demo.sh BUILD_DIR   (root; DEMO_SECONDS=N stops after N s, else Ctrl-C)
#
#   ns A (xdpstack side)                   ns B (peer, plain Linux tools)
#   xa<id> 172.17.0.1/24 + xdpstack .253 <--veth--> xb<id> 172.17.0.2/24
#
# Everything it creates carries this run's id and is removed on exit, Ctrl-C or kill.
set -eu

BUILD=${1:-build}
STACK_IP=172.17.0.253
KERNEL_IP=172.17.0.1
PEER_IP=172.17.0.2
PORT=8888

die() { echo "demo.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, XDP, AF_XDP): run it with sudo"
[ -x "$BUILD/xdpstack" ] || die "$BUILD/xdpstack is not built: run make"
BIN=$(cd "$BUILD" && pwd)/xdpstack
case ${DEMO_SECONDS:-} in
'' | *[!0-9]*) [ -z "${DEMO_SECONDS:-}" ] || die "DEMO_SECONDS must be a number of seconds" ;;
esac

# Unique per run: pid + 2 random bytes (veth names stay within 15 characters).
ID=$(($$ % 100000))$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
NSA=xsdemoA$ID
NSB=xsdemoB$ID
VA=xa$ID
VB=xb$ID
TMP=$(mktemp -d)
PID=

stop_daemon() {
	[ -n "$PID" ] || return 0
	# Ctrl-C reaches xdpstack too (same process group); SIGINT it ourselves
	# only if it is still up, then give it time to print its counters.
	if kill -0 "$PID" 2>/dev/null; then
		kill -INT "$PID" 2>/dev/null || true
	fi
	i=0
	while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$PID" 2>/dev/null; then
		echo "demo.sh: xdpstack did not stop on SIGINT, killing it" >&2
		kill -KILL "$PID" 2>/dev/null || true
	fi
	rc=0
	wait "$PID" 2>/dev/null || rc=$?
	PID=
	echo
	echo "== xdpstack stopped (exit $rc); its output:"
	sed 's/^/   /' "$TMP/out"
	[ ! -s "$TMP/err" ] || sed 's/^/   stderr: /' "$TMP/err"
}

cleanup() {
	trap - EXIT INT TERM HUP
	set +e
	stop_daemon
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$TMP"
	echo "== cleaned up $NSA, $NSB"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

inb() { ip netns exec "$NSB" "$@"; }

echo "== topology: $NSA/$VA ($KERNEL_IP) <-> $NSB/$VB ($PEER_IP)"
ip netns add "$NSA"
ip netns add "$NSB"
ip link add "$VA" netns "$NSA" type veth peer name "$VB" netns "$NSB"
side_up() { # NS DEV ADDR
	ip -n "$1" link set lo up
	ip -n "$1" addr add "$3/24" dev "$2"
	# Offloads off: no partial checksums or 64 KB segments for XDP to see.
	ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null
	ip -n "$1" link set "$2" up
}
side_up "$NSA" "$VA" "$KERNEL_IP"
side_up "$NSB" "$VB" "$PEER_IP"

echo "== starting xdpstack --ip $STACK_IP in $NSA"
# A background job of a non-interactive shell starts with SIGINT ignored;
# give xdpstack the default back so its own handler sees Ctrl-C.
mkdir -p "$TMP/www"
printf '<h1>served by xdpstack</h1>\n' >"$TMP/www/index.html"
ip netns exec "$NSA" env --default-signal=INT "$BIN" --ip "$STACK_IP" --dev "$VA" \
	--http 80 --root "$TMP/www" >"$TMP/out" 2>"$TMP/err" &
PID=$!
i=0
until grep -q "serving" "$TMP/out" 2>/dev/null; do
	if ! kill -0 "$PID" 2>/dev/null || [ $i -ge 150 ]; then
		cat "$TMP/err" >&2
		die "xdpstack did not come up"
	fi
	sleep 0.1
	i=$((i + 1))
done
echo "   $(grep serving "$TMP/out")"

echo
echo "== arping -c 3 $STACK_IP (from $NSB): who has the stack's address?"
inb arping -c 3 -w 5 -i "$VB" "$STACK_IP" | sed 's/^/   /' || echo "   (no reply)"
echo "   ($VA's own MAC is $(ip -n "$NSA" -br link show "$VA" | awk '{print $3}'))"

echo
echo "== ping -c 3 $STACK_IP (answered by xdpstack)"
inb ping -n -c 3 -i 0.2 -W 2 "$STACK_IP" | sed 's/^/   /' || echo "   (ping failed)"

echo
echo "== ping -c 3 $KERNEL_IP (answered by the kernel, same interface)"
inb ping -n -c 3 -i 0.2 -W 2 "$KERNEL_IP" | sed 's/^/   /' || echo "   (ping failed)"

echo
echo "== UDP echo round trip to $STACK_IP:$PORT"
inb /usr/bin/python3 - "$STACK_IP" "$PORT" <<'EOF' | sed 's/^/   /' || true
import socket, sys
ip, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
msg = b"hello from the kernel peer"
s.sendto(msg, (ip, port))
try:
    data, addr = s.recvfrom(2048)
    print(f"sent {msg!r}, got {data!r} from {addr[0]}:{addr[1]}",
          "(identical)" if data == msg else "(DIFFERENT!)")
except socket.timeout:
    print(f"sent {msg!r}, no answer within 2 s")
EOF

echo
echo "== TCP echo on $STACK_IP:8888 (nc from $NSB)"
printf 'hello over TCP\n' | inb nc -N -w 3 "$STACK_IP" 8888 | sed 's/^/   got back: /' ||
	echo "   (no answer)"

echo
echo "== HTTP: curl http://$STACK_IP/ (the stack's HTTP server, --http 80 --root $TMP/www)"
inb curl -sS -m 5 -D - "http://$STACK_IP/" | tr -d '\r' | sed 's/^/   /' || echo "   (curl failed)"

echo
if [ -n "${DEMO_SECONDS:-}" ]; then
	echo "== serving for $DEMO_SECONDS s (ping $STACK_IP from $NSB meanwhile:" \
		"ip netns exec $NSB ping $STACK_IP)"
	sleep "$DEMO_SECONDS"
else
	echo "== serving until Ctrl-C (try: sudo ip netns exec $NSB ping $STACK_IP)"
	while kill -0 "$PID" 2>/dev/null; do
		sleep 1
	done
	echo "== xdpstack exited on its own"
fi
# cleanup (EXIT trap) stops xdpstack with SIGINT and prints its counters.
