# IPv4 host behaviour against the real kernel: fragments on the wire both ways,
# ICMP errors (port/protocol unreachable, reassembly timeout), hostile fragments, routing.
"""Two topologies:

  - the usual pair (conftest's topo_module: ns A runs xdpstack for 172.17.0.253,
    ns B is the kernel peer 172.17.0.2), one daemon started with
    `--frag-timeout 1000`; a packet socket in ns B watches the wire (both
    directions), so fragments, quotes and checksums are checked byte by byte;
  - three namespaces for routing (built here, see Routed):

        ns P (peer)            ns R (kernel router, ip_forward=1)        ns S
        xp<t> 10.99.2.2/24 <-> xrp<t> 10.99.2.1/24
                                xra<t> 172.17.0.1/24 <-> xs<t> (no kernel address)
                                                           xdpstack 172.17.0.253 --gw 172.17.0.1

    P routes 172.17.0.0/24 via R; the stack reaches P only through its gateway.
"""

import json
import os
import random
import re
import socket
import struct
import threading
import time

import pytest

import netns
from netns import PEER_B_IP, STACK_IP, UDP_ECHO_PORT, parse_ping

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
MTU_PAYLOAD = 1480  # per fragment at MTU 1500 (a multiple of 8)
FRAG_TIMEOUT_MS = 1000
ICMP_QUOTE_MAX = 576 - 20 - 8  # RFC 1812 4.3.2.3: the error datagram stays within 576

P_IP, R_P_IP, R_A_IP = "10.99.2.2", "10.99.2.1", "172.17.0.1"
P_NET = "10.99.2.0/24"
UNUSED_GW = "172.17.0.77"

CTL_REPLY_RE = re.compile(r"^(\d+) bytes from ([\d.]+): icmp_seq=(\d+) ttl=(\d+) time=[\d.]+ ms$",
                          re.M)


def delta(after, before, name):
    return after.get(name, 0) - before.get(name, 0)


def csum(data):
    """Internet checksum (RFC 1071) of data; 0 when data carries a valid one."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def assert_ping_ok(p, count):
    got = parse_ping(p.stdout)
    assert got == (count, count), f"ping lost replies:\n{p.stdout}\n{p.stderr}"
    assert "DUP!" not in p.stdout, p.stdout
    assert "wrong data" not in p.stdout, f"echo payload corrupted:\n{p.stdout}"


# ------------------------------------------------------------ the wire, parsed

class Pkt:
    """One IPv4 packet seen on the wire (raw bytes, header fields decoded)."""

    def __init__(self, t, outgoing, ip):
        self.t, self.outgoing, self.raw = t, outgoing, ip
        self.ihl = (ip[0] & 0x0f) * 4
        self.total_len, self.id, ff = struct.unpack("!HHH", ip[2:8])
        self.mf = bool(ff & 0x2000)
        self.df = bool(ff & 0x4000)
        self.off = (ff & 0x1fff) * 8
        self.ttl, self.proto = ip[8], ip[9]
        self.src = socket.inet_ntoa(ip[12:16])
        self.dst = socket.inet_ntoa(ip[16:20])
        self.hdr = ip[:self.ihl]
        self.payload = ip[self.ihl:self.total_len]

    @property
    def is_fragment(self):
        return self.mf or self.off != 0


class Sniffer:
    """Every frame on DEV in NS, both directions, collected by a thread."""

    def __init__(self, ns, dev):
        self.sock = netns.socket_in(ns, socket.AF_PACKET, socket.SOCK_RAW,
                                    socket.htons(ETH_P_ALL))
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
            self.sock.bind((dev, ETH_P_ALL))
        except BaseException:
            self.sock.close()
            raise
        self.sock.settimeout(0.05)
        self.frames = []
        self.cond = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.cond:
                self.frames.append((time.monotonic(), addr[2] == PACKET_OUTGOING, data))
                self.cond.notify_all()

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def packets(self, **match):
        """IPv4 packets whose decoded fields equal `match` (e.g. src=, proto=)."""
        with self.cond:
            frames = list(self.frames)
        out = []
        for t, outgoing, f in frames:
            if len(f) < 34 or struct.unpack("!H", f[12:14])[0] != ETH_P_IP:
                continue
            p = Pkt(t, outgoing, f[14:])
            if all(getattr(p, k) == v for k, v in match.items()):
                out.append(p)
        return out

    def wait(self, pred, timeout, **match):
        """The first packet matching `match` and pred(p) within timeout, or None."""
        end = time.monotonic() + timeout
        while True:
            for p in self.packets(**match):
                if pred(p):
                    return p
            left = end - time.monotonic()
            if left <= 0:
                return None
            with self.cond:
                self.cond.wait(min(left, 0.05))


def datagrams(pkts):
    """Group packets (fragments or not) into datagrams keyed by (src, dst, proto, id).

    Returns {key: (payload or None if incomplete, [Pkt in offset order])}."""
    groups = {}
    for p in pkts:
        groups.setdefault((p.src, p.dst, p.proto, p.id), []).append(p)
    out = {}
    for key, ps in groups.items():
        ps.sort(key=lambda p: p.off)
        data, complete = b"", bool(ps) and not ps[-1].mf
        for p in ps:
            if p.off != len(data):
                complete = False
                break
            data += p.payload
        out[key] = (data if complete else None, ps)
    return out


def icmp_errors(sn, type_, timeout, src=STACK_IP, pred=lambda p: True):
    return sn.wait(lambda p: len(p.payload) >= 8 and p.payload[0] == type_ and pred(p),
                   timeout, src=src, proto=1, outgoing=False)


def assert_well_formed_icmp_error(p, type_, code):
    assert p.payload[0] == type_ and p.payload[1] == code, \
        f"ICMP type {p.payload[0]} code {p.payload[1]}, want {type_}/{code}"
    assert csum(p.hdr) == 0, "bad IP header checksum on the ICMP error"
    assert csum(p.payload) == 0, "bad ICMP checksum on the error"
    assert p.total_len <= 576, f"ICMP error of {p.total_len} bytes (RFC 1812: <= 576)"
    return p.payload[8:]  # the quote


# ------------------------------------------------------- one daemon, pair topology

@pytest.fixture(scope="module")
def served(topo_module):
    topo = topo_module
    d = netns.Daemon(topo, extra=["--frag-timeout", FRAG_TIMEOUT_MS])
    d.start()
    # B never ARPs for .253 mid-test (no surprise frames in a sniffer window).
    netns.run(["ip", "-n", topo.ns_b, "neigh", "replace", STACK_IP, "lladdr", topo.mac_a,
               "nud", "permanent", "dev", topo.dev_b])
    assert_ping_ok(topo.ping(STACK_IP, count=2), 2)  # the stack learns B
    yield topo, d
    if d.running():
        rc, _, err = d.stop()
        assert rc == 0, f"exit {rc} after SIGTERM\nstderr:\n{err}"


@pytest.fixture
def srv(served):
    topo, d = served
    assert d.running(), f"xdpstack died earlier:\n{d.stderr()}"
    return topo, d


@pytest.fixture
def sc():
    return pytest.importorskip("scapy.all")


class Raw:
    """Hand-made frames from ns B to the stack's MAC."""

    def __init__(self, topo, sc):
        self.sc = sc
        self.sock = topo.raw_sender()
        self.eth = bytes(sc.Ether(dst=topo.mac_a, src=topo.mac_b, type=ETH_P_IP))

    def ip(self, **kw):
        kw.setdefault("src", PEER_B_IP)
        kw.setdefault("dst", STACK_IP)
        return self.sc.IP(**kw)

    def send(self, ip_pkt):
        data = ip_pkt if isinstance(ip_pkt, bytes) else bytes(ip_pkt)
        assert self.sock.send(self.eth + data) == len(self.eth) + len(data)
        return data

    def frag(self, template, l4, off, mf, **kw):
        """One fragment: l4[off:off+...] of a datagram shaped like `template`."""
        f = self.ip(id=template.id, proto=template.proto, ttl=template.ttl,
                    flags="MF" if mf else 0, frag=off // 8, **kw) / self.sc.Raw(l4)
        return bytes(f)

    def close(self):
        self.sock.close()


@pytest.fixture
def raw(srv, sc):
    r = Raw(srv[0], sc)
    yield r
    r.close()


def still_answers(topo, d):
    assert_ping_ok(topo.ping(STACK_IP, count=1, wait=2), 1)
    assert d.running()


# ------------------------------------------------ 1, 2: fragments both ways

@pytest.mark.parametrize("size", [4000, 65000, 65507])
def test_ping_fragmented_both_ways_on_the_wire(srv, size):
    """ping -s SIZE: requests arrive fragmented, replies leave fragmented to
    the MTU, and each reply carries exactly its request's id, seq and data."""
    topo, d = srv
    nfrag = -(-(size + 8) // MTU_PAYLOAD)
    before = d.counters()
    with Sniffer(topo.ns_b, topo.dev_b) as sn:
        p = topo.ping(STACK_IP, count=2, size=size, interval="0.2",
                      extra=("-M", "dont", "-p", "a55ac3"))
        time.sleep(0.1)
    assert_ping_ok(p, 2)
    after = d.counters()
    reqs = datagrams(sn.packets(src=PEER_B_IP, dst=STACK_IP, proto=1))
    reps = datagrams(sn.packets(src=STACK_IP, dst=PEER_B_IP, proto=1))
    assert len(reqs) == 2 and len(reps) == 2, (len(reqs), len(reps))
    by_idseq = {}
    for data, frags in reqs.values():
        assert data is not None and len(frags) == nfrag and data[0] == 8
        by_idseq[data[4:8]] = data
    for data, frags in reps.values():
        assert data is not None, "a reply datagram is missing fragments on the wire"
        assert len(frags) == nfrag, f"reply in {len(frags)} fragments, want {nfrag}"
        for i, f in enumerate(frags):
            assert f.total_len <= 1500, f"fragment of {f.total_len} bytes on a 1500 MTU"
            assert f.mf == (i < nfrag - 1), f"MF wrong on fragment {i}"
            assert f.off % 8 == 0
            assert not f.df
            assert csum(f.hdr) == 0, f"bad header checksum on fragment {i}"
        assert len(data) == size + 8
        assert (data[0], data[1]) == (0, 0), "not an echo reply"
        assert csum(data) == 0, "bad ICMP checksum over the reassembled reply"
        req = by_idseq.get(data[4:8])
        assert req is not None, "reply to no request (id/seq changed?)"
        assert data[8:] == req[8:], "reply data differs from the request's"
    assert delta(after, before, "ip_reassembled") == 2
    assert delta(after, before, "ip_frag_tx") == 2 * nfrag
    assert delta(after, before, "icmp_echo_reply_tx") == 2


def test_udp_60000_echoed_intact_fragmented_both_ways(srv):
    topo, d = srv
    payload = random.Random(60000).randbytes(60000)
    nfrag = -(-(len(payload) + 8) // MTU_PAYLOAD)
    before = d.counters()
    s = netns.socket_in(topo.ns_b)
    with s, Sniffer(topo.ns_b, topo.dev_b) as sn:
        s.settimeout(3)
        s.bind((PEER_B_IP, 0))
        s.connect((STACK_IP, UDP_ECHO_PORT))
        port = s.getsockname()[1]
        s.send(payload)
        data = s.recv(65535)
        time.sleep(0.05)
    assert data == payload, f"{len(data)} bytes back, content equal: {data == payload}"
    after = d.counters()
    reps = datagrams(sn.packets(src=STACK_IP, dst=PEER_B_IP, proto=17))
    assert len(reps) == 1
    (l4, frags), = reps.values()
    assert l4 is not None and len(frags) == nfrag, len(frags)
    assert all(f.total_len <= 1500 and csum(f.hdr) == 0 for f in frags)
    sport, dport, ulen, _ = struct.unpack("!HHHH", l4[:8])
    assert (sport, dport, ulen) == (UDP_ECHO_PORT, port, len(payload) + 8)
    pseudo = socket.inet_aton(STACK_IP) + socket.inet_aton(PEER_B_IP) + struct.pack(
        "!BBH", 0, 17, len(l4))
    assert csum(pseudo + l4) == 0, "bad UDP checksum over the whole echoed datagram"
    assert delta(after, before, "ip_reassembled") == 1
    assert delta(after, before, "ip_frag_tx") == nfrag
    assert delta(after, before, "udp_tx") == 1


# ------------------------------------------------ 3: unreachables to the kernel

def test_connected_udp_socket_gets_econnrefused(srv):
    topo, d = srv
    before = d.counters()
    s = netns.socket_in(topo.ns_b)
    with s, Sniffer(topo.ns_b, topo.dev_b) as sn:
        s.settimeout(3)
        s.bind((PEER_B_IP, 0))
        s.connect((STACK_IP, 9999))
        s.send(b"is anyone on 9999?")
        with pytest.raises(ConnectionRefusedError):
            s.recv(100)
        err = icmp_errors(sn, 3, 1)
        sent = sn.packets(src=PEER_B_IP, dst=STACK_IP, proto=17)
    assert err is not None, "ECONNREFUSED but no ICMP seen on the wire?"
    quote = assert_well_formed_icmp_error(err, 3, 3)
    assert len(sent) == 1
    assert quote[:28] == sent[0].raw[:28], "the quote is not the datagram's header + 8 bytes"
    assert sent[0].raw.startswith(quote), "the quote holds bytes that were never sent"
    after = d.counters()
    assert delta(after, before, "drop_udp_no_port") == 1
    assert delta(after, before, "icmp_err_tx") == 1


def test_unknown_protocol_gets_protocol_unreachable(srv, raw):
    topo, d = srv
    before = d.counters()
    with Sniffer(topo.ns_b, topo.dev_b) as sn:
        sent = raw.send(raw.ip(id=0x5151, proto=253, ttl=61) / raw.sc.Raw(bytes(range(48))))
        err = icmp_errors(sn, 3, 2)
    assert err is not None, "no ICMP protocol unreachable for protocol 253"
    assert err.dst == PEER_B_IP
    quote = assert_well_formed_icmp_error(err, 3, 2)
    assert quote[:28] == sent[:28], "the quote is not the offending header + 8 bytes"
    # DESIGN.md: the whole offending packet when it fits the 576-byte error.
    assert quote == sent, f"quoted {len(quote)} of {len(sent)} bytes"
    after = d.counters()
    assert delta(after, before, "drop_ip_proto") == 1
    assert delta(after, before, "icmp_err_tx") == 1
    still_answers(topo, d)


def test_protocol_unreachable_for_a_reassembled_datagram_is_capped(srv, raw):
    # 3000 bytes of an unknown protocol in three fragments: one error, whose
    # quote is the (reassembled) header and data cut to fit 576 bytes.
    topo, d = srv
    data = random.Random(253).randbytes(3000)
    tmpl = raw.ip(id=0x5152, proto=253)
    before = d.counters()
    with Sniffer(topo.ns_b, topo.dev_b) as sn:
        for off in range(0, 3000, MTU_PAYLOAD):
            raw.send(raw.frag(tmpl, data[off:off + MTU_PAYLOAD], off,
                              off + MTU_PAYLOAD < len(data)))
        err = icmp_errors(sn, 3, 1)
        time.sleep(0.2)
        n_err = len(sn.packets(src=STACK_IP, proto=1))
    assert err is not None, "no protocol unreachable for a reassembled datagram"
    quote = assert_well_formed_icmp_error(err, 3, 2)
    assert n_err == 1, f"{n_err} ICMP messages for one datagram"
    assert len(quote) == ICMP_QUOTE_MAX, len(quote)
    hdr = Pkt(0, False, quote + b"\0" * 3100)
    assert (hdr.src, hdr.dst, hdr.id, hdr.proto) == (PEER_B_IP, STACK_IP, 0x5152, 253)
    assert quote[20:] == data[:ICMP_QUOTE_MAX - 20]
    after = d.counters()
    assert delta(after, before, "ip_reassembled") == 1
    assert delta(after, before, "drop_ip_proto") == 1


# ------------------------------------------------ 4: hostile and lost fragments

def udp_datagram(raw, ident, n=40, sport=4200):
    """A UDP echo datagram as (template IP, transport bytes with checksum)."""
    pkt = raw.ip(id=ident) / raw.sc.UDP(sport=sport, dport=UDP_ECHO_PORT) / raw.sc.Raw(
        bytes(range(n)))
    b = bytes(pkt)
    return raw.sc.IP(b), b[20:]


def test_missing_fragment_gives_time_exceeded_after_the_timeout(srv, raw):
    topo, d = srv
    tmpl, l4 = udp_datagram(raw, 0x7101)  # 48 bytes: fragments of 16 at 0, 16, 32
    before = d.counters()
    with Sniffer(topo.ns_b, topo.dev_b) as sn:
        first = raw.send(raw.frag(tmpl, l4[0:16], 0, True))
        t0 = time.monotonic()
        raw.send(raw.frag(tmpl, l4[32:48], 32, False))  # 16..32 never comes
        err = icmp_errors(sn, 11, 4)
    assert err is not None, "no ICMP time exceeded for an incomplete datagram"
    waited = err.t - t0
    assert 0.9 <= waited < 2.5, f"time exceeded after {waited:.2f}s, --frag-timeout 1000"
    quote = assert_well_formed_icmp_error(err, 11, 1)
    assert err.dst == PEER_B_IP
    # RFC 792: the first fragment's header and its first 8 bytes (the UDP
    # header); DESIGN.md: only bytes really received.
    assert len(quote) >= 28 and quote[:28] == first[:28], (quote.hex(), first.hex())
    assert first.startswith(quote), "the quote holds bytes that never arrived"
    after = d.counters()
    assert delta(after, before, "drop_frag_timeout") == 1
    assert delta(after, before, "udp_rx") == 0 and delta(after, before, "udp_tx") == 0
    still_answers(topo, d)


def test_missing_first_fragment_times_out_without_icmp(srv, raw):
    # RFC 792 / RFC 1122 3.3.2: time exceeded only if fragment zero arrived.
    topo, d = srv
    tmpl, l4 = udp_datagram(raw, 0x7102)
    before = d.counters()
    with Sniffer(topo.ns_b, topo.dev_b) as sn:
        raw.send(raw.frag(tmpl, l4[16:32], 16, True))
        raw.send(raw.frag(tmpl, l4[32:48], 32, False))
        after = d.wait_counter(before, "drop_frag_timeout", 1, timeout=4)
        assert delta(after, before, "drop_frag_timeout") == 1, "the fragments never timed out"
        time.sleep(0.3)
        icmp = sn.packets(src=STACK_IP, proto=1)
    assert icmp == [], f"ICMP sent without the first fragment: {[p.raw.hex() for p in icmp]}"
    assert delta(after, before, "icmp_err_tx") == 0
    assert delta(after, before, "ip_frag_rx") == 2


def tcp_syn(raw, ident, sport):
    opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None),
            ("WScale", 7)]
    pkt = raw.ip(id=ident) / raw.sc.TCP(sport=sport, dport=8888, flags="S", seq=1000,
                                        options=opts)
    b = bytes(pkt)
    assert len(b) == 60  # 20 IP + 40 TCP with options
    return raw.sc.IP(b), b[20:]


def syn_acks(sn, sport):
    return [p for p in sn.packets(src=STACK_IP, proto=6)
            if struct.unpack("!H", p.payload[2:4])[0] == sport]


def test_tiny_first_tcp_fragment_dropped(srv, raw):
    """RFC 1858 3.2: a TCP first fragment must hold 20 bytes; fragments at
    offset 8 (which could rewrite the TCP flags) are dropped too."""
    topo, d = srv
    with Sniffer(topo.ns_b, topo.dev_b) as sn:
        # Control: split at 24, the SYN is reassembled and answered.
        tmpl, l4 = tcp_syn(raw, 0x7201, 41001)
        raw.send(raw.frag(tmpl, l4[:24], 0, True))
        raw.send(raw.frag(tmpl, l4[24:], 24, False))
        assert sn.wait(lambda p: struct.unpack("!H", p.payload[2:4])[0] == 41001, 2,
                       src=STACK_IP, proto=6), "control SYN in two fragments not answered"
        # (B's kernel answers the SYN-ACK with a RST: no connection is left.)
        for split, sport, ident in ((16, 41002, 0x7202), (8, 41003, 0x7203)):
            tmpl, l4 = tcp_syn(raw, ident, sport)
            before = d.counters()
            raw.send(raw.frag(tmpl, l4[:split], 0, True))
            after = d.wait_counter(before, "drop_frag_tiny", 1)
            assert delta(after, before, "drop_frag_tiny") == 1, f"{split}-byte first fragment"
            raw.send(raw.frag(tmpl, l4[split:], split, False))
        time.sleep(0.2)  # (the offset-8 rest of the 8-byte case is tiny too)
        # RFC 1858 3.2: offset 8 (fragment offset field 1) in TCP.
        tmpl, l4 = tcp_syn(raw, 0x7204, 41004)
        before = d.counters()
        raw.send(raw.frag(tmpl, l4[8:24], 8, True))
        after = d.wait_counter(before, "drop_frag_tiny", 1)
        assert delta(after, before, "drop_frag_tiny") == 1, "TCP fragment at offset 8"
        time.sleep(0.5)
        answered = [s for s in (41002, 41003) if syn_acks(sn, s)]
    assert answered == [], f"SYN behind a tiny first fragment was answered: {answered}"
    still_answers(topo, d)


def test_tiny_first_udp_fragment_dropped(srv, raw):
    # RFC 1858 asks for the 8-byte UDP header in the first fragment. A first
    # fragment shorter than 8 bytes has MF set (else it is no fragment) and so
    # also breaks RFC 791's multiple-of-8 rule: either reason drops it, once.
    topo, d = srv
    tmpl, l4 = udp_datagram(raw, 0x7301)
    before = d.counters()
    raw.send(raw.frag(tmpl, l4[:4], 0, True))
    after = d.wait_counter(before, "ip_frag_rx", 1)
    time.sleep(0.1)
    after = d.counters()
    dropped = delta(after, before, "drop_frag_tiny") + delta(after, before, "drop_ip_frag")
    assert delta(after, before, "ip_frag_rx") == 1
    assert dropped == 1, {k: delta(after, before, k) for k in ("drop_frag_tiny", "drop_ip_frag")}
    still_answers(topo, d)


def test_fragment_offset_overflow(srv, raw):
    topo, d = srv
    # Alone: offset 65512 + 40 bytes + 20 of header passes 65535.
    before = d.counters()
    raw.send(raw.ip(id=0x7401, proto=17, frag=8189) / raw.sc.Raw(b"o" * 40))
    after = d.wait_counter(before, "drop_frag_too_big", 1)
    assert delta(after, before, "drop_frag_too_big") == 1
    # Exactly 65535 with a 20-byte header is legal and held...
    tmpl = raw.ip(id=0x7402, proto=17)
    before = d.counters()
    raw.send(raw.frag(tmpl, b"e" * 3, 65512, False))
    after = d.wait_counter(before, "ip_frag_rx", 1)
    time.sleep(0.1)
    after = d.counters()
    assert delta(after, before, "ip_frag_rx") == 1
    assert delta(after, before, "drop_frag_too_big") == 0, "a 65535-byte datagram refused"
    # ...until a first fragment with 4 bytes of options makes the header 24:
    # 24 + 65515 passes 65535 (RFC 791: the datagram's header is the first's).
    opts = [raw.sc.IPOption_NOP()] * 4
    raw.send(raw.frag(tmpl, b"\x10\x68\x22\xb8" + b"\0" * 4, 0, True, options=opts))
    after = d.wait_counter(before, "drop_frag_too_big", 1)
    assert delta(after, before, "drop_frag_too_big") == 1
    assert delta(after, before, "drop_ip_hdr_len") == 0
    still_answers(topo, d)


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def ip_header(ident, off, mf, plen, proto=17):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + plen, ident,
                    (0x2000 if mf else 0) | (off // 8), 64, proto, 0,
                    socket.inet_aton(PEER_B_IP), socket.inet_aton(STACK_IP))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def wait_quiet(d, name, settle=0.3, timeout=10):
    """Counters once `name` stopped moving for `settle` seconds."""
    end = time.monotonic() + timeout
    last = d.counters()
    while time.monotonic() < end:
        time.sleep(settle)
        c = d.counters()
        if c.get(name) == last.get(name):
            return c
        last = c
    return last


def test_fragment_flood_keeps_memory_bounded(topo, xdpstack, sc):
    """64 full-size incomplete datagrams (every slot holding ~64 KiB), then
    20,000 fragments of distinct datagrams with random ids, as fast as a
    packet socket sends: the slots and bytes stay bounded (RSS), the oldest
    datagrams are evicted (drop_frag_limit), and ping is answered right after.

    A daemon of its own, with the default 30 s timeout so that nothing
    expires during the flood; under ASan its quarantine of freed blocks
    (256 MiB by default) is cut to 4 MiB, or RSS would measure ASan."""
    asan = os.environ.get("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    d = xdpstack(topo, env={"ASAN_OPTIONS": asan + ":quarantine_size_mb=4"})
    raw = Raw(topo, sc)
    try:
        _flood(topo, d, raw)
    finally:
        raw.close()


def _flood(topo, d, raw):
    still_answers(topo, d)
    rnd = random.Random(0xf100d)
    body = rnd.randbytes(MTU_PAYLOAD)
    eth = raw.eth
    # All but the first fragment of 80 datagrams of 65120 bytes (no ICMP: no
    # fragment zero), then single middle fragments with 20,000 distinct ids.
    ids = rnd.sample(range(1, 65536), 64 + 80 + 20000)

    def full(idents):
        return [eth + ip_header(i, off, True, MTU_PAYLOAD) + body
                for i in idents for off in range(MTU_PAYLOAD, 44 * MTU_PAYLOAD, MTU_PAYLOAD)]
    lone = [eth + ip_header(i, 8 * MTU_PAYLOAD, True, MTU_PAYLOAD) + body for i in ids[144:]]
    # Warm the allocator with one round of the slots (other ids), then measure.
    for f in full(ids[:64]):
        raw.sock.send(f)
    before = wait_quiet(d, "ip_frag_rx")
    rss0 = vm_rss_kib(d.pid)
    sent = 0
    for f in full(ids[64:144]) + lone:
        raw.sock.send(f)
        sent += 1
    after = wait_quiet(d, "ip_frag_rx")
    rss1 = vm_rss_kib(d.pid)
    assert_ping_ok(topo.ping(STACK_IP, count=1, wait=2), 1)
    got = delta(after, before, "ip_frag_rx")
    limited = delta(after, before, "drop_frag_limit")
    # (What the rx ring cannot hold is lost before the stack, more so under ASan.)
    assert got >= 2000, f"only {got} of {sent} fragments reached the stack"
    # Each new datagram past the 64 slots evicts the oldest: of the lone
    # fragments' datagrams, all but the last 64 were evicted.
    assert limited >= got - 80 * 43 - 64, (got, limited)
    assert delta(after, before, "icmp_err_tx") == 0
    grew = (rss1 - rss0) / 1024
    assert grew < 16, f"VmRSS grew {grew:.1f} MiB ({rss0} -> {rss1} KiB) under the flood"
    assert d.running()


# ------------------------------------------------ 5: through a kernel router

class Routed:
    """P <-> R <-> S (see the module docstring); unique names, always removed.

    Quacks like netns.Topology where netns.Daemon needs it (ns_a, dev_a,
    daemons)."""

    def __init__(self):
        t = netns.new_tag()
        self.ns_p, self.ns_r, self.ns_a = f"xsP{t}", f"xsR{t}", f"xsS{t}"
        self.dev_p, self.dev_rp = f"xp{t}", f"xrp{t}"
        self.dev_ra, self.dev_a = f"xra{t}", f"xs{t}"
        assert all(len(n) <= 15 for n in (self.dev_p, self.dev_rp, self.dev_ra, self.dev_a))
        self.daemons = []
        self.created = False

    def links(self):
        return ((self.ns_p, self.dev_p), (self.ns_r, self.dev_rp),
                (self.ns_r, self.dev_ra), (self.ns_a, self.dev_a))

    def create(self):
        self.created = True
        run = netns.run
        try:
            for ns in (self.ns_p, self.ns_r, self.ns_a):
                run(["ip", "netns", "add", ns])
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "link", "add", self.dev_p, "netns", self.ns_p, "type", "veth",
                 "peer", "name", self.dev_rp, "netns", self.ns_r])
            run(["ip", "link", "add", self.dev_a, "netns", self.ns_a, "type", "veth",
                 "peer", "name", self.dev_ra, "netns", self.ns_r])
            for ns, dev in self.links():
                netns.ns_run(ns, ["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"],
                             check=False)
                netns.ns_run(ns, ["ethtool", "-K", dev, "tx", "off", "tso", "off", "gso",
                                  "off", "gro", "off"])
            for ns, fwd in ((self.ns_p, 0), (self.ns_r, 1), (self.ns_a, 0)):
                netns.ns_run(ns, ["sysctl", "-qw", f"net.ipv4.ip_forward={fwd}"])
            run(["ip", "-n", self.ns_p, "addr", "add", f"{P_IP}/24", "dev", self.dev_p])
            run(["ip", "-n", self.ns_r, "addr", "add", f"{R_P_IP}/24", "dev", self.dev_rp])
            run(["ip", "-n", self.ns_r, "addr", "add", f"{R_A_IP}/24", "dev", self.dev_ra])
            # S's kernel has no address: 172.17.0.253 is the stack's alone.
            for ns, dev in self.links():
                run(["ip", "-n", ns, "link", "set", dev, "up"])
            run(["ip", "-n", self.ns_p, "route", "add", "172.17.0.0/24", "via", R_P_IP])
            end = time.monotonic() + 5
            while not all("LOWER_UP" in self.link(ns, dev).get("flags", [])
                          for ns, dev in self.links()):
                if time.monotonic() > end:
                    raise netns.CmdError("veth pairs did not come up")
                time.sleep(0.05)
        except BaseException:
            self.destroy()
            raise
        return self

    def link(self, ns, dev):
        return json.loads(netns.run(["ip", "-n", ns, "-j", "link", "show", "dev", dev]).stdout)[0]

    def mac(self, ns, dev):
        return self.link(ns, dev)["address"].lower()

    def destroy(self):
        errors = []
        for d in self.daemons:
            try:
                d.kill()
            except Exception as e:
                errors.append(repr(e))
        if self.created:
            for ns in (self.ns_p, self.ns_r, self.ns_a):
                if os.path.exists(f"/run/netns/{ns}"):
                    p = netns.run(["ip", "netns", "del", ns], check=False)
                    if p.returncode != 0:
                        errors.append(p.stderr)
            for _, dev in self.links():
                if os.path.exists(f"/sys/class/net/{dev}"):
                    netns.run(["ip", "link", "del", dev], check=False)
        self.created = False
        return errors

    def ping_from_p(self, dst=STACK_IP, count=3, wait=2):
        return netns.ns_run(self.ns_p, ["ping", "-n", "-c", count, "-i", "0.2", "-W", wait,
                                        dst], check=False, timeout=30)


@pytest.fixture(scope="module")
def routed(topo_module):
    # (topo_module: conftest's check that namespaces and AF_XDP are usable.)
    r = Routed().create()
    try:
        yield r
    finally:
        reports = [d.sanitizer_report() for d in r.daemons]
        problems = r.destroy()
        reports = [x for x in reports + [d.sanitizer_report() for d in r.daemons] if x]
        if reports:
            pytest.fail("sanitizer report from xdpstack:\n" + reports[-1], pytrace=False)
        if problems:
            pytest.fail("routed topology teardown problems: " + "; ".join(problems),
                        pytrace=False)


def start_routed(routed, path, gw):
    d = netns.Daemon(routed, extra=["--gw", gw, "--ctl", path])
    d.start()
    return d


@pytest.fixture
def rstack(routed, tmp_path):
    path = tmp_path / "xs.sock"
    d = start_routed(routed, path, R_A_IP)
    yield routed, d, path
    rc, _, err = d.stop()
    assert rc == 0, f"exit {rc} after SIGTERM\nstderr:\n{err}"
    assert d.sanitizer_report() is None, err


def ctl(path, *args, timeout=30):
    exe = netns.build_dir() / "xdpstack-ctl"
    if not exe.exists():
        pytest.fail(f"{exe} is not built (run make, or set XS_BUILD)")
    return netns.run([str(exe), "--ctl", str(path)] + [str(a) for a in args], check=False,
                     timeout=timeout)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    assert p.stderr == "", p.stderr
    return p.stdout


def jctl(path, *args):
    return json.loads(ok(ctl(path, "--json", *args)))


def stack_ping(path, host, count, extra=()):
    """The stack's own ping: (CompletedProcess, [(bytes, from, seq, ttl)])."""
    p = ctl(path, "ping", host, "-c", count, "-i", "0.2", *extra)
    replies = [(int(m[1]), m[2], int(m[3]), int(m[4])) for m in CTL_REPLY_RE.finditer(p.stdout)]
    return p, replies


def test_routed_traffic_goes_through_the_gateway(rstack):
    r, d, path = rstack
    # P -> stack: the reply leaves through the gateway (R decrements TTL both ways).
    p = r.ping_from_p(count=3)
    assert_ping_ok(p, 3)
    assert re.findall(r"ttl=(\d+)", p.stdout) == ["63"] * 3, p.stdout
    # The stack's own ping client reaches P, via R.
    p, replies = stack_ping(path, P_IP, 3)
    assert p.returncode == 0, p.stdout + p.stderr
    assert replies == [(64, P_IP, s, 63) for s in (1, 2, 3)], p.stdout
    assert "3 packets transmitted, 3 received" in p.stdout, p.stdout
    # ARP was for the gateway, never for the off-link host.
    arp = {e["ip"]: e for e in jctl(path, "arp")["entries"]}
    assert arp.get(R_A_IP, {}).get("mac") == r.mac(r.ns_r, r.dev_ra), arp
    assert P_IP not in arp
    # UDP echo from P, small and fragmented (R forwards the fragments).
    rnd = random.Random(99)
    for n in (1, 1000, 5000):
        payload = rnd.randbytes(n)
        s = netns.socket_in(r.ns_p)
        with s:
            s.settimeout(3)
            s.bind((P_IP, 0))
            s.sendto(payload, (STACK_IP, UDP_ECHO_PORT))
            data, addr = s.recvfrom(65535)
        assert addr == (STACK_IP, UDP_ECHO_PORT)
        assert data == payload, f"{n}-byte datagram came back altered"
    # TCP from P to the echo service.
    payload = rnd.randbytes(200000)
    c = netns.socket_in(r.ns_p, socket.AF_INET, socket.SOCK_STREAM)
    with c:
        c.settimeout(10)
        c.connect((STACK_IP, 8888))
        got = bytearray()
        sender = threading.Thread(target=c.sendall, args=(payload,), daemon=True)
        sender.start()
        while len(got) < len(payload):
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
        sender.join(10)
        c.shutdown(socket.SHUT_WR)
        assert c.recv(1) == b"", "no FIN after ours"
    assert bytes(got) == payload, f"TCP echo through the router: {len(got)} bytes, altered"


def test_route_del_and_add_through_the_router(rstack):
    r, d, path = rstack
    out = ok(ctl(path, "route"))
    assert f"default via {R_A_IP} dev {r.dev_a}" in out.splitlines(), out
    assert {"dst": "0.0.0.0", "prefix_len": 0, "gateway": R_A_IP, "connected": False} \
        in jctl(path, "route")["routes"]
    assert stack_ping(path, P_IP, 1)[1] == [(64, P_IP, 1, 63)]
    assert ok(ctl(path, "route", "del", "0.0.0.0/0")) == ""
    assert [x["dst"] for x in jctl(path, "route")["routes"]] == ["172.17.0.0"]
    # No route: the stack's ping refuses at once, and replies to P are dropped.
    p, replies = stack_ping(path, P_IP, 1)
    assert p.returncode == 1 and not replies, p.stdout + p.stderr
    assert f"no route to {P_IP}" in p.stderr, p.stderr
    before = jctl(path, "stats")["drops"]["ip_no_route"]["count"]
    assert parse_ping(r.ping_from_p(count=2, wait=1).stdout)[1] == 0
    after = jctl(path, "stats")["drops"]["ip_no_route"]["count"]
    assert after - before == 2, "echo replies without a route were not counted as no-route"
    # A specific route brings P back.
    assert ok(ctl(path, "route", "add", P_NET, "via", R_A_IP)) == ""
    assert f"{P_NET} via {R_A_IP} dev {r.dev_a}" in ok(ctl(path, "route")).splitlines()
    p, replies = stack_ping(path, P_IP, 2)
    assert p.returncode == 0 and replies == [(64, P_IP, s, 63) for s in (1, 2)], p.stdout
    assert_ping_ok(r.ping_from_p(count=2), 2)


def test_gateway_that_never_answers_arp(routed, tmp_path):
    path = tmp_path / "xs.sock"
    d = start_routed(routed, path, UNUSED_GW)
    assert {"dst": "0.0.0.0", "prefix_len": 0, "gateway": UNUSED_GW, "connected": False} \
        in jctl(path, "route")["routes"]
    before = jctl(path, "stats")["counters"]
    t0 = time.monotonic()
    p, replies = stack_ping(path, P_IP, 1)
    took = time.monotonic() - t0
    assert p.returncode == 1 and not replies, p.stdout + p.stderr
    assert f"From {STACK_IP} icmp_seq=1 Destination Host Unreachable" in p.stdout.splitlines(), \
        p.stdout
    assert "1 packets transmitted, 0 received, +1 errors" in p.stdout, p.stdout
    assert 2.5 <= took < 8, f"host unreachable after {took:.1f}s (ARP gives up after 3 tries)"
    after = jctl(path, "stats")["counters"]
    assert delta(after, before, "arp_tx_request") >= 3
    assert UNUSED_GW not in {e["ip"] for e in jctl(path, "arp")["entries"]}
    rc, _, err = d.stop()
    assert rc == 0, err
    assert d.sanitizer_report() is None, err
