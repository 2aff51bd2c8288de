#!/usr/bin/python3
# Soak run: the sanitizer build of the daemon under mixed load from the kernel
# peer for N seconds; checks RSS stays flat, every frame comes home, counters add up.
"""Usage (as root): scripts/soak.py [--seconds N] [--build build-san] [--json FILE]
(`make soak SOAK_SECONDS=N`). Exit 0 when every check held, 1 when one failed;
without root or AF_XDP it says SKIPPED and exits 0. The last line is
`soak: N passed, N failed` (one check = the whole run).

Topology: netns.Topology (ns A: the daemon on xa<tag>, ns B: the kernel peer
on xb<tag>), unique names, removed at the end whatever happens.

Load, all from ns B at once, each loop bounded in time (the run's end) and
each operation by its own timeout:
  echo        TCP echo (8888) of 64 KiB-1 MiB, SHA-256 of both directions
  discard     bulk to discard (9), 1-4 MiB, then FIN and wait for the peer's
  source      bulk from source (19), 1-4 MiB, every byte in the alphabet
  short       short connections to echo: 1-300 bytes, byte-exact; every 4th
              one closed by RST (SO_LINGER 0) before reading the echo
  udp         UDP echo (8888), 1-4000 bytes (fragmented both ways past 1472)
  ping        ping -s 4000 (3 fragments each way) and plain pings
  victim      one long-lived echo connection, a round trip every second; the
              hostile loop aims at its exact sequence space (below)
  weather     nftables on xb cycles clean / 3% loss / 3% duplication /
              both (tcp_util.loss_rules, dup_rules: TCP frames only)
  hostile     at most HOSTILE_RATE frames/s: bad flag combinations and
              malformed options to the echo port, RSTs and data outside the
              victim's window, in-window RSTs and SYNs (challenge ACKs), ACKs
              of unsent data, TCP with bad checksums, random TCP headers,
              UDP with bad checksums or lengths, lone/overlapping fragments,
              random IPv4 headers to the stack, random garbage frames

Checks:
  * RSS (VmRSS every SAMPLE_S seconds): after the warm-up (first 25% of the
    run) the median of the last quarter may exceed the median of the second
    quarter by at most RSS_SLACK_MIB; the least-squares slope over the
    samples after warm-up is reported (MiB/hour).
    ASan's quarantine of freed memory is bounded (quarantine_size_mb=32) so
    that it fills during the warm-up and RSS shows the stack, not the cache.
  * Every live sample: the counter identities below, and the UMEM frames
    (stats --json "frames") all accounted, none borrowed between batches.
  * At the end, once traffic stopped: xdp_redirected = rx_frames +
    xsk_rx_dropped + xsk_rx_ring_full (every frame the program redirected
    reached the stack or is counted by the socket as dropped).
  * With native XDP on the veth (its ethtool -S counters), once traffic
    stopped: I6 veth rx_queue_0_xdp_redirect = rx_frames, and I7 veth
    rx_queue_0_xdp_packets = xdp_redirected + xdp_passed (the program saw
    every frame the veth received; frames the veth itself dropped, xb's
    tx_dropped, never reached it and are reported).
  * SIGTERM: exit 0, no sanitizer report, `frames at exit ... lost 0`.
  * Every loop made progress and no byte-exact check failed. Timeouts and
    resets of a transfer count as failures too: under 3% loss nothing
    should time out.

Counter identities (exact at any moment between batches; the stack counts in
one thread, the control socket answers between batches):
  I1 rx_frames = drop_eth_{short,vlan,dst,type} + ARP in + IPv4 in, where
     ARP in  = arp_rx_request + arp_rx_reply + drop_arp_{short,format,op}
     IPv4 in = ip_rx + drop_ip_{short,version,hdr_len,total_len,csum}
  I2 ip_rx - drop_ip_dst - drop_ip_src - ip_frag_rx + ip_reassembled
     = ICMP in + UDP in + TCP in + drop_ip_proto, where
     ICMP in = icmp_rx + drop_icmp_{short,csum}
     UDP in  = udp_rx + drop_udp_{short,len,csum}
     TCP in  = tcp_rx + drop_tcp_{short,hdr_len,csum}
  I3 icmp_rx = icmp_echo_rx + icmp_echo_reply_rx + icmp_err_rx + drop_icmp_type
  I4 ip_reassembled <= ip_frag_rx
"""

import argparse
import json
import os
import random
import signal
import socket
import statistics
import struct
import sys
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

SAMPLE_S = 2.0
RSS_SLACK_MIB = 10.0
HOSTILE_RATE = 40  # frames a second, at most
ECHO_PORT, DISCARD_PORT, SOURCE_PORT, UDP_PORT = 8888, 9, 19, 8888
KiB, MiB = 1024, 1 << 20


def log(msg):
    print(f"soak: {msg}", flush=True)


# ------------------------------------------------------------------ results

class Kind:
    """What one kind of load did: operations ok, failed, bytes; first errors."""

    def __init__(self, name):
        self.name = name
        self.ok = 0
        self.failed = 0
        self.soft = 0  # expected misses (a UDP datagram or ping not answered)
        self.bytes = 0
        self.errors = []
        self.lock = threading.Lock()

    def good(self, nbytes=0):
        with self.lock:
            self.ok += 1
            self.bytes += nbytes

    def bad(self, why):
        with self.lock:
            self.failed += 1
            if len(self.errors) < 5:
                self.errors.append(f"{time.strftime('%H:%M:%S')} {why}")

    def miss(self):
        with self.lock:
            self.soft += 1

    def doc(self):
        return {"ok": self.ok, "failed": self.failed, "missed": self.soft,
                "bytes": self.bytes, "errors": self.errors}


# ------------------------------------------------------------------ frames

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip_hdr(src, dst, proto, plen, ident=0, frag=0, ttl=64, ihl=5, opts=b""):
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(opts) + plen, ident, frag, ttl,
                    proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def l4_csum(src, dst, proto, seg):
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto,
                                                                         len(seg))
    return csum(pseudo + seg)


def tcp_seg(src, dst, sport, dport, seq, ack, flags, window=65535, options=b"", payload=b"",
            doff=None, good_csum=True):
    if doff is None:
        doff = (20 + len(options)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      (doff & 0xf) << 4, flags, window, 0, 0) + options + payload
    c = l4_csum(src, dst, 6, seg)
    if not good_csum:
        c ^= 0x5a5a
    return seg[:16] + struct.pack("!H", c) + seg[18:]


class Hostile:
    """Hand-made frames from ns B at a bounded rate (one AF_PACKET socket)."""

    F = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16, "U": 32, "E": 64, "C": 128}

    def __init__(self, topo, kind, victim, rng):
        import netns
        self.netns = netns
        self.sock = topo.raw_sender()
        self.eth = bytes.fromhex(topo.mac_a.replace(":", "")) + \
            bytes.fromhex(topo.mac_b.replace(":", "")) + b"\x08\x00"
        self.kind = kind
        self.victim = victim
        self.rng = rng
        self.src, self.dst = netns.PEER_B_IP, netns.STACK_IP
        self.sent = {}

    def send(self, what, frame):
        try:
            self.sock.send(frame)
        except OSError as e:
            self.kind.bad(f"{what}: send: {e}")
            return
        self.sent[what] = self.sent.get(what, 0) + 1
        self.kind.good(len(frame))

    def tcp(self, what, seg, **ip):
        self.send(what, self.eth + ip_hdr(self.src, self.dst, 6, len(seg), **ip) + seg)

    def sport(self):
        return self.rng.randrange(40000, 50000)

    def one(self):
        r = self.rng
        F = self.F
        k = r.randrange(14)
        if k == 0:
            flags = r.choice([F["S"] | F["F"], F["S"] | F["R"], 0, 0xff, F["F"] | F["P"] | F["U"],
                              F["S"] | F["F"] | F["R"] | F["P"], F["A"] | F["S"] | F["F"]])
            self.tcp("bad_flags", tcp_seg(self.src, self.dst, self.sport(), ECHO_PORT,
                                          r.getrandbits(32), r.getrandbits(32), flags))
        elif k == 1:
            # Option lengths that lie: 0, 1, past the header, truncated MSS/WS/SACK/TS.
            opts = r.choice([b"\x02\x00\x05\xb4", b"\x02\x01\x05\xb4", b"\x03\x09\x07\x00",
                             b"\x08\x0a\x00\x00", b"\x05\x03\x00\x00", b"\x02\x04\x00\x00",
                             bytes(r.randrange(256) for _ in range(4 * r.randrange(1, 11)))])
            opts += b"\x00" * (-len(opts) % 4)
            self.tcp("bad_options", tcp_seg(self.src, self.dst, self.sport(), ECHO_PORT,
                                            r.getrandbits(32), 0, F["S"], options=opts))
        elif k == 2:
            doff = r.choice([0, 1, 4, 15])
            self.tcp("bad_doff", tcp_seg(self.src, self.dst, self.sport(), ECHO_PORT,
                                         r.getrandbits(32), 0, F["S"], doff=doff))
        elif k == 3:
            self.tcp("bad_tcp_csum", tcp_seg(self.src, self.dst, self.sport(), ECHO_PORT,
                                             r.getrandbits(32), 0, F["S"], good_csum=False))
        elif k == 4:
            seg = bytearray(r.randbytes(20 + r.randrange(40)))
            seg[12] = (seg[12] & 0x0f) | (5 << 4)
            seg[16:18] = b"\0\0"
            c = l4_csum(self.src, self.dst, 6, bytes(seg))
            seg[16:18] = struct.pack("!H", c)
            self.tcp("random_tcp", bytes(seg))
        elif k in (5, 6, 7, 8, 9):
            self.at_victim(k)
        elif k == 10:
            body = b"\0\0\0\0" + r.randbytes(r.randrange(40))
            length = r.choice([len(body) + 8 + 50, 3, len(body) + 8])
            good = length != len(body) + 8 or r.random() < 0.5
            udp = struct.pack("!HHHH", self.sport(), r.choice([UDP_PORT, 7, 4444]), length,
                              0x1234 if good else 0xdead) + body
            self.send("bad_udp", self.eth + ip_hdr(self.src, self.dst, 17, len(udp)) + udp)
        elif k == 11:
            ident = r.getrandbits(16)
            data = r.randbytes(64)
            choice = r.randrange(3)
            if choice == 0:    # a lone middle fragment: waits, then times out
                frags = [(data, 0x2000 | 8)]
            elif choice == 1:  # two overlapping fragments
                frags = [(data, 0x2000), (data, 4)]
            else:              # a first fragment too small for the TCP header
                frags = [(data[:8], 0x2000), (data, 1)]
            for d, frag in frags:
                self.send("bad_fragments", self.eth + ip_hdr(self.src, self.dst, 6, len(d),
                                                             ident=ident, frag=frag) + d)
        elif k == 12:
            # Random IPv4 header to the stack (the program steers it: our dst).
            h = bytearray(r.randbytes(20))
            h[0] = r.choice([0x45, 0x46, 0x44, 0x65, 0x4f, r.randrange(256)])
            h[16:20] = socket.inet_aton(self.dst)
            self.send("random_ipv4", self.eth + bytes(h) + r.randbytes(r.randrange(64)))
        else:
            # Garbage: a random frame to our MAC (most go to the kernel).
            self.send("garbage", self.eth[:12] + r.randbytes(2 + r.randrange(100)))

    def at_victim(self, k):
        """Segments aimed at the victim connection, placed by its exact
        sequence state (never at rcv_nxt exactly, never inside the window
        with data, so the connection must survive all of them)."""
        v = self.victim
        with v.lock:
            if not v.ready:
                return
            F, r = self.F, self.rng
            rcv, snd = v.stack_rcv_nxt, v.stack_snd_nxt
            far = r.randrange(1 << 20, 1 << 31)
            if k == 5:
                what, seq, ack, fl, data = "rst_out_of_window", rcv + far, 0, F["R"], b""
            elif k == 6:
                what, seq, ack, fl, data = ("rst_in_window", rcv + r.randrange(1, 4096), 0,
                                            F["R"], b"")
            elif k == 7:
                what, seq, ack, fl, data = ("data_out_of_window", rcv + far, snd,
                                            F["A"] | F["P"], r.randbytes(100))
            elif k == 8:
                what, seq, ack, fl, data = ("ack_unsent", rcv, snd + far, F["A"], b"")
            else:
                what, seq, ack, fl, data = ("syn_established", rcv + r.randrange(-10, 10), 0,
                                            F["S"], b"")
            self.tcp(what, tcp_seg(self.src, self.dst, v.sport, ECHO_PORT, seq, ack, fl,
                                   payload=data))

    def close(self):
        self.sock.close()


# ------------------------------------------------------------------ soak

class Soak:
    def __init__(self, seconds, build, seed):
        os.environ["XS_BUILD"] = build
        import netns
        import tcp_util as U
        self.netns, self.U = netns, U
        self.seconds = seconds
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.kinds = {n: Kind(n) for n in ("echo", "discard", "source", "short", "udp", "ping",
                                           "ping_frag", "victim", "hostile")}
        self.samples = []  # (t, rss_kib, stats doc)
        self.failures = []
        self.phase = "clean"
        self.phases = {}
        self.lock = threading.Lock()
        self.victim = None
        self.threads = []

    def fail(self, msg):
        with self.lock:
            if len(self.failures) < 50:
                self.failures.append(msg)

    # --- workers ---------------------------------------------------------

    def loop(self, name, body):
        def run():
            rng = random.Random(self.rng.getrandbits(64))
            while not self.stop.is_set():
                try:
                    body(rng)
                except Exception as e:  # one operation failed; the loop goes on
                    self.kinds[name].bad(f"{type(e).__name__}: {e}")
                    self.stop.wait(0.5)
        t = threading.Thread(target=run, name=name, daemon=True)
        self.threads.append(t)
        t.start()

    def connect(self, port, timeout=30.0):
        return self.U.connect(self.topo, port, timeout=timeout)

    def op_echo(self, rng):
        U = self.U
        n = rng.randrange(64 * KiB, 1 * MiB)
        s = self.connect(ECHO_PORT)
        try:
            t = U.echo_transfer(s, n, U.Pattern(seed=rng.randrange(1000)), timeout=180)
        finally:
            s.close()
        if t.error or t.sent != n or t.received != n or \
                t.sent_sha.digest() != t.recv_sha.digest():
            self.kinds["echo"].bad(repr(t))
        else:
            self.kinds["echo"].good(2 * n)

    def op_discard(self, rng):
        U = self.U
        n = rng.randrange(1 * MiB, 4 * MiB)
        s = self.connect(DISCARD_PORT)
        try:
            t = U.send_all(s, n, U.Pattern(seed=3), timeout=180)
        finally:
            s.close()
        if t.error or t.sent != n or not t.eof or t.received:
            self.kinds["discard"].bad(repr(t))
        else:
            self.kinds["discard"].good(n)

    def op_source(self, rng):
        U = self.U
        n = rng.randrange(1 * MiB, 4 * MiB)
        s = self.connect(SOURCE_PORT)
        try:
            t = U.recv_n(s, n, timeout=180, check_alphabet=True)
        finally:
            s.close()  # unread data: the kernel resets, the source must cope
        if t.error or t.received != n:
            self.kinds["source"].bad(repr(t))
        else:
            self.kinds["source"].good(n)

    def op_short(self, rng):
        msg = rng.randbytes(rng.randrange(1, 300))
        s = self.connect(ECHO_PORT)
        try:
            s.settimeout(30)
            s.sendall(msg)
            if rng.randrange(4) == 0:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.kinds["short"].good(len(msg))
                return  # closed by RST with the echo in flight
            s.shutdown(socket.SHUT_WR)
            got = bytearray()
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
        finally:
            s.close()
        if bytes(got) != msg:
            self.kinds["short"].bad(f"echo of {len(msg)} bytes came back as {len(got)}")
        else:
            self.kinds["short"].good(len(msg))

    def op_udp(self, rng):
        s = self.netns.socket_in(self.topo.ns_b, socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.settimeout(1.0)
            s.bind((self.netns.PEER_B_IP, 0))
            for _ in range(20):
                if self.stop.is_set():
                    break
                msg = rng.randbytes(rng.choice([rng.randrange(1, 1473),
                                                rng.randrange(1473, 4001)]))
                s.sendto(msg, (self.netns.STACK_IP, UDP_PORT))
                try:
                    while True:
                        got, _ = s.recvfrom(65535)
                        if got == msg:
                            self.kinds["udp"].good(len(msg))
                            break
                        # A late answer to an earlier datagram: skip it, but it
                        # must be one we sent (byte-exact) - we cannot tell
                        # which, so only its length is checked.
                        if not 1 <= len(got) <= 4000:
                            self.kinds["udp"].bad(f"reply of {len(got)} bytes")
                            break
                except socket.timeout:
                    self.kinds["udp"].miss()
                self.stop.wait(0.02)
        finally:
            s.close()

    def op_ping(self, rng, size, kind):
        p = self.topo.ping(self.netns.STACK_IP, count=10, size=size, interval="0.2", wait=2,
                           timeout=60)
        r = self.netns.parse_ping(p.stdout)
        if r is None:
            self.kinds[kind].bad(f"ping output: {p.stdout[-200:]} {p.stderr[-200:]}")
            return
        tx, rx = r
        with self.kinds[kind].lock:
            self.kinds[kind].ok += rx
            self.kinds[kind].soft += tx - rx
            self.kinds[kind].bytes += rx * size

    def op_victim(self, rng):
        v = self.victim
        msg = rng.randbytes(rng.randrange(1, 1000))
        with v.lock:
            v.sock.sendall(msg)
            got = self.U.recv_exact(v.sock, len(msg))
            v.stack_rcv_nxt = (v.stack_rcv_nxt + len(msg)) & 0xffffffff
            v.stack_snd_nxt = (v.stack_snd_nxt + len(got)) & 0xffffffff
        if got != msg:
            v.ready = False
            self.kinds["victim"].bad(f"victim echo: {len(got)} of {len(msg)} bytes, "
                                     f"equal={got == msg}")
            self.stop.wait(5)
        else:
            self.kinds["victim"].good(len(msg))
        self.stop.wait(1.0)

    def open_victim(self):
        """One kernel connection to the echo port whose sequence numbers we
        learn from the stack's SYN-ACK (an AF_PACKET socket in ns B sees it;
        bound to IPv4 it sees incoming frames only, which is all we need)."""
        netns = self.netns
        v = type("Victim", (), {})()
        v.lock = threading.Lock()
        v.ready = False
        cap = netns.socket_in(self.topo.ns_b, socket.AF_PACKET, socket.SOCK_RAW,
                              socket.htons(0x0800))
        cap.bind((self.topo.dev_b, 0x0800))
        cap.settimeout(0.2)
        v.sock = self.connect(ECHO_PORT)
        v.sock.settimeout(60)
        v.sport = v.sock.getsockname()[1]
        end = time.monotonic() + 5
        synack = None
        while time.monotonic() < end and synack is None:
            try:
                b = cap.recv(2048)
            except socket.timeout:
                continue
            if len(b) < 54 or b[23] != 6:
                continue
            l4 = 14 + (b[14] & 0x0f) * 4
            sp, dp, seq, ack, _, fl = struct.unpack("!HHIIBB", b[l4:l4 + 14])
            if sp == ECHO_PORT and dp == v.sport and fl & 0x12 == 0x12:
                synack = (seq, ack)
        cap.close()
        if synack is None:
            raise RuntimeError("did not see the victim's SYN-ACK")
        # The SYN-ACK acknowledges the kernel's ISN + 1: the stack's rcv_nxt.
        v.stack_snd_nxt = (synack[0] + 1) & 0xffffffff
        v.stack_rcv_nxt = synack[1]
        v.ready = True
        self.victim = v

    def weather(self):
        """nftables on xb: clean, loss, dup, both; PHASE seconds each, in turn."""
        U, topo = self.U, self.topo
        phase_s = max(5.0, min(60.0, self.seconds / 8))
        order = [("clean", 0, 0), ("loss3", 3, 0), ("dup3", 0, 3), ("loss3+dup3", 3, 3)]
        i = 0
        while not self.stop.is_set():
            name, loss, dup = order[i % len(order)]
            self.clear_weather()
            if loss:
                U.nft(topo.ns_b, U.loss_rules(topo.dev_b, self.netns.STACK_IP, loss, loss))
            if dup:
                U.nft(topo.ns_b, U.dup_rules(topo.dev_b, self.netns.STACK_IP,
                                             self.netns.PEER_B_IP, dup))
            self.phase = name
            self.phases[name] = self.phases.get(name, 0) + 1
            self.stop.wait(phase_s)
            i += 1
        self.clear_weather()

    def clear_weather(self):
        for fam, table in (("netdev", "xsloss"), ("ip", "xsdup")):
            self.netns.ns_run(self.topo.ns_b, ["nft", "delete", "table", fam, table],
                              check=False)

    def hostile(self):
        h = Hostile(self.topo, self.kinds["hostile"], self.victim,
                    random.Random(self.rng.getrandbits(64)))
        try:
            while not self.stop.is_set():
                t0 = time.monotonic()
                for _ in range(HOSTILE_RATE // 10):
                    h.one()
                self.stop.wait(max(0.0, 0.1 - (time.monotonic() - t0)))
        finally:
            self.hostile_sent = dict(h.sent)
            h.close()

    # --- sampling and checks ---------------------------------------------

    def stats(self):
        p = self.U.ctl(self.ctl_path, "--json", "stats", timeout=20)
        if p.returncode != 0:
            raise RuntimeError(f"xdpstack-ctl stats: exit {p.returncode}: {p.stderr.strip()}")
        return json.loads(p.stdout)

    @staticmethod
    def flat(doc):
        c = dict(doc["counters"])
        for k, v in doc["drops"].items():
            c[f"drop_{k}"] = v["count"]
        for k, v in (doc.get("xdp") or {}).items():
            c[k if k.startswith("xsk_") else f"xdp_{k}"] = v
        return c

    @staticmethod
    def identities(c):
        """(name, left, right) of every identity the counters satisfy."""
        g = lambda *names: sum(c.get(n, 0) for n in names)  # noqa: E731
        arp_in = g("arp_rx_request", "arp_rx_reply", "drop_arp_short", "drop_arp_format",
                   "drop_arp_op")
        ip_in = g("ip_rx", "drop_ip_short", "drop_ip_version", "drop_ip_hdr_len",
                  "drop_ip_total_len", "drop_ip_csum")
        eth = g("drop_eth_short", "drop_eth_vlan", "drop_eth_dst", "drop_eth_type")
        l4 = (c["ip_rx"] - g("drop_ip_dst", "drop_ip_src", "ip_frag_rx") +
              c["ip_reassembled"])
        icmp_in = g("icmp_rx", "drop_icmp_short", "drop_icmp_csum")
        udp_in = g("udp_rx", "drop_udp_short", "drop_udp_len", "drop_udp_csum")
        tcp_in = g("tcp_rx", "drop_tcp_short", "drop_tcp_hdr_len", "drop_tcp_csum")
        return [
            ("I1 rx_frames = eth drops + ARP in + IPv4 in", c["rx_frames"], eth + arp_in + ip_in),
            ("I2 IPv4 to transports = ICMP in + UDP in + TCP in + drop_ip_proto", l4,
             icmp_in + udp_in + tcp_in + c.get("drop_ip_proto", 0)),
            ("I3 icmp_rx = echo + echo reply + errors + drop_icmp_type", c["icmp_rx"],
             g("icmp_echo_rx", "icmp_echo_reply_rx", "icmp_err_rx", "drop_icmp_type")),
            ("I4 ip_reassembled <= ip_frag_rx", min(c["ip_reassembled"], c["ip_frag_rx"]),
             c["ip_reassembled"]),
        ]

    def check_sample(self, t, doc):
        c = self.flat(doc)
        for name, left, right in self.identities(c):
            if left != right:
                self.fail(f"t={t:.0f}s {name}: {left} != {right}")
        f = doc.get("frames")
        if f:
            home = f["free"] + f["fill"] + f["tx_queued"] + f["in_flight"]
            if f["rx_borrowed"] or f["tx_borrowed"] or f["misuse"] or home != f["total"]:
                self.fail(f"t={t:.0f}s UMEM frames not all accounted between batches: {f}")

    def sampler(self):
        next_t = 0.0
        while not self.stop.is_set():
            t = time.monotonic() - self.t0
            try:
                rss = self.rss_kib(self.d.pid)
                doc = self.stats()
            except Exception as e:
                if not self.d.running():
                    self.fail(f"t={t:.0f}s the daemon died: {self.U.daemon_state(self.d)}")
                    self.stop.set()
                    return
                self.fail(f"t={t:.0f}s sampling: {e}")
                self.stop.wait(SAMPLE_S)
                continue
            self.samples.append((t, rss, doc))
            self.check_sample(t, doc)
            if t >= next_t:
                self.progress(t, rss)
                next_t = t + max(10.0, self.seconds / 30)
            self.stop.wait(max(0.0, SAMPLE_S - (time.monotonic() - self.t0 - t)))

    @staticmethod
    def rss_kib(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def progress(self, t, rss):
        k = self.kinds
        log(f"t={t:5.0f}/{self.seconds}s rss={rss / 1024:6.1f}MiB phase={self.phase:<10} "
            f"echo={k['echo'].ok} discard={k['discard'].ok} source={k['source'].ok} "
            f"short={k['short'].ok} udp={k['udp'].ok}/{k['udp'].ok + k['udp'].soft} "
            f"ping={k['ping'].ok + k['ping_frag'].ok} victim={k['victim'].ok} "
            f"hostile={k['hostile'].ok} failed={sum(x.failed for x in k.values())}")

    def rss_verdict(self):
        """Median RSS of the last quarter vs the second quarter (after warm-up)."""
        s = [(t, kib / 1024) for t, kib, _ in self.samples]
        T = self.seconds
        q2 = [m for t, m in s if T * 0.25 <= t < T * 0.5]
        q4 = [m for t, m in s if t >= T * 0.75]
        after = [(t, m) for t, m in s if t >= T * 0.25]
        out = {"samples": len(s), "first_mib": s[0][1] if s else None,
               "peak_mib": max(m for _, m in s) if s else None}
        if len(q2) < 2 or len(q4) < 2:
            self.fail(f"too few RSS samples ({len(q2)} in the 2nd quarter, {len(q4)} in the 4th)")
            return out
        out["q2_median_mib"] = statistics.median(q2)
        out["q4_median_mib"] = statistics.median(q4)
        out["growth_mib"] = out["q4_median_mib"] - out["q2_median_mib"]
        if len(after) >= 3:
            n = len(after)
            mt = sum(t for t, _ in after) / n
            mm = sum(m for _, m in after) / n
            den = sum((t - mt) ** 2 for t, _ in after)
            out["slope_mib_per_hour"] = (sum((t - mt) * (m - mm) for t, m in after) / den * 3600
                                         if den else 0.0)
        # A coarse curve for the report: the median of each tenth of the run.
        out["curve_mib"] = []
        for i in range(10):
            part = [m for t, m in s if T * i / 10 <= t < T * (i + 1) / 10]
            out["curve_mib"].append(round(statistics.median(part), 1) if part else None)
        if out["growth_mib"] > RSS_SLACK_MIB:
            self.fail(f"RSS grew after warm-up: last-quarter median {out['q4_median_mib']:.1f} "
                      f"MiB > second-quarter median {out['q2_median_mib']:.1f} MiB + "
                      f"{RSS_SLACK_MIB} MiB")
        return out

    def veth_stats(self):
        """ethtool -S of both veth ends and their rx/tx drop counts: frames the
        veth itself dropped (its XDP ring full) never reached the program."""
        out = {}
        for side, ns, dev in (("a", self.topo.ns_a, self.topo.dev_a),
                              ("b", self.topo.ns_b, self.topo.dev_b)):
            st = {}
            p = self.netns.ns_run(ns, ["ethtool", "-S", dev], check=False)
            for line in p.stdout.splitlines():
                k, _, v = line.strip().partition(": ")
                if v.strip().isdigit():
                    st[k] = int(v)
            link = self.topo.link(ns, dev)
            p = self.netns.ns_run(ns, ["ip", "-s", "-j", "link", "show", dev], check=False)
            try:
                s64 = json.loads(p.stdout)[0]["stats64"]
                st.update({"rx_packets": s64["rx"]["packets"], "rx_dropped": s64["rx"]["dropped"],
                           "tx_packets": s64["tx"]["packets"], "tx_dropped": s64["tx"]["dropped"]})
            except (ValueError, KeyError, IndexError):
                pass
            st["xdp_mode"] = (link.get("xdp") or {}).get("mode")
            out[side] = st
        return out

    def quiesce(self, timeout=60.0):
        """Waits until rx_frames and tx_frames stop moving; returns the doc."""
        end = time.monotonic() + timeout
        prev = self.stats()
        while True:
            time.sleep(1.5)
            cur = self.stats()
            a, b = self.flat(prev), self.flat(cur)
            if all(a[k] == b[k] for k in ("rx_frames", "tx_frames", "xdp_redirected")):
                return cur
            if time.monotonic() > end:
                self.fail("traffic still moving 60 s after the load stopped: " +
                          ", ".join(f"{k} {a[k]}->{b[k]}" for k in ("rx_frames", "tx_frames")))
                return cur
            prev = cur

    # --- the run -----------------------------------------------------------

    def run(self, json_out=None):
        netns, U = self.netns, self.U
        self.topo = topo = netns.Topology()
        result = {"seconds": self.seconds}
        try:
            topo.create()
            netns.ns_run(topo.ns_b, ["sysctl", "-qw", "net.ipv4.ip_local_port_range=50000 60999"])
            # Frames are what the nft rules see (one frame per skb) + black hole.
            U.prepare_peer(topo)
            # B's kernel never ARPs for the stack mid-run (no probe in a counter window).
            self.d = d = netns.Daemon(topo, env={
                "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1:quarantine_size_mb=32"})
            d.start()
            self.ctl_path = f"/run/xdpstack/{topo.dev_a}.sock"
            p = topo.ping(netns.STACK_IP, count=2)
            if netns.parse_ping(p.stdout) != (2, 2):
                raise RuntimeError(f"no ping through the fresh daemon: {p.stdout}")
            self.open_victim()
            log(f"daemon pid {d.pid} ({netns.binary()}), {self.seconds}s of load, "
                f"namespaces {topo.ns_a}/{topo.ns_b}")
            self.t0 = time.monotonic()
            self.stop_at = self.t0 + self.seconds
            threading.Thread(target=self.sampler, daemon=True, name="sampler").start()
            wt = threading.Thread(target=self.weather, daemon=True, name="weather")
            wt.start()
            ht = threading.Thread(target=self.hostile, daemon=True, name="hostile")
            ht.start()
            self.loop("echo", self.op_echo)
            self.loop("echo", self.op_echo)
            self.loop("discard", self.op_discard)
            self.loop("source", self.op_source)
            self.loop("short", self.op_short)
            self.loop("short", self.op_short)
            self.loop("udp", self.op_udp)
            self.loop("ping_frag", lambda r: self.op_ping(r, 4000, "ping_frag"))
            self.loop("ping", lambda r: self.op_ping(r, 56, "ping"))
            self.loop("victim", self.op_victim)
            try:
                while time.monotonic() < self.stop_at and not self.stop.is_set():
                    time.sleep(0.5)
                    if not d.running():
                        self.fail(f"the daemon died: {U.daemon_state(d)}")
                        break
            except KeyboardInterrupt:
                # Stop early but in order: the checks and the summary still run.
                self.fail(f"interrupted at t={time.monotonic() - self.t0:.0f}s")
            self.stop.set()
            log("load stopped; waiting for the loops to finish")
            for t in self.threads + [wt, ht]:
                t.join(240)
                if t.is_alive():
                    self.fail(f"loop {t.name} did not stop within 240 s")
            self.clear_weather()
            if d.running():
                # The victim must have survived every hostile segment.
                try:
                    with self.victim.lock:
                        msg = b"victim still here"
                        self.victim.sock.sendall(msg)
                        if U.recv_exact(self.victim.sock, len(msg)) != msg:
                            self.fail("the victim connection no longer echoes")
                except OSError as e:
                    self.fail(f"the victim connection broke: {e!r}")
                self.victim.sock.close()
                end_doc = self.quiesce()
                c = self.flat(end_doc)
                self.check_sample(time.monotonic() - self.t0, end_doc)
                lost = c["xdp_redirected"] - c["rx_frames"] - c.get("xsk_rx_dropped", 0) - \
                    c.get("xsk_rx_ring_full", 0)
                if lost:
                    self.fail(f"I5 xdp_redirected {c['xdp_redirected']} != rx_frames "
                              f"{c['rx_frames']} + xsk_rx_dropped {c.get('xsk_rx_dropped')} + "
                              f"xsk_rx_ring_full {c.get('xsk_rx_ring_full')} (off by {lost})")
                result["live_counters"] = c
                result["veth"] = v = self.veth_stats()
                # The kernel's own count of frames its XDP hook redirected
                # successfully (native XDP on veth; 0 in generic mode).
                kr = v["a"].get("rx_queue_0_xdp_redirect", 0)
                if kr and kr != c["rx_frames"]:
                    self.fail(f"I6 veth rx_queue_0_xdp_redirect {kr} != rx_frames "
                              f"{c['rx_frames']}")
                kp = v["a"].get("rx_queue_0_xdp_packets", 0)
                if kp and kp != c["xdp_redirected"] + c["xdp_passed"]:
                    self.fail(f"I7 veth rx_queue_0_xdp_packets {kp} != xdp_redirected "
                              f"{c['xdp_redirected']} + xdp_passed {c['xdp_passed']}")
                result["frames_live"] = end_doc.get("frames")
            result["rss"] = self.rss_verdict()
            rc, out, err = d.stop(timeout=60)
            rep = d.sanitizer_report()
            if rep:
                self.fail(f"sanitizer report:\n{rep[-4000:]}")
            if rc != 0:
                self.fail(f"xdpstack exited {rc} after SIGTERM; stderr:\n{err[-3000:]}")
            fl = [line for line in out.splitlines() if "frames at exit" in line]
            if not fl:
                self.fail("no `frames at exit` line from the daemon")
            elif not fl[-1].rstrip().endswith(" lost 0"):
                self.fail(f"UMEM frames lost: {fl[-1]}")
            result["frames_at_exit"] = fl[-1] if fl else None
            blocks = netns.parse_counter_blocks(out)
            if blocks:
                final = blocks[-1]
                result["final_counters"] = final
                for name, left, right in self.identities(final):
                    if left != right:
                        self.fail(f"final {name}: {left} != {right}")
            else:
                self.fail("no counter block at exit")
        except Exception:
            self.fail("soak aborted:\n" + traceback.format_exc())
        finally:
            self.stop.set()
            errs = topo.destroy()
            if errs:
                self.fail(f"teardown: {errs}")
        for k in self.kinds.values():
            if k.failed:
                self.fail(f"{k.name}: {k.failed} failed operations, first: {k.errors}")
            if not k.ok:
                self.fail(f"{k.name}: not one operation succeeded")
        result["kinds"] = {n: k.doc() for n, k in self.kinds.items()}
        result["hostile_sent"] = getattr(self, "hostile_sent", {})
        result["phases"] = self.phases
        result["failures"] = self.failures
        if json_out:
            Path(json_out).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        self.report(result)
        return not self.failures

    def report(self, r):
        log("---- summary")
        rss = r.get("rss", {})
        if rss.get("q2_median_mib") is not None:
            log(f"RSS: first {rss['first_mib']:.1f} MiB, peak {rss['peak_mib']:.1f} MiB, "
                f"2nd-quarter median {rss['q2_median_mib']:.1f}, last-quarter median "
                f"{rss['q4_median_mib']:.1f} (growth {rss['growth_mib']:+.1f} MiB, "
                f"slope {rss.get('slope_mib_per_hour', 0):+.1f} MiB/h), "
                f"curve {rss['curve_mib']}")
        for n, k in r["kinds"].items():
            log(f"{n:<10} ok {k['ok']:>8}  failed {k['failed']:>4}  missed {k['missed']:>5}  "
                f"{k['bytes'] / MiB:10.1f} MiB")
        log(f"hostile frames by kind: {r['hostile_sent']}")
        log(f"weather phases: {r['phases']}")
        for side, st in (r.get("veth") or {}).items():
            log(f"veth {side}: " + ", ".join(f"{k} {v}" for k, v in st.items() if v))
        if r.get("frames_at_exit"):
            log(r["frames_at_exit"].replace("xdpstack: ", ""))
        fc = r.get("final_counters") or {}
        nz = {k: v for k, v in fc.items() if v}
        log(f"final counters (non-zero): {nz}")
        for f in r["failures"]:
            log(f"FAILED: {f}")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "1800")))
    ap.add_argument("--build", default=os.environ.get("XS_BUILD", "build-san"))
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.seconds < 20:
        print("soak: --seconds must be at least 20 (the RSS check needs quarters of "
              "several samples)", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        log("SKIPPED: needs root (network namespaces, XDP, AF_XDP)")
        log("0 passed, 0 failed, 1 skipped")
        return 0
    if not (REPO / a.build / "xdpstack").exists():
        print(f"soak: {a.build}/xdpstack is not built (make SAN=1)", file=sys.stderr)
        return 2
    # AF_XDP available at all? (conftest's check, same answer as the tests)
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    os.environ["XS_BUILD"] = a.build
    import conftest
    why = conftest._check_env()
    if why:
        log(f"SKIPPED: {why}")
        log("0 passed, 0 failed, 1 skipped")
        return 0
    signal.signal(signal.SIGTERM, _interrupt)  # make's ^C or a kill: still tear down
    ok = Soak(a.seconds, a.build, a.seed).run(a.json)
    log("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
