# Self-tests of the integration harness: the topology, namespace sockets, XDP
# detection and counter parsing work on the kernel alone, without xdpstack.

import os
import shutil
import socket
import subprocess
import threading

import pytest

import netns
from netns import KERNEL_A_IP, PEER_B_IP, STACK_IP


def test_parse_counter_blocks_takes_complete_blocks_only():
    text = ("serving 172.17.0.253 on xa1\n"
            "counters:\n  rx_frames 1\n  drop_ip_csum 0\nend\n"
            "counters:\n  rx_frames 7\n  drop_ip_csum 2\nend\n"
            "counters:\n  rx_frames 9\n")  # cut short: not a block yet
    blocks = netns.parse_counter_blocks(text)
    assert blocks == [{"rx_frames": 1, "drop_ip_csum": 0},
                      {"rx_frames": 7, "drop_ip_csum": 2}]


def test_topology_is_up_and_kernel_answers(topo):
    assert len(topo.dev_a) <= 15 and len(topo.dev_b) <= 15
    p = topo.ping(KERNEL_A_IP, count=2)
    assert p.returncode == 0, p.stdout + p.stderr
    assert netns.parse_ping(p.stdout) == (2, 2)
    for ns, dev in ((topo.ns_a, topo.dev_a), (topo.ns_b, topo.dev_b)):
        off = topo.offloads(ns, dev)
        for feat in ("tx-checksumming", "tcp-segmentation-offload",
                     "generic-segmentation-offload", "generic-receive-offload"):
            assert off.get(feat) == "off", (dev, feat, off.get(feat))
    assert topo.mac_a != topo.mac_b
    assert topo.xdp_attached() is None


def test_nobody_answers_for_stack_ip_without_xdpstack(topo):
    p = topo.ping(STACK_IP, count=2, wait=1)
    assert netns.parse_ping(p.stdout)[1] == 0, p.stdout


def test_topology_is_removed_even_after_failure(netenv):
    t = netns.Topology().create()
    names = (t.ns_a, t.ns_b)
    try:
        try:
            raise RuntimeError("simulated test failure")
        finally:
            assert t.destroy() == []
    except RuntimeError:
        pass
    for ns in names:
        assert not os.path.exists(f"/run/netns/{ns}")
    for dev in (t.dev_a, t.dev_b):
        assert not os.path.exists(f"/sys/class/net/{dev}")


def test_sockets_opened_in_namespaces_talk_tcp(topo):
    srv = netns.socket_in(topo.ns_a, socket.AF_INET, socket.SOCK_STREAM)
    srv.bind((KERNEL_A_IP, 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve():
        c, _ = srv.accept()
        c.sendall(c.recv(100).upper())
        c.close()
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    cli = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    cli.settimeout(5)
    cli.connect((KERNEL_A_IP, port))
    cli.sendall(b"hello")
    assert cli.recv(100) == b"HELLO"
    assert cli.getsockname()[0] == PEER_B_IP
    cli.close()
    th.join(5)
    srv.close()
    # The test process itself is back in its own namespace.
    assert os.stat("/proc/thread-self/ns/net").st_ino == netns.HOME_NETNS_INO


XDP_PASS_PROG = r"""
#include <linux/bpf.h>
__attribute__((section("xdp"), used)) int pass(struct xdp_md *ctx) { return 2; }
char _license[] __attribute__((section("license"), used)) = "GPL";
"""


def test_xdp_attach_is_detected(topo, tmp_path):
    clang = shutil.which("clang")
    if not clang:
        pytest.skip("clang not installed")
    src = tmp_path / "pass.c"
    src.write_text(XDP_PASS_PROG)
    obj = tmp_path / "pass.o"
    arch = subprocess.run(["cc", "-dumpmachine"], capture_output=True, text=True).stdout.strip()
    netns.run([clang, "-O2", "-target", "bpf", f"-I/usr/include/{arch}", "-c", str(src),
               "-o", str(obj)])
    netns.run(["ip", "-n", topo.ns_a, "link", "set", "dev", topo.dev_a, "xdpgeneric",
               "obj", str(obj), "sec", "xdp"])
    x = topo.xdp_attached()
    assert x is not None and x.get("mode") is not None, x
    assert topo.ping(KERNEL_A_IP, count=1).returncode == 0
    netns.run(["ip", "-n", topo.ns_a, "link", "set", "dev", topo.dev_a, "xdpgeneric", "off"])
    assert topo.xdp_attached() is None
