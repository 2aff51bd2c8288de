#!/usr/bin/python3
# Benchmarks xdpstack beside the Linux kernel on one veth pair, in one run:
# every workload against both, repeated, medians with min-max, JSON, docs, plots.
"""make bench [QUICK=1]  (as root)

Topology (unique names, always removed):

    ns A: veth a, 172.17.0.1/24 (the kernel's services) + xdpstack on 172.17.0.253
    ns B: veth b, 172.17.0.2/24 and 172.17.0.10-13 (clients)

Offloads are off on both veths. The same client aims at 172.17.0.253 (xdpstack) and at
172.17.0.1 (the kernel) on the same interface. Kernel-side peers: udp_bench server (UDP echo),
xs_echod (TCP echo), iperf3 -s, sockperf sr (UDP and TCP), nginx (one worker, the same
static file as the daemon's --http serves; the same files over TLS as its --https, when
openssl can make the certificates of tests/tcp/tls_certs.sh). The daemon runs with --iperf3
and, when it has them, --sockperf, --http and --https; TCP echo is its default service on 8888.
"""

import argparse
import datetime
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import (STACKS, commit, machine, markdown, plots,  # noqa: E402
                          write_docs)

REPO = Path(__file__).resolve().parents[1]
KERNEL_IP = "172.17.0.1"
PEER_IP = "172.17.0.2"
STACK_IP = "172.17.0.253"
SRC_IPS = ["172.17.0.10", "172.17.0.11", "172.17.0.12", "172.17.0.13"]
ECHO_PORT = 8888
IPERF_PORT = 5201
SOCKPERF_PORT = 11111
HTTP_PORT = 8080
HTTP_FILE = "bench-4k.html"   # what wrk fetches from both servers (4 KiB)
FLOOD_PORT = 9
HTTPS_PORT = 8443
HTTPS_FILE = "kib.bin"        # what the HTTPS rows fetch (1 KiB)
TARGET = {"xdpstack": STACK_IP, "kernel": KERNEL_IP}
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer")


class Unavailable(Exception):
    """A row that cannot run here (its tool is missing): reported, never faked."""


class BadArgument(Exception):
    """A command-line value that names nothing: one line, exit 2."""


class Failed(Exception):
    """A run that failed: the row reports why."""


# ------------------------------------------------------------------ helpers

def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, timeout=120, check=True):
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failed(f"timed out after {timeout} s: {' '.join(map(str, cmd))}") from e
    if check and p.returncode != 0:
        raise Failed(f"exit {p.returncode}: {' '.join(map(str, cmd))}: "
                     f"{(p.stderr or p.stdout).strip()[-400:]}")
    return p


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(q / 100.0 * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


def summarize(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def proc_rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cpu_s(pid):
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def meminfo_kib(key):
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


class Progress:
    """One line on stderr: workload, repetition, elapsed (\\r-updated on a terminal)."""

    def __init__(self, total):
        self.t0 = time.monotonic()
        self.total = total
        self.step = 0
        self.tty = sys.stderr.isatty()
        self.line = ""
        self.last_detail = 0.0

    def elapsed(self):
        s = int(time.monotonic() - self.t0)
        return f"{s // 60}m{s % 60:02d}s"

    def show(self, what, rep, reps, stack):
        self.step += 1
        self.line = f"bench: [{self.step}/{self.total}] {what}, repetition {rep}/{reps}, {stack}"
        line = f"{self.line}, elapsed {self.elapsed()}"
        if self.tty:
            sys.stderr.write("\r\033[K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def detail(self, what):
        """The same line with what a long run is doing now (off a terminal:
        one line every 5 s at most)."""
        if not self.tty and time.monotonic() - self.last_detail < 5:
            return
        self.last_detail = time.monotonic()
        line = f"{self.line}, elapsed {self.elapsed()}: {what}"
        sys.stderr.write(("\r\033[K" + line) if self.tty else line + "\n")
        sys.stderr.flush()

    def done(self):
        if self.tty:
            sys.stderr.write("\n")
        log(f"done in {self.elapsed()}")


# ----------------------------------------------------------------- topology

class Topology:
    """Two namespaces and a veth pair, unique names, removed in close();
    queues > 1: that many rx and tx queues on both ends."""

    def __init__(self, queues=1):
        tag = f"{os.getpid() % 100000:05d}{random.randrange(1 << 16):04x}"
        self.na, self.nb = f"xsbench-{tag}-a", f"xsbench-{tag}-b"
        self.va, self.vb = f"xbA{tag}"[:15], f"xbB{tag}"[:15]
        self.queues = queues
        self.procs = []
        self.created = []

    def ns(self, which, cmd):
        return ["ip", "netns", "exec", self.na if which == "a" else self.nb] + \
            [str(c) for c in cmd]

    def up(self):
        for n in (self.na, self.nb):
            run(["ip", "netns", "add", n])
            self.created.append(n)
        q = ["numrxqueues", self.queues, "numtxqueues", self.queues] if self.queues > 1 else []
        run(["ip", "link", "add", self.va] + q + ["type", "veth", "peer", "name", self.vb] + q)
        run(["ip", "link", "set", self.va, "netns", self.na])
        run(["ip", "link", "set", self.vb, "netns", self.nb])
        run(["ip", "-n", self.na, "addr", "add", f"{KERNEL_IP}/24", "dev", self.va])
        run(["ip", "-n", self.nb, "addr", "add", f"{PEER_IP}/24", "dev", self.vb])
        for ip in SRC_IPS:
            run(["ip", "-n", self.nb, "addr", "add", f"{ip}/24", "dev", self.vb])
        for n in (self.na, self.nb):
            run(["ip", "-n", n, "link", "set", "lo", "up"])
        run(["ip", "-n", self.na, "link", "set", self.va, "up"])
        run(["ip", "-n", self.nb, "link", "set", self.vb, "up"])
        for which, dev in (("a", self.va), ("b", self.vb)):
            run(self.ns(which, ["ethtool", "-K", dev, "tx", "off", "tso", "off", "gso", "off",
                                "gro", "off"]), check=False)
        # Clients open many connections: the widest port range, TIME-WAIT reuse.
        run(self.ns("b", ["sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535",
                          "net.ipv4.tcp_tw_reuse=1"]), check=False)
        run(self.ns("a", ["sysctl", "-qw", "net.core.somaxconn=65535",
                          "net.ipv4.tcp_max_syn_backlog=65535"]), check=False)

    def spawn(self, which, cmd, stdout=None, stderr=None):
        p = subprocess.Popen(self.ns(which, cmd), stdout=stdout or subprocess.DEVNULL,
                             stderr=stderr or subprocess.DEVNULL, text=True)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=5):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def close(self):
        for p in list(self.procs):
            self.stop(p)
        for n in self.created:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        self.created = []


# ---------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args):
        self.a = args
        self.build = (REPO / args.build).resolve() if not Path(args.build).is_absolute() \
            else Path(args.build)
        self.quick = args.quick
        self.reps = args.reps or (1 if self.quick else 3)
        self.topo = Topology()
        self.tmp = Path(tempfile.mkdtemp(prefix="xsbench-"))
        self.daemon = None
        self.echod = None
        self.daemon_out = None
        self.ndaemons = 0
        self.problems = []   # the daemons' own: exited, sanitizer reports
        self.ctl = None
        self.has = {}
        self.notes = []
        self.cdf = {}     # plot id -> stack -> sorted latencies (us), last repetition
        self.sz = self.sizes()
        self.mq_envs = {}  # queues -> (Topology, daemon): the multi-queue rows' own pairs
        self.stacks = [s for s in STACKS if s in (args.stacks or ",".join(STACKS)).split(",")]

    def sizes(self):
        q = self.quick
        return {
            "ping_count": 300 if q else 2000,
            "sp_time": 1 if q else 3,
            "udp_count": {64: 40000 if q else 200000, 1400: 30000 if q else 100000},
            "iperf_time": 1 if q else 4,
            "conn_time": 1 if q else 3,
            "idle": self.a.idle or ([2000] if q else [10000, 100000]),
            "sb_bytes": (128 << 20) if q else (1 << 30),
            "sb_txn": 20000 if q else 100000,
            "sb_conns": 5000 if q else 50000,
            "mq_rounds": 5000 if q else 20000,
            "mq_conn_time": 1 if q else 3,
            "wrk_time": 2 if q else 5,
            "flood_time": 2 if q else 5,
            "https_time": 2 if q else 5,
        }

    def tool(self, name):
        p = self.build / name
        return p if p.exists() and os.access(p, os.X_OK) else None

    # --- setup -----------------------------------------------------------
    def detect(self):
        helptext = run([self.build / "xdpstack", "--help"], check=False)
        h = helptext.stdout + helptext.stderr
        self.has["daemon_sockperf"] = "--sockperf" in h
        self.has["daemon_iperf3"] = "--iperf3" in h
        self.has["daemon_http"] = "--http" in h
        self.has["daemon_https"] = "--https" in h
        for t in ("sockperf", "iperf3", "ping", "perf", "wrk", "nginx", "openssl"):
            self.has[t] = shutil.which(t) is not None
        for t in ("udp_bench", "xs_loadgen", "xs_echod", "stack_bench", "xdpstack-ctl",
                  "xs_flood"):
            self.has[t] = self.tool(t) is not None

    def start(self):
        self.topo.up()
        # Both sides hold up to 100k connections: raise the descriptor limit
        # for the children (root may, up to fs.nr_open).
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        try:
            nr_open = int(Path("/proc/sys/fs/nr_open").read_text())
            lim = min(nr_open, 1 << 20)
            resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
        except (OSError, ValueError):
            # Not allowed above the hard limit here: more processes instead.
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64
        self.ctl = f"/run/xdpstack/{self.topo.va}.sock"
        cmd = [self.build / "xdpstack", "--ip", STACK_IP, "--dev", self.topo.va,
               "--ctl", self.ctl]
        if self.has["daemon_iperf3"]:
            cmd.append("--iperf3")
        if self.has["daemon_sockperf"]:
            cmd.append("--sockperf")
        self.www = self.tmp / "www"
        self.www.mkdir()
        (self.www / HTTP_FILE).write_bytes(bytes(ord("a") + i % 26 for i in range(4096)))
        (self.www / HTTPS_FILE).write_bytes(os.urandom(1024))
        if self.has["daemon_http"]:
            cmd += ["--http", HTTP_PORT, "--root", self.www]
        if self.has["daemon_https"] and self.tls_files():
            if not self.has["daemon_http"]:
                cmd += ["--root", self.www]
            cmd += ["--https", HTTPS_PORT, "--cert", self.certs / "server.pem",
                    "--key", self.certs / "server.key"]
        cmd += self.a.daemon_arg or []
        self.daemon_cmd = cmd
        self.start_daemon()
        # The kernel's peers, on its own address on the same interface.
        if self.has["udp_bench"]:
            self.topo.spawn("a", [self.build / "udp_bench", "server", KERNEL_IP, ECHO_PORT,
                                  3600])
        if self.has["xs_echod"]:
            self.start_echod()
        if self.has["iperf3"]:
            self.topo.spawn("a", ["iperf3", "-s", "-B", KERNEL_IP, "-p", IPERF_PORT])
        if self.has["sockperf"]:
            self.topo.spawn("a", ["sockperf", "sr", "-i", KERNEL_IP, "-p", SOCKPERF_PORT])
            self.topo.spawn("a", ["sockperf", "sr", "-i", KERNEL_IP, "-p", SOCKPERF_PORT,
                                  "--tcp"])
        if self.has["nginx"]:
            self.start_nginx()
        time.sleep(0.5)
        for ip in (STACK_IP, KERNEL_IP):
            run(self.topo.ns("b", ["ping", "-c", 3, "-i", 0.2, "-q", ip]))

    def start_daemon(self):
        """xdpstack on the veth, its output in a log of its own (daemon-N.log)."""
        self.ndaemons += 1
        self.daemon_out = self.tmp / f"daemon-{self.ndaemons}.log"
        out = open(self.daemon_out, "w")
        self.daemon = self.topo.spawn("a", self.daemon_cmd, stdout=out,
                                      stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while "serving" not in self.daemon_out.read_text():
            if self.daemon.poll() is not None or time.monotonic() - t0 > 10:
                raise Failed("xdpstack did not start: "
                             + self.daemon_out.read_text().strip()[-400:])
            time.sleep(0.1)

    def stop_daemon(self):
        """Stops the daemon; a problem (it had exited, a sanitizer report) is
        kept for the end of the run."""
        if self.daemon is None:
            return
        if self.daemon.poll() is not None:
            self.problems.append(f"xdpstack exited during the run (status "
                                 f"{self.daemon.returncode})")
        self.topo.stop(self.daemon, signal.SIGTERM, wait=10)
        out = self.daemon_out.read_text(errors="replace")
        self.daemon = None
        for marker in SANITIZER_MARKERS:
            if marker in out:
                i = out.index(marker)
                self.problems.append("sanitizer report from xdpstack:\n"
                                     + out[max(0, i - 200):i + 3000])
                break

    def fresh_daemon(self):
        """A new xdpstack in place of the running one (the idle rows: each hold
        measures from a daemon that has held nothing yet)."""
        self.stop_daemon()
        self.start_daemon()

    def start_echod(self):
        # Enough processes for the largest hold within the descriptor limit.
        procs = max(2, min(16, math.ceil(max(self.sz["idle"]) * 1.1 / self.fd_limit)))
        self.echod = self.topo.spawn("a", [self.build / "xs_echod", "--port", ECHO_PORT,
                                           "--addr", KERNEL_IP, "--duration", 3600,
                                           "--procs", procs, "--backlog", 4096])

    def fresh_echod(self):
        """A new xs_echod in place of the running one, listening before it returns."""
        self.topo.stop(self.echod, signal.SIGTERM, wait=10)
        self.start_echod()
        t0 = time.monotonic()
        while run(self.topo.ns("b", ["nc", "-z", "-w1", KERNEL_IP, ECHO_PORT]),
                  check=False).returncode:
            if self.echod.poll() is not None or time.monotonic() - t0 > 10:
                raise Failed("xs_echod did not start again")
            time.sleep(0.1)

    def tls_files(self):
        """The certificates (tests/tcp/tls_certs.sh), made once; False when openssl is
        missing."""
        if not self.has["openssl"]:
            return False
        if not getattr(self, "certs", None):
            self.certs = self.tmp / "certs"
            run(["sh", REPO / "tests/tcp/tls_certs.sh", self.certs])
        return True

    def close(self):
        """Removes everything; returns a problem with the daemon, or None."""
        for nq, (topo, daemon, logf) in self.mq_envs.items():
            if daemon.poll() is not None:
                self.problems.append(f"xdpstack --queues {nq} exited during the run")
            topo.stop(daemon, signal.SIGTERM, wait=10)
            out = logf.read_text(errors="replace")
            for marker in SANITIZER_MARKERS:
                if marker in out:
                    self.problems.append("sanitizer report from xdpstack --queues %d:\n%s"
                                         % (nq, out[-3000:]))
                    break
            topo.close()
        self.mq_envs = {}
        self.stop_daemon()
        self.topo.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return "\n".join(self.problems) or None

    def start_nginx(self):
        """Debian's nginx on the kernel's address: one worker (the daemon is one
        thread), no access log, keep-alive, sendfile, the same file. Everything it
        writes stays in the bench's temporary directory. With certificates it also
        serves the same files over TLS 1.2 and 1.3 (the HTTPS rows)."""
        d = self.tmp / "nginx"
        d.mkdir()
        conf = d / "nginx.conf"
        tls = ""
        self.nginx_tls = self.tls_files()
        if self.nginx_tls:
            tls = f"""    server {{
        listen {KERNEL_IP}:{HTTPS_PORT} ssl backlog=4096;
        ssl_certificate {self.certs}/server.pem;
        ssl_certificate_key {self.certs}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        root {self.www};
    }}
"""
        conf.write_text(f"""daemon off;
master_process off;
worker_processes 1;
user root;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    types {{ text/html html; }}
    server {{
        listen {KERNEL_IP}:{HTTP_PORT} backlog=4096;
        root {self.www};
    }}
{tls}}}
""")
        self.nginx = self.topo.spawn("a", ["nginx", "-e", d / "error.log", "-p", d, "-c", conf])
        t0 = time.monotonic()
        while run(self.topo.ns("b", ["nc", "-z", "-w1", KERNEL_IP, HTTP_PORT]),
                  check=False).returncode:
            if self.nginx.poll() is not None or time.monotonic() - t0 > 10:
                err = (d / "error.log").read_text(errors="replace") \
                    if (d / "error.log").exists() else ""
                self.notes.append(f"nginx did not start: {err.strip()[-300:]}")
                self.has["nginx"] = False
                return
            time.sleep(0.1)

    # --- workloads: each returns {metric: value} for one stack, one run ----
    def w_ping(self, stack, size):
        if not self.has["ping"]:
            raise Unavailable("ping not installed")
        p = run(self.topo.ns("b", ["ping", "-c", self.sz["ping_count"], "-i", 0.001, "-s", size,
                                   "-W", 1, TARGET[stack]]), timeout=120, check=False)
        rtts = sorted(float(m) * 1000 for m in re.findall(r"time=([0-9.]+) ms", p.stdout))
        if len(rtts) < self.sz["ping_count"] // 2:
            raise Failed(f"only {len(rtts)} of {self.sz['ping_count']} echoes answered")
        return {"p50": percentile(rtts, 50), "p99": percentile(rtts, 99)}

    def w_sockperf(self, stack, size, tcp, plot_id):
        if not self.has["sockperf"]:
            raise Unavailable("sockperf not installed")
        if stack == "xdpstack" and not self.has["daemon_sockperf"]:
            raise Unavailable("this xdpstack has no --sockperf (not merged yet)")
        log_path = self.tmp / f"sp-{plot_id}-{stack}.csv"
        cmd = ["sockperf", "ping-pong", "-i", TARGET[stack], "-p", SOCKPERF_PORT,
               "-t", self.sz["sp_time"], "-m", size, "--full-log", log_path]
        if tcp:
            cmd.append("--tcp")
        p = run(self.topo.ns("b", cmd), timeout=self.sz["sp_time"] + 30, check=False)
        out = p.stdout + p.stderr
        pct = {float(a): float(b) for a, b in
               re.findall(r"percentile\s+([0-9.]+)\s*=\s*([0-9.]+)", out)}
        if p.returncode != 0 or 50.0 not in pct or 99.0 not in pct:
            raise Failed(f"sockperf exit {p.returncode}: {out.strip()[-300:]}")
        lat = []
        try:
            for line in log_path.read_text().splitlines():
                f = line.split(",")
                if len(f) == 4 and f[0].strip().isdigit():
                    lat.append(float(f[3]))
        except OSError:
            pass
        if plot_id and lat:
            self.cdf.setdefault(plot_id, {})[stack] = sorted(lat)
        log_path.unlink(missing_ok=True)
        return {"p50": pct[50.0], "p99": pct[99.0]}

    def w_udp_rate(self, stack, size):
        if not self.has["udp_bench"]:
            raise Unavailable("build/udp_bench not built")
        p = run(self.topo.ns("b", [self.build / "udp_bench", "client", TARGET[stack], ECHO_PORT,
                                   self.sz["udp_count"][size], size, 32, 30]), timeout=60,
                check=False)
        m = re.search(r"transactions (\d+) lost (\d+) seconds ([0-9.]+) rate (\d+)", p.stdout)
        if not m:
            raise Failed(f"udp_bench: {(p.stdout + p.stderr).strip()[-300:]}")
        res = {"rate": float(m.group(4)), "lost": int(m.group(2))}
        if res["lost"]:
            res["note"] = f"{res['lost']} of {int(m.group(1)) + res['lost']} echoes lost"
        return res

    def w_iperf(self, stack, reverse, streams):
        if not self.has["iperf3"]:
            raise Unavailable("iperf3 not installed")
        if stack == "xdpstack" and not self.has["daemon_iperf3"]:
            raise Unavailable("this xdpstack has no --iperf3")
        cmd = ["iperf3", "-c", TARGET[stack], "-p", IPERF_PORT, "-t", self.sz["iperf_time"],
               "-J", "-P", streams]
        if reverse:
            cmd.append("-R")
        p = run(self.topo.ns("b", cmd), timeout=self.sz["iperf_time"] + 40, check=False)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            raise Failed(f"iperf3 exit {p.returncode}: {(p.stdout + p.stderr)[-300:]}")
        if "error" in j:
            raise Failed(f"iperf3: {j['error']}")
        s = j["end"]["sum_received"]
        retr = j["end"].get("sum_sent", {}).get("retransmits")
        return {"gbps": s["bits_per_second"] / 1e9, "retransmits": retr}

    def w_http(self, stack, conns):
        """wrk against the daemon's --http or nginx: the same file, the same
        client, keep-alive; requests/s and wrk's p99 latency."""
        if not self.has["wrk"]:
            raise Unavailable("wrk not installed")
        if stack == "xdpstack" and not self.has["daemon_http"]:
            raise Unavailable("this xdpstack has no --http")
        if stack == "kernel" and not self.has["nginx"]:
            raise Unavailable("nginx not installed (scripts/deps.sh) or did not start")
        self.warm_arp(stack)
        url = f"http://{TARGET[stack]}:{HTTP_PORT}/{HTTP_FILE}"
        p = run(self.topo.ns("b", ["wrk", "-t", 1, "-c", conns, "-d",
                                   f"{self.sz['wrk_time']}s", "--latency", url]),
                timeout=self.sz["wrk_time"] + 60, check=False)
        out = p.stdout + p.stderr
        rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
        p99 = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
        if p.returncode != 0 or not rate or not p99:
            raise Failed(f"wrk exit {p.returncode}: {out.strip()[-300:]}")
        scale = {"us": 1, "ms": 1e3, "s": 1e6}[p99.group(2)]
        res = {"rate": float(rate.group(1)), "p99": float(p99.group(1)) * scale}
        errs = re.search(r"Socket errors: (.*)", out)
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if errs or bad:
            res["note"] = "; ".join(x for x in (
                f"socket errors: {errs.group(1).strip()}" if errs else "",
                f"{bad.group(1)} non-2xx responses" if bad else "") if x)
        return res

    def warm_arp(self, stack):
        """One echo from every client address, so that neither side starts a
        connection burst with a cold ARP entry (the stack's expire after 60 s)."""
        for ip in SRC_IPS:
            run(self.topo.ns("b", ["ping", "-c", 1, "-W", 1, "-I", ip, TARGET[stack]]),
                check=False)

    def loadgen_srcs(self):
        out = []
        for ip in SRC_IPS:
            out += ["--src", ip]
        return out

    def w_conn(self, stack, clients):
        if not self.has["xs_loadgen"]:
            raise Unavailable("build/xs_loadgen not built (tools/bench/xs_loadgen.c not merged)")
        if stack == "kernel" and not self.has["xs_echod"]:
            raise Unavailable("build/xs_echod not built (tools/bench/xs_echod.c not merged)")
        self.warm_arp(stack)
        cmd = [self.build / "xs_loadgen", "conn", "--dst", f"{TARGET[stack]}:{ECHO_PORT}",
               "--clients", clients, "--duration", self.sz["conn_time"], "--size", 64,
               "--timeout", 2000, "--json"] + self.loadgen_srcs()
        p = run(self.topo.ns("b", cmd), timeout=self.sz["conn_time"] + 60, check=False)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            raise Failed(f"xs_loadgen exit {p.returncode}: {(p.stdout + p.stderr)[-300:]}")
        lat = j.get("latency_us") or {}
        res = {"rate": j["conn_per_s"], "errors": j["errors"]["total"],
               "p50": lat.get("p50"), "p99": lat.get("p99")}
        if res["errors"]:
            res["note"] = f"{res['errors']} connections failed: " + ", ".join(
                f"{k} {v}" for k, v in j["errors"].items() if v and k != "total")
        return res

    def https_ready(self, stack, tool):
        if not self.has[tool]:
            raise Unavailable(f"{tool} not installed")
        if stack == "xdpstack" and not self.has["daemon_https"]:
            raise Unavailable("this xdpstack has no --https")
        if stack == "kernel" and not (self.has["nginx"] and getattr(self, "nginx_tls", False)):
            raise Unavailable("nginx not installed (scripts/deps.sh) or did not start")
        self.warm_arp(stack)

    def w_https(self, stack):
        """wrk against the HTTPS server (xdpstack --https, or nginx on the kernel): 1 KiB
        GETs on 16 keep-alive connections."""
        self.https_ready(stack, "wrk")
        secs = self.sz["https_time"]
        cmd = ["wrk", "-t", 2, "-c", 16, "-d", f"{secs}s", "--timeout", "5s",
               f"https://{TARGET[stack]}:{HTTPS_PORT}/{HTTPS_FILE}"]
        p = run(self.topo.ns("b", cmd), timeout=secs + 60, check=False)
        m = re.search(r"Requests/sec:\s+([0-9.]+)", p.stdout)
        if p.returncode != 0 or not m:
            raise Failed(f"wrk exit {p.returncode}: {(p.stdout + p.stderr).strip()[-300:]}")
        res = {"rate": float(m.group(1))}
        errs = re.search(r"Socket errors: (.*)", p.stdout)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
        notes = [x for x in (errs and "socket errors " + errs.group(1),
                             non2xx and non2xx.group(1) + " non-2xx responses") if x]
        if notes:
            res["note"] = "; ".join(notes)
        return res

    def w_tls_hs(self, stack, procs=4):
        """Full TLS handshakes per second: `openssl s_time -new` (a new connection and a
        new session every time, no resumption; wrk would resume) in procs processes."""
        self.https_ready(stack, "openssl")
        secs = self.sz["https_time"]
        cmd = self.topo.ns("b", ["openssl", "s_time", "-connect",
                                 f"{TARGET[stack]}:{HTTPS_PORT}", "-new", "-time", secs])
        ps = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True) for _ in range(procs)]
        total = 0
        for p in ps:
            try:
                out, _ = p.communicate(timeout=secs + 60)
            except subprocess.TimeoutExpired:
                p.kill()
                raise Failed("openssl s_time did not finish")
            m = re.search(r"(\d+) connections in [0-9.]+s;", out)
            if p.returncode != 0 or not m:
                raise Failed(f"s_time exit {p.returncode}: {out.strip()[-300:]}")
            total += int(m.group(1))
        return {"rate": total / secs}

    def established(self, stack):
        """Connections the server side holds now (xdpstack: all TCP entries)."""
        if stack == "xdpstack":
            p = run(self.topo.ns("a", [self.build / "xdpstack-ctl", "--ctl", self.ctl, "--json",
                                       "conns"]), timeout=30, check=False)
            try:
                return json.loads(p.stdout)["total"]
            except (ValueError, KeyError):
                return None
        p = run(self.topo.ns("a", ["cat", "/proc/net/sockstat"]), check=False)
        m = re.search(r"TCP: inuse (\d+)", p.stdout)
        return int(m.group(1)) if m else None

    def stack_stats(self):
        """xdpstack's `stats --json` (empty if the control tool fails)."""
        p = run(self.topo.ns("a", [self.build / "xdpstack-ctl", "--ctl", self.ctl, "--json",
                                   "stats"]), timeout=30, check=False)
        try:
            return json.loads(p.stdout)
        except ValueError:
            return {}

    def stack_drops(self, st=None):
        """xdpstack's drop counters by reason (empty if the control tool fails)."""
        st = self.stack_stats() if st is None else st
        try:
            return {k: v["count"] for k, v in st["drops"].items()}
        except (KeyError, TypeError, AttributeError):
            return {}

    def server_pids(self, stack):
        if stack == "xdpstack":
            return [self.daemon.pid]
        # xs_echod and the processes it forked (ours only: others may run
        # the same command line in their own namespaces).
        pids = [self.echod.pid]
        try:
            for t in Path(f"/proc/{self.echod.pid}/task").iterdir():
                pids += [int(c) for c in (t / "children").read_text().split()]
        except OSError:
            pass
        return pids

    def idle_sample(self, stack, pids):
        """(server RSS KiB, Slab KiB, xdpstack's stats or {}) now."""
        return (sum(proc_rss_kib(p) or 0 for p in pids), meminfo_kib("Slab"),
                self.stack_stats() if stack == "xdpstack" else {})

    def idle_settle(self, stack, pids, held, base_st):
        """Waits until what the held connections cost has settled; returns
        (sample, seconds waited, settled?). Each connection echoed once: the
        daemon frees its two empty rings tcp_buf_idle_ms (200 ms) after they
        empty and trims the heap at most once a second after that, so it
        waits for tcp_buf_released to have grown by two per connection, then
        for the RSS to stay put for a second (Slab and RSS for the kernel,
        which frees nothing later). Bounded: 15 s plus 1 s per 10,000."""
        t0 = time.monotonic()
        deadline = t0 + 15 + held / 10000
        hist = []
        t_released = None
        while True:
            smp = self.idle_sample(stack, pids)
            now = time.monotonic()
            hist.append((now, smp[0], smp[1]))
            if t_released is None:
                if stack == "xdpstack":
                    c, c0 = smp[2].get("counters", {}), base_st.get("counters", {})
                    freed = c.get("tcp_buf_released", 0) - c0.get("tcp_buf_released", 0)
                    self.prog.detail(f"{freed} of {2 * held} idle rings freed")
                    if freed >= 2 * held:
                        t_released = now
                else:
                    t_released = t0
            if t_released is not None and now - t_released >= 1.5:
                # Still within half a percent over the last second.
                recent = [h for h in hist if h[0] >= now - 1.05]
                rss = [h[1] for h in recent]
                slab = [h[2] or 0 for h in recent]
                if len(recent) >= 3 and max(rss) - min(rss) <= max(256, rss[-1] // 200) and \
                        (stack == "xdpstack" or
                         max(slab) - min(slab) <= max(1024, slab[-1] // 200)):
                    return smp, now - t0, True
            if now > deadline:
                return smp, now - t0, False
            time.sleep(0.5)

    def w_idle(self, stack, n):
        """n idle connections held against a server started afresh for this
        hold: the memory they add, measured once it has settled."""
        if not self.has["xs_loadgen"]:
            raise Unavailable("build/xs_loadgen not built (tools/bench/xs_loadgen.c not merged)")
        if stack == "kernel" and not self.has["xs_echod"]:
            raise Unavailable("build/xs_echod not built (tools/bench/xs_echod.c not merged)")
        if stack == "xdpstack" and not self.has["xdpstack-ctl"]:
            raise Unavailable("build/xdpstack-ctl not built")
        # A fresh server for every hold: what an earlier hold (or row) left
        # resident, the freed TCBs and grown tables in the daemon's heap, or
        # xs_echod's, would otherwise count as the baseline and hide (or, if
        # it is given back during this hold, more than cancel) the growth.
        if stack == "xdpstack":
            self.fresh_daemon()
        else:
            self.fresh_echod()
        self.warm_arp(stack)
        time.sleep(0.5)
        base_est = self.established(stack) or 0
        pids = self.server_pids(stack)
        # The baseline right before the hold.
        base_rss, base_slab, base_st = self.idle_sample(stack, pids)
        base_drops = self.stack_drops(base_st) if stack == "xdpstack" else {}
        procs = max(1, min(64, math.ceil(n / (self.fd_limit - 64)) + 1))
        errf = open(self.tmp / "hold.err", "w+")
        # --rst: closed with RST, so no TIME_WAIT sockets outlive the hold
        # in ns B (kernel slab that a later kernel hold would see freed).
        cmd = [self.build / "xs_loadgen", "hold", "--dst", f"{TARGET[stack]}:{ECHO_PORT}",
               "--conns", n, "--duration", 600, "--ramp", 256, "--timeout", 5000,
               "--procs", procs, "--rst", "--json"] + self.loadgen_srcs()
        outp = self.tmp / "hold.out"
        lg = self.topo.spawn("b", cmd, stdout=open(outp, "w"), stderr=errf)
        # Ready when the load generator says it holds them all; or when the
        # count has stopped growing for 3 s (the server refuses more).
        t_start = time.monotonic()
        deadline = t_start + max(30, n / 2000)
        last, last_change, est = -1, time.monotonic(), 0
        while time.monotonic() < deadline and lg.poll() is None:
            errf.seek(0)
            if "holding" in errf.read():
                break
            est = (self.established(stack) or 0) - base_est
            self.prog.detail(f"{est} of {n} connections")
            if est != last:
                last, last_change = est, time.monotonic()
            elif time.monotonic() - last_change > 3:
                break
            time.sleep(0.5)
        t_ready = time.monotonic() - t_start
        est = (self.established(stack) or 0) - base_est
        (rss, slab, st), t_settle, settled = self.idle_settle(stack, pids, max(est, 1),
                                                              base_st)
        drops = self.stack_drops(st) if stack == "xdpstack" else {}
        grew = sorted(((v - base_drops.get(k, 0), k) for k, v in drops.items()
                       if v > base_drops.get(k, 0)), reverse=True)[:3]
        t_stop = time.monotonic()
        self.topo.stop(lg, signal.SIGTERM, wait=60)
        t_stop = time.monotonic() - t_stop
        try:
            j = json.loads(outp.read_text())
        except ValueError:
            j = {}
        errf.seek(0)
        lg_err = errf.read().strip()
        # Wait for the server to let go before the next run.
        t0 = last_change = time.monotonic()
        last = None
        while time.monotonic() - t0 < 15 and time.monotonic() - last_change < 3:
            left = (self.established(stack) or 0) - base_est
            if left <= 16:
                break
            if left != last:
                last, last_change = left, time.monotonic()
            time.sleep(0.5)
        t_release = time.monotonic() - t0
        held = j.get("established", est)
        res = {"requested": n, "established": held, "server_count": est,
               "errors": j.get("errors", {}).get("total"), "rss_kib": rss,
               "base_rss_kib": base_rss, "rss_growth_kib": rss - base_rss,
               "server_pids": pids, "settled": settled,
               "seconds": {"ramp": round(t_ready, 1), "settle": round(t_settle, 1),
                           "stop": round(t_stop, 1), "release": round(t_release, 1)}}
        notes = []
        if not settled:
            notes.append(f"memory still moving {t_settle:.0f} s after the ramp"
                         + (" (idle rings not all freed)" if stack == "xdpstack" else ""))
        if held < n:
            errs = ", ".join(f"{k} {v}" for k, v in j.get("errors", {}).items()
                             if v and k != "total")
            why = f"reached {held} of {n}; client errors: {errs or 'none'}"
            if j.get("unfinished"):
                why += f", unfinished {j['unfinished']}"
            if not j:
                why += f"; xs_loadgen: {lg_err[-200:]}"
            if grew:
                why += "; the stack's drops grew: " + ", ".join(f"{k} {d}" for d, k in grew)
            res["failure"] = why
        if notes:
            res["note"] = "; ".join(notes)
        count = max(held, 1)
        if stack == "xdpstack":
            c, c0 = st.get("counters", {}), base_st.get("counters", {})
            res["rings_freed"] = c.get("tcp_buf_released", 0) - c0.get("tcp_buf_released", 0)
            res["tcp_mem_per_conn"] = c.get("tcp_mem_bytes", 0) / count
            res["bytes_per_conn"] = rss * 1024 / count
            res["growth_per_conn"] = (rss - base_rss) * 1024 / count
        else:
            # Both ends of every connection are kernel sockets here (the client
            # is the kernel too): half the slab growth is the server's.
            res["slab_growth_kib"] = slab - base_slab
            res["bytes_per_conn"] = ((slab - base_slab) / 2 + (rss - base_rss)) * 1024 / count
            res["growth_per_conn"] = res["bytes_per_conn"]
        return res

    def w_stack(self, stack, part, inflight=1):
        if stack == "kernel":
            raise Unavailable("the kernel has no in-process equivalent")
        if not self.has["stack_bench"]:
            raise Unavailable("build/stack_bench not built")
        cmd = [self.build / "stack_bench", "--only", part, "--bytes", self.sz["sb_bytes"],
               "--transactions", self.sz["sb_txn"], "--conns", self.sz["sb_conns"],
               "--inflight", inflight]
        perf_out = self.tmp / "perf.csv"
        if self.has["perf_works"]:
            cmd = ["perf", "stat", "-x", ",", "-e", "instructions,cycles", "-o", perf_out,
                   "--"] + cmd
        p = run(cmd, timeout=300)
        j = json.loads(p.stdout)[f"conn_{inflight}" if part == "conn" else part]
        res = {}
        if part == "bulk":
            res["gbit_per_core"] = j["gbit_per_core"]
            res["gbit_per_s"] = j["gbit_per_s"]
        elif part == "conn":
            res["cpu_ns"] = j["cpu_ns_per_conn"]
            res["rate"] = j["conn_per_s"]
        else:
            res["cpu_ns"] = j["cpu_ns_per_transaction"]
            res["wall_ns"] = j["ns_per_transaction"]
        res["frames"] = j["frames"]
        if self.has["perf_works"]:
            ev = {}
            for line in perf_out.read_text().splitlines():
                f = line.split(",")
                if len(f) > 2 and f[0].strip().isdigit():
                    ev[f[2]] = int(f[0])
            frames = max(j["frames"], 1)
            if "instructions" in ev:
                res["insn_per_pkt"] = ev["instructions"] / frames
            if "cycles" in ev:
                res["cycles_per_pkt"] = ev["cycles"] / frames
        return res

    # --- multi-queue: 1 queue against 2 queues on 2 cores -------------------
    def mq_env(self, nq):
        """A veth pair of nq queues of its own, xdpstack --queues nq on it and
        xs_echod on the kernel's address (made once, kept for the rows)."""
        if nq in self.mq_envs:
            return self.mq_envs[nq][0]
        if not self.has["xs_echod"]:
            raise Unavailable("build/xs_echod not built")
        topo = Topology(queues=nq)
        logf = self.tmp / f"daemon-q{nq}.log"
        try:
            topo.up()
            cmd = [self.build / "xdpstack", "--ip", STACK_IP, "--dev", topo.va, "--ctl",
                   f"/run/xdpstack/{topo.va}.sock", "--queues", nq] + (self.a.daemon_arg or [])
            daemon = topo.spawn("a", cmd, stdout=open(logf, "w"), stderr=subprocess.STDOUT)
            self.mq_envs[nq] = (topo, daemon, logf)
            t0 = time.monotonic()
            while "serving" not in logf.read_text():
                if daemon.poll() is not None or time.monotonic() - t0 > 10:
                    raise Failed(f"xdpstack --queues {nq} did not start: "
                                 + logf.read_text().strip()[-300:])
                time.sleep(0.1)
            topo.spawn("a", [self.build / "xs_echod", "--port", ECHO_PORT, "--addr", KERNEL_IP,
                             "--duration", 3600, "--procs", 2, "--backlog", 4096])
            time.sleep(0.5)
            for ip in (STACK_IP, KERNEL_IP):
                run(topo.ns("b", ["ping", "-c", 2, "-i", 0.2, "-q", ip]))
        except Failed:
            if nq not in self.mq_envs:
                topo.close()
            raise
        return topo

    def w_mq_rr(self, stack, nq, conns=4):
        """conns tcp_rr clients at once, one connection each, 64 B ping-pong:
        transactions per second summed over them."""
        if not self.tool("tcp_rr"):
            raise Unavailable("build/tcp_rr not built (make all builds it)")
        topo = self.mq_env(nq)
        cmd = [self.build / "tcp_rr", "client", TARGET[stack], ECHO_PORT,
               self.sz["mq_rounds"], 64]
        ps = [subprocess.Popen(topo.ns("b", cmd), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(conns)]
        rate, p50 = 0.0, []
        for p in ps:
            try:
                out, err = p.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            m = re.search(r"rounds (\d+) size \d+ mean_us [0-9.]+ p50_us ([0-9.]+) "
                          r"p99_us [0-9.]+ total_ms ([0-9.]+)", out)
            if p.returncode != 0 or not m:
                raise Failed(f"tcp_rr exit {p.returncode}: {(out + err).strip()[-300:]}")
            rate += int(m.group(1)) / max(float(m.group(3)) / 1000, 1e-3)
            p50.append(float(m.group(2)))
        return {"rate": rate, "p50": statistics.median(p50)}

    def w_mq_conn(self, stack, nq, clients=64):
        if not self.has["xs_loadgen"]:
            raise Unavailable("build/xs_loadgen not built")
        topo = self.mq_env(nq)
        cmd = [self.build / "xs_loadgen", "conn", "--dst", f"{TARGET[stack]}:{ECHO_PORT}",
               "--clients", clients, "--duration", self.sz["mq_conn_time"], "--size", 64,
               "--timeout", 2000, "--json"]
        p = run(topo.ns("b", cmd), timeout=self.sz["mq_conn_time"] + 60, check=False)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            raise Failed(f"xs_loadgen exit {p.returncode}: {(p.stdout + p.stderr)[-300:]}")
        res = {"rate": j["conn_per_s"], "errors": j["errors"]["total"]}
        if res["errors"]:
            res["note"] = f"{res['errors']} connections failed"
        return res

    def ctl_cmd(self, *args, check=True):
        return run(self.topo.ns("a", [self.build / "xdpstack-ctl", "--ctl", self.ctl] +
                                list(args)), timeout=30, check=check)

    def w_filter_flood(self, stack):
        """A UDP flood to a port a drop rule covers: dropped by the XDP program
        (column xdpstack) or, with `filter xdp off`, by the stack (column
        kernel: the same daemon, the user-space path). The flood comes from
        xs_flood over AF_PACKET in ns B; the daemon's CPU is read from
        /proc/PID/stat over the flood."""
        if not self.has["xs_flood"]:
            raise Unavailable("build/xs_flood not built")
        if not self.has["xdpstack-ctl"]:
            raise Unavailable("build/xdpstack-ctl not built")
        xdp = stack == "xdpstack"
        p = self.ctl_cmd("filter", "xdp", "on" if xdp else "off", check=False)
        if p.returncode != 0:
            raise Unavailable("this xdpstack has no `filter xdp on|off`: "
                              + (p.stderr.strip() or p.stdout.strip())[-200:])
        self.ctl_cmd("filter", "insert", "1", "drop", "in", "udp", "dport", FLOOD_PORT)
        try:
            # The flood's first frames must not wait for ARP in ns B.
            run(self.topo.ns("b", ["ping", "-c", 1, "-W", 1, STACK_IP]), check=False)
            before = json.loads(self.ctl_cmd("--json", "stats").stdout)
            cpu0, t0 = proc_cpu_s(self.daemon.pid), time.monotonic()
            p = run(self.topo.ns("b", [self.build / "xs_flood", "--dst",
                                       f"{STACK_IP}:{FLOOD_PORT}", "--packet", self.topo.vb,
                                       "--duration", self.sz["flood_time"], "--size", 18,
                                       "--json"]), timeout=self.sz["flood_time"] + 60,
                    check=False)
            t1 = time.monotonic()
            # What the stack still has in its ring it drops now: the flood's
            # cost too, counted against the flood's duration.
            time.sleep(0.5)
            cpu1 = proc_cpu_s(self.daemon.pid)
            after = json.loads(self.ctl_cmd("--json", "stats").stdout)
        finally:
            self.ctl_cmd("filter", "del", "1", check=False)
            self.ctl_cmd("filter", "xdp", "on", check=False)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            raise Failed(f"xs_flood exit {p.returncode}: {(p.stdout + p.stderr)[-300:]}")
        secs = max(j["seconds"], 1e-6)

        def grew(section, key):
            a, b = after[section][key], before[section][key]
            return (a["count"] - b["count"]) if isinstance(a, dict) else a - b

        dropped = grew("xdp", "filter_dropped") if xdp else grew("drops", "filter_in")
        lost = grew("xdp", "xsk_rx_dropped") + grew("xdp", "xsk_rx_ring_full")
        res = {"sent_pps": j["pps"], "dropped_pps": dropped / secs,
               "daemon_cpu": 100.0 * (cpu1 - cpu0) / (t1 - t0), "sent": j["sent"],
               "dropped": dropped, "lost_before_the_filter": lost}
        if lost:
            res["note"] = (f"{lost} of {j['sent']} frames lost before the stack's filter "
                           "(AF_XDP rx ring full)")
        return res

    def perf_works(self):
        if not self.has["perf"]:
            return False
        p = run(["perf", "stat", "-x", ",", "-e", "instructions", "true"], check=False)
        return p.returncode == 0 and "<not supported>" not in p.stderr \
            and "<not counted>" not in p.stderr

    # --- the plan ----------------------------------------------------------
    def plan(self):
        """(id, section, title, fn, metrics); metrics: (key, label, unit, better)."""
        lat = [("p50", "p50", "us", "lower"), ("p99", "p99", "us", "lower")]
        P = []
        for size in (56, 1400):
            P.append((f"ping_{size}", "1. latency", f"ping RTT, {size} B, "
                      f"{self.sz['ping_count']} echoes 1 ms apart",
                      lambda s, size=size: self.w_ping(s, size), lat))
        for size in (64, 1400):
            P.append((f"udp_rr_{size}", "1. latency", f"UDP request/response, sockperf "
                      f"ping-pong, {size} B", lambda s, size=size: self.w_sockperf(
                          s, size, False, f"udp_rr_{size}"), lat))
        for size in (64, 1400):
            P.append((f"udp_echo_{size}", "2. UDP throughput", f"UDP echo, {size} B, "
                      f"32 in flight", lambda s, size=size: self.w_udp_rate(s, size),
                      [("rate", "", "echoes/s", "higher")]))
        for size in (64, 1400):
            P.append((f"tcp_rr_{size}", "3. TCP latency", f"TCP request/response, sockperf "
                      f"ping-pong --tcp, {size} B", lambda s, size=size: self.w_sockperf(
                          s, size, True, f"tcp_rr_{size}"), lat))
        for rid, title, rev, par in (
                ("bulk_up", "TCP bulk, client sends (iperf3)", False, 1),
                ("bulk_down", "TCP bulk, server sends (iperf3 -R)", True, 1),
                ("bulk_up_p4", "TCP bulk, 4 streams, client sends (iperf3 -P 4)", False, 4),
                ("bulk_down_p4", "TCP bulk, 4 streams, server sends (iperf3 -P 4 -R)",
                 True, 4)):
            P.append((rid, "4. TCP bulk", title, lambda s, rev=rev, par=par: self.w_iperf(
                s, rev, par), [("gbps", "", "Gbit/s", "higher")]))
        for c in (1, 16, 256):
            P.append((f"conn_{c}", "5. connections/s", f"connect, 64 B echo, close; {c} "
                      f"concurrent client{'s' if c > 1 else ''}",
                      lambda s, c=c: self.w_conn(s, c),
                      [("rate", "", "conn/s", "higher")]))
        for n in self.sz["idle"]:
            P.append((f"idle_{n}", "6. idle connections", f"{n} idle connections held",
                      lambda s, n=n: self.w_idle(s, n),
                      [("bytes_per_conn", "memory held / N", "bytes per connection", "lower"),
                       ("growth_per_conn", "memory the hold added to a fresh server / N",
                        "bytes per connection", "lower")]))
        perf = [("insn_per_pkt", "instructions per packet", "instructions", "lower"),
                ("cycles_per_pkt", "cycles per packet", "cycles", "lower")] \
            if self.has.get("perf_works") else []
        P.append(("stack_bulk", "7. the stack alone", "two stacks over the in-memory device, "
                  f"TCP bulk of {self.sz['sb_bytes'] >> 20} MiB", lambda s: self.w_stack(s, "bulk"),
                  [("gbit_per_core", "CPU time", "Gbit/s per core", "higher"),
                   ("gbit_per_s", "wall time", "Gbit/s", "higher")] + perf))
        P.append(("stack_rr", "7. the stack alone", "two stacks over the in-memory device, "
                  f"{self.sz['sb_txn']} request/responses of 64 B",
                  lambda s: self.w_stack(s, "rr"),
                  [("cpu_ns", "CPU time", "ns per transaction", "lower"),
                   ("wall_ns", "wall time", "ns per transaction", "lower")] + perf))
        for k in (1, 64):
            P.append((f"stack_conn_{k}", "7. the stack alone", "two stacks over the in-memory "
                      f"device, {self.sz['sb_conns']} connections (connect, 64 B each way, "
                      f"close), {k} at once", lambda s, k=k: self.w_stack(s, "conn", k),
                      [("cpu_ns", "CPU time", "ns per connection", "lower"),
                       ("rate", "wall time", "conn/s", "higher")] + perf))
        P.append(("http", "8. HTTP server", f"HTTP/1.1 GET of a 4 KiB file, keep-alive, "
                  f"wrk -t1 -c16 for {self.sz['wrk_time']} s: the daemon's --http against "
                  f"nginx (1 worker)", lambda s: self.w_http(s, 16),
                  [("rate", "requests/s", "requests/s", "higher"),
                   ("p99", "p99 latency", "us", "lower")]))
        P.append(("filter_flood", "9. packet filter", f"UDP flood, 64 B frames for "
                  f"{self.sz['flood_time']} s, to a port `drop in udp dport 9` covers",
                  self.w_filter_flood,
                  [("dropped_pps", "dropped", "frames/s", "higher"),
                   ("sent_pps", "sent", "frames/s", "higher"),
                   ("daemon_cpu", "daemon CPU during the flood", "% of a core", "lower")]))
        for nq in (1, 2):
            on = f"{nq} queue{'s' if nq > 1 else ''} on a {nq}-queue veth"
            P.append((f"mq_rr_q{nq}", "10. multi-queue", f"TCP request/response, 4 connections "
                      f"at once (tcp_rr, 64 B), {on}", lambda s, nq=nq: self.w_mq_rr(s, nq),
                      [("rate", "", "transactions/s", "higher")]))
            P.append((f"mq_conn_q{nq}", "10. multi-queue", f"connect, 64 B echo, close; 64 "
                      f"clients, {on}", lambda s, nq=nq: self.w_mq_conn(s, nq),
                      [("rate", "", "conn/s", "higher")]))
        P.append(("https_rps", "11. HTTPS server", "HTTPS requests/s, 1 KiB GETs, 16 keep-alive "
                  "connections (wrk; xdpstack --https vs nginx, one worker)",
                  lambda s: self.w_https(s), [("rate", "", "requests/s", "higher")]))
        P.append(("tls_hs", "11. HTTPS server", "TLS handshakes/s: a new connection and a full "
                  "handshake each (no resumption), 4 at once (openssl s_time -new; ECDSA "
                  "P-256, X25519)", lambda s: self.w_tls_hs(s),
                  [("rate", "", "handshakes/s", "higher")]))
        if self.a.only:
            want = self.a.only.split(",")
            for w in want:
                if not any(p[0] == w or p[0].startswith(w + "_") for p in P):
                    raise BadArgument(f"--only: no row '{w}' (rows: "
                                      f"{', '.join(p[0] for p in P)})")
            P = [p for p in P if any(p[0] == w or p[0].startswith(w + "_") for w in want)]
        return P

    def execute(self):
        self.detect()
        self.has["perf_works"] = self.perf_works()
        if not self.has["perf_works"]:
            self.notes.append("`perf stat -e instructions` is not supported on this machine "
                              "(no hardware counters): the stack-alone rows give CPU and wall "
                              "time, not instructions and cycles per packet.")
        plan = self.plan()
        needs_net = any(not p[0].startswith(("stack_", "mq_")) for p in plan)
        if needs_net:
            self.start()
        prog = self.prog = Progress(len(plan) * self.reps * len(self.stacks))
        results = []
        for rid, section, title, fn, metrics in plan:
            runs = {s: [] for s in STACKS}
            t_row = time.monotonic()
            status = {s: None if s in self.stacks else ("not available", "not run (--stacks)")
                      for s in STACKS}
            for rep in range(1, self.reps + 1):
                # Alternate the order so that drift on a shared machine
                # does not always favour the same side.
                order = STACKS if rep % 2 else STACKS[::-1]
                for s in order:
                    if s not in self.stacks:
                        continue
                    prog.show(title, rep, self.reps, s)
                    if status[s] and status[s][0] == "not available":
                        continue
                    try:
                        runs[s].append(fn(s))
                    except Unavailable as e:
                        status[s] = ("not available", str(e))
                    except Failed as e:
                        status[s] = ("failed", str(e))
                        runs[s].append(None)
            rows = self.rows(rid, section, title, metrics, runs, status)
            for r in rows:
                r["seconds"] = round(time.monotonic() - t_row, 1)
            results.append(rows)
        prog.done()
        return [r for group in results for r in group]

    def rows(self, rid, section, title, metrics, runs, status):
        out = []
        for key, label, unit, better in metrics:
            row = {"id": rid if len(metrics) == 1 else f"{rid}_{key}", "section": section,
                   "workload": title + (f", {label}" if label and len(metrics) > 1 else ""),
                   "metric": key, "unit": unit, "better": better}
            for s in STACKS:
                vals = [r.get(key) if r else None for r in runs[s]]
                col = {"values": vals, "summary": summarize(vals),
                       "runs": runs[s]}
                if status[s]:
                    col["status"], col["note"] = status[s]
                else:
                    col["status"] = "ok"
                fails = [r.get("failure") or r.get("note") for r in runs[s]
                         if r and (r.get("failure") or r.get("note"))]
                if fails:
                    col["note"] = fails[-1] + (f" (in {len(fails)} of {len(runs[s])} runs)"
                                               if len(runs[s]) > 1 else "")
                row[s] = col
            xs, ks = row["xdpstack"]["summary"], row["kernel"]["summary"]
            row["ratio"] = None
            if xs and ks and xs["median"] and ks["median"]:
                row["ratio"] = (ks["median"] / xs["median"] if better == "lower"
                                else xs["median"] / ks["median"])
            out.append(row)
        return out


def main():
    ap = argparse.ArgumentParser(description="xdpstack beside the kernel, one veth pair")
    ap.add_argument("--build", default="build", help="build directory (default build)")
    ap.add_argument("--quick", action="store_true", help="one repetition, smaller sizes")
    ap.add_argument("--reps", type=int, default=0, help="repetitions (default 3, QUICK 1)")
    ap.add_argument("--only", help="comma-separated row ids or prefixes (ping,udp_rr,...)")
    ap.add_argument("--stacks", help="xdpstack,kernel (default both)")
    ap.add_argument("--idle", type=lambda v: [int(x) for x in v.split(",")],
                    help="idle connection counts (default 10000,100000; QUICK 2000)")
    ap.add_argument("--daemon-arg", action="append", metavar="ARG",
                    help="one more argument for xdpstack, e.g. --daemon-arg=--busy-poll "
                    "(repeatable)")
    ap.add_argument("--json", help="write the results here (default build/bench/DATE.json)")
    ap.add_argument("--docs", help="where BENCHMARKS.md and the plots go (default docs/; "
                    "QUICK and --only: next to the JSON)")
    args = ap.parse_args()
    if args.reps < 0 or args.reps > 20:
        ap.error("--reps: expected 1-20")
    if os.geteuid() != 0:
        print("bench.py: needs root (namespaces, XDP): run as root or with sudo",
              file=sys.stderr)
        return 1
    b = Bench(args)
    if not (b.build / "xdpstack").exists():
        print(f"bench.py: {b.build}/xdpstack not built: run make bench", file=sys.stderr)
        return 1
    now = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        rows = b.execute()
    except BadArgument as e:
        print(f"bench.py: {e}", file=sys.stderr)
        return 2
    except Failed as e:
        # Setting up failed (the topology, the daemon): nothing was measured.
        print(f"bench.py: {e}".strip(), file=sys.stderr)
        return 1
    finally:
        problem = b.close()
    stamp = now.strftime("%Y-%m-%dT%H%M%SZ")
    jpath = Path(args.json) if args.json else b.build / "bench" / f"{stamp}.json"
    jpath.parent.mkdir(parents=True, exist_ok=True)
    if args.docs:
        docs_dir = Path(args.docs)
    elif args.quick or args.only:
        docs_dir = jpath.parent
    else:
        docs_dir = REPO / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    doc = {"date": now.strftime("%Y-%m-%d %H:%M UTC"), "commit": commit(),
           "daemon_args": args.daemon_arg or [],
           "machine": machine(), "quick": args.quick, "reps": b.reps,
           "elapsed_s": time.monotonic() - t0, "tools": b.has, "notes": b.notes,
           "json": os.path.relpath(jpath, REPO) if jpath.is_absolute() else str(jpath),
           "rows": rows, "plots": [], "problem": problem}
    doc["plots"] = plots(doc, b.cdf, docs_dir)
    doc["cdf_points"] = {k: {s: v[::max(1, len(v) // 200)] for s, v in d.items()}
                         for k, d in b.cdf.items()}
    jpath.write_text(json.dumps(doc, indent=1) + "\n")
    md = write_docs(doc, docs_dir)
    print(markdown(doc))
    log(f"results in {jpath}, {md}" + (", " + ", ".join(doc["plots"]) if doc["plots"] else ""))
    if problem:
        print(f"bench.py: {problem}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
