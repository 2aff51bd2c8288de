# Helpers for the integration tests: a two-namespace veth topology, sockets
# opened inside a namespace, and a handle on a running xdpstack daemon.
"""Topology (one per test or module):

    ns A (xdpstack side)                  ns B (kernel peer)
    xa<tag>  172.17.0.1/24  <-- veth -->  xb<tag>  172.17.0.2/24
    xdpstack serves 172.17.0.253 on xa<tag>

Everything created here carries a unique tag (pid + random) and is removed at
teardown, even when the test failed; daemons are killed by their own PID.
"""

import ctypes
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

KERNEL_A_IP = "172.17.0.1"
PEER_B_IP = "172.17.0.2"
STACK_IP = "172.17.0.253"
PLEN = 24
UDP_ECHO_PORT = 8888

CLONE_NEWNET = 0x40000000
HOME_NETNS_INO = os.stat("/proc/self/ns/net").st_ino
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer",
                     "ERROR: ThreadSanitizer")


def build_dir():
    """Build directory from XS_BUILD (default `build`), relative to the repo."""
    return REPO / os.environ.get("XS_BUILD", "build")


def binary():
    return build_dir() / "xdpstack"


class CmdError(Exception):
    pass


def run(cmd, check=True, timeout=30, input=None, env=None):
    """Run a command, capture text output; raise CmdError with both streams."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           input=input, env=env)
    except subprocess.TimeoutExpired as e:
        raise CmdError(f"timeout after {timeout}s: {' '.join(map(str, cmd))}\n"
                       f"stdout: {e.stdout}\nstderr: {e.stderr}") from None
    if check and p.returncode != 0:
        raise CmdError(f"exit {p.returncode}: {' '.join(map(str, cmd))}\n"
                       f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def enable_ipv6(topo, addr_a, addr_b, plen=64):
    """IPv6 on both veth ends (the topology turns it off), no DAD and no RA
    by the kernels, addr_a in ns A and addr_b in ns B added nodad."""
    for ns, dev, ip in ((topo.ns_a, topo.dev_a, addr_a), (topo.ns_b, topo.dev_b, addr_b)):
        ns_run(ns, ["sysctl", "-qw", f"net.ipv6.conf.{dev}.accept_dad=0"])
        ns_run(ns, ["sysctl", "-qw", f"net.ipv6.conf.{dev}.accept_ra=0"])
        ns_run(ns, ["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=0"])
        run(["ip", "-n", ns, "addr", "add", f"{ip}/{plen}", "dev", dev, "nodad"])


def ns_run(ns, cmd, **kw):
    return run(["ip", "netns", "exec", ns] + [str(c) for c in cmd], **kw)


def ns_popen(ns, cmd, **kw):
    return subprocess.Popen(["ip", "netns", "exec", ns] + [str(c) for c in cmd], **kw)


# ---------------------------------------------------------------- namespaces

_libc = ctypes.CDLL(None, use_errno=True)


class netns_enter:
    """Context manager: the calling thread enters a named netns, then goes back.

    Sockets created inside stay in that namespace after leaving, so the test
    process can talk from ns B (or listen in ns A) without a subprocess."""

    def __init__(self, ns):
        self.ns = ns

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(f"/run/netns/{self.ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                e = ctypes.get_errno()
                raise OSError(e, f"setns({self.ns}): {os.strerror(e)}")
        except BaseException:
            os.close(self.home)
            raise
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        try:
            if _libc.setns(self.home, CLONE_NEWNET) != 0:
                e = ctypes.get_errno()
                # Staying in a test namespace would poison the whole run.
                os.write(2, f"cannot return to the original netns: "
                            f"{os.strerror(e)}\n".encode())
                os._exit(99)
        finally:
            os.close(self.home)
        return False


def socket_in(ns, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0):
    with netns_enter(ns):
        return socket.socket(family, type, proto)


def new_tag():
    return f"{os.getpid() % 100000}{random.randrange(16**4):04x}"


class Topology:
    """ns A + ns B joined by a veth pair; A holds 172.17.0.1, B 172.17.0.2."""

    def __init__(self, tag=None, queues=1):
        self.tag = tag or new_tag()
        # queues > 1: a multi-queue veth pair (numrxqueues/numtxqueues on both
        # ends; veth's native XDP needs as many rx queues as its peer has tx).
        self.queues = queues
        self.ns_a = f"xsA{self.tag}"
        self.ns_b = f"xsB{self.tag}"
        self.dev_a = f"xa{self.tag}"
        self.dev_b = f"xb{self.tag}"
        assert len(self.dev_a) <= 15 and len(self.dev_b) <= 15
        self.daemons = []
        self.procs = []
        self.created = False

    def create(self):
        self.created = True
        try:
            run(["ip", "netns", "add", self.ns_a])
            run(["ip", "netns", "add", self.ns_b])
            # Created straight inside the namespaces: nothing lands in the
            # root namespace even if a later step fails.
            qargs = []
            if self.queues > 1:
                qargs = ["numrxqueues", str(self.queues), "numtxqueues", str(self.queues)]
            run(["ip", "link", "add", self.dev_a, "netns", self.ns_a] + qargs + ["type", "veth",
                 "peer", "name", self.dev_b, "netns", self.ns_b] + qargs)
            for ns, dev, ip in ((self.ns_a, self.dev_a, KERNEL_A_IP),
                                (self.ns_b, self.dev_b, PEER_B_IP)):
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
                run(["ip", "-n", ns, "addr", "add", f"{ip}/{PLEN}", "dev", dev])
                # Neither side routes: nobody but xdpstack may answer for .253.
                ns_run(ns, ["sysctl", "-qw", "net.ipv4.ip_forward=0"])
                # No IPv6 chatter (RS, DAD, MLD) on the wire under test.
                ns_run(ns, ["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"],
                       check=False)
                ns_run(ns, ["ethtool", "-K", dev, "tx", "off", "tso", "off",
                            "gso", "off", "gro", "off"])
                run(["ip", "-n", ns, "link", "set", dev, "up"])
            self.wait_carrier()
        except BaseException:
            self.destroy()
            raise
        return self

    def wait_carrier(self, timeout=5):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if all("LOWER_UP" in self.link(ns, dev).get("flags", [])
                   for ns, dev in ((self.ns_a, self.dev_a), (self.ns_b, self.dev_b))):
                return
            time.sleep(0.05)
        raise CmdError("veth pair did not come up")

    def destroy(self):
        errors = []
        for d in self.daemons:
            try:
                d.kill()
            except Exception as e:  # keep tearing down
                errors.append(repr(e))
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    errors.append(f"pid {p.pid} did not die")
        if self.created:
            for ns in (self.ns_a, self.ns_b):
                if os.path.exists(f"/run/netns/{ns}"):
                    p = run(["ip", "netns", "del", ns], check=False)
                    if p.returncode != 0:
                        errors.append(p.stderr)
            # The veth pair dies with its namespaces; make sure of it.
            for dev in (self.dev_a, self.dev_b):
                if Path(f"/sys/class/net/{dev}").exists():
                    run(["ip", "link", "del", dev], check=False)
        self.created = False
        return errors

    # --- link state ---

    def link(self, ns, dev):
        p = run(["ip", "-n", ns, "-j", "-d", "link", "show", "dev", dev])
        return json.loads(p.stdout)[0]

    def mac(self, ns, dev):
        return self.link(ns, dev)["address"]

    @property
    def mac_a(self):
        return self.mac(self.ns_a, self.dev_a)

    @property
    def mac_b(self):
        return self.mac(self.ns_b, self.dev_b)

    def xdp_attached(self, ns=None, dev=None):
        """The `xdp` attribute of the link (dict) or None when nothing is attached."""
        info = self.link(ns or self.ns_a, dev or self.dev_a)
        return info.get("xdp")

    def offloads(self, ns, dev):
        p = ns_run(ns, ["ethtool", "-k", dev])
        out = {}
        for line in p.stdout.splitlines():
            m = re.match(r"^([\w-]+):\s+(on|off)", line)
            if m:
                out[m.group(1)] = m.group(2)
        return out

    # --- traffic helpers (all inside the namespaces) ---

    def ping(self, dst, ns=None, count=3, size=None, interval="0.2", wait=2,
             deadline=None, extra=(), timeout=60):
        cmd = ["ping", "-n", "-c", str(count), "-W", str(wait)]
        if interval:
            cmd += ["-i", interval]
        if size is not None:
            cmd += ["-s", str(size)]
        if deadline:
            cmd += ["-w", str(deadline)]
        cmd += list(extra) + [dst]
        return ns_run(ns or self.ns_b, cmd, check=False, timeout=timeout)

    def arping(self, dst, count=3, ns=None, dev=None, timeout=30):
        return ns_run(ns or self.ns_b,
                      ["arping", "-c", str(count), "-w", str(count + 2),
                       "-i", dev or self.dev_b, dst], check=False, timeout=timeout)

    def udp_echo(self, payload, dst=STACK_IP, port=UDP_ECHO_PORT, timeout=2.0):
        """Send one datagram from ns B; return (data, addr) or None on timeout."""
        s = socket_in(self.ns_b, socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.settimeout(timeout)
            s.bind((PEER_B_IP, 0))
            s.sendto(payload, (dst, port))
            try:
                return s.recvfrom(65535)
            except socket.timeout:
                return None
        finally:
            s.close()

    def raw_sender(self):
        """An AF_PACKET socket in ns B bound to xb<tag>, for hand-made frames."""
        s = socket_in(self.ns_b, socket.AF_PACKET, socket.SOCK_RAW, 0)
        s.bind((self.dev_b, 0))
        return s


def parse_ping(out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2))


# ------------------------------------------------------------------- daemon

def parse_counter_blocks(text):
    """All complete `counters:` ... `end` blocks in text, as dicts.

    A block is the daemon's grouped view: "layer:" header lines (skipped)
    and "name value" lines. Without -a it lists only non-zero counters, so
    a name missing from a block counted 0 (use .get(name, 0))."""
    blocks = []
    cur = None
    for line in text.splitlines():
        s = line.strip()
        if s == "counters:":
            cur = {}
            continue
        if cur is None:
            continue
        if s == "end":
            blocks.append(cur)
            cur = None
            continue
        parts = s.split()
        if len(parts) == 1 and s.endswith(":") and line.startswith(" "):
            continue  # a layer header ("tcp:", "drops:")
        if len(parts) == 2 and line.startswith(" ") and re.fullmatch(r"-?\d+", parts[1]):
            cur[parts[0]] = int(parts[1])
        else:
            cur = None  # not a counter line: the block is broken, drop it
    return blocks


class _Pump(threading.Thread):
    """Collects one output stream of the daemon so it never blocks on a pipe."""

    def __init__(self, stream, cond):
        super().__init__(daemon=True)
        self.stream = stream
        self.cond = cond
        self.chunks = []

    def run(self):
        for line in iter(self.stream.readline, b""):
            with self.cond:
                self.chunks.append(line.decode("utf-8", "replace"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def text(self):
        with self.cond:
            return "".join(self.chunks)


def busy_poll_args(args=()):
    """XS_BUSY_POLL=1 runs every daemon with --busy-poll (the default idle
    period), XS_BUSY_POLL=US with --busy-poll=US; unset, empty or 0: off.
    A daemon whose arguments already name --busy-poll keeps its own."""
    v = os.environ.get("XS_BUSY_POLL", "").strip()
    if v in ("", "0") or any(str(a).startswith("--busy-poll") for a in args):
        return []
    return ["--busy-poll"] if v == "1" else [f"--busy-poll={v}"]


class DaemonError(AssertionError):
    pass


class Daemon:
    """xdpstack running in ns A, with helpers for signals and its counters.

    Started with -a (unless all_counters=False) so that every counter block
    lists every counter, zeros included, as tests compare them by name."""

    def __init__(self, topo, args=None, ns=None, ip=STACK_IP, dev="default",
                 extra=(), env=None, all_counters=True):
        self.topo = topo
        self.ns = ns or topo.ns_a
        if args is None:
            args = ["--ip", ip]
            if dev == "default":
                dev = topo.dev_a
            if dev:
                args += ["--dev", dev]
            args += list(extra)
            if all_counters:
                args.append("-a")
        self.args = [str(a) for a in args]
        self.env = env
        self.proc = None
        self.result = None

    @property
    def cmd(self):
        return ["ip", "netns", "exec", self.ns, str(binary())] + self.args + busy_poll_args(self.args)

    def start(self, wait=True, timeout=None):
        if not binary().exists():
            raise DaemonError(f"{binary()} is not built (run make, or set XS_BUILD)")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        if self.env:
            env.update(self.env)
        self.cond = threading.Condition()
        # ip netns exec execs the binary: self.proc.pid is xdpstack's own PID.
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, start_new_session=True)
        self.topo.daemons.append(self)
        self.out = _Pump(self.proc.stdout, self.cond)
        self.err = _Pump(self.proc.stderr, self.cond)
        self.out.start()
        self.err.start()
        if wait:
            self.wait_serving(timeout)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stdout(self):
        return self.out.text()

    def stderr(self):
        return self.err.text()

    def wait_for(self, pred, timeout, what):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                if pred():
                    return
                if self.proc.poll() is not None and not self.out.is_alive():
                    if pred():
                        return
                    raise DaemonError(
                        f"xdpstack exited ({self.proc.returncode}) while waiting for {what}\n"
                        f"cmd: {' '.join(self.cmd)}\nstdout:\n{self.stdout()}\n"
                        f"stderr:\n{self.stderr()}")
                left = end - time.monotonic()
                if left <= 0:
                    raise DaemonError(
                        f"timeout ({timeout}s) waiting for {what}\ncmd: {' '.join(self.cmd)}\n"
                        f"stdout:\n{self.stdout()}\nstderr:\n{self.stderr()}")
                self.cond.wait(min(left, 0.2))

    def wait_serving(self, timeout=None):
        timeout = timeout or float(os.environ.get("XS_START_TIMEOUT", "15"))
        self.wait_for(lambda: "serving " in "".join(self.out.chunks), timeout,
                      "the `serving` line")
        line = next(l for l in self.stdout().splitlines() if "serving " in l)
        self.serving_line = line.strip()
        return self.serving_line

    def blocks(self):
        return parse_counter_blocks(self.stdout())

    def counters(self, timeout=5):
        """SIGUSR1, then the new (last complete) counter block."""
        before = len(self.blocks())
        self.proc.send_signal(signal.SIGUSR1)
        self.wait_for(lambda: len(parse_counter_blocks("".join(self.out.chunks))) > before,
                      timeout, "a counter block after SIGUSR1")
        return self.blocks()[-1]

    def wait_counter(self, base, name, delta=1, timeout=3):
        """Poll counters until counter `name` grew by >= delta over `base`."""
        end = time.monotonic() + timeout
        while True:
            c = self.counters()
            if c.get(name, 0) - base.get(name, 0) >= delta or time.monotonic() > end:
                return c
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signal, wait, return (exit code, stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            self.out.join(2)
            self.err.join(2)
            raise DaemonError(f"xdpstack did not exit within {timeout}s of {sig!r}\n"
                              f"stdout:\n{self.stdout()}\nstderr:\n{self.stderr()}")
        self.out.join(5)
        self.err.join(5)
        self.result = (self.proc.returncode, self.stdout(), self.stderr())
        return self.result

    def kill9(self):
        self.proc.kill()
        self.proc.wait(5)
        self.out.join(2)
        self.err.join(2)
        return self.proc.returncode

    def kill(self):
        """Teardown: make sure the process is gone (TERM, then KILL)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.stop(signal.SIGTERM, timeout=5)
        except DaemonError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def sanitizer_report(self):
        err = self.stderr()
        return err if any(m in err for m in SANITIZER_MARKERS) else None
