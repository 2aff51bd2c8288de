#!/bin/sh
# Installs the Debian packages xdpstack needs to build, test and run its demo.
# Idempotent: does nothing when everything is already installed. The stock tools
# the tests drive (iperf3, sockperf, wrk, curl, dnsmasq) come as packages too;
# dnsmasq-base is the binary without the system service. nginx is the kernel's
# HTTP server in make bench, run there in a namespace with its own config: the
# package's system service, should it have been started, is stopped again.
set -eu
PKGS="clang llvm make gcc pkg-config libxdp-dev libbpf-dev libelf-dev zlib1g-dev
 linux-libc-dev bpftool xdp-tools libpcap-dev libcmocka-dev iproute2 ethtool arping
 iputils-ping netcat-openbsd nftables tcpdump util-linux python3-pytest python3-scapy
 iperf3 sockperf wrk curl dnsmasq-base python3-matplotlib nginx"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
case " $missing " in
*" nginx "*)
	systemctl disable --now nginx >/dev/null 2>&1 || service nginx stop >/dev/null 2>&1 || true ;;
esac
