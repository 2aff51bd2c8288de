#!/usr/bin/python3
# CPU seconds the daemon spends per GB of TCP bulk (iperf3 against --iperf3), old and new
# binaries taking turns on the bench's veth pair, user and system time apart.
"""make bulk-cpu  (as root), or scripts/bulk_cpu.py --bin A --bin B [options]

For each repetition and each binary (in turn, the order alternating): a fresh daemon on
the bench's topology (scripts/bench.py: two namespaces, one veth pair, offloads off),
a stock `iperf3 -c ... -J` from the peer namespace, and the daemon's user+system CPU
(/proc/PID/stat) over the run divided by the bytes iperf3 counted, user and system time
apart, and the client's. CPU per byte depends less than Gbit/s on how much of the cores
other work leaves, but on veth it is not steady either: system time (the copy-mode
transmit, and the peer's TCP receive that veth runs inside our sendto) changes with how
the two ends are scheduled (docs/PROFILE.md); user time, the stack's own code, is the
steadier figure. The kernel's iperf3 -s is measured the same way as a reference
(its process's CPU includes the softirq work that runs in its context). Also reported,
with --syscalls, the daemon's sendto, recvfrom and poll calls per GB (perf stat). Nothing is
asserted; medians and min-max go to stdout, raw values to --json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import IPERF_PORT, KERNEL_IP, STACK_IP, Topology, proc_cpu_s  # noqa: E402


def proc_user_sys_s(pid):
    """(user, system) CPU seconds of a process so far (/proc/PID/stat)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        hz = os.sysconf("SC_CLK_TCK")
        return int(f[11]) / hz, int(f[12]) / hz
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0

REPO = Path(__file__).resolve().parents[1]


def count_syscalls(pid, seconds):
    """perf stat of sendto/recvfrom/poll entries of pid over seconds (None: no perf)."""
    ev = ["syscalls:sys_enter_sendto", "syscalls:sys_enter_recvfrom", "syscalls:sys_enter_poll"]
    try:
        return subprocess.Popen(["perf", "stat", "-x", ",", "-p", str(pid)] +
                                sum([["-e", e] for e in ev], []) + ["--", "sleep", str(seconds)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except OSError:
        return None


def parse_perf_stat(text):
    out = {}
    for ln in text.splitlines():
        f = ln.split(",")
        if len(f) > 2 and f[2].startswith("syscalls:"):
            try:
                out[f[2].split("sys_enter_")[1]] = int(f[0])
            except ValueError:
                pass
    return out


def one_run(topo, label, binary, a, tmp):
    """One fresh server, one iperf3 run; the figures of that run."""
    ctl = str(tmp / f"{label}.sock")
    logf = tmp / f"{label}.log"
    if label == "kernel":
        srv = topo.spawn("a", ["iperf3", "-s", "-1", "-B", KERNEL_IP, "-p", IPERF_PORT])
        target = KERNEL_IP
        time.sleep(0.5)
    else:
        with open(logf, "w") as log:
            srv = topo.spawn("a", [binary, "--ip", STACK_IP, "--dev", topo.va, "--ctl", ctl,
                                   "--iperf3"], stdout=log, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while "serving" not in logf.read_text():
            if srv.poll() is not None or time.monotonic() - t0 > 10:
                raise RuntimeError(f"{label} did not start: {logf.read_text()[-300:]}")
            time.sleep(0.1)
        target = STACK_IP
    subprocess.run(topo.ns("b", ["ping", "-c", 2, "-i", 0.2, "-q", target]),
                   capture_output=True)
    cmd = ["iperf3", "-c", target, "-p", IPERF_PORT, "-t", a.seconds, "-J"]
    if a.reverse:
        cmd.append("-R")
    if a.streams > 1:
        cmd += ["-P", a.streams]
    cpu0 = proc_cpu_s(srv.pid)
    us0 = proc_user_sys_s(srv.pid)
    client = subprocess.Popen(topo.ns("b", cmd), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    sc = None
    if a.syscalls and label != "kernel":
        time.sleep(1)
        sc = count_syscalls(srv.pid, a.seconds - 2)
    ccpu = 0.0
    while client.poll() is None:
        ccpu = max(ccpu, proc_cpu_s(client.pid))
        time.sleep(0.05)
    out, _ = client.communicate(timeout=a.seconds + 60)
    cpu1 = proc_cpu_s(srv.pid)
    us1 = proc_user_sys_s(srv.pid)
    res = {"label": label}
    try:
        j = json.loads(out)
        end = j["end"]
        res["bytes"] = end["sum_received"]["bytes"]
        res["gbps"] = end["sum_received"]["bits_per_second"] / 1e9
        res["secs"] = end["sum_received"]["seconds"]
        res["retrans"] = end["sum_sent"].get("retransmits", 0)
    except (ValueError, KeyError) as e:
        res["error"] = f"iperf3: {e}: {out[-300:]}"
        topo.stop(srv)
        return res
    res["cpu_s"] = cpu1 - cpu0
    res["cpu_s_per_gb"] = res["cpu_s"] / (res["bytes"] / 1e9)
    # User time is the server's own code (the stack, or iperf3 itself);
    # system time the kernel's work in its context (for the daemon: the
    # copy-mode transmit and the peer's receive that veth runs in sendto).
    res["user_s_per_gb"] = (us1[0] - us0[0]) / (res["bytes"] / 1e9)
    res["sys_s_per_gb"] = (us1[1] - us0[1]) / (res["bytes"] / 1e9)
    # The client's CPU (sampled until it exits: its last ~50 ms may be missed).
    res["client_cpu_s_per_gb"] = ccpu / (res["bytes"] / 1e9)
    if sc is not None:
        _, err = sc.communicate(timeout=60)
        calls = parse_perf_stat(err)
        # perf counted over (seconds - 2) of the run: scale by bytes in that time.
        window = (a.seconds - 2) / res["secs"] * res["bytes"] / 1e9
        for k, v in calls.items():
            res[k + "_per_gb"] = v / window
    topo.stop(srv)
    return res


def main():
    ap = argparse.ArgumentParser(description="daemon CPU per GB of TCP bulk, A/B")
    ap.add_argument("--bin", action="append", help="xdpstack binary (repeatable; label=PATH)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--forward", dest="reverse", action="store_false",
                    help="the client sends (default: iperf3 -R, the server sends)")
    ap.add_argument("-P", "--streams", type=int, default=1)
    ap.add_argument("--kernel", action="store_true", help="also the kernel's iperf3 -s")
    ap.add_argument("--syscalls", action="store_true",
                    help="count the daemon's sendto/recvfrom/poll with perf stat")
    ap.add_argument("--json", help="write the raw runs here")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bulk_cpu.py: needs root (namespaces, XDP)", file=sys.stderr)
        return 1
    bins = []
    for b in a.bin or [str(REPO / "build" / "xdpstack")]:
        label, _, path = b.rpartition("=")
        bins.append((label or Path(path).parent.name, str(Path(path).resolve())))
    if a.kernel:
        bins.append(("kernel", "iperf3"))
    runs = {label: [] for label, _ in bins}
    tmp = Path(tempfile.mkdtemp(prefix="xsbulk-"))
    topo = Topology()
    try:
        topo.up()
        for rep in range(a.reps):
            order = bins if rep % 2 == 0 else list(reversed(bins))
            for label, path in order:
                r = one_run(topo, label, path, a, tmp)
                runs[label].append(r)
                print(f"rep {rep + 1} {label}: " + ", ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in r.items() if k != "label"), flush=True)
    finally:
        topo.close()
    print()
    keys = sorted({k for rs in runs.values() for r in rs for k, v in r.items()
                   if isinstance(v, (int, float)) and k != "bytes"})
    for label, rs in runs.items():
        print(f"{label}: median (min-max) of {len(rs)}")
        for k in keys:
            v = [r[k] for r in rs if k in r]
            if v:
                print(f"  {k:28s} {statistics.median(v):10.3f} ({min(v):.3f}-{max(v):.3f})")
    if a.json:
        Path(a.json).write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
