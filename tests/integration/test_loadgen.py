# The benchmark load generator (tools/bench/xs_loadgen) against the daemon's TCP
# echo and against the kernel-side xs_echod, from the peer namespace over veth.
"""conn mode: 1,000 connect/echo/close round trips without an error, latency
percentiles present and ordered. hold mode: 2,000 idle connections from two
source addresses added to the peer namespace, seen established by the daemon
(xdpstack-ctl conns) or the kernel (ss), and all released after. No speed is
asserted anywhere."""

import json
import signal
import socket
import subprocess
import threading
import time

import pytest

import netns
from netns import KERNEL_A_IP, PLEN, STACK_IP

ECHO_PORT = 8888
KERNEL_PORT = 7777
CLOSED_PORT = 8887
SOURCES = ("172.17.0.3", "172.17.0.4")
PCTS = ("min", "p50", "p90", "p99", "p999", "max")


def tool(name):
    path = netns.build_dir() / name
    if not path.exists():
        pytest.fail(f"{path} is not built (run make, or set XS_BUILD)")
    return str(path)


def ctl(path, *args):
    p = netns.run([tool("xdpstack-ctl"), "--ctl", str(path), "--json"] + list(args),
                  check=False, timeout=30)
    assert p.returncode == 0, f"xdpstack-ctl {args}: exit {p.returncode}\n{p.stderr}"
    return json.loads(p.stdout)


def conns(path):
    doc = ctl(path, "conns")
    assert doc["truncated"] is False and doc["total"] == len(doc["connections"]), doc["total"]
    return doc["connections"]


def from_sources(path, srcs):
    """The stack's echo connections from the given peer addresses, by state."""
    by = {}
    for c in conns(path):
        if c["remote_ip"] in srcs and c["local_port"] == ECHO_PORT:
            by.setdefault(c["state"], []).append(c)
    return by


def loadgen(ns, *args, timeout=120):
    """Runs xs_loadgen ARGS --json in ns; (exit code, report, stderr)."""
    p = netns.ns_run(ns, [tool("xs_loadgen")] + [str(a) for a in args] + ["--json"],
                     check=False, timeout=timeout)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        pytest.fail(f"xs_loadgen did not print JSON (exit {p.returncode}):\n"
                    f"{p.stdout}\n{p.stderr}")
    return p.returncode, doc, p.stderr


def check_latency(doc, n):
    lat = doc["latency_us"]
    assert lat is not None and lat["n"] == n, lat
    vals = [lat[k] for k in PCTS]
    assert all(isinstance(v, int) for v in vals), lat
    assert vals == sorted(vals), f"percentiles out of order: {lat}"
    assert lat["min"] <= lat["mean"] <= lat["max"], lat
    assert lat["max"] > 0, lat


def check_conn(rc, doc, err, count, size):
    assert rc == 0, f"exit {rc}: {doc}\n{err}"
    assert doc["mode"] == "conn"
    assert doc["errors"]["total"] == 0, doc["errors"]
    assert doc["attempted"] == count and doc["completed"] == count, doc
    assert doc["unfinished"] == 0
    assert doc["bytes_tx"] == doc["bytes_rx"] == count * size, doc
    assert doc["elapsed_s"] > 0 and doc["conn_per_s"] > 0, doc
    check_latency(doc, count)


class Hold:
    """xs_loadgen hold running in the background; ready() waits for its
    `established` line on stderr, finish() ends it with SIGTERM."""

    def __init__(self, topo, *args):
        self.proc = netns.ns_popen(topo.ns_b, [tool("xs_loadgen"), "hold"] +
                                   [str(a) for a in args] + ["--json"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        topo.procs.append(self.proc)  # killed at teardown if a test fails
        self.err = []
        self.seen = threading.Event()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self):
        for line in self.proc.stderr:
            self.err.append(line)
            if "established" in line:
                self.seen.set()
        self.seen.set()

    def ready(self, timeout=120):
        assert self.seen.wait(timeout), "xs_loadgen hold never reported its connections"
        assert self.proc.poll() is None, \
            f"xs_loadgen exited ({self.proc.returncode}):\n{''.join(self.err)}\n" \
            f"{self.proc.stdout.read()}"
        return self.err[-1]

    def finish(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        self.pump.join(5)
        try:
            return self.proc.returncode, json.loads(out)
        except ValueError:
            pytest.fail(f"xs_loadgen hold did not print JSON:\n{out}\n{''.join(self.err)}")


@pytest.fixture(scope="module")
def served(topo_module, tmp_path_factory):
    path = tmp_path_factory.mktemp("ctl") / "xs.sock"
    d = netns.Daemon(topo_module, extra=["--ctl", path])
    d.start()
    # Warm the neighbour entries both ways before the bursts.
    r = topo_module.ping(STACK_IP, count=2)
    assert r.returncode == 0, r.stdout
    yield topo_module, d, path
    rc, out, err = d.stop()
    assert rc == 0, err
    assert d.sanitizer_report() is None, err


@pytest.fixture
def sources(served):
    """Two more addresses on the peer's veth, removed after the test."""
    topo = served[0]
    for ip in SOURCES:
        netns.run(["ip", "-n", topo.ns_b, "addr", "add", f"{ip}/{PLEN}", "dev", topo.dev_b])
    try:
        yield SOURCES
    finally:
        for ip in SOURCES:
            netns.run(["ip", "-n", topo.ns_b, "addr", "del", f"{ip}/{PLEN}", "dev",
                       topo.dev_b], check=False)


def wait_until(pred, timeout, what):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            pytest.fail(f"timeout ({timeout}s) waiting for {what}")
        time.sleep(0.2)


# ---------------------------------------------------------------- command line

@pytest.mark.parametrize("name,args,words", [
    ("xs_loadgen", [], ["mode"]),
    ("xs_loadgen", ["flood", "--dst", "1.2.3.4:1"], ["mode"]),
    ("xs_loadgen", ["conn"], ["--dst"]),
    ("xs_loadgen", ["conn", "--dst", "1.2.3.4"], ["--dst", "IPV4:PORT"]),
    ("xs_loadgen", ["conn", "--dst", "1.2.3.4:0"], ["port", "1 to 65535"]),
    ("xs_loadgen", ["conn", "--dst", "1.2.3.4:1", "--clients", "0"], ["--clients"]),
    ("xs_loadgen", ["conn", "--dst", "1.2.3.4:1", "--size", "65537"], ["--size"]),
    ("xs_loadgen", ["conn", "--dst", "1.2.3.4:1", "--duration", "3601"], ["--duration"]),
    ("xs_loadgen", ["conn", "--dst", "1.2.3.4:1", "--clients", "-5"], ["--clients"]),
    ("xs_loadgen", ["conn", "--dst", "1.2.3.4:1", "--clients", "2", "--procs", "3"],
     ["--procs"]),
    ("xs_loadgen", ["conn", "--dst", "1.2.3.4:1", "--clients", "30000"],
     ["RLIMIT_NOFILE", "--procs"]),
    ("xs_loadgen", ["hold", "--dst", "1.2.3.4:1"], ["--conns"]),
    ("xs_loadgen", ["hold", "--dst", "1.2.3.4:1", "--conns", "5", "--src", "x"], ["--src"]),
    ("xs_loadgen", ["hold", "--dst", "1.2.3.4:1", "--conns", "5", "--bogus"], ["--bogus"]),
    ("xs_echod", [], ["--port"]),
    ("xs_echod", ["--port", "70000"], ["--port"]),
    ("xs_echod", ["--port", "7", "--addr", "nope"], ["--addr"]),
    ("xs_echod", ["--port", "7", "--procs", "0"], ["--procs"]),
])
def test_bad_arguments_get_one_line_and_exit_2(name, args, words):
    p = netns.run([tool(name)] + args, check=False, timeout=10)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode == 2, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert len(lines) == 1 and lines[0].startswith(name + ": "), p.stderr
    for w in words:
        assert w in lines[0], f"{lines[0]!r} lacks {w!r}"
    assert p.stdout == ""


# ------------------------------------------------------------ against xdpstack

def test_conn_1000_connections_against_the_daemon(served):
    topo, d, path = served
    before = ctl(path, "stats")["counters"]
    rc, doc, err = loadgen(topo.ns_b, "conn", "--dst", f"{STACK_IP}:{ECHO_PORT}",
                           "--clients", 16, "--count", 1000, "--size", 100)
    check_conn(rc, doc, err, 1000, 100)
    after = ctl(path, "stats")["counters"]
    assert after["tcp_passive_opens"] - before["tcp_passive_opens"] >= 1000
    # Every one of them is gone from the stack's table again (the client
    # closed first, so TIME-WAIT is on the kernel's side).
    wait_until(lambda: not from_sources(path, ("172.17.0.2",)), 15,
               "the stack to release the conn-mode connections")


def test_conn_over_two_processes_adds_up(served):
    topo, d, path = served
    rc, doc, err = loadgen(topo.ns_b, "conn", "--dst", f"{STACK_IP}:{ECHO_PORT}",
                           "--clients", 8, "--count", 301, "--size", 1, "--procs", 2)
    check_conn(rc, doc, err, 301, 1)
    assert doc["procs"] == 2


def test_conn_to_a_closed_port_counts_refusals(served):
    topo, d, path = served
    rc, doc, err = loadgen(topo.ns_b, "conn", "--dst", f"{STACK_IP}:{CLOSED_PORT}",
                           "--clients", 4, "--count", 40)
    assert rc == 1, doc
    assert doc["completed"] == 0 and doc["attempted"] == 40, doc
    assert doc["errors"]["refused"] == 40 and doc["errors"]["total"] == 40, doc["errors"]
    assert doc["latency_us"] is None


def test_conn_timeout_is_counted_and_bounded(served):
    """Nobody answers ARP for .77: every attempt ends at --timeout."""
    topo, d, path = served
    t0 = time.monotonic()
    rc, doc, err = loadgen(topo.ns_b, "conn", "--dst", "172.17.0.77:80", "--clients", 3,
                           "--count", 3, "--timeout", 300)
    assert rc == 1
    assert doc["errors"]["total"] == 3, doc["errors"]
    assert doc["errors"]["timeout"] + doc["errors"]["unreachable"] == 3, doc["errors"]
    assert time.monotonic() - t0 < 30


def test_hold_2000_idle_connections_from_two_sources(served, sources):
    topo, d, path = served
    h = Hold(topo, "--dst", f"{STACK_IP}:{ECHO_PORT}", "--conns", 2000, "--size", 8,
             "--duration", 300, *[a for s in sources for a in ("--src", s)])
    line = h.ready()
    assert "2000/2000 established" in line, line
    est = from_sources(path, sources).get("ESTABLISHED", [])
    assert len(est) >= 2000, f"the stack holds {len(est)} established"
    per = {s: sum(1 for c in est if c["remote_ip"] == s) for s in sources}
    assert per == {s: 1000 for s in sources}, per
    rc, doc = h.finish()
    assert rc == 0, doc
    assert doc["established"] == 2000 and doc["held_at_end"] == 2000, doc
    assert doc["lost"] == 0 and doc["errors"]["total"] == 0, doc
    assert doc["sources"] == list(sources)
    check_latency(doc, 2000)
    wait_until(lambda: not from_sources(path, sources), 30,
               "the stack to release the 2,000 held connections")


# ------------------------------------------------------ against kernel xs_echod

def test_kernel_echod_serves_conn_and_hold(served, sources):
    topo = served[0]
    e = netns.ns_popen(topo.ns_a, [tool("xs_echod"), "--addr", KERNEL_A_IP, "--port",
                                   KERNEL_PORT, "--procs", 2, "--duration", 300],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    topo.procs.append(e)
    try:
        line = e.stdout.readline()
        assert "listening on" in line, line + e.stderr.read()
        dst = f"{KERNEL_A_IP}:{KERNEL_PORT}"
        rc, doc, err = loadgen(topo.ns_b, "conn", "--dst", dst, "--clients", 16, "--count",
                               1000, "--size", 100, "--procs", 2)
        check_conn(rc, doc, err, 1000, 100)

        h = Hold(topo, "--dst", dst, "--conns", 2000, "--size", 8, "--duration", 300,
                 "--procs", 2, *[a for s in sources for a in ("--src", s)])
        assert "2000/2000 established" in h.ready()
        ss = netns.ns_run(topo.ns_a, ["ss", "-Htn", "state", "established",
                                      f"( sport = :{KERNEL_PORT} )"])
        peers = [l.split()[-1].rsplit(":", 1)[0] for l in ss.stdout.splitlines() if l.strip()]
        assert {s: peers.count(s) for s in sources} == {s: 1000 for s in sources}
        rc, doc = h.finish()
        assert rc == 0 and doc["established"] == doc["held_at_end"] == 2000, doc
        assert doc["errors"]["total"] == 0 and doc["procs"] == 2, doc

        def released():
            p = netns.ns_run(topo.ns_a, ["ss", "-Htn", "state", "established",
                                         f"( sport = :{KERNEL_PORT} )"])
            return not p.stdout.strip()
        wait_until(released, 15, "xs_echod to release the held connections")
    finally:
        e.send_signal(signal.SIGTERM)
        out, err = e.communicate(timeout=30)
    assert e.returncode == 0, err
    stats = [l for l in err.splitlines() if l.startswith("xs_echod[")]
    assert len(stats) == 2, err
    accepted = sum(int(l.split("accepted ")[1].split(",")[0]) for l in stats)
    assert accepted == 3000, err


def test_hold_reports_connections_the_server_drops(served):
    """xs_echod ends while 50 connections are held: the load generator sees
    each one lost, stops by itself long before --duration, and exits 1."""
    topo = served[0]
    e = netns.ns_popen(topo.ns_a, [tool("xs_echod"), "--addr", KERNEL_A_IP, "--port",
                                   KERNEL_PORT + 1, "--duration", 60],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    topo.procs.append(e)
    assert "listening on" in e.stdout.readline()
    h = Hold(topo, "--dst", f"{KERNEL_A_IP}:{KERNEL_PORT + 1}", "--conns", 50,
             "--duration", 300)
    assert "50/50 established" in h.ready()
    e.send_signal(signal.SIGTERM)
    _, err = e.communicate(timeout=30)
    assert e.returncode == 0, err
    assert "open 50" in err, err  # it still held them when it stopped
    out, _ = h.proc.communicate(timeout=30)  # no signal: it ends by itself
    h.pump.join(5)
    doc = json.loads(out)
    assert h.proc.returncode == 1, doc
    assert doc["established"] == 50 and doc["lost"] == 50 and doc["held_at_end"] == 0, doc
    assert doc["held_s"] < 60, doc


def test_conn_whose_every_start_fails_still_ends_at_its_duration(served):
    """A source address the peer does not have: every bind() fails at once
    (EADDRNOTAVAIL). The run keeps trying, counts each failure as `addr`,
    and still ends at --duration instead of spinning."""
    topo = served[0]
    t0 = time.monotonic()
    rc, doc, err = loadgen(topo.ns_b, "conn", "--dst", f"{STACK_IP}:{ECHO_PORT}",
                           "--clients", 4, "--duration", 1, "--src", "172.17.0.99")
    took = time.monotonic() - t0
    assert rc == 1, doc
    assert doc["completed"] == 0 and doc["errors"]["addr"] > 0, doc
    assert doc["errors"]["total"] == doc["errors"]["addr"] == doc["attempted"], doc
    assert took < 10, took


def test_services_take_handles_past_4096(topo, xdpstack, tmp_path):
    """5,000 connections held, so every new one gets a handle id above 5,000
    (the daemon's HTTP, sockperf and iperf3 services once kept tables of
    4096 by handle id and reset whatever came past them): each service still
    takes a new connection, and the echo still serves."""
    path = tmp_path / "xs.sock"
    root = tmp_path / "root"
    root.mkdir()
    (root / "f.txt").write_bytes(b"0123456789" * 100)
    d = xdpstack(topo, extra=["--ctl", path, "--http", 8080, "--root", root,
                              "--sockperf", "--iperf3"])
    assert topo.ping(STACK_IP, count=1).returncode == 0
    for ip in SOURCES:
        netns.run(["ip", "-n", topo.ns_b, "addr", "add", f"{ip}/{PLEN}", "dev", topo.dev_b])
    h = Hold(topo, "--dst", f"{STACK_IP}:{ECHO_PORT}", "--conns", 5000, "--size", 8,
             "--duration", 300, *[a for s in SOURCES for a in ("--src", s)])
    assert "5000/5000 established" in h.ready()
    before = d.counters()
    p = netns.ns_run(topo.ns_b, ["curl", "-s", "-m", "10", f"http://{STACK_IP}:8080/f.txt"],
                     check=False)
    assert p.returncode == 0 and p.stdout == "0123456789" * 100, (p.returncode, p.stderr)
    # sockperf (11111) and iperf3 (5201): accepted and kept, not reset.
    socks = []
    for port in (11111, 5201):
        c = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(5)
        c.connect((STACK_IP, port))
        c.settimeout(0.5)
        with pytest.raises(socket.timeout):
            c.recv(1)  # a reset would raise ConnectionResetError, a close b""
        socks.append(c)
    after = d.counters()
    for name in ("http_conn_refused", "sockperf_drop_conn_limit", "iperf3_pending_full"):
        assert after[name] == before[name], name
    assert after["sockperf_tcp_accepted"] == before["sockperf_tcp_accepted"] + 1
    for c in socks:
        c.close()
    rc, doc, err = loadgen(topo.ns_b, "conn", "--dst", f"{STACK_IP}:{ECHO_PORT}",
                           "--clients", 8, "--count", 200)
    check_conn(rc, doc, err, 200, 64)
    rc, doc = h.finish()
    assert rc == 0 and doc["established"] == doc["held_at_end"] == 5000, doc
    code, out, err = d.stop()
    assert code == 0 and d.sanitizer_report() is None, err


def test_conn_for_a_duration(served):
    """No --count: clients loop for --duration, then the ones in flight
    finish and nothing is left unfinished or failed."""
    topo, d, path = served
    t0 = time.monotonic()
    rc, doc, err = loadgen(topo.ns_b, "conn", "--dst", f"{STACK_IP}:{ECHO_PORT}",
                           "--clients", 4, "--duration", 1, "--size", 10)
    took = time.monotonic() - t0
    assert rc == 0, doc
    n = doc["completed"]
    assert n > 0 and doc["attempted"] == n, doc
    check_conn(rc, doc, err, n, 10)
    assert doc["elapsed_s"] <= 1 + 5 and took < 30, (doc["elapsed_s"], took)


def test_conn_closing_with_rst(served):
    """--rst: SO_LINGER 0, each connection ends with a RST the stack counts,
    and the echo still completes first."""
    topo, d, path = served
    before = ctl(path, "stats")["counters"]
    rc, doc, err = loadgen(topo.ns_b, "conn", "--dst", f"{STACK_IP}:{ECHO_PORT}",
                           "--clients", 4, "--count", 100, "--rst")
    check_conn(rc, doc, err, 100, 64)
    after = ctl(path, "stats")["counters"]
    assert after["tcp_rst_rx"] - before["tcp_rst_rx"] >= 100, (before, after)
    wait_until(lambda: not from_sources(path, ("172.17.0.2",)), 15,
               "the stack to drop the reset connections")


def test_hold_closing_with_rst(served):
    """hold --rst (what the bench's idle rows use): the held connections end
    with a RST each, and the stack lets them all go."""
    topo, d, path = served
    before = ctl(path, "stats")["counters"]
    h = Hold(topo, "--dst", f"{STACK_IP}:{ECHO_PORT}", "--conns", 100, "--size", 8,
             "--duration", 300, "--rst")
    assert "100/100 established" in h.ready()
    rc, doc = h.finish()
    assert rc == 0 and doc["established"] == doc["held_at_end"] == 100, doc
    after = ctl(path, "stats")["counters"]
    assert after["tcp_rst_rx"] - before["tcp_rst_rx"] >= 100, (before, after)
    wait_until(lambda: not from_sources(path, ("172.17.0.2",)), 15,
               "the stack to drop the reset connections")
