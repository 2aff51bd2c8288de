# xdpstack against the real Linux stack over veth: ARP, ICMP echo, UDP echo,
# the kernel keeping its own traffic, and the daemon's lifecycle (signals, restart).

import random
import re
import signal
import socket
import threading
import time

import pytest

import netns
from netns import KERNEL_A_IP, STACK_IP, UDP_ECHO_PORT, parse_ping

# Names the counter block must carry (contract in the daemon's --help/README).
REQUIRED_COUNTERS = (
    "rx_frames", "tx_frames", "arp_rx_request", "arp_tx_reply", "ip_rx",
    "icmp_echo_rx", "icmp_echo_reply_tx", "udp_rx", "udp_tx",
    "xdp_redirected", "xdp_passed",
    "drop_eth_short", "drop_eth_dst", "drop_eth_type", "drop_eth_vlan",
    "drop_arp_short", "drop_arp_format", "drop_arp_op", "drop_arp_src",
    "drop_arp_not_ours", "drop_arp_conflict", "drop_ip_short", "drop_ip_version",
    "drop_ip_hdr_len", "drop_ip_total_len", "drop_ip_csum", "drop_ip_dst",
    "drop_ip_src", "drop_ip_frag", "drop_ip_proto", "drop_icmp_short",
    "drop_icmp_csum", "drop_icmp_type", "drop_udp_short", "drop_udp_len",
    "drop_udp_csum", "drop_udp_no_port",
)

ARPING_REPLY = re.compile(r"bytes from ([0-9a-fA-F:]{17}) \(([\d.]+)\)")


def delta(after, before, name):
    return after.get(name, 0) - before.get(name, 0)


def assert_ping_ok(p, count):
    got = parse_ping(p.stdout)
    assert got == (count, count), f"ping lost replies:\n{p.stdout}\n{p.stderr}"
    assert "DUP!" not in p.stdout, f"duplicate replies (two responders?):\n{p.stdout}"
    assert "wrong data" not in p.stdout, f"echo payload corrupted:\n{p.stdout}"


def assert_ping_fails(p):
    got = parse_ping(p.stdout)
    assert got is not None and got[1] == 0, f"someone answered:\n{p.stdout}\n{p.stderr}"


class TcpEchoServer:
    """A kernel TCP server on 172.17.0.1 in ns A, echoing upper-cased data."""

    def __init__(self, topo):
        self.sock = netns.socket_in(topo.ns_a, socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((KERNEL_A_IP, 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                c.settimeout(5)
                data = b""
                while not data.endswith(b"\n"):
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                c.sendall(data.upper())

    def close(self):
        self.sock.close()


def tcp_roundtrip(topo, port, payload=b"hello kernel tcp\n"):
    cli = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    with cli:
        cli.settimeout(5)
        cli.connect((KERNEL_A_IP, port))
        cli.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = cli.recv(65536)
            if not chunk:
                break
            got += chunk
    assert got == payload.upper()


# ------------------------------------------------ one daemon for this module

@pytest.fixture(scope="module")
def served(topo_module):
    d = netns.Daemon(topo_module)
    d.start()
    yield topo_module, d
    if d.running():
        rc, out, err = d.stop()
        assert rc == 0, f"exit {rc} after SIGTERM\nstderr:\n{err}"


@pytest.fixture
def srv(served):
    topo, d = served
    assert d.running(), f"xdpstack died earlier:\n{d.stderr()}"
    return topo, d


def serving_re(dev, plen=24):
    # ADDR as given, optionally with the prefix the daemon settled on.
    return re.compile(rf"serving {re.escape(STACK_IP)}(/{plen})? on {re.escape(dev)}\b")


def test_serving_line_names_address_and_interface(srv):
    topo, d = srv
    assert serving_re(topo.dev_a).search(d.serving_line), d.serving_line


def test_arping_one_responder_with_the_interface_mac(srv):
    topo, d = srv
    before = d.counters()
    p = topo.arping(STACK_IP, count=3)
    replies = ARPING_REPLY.findall(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(replies) == 3, f"expected exactly 3 replies:\n{p.stdout}"
    assert {ip for _, ip in replies} == {STACK_IP}
    assert {mac.lower() for mac, _ in replies} == {topo.mac_a.lower()}, p.stdout
    after = d.counters()
    assert delta(after, before, "arp_rx_request") >= 3
    assert delta(after, before, "arp_tx_reply") >= 3


def test_ping(srv):
    topo, d = srv
    p = topo.ping(STACK_IP, count=3)
    assert_ping_ok(p, 3)
    assert f"from {STACK_IP}" in p.stdout


@pytest.mark.parametrize("size", [0, 56, 1400, 1472])
def test_ping_payload_sizes(srv, size):
    # 1472 = 1500 - 20 (IPv4) - 8 (ICMP): the largest echo that fits the MTU.
    topo, _ = srv
    p = topo.ping(STACK_IP, count=3, size=size, extra=("-M", "do", "-p", "a55a0ff0"))
    assert_ping_ok(p, 3)


def reassembles(d):
    """The stack reassembles IPv4 when it counts reassembled datagrams."""
    return "ip_reassembled" in d.counters()


@pytest.mark.parametrize("size", [1473, 4000, 65000 - 28])
def test_ping_beyond_mtu(srv, size):
    # More than 1472 bytes of ICMP data travel as IPv4 fragments both ways.
    topo, d = srv
    before = d.counters()
    if not reassembles(d):
        if size != 1473:
            pytest.skip("stack without reassembly: one oversize case is enough")
        p = topo.ping(STACK_IP, count=1, size=size, wait=1, extra=("-M", "dont"))
        assert_ping_fails(p)
        after = d.wait_counter(before, "drop_ip_frag", 2)
        assert delta(after, before, "drop_ip_frag") == 2
        assert delta(after, before, "icmp_echo_reply_tx") == 0
        return
    p = topo.ping(STACK_IP, count=3, size=size, extra=("-M", "dont", "-p", "c3"))
    assert_ping_ok(p, 3)
    after = d.counters()
    assert delta(after, before, "ip_reassembled") == 3
    assert delta(after, before, "ip_frag_tx") >= 6


def test_udp_echo_fragmented(srv):
    topo, d = srv
    if not reassembles(d):
        pytest.skip("stack without IPv4 reassembly")
    rnd = random.Random(4000)
    for n in (1473, 3000, 8972, 65507):
        payload = bytes(rnd.randrange(256) for _ in range(n))
        r = topo.udp_echo(payload)
        assert r is not None, f"no UDP echo for {n} bytes"
        assert r[0] == payload, f"{n}-byte payload came back altered ({len(r[0])} bytes)"


def test_flood_ping_1000_no_loss(srv):
    topo, d = srv
    before = d.counters()
    p = topo.ping(STACK_IP, count=1000, interval=None, wait=2, deadline=60,
                  extra=("-f", "-q"), timeout=90)
    assert parse_ping(p.stdout) == (1000, 1000), p.stdout + p.stderr
    after = d.counters()
    assert delta(after, before, "icmp_echo_rx") == 1000
    assert delta(after, before, "icmp_echo_reply_tx") == 1000


def test_udp_echo_exact_payloads(srv):
    topo, d = srv
    assert_ping_ok(topo.ping(STACK_IP, count=1), 1)  # ARP caches warm on both sides
    before = d.counters()
    rnd = random.Random(8888)
    sizes = [1, 2, 17, 64, 512, 1000, 1471, 1472]
    for n in sizes:
        payload = bytes(rnd.randrange(256) for _ in range(n))
        r = topo.udp_echo(payload)
        assert r is not None, f"no UDP echo for {n} bytes"
        data, addr = r
        assert addr == (STACK_IP, UDP_ECHO_PORT)
        assert data == payload, f"{n}-byte payload came back altered ({len(data)} bytes)"
    after = d.counters()
    assert delta(after, before, "udp_rx") == len(sizes)
    assert delta(after, before, "udp_tx") == len(sizes)


def test_udp_zero_length_echo(srv):
    topo, _ = srv
    r = topo.udp_echo(b"")
    assert r is not None and r[0] == b"", r


def test_kernel_ip_keeps_working_while_serving(srv):
    topo, d = srv
    before = d.counters()
    assert_ping_ok(topo.ping(KERNEL_A_IP, count=3), 3)
    server = TcpEchoServer(topo)
    try:
        tcp_roundtrip(topo, server.port)
        tcp_roundtrip(topo, server.port, b"x" * 100000 + b"\n")
    finally:
        server.close()
    assert_ping_ok(topo.ping(STACK_IP, count=2), 2)
    after = d.counters()
    assert after["xdp_passed"] > 0 and delta(after, before, "xdp_passed") > 0
    assert after["xdp_redirected"] > 0 and delta(after, before, "xdp_redirected") >= 2
    # The kernel's traffic never reached the stack as IP (it would be ip_dst drops).
    assert delta(after, before, "drop_ip_dst") == 0


def test_sigusr1_prints_counters_and_keeps_serving(srv):
    topo, d = srv
    c1 = d.counters()
    missing = [n for n in REQUIRED_COUNTERS if n not in c1]
    assert not missing, f"counter block lacks {missing}:\n{c1}"
    assert_ping_ok(topo.ping(STACK_IP, count=5, interval="0.05"), 5)
    c2 = d.counters()
    assert d.running()
    assert delta(c2, c1, "icmp_echo_rx") == 5
    assert delta(c2, c1, "icmp_echo_reply_tx") == 5
    assert delta(c2, c1, "ip_rx") >= 5
    assert delta(c2, c1, "rx_frames") >= 5 and delta(c2, c1, "tx_frames") >= 5
    for name, v in c2.items():
        assert v >= c1.get(name, 0), f"counter {name} went backwards"
    assert_ping_ok(topo.ping(STACK_IP, count=1), 1)


# ------------------------------------------------ lifecycle: a daemon per test

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_exits_0_detaches_and_kernel_is_alone_again(topo, xdpstack, sig):
    d = xdpstack(topo)
    assert topo.xdp_attached() is not None, "no XDP program on the interface while serving"
    assert_ping_ok(topo.ping(STACK_IP, count=3), 3)
    server = TcpEchoServer(topo)
    try:
        rc, out, err = d.stop(sig)
        assert rc == 0, f"exit {rc}\nstderr:\n{err}"
        blocks = netns.parse_counter_blocks(out)
        assert blocks, f"no counter block printed at exit:\n{out}"
        assert blocks[-1]["icmp_echo_reply_tx"] >= 3
        # Every UMEM frame came home (the daemon would exit 3 otherwise).
        m = re.search(r"frames at exit: total (\d+) .* misuse (\d+) lost (\d+)$", out, re.M)
        assert m and int(m.group(1)) > 0 and m.group(2) == m.group(3) == "0", out
        assert topo.xdp_attached() is None, \
            netns.run(["ip", "-n", topo.ns_a, "-d", "link", "show", topo.dev_a]).stdout
        # The kernel owns the interface again: its own address works...
        assert_ping_ok(topo.ping(KERNEL_A_IP, count=2), 2)
        tcp_roundtrip(topo, server.port)
        # ...and nobody answers for the stack's address any more.
        assert_ping_fails(topo.ping(STACK_IP, count=2, wait=1))
        p = topo.arping(STACK_IP, count=2)
        assert not ARPING_REPLY.findall(p.stdout), p.stdout
    finally:
        server.close()


def test_kill9_then_restart_replaces_program(topo, xdpstack):
    d = xdpstack(topo)
    assert_ping_ok(topo.ping(STACK_IP, count=1), 1)
    d.kill9()
    left = topo.xdp_attached()
    # Whatever is left must not break the kernel's own traffic.
    assert_ping_ok(topo.ping(KERNEL_A_IP, count=2), 2)
    d2 = xdpstack(topo)
    if left is not None:
        assert "replacing XDP program" in d2.stderr(), \
            f"left-behind program {left} replaced silently?\nstderr:\n{d2.stderr()}"
    assert_ping_ok(topo.ping(STACK_IP, count=3), 3)
    r = topo.udp_echo(b"after restart")
    assert r is not None and r[0] == b"after restart"
    rc, _, err = d2.stop()
    assert rc == 0, err
    assert topo.xdp_attached() is None


def test_default_interface_is_the_route_to_the_subnet(topo, xdpstack):
    d = xdpstack(topo, dev=None)
    assert serving_re(topo.dev_a).search(d.serving_line), d.serving_line
    assert_ping_ok(topo.ping(STACK_IP, count=2), 2)


def test_prefix_length_accepted(topo, xdpstack):
    d = xdpstack(topo, ip=f"{STACK_IP}/24")
    assert STACK_IP in d.serving_line
    assert_ping_ok(topo.ping(STACK_IP, count=2), 2)


@pytest.mark.parametrize("mode", ["native", "generic"])
def test_modes(topo, xdpstack, mode):
    xdpstack(topo, extra=["--mode", mode])
    x = topo.xdp_attached()
    assert x is not None
    text = netns.run(["ip", "-n", topo.ns_a, "-d", "link", "show", topo.dev_a]).stdout
    want = "xdpgeneric" if mode == "generic" else "xdp "
    assert want in text.split("\n")[0] + " ", text
    assert_ping_ok(topo.ping(STACK_IP, count=3), 3)
    r = topo.udp_echo(b"mode " + mode.encode())
    assert r is not None and r[0] == b"mode " + mode.encode()


def test_udp_echo_port_option(topo, xdpstack):
    d = xdpstack(topo, extra=["--udp-echo", "9999"])
    assert_ping_ok(topo.ping(STACK_IP, count=1), 1)
    r = topo.udp_echo(b"on 9999", port=9999)
    assert r is not None and r == (b"on 9999", (STACK_IP, 9999))
    before = d.counters()
    assert topo.udp_echo(b"on 8888", port=UDP_ECHO_PORT, timeout=0.5) is None
    after = d.wait_counter(before, "drop_udp_no_port")
    assert delta(after, before, "drop_udp_no_port") == 1


def test_udp_echo_disabled(topo, xdpstack):
    d = xdpstack(topo, extra=["--udp-echo", "0"])
    assert_ping_ok(topo.ping(STACK_IP, count=1), 1)
    before = d.counters()
    assert topo.udp_echo(b"nobody", timeout=0.5) is None
    after = d.wait_counter(before, "drop_udp_no_port")
    assert delta(after, before, "drop_udp_no_port") == 1


def test_gratuitous_arp_at_start(topo, xdpstack):
    sniff = netns.socket_in(topo.ns_b, socket.AF_PACKET, socket.SOCK_RAW,
                            socket.htons(0x0806))
    with sniff:
        sniff.bind((topo.dev_b, 0x0806))
        sniff.settimeout(0.5)
        xdpstack(topo)
        mac_a = bytes.fromhex(topo.mac_a.replace(":", ""))
        me = socket.inet_aton(STACK_IP)
        seen = []
        end = time.monotonic() + 3
        while time.monotonic() < end:
            try:
                f = sniff.recv(2048)
            except socket.timeout:
                continue
            seen.append(f[:42].hex())
            body = f[14:42]
            if (len(body) == 28 and f[0:6] == b"\xff" * 6 and f[6:12] == mac_a
                    and body[8:14] == mac_a and body[14:18] == me and body[24:28] == me):
                return
    pytest.fail(f"no gratuitous ARP for {STACK_IP} from {topo.mac_a}; ARP seen: {seen}")


def test_mac_option(topo, xdpstack):
    mac = "02:00:5e:00:42:01"
    xdpstack(topo, extra=["--mac", mac])
    p = topo.arping(STACK_IP, count=2)
    replies = ARPING_REPLY.findall(p.stdout)
    assert replies and {m.lower() for m, _ in replies} == {mac}, p.stdout
    assert_ping_ok(topo.ping(STACK_IP, count=2), 2)
    r = topo.udp_echo(b"own mac")
    assert r is not None and r[0] == b"own mac"
    # The kernel keeps its address on the real MAC.
    assert_ping_ok(topo.ping(KERNEL_A_IP, count=2), 2)
