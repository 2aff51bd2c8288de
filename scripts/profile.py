#!/usr/bin/python3
# Profiles the daemon under load with perf (cpu-clock, call graphs): TCP bulk both ways
# (iperf3), TCP request/response (sockperf) and connection setup (xs_loadgen conn) over
# the bench's veth pair; docs/PROFILE.md.
"""make profile  (as root)

Builds the topology of scripts/bench.py (two namespaces, one veth pair, offloads off),
starts build/xdpstack with --iperf3 --sockperf, and for each workload runs
`perf record -e cpu-clock -g -p PID` on the daemon while the stock client loads it,
then prints the top of `perf report --stdio --no-children`. The stack alone
(build/stack_bench) is profiled the same way. Nothing is asserted; the output is text
for docs/PROFILE.md.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import (ECHO_PORT, IPERF_PORT, SOCKPERF_PORT, SRC_IPS, STACK_IP,  # noqa: E402
                   Topology)

REPO = Path(__file__).resolve().parents[1]


def top(data, lines):
    """The top of a profile, flat (self time per symbol): the header lines dropped."""
    p = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none",
                        "--percent-limit", "0.3"], capture_output=True, text=True)
    out = [ln for ln in p.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
    return "\n".join(out[:lines])


def record(pid, data, seconds):
    return subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-g", "-o", data, "-p",
                             str(pid), "--", "sleep", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15)."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def main():
    ap = argparse.ArgumentParser(description="perf profiles of xdpstack under load")
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=4, help="per workload (default 4)")
    ap.add_argument("--lines", type=int, default=40, help="lines of each report (default 40)")
    ap.add_argument("--keep", help="keep the perf.data files in this directory")
    ap.add_argument("--only", help="comma-separated: stack_bulk,stack_rr,stack_conn,bulk_up,"
                    "bulk_down,tcp_rr,conn")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("profile.py: needs root (namespaces, XDP, perf -p)", file=sys.stderr)
        return 1
    build = REPO / a.build
    want = a.only.split(",") if a.only else ["stack_bulk", "stack_rr", "stack_conn",
                                                "bulk_up", "bulk_down", "tcp_rr", "conn"]
    tmp = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="xsprof-"))
    tmp.mkdir(parents=True, exist_ok=True)
    secs = a.seconds
    for w, args in (("stack_bulk", ["--only", "bulk", "--bytes", str(2 << 30)]),
                    ("stack_rr", ["--only", "rr", "--transactions", "1000000"]),
                    ("stack_conn", ["--only", "conn", "--conns", "200000", "--inflight", "64"])):
        if w not in want:
            continue
        data = str(tmp / f"{w}.data")
        subprocess.run(["perf", "record", "-e", "cpu-clock", "-g", "-o", data, "--",
                        build / "stack_bench"] + args, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        print(f"## {w}\n\n```\n{top(data, a.lines)}\n```\n", flush=True)
    daemon_rows = [w for w in want if not w.startswith("stack_")]
    if not daemon_rows:
        return 0
    topo = Topology()
    daemon = None
    try:
        topo.up()
        log = open(tmp / "daemon.log", "w")
        daemon = topo.spawn("a", [build / "xdpstack", "--ip", STACK_IP, "--dev", topo.va,
                                  "--ctl", str(tmp / "ctl.sock"), "--iperf3", "--sockperf"],
                            stdout=log, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while "serving" not in (tmp / "daemon.log").read_text():
            if daemon.poll() is not None or time.monotonic() - t0 > 10:
                raise RuntimeError("xdpstack did not start: " +
                                   (tmp / "daemon.log").read_text()[-400:])
            time.sleep(0.1)
        # The daemon's own pid (ip netns exec execs it).
        pid = daemon.pid
        subprocess.run(topo.ns("b", ["ping", "-c", 3, "-i", 0.2, "-q", STACK_IP]),
                       capture_output=True)
        loads = {
            "bulk_up": ["iperf3", "-c", STACK_IP, "-p", IPERF_PORT, "-t", secs + 2],
            "bulk_down": ["iperf3", "-c", STACK_IP, "-p", IPERF_PORT, "-t", secs + 2, "-R"],
            "tcp_rr": ["sockperf", "ping-pong", "--tcp", "-i", STACK_IP, "-p", SOCKPERF_PORT,
                       "-t", secs + 2, "-m", 64],
            # connect, 64 B echo, close; 16 at once from 4 source addresses
            "conn": [build / "xs_loadgen", "conn", "--dst", f"{STACK_IP}:{ECHO_PORT}",
                     "--clients", 16, "--duration", secs + 2, "--size", 64, "--json"] +
                    [x for ip in SRC_IPS for x in ("--src", ip)],
        }
        for w in daemon_rows:
            ticks0 = cpu_ticks(pid)
            client = subprocess.Popen(topo.ns("b", [str(x) for x in loads[w]]),
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True)
            time.sleep(1)
            data = str(tmp / f"{w}.data")
            rec = record(pid, data, secs)
            rec.wait(secs + 30)
            out, _ = client.communicate(timeout=secs + 60)
            ticks = cpu_ticks(pid) - ticks0
            summary = [ln for ln in out.splitlines()
                       if "receiver" in ln or "percentile 50.000" in ln or "avg-latency" in ln]
            if w == "conn":
                try:
                    j = json.loads(out[out.index("{"):])
                    done = max(j["completed"], 1)
                    summary = [f"{j['conn_per_s']:.0f} conn/s, {j['completed']} completed, "
                               f"daemon CPU {ticks / os.sysconf('SC_CLK_TCK') * 1e6 / done:.1f}"
                               " us per connection"]
                except (ValueError, KeyError) as e:
                    summary = [f"xs_loadgen: {e}: {out[-200:]}"]
            print(f"## {w}\n\nclient: {' | '.join(s.strip() for s in summary)}\n\n```\n"
                  f"{top(data, a.lines)}\n```\n", flush=True)
    finally:
        if daemon is not None:
            topo.stop(daemon)
        topo.close()
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
