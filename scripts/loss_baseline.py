#!/usr/bin/python3
"""Kernel-to-kernel baseline for the TCP loss suite (docs/BENCHMARKS.md).

Usage (root): scripts/loss_baseline.py LOSS_PCT MIB [RTO_MIN]
  e.g. scripts/loss_baseline.py 20 20 5ms

The same two namespaces, veth pair and nftables rules as
tests/integration/test_tcp_loss.py, but both ends are the kernel: a Python
echo server on 172.17.0.1 (ns A) and a CUBIC client in ns B echoing MIB
MiB each way. RTO_MIN, if given, is set on both ends' routes with
quickack, as the suite does for its 20% condition. Prints the rate and
ns B's retransmission counters. Everything it creates is removed."""

import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
import netns  # noqa: E402
import tcp_util as U  # noqa: E402
from netns import KERNEL_A_IP  # noqa: E402

MiB = 1 << 20


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.split("\n\n")[1])
    try:
        loss = int(sys.argv[1])
        size = int(float(sys.argv[2]) * MiB)
        assert 0 <= loss < 100 and size > 0
    except (ValueError, AssertionError):
        sys.exit("loss_baseline: expected LOSS_PCT (0-99) and MIB (> 0)")
    rto = sys.argv[3] if len(sys.argv) == 4 else ""
    topo = netns.Topology().create()
    try:
        if rto:
            for ns, dev in ((topo.ns_a, topo.dev_a), (topo.ns_b, topo.dev_b)):
                netns.ns_run(ns, ["ip", "route", "replace", "172.17.0.0/24", "dev", dev,
                                  "rto_min", rto, "quickack", "1"])
        U.prepare_peer(topo)
        if loss:
            U.nft(topo.ns_b, U.loss_rules(topo.dev_b, KERNEL_A_IP, loss, loss))
        srv = U.KernelServer(topo.ns_a, KERNEL_A_IP, "echo")
        srv.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
        s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
        s.settimeout(10)
        s.connect((KERNEL_A_IP, srv.port))
        t = U.echo_transfer(s, size, U.Pattern(seed=11), timeout=3600)
        ok = t.error is None and t.received == size and \
            t.sent_sha.hexdigest() == t.recv_sha.hexdigest()
        print(f"kernel<->kernel, {loss}% loss each way, rto_min {rto or 'default'}: "
              f"{size / MiB:g} MiB each way in {t.seconds:.1f} s = "
              f"{size / MiB / t.seconds:.3f} MiB/s, intact: {ok}")
        print(netns.ns_run(topo.ns_b, ["nstat", "-asz", "TcpRetransSegs", "TcpExtTCPTimeouts",
                                       "TcpExtTCPLossProbes"]).stdout.strip())
        return 0 if ok else 1
    finally:
        topo.destroy()


if __name__ == "__main__":
    sys.exit(main())
