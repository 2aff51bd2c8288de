# Hand-made TCP from ns B for the hostile-segment tests: a capture of what the
# stack sends, scapy-driven connections, and nftables rules that keep B quiet.
"""Pieces used by test_tcp_hostile.py:

    Capture      AF_PACKET socket on xb<tag> in ns B, filled by a thread: every
                 IPv4/TCP frame from 172.17.0.253, with a monotonic timestamp
    RawConn      one connection driven segment by segment from scapy (SYN,
                 SYN-ACK seen in the capture, ACK), so tests know the exact
                 sequence numbers on both sides
    quiet_rsts   nftables in ns B: the kernel's RSTs from chosen source ports to
                 the stack are dropped, so scapy (or a SYN flood) can own those
                 ports without B's kernel resetting what the stack answers
    syn_frames   prebuilt SYN frames (random ports, ISNs, sources) for floods
    echo_roundtrip, Echoer, vm_kb: kernel-socket echo checks and the daemon's
                 memory

B's kernel sockets get ephemeral ports from KERNEL_PORTS (set per namespace),
scapy connections use SCAPY_PORTS, floods FLOOD_PORTS: the ranges never meet.
"""

import random
import socket
import struct
import threading
import time

import netns
from netns import PEER_B_IP, STACK_IP

from scapy.all import IP, TCP, Ether, Raw  # noqa: E402

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
STACK_IP_BYTES = socket.inet_aton(STACK_IP)

KERNEL_PORTS = (50000, 60999)
SCAPY_PORTS = (40000, 49999)
FLOOD_PORTS = (10000, 39999)

FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40,
         "C": 0x80}


# ------------------------------------------------------------------ capture

class Capture:
    """Every TCP frame the stack sends into ns B, from construction on.

    Frames are kept raw (cheap during a flood) and parsed with scapy on
    demand. `mark()` is an index; `since(mark)` the TCP segments after it."""

    def __init__(self, topo):
        self.sock = netns.socket_in(topo.ns_b, socket.AF_PACKET, socket.SOCK_RAW,
                                    socket.htons(ETH_P_ALL))
        # Past rmem_max (we are root): a flood's answers must not crowd out
        # the segments a test is waiting for.
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
        self.sock.bind((topo.dev_b, ETH_P_ALL))
        self.sock.settimeout(0.05)
        self.frames = []
        self.cond = threading.Condition()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == PACKET_OUTGOING:
                continue
            if (len(data) >= 34 and data[12:14] == b"\x08\x00" and data[23] == 6
                    and data[26:30] == STACK_IP_BYTES):
                with self.cond:
                    self.frames.append((time.monotonic(), data))
                    self.cond.notify_all()

    def close(self):
        self.done.set()
        self.thread.join(2)
        self.sock.close()

    def mark(self):
        with self.cond:
            return len(self.frames)

    def count(self, mark=0):
        with self.cond:
            return len(self.frames) - mark

    def raw_since(self, mark):
        with self.cond:
            return list(self.frames[mark:])

    def since(self, mark, pred=None):
        out = []
        for t, data in self.raw_since(mark):
            p = Ether(data)
            if TCP in p and (pred is None or pred(p)):
                out.append(p)
        return out

    def wait(self, mark, pred, timeout=2.0):
        """The first segment after mark matching pred, or None after timeout."""
        end = time.monotonic() + timeout
        seen = mark
        while True:
            with self.cond:
                new = self.frames[seen:]
                seen = len(self.frames)
            for t, data in new:
                p = Ether(data)
                if TCP in p and pred(p):
                    return p
            left = end - time.monotonic()
            if left <= 0:
                return None
            with self.cond:
                if len(self.frames) == seen:
                    self.cond.wait(min(left, 0.05))

    def quiet(self, mark, pred=None, settle=0.3):
        """Segments after mark matching pred, once `settle` s passed with no new frame."""
        time.sleep(settle)
        return self.since(mark, pred)


def tcp_payload(p):
    """The segment's data, without the Ethernet padding scapy keeps behind it."""
    n = p[IP].len - p[IP].ihl * 4 - p[TCP].dataofs * 4
    return bytes(p[TCP].payload)[:max(n, 0)]


# ------------------------------------------------------------------ nftables

def nft(ns, script):
    return netns.ns_run(ns, ["nft", "-f", "-"], input=script)


def quiet_rsts(topo, table, ports):
    """Drop the RSTs B's kernel sends to the stack from source ports `ports`
    (lo, hi): those ports belong to scapy or to a flood."""
    nft(topo.ns_b, f"""
table ip {table} {{
    chain out {{
        type filter hook output priority 0; policy accept;
        ip daddr {STACK_IP} tcp sport {ports[0]}-{ports[1]} tcp flags & rst == rst drop
    }}
}}
""")


def drop_table(topo, table):
    netns.ns_run(topo.ns_b, ["nft", "delete", "table", "ip", table], check=False)


def kernel_port_range(topo):
    netns.ns_run(topo.ns_b, ["sysctl", "-qw",
                             f"net.ipv4.ip_local_port_range={KERNEL_PORTS[0]} {KERNEL_PORTS[1]}"])


# ------------------------------------------------------------------ frames

class Sender:
    """Ethernet frames from B's MAC to the stack's, sent by one AF_PACKET socket."""

    def __init__(self, topo):
        self.topo = topo
        self.sock = topo.raw_sender()
        self.mac_a = topo.mac_a
        self.mac_b = topo.mac_b

    def close(self):
        self.sock.close()

    def eth(self):
        return Ether(dst=self.mac_a, src=self.mac_b)

    def frame(self, l4, src=PEER_B_IP, **ipkw):
        return self.eth() / IP(src=src, dst=STACK_IP, **ipkw) / l4

    def send(self, frame):
        data = bytes(frame)
        assert self.sock.send(data) == len(data)
        return data

    def tcp(self, sport, dport, flags, seq=0, ack=0, payload=b"", **kw):
        seg = TCP(sport=sport, dport=dport, flags=flags, seq=seq & 0xffffffff,
                  ack=ack & 0xffffffff, **kw)
        if payload:
            seg = seg / Raw(payload)
        return self.send(self.frame(seg))


# ------------------------------------------------------------------ connections

class RawConn:
    """A connection to the stack driven from scapy: we are the client.

    snd_nxt: our next sequence number; rcv_nxt: the stack's next one (what we
    acknowledge). Received data is collected in order by `read()`."""

    def __init__(self, sender, cap, sport, dport, isn=None, window=65535):
        self.s = sender
        self.cap = cap
        self.sport = sport
        self.dport = dport
        self.isn = random.randrange(1 << 32) if isn is None else isn
        self.snd_nxt = self.isn
        self.rcv_nxt = None
        self.window = window
        self.synack = None
        self.data = bytearray()
        self.data_sizes = []
        self.seen = cap.mark()

    def mine(self, p):
        return p[TCP].dport == self.sport and p[TCP].sport == self.dport

    def syn(self, options=(("MSS", 1460),), raw_options=None, **kw):
        """Sends the SYN; returns the stack's SYN-ACK (scapy packet) or None."""
        m = self.cap.mark()
        if raw_options is not None:
            # Exactly these option bytes, whatever they say.
            self.s.send(raw_tcp_frame(self.s, tcp_header(
                self.sport, self.dport, self.isn, 0, FLAGS["S"], self.window,
                options=raw_options)))
        else:
            self.s.send(self.s.frame(TCP(sport=self.sport, dport=self.dport, flags="S",
                                         seq=self.isn, window=self.window,
                                         options=list(options), **kw)))
        self.snd_nxt = (self.isn + 1) & 0xffffffff
        p = self.cap.wait(m, lambda p: self.mine(p) and p[TCP].flags & 0x12 == 0x12, 2.0)
        self.synack = p
        if p is not None:
            self.rcv_nxt = (p[TCP].seq + 1) & 0xffffffff
            self.seen = self.cap.mark()
        return p

    def handshake(self, options=(("MSS", 1460),), **kw):
        p = self.syn(options, **kw)
        assert p is not None, "no SYN-ACK from the stack"
        self.send("A")
        return p

    def seg(self, flags="A", payload=b"", seq=None, ack=None, window=None, options=(),
            urgptr=0, raw_tcp=None):
        seq = self.snd_nxt if seq is None else seq
        ack = self.rcv_nxt if ack is None else ack
        t = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=seq & 0xffffffff,
                ack=(ack or 0) & 0xffffffff,
                window=self.window if window is None else window,
                options=list(options), urgptr=urgptr)
        if payload:
            t = t / Raw(payload)
        return t

    def send(self, flags="A", payload=b"", advance=None, **kw):
        """Sends a segment; advances snd_nxt by its length when it is ours to
        advance (default: when seq was not given)."""
        if advance is None:
            advance = "seq" not in kw
        self.s.send(self.s.frame(self.seg(flags, payload, **kw)))
        if advance:
            n = len(payload) + (1 if "S" in flags else 0) + (1 if "F" in flags else 0)
            self.snd_nxt = (self.snd_nxt + n) & 0xffffffff

    def segments(self, pred=None):
        """The stack's segments of this connection since the last call."""
        m = self.cap.mark()
        out = self.cap.since(self.seen, lambda p: self.mine(p) and (pred is None or pred(p)))
        self.seen = m
        return out

    def read(self, n, timeout=3.0, ack=True):
        """Collects n bytes of in-order data from the stack, ACKing as it
        goes (unless ack=False). Sizes of the new-data segments go to
        data_sizes."""
        end = time.monotonic() + timeout
        while len(self.data) < n and time.monotonic() < end:
            got = False
            for p in self.segments():
                t = p[TCP]
                body = tcp_payload(p)
                if not body:
                    continue
                off = (self.rcv_nxt - t.seq) & 0xffffffff
                if off < len(body):
                    if off == 0:
                        self.data_sizes.append(len(body))
                    self.data += body[off:]
                    self.rcv_nxt = (self.rcv_nxt + len(body) - off) & 0xffffffff
                    got = True
            if got and ack:
                self.send("A")
            if not got:
                time.sleep(0.01)
        out = bytes(self.data[:n])
        del self.data[:n]
        return out

    def write(self, data, mss=1400):
        for i in range(0, len(data), mss):
            self.send("PA", data[i:i + mss])

    def echo(self, data, timeout=3.0):
        """Sends data, returns what came back (the echo service)."""
        self.data_sizes = []
        self.write(data)
        return self.read(len(data), timeout)

    def reset(self):
        """Ends the connection with an exact RST (no trace left in the stack)."""
        self.send("R", seq=self.snd_nxt, ack=0)


def fix_tcp_csum(frame_bytes):
    """Recomputes the TCP checksum of an Ether/IPv4/TCP frame given as bytes."""
    b = bytearray(frame_bytes)
    ihl = (b[14] & 0x0f) * 4
    tot = struct.unpack("!H", b[16:18])[0]
    l4 = 14 + ihl
    seg = b[l4:14 + tot]
    seg[16:18] = b"\0\0"
    c = inet_csum(bytes(b[26:34]) + struct.pack("!BBH", 0, 6, len(seg)) + bytes(seg))
    b[l4 + 16:l4 + 18] = struct.pack("!H", c)
    return bytes(b)


def inet_csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def raw_tcp_frame(sender, tcp_bytes, src=PEER_B_IP, fix_csum=True):
    """Ether/IPv4 around exactly these TCP bytes (header, options, payload),
    the IPv4 header built by scapy, the TCP checksum recomputed unless told."""
    f = bytes(sender.eth() / IP(src=src, dst=STACK_IP, proto=6) / Raw(bytes(tcp_bytes)))
    return fix_tcp_csum(f) if fix_csum else f


def tcp_header(sport, dport, seq, ack, flags, window=65535, doff=None, options=b"",
               urgptr=0):
    """20 bytes of TCP header + options, checksum left 0 (raw_tcp_frame fills it)."""
    if doff is None:
        doff = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                       (doff & 0xf) << 4, flags, window, 0, urgptr) + bytes(options)


# ------------------------------------------------------------------ kernel sockets

def echo_roundtrip(sock, msg, timeout=3.0):
    """Sends msg, reads as many bytes back. The kernel ACKs at once (no
    delayed ACK turning up later in another test's counters)."""
    sock.settimeout(timeout)
    sock.sendall(msg)
    got = b""
    while len(got) < len(msg):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def vm_kb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class Echoer(threading.Thread):
    """Echo round trips on one established kernel connection until stopped:
    latencies, and the first error if the connection breaks."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.stop_ev = threading.Event()
        self.lat = []
        self.error = None

    def run(self):
        i = 0
        while not self.stop_ev.is_set():
            msg = b"flood-echo %d " % i * 4
            t0 = time.monotonic()
            try:
                got = echo_roundtrip(self.sock, msg, timeout=5)
            except OSError as e:
                self.error = repr(e)
                return
            if got != msg:
                self.error = f"echoed {got!r} for {msg!r}"
                return
            self.lat.append(time.monotonic() - t0)
            i += 1
            time.sleep(0.005)

    def finish(self):
        self.stop_ev.set()
        self.join(10)
        return self


# ------------------------------------------------------------------ floods

def _fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def syn_frames(sender, n, dport, ports=FLOOD_PORTS, sources=(PEER_B_IP,), seed=1):
    """n SYN frames to dport from random ports in `ports` and random sources
    out of `sources`, random ISNs, MSS 1460: one scapy template patched by
    hand (ports, ISN, address, checksums), so 50,000 take well under a second."""
    rnd = random.Random(seed)
    tmpl = bytearray(bytes(sender.eth() / IP(src="0.0.0.0", dst=STACK_IP, id=0, ttl=64)
                           / TCP(sport=0, dport=dport, flags="S", seq=0, window=64240,
                                 options=[("MSS", 1460)])))
    tmpl[24:26] = b"\0\0"  # IP checksum
    tmpl[50:52] = b"\0\0"  # TCP checksum
    seg_len = len(tmpl) - 34
    ip_base = _fold(sum(struct.unpack("!10H", bytes(tmpl[14:34]))))
    tcp_base = _fold(sum(struct.unpack(f"!{seg_len // 2}H", bytes(tmpl[34:])))
                     + _fold(sum(struct.unpack("!2H", STACK_IP_BYTES))) + 6 + seg_len)
    srcs = [(socket.inet_aton(a), sum(struct.unpack("!2H", socket.inet_aton(a))))
            for a in sources]
    out = []
    for _ in range(n):
        sport = rnd.randint(ports[0], ports[1])
        seq = rnd.getrandbits(32)
        sb, ssum = srcs[rnd.randrange(len(srcs))]
        f = bytearray(tmpl)
        f[26:30] = sb
        f[24:26] = struct.pack("!H", ~_fold(ip_base + ssum) & 0xffff)
        f[34:36] = struct.pack("!H", sport)
        f[38:42] = struct.pack("!I", seq)
        c = _fold(tcp_base + ssum + sport + (seq >> 16) + (seq & 0xffff))
        f[50:52] = struct.pack("!H", ~c & 0xffff)
        out.append(bytes(f))
    return out
