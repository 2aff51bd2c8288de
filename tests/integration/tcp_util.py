# Helpers for the TCP integration tests: transfer sizes scaled per build,
# streaming SHA-256 echo transfers, deadlines, nftables loss rules in a netns.
"""Shared by test_tcp.py and test_tcp_loss.py.

Sizes: `scaled(n)` divides a transfer size by the divisor from XS_TCP_SCALE
(default 1 for the optimised build, 16 when XS_BUILD names the sanitizer
build, e.g. `build-san`), so CI can run the suite on both builds in budget.

Data: `Pattern` is a deterministic, incompressible stream (a seeded random
block of an odd length, read cyclically), so nothing is held in memory but
one block; SHA-256 of what was sent and of what came back are compared.
"""

import contextlib
import hashlib
import json
import os
import random
import re
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time

import netns
from netns import STACK_IP

ECHO_PORT = 8888
DISCARD_PORT = 9
SOURCE_PORT = 19
MiB = 1 << 20
GiB = 1 << 30
CHUNK = 256 * 1024
# The source service sends '!' + i % 94 for byte i of a connection (printable
# ASCII 33..126), one unbroken sequence, written in place into its send ring.
SOURCE_ALPHABET = bytes(range(33, 127))
# The sequence from any phase: SOURCE_SEQ[i % 94:][:n] is bytes i .. i+n-1.
SOURCE_SEQ = bytes(SOURCE_ALPHABET[i % 94] for i in range(CHUNK + 94))


def _check_source(b, offset, sequence):
    """b, received at offset, is the source's: its alphabet, or (sequence)
    exactly the bytes '!' + i % 94 at those offsets."""
    if sequence:
        k = offset % 94
        if b != SOURCE_SEQ[k:k + len(b)]:
            i = next(j for j in range(len(b)) if b[j] != SOURCE_SEQ[k + j])
            raise AssertionError(f"source byte {offset + i} is {b[i:i + 1]!r}, want "
                                 f"{SOURCE_SEQ[k + i:k + i + 1]!r}: {b[i:i + 32]!r}")
    elif b.translate(None, SOURCE_ALPHABET):
        raise AssertionError(f"byte outside the source alphabet near offset "
                             f"{offset}: {b[:64]!r}")


def tcp_scale():
    """Divisor for transfer sizes: XS_TCP_SCALE, else 16 for a sanitizer build."""
    v = os.environ.get("XS_TCP_SCALE")
    if v:
        return max(1, int(v))
    return 16 if "san" in os.environ.get("XS_BUILD", "build") else 1


def scaled(n):
    return max(MiB, n // tcp_scale())


def is_san():
    return "san" in os.environ.get("XS_BUILD", "build")


class Timeout(AssertionError):
    pass


@contextlib.contextmanager
def deadline(seconds, what):
    """Fail (not hang) when the block takes longer than `seconds`: SIGALRM
    interrupts the main thread's blocking call and raises Timeout there."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def fire(signum, frame):
        raise Timeout(f"{what}: not done within {seconds:.0f}s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class Pattern:
    """A deterministic byte stream: block[(i) % len(block)] with an odd block
    length (1 MiB + 13), so equal segments are never a small distance apart."""

    def __init__(self, seed=1, period=MiB + 13):
        blk = random.Random(seed).randbytes(period)
        self.period = period
        self.buf = memoryview(blk + blk[:CHUNK])

    def chunks(self, total, chunk=CHUNK, start=0):
        """memoryview slices that together make bytes [start, start+total)."""
        pos = start
        end = start + total
        while pos < end:
            n = min(chunk, end - pos)
            off = pos % self.period
            yield self.buf[off:off + n]
            pos += n

    def digest(self, total, start=0):
        h = hashlib.sha256()
        for c in self.chunks(total, start=start):
            h.update(c)
        return h.hexdigest()


# ---------------------------------------------------------------- sockets

def connect(topo, port, ip=STACK_IP, timeout=5.0, ns=None):
    s = netns.socket_in(ns or topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((ip, port))
    except BaseException:
        s.close()
        raise
    return s


class Transfer:
    """Result of a streaming transfer."""

    def __init__(self):
        self.sent = 0
        self.received = 0
        self.sent_sha = hashlib.sha256()
        self.recv_sha = hashlib.sha256()
        self.eof = False
        self.error = None
        self.seconds = 0.0

    def mbps(self, nbytes=None):
        n = self.received if nbytes is None else nbytes
        return n / MiB / self.seconds if self.seconds else 0.0

    def __repr__(self):
        return (f"Transfer(sent={self.sent}, received={self.received}, eof={self.eof}, "
                f"error={self.error!r}, {self.seconds:.2f}s, {self.mbps():.1f} MiB/s)")


def _reader(s, t, limit, check_alphabet=False, check_sequence=False):
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    try:
        while limit is None or t.received < limit:
            want = CHUNK if limit is None else min(CHUNK, limit - t.received)
            n = s.recv_into(view[:want])
            if n == 0:
                t.eof = True
                return
            if check_alphabet or check_sequence:
                _check_source(bytes(view[:n]), t.received, check_sequence)
            t.recv_sha.update(view[:n])
            t.received += n
    except BaseException as e:  # reported by the caller
        t.error = e


def echo_transfer(s, total, pattern=None, timeout=60.0, shutdown=True, expect_eof=True):
    """Send `total` bytes of pattern on s while a thread reads the echo back;
    then shut down writing and (expect_eof) wait for the peer's FIN.
    Returns a Transfer; the caller compares sent_sha with recv_sha."""
    pattern = pattern or Pattern()
    t = Transfer()
    s.settimeout(timeout)
    rd = threading.Thread(target=_reader, args=(s, t, None if expect_eof else total),
                          daemon=True)
    t0 = time.monotonic()
    rd.start()
    with deadline(timeout, f"echo of {total} bytes"):
        try:
            for c in pattern.chunks(total):
                s.sendall(c)
                t.sent_sha.update(c)
                t.sent += len(c)
            if shutdown:
                s.shutdown(socket.SHUT_WR)
        except OSError as e:
            t.error = e
        rd.join(max(0.1, timeout - (time.monotonic() - t0)))
    t.seconds = time.monotonic() - t0
    if rd.is_alive():
        t.error = t.error or Timeout(f"reader still waiting after {t.seconds:.1f}s")
    return t


def send_all(s, total, pattern=None, timeout=60.0):
    """Send total bytes, shut down writing, wait for EOF (discard service)."""
    pattern = pattern or Pattern()
    t = Transfer()
    s.settimeout(timeout)
    t0 = time.monotonic()
    with deadline(timeout, f"send of {total} bytes"):
        for c in pattern.chunks(total):
            s.sendall(c)
            t.sent_sha.update(c)
            t.sent += len(c)
        s.shutdown(socket.SHUT_WR)
        _reader(s, t, None)
    t.seconds = time.monotonic() - t0
    return t


def recv_n(s, total, timeout=60.0, check_alphabet=False, check_sequence=False):
    """Read exactly total bytes (or until EOF/error) from s; from the source
    service, check its alphabet or its exact sequence."""
    t = Transfer()
    s.settimeout(timeout)
    t0 = time.monotonic()
    with deadline(timeout, f"receive of {total} bytes"):
        _reader(s, t, total, check_alphabet, check_sequence)
    t.seconds = time.monotonic() - t0
    return t


def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        c = s.recv(n - len(out))
        if not c:
            break
        out += c
    return bytes(out)


# ------------------------------------------------------------ nc (OpenBSD)

def nc_path():
    return shutil.which("nc") or ("/usr/bin/nc" if os.path.exists("/usr/bin/nc") else None)


def nc_is_openbsd():
    p = nc_path()
    if not p:
        return False
    r = subprocess.run([p, "-h"], capture_output=True, text=True)
    return "OpenBSD netcat" in r.stdout + r.stderr


def nc_echo(topo, total, pattern=None, port=ECHO_PORT, timeout=60.0, ip=STACK_IP):
    """Pipe total bytes through `nc -N` in ns B to the echo port; hash both
    sides. nc shuts down writing at stdin EOF and exits on the peer's FIN."""
    pattern = pattern or Pattern(seed=2)
    t = Transfer()
    p = netns.ns_popen(topo.ns_b, [nc_path(), "-N", "-w", "10", ip, port],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    topo.procs.append(p)
    rd = threading.Thread(target=_pipe_reader, args=(p.stdout, t), daemon=True)
    t0 = time.monotonic()
    rd.start()
    try:
        with deadline(timeout, f"nc echo of {total} bytes"):
            try:
                for c in pattern.chunks(total):
                    p.stdin.write(c)
                    t.sent_sha.update(c)
                    t.sent += len(c)
                p.stdin.close()
            except BrokenPipeError as e:
                t.error = e
            rd.join(max(0.1, timeout - (time.monotonic() - t0)))
            rc = p.wait(max(0.1, timeout - (time.monotonic() - t0)))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    t.seconds = time.monotonic() - t0
    t.eof = not rd.is_alive()
    t.rc = rc
    t.stderr = p.stderr.read().decode(errors="replace")
    return t


def _pipe_reader(f, t, limit=None, check_alphabet=False, check_sequence=False):
    try:
        while limit is None or t.received < limit:
            want = CHUNK if limit is None else min(CHUNK, limit - t.received)
            b = f.read1(want)
            if not b:
                t.eof = True
                return
            if check_alphabet or check_sequence:
                _check_source(b, t.received, check_sequence)
            t.recv_sha.update(b)
            t.received += len(b)
    except BaseException as e:
        t.error = e


# --------------------------------------------------------------- daemon

def ctl_bin():
    return netns.build_dir() / "xdpstack-ctl"


def ctl_has(cmd):
    """True when xdpstack-ctl exists and its --help lists `cmd`."""
    if not ctl_bin().exists():
        return False
    r = subprocess.run([str(ctl_bin()), "--help"], capture_output=True, text=True)
    return re.search(rf"^\s+{re.escape(cmd)}\b", r.stdout + r.stderr, re.M) is not None


def ctl(path, *args, timeout=10):
    return netns.run([str(ctl_bin()), "--ctl", str(path)] + [str(a) for a in args],
                     check=False, timeout=timeout)


def finish(d, timeout=20):
    """Stop the daemon with SIGTERM; it must exit 0 without sanitizer reports."""
    rc, out, err = d.stop(timeout=timeout)
    rep = d.sanitizer_report()
    assert rep is None, f"sanitizer report:\n{rep}"
    assert rc == 0, f"xdpstack exited {rc}\nstdout tail:\n{out[-2000:]}\nstderr:\n{err[-4000:]}"
    blocks = netns.parse_counter_blocks(out)
    return blocks[-1] if blocks else {}


def conns(path):
    """The stack's TCP connections (listeners left out) from `xdpstack-ctl
    --json conns`, or None when this xdpstack-ctl has no conns command."""
    if not ctl_has("conns"):
        return None
    p = ctl(path, "--json", "conns")
    assert p.returncode == 0, f"xdpstack-ctl conns: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    doc = json.loads(p.stdout)
    return [c for c in doc["connections"] if c["state"] != "LISTEN"]


def wait_no_conns(path, timeout=15.0):
    """Poll conns until the stack holds no connection; returns what is left
    at the deadline ([] when it emptied), or None without a conns command."""
    end = time.monotonic() + timeout
    while True:
        left = conns(path)
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.25)


def daemon_state(d):
    """For failure messages: whether the daemon still runs, else how it died."""
    rc = d.proc.poll()
    if rc is None:
        return "xdpstack is still running"
    err = d.stderr()
    return f"xdpstack DIED (exit {rc}{' = SIGSEGV' if rc == -11 else ''}); stderr tail:\n{err[-3000:]}"


def delta(after, before, name):
    return after.get(name, 0) - before.get(name, 0)


def quiescent(d, names=("tcp_tx", "tcp_rx"), settle=1.5, timeout=15.0):
    """Wait until the named counters stop moving for `settle` seconds; returns
    the last counter block, or raises when they are still moving at timeout."""
    end = time.monotonic() + timeout
    prev = d.counters()
    while True:
        time.sleep(settle)
        cur = d.counters()
        if all(cur.get(n) == prev.get(n) for n in names):
            return cur
        if time.monotonic() > end:
            raise AssertionError(
                "daemon still sending/receiving TCP while nothing should be open: "
                + ", ".join(f"{n} {prev.get(n)} -> {cur.get(n)}" for n in names))
        prev = cur


# ------------------------------------------------------------- concurrency

def concurrent_echo(topo, n, payload_for, port=ECHO_PORT, ip=STACK_IP, timeout=60.0):
    """Open n connections at once from ns B (non-blocking, one selector), send
    payload_for(i) on each, read the whole echo, close. Returns (ok, failures)."""
    sel = selectors.DefaultSelector()
    state = {}
    failures = []
    ok = 0
    for i in range(n):
        s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((ip, port))
        if err not in (0, 115):  # EINPROGRESS
            failures.append((i, f"connect_ex {os.strerror(err)}"))
            s.close()
            continue
        p = payload_for(i)
        state[s] = {"i": i, "out": memoryview(p), "want": p, "got": bytearray(),
                    "connected": False}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    end = time.monotonic() + timeout
    while state and time.monotonic() < end:
        for key, ev in sel.select(timeout=1.0):
            s = key.fileobj
            st = state[s]
            try:
                if not st["connected"]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, os.strerror(err))
                    st["connected"] = True
                if ev & selectors.EVENT_WRITE and st["out"]:
                    k = s.send(st["out"])
                    st["out"] = st["out"][k:]
                    if not st["out"]:
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ)
                if ev & selectors.EVENT_READ:
                    b = s.recv(65536)
                    if b:
                        st["got"] += b
                    else:
                        if bytes(st["got"]) == st["want"]:
                            ok += 1
                        else:
                            failures.append((st["i"], f"echo mismatch: {len(st['got'])} of "
                                                      f"{len(st['want'])} bytes"))
                        sel.unregister(s)
                        s.close()
                        del state[s]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                failures.append((st["i"], repr(e)))
                sel.unregister(s)
                s.close()
                del state[s]
    for s, st in state.items():
        failures.append((st["i"], f"unfinished after {timeout}s: sent "
                                  f"{len(st['want']) - len(st['out'])}, got {len(st['got'])}"))
        sel.unregister(s)
        s.close()
    sel.close()
    return ok, failures


# ---------------------------------------------------------------- nftables

def nft_available():
    return shutil.which("nft") is not None


def nft(ns, script):
    """Load an nft script in ns (raises CmdError with nft's message)."""
    return netns.ns_run(ns, ["nft", "-f", "-"], input=script)


BLACKHOLE = "xsblk"


def prepare_peer(topo):
    """Once per topology, in ns B: one frame per skb on xb (gso_max_segs 1),
    so the hooks below see frames, not GSO super-packets of ~5 frames; and a
    black hole for stolen frames (a veth whose peer is down)."""
    netns.run(["ip", "-n", topo.ns_b, "link", "set", topo.dev_b, "gso_max_segs", "1"])
    netns.run(["ip", "-n", topo.ns_b, "link", "add", BLACKHOLE, "type", "veth",
               "peer", "name", BLACKHOLE + "p"])
    netns.run(["ip", "-n", topo.ns_b, "link", "set", BLACKHOLE, "up"])


def loss_rules(dev, peer_ip, pct_out, pct_in, table="xsloss"):
    """A netdev table on dev (ns B) losing pct% of TCP frames each way.

    Kernel -> peer: the frame is stolen in the egress hook (`fwd to` the black
    hole), so the sending kernel believes it left, as on a lossy wire. A plain
    `drop` in the output or egress hook is not loss: the kernel sees the local
    transmit fail and sends the same segment again later, never counting a
    retransmission (measured: 125 drops, 0 TcpRetransSegs).
    Peer -> kernel: dropped in the ingress hook (input would do as well)."""
    out = (f"ip daddr {peer_ip} meta l4proto tcp numgen random mod 100 < {pct_out} "
           f"counter fwd to \"{BLACKHOLE}\"" if pct_out else "")
    inp = (f"ip saddr {peer_ip} meta l4proto tcp numgen random mod 100 < {pct_in} "
           f"counter drop" if pct_in else "")
    return f"""table netdev {table} {{
  chain eg {{ type filter hook egress device "{dev}" priority 0; policy accept;
    {out}
  }}
  chain ing {{ type filter hook ingress device "{dev}" priority 0; policy accept;
    {inp}
  }}
}}
"""


def dup_rules(dev, peer_ip, own_ip, pct, table="xsdup"):
    """Duplicate pct% of TCP frames in each direction, seen from ns B:
    kernel -> peer: `dup to PEER` in the ip output hook (nft_dup_ipv4, the
    nft form of iptables' TEE) sends a second copy to the peer's MAC;
    peer -> kernel: `dup to OWN_IP` in ip prerouting for frames arriving on
    dev hands the local stack a second copy (looped back through lo)."""
    return f"""table ip {table} {{
  chain out {{ type filter hook output priority 0; policy accept;
    ip daddr {peer_ip} meta l4proto tcp numgen random mod 100 < {pct} counter dup to {peer_ip}
  }}
  chain pre {{ type filter hook prerouting priority 0; policy accept;
    iifname "{dev}" ip saddr {peer_ip} meta l4proto tcp numgen random mod 100 < {pct} counter dup to {own_ip}
  }}
}}
"""


def nft_counters(ns, table, family="netdev"):
    """Packets counted by each rule of table (list of (chain, packets))."""
    p = netns.ns_run(ns, ["nft", "list", "table", family, table])
    out = []
    chain = None
    for line in p.stdout.splitlines():
        m = re.match(r"\s*chain (\S+)", line)
        if m:
            chain = m.group(1)
        m = re.search(r"counter packets (\d+)", line)
        if m:
            out.append((chain, int(m.group(1))))
    return out


class KernelServer:
    """A kernel TCP server (Python threads) on ip:port in namespace ns doing
    what the daemon's services do (echo, discard, source): the baseline the
    stack is compared with under the same nft rules."""

    def __init__(self, ns, ip, kind="echo", port=0):
        self.kind = kind
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        self.sock = netns.socket_in(ns, family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=getattr(self, "_" + self.kind), args=(c,),
                             daemon=True).start()

    @staticmethod
    def _echo(c):
        buf = bytearray(CHUNK)
        c.settimeout(600)
        with c:
            try:
                while True:
                    n = c.recv_into(buf)
                    if not n:
                        c.shutdown(socket.SHUT_WR)
                        return
                    c.sendall(memoryview(buf)[:n])
            except OSError:
                return

    @staticmethod
    def _discard(c):
        buf = bytearray(CHUNK)
        c.settimeout(600)
        with c:
            try:
                while c.recv_into(buf):
                    pass
                c.shutdown(socket.SHUT_WR)
            except OSError:
                return

    @staticmethod
    def _source(c):
        buf = bytes(SOURCE_ALPHABET[i % 94] for i in range(CHUNK))
        c.settimeout(600)
        with c:
            try:
                while True:
                    c.sendall(buf)
            except OSError:
                return

    def close(self):
        self.sock.close()
