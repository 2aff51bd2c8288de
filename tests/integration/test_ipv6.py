# IPv6 beside the kernel's own on the same interface: ping6 both ways, the
# kernel's IPv6 (NDP, MLD, ping6, TCP) untouched, DAD refusing a duplicate,
# and hostile IPv6 (scapy, from ns B) dropped and counted.
"""Topology (conftest's, with IPv6 turned on):

    ns A: xa<tag> fd00::1/64 (the kernel)   <-- veth -->   ns B: xb<tag> fd00::2/64
          xdpstack serves fd00::fd/64 (and a link-local of its own) on xa<tag>

Both kernels have accept_dad=0 and their addresses are added nodad, so the
only DAD on the wire is the stack's. The module's daemon runs with
--ip6-dad 0; the DAD test starts its own.
"""

import hashlib
import json
import re
import socket
import struct
import subprocess
import threading
import time

import pytest

import netns
from netns import parse_ping

scapy = pytest.importorskip("scapy.all")
from scapy.all import (ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6ND_NA,  # noqa: E402
                       ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Ether, Raw,
                       UDP, HBHOptUnknown, PadN, conf)

conf.verb = 0

KERNEL6_A = "fd00::1"
PEER6_B = "fd00::2"
STACK6 = "fd00::fd"
PLEN6 = 64

CTL_REPLY6_RE = re.compile(r"^(\d+) bytes from ([0-9a-f:]+): icmp_seq=(\d+) ttl=(\d+)", re.M)


def delta(after, before, name):
    return after.get(name, 0) - before.get(name, 0)


def enable_ipv6(topo):
    """IPv6 on both veth ends, no DAD by the kernels, fixed addresses."""
    netns.enable_ipv6(topo, KERNEL6_A, PEER6_B, PLEN6)


def ctl(path, *args, timeout=30):
    exe = netns.build_dir() / "xdpstack-ctl"
    if not exe.exists():
        pytest.fail(f"{exe} is not built (run make, or set XS_BUILD)")
    return netns.run([str(exe), "--ctl", str(path)] + [str(a) for a in args], check=False,
                     timeout=timeout)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p.stdout


def wait_line(d, text, timeout=15):
    d.wait_for(lambda: text in "".join(d.out.chunks), timeout, repr(text))


@pytest.fixture(scope="module")
def env(topo_module, tmp_path_factory):
    topo = topo_module
    enable_ipv6(topo)
    path = tmp_path_factory.mktemp("ipv6") / "xs.sock"
    d = netns.Daemon(topo, extra=["--ip6", f"{STACK6}/{PLEN6}", "--ip6-dad", "0", "--ctl",
                                  path])
    d.start()
    wait_line(d, f"ipv6: {STACK6}/{PLEN6} preferred (static)")
    sock = topo.raw_sender()
    e = type("Env", (), {})()
    e.topo, e.d, e.path, e.sock = topo, d, path, sock
    e.mac_a, e.mac_b = topo.mac_a, topo.mac_b
    yield e
    sock.close()
    if d.running():
        rc, out, err = d.stop()
        assert rc == 0, f"exit {rc} after SIGTERM\nstderr:\n{err}"
        assert "lost 0" in out, out


@pytest.fixture
def h(env):
    assert env.d.running(), f"xdpstack died earlier:\n{env.d.stderr()}"
    return env


def ping6(topo, dst, ns=None, count=3, size=None):
    return topo.ping(dst, ns=ns, count=count, size=size, extra=["-6"])


def still_answers(h):
    p = ping6(h.topo, STACK6, count=1)
    assert parse_ping(p.stdout) == (1, 1), f"stack stopped answering ping6:\n{p.stdout}"
    assert h.d.running()


# ------------------------------------------------------------------ echo

def test_ping6_from_the_kernel(h):
    p = ping6(h.topo, STACK6, count=3)
    assert parse_ping(p.stdout) == (3, 3), p.stdout + p.stderr
    # The kernel learned the stack's MAC by NDP (the stack answered its NS).
    neigh = netns.run(["ip", "-n", h.topo.ns_b, "-6", "neigh", "show", STACK6]).stdout
    assert h.mac_a in neigh, neigh


def test_stack_pings_the_kernel(h):
    p = ctl(h.path, "ping", PEER6_B, "-c", "3", "-i", "0.2")
    ok(p)
    replies = CTL_REPLY6_RE.findall(p.stdout)
    assert len(replies) == 3, p.stdout
    assert all(r[1] == PEER6_B and r[0] == "64" for r in replies), p.stdout
    # Its link-local too (on-link without a route).
    ll = json.loads(ok(ctl(h.path, "--json", "neigh")))
    assert any(e["ip"] == PEER6_B and e["mac"] == h.mac_b for e in ll["entries"]), ll
    b_ll = next(a["local"] for a in json.loads(netns.run(
        ["ip", "-n", h.topo.ns_b, "-j", "-6", "addr", "show", "dev", h.topo.dev_b]).stdout)[0]
        ["addr_info"] if a["local"].startswith("fe80"))
    p = ctl(h.path, "ping", b_ll, "-c", "2", "-i", "0.2")
    assert len(CTL_REPLY6_RE.findall(ok(p))) == 2, p.stdout


def test_addr_shows_ipv6(h):
    out = ok(ctl(h.path, "addr"))
    assert f"inet6 {STACK6}/{PLEN6} static preferred" in out, out
    ll = re.search(r"inet6 (fe80::[0-9a-f:]+)/64 link-local preferred", out)
    assert ll, out
    # RFC 7217: not the kernel's EUI-64 link-local on the same MAC.
    kern = netns.run(["ip", "-n", h.topo.ns_a, "-6", "addr", "show", "dev", h.topo.dev_a]).stdout
    assert ll.group(1) not in kern, kern
    j = json.loads(ok(ctl(h.path, "--json", "addr")))
    assert {"addr": STACK6, "prefix_len": PLEN6, "state": "preferred", "origin": "static",
            "preferred_ms": -1, "valid_ms": -1} in j["ip6"], j


# ------------------------------------------------- the kernel's own IPv6

def test_kernel_ipv6_keeps_working(h):
    """The kernel's address on the same interface answers ping6 and TCP, its
    NDP resolves, and it answers an MLD query: the XDP program passes all of it."""
    before = h.d.counters()
    netns.run(["ip", "-n", h.topo.ns_b, "-6", "neigh", "flush", "dev", h.topo.dev_b])
    p = ping6(h.topo, KERNEL6_A, count=3)
    assert parse_ping(p.stdout) == (3, 3), p.stdout + p.stderr
    neigh = netns.run(["ip", "-n", h.topo.ns_b, "-6", "neigh", "show", KERNEL6_A]).stdout
    assert h.mac_a in neigh, neigh
    # TCP to the kernel in ns A over IPv6.
    srv = netns.socket_in(h.topo.ns_a, socket.AF_INET6, socket.SOCK_STREAM)
    srv.bind((KERNEL6_A, 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve():
        c, _ = srv.accept()
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    cli = netns.socket_in(h.topo.ns_b, socket.AF_INET6, socket.SOCK_STREAM)
    cli.settimeout(10)
    cli.connect((KERNEL6_A, port))
    data = bytes(range(256)) * 400
    cli.sendall(data)
    cli.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = cli.recv(65536)
        if not b:
            break
        got += b
    cli.close()
    srv.close()
    t.join(5)
    assert got == data
    # MLD: a general query from B is answered by the kernel in A.
    sniff = netns.socket_in(h.topo.ns_b, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
    sniff.bind((h.topo.dev_b, 0))
    sniff.settimeout(0.2)
    b_ll = next(a["local"] for a in json.loads(netns.run(
        ["ip", "-n", h.topo.ns_b, "-j", "-6", "addr", "show", "dev", h.topo.dev_b]).stdout)[0]
        ["addr_info"] if a["local"].startswith("fe80"))
    a_ll = socket.inet_pton(socket.AF_INET6, link_local(h.topo.ns_a, h.topo.dev_a))
    q = (Ether(dst="33:33:00:00:00:01", src=h.mac_b) /
         IPv6(src=b_ll, dst="ff02::1", hlim=1) /
         IPv6ExtHdrHopByHop(options=[scapy.RouterAlert(value=0)]) /
         scapy.ICMPv6MLQuery2(mrd=100))
    h.sock.send(bytes(q))
    got_report = False
    end = time.monotonic() + 5
    while time.monotonic() < end and not got_report:
        try:
            f = sniff.recv(2048)
        except socket.timeout:
            continue
        ip6 = f[14:]
        # From the kernel's link-local: the stack's own reports (its refresh)
        # share the MAC but come from its link-local.
        if f[6:12] == bytes.fromhex(h.mac_a.replace(":", "")) and ip6[6] == 0 and \
                len(ip6) > 48 and ip6[48] == 143 and ip6[8:24] == a_ll:
            got_report = True
    sniff.close()
    assert got_report, "the kernel in ns A did not answer the MLD query"
    after = h.d.counters()
    assert delta(after, before, "xdp_passed") > 0
    # None of it reached the stack as its own.
    assert delta(after, before, "icmp6_echo_rx") == 0
    still_answers(h)


# ------------------------------------------------------------------ DAD

def test_dad_refuses_an_address_the_peer_holds(topo, xdpstack, tmp_path):
    enable_ipv6(topo)
    netns.run(["ip", "-n", topo.ns_b, "addr", "add", "fd00::99/64", "dev", topo.dev_b,
               "nodad"])
    path = tmp_path / "xs.sock"
    d = xdpstack(topo, extra=["--ip6", "fd00::99/64", "--ip6", f"{STACK6}/{PLEN6}", "--ctl",
                              path])
    wait_line(d, "ipv6: fd00::99/64 is in use on the link (duplicate address detection)")
    wait_line(d, f"ipv6: {STACK6}/{PLEN6} preferred (static)")
    j = json.loads(ok(ctl(path, "--json", "addr")))
    states = {a["addr"]: a["state"] for a in j["ip6"]}
    assert states["fd00::99"] == "duplicate" and states[STACK6] == "preferred", j
    c = d.counters()
    assert c["nd_dad_conflicts"] == 1
    # The peer keeps its address (the stack never answered for it), the
    # stack serves the other.
    p = ping6(topo, "fd00::99", ns=topo.ns_a, count=2)
    assert parse_ping(p.stdout) == (2, 2), p.stdout
    neigh = netns.run(["ip", "-n", topo.ns_a, "-6", "neigh", "show", "fd00::99"]).stdout
    assert topo.mac_b in neigh, neigh
    p = ping6(topo, STACK6, count=2)
    assert parse_ping(p.stdout) == (2, 2), p.stdout
    rc, out, err = d.stop()
    assert rc == 0, err


def test_ip6_flag_errors(netenv):
    exe = str(netns.binary())
    for args, text in ((["--ip6", "fe80::1"], "link-local"),
                       (["--ip6", "ff02::1"], "expected a unicast IPv6"),
                       (["--ip6", "fd00::1/129"], "expected a unicast IPv6"),
                       (["--ip6", "::ffff:1.2.3.4"], "expected a unicast IPv6"),
                       (["--ip6-dad", "1"], "--ip6-dad needs IPv6"),
                       (["--ip6", "fd00::1", "--ip6-dad", "11"], "expected 0-10")):
        p = netns.run([exe, "--ip", "172.17.0.253"] + args, check=False)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and text in lines[0], (args, p.stderr)


# ------------------------------------------------------------------ MLD

def solicited_node(addr):
    """ff02::1:ffXX:XXXX of addr (RFC 4291 2.7.1)."""
    b = socket.inet_pton(socket.AF_INET6, addr)
    return socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff02" + "00" * 9 + "01ff") +
                            b[13:])


def link_local(ns, dev):
    return next(a["local"] for a in json.loads(netns.run(
        ["ip", "-n", ns, "-j", "-6", "addr", "show", "dev", dev]).stdout)[0]["addr_info"]
        if a["local"].startswith("fe80"))


class Capture:
    """Every IPv6 frame on ns B's end of the veth, in order, from a thread."""

    def __init__(self, topo):
        self.sock = netns.socket_in(topo.ns_b, socket.AF_PACKET, socket.SOCK_RAW,
                                    socket.htons(0x86dd))
        self.sock.bind((topo.dev_b, 0))
        self.sock.settimeout(0.2)
        self.frames, self.stop_ev = [], threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                self.frames.append(self.sock.recv(2048))
            except socket.timeout:
                pass

    def stop(self):
        self.stop_ev.set()
        self.t.join(5)
        self.sock.close()


def mld_reports(frames, mac):
    """(index, parsed frame) of each MLDv2 report sent from mac, checked well
    formed: hop limit 1, to ff02::16 and its Ethernet group, a Hop-by-Hop header
    holding Router Alert 0, and an ICMPv6 checksum scapy computes the same."""
    out = []
    for i, raw in enumerate(frames):
        f = Ether(raw)
        if f.src != mac or not f.haslayer(scapy.ICMPv6MLReport2):
            continue
        ip, rep = f[IPv6], f[scapy.ICMPv6MLReport2]
        assert ip.hlim == 1 and ip.dst == "ff02::16" and f.dst == "33:33:00:00:00:16", f.show(dump=True)
        hbh = f[IPv6ExtHdrHopByHop]
        assert any(isinstance(o, scapy.RouterAlert) and o.value == 0 for o in hbh.options), hbh
        want = rep.cksum
        rep2 = Ether(raw)
        del rep2[scapy.ICMPv6MLReport2].cksum
        assert Ether(bytes(rep2))[scapy.ICMPv6MLReport2].cksum == want
        out.append((i, f))
    return out


def records(reports):
    """(type, group) of every record. scapy 2.5 parses the second record of a
    report as the first one's payload, and so on: the chain is walked."""
    out = []
    for _, f in reports:
        for r in f[scapy.ICMPv6MLReport2].records:
            while isinstance(r, scapy.ICMPv6MLDMultAddrRec):
                out.append((r.rtype, r.dst))
                r = r.payload
    return out


def test_mld_reports_name_exactly_the_stack_groups(topo, xdpstack, tmp_path):
    """The stack's MLDv2 reports, seen from ns B: a join (TO_EX {}) of each
    solicited-node group twice, the first before the address's DAD NS, a leave
    (TO_IN {}) when DAD finds an address duplicate, an answer (IS_EX {}) to a
    unicast query naming exactly its groups, and at exit a leave of the groups
    it holds, twice; the kernel's own MLD answers as before, from its own
    link-local, for its own groups."""
    enable_ipv6(topo)
    netns.run(["ip", "-n", topo.ns_b, "addr", "add", "fd00::99/64", "dev", topo.dev_b,
               "nodad"])
    path = tmp_path / "xs.sock"
    cap = Capture(topo)
    try:
        d = xdpstack(topo, extra=["--ip6", "fd00::99/64", "--ip6", f"{STACK6}/{PLEN6}",
                                  "--ctl", path])
        wait_line(d, "ipv6: fd00::99/64 is in use on the link")
        wait_line(d, f"ipv6: {STACK6}/{PLEN6} preferred (static)")
        ll = next(a["addr"] for a in json.loads(ok(ctl(path, "--json", "addr")))["ip6"]
                  if a["origin"] == "link-local")
        ours = {solicited_node(ll), solicited_node(STACK6)}
        dup = solicited_node("fd00::99")
        # The joins' retransmissions and the leave's come within 1 s (robustness 2).
        end = time.monotonic() + 10
        while time.monotonic() < end:
            recs = records(mld_reports(list(cap.frames), topo.mac_a))
            if recs.count((3, dup)) >= 2 and all(recs.count((4, g)) >= 2 for g in ours):
                time.sleep(0.5)  # nothing more is due; anything more would show
                break
            time.sleep(0.2)
        # A unicast general query (the only kind the XDP program hands the
        # stack; ff02::1 ones are the kernel's), then one to the kernel.
        sock = topo.raw_sender()
        b_ll = link_local(topo.ns_b, topo.dev_b)
        q = (Ether(dst=topo.mac_a, src=topo.mac_b) / IPv6(src=b_ll, dst=STACK6, hlim=1) /
             IPv6ExtHdrHopByHop(options=[scapy.RouterAlert(value=0)]) /
             scapy.ICMPv6MLQuery2(mrd=500))
        mark = len(cap.frames)
        sock.send(bytes(q))
        end = time.monotonic() + 5
        while time.monotonic() < end and not any(
                t == 2 for t, _ in records(mld_reports(cap.frames[mark:], topo.mac_a))):
            time.sleep(0.1)
        kmark = len(cap.frames)
        a_ll = link_local(topo.ns_a, topo.dev_a)
        kq = (Ether(dst="33:33:00:00:00:01", src=topo.mac_b) /
              IPv6(src=b_ll, dst="ff02::1", hlim=1) /
              IPv6ExtHdrHopByHop(options=[scapy.RouterAlert(value=0)]) /
              scapy.ICMPv6MLQuery2(mrd=100))
        sock.send(bytes(kq))
        end = time.monotonic() + 5
        while time.monotonic() < end and not any(
                f[IPv6].src == a_ll for _, f in mld_reports(cap.frames[kmark:], topo.mac_a)):
            time.sleep(0.1)
        sock.close()
        c = d.counters()
        smark = len(cap.frames)
        rc, out, err = d.stop()
        assert rc == 0, err
        # At exit, the leave (TO_IN {}) of the groups it holds, twice.
        def stack_left():
            return [(i, f) for i, f in mld_reports(cap.frames[smark:], topo.mac_a)
                    if f[IPv6].src == ll]
        end = time.monotonic() + 5
        while time.monotonic() < end and len(stack_left()) < 2:
            time.sleep(0.1)
    finally:
        cap.stop()
    assert "ipv6: left the solicited-node groups (2 MLD reports)" in out, out
    left = stack_left()
    assert len(left) == 2, left
    assert sorted(records(left)) == sorted([(3, g) for g in ours] * 2), records(left)
    frames = cap.frames[:smark]
    reps = mld_reports(frames, topo.mac_a)
    stack_reps = [(i, f) for i, f in reps if f[IPv6].src in ("::", ll)]
    kernel_reps = [(i, f) for i, f in reps if f[IPv6].src == a_ll]
    assert len(stack_reps) + len(kernel_reps) == len(reps), \
        [f[IPv6].src for _, f in reps]
    recs = records(stack_reps)
    # Exactly its solicited-node groups (all-nodes is not reported, RFC 3810 6).
    assert {g for _, g in recs} == ours | {dup}, recs
    for g in ours:
        assert recs.count((4, g)) == 2, (g, recs)
    # The duplicate's leave may come before its join's retransmission, which
    # it then replaces (RFC 3810 6.1: the newest change is what is repeated).
    assert 1 <= recs.count((4, dup)) <= 2 and recs.count((3, dup)) == 2, recs
    assert not any(t == 3 and g in ours for t, g in recs), recs
    # The query's answer: current state, exactly the groups it holds.
    answer = [g for t, g in records(mld_reports(frames[mark:kmark], topo.mac_a)) if t == 2]
    assert set(answer) == ours and len(answer) == len(ours), answer
    assert c["mld_queries"] == 1 and c["mld_joins"] == 3 and c["mld_leaves"] == 1, c
    assert c["mld_reports_tx"] == len(stack_reps)
    # Each join precedes its address's DAD solicitation (RFC 4862 5.4.2).
    for addr in (STACK6, "fd00::99"):
        g = solicited_node(addr)
        first_join = min(i for i, f in stack_reps
                         if (4, g) in records([(i, f)]))
        dad = [i for i, raw in enumerate(frames)
               if Ether(raw).haslayer(ICMPv6ND_NS) and Ether(raw)[ICMPv6ND_NS].tgt == addr
               and Ether(raw)[IPv6].src == "::"]
        assert dad and first_join < dad[0], (addr, first_join, dad)
    # The kernel answered the multicast query itself, for its own groups.
    krecs = {g for _, g in records([(i, f) for i, f in kernel_reps if i >= kmark])}
    assert solicited_node(KERNEL6_A) in krecs, krecs
    assert not krecs & (ours | {dup}), krecs


# ------------------------------------------------------------- hostile

def send(h, frame):
    data = bytes(frame)
    assert h.sock.send(data) == len(data)


def to_stack(h, l3):
    return Ether(dst=h.mac_a, src=h.mac_b) / l3


def expect_drop(h, frames, reason, count=None):
    frames = frames if isinstance(frames, list) else [frames]
    count = len(frames) if count is None else count
    before = h.d.counters()
    for f in frames:
        send(h, f)
    name = "drop_" + reason
    after = h.d.wait_counter(before, name, count, timeout=5)
    moved = {k: delta(after, before, k) for k in after
             if k.startswith("drop_") and delta(after, before, k)}
    assert delta(after, before, name) == count, \
        f"{name} moved by {delta(after, before, name)}, want {count}; moved: {moved}"
    still_answers(h)
    return before, after


def echo6():
    return ICMPv6EchoRequest(id=0x4242, seq=1, data=b"hostile")


def test_long_extension_chain_dropped(h):
    # 520 bytes of destination options: past the 512-byte walk budget.
    opts = [PadN(optdata=b"\0" * 5)] * 74
    f = to_stack(h, IPv6(src=PEER6_B, dst=STACK6) / IPv6ExtHdrDestOpt(options=opts) / echo6())
    expect_drop(h, f, "ip6_ext_limit")


def test_looping_extension_chain_dropped(h):
    f = to_stack(h, IPv6(src=PEER6_B, dst=STACK6) / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                 IPv6ExtHdrDestOpt() / echo6())
    expect_drop(h, f, "ip6_ext_order")


def test_hop_by_hop_not_first_dropped_with_parameter_problem(h):
    sniff = netns.socket_in(h.topo.ns_b, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
    sniff.bind((h.topo.dev_b, 0))
    sniff.settimeout(0.2)
    f = to_stack(h, IPv6(src=PEER6_B, dst=STACK6) / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() /
                 echo6())
    expect_drop(h, f, "ip6_ext_order")
    # RFC 8200 4.3: Parameter Problem, code 1, pointing at the Next Header
    # byte that named it (the first byte of the Destination Options header).
    end = time.monotonic() + 3
    seen = None
    while time.monotonic() < end and not seen:
        try:
            b = sniff.recv(2048)
        except socket.timeout:
            continue
        p = Ether(b)
        if p.haslayer(scapy.ICMPv6ParamProblem):
            seen = p[scapy.ICMPv6ParamProblem]
    sniff.close()
    assert seen is not None, "no Parameter Problem"
    assert seen.code == 1 and seen.ptr == 40


def test_routing_header_with_segments_left_dropped(h):
    f = to_stack(h, IPv6(src=PEER6_B, dst=STACK6) /
                 IPv6ExtHdrRouting(type=0, segleft=1, addresses=["fd00::7"]) / echo6())
    expect_drop(h, f, "ip6_routing")


def test_unknown_option_dropped(h):
    f = to_stack(h, IPv6(src=PEER6_B, dst=STACK6) /
                 IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x5e, optdata=b"ab")]) /
                 echo6())
    expect_drop(h, f, "ip6_opt_unknown")


def test_ndp_hop_limit_not_255_dropped(h):
    f = to_stack(h, IPv6(src=PEER6_B, dst=STACK6, hlim=64) / ICMPv6ND_NS(tgt=STACK6) /
                 ICMPv6NDOptSrcLLAddr(lladdr=h.mac_b))
    expect_drop(h, f, "nd_hop_limit")


def test_ndp_option_past_the_end_dropped(h):
    ns = bytes(ICMPv6ND_NS(tgt=STACK6) / ICMPv6NDOptSrcLLAddr(lladdr=h.mac_b))
    ns = ns[:25] + b"\x02" + ns[26:]  # the option claims 16 bytes, 8 are there
    f = to_stack(h, IPv6(src=PEER6_B, dst=STACK6, hlim=255, nh=58) / Raw(ns))
    f = Ether(bytes(f))
    del f[IPv6].plen
    # scapy fixes the ICMPv6 checksum over the raw bytes: recompute by hand.
    raw = bytearray(bytes(f))
    raw[14 + 40 + 2:14 + 40 + 4] = b"\0\0"
    pseudo = (bytes(raw[22:54]) + struct.pack("!I", len(ns)) + b"\0\0\0\x3a")
    s = sum(struct.unpack(f"!{(len(pseudo) + len(ns)) // 2}H", pseudo + bytes(raw[54:])))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    raw[56:58] = struct.pack("!H", ~s & 0xffff)
    expect_drop(h, bytes(raw), "nd_opt")


def test_packet_too_big_below_1280_ignored(h):
    quoted = IPv6(src=STACK6, dst=PEER6_B) / UDP(sport=4000, dport=53) / Raw(b"q" * 64)
    f = to_stack(h, IPv6(src=PEER6_B, dst=STACK6) / ICMPv6PacketTooBig(mtu=1000) / quoted)
    expect_drop(h, f, "icmp6_ptb_small")


def test_na_flood_for_unsolicited_addresses(h):
    frames = [bytes(to_stack(h, IPv6(src=PEER6_B, dst=STACK6, hlim=255) /
                             ICMPv6ND_NA(tgt=f"fd00::1:{i:x}", S=1, O=1) /
                             scapy.ICMPv6NDOptDstLLAddr(lladdr=h.mac_b)))
              for i in range(2000)]
    expect_drop(h, frames, "nd_unsolicited")
    j = json.loads(ok(ctl(h.path, "--json", "neigh")))
    assert not any(e["ip"].startswith("fd00::1:") for e in j["entries"]), j
    assert len(j["entries"]) <= 4, j


def test_ndp_in_fragments_ignored(h):
    # RFC 6980 5: a solicitation for our address (which would be answered
    # and teach the sender), in two fragments and behind an atomic Fragment
    # header, hop limit 255: ignored both ways, counted once each.
    ns = bytes(IPv6(src=PEER6_B, dst=STACK6, hlim=255) / ICMPv6ND_NS(tgt=STACK6) /
               ICMPv6NDOptSrcLLAddr(lladdr=h.mac_b))[40:]

    def frag(off, more, data):
        return to_stack(h, IPv6(src=PEER6_B, dst=STACK6, hlim=255) /
                        scapy.IPv6ExtHdrFragment(nh=58, offset=off // 8, m=int(more), id=0x6980) /
                        Raw(data))

    expect_drop(h, [frag(0, True, ns[:16]), frag(16, False, ns[16:])], "nd_frag", count=1)
    expect_drop(h, frag(0, False, ns), "nd_frag")


# ------------------------------------------------- fragments and UDP

@pytest.mark.parametrize("size", [3000, 20000])
def test_ping6_fragmented_both_ways(h, size):
    p = ping6(h.topo, STACK6, count=2, size=size)
    assert parse_ping(p.stdout) == (2, 2), p.stdout + p.stderr
    p = ctl(h.path, "ping", PEER6_B, "-c", "2", "-i", "0.2", "-s", size)
    replies = CTL_REPLY6_RE.findall(ok(p))
    assert len(replies) == 2 and all(int(r[0]) == size + 8 for r in replies), p.stdout
    c = h.d.counters()
    assert c["ip6_reassembled"] >= 2 and c["ip6_frag_tx"] >= 4


def test_udp6_echo(h):
    s = netns.socket_in(h.topo.ns_b, socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.bind((PEER6_B, 0))
    try:
        for n in (1, 1200, 1452, 1453, 9000, 65000):
            data = bytes((i * 13) & 0xff for i in range(n))
            s.sendto(data, (STACK6, netns.UDP_ECHO_PORT))
            got, addr = s.recvfrom(65535)
            assert got == data and addr[0] == STACK6 and addr[1] == netns.UDP_ECHO_PORT, n
    finally:
        s.close()
    # IPv4 on the same port, same socket.
    assert h.topo.udp_echo(b"dual stack")[0] == b"dual stack"


def frag6(h, ident, off, more, payload, nh=17):
    return to_stack(h, IPv6(src=PEER6_B, dst=STACK6) /
                    scapy.IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=int(more), id=ident) /
                    Raw(payload))


def test_tiny_first_fragment_dropped(h):
    # 16 bytes of a TCP header in the first fragment (RFC 7112: the whole
    # header chain, the TCP header's 20 bytes, must be there).
    frames = [frag6(h, 0x7001, 0, True, b"\x11" * 16, nh=6),
              frag6(h, 0x7001, 16, False, b"\x22" * 40, nh=6)]
    expect_drop(h, frames[0], "frag_tiny")


def test_overlapping_fragments_dropped(h):
    udp = bytes(UDP(sport=4444, dport=netns.UDP_ECHO_PORT, len=8 + 2000, chksum=0)) + b"x" * 2000
    frames = [frag6(h, 0x7002, 0, True, udp[:1200]),
              frag6(h, 0x7002, 1192, True, udp[1192:1600]),
              frag6(h, 0x7002, 1600, False, udp[1600:])]
    expect_drop(h, frames, "frag_overlap", count=1)


# ---------------------------------------------------------------- SLAAC

def test_slaac_from_router_advertisements(topo, xdpstack, tmp_path):
    """The peer in ns B plays the router (scapy RAs): the stack solicits,
    takes a SLAAC address in fd01::/64 after DAD, its default route and the
    on-link prefix with their lifetimes, and answers on the new address."""
    enable_ipv6(topo)
    netns.run(["ip", "-n", topo.ns_b, "addr", "add", "fd01::2/64", "dev", topo.dev_b, "nodad"])
    b_ll = next(a["local"] for a in json.loads(netns.run(
        ["ip", "-n", topo.ns_b, "-j", "-6", "addr", "show", "dev", topo.dev_b]).stdout)[0]
        ["addr_info"] if a["local"].startswith("fe80"))
    path = tmp_path / "xs.sock"
    d = xdpstack(topo, extra=["--ip6", "auto", "--ctl", path])
    sock = topo.raw_sender()
    ra = bytes(Ether(dst="33:33:00:00:00:01", src=topo.mac_b) /
               IPv6(src=b_ll, dst="ff02::1", hlim=255) /
               scapy.ICMPv6ND_RA(routerlifetime=600, reachabletime=0, retranstimer=0) /
               ICMPv6NDOptSrcLLAddr(lladdr=topo.mac_b) /
               scapy.ICMPv6NDOptMTU(mtu=1480) /
               scapy.ICMPv6NDOptPrefixInfo(prefix="fd01::", prefixlen=64, L=1, A=1,
                                          validlifetime=3600, preferredlifetime=1800))
    # The stack solicits (from its link-local, after DAD); the router answers.
    sniff = netns.socket_in(topo.ns_b, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
    sniff.bind((topo.dev_b, 0))
    sniff.settimeout(0.2)
    rs = None
    end = time.monotonic() + 15
    while time.monotonic() < end and rs is None:
        try:
            f = Ether(sniff.recv(2048))
        except socket.timeout:
            continue
        if f.haslayer(scapy.ICMPv6ND_RS):
            rs = f
    sniff.close()
    assert rs is not None, "no Router Solicitation from the stack\n" + d.stdout()
    assert rs[IPv6].dst == "ff02::2" and rs[IPv6].hlim == 255
    assert rs[IPv6].src.startswith("fe80::") and rs.src == topo.mac_a
    # One RA a second until the address is there (DAD takes a second or two).
    end = time.monotonic() + 20
    addr = None
    while time.monotonic() < end and not addr:
        sock.send(ra)
        time.sleep(1)
        m = re.search(r"ipv6: (fd01::[0-9a-f:]+)/64 preferred \(slaac\)", d.stdout())
        addr = m and m.group(1)
    sock.close()
    assert addr, d.stdout()
    c = d.counters()
    assert c["nd_rs_tx"] >= 1 and c["nd_ra_used"] >= 1
    j = json.loads(ok(ctl(path, "--json", "route")))
    dflt = [r for r in j["routes6"] if r["prefix_len"] == 0]
    assert dflt and dflt[0]["gateway"] == b_ll and dflt[0]["origin"] == "ra-router", j
    assert 0 < dflt[0]["expires_ms"] <= 600000
    assert any(r["dst"] == "fd01::" and r["prefix_len"] == 64 and r["origin"] == "ra-prefix"
               for r in j["routes6"]), j
    a = json.loads(ok(ctl(path, "--json", "addr")))
    s = next(x for x in a["ip6"] if x["addr"] == addr)
    assert s["origin"] == "slaac" and 0 < s["valid_ms"] <= 3600000 and \
        0 < s["preferred_ms"] <= 1800000, a
    # The router is known as one, and the new address answers.
    p = ping6(topo, addr, count=2)
    assert parse_ping(p.stdout) == (2, 2), p.stdout
    p = ctl(path, "ping", "fd01::2", "-c", "2", "-i", "0.2")
    assert len(CTL_REPLY6_RE.findall(ok(p))) == 2, p.stdout
    n = json.loads(ok(ctl(path, "--json", "neigh")))
    assert any(e["ip"] == b_ll and e["router"] for e in n["entries"]), n
    rc, out, err = d.stop()
    assert rc == 0, err


# ------------------------------------------------------------------ TCP

def test_tcp6_echo_100_mib_both_ways(h):
    """100 MiB from the kernel peer to the stack's echo and back, byte-exact
    (SHA-256 of what went up against what came back)."""
    total = 100 << 20
    chunk = bytes((i * 7 + (i >> 8)) & 0xff for i in range(1 << 16))
    s = netns.socket_in(h.topo.ns_b, socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect((STACK6, 8888))
    up, down = hashlib.sha256(), hashlib.sha256()
    got = [0]

    def reader():
        while True:
            b = s.recv(1 << 20)
            if not b:
                return
            down.update(b)
            got[0] += len(b)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    sent = 0
    while sent < total:
        s.sendall(chunk)
        up.update(chunk)
        sent += len(chunk)
    s.shutdown(socket.SHUT_WR)
    t.join(120)
    s.close()
    assert not t.is_alive(), f"echo stalled at {got[0]} of {total} bytes"
    assert got[0] == total and down.digest() == up.digest()


def test_stack_connects_to_the_kernel_over_ipv6(h):
    srv = netns.socket_in(h.topo.ns_b, socket.AF_INET6, socket.SOCK_STREAM)
    srv.bind((PEER6_B, 0))
    srv.listen(1)
    srv.settimeout(20)
    port = srv.getsockname()[1]
    peer = {}

    def serve():
        c, addr = srv.accept()
        peer["addr"] = addr
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b[::-1])

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    data = bytes(range(256)) * 2000
    exe = netns.build_dir() / "xdpstack-ctl"
    p = subprocess.run([str(exe), "--ctl", str(h.path), "connect", PEER6_B, str(port)],
                       input=data, capture_output=True, timeout=60)
    t.join(10)
    srv.close()
    assert p.returncode == 0, p.stderr
    assert peer["addr"][0] == STACK6
    # The server reverses each read; what came back is those pieces reversed.
    assert len(p.stdout) == len(data) and sorted(p.stdout) == sorted(data)


def test_tcp6_packet_too_big_shrinks_segments(h):
    """RFC 8201 5.2: a Packet Too Big (1280) quoting a segment in flight
    makes the connection's segments fit 1280 bytes, and the stream goes on."""
    sniff = netns.socket_in(h.topo.ns_b, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
    sniff.bind((h.topo.dev_b, 0))
    sniff.settimeout(0.2)
    s = netns.socket_in(h.topo.ns_b, socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    s.settimeout(10)
    s.connect((STACK6, 19))  # the source service: the stack sends
    lport = s.getsockname()[1]
    s.recv(65536)
    # The peer's kernel stops taking the stream (the sniffer still sees it),
    # so the quoted segment is still in flight (RFC 5927: checked).
    nft = ["ip", "netns", "exec", h.topo.ns_b, "nft"]
    netns.run(nft + ["add table ip6 xsptb"])
    netns.run(nft + ["add chain ip6 xsptb in { type filter hook input priority 0 ; }"])
    netns.run(nft + [f"add rule ip6 xsptb in tcp sport 19 tcp dport {lport} drop"])
    # The last full-size segment seen once the rule is in: one in flight.
    time.sleep(0.5)
    seg = None
    while True:
        try:
            f = sniff.recv(4096)
        except socket.timeout:
            break
        if f[6:12] == bytes.fromhex(h.mac_a.replace(":", "")) and f[14 + 6] == 6 and \
                len(f) > 14 + 40 + 1200 and struct.unpack("!H", f[14 + 42:14 + 44])[0] == lport:
            seg = f[14:]
    assert seg is not None, "no full-size segment from the stack seen"
    ptb = to_stack(h, IPv6(src=PEER6_B, dst=STACK6) / ICMPv6PacketTooBig(mtu=1280) /
                   Raw(seg[:1232]))
    send(h, ptb)
    netns.run(nft + ["delete table ip6 xsptb"])
    small = big = 0
    # The stream resumes at the stack's next retransmission, which backed off
    # while the rule dropped it: read without blocking, and wait for the
    # frames with a deadline, not for one frame per read.
    s.setblocking(False)
    end = time.monotonic() + 15
    while time.monotonic() < end and small < 20:
        try:
            while s.recv(65536):
                pass
        except BlockingIOError:
            pass
        try:
            f = sniff.recv(4096)
        except socket.timeout:
            continue
        if f[6:12] == bytes.fromhex(h.mac_a.replace(":", "")) and f[14 + 6] == 6:
            if len(f) - 14 > 1280:
                big += 1
            else:
                small += 1
    sniff.close()
    j = json.loads(ok(ctl(h.path, "--json", "conns")))
    c = [x for x in j["connections"] if x["remote_port"] == lport]
    s.close()
    assert c and c[0]["remote_ip"] == PEER6_B and c[0]["mss"] <= 1220, c
    assert small >= 20, (small, big)
    assert h.d.counters()["ip6_pmtu_updates"] >= 1
