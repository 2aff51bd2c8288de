# Multi-queue: the daemon with --queues 2 on a veth pair of 2 queues, the kernel
# in ns B as peer; connections on both queues, replies handed to their owner.
"""On veth the queue a frame arrives on is the peer's transmit queue, chosen by
the kernel from the flow's hash (each kernel socket draws its own), so
connections the kernel opens spread over both queues, and the replies to what
the stack opens (xdpstack-ctl connect, ping, resolve: all on queue 0's stack,
the control socket's) land on either. What lands on the wrong queue must be
handed over: the per-queue counters (`stats --json`, "queues") show both
queues serving and the handoffs, and every exchange must succeed.

The module's daemon also serves IPv6 (fd00::fd/64, with DAD, and SLAAC from
the RAs a test sends): stack 0 owns the addresses, DAD and SLAAC, queue 1
follows it, and neighbor discovery is copied between the queues."""

import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

import netns
from netns import PEER_B_IP, STACK_IP
from tcp_util import KernelServer

QUEUES = 2
ECHO = 8888
TRIES = 24  # exchanges per kind: all on one queue by chance is 2^-23
KERNEL6_A, PEER6_B, STACK6, PLEN6 = "fd00::1", "fd00::2", "fd00::fd", 64
SLAAC_PREFIX = "fd01::"


def ctl_bin():
    return str(netns.build_dir() / "xdpstack-ctl")


def ctl(path, *args, input=None, timeout=30):
    return subprocess.run([ctl_bin(), "--ctl", str(path)] + [str(a) for a in args],
                          capture_output=True, input=input, timeout=timeout)


def stats(path):
    p = ctl(path, "--json", "stats")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def per_queue(doc, name):
    return [q["counters"][name] for q in doc["queues"]]


def wait_until(pred, timeout):
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        time.sleep(0.05)


def per_queue_drops(doc, name):
    return [q["drops"].get(name, 0) for q in doc["queues"]]


class DnsServer:
    """A one-answer DNS server in ns B (UDP): every A question gets PEER_B_IP,
    sent from an unconnected socket, so each reply's queue follows its flow."""

    def __init__(self, ns):
        self.sock = netns.socket_in(ns, socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((PEER_B_IP, 53))
        self.queries = 0
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        while True:
            try:
                q, addr = self.sock.recvfrom(512)
            except OSError:
                return
            if len(q) < 12:
                continue
            end = 12
            while end < len(q) and q[end]:
                end += 1 + q[end]
            question = q[12:end + 5]
            self.queries += 1
            ans = (q[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + question +
                   struct.pack(">HHHIH", 0xc00c, 1, 1, 60, 4) + socket.inet_aton(PEER_B_IP))
            self.sock.sendto(ans, addr)

    def close(self):
        self.sock.close()


def enable_ipv6(topo):
    """IPv6 on both veth ends (as test_ipv6.py): fixed addresses, no DAD and
    no RAs taken by the kernels, so the only DAD on the wire is the stack's."""
    for ns, dev, ip in ((topo.ns_a, topo.dev_a, KERNEL6_A), (topo.ns_b, topo.dev_b, PEER6_B)):
        for knob, v in (("accept_dad", 0), ("accept_ra", 0), ("disable_ipv6", 0)):
            netns.ns_run(ns, ["sysctl", "-qw", f"net.ipv6.conf.{dev}.{knob}={v}"])
        netns.run(["ip", "-n", ns, "addr", "add", f"{ip}/{PLEN6}", "dev", dev, "nodad"])


@pytest.fixture(scope="module")
def mq(tmp_path_factory, netenv_module):
    topo = netns.Topology(queues=QUEUES).create()
    path = tmp_path_factory.mktemp("mq") / "ctl.sock"
    d = None
    try:
        enable_ipv6(topo)
        args = ["--queues", str(QUEUES), "--ctl", str(path), "--dns", PEER_B_IP,
                "--ip6", f"{STACK6}/{PLEN6}", "--ip6", "auto"]
        if shutil.which("iperf3"):
            args.append("--iperf3")
        d = netns.Daemon(topo, extra=args)
        d.start()
        yield topo, d, path
    finally:
        problems = topo.destroy()
        rep = d.sanitizer_report() if d else None
        assert rep is None, f"sanitizer report:\n{rep}"
        assert not problems, problems


@pytest.fixture(scope="module")
def netenv_module():
    # The conftest's skip logic, once for the module.
    import conftest
    conftest._require_env()


def test_serving_line_names_both_queues(mq):
    topo, d, path = mq
    assert "(queues 0-1," in d.serving_line, d.serving_line
    d.wait_for(lambda: "2 queues (0-1), one thread each on CPUs" in d.out.text(), 10,
               "the queues line")
    out = ctl(path, "addr").stdout.decode()
    assert "queues 0-1, AF_XDP copy mode" in out, out


def test_tcp_connections_land_on_both_queues(mq):
    topo, d, path = mq
    before = per_queue(stats(path), "tcp_passive_opens")
    held = []
    for i in range(TRIES):
        s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((STACK_IP, ECHO))
        msg = b"conn %d\n" % i
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(100)
            assert chunk, f"connection {i} closed early"
            got += chunk
        assert got == msg
        held.append(s)
    # Held open: conns lists them on both queues.
    doc = json.loads(ctl(path, "--json", "conns").stdout)
    queues = {c["queue"] for c in doc["connections"] if c["state"] == "ESTABLISHED"}
    assert queues == {0, 1}, doc
    for s in held:
        s.close()
    after = per_queue(stats(path), "tcp_passive_opens")
    opened = [a - b for a, b in zip(after, before)]
    assert sum(opened) == TRIES and all(n > 0 for n in opened), opened
    text = ctl(path, "stats", "--queues").stdout.decode()
    assert "queue 0 (nic queue 0" in text and "queue 1 (nic queue 1" in text, text


def test_udp_echo_and_ping_from_the_kernel(mq):
    topo, d, path = mq
    before = per_queue(stats(path), "udp_rx")
    for i in range(TRIES):
        # A fresh socket each time: a new source port, a new flow hash.
        r = topo.udp_echo(b"dgram %d" % i, timeout=5)
        assert r is not None and r[0] == b"dgram %d" % i, f"datagram {i}: {r}"
    after = per_queue(stats(path), "udp_rx")
    got = [a - b for a, b in zip(after, before)]
    assert sum(got) == TRIES and all(n > 0 for n in got), got
    for _ in range(4):  # each ping process has its own identifier
        p = topo.ping(STACK_IP, count=3, interval="0.05")
        assert netns.parse_ping(p.stdout) == (3, 3), p.stdout + p.stderr


def test_active_opens_from_the_stack_come_home(mq):
    # xdpstack-ctl connect runs on queue 0's stack: its ports are queue 0's
    # share, and the kernel's replies that land on queue 1 are handed over.
    topo, d, path = mq
    servers = [KernelServer(topo.ns_b, PEER_B_IP) for _ in range(3)]
    try:
        before = stats(path)
        for i in range(TRIES):
            data = b"active open %d " % i * 50
            p = ctl(path, "connect", PEER_B_IP, servers[i % 3].port, "-w", "5", input=data)
            assert p.returncode == 0, p.stderr
            assert p.stdout == data, f"try {i}: {len(p.stdout)} of {len(data)} bytes back"
        after = stats(path)
    finally:
        for s in servers:
            s.close()
    c0, c1 = (per_queue(after, n) for n in ("tcp_active_opens", "mq_handoff_tx"))
    b0, b1 = (per_queue(before, n) for n in ("tcp_active_opens", "mq_handoff_tx"))
    assert c0[0] - b0[0] == TRIES and c0[1] == b0[1], (c0, b0)
    # Queue 1 received some of the replies and gave them to queue 0.
    assert c1[1] > b1[1], (c1, b1)
    rx = per_queue(after, "mq_handoff_rx")
    assert rx[0] > 0, rx
    # Nothing reached a stack that did not know it.
    assert after["counters"]["tcp_rst_tx"] == before["counters"]["tcp_rst_tx"]
    drops = after["drops"]
    assert drops["tcp_no_conn"]["count"] == before["drops"]["tcp_no_conn"]["count"]
    assert drops["mq_ring_full"]["count"] == 0


def test_ping_from_the_stack(mq):
    topo, d, path = mq
    before = stats(path)
    for i in range(8):  # a new session, a new identifier (queue 0's share)
        p = ctl(path, "ping", PEER_B_IP, "-c", "2", "-i", "0.05", "-W", "2")
        out = p.stdout.decode()
        assert p.returncode == 0 and "2 received" in out, out + p.stderr.decode()
    after = stats(path)
    replies = [a - b for a, b in zip(per_queue(after, "icmp_echo_reply_rx"),
                                     per_queue(before, "icmp_echo_reply_rx"))]
    # Counted by the owner (queue 0) wherever they landed.
    assert replies == [16, 0], replies


def test_dns_replies_come_home(mq):
    topo, d, path = mq
    srv = DnsServer(topo.ns_b)
    try:
        before = stats(path)
        for i in range(TRIES):
            p = ctl(path, "--json", "resolve", f"n{i}.mq.test")
            assert p.returncode == 0, p.stdout + p.stderr
            assert PEER_B_IP in p.stdout.decode()
        after = stats(path)
    finally:
        srv.close()
    got = [a - b for a, b in zip(per_queue(after, "dns_rx"), per_queue(before, "dns_rx"))]
    assert got == [TRIES, 0], got
    # The replies that landed on queue 1 went over (udp_rx: counted by the owner).
    assert per_queue(after, "udp_rx")[1] == per_queue(before, "udp_rx")[1]


@pytest.mark.skipif(not shutil.which("iperf3"), reason="iperf3 not installed")
def test_iperf3_connections_meet_on_queue_0(mq):
    # iperf3's data connections must reach the server that has the test's
    # control connection: its port is pinned to queue 0, whichever queue the
    # SYNs land on.
    topo, d, path = mq
    before = stats(path)
    p = netns.ns_run(topo.ns_b, ["iperf3", "-c", STACK_IP, "-t", "1", "-P", "4", "-J"],
                     check=False, timeout=60)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr
    doc = json.loads(p.stdout)
    assert doc["end"]["sum_received"]["bytes"] > 0
    after = stats(path)
    opens = [a - b for a, b in zip(per_queue(after, "tcp_passive_opens"),
                                   per_queue(before, "tcp_passive_opens"))]
    assert opens[0] >= 5 and opens[1] == 0, opens  # control + 4 data, all on queue 0


def test_route_and_filter_changes_reach_every_queue(mq):
    topo, d, path = mq
    assert ctl(path, "route", "add", "10.99.0.0/16", "via", PEER_B_IP).returncode == 0
    # reject runs in the stacks (the XDP program only drops): each queue's
    # stack must have the rule.
    assert ctl(path, "filter", "add", "reject", "in", "udp", "dport", "7777").returncode == 0
    try:
        before = stats(path)
        for i in range(TRIES):
            s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"x", (STACK_IP, 7777))
            s.close()
        wait_until(lambda: sum(per_queue_drops(stats(path), "filter_reject")) -
                         sum(per_queue_drops(before, "filter_reject")) >= TRIES, 5)
        after = stats(path)
        got = [a - b for a, b in zip(per_queue_drops(after, "filter_reject"),
                                     per_queue_drops(before, "filter_reject"))]
        assert sum(got) == TRIES and all(n > 0 for n in got), got
        doc = json.loads(ctl(path, "--json", "filter", "list").stdout)
        assert doc["rules"][0]["pkts"] >= TRIES, doc  # summed over the queues
        routes = json.loads(ctl(path, "--json", "route").stdout)["routes"]
        assert any(r["dst"] == "10.99.0.0" for r in routes), routes
    finally:
        assert ctl(path, "filter", "flush").returncode == 0
        assert ctl(path, "route", "del", "10.99.0.0/16").returncode == 0


# ------------------------------------------------------------------ IPv6

def wait_ip6(d, line, timeout=15):
    d.wait_for(lambda: line in d.out.text(), timeout, repr(line))


def echo_conns6(topo, dst, n, size=4096):
    """n connections from the kernel in ns B to the stack's echo on dst, each
    sending size bytes and reading them back, byte-exact."""
    for i in range(n):
        data = hashlib.sha256(b"%d" % i).digest() * (size // 32)
        s = netns.socket_in(topo.ns_b, socket.AF_INET6, socket.SOCK_STREAM)
        with s:
            s.settimeout(10)
            s.connect((dst, ECHO))
            s.sendall(data)
            got = b""
            while len(got) < len(data):
                chunk = s.recv(65536)
                assert chunk, f"connection {i} to {dst} closed after {len(got)} bytes"
                got += chunk
            assert got == data, f"connection {i} to {dst}: bytes differ"


def test_ip6_dad_once_and_the_address_on_both_queues(mq):
    topo, d, path = mq
    wait_ip6(d, f"ipv6: {STACK6}/{PLEN6} preferred (static)")
    doc = stats(path)
    # DAD (the link-local's and the static's) is stack 0's alone: queue 1
    # sent no solicitation, and nobody took a copy for a duplicate.
    ns_tx = per_queue(doc, "nd_ns_tx")
    assert ns_tx[0] >= 2 and ns_tx[1] == 0, ns_tx
    assert per_queue(doc, "nd_dad_conflicts") == [0, 0]
    assert per_queue(doc, "mq_ip6_follow")[0] >= 1
    # MLD is stack 0's too: its joins went out (before DAD), queue 1 sent none.
    mld = per_queue(doc, "mld_reports_tx")
    assert mld[0] >= 2 and mld[1] == 0, mld
    assert d.stdout().count(f"ipv6: {STACK6}/{PLEN6} preferred") == 1
    # Connections the kernel opens land on both queues, and both serve the
    # address (queue 1 has it from stack 0, and the kernel's neighbor
    # solicitation answered by whichever queue heard it).
    before = per_queue(stats(path), "tcp_passive_opens")
    echo_conns6(topo, STACK6, TRIES)
    after = stats(path)
    opened = [a - b for a, b in zip(per_queue(after, "tcp_passive_opens"), before)]
    assert sum(opened) == TRIES and all(n > 0 for n in opened), opened
    assert per_queue(after, "nd_dad_conflicts") == [0, 0]
    # Solicitations for the address are answered by stack 0 alone, also
    # those that landed on queue 1 (from its copy).
    assert per_queue(after, "nd_na_tx")[1] == 0 and per_queue(after, "nd_na_tx")[0] >= 1


def test_ip6_active_opens_and_ping_from_the_stack(mq):
    # connect and ping run on queue 0's stack (its ports and identifiers);
    # the kernel's replies that land on queue 1 are handed over.
    topo, d, path = mq
    wait_ip6(d, f"ipv6: {STACK6}/{PLEN6} preferred (static)")
    servers = [KernelServer(topo.ns_b, PEER6_B) for _ in range(3)]
    try:
        before = stats(path)
        for i in range(TRIES):
            data = b"active open6 %d " % i * 50
            p = ctl(path, "connect", PEER6_B, servers[i % 3].port, "-w", "5", input=data)
            assert p.returncode == 0, p.stderr
            assert p.stdout == data, f"try {i}: {len(p.stdout)} of {len(data)} bytes back"
        for i in range(8):  # a new session, a new identifier
            p = ctl(path, "ping", PEER6_B, "-c", "2", "-i", "0.05", "-W", "2")
            out = p.stdout.decode()
            assert p.returncode == 0 and "2 received" in out, out + p.stderr.decode()
        after = stats(path)
    finally:
        for s in servers:
            s.close()
    opens = [a - b for a, b in zip(per_queue(after, "tcp_active_opens"),
                                   per_queue(before, "tcp_active_opens"))]
    assert opens == [TRIES, 0], opens
    replies = [a - b for a, b in zip(per_queue(after, "icmp6_echo_reply_rx"),
                                     per_queue(before, "icmp6_echo_reply_rx"))]
    assert replies == [16, 0], replies  # counted by the owner, wherever they landed
    handed = [a - b for a, b in zip(per_queue(after, "mq_handoff_tx"),
                                    per_queue(before, "mq_handoff_tx"))]
    assert handed[1] > 0, handed
    assert per_queue(after, "mq_handoff_rx")[0] > per_queue(before, "mq_handoff_rx")[0]
    assert after["counters"]["tcp_rst_tx"] == before["counters"]["tcp_rst_tx"]
    for name in ("tcp_no_conn", "mq_ring_full"):  # (iperf3's test may have filled a ring)
        assert after["drops"][name]["count"] == before["drops"][name]["count"], name


def test_ip6_slaac_gives_every_queue_the_address(mq):
    scapy = pytest.importorskip("scapy.all")
    topo, d, path = mq
    netns.run(["ip", "-n", topo.ns_b, "addr", "add", "fd01::2/64", "dev", topo.dev_b, "nodad"])
    b_ll = next(a["local"] for a in json.loads(netns.run(
        ["ip", "-n", topo.ns_b, "-j", "-6", "addr", "show", "dev", topo.dev_b]).stdout)[0]
        ["addr_info"] if a["local"].startswith("fe80"))
    ra = bytes(scapy.Ether(dst="33:33:00:00:00:01", src=topo.mac_b) /
               scapy.IPv6(src=b_ll, dst="ff02::1", hlim=255) /
               scapy.ICMPv6ND_RA(routerlifetime=600, reachabletime=0, retranstimer=0) /
               scapy.ICMPv6NDOptSrcLLAddr(lladdr=topo.mac_b) /
               scapy.ICMPv6NDOptPrefixInfo(prefix=SLAAC_PREFIX, prefixlen=64, L=1, A=1,
                                          validlifetime=3600, preferredlifetime=1800))
    sock = topo.raw_sender()
    addr = None
    try:
        # An RA a second until the address is there (DAD takes a second or
        # two); whichever queue an RA lands on, stack 0 takes it.
        end = time.monotonic() + 20
        while time.monotonic() < end and not addr:
            sock.send(ra)
            time.sleep(0.5)
            m = re.search(r"ipv6: (fd01::[0-9a-f:]+)/64 preferred \(slaac\)", d.stdout())
            addr = m and m.group(1)
    finally:
        sock.close()
    assert addr, d.stdout()[-3000:]
    doc = stats(path)
    assert per_queue(doc, "nd_ra_used")[1] == 0 and per_queue(doc, "nd_ra_used")[0] >= 1
    assert per_queue(doc, "nd_rs_tx")[1] == 0
    # Queue 1 follows: connections to the new address land on both queues.
    before = per_queue(doc, "tcp_passive_opens")
    echo_conns6(topo, addr, TRIES, size=256)
    opened = [a - b for a, b in zip(per_queue(stats(path), "tcp_passive_opens"), before)]
    assert sum(opened) == TRIES and all(n > 0 for n in opened), opened


def test_exit_every_frame_home(mq):
    topo, d, path = mq
    rc, out, err = d.stop()
    assert rc == 0, err
    lines = [l for l in out.splitlines() if "frames at exit (queue" in l]
    assert len(lines) == QUEUES, out[-3000:]
    assert all(l.endswith(" lost 0") for l in lines), lines


def test_default_is_every_queue_and_one_queue_when_asked(netenv, tmp_path):
    topo = netns.Topology(queues=QUEUES).create()
    try:
        cap = tmp_path / "mq.pcap"
        d = netns.Daemon(topo, extra=["--pcap", cap])
        d.start()
        assert "(queues 0-1," in d.serving_line, d.serving_line
        for i in range(8):
            assert topo.udp_echo(b"default %d" % i) is not None
        rc, out, err = d.stop()
        assert rc == 0, err
        # One capture per queue: queue 0's in FILE, queue 1's in FILE.1.
        files = [cap, tmp_path / "mq.pcap.1"]
        sizes = [f.stat().st_size for f in files]
        assert all(f.read_bytes()[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
                   for f in files)
        assert sum(sizes) > 2 * 24 + 8 * 2 * 16, sizes  # headers and 16 frames at least
        # --queue alone: that one queue, as before multi-queue; the other
        # queue's flows reach the kernel, as the warning line says.
        d = netns.Daemon(topo, extra=["--queue", "1"])
        d.start()
        assert "(queue 1," in d.serving_line, d.serving_line
        d.wait_for(lambda: "serving 1 of the 2 queues" in d.err.text(), 10, "the warning")
        rc, out, err = d.stop()
        assert rc == 0, err
    finally:
        problems = topo.destroy()
        assert not problems, problems


def test_dhcp_lease_reaches_every_queue(netenv, tmp_path):
    # Queue 0 runs the DHCP client (its port is pinned there, whatever queue
    # the server's replies land on); the other queues follow its lease.
    import test_dhcp
    if not os.access(test_dhcp.DNSMASQ, os.X_OK):
        pytest.skip("dnsmasq not installed (scripts/deps.sh)")
    topo = netns.Topology(queues=QUEUES).create()
    dm = None
    try:
        dm = test_dhcp.Dnsmasq(topo, tmp_path)
        path = tmp_path / "run" / "xs.sock"
        d = netns.Daemon(topo, ip="dhcp", extra=["--ctl", path, "--queues", str(QUEUES)])
        d.start()
        ip, plen, server = test_dhcp.bound(d, dm=dm)
        assert server == PEER_B_IP
        before = per_queue(stats(path), "tcp_passive_opens")
        for i in range(TRIES):
            s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
            with s:
                s.settimeout(10)
                s.connect((ip, ECHO))
                s.sendall(b"lease %d" % i)
                assert s.recv(100) == b"lease %d" % i
        opened = [a - b for a, b in zip(per_queue(stats(path), "tcp_passive_opens"), before)]
        assert sum(opened) == TRIES and all(n > 0 for n in opened), opened
        rc, out, err = d.stop()
        assert rc == 0, err
        assert "lease released" in out, out[-2000:]
    finally:
        if dm:
            dm.stop()
        problems = topo.destroy()
        assert not problems, problems
