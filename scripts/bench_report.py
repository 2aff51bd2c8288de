# Reporting for scripts/bench.py: the machine and commit, the markdown section of
# docs/BENCHMARKS.md (regenerated between markers, history kept) and the PNG plots.
"""Used by scripts/bench.py; importable without root (tests/integration/test_bench.py)."""

import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STACKS = ("xdpstack", "kernel")
# Sections whose two columns are two ways of running xdpstack, not xdpstack
# and the kernel (the JSON keeps the keys xdpstack and kernel for them).
COLUMNS = {"9. packet filter": ("dropped in XDP", "dropped by the stack (`filter xdp off`)",
                                "ratio (>1: XDP better)")}
DEFAULT_COLUMNS = ("xdpstack", "kernel", "ratio (>1: xdpstack better)")
LATEST_START = "<!-- bench:latest:start (scripts/bench.py regenerates this section) -->"
LATEST_END = "<!-- bench:latest:end -->"


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"kernel": platform.release(), "nproc": os.cpu_count(), "cpu": model,
            "loadavg": Path("/proc/loadavg").read_text().split()[:3],
            "os": platform.freedesktop_os_release().get("PRETTY_NAME", "")
            if hasattr(platform, "freedesktop_os_release") else ""}


def commit():
    p = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                       capture_output=True, text=True)
    c = p.stdout.strip() or "unknown"
    d = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                       capture_output=True, text=True)
    return c + ("+dirty" if d.stdout.strip() else "")


def fmt(v, unit):
    if v is None:
        return "-"
    if unit.startswith("Gbit/s"):
        return f"{v:.2f}"
    if unit == "us":
        return f"{v:.1f}" if v < 1000 else f"{v:.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.2f}"


def cell(col, unit):
    if col["status"] == "not available":
        return f"not available: {col['note']}"
    s = col["summary"]
    if not s:
        return f"failed: {col.get('note', '')}"
    txt = fmt(s["median"], unit)
    if s["n"] > 1:
        txt += f" ({fmt(s['min'], unit)}–{fmt(s['max'], unit)})"
    if col["status"] == "failed":
        txt += f"; a run failed: {col['note']}"
    elif col.get("note"):
        txt += f"; {col['note']}"
    return txt


def markdown(doc):
    m = doc["machine"]
    lines = [LATEST_START, "",
             f"## Latest: {doc['date']}, commit {doc['commit']}"
             + (" (QUICK: one repetition, smaller sizes)" if doc["quick"] else ""), "",
             f"{m['os']}, kernel {m['kernel']}, {m['nproc']} cores ({m['cpu']}), load "
             f"average {' '.join(m['loadavg'])} at the start; {doc['reps']} repetition"
             f"{'s' if doc['reps'] > 1 else ''} per figure, median (min–max); run took "
             f"{doc['elapsed_s']:.0f} s. Raw results: `{doc['json']}`."
             + (f" The daemon ran with `{' '.join(doc['daemon_args'])}`."
                if doc.get("daemon_args") else ""), ""]
    section = None
    for r in doc["rows"]:
        if r["section"] != section:
            section = r["section"]
            cols = COLUMNS.get(section, DEFAULT_COLUMNS)
            lines += ["", f"### {section}", "",
                      f"| workload | unit | {cols[0]} | {cols[1]} | {cols[2]} |",
                      "|---|---|---|---|---|"]
        ratio = "-" if not r["ratio"] else (f"{r['ratio']:.2f}" if r["ratio"] >= 0.1
                                             else f"{r['ratio']:.2g}")
        unit = r["unit"] + (" (lower is better)" if r["better"] == "lower" else "")
        lines.append(f"| {r['workload']} | {unit} | {cell(r['xdpstack'], r['unit'])} | "
                     f"{cell(r['kernel'], r['unit'])} | {ratio} |")
    if doc["notes"]:
        lines += [""] + [f"- {n}" for n in doc["notes"]]
    if doc["plots"]:
        lines += ["", "Plots: " + ", ".join(f"[{Path(p).name}]({Path(p).name})"
                                            for p in doc["plots"]) + "."]
    lines += ["", LATEST_END]
    return "\n".join(lines) + "\n"


METHOD = """# Benchmarks: xdpstack beside the Linux kernel

`make bench` (as root; `make bench QUICK=1` for a short run) runs `scripts/bench.py`. It builds
its own namespaces and one veth pair with offloads off on both ends, starts xdpstack on
172.17.0.253 (with `--iperf3` and `--sockperf`; TCP and UDP echo on 8888) and the kernel's peers
on 172.17.0.1, the kernel's own address on the same interface: `udp_bench server` (UDP echo with
recvmmsg/sendmmsg), `xs_echod` (TCP echo, epoll), `iperf3 -s` and `sockperf sr` (UDP and TCP).
The same stock client runs from the peer namespace against both: `ping`, `sockperf ping-pong`
(its p50 and p99), `udp_bench client` (echoes/s with 32 in flight; each echo is one request
and one reply packet), `iperf3`, and `xs_loadgen` (connections/s with `conn`; idle connections
with `hold`, from four source addresses). Row 7 is the stack alone: `build/stack_bench` runs
two stacks over the in-memory device in one process (a bulk transfer and request/response,
each in its own process), in CPU and wall time, and under `perf stat` when the machine has
hardware counters (the whole process's instructions and cycles over the frames both stacks
sent). Each figure is the median of the repetitions (3, or 1 with QUICK) with
min–max; the repetitions alternate which stack goes first. The ratio is oriented so that > 1
means xdpstack did better. Idle connections (row 6): every hold, of either stack and in every
repetition, is made against a server started afresh (a new daemon, a new xs_echod), with the
baseline taken right before it, so that nothing an earlier hold or row left resident counts;
`xs_loadgen hold` verifies each connection with one 64-byte echo and at the end closes them
with RST (no TIME-WAIT outlives a hold). The sample waits until the memory has settled: for
xdpstack, until every connection's two rings have been freed as idle (`tcp_buf_released` grew
by two per connection; a ring goes 200 ms after it empties) and the RSS has then stayed within
0.5 % for a second (the daemon gives freed pages back with malloc_trim at most once a second);
for the kernel, until Slab and xs_echod's RSS stay put. Measured sooner, freed rings still
count (earlier runs showed 9-12 KB per connection at 10,000 that way). xdpstack's first figure
is the daemon's whole RSS divided by the connections held, its fixed cost (about 18 MiB: UMEM,
rings, tables) included, so it falls as N grows; the second is what the hold added to a fresh
daemon's RSS, divided by N: the cost of one more idle connection (its TCB, its share of the
tables, the allocator's overhead), comparable across N. The JSON also has TCP's own account
(`tcp_mem_bytes` per connection). The kernel's figure, in both rows, is half the growth of
`Slab` in /proc/meminfo (both ends of every connection are kernel sockets; Slab is machine-wide,
so other work on the machine adds noise) plus the growth of xs_echod's RSS, divided by the
connections held. Row 8 is the HTTP server: the daemon's
`--http` against nginx (one worker) on the kernel's address, the same 4 KiB file, `wrk -t1
-c16` keep-alive for requests/s and p99 latency. Row 9 is the packet filter: `xs_flood`
sends 64-byte UDP frames through AF_PACKET from the peer namespace for a few seconds to a port
a `drop` rule covers, once with the rule enforced in the XDP program and once with `filter xdp
off` (the same daemon: every frame copied to the stack, which drops it); it reports the frames
the filter dropped per second, the frames sent per second, and the daemon's CPU over the flood
(/proc/PID/stat). On veth the XDP program runs on the sender's CPU, so the sending rate is
bounded by the sender plus the receiving path. Row 10 is multi-queue: the daemon with one
queue on a one-queue veth, then with two on a two-queue veth, against the same kernel on the
same veth (`tcp_rr`, four connections at once, and `xs_loadgen conn`, 64 clients). Row 11 is
HTTPS: xdpstack `--https` against
the same nginx serving TLS 1.2/1.3 with the same ECDSA P-256 certificate and 1 KiB file:
`wrk` for requests/s on 16 keep-alive connections, `openssl s_time -new` (four at once) for
full handshakes/s (wrk resumes sessions, so it is not used for those). A row whose tool is
missing says "not available"; a row that failed, or a hold that fell short, says why.
Raw results go to build/bench/DATE.json; a full run regenerates the section below and the
plots in docs/ (bench_*.png); QUICK and `--only` runs write theirs next to the JSON. The
machine is shared: compare ratios measured in one run, not absolute numbers across runs.
"""


def write_docs(doc, docs_dir):
    path = docs_dir / "BENCHMARKS.md"
    old = path.read_text() if path.exists() else ""
    latest = markdown(doc)
    if LATEST_START in old and LATEST_END in old:
        head, rest = old.split(LATEST_START, 1)
        tail = rest.split(LATEST_END, 1)[1].lstrip("\n")
    else:
        # First regeneration: the hand-written sections below the old
        # introduction become the history.
        i = old.find("\n## ")
        tail = old[i + 1:] if i >= 0 else ""
    if tail and not tail.startswith("# History"):
        tail = "# History (earlier runs, kept as they were written)\n\n" + tail
    path.write_text(METHOD + "\n" + latest + "\n" + tail)
    return path


def plots(doc, cdf, docs_dir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        doc["notes"].append("python3-matplotlib is not installed: no plots.")
        return []
    out = []
    colors = {"xdpstack": "tab:blue", "kernel": "tab:orange"}
    for proto in ("udp", "tcp"):
        ids = [k for k in sorted(cdf) if k.startswith(proto + "_rr_")]
        if not ids:
            continue
        fig, (ax, tail) = plt.subplots(1, 2, figsize=(11, 4.5))
        for pid in ids:
            size = pid.rsplit("_", 1)[1]
            for s, lat in cdf[pid].items():
                n = len(lat)
                step = max(1, n // 2000)
                xs = lat[::step] + [lat[-1]]
                ys = [i / n for i in range(0, n, step)] + [1.0]
                style = dict(color=colors[s], linestyle="-" if size == "64" else "--",
                             label=f"{s}, {size} B")
                ax.plot(xs, ys, **style)
                # The tail: the fraction slower than x, on a log scale,
                # from the slowest 10% (every point of it).
                k = int(n * 0.9)
                tail.plot(lat[k:], [(n - i) / n for i in range(k, n)], **style)
        ax.set_xscale("log")
        ax.set_xlabel("round-trip latency (us, log scale)")
        ax.set_ylabel("fraction of transactions")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        tail.set_xscale("log")
        tail.set_yscale("log")
        tail.set_xlabel("round-trip latency (us, log scale)")
        tail.set_ylabel("fraction slower (log scale)")
        tail.set_title("the slowest 10%")
        tail.grid(True, which="both", alpha=0.3)
        fig.suptitle(f"{proto.upper()} request/response (sockperf ping-pong), "
                     f"{doc['date']}, {doc['commit']}")
        p = docs_dir / f"bench_{proto}_rr_cdf.png"
        fig.tight_layout()
        fig.savefig(p, dpi=100)
        plt.close(fig)
        out.append(str(p))
    for prefix, fname, ylabel, title in (
            ("bulk_", "bench_bulk.png", "Gbit/s", "TCP bulk (iperf3)"),
            ("conn_", "bench_conn.png", "connections/s", "connections/s (xs_loadgen conn)")):
        rows = [r for r in doc["rows"] if r["id"].startswith(prefix)]
        if not rows or not any(r[s]["summary"] for r in rows for s in STACKS):
            continue
        fig, ax = plt.subplots(figsize=(8, 4.5))
        w = 0.38
        for k, s in enumerate(STACKS):
            med, lo, hi = [], [], []
            for r in rows:
                sm = r[s]["summary"]
                med.append(sm["median"] if sm else 0)
                lo.append(sm["median"] - sm["min"] if sm else 0)
                hi.append(sm["max"] - sm["median"] if sm else 0)
            ax.bar([i + (k - 0.5) * w for i in range(len(rows))], med, w, yerr=[lo, hi],
                   capsize=3, color=colors[s], label=s)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([r["workload"].replace("TCP bulk, ", "").replace(
            "connect, 64 B echo, close; ", "") for r in rows], fontsize=8, rotation=10)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title}, median and min–max, {doc['date']}, {doc['commit']}",
                     fontsize=10)
        ax.legend()
        ax.grid(True, axis="y", alpha=0.3)
        fig.tight_layout()
        p = docs_dir / fname
        fig.savefig(p, dpi=100)
        plt.close(fig)
        out.append(str(p))
    return out
