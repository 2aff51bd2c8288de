# Operating the daemon: the counter view (grouped by layer, non-zero unless
# -a), log levels (-v, -vv, -q) and --syslog, checked on a live daemon.
"""Counter view and logging of the xdpstack daemon.

Every test runs the daemon in its own namespaces (root, AF_XDP; skipped
otherwise). The --syslog test gives the daemon a private /dev with a
/dev/log of our own, so nothing reaches the host's log.
"""

import os
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import netns
from netns import STACK_IP

ROOT = Path(__file__).resolve().parents[2]


def stack_counter_names():
    """XS_COUNTERS and the drop reasons, from include/xdpstack/stats.h."""
    h = (ROOT / "include/xdpstack/stats.h").read_text()
    counters = h[h.index("#define XS_COUNTERS(X)"):]
    counters = counters[:counters.index("struct xs_stats")]
    names = set(re.findall(r"X\((\w+)\)", counters))
    drops = h[h.index("#define XS_DROP_REASONS(X)"):h.index("enum xs_drop {")]
    reasons = [r for r in re.findall(r"X\((\w+),", drops) if r != "NONE"]
    return names, {"drop_" + r.lower() for r in reasons}


def last_block_text(d):
    text = d.stdout()
    start = text.rindex("counters:\n")
    return text[start:text.index("\nend\n", start)]


def headers(block):
    """Layer headers of a block, with their depth (1: layer, 2: a drop layer)."""
    out = []
    for line in block.splitlines()[1:]:
        s = line.strip()
        if s.endswith(":"):
            out.append((len(line) - len(line.lstrip()), s[:-1]))
    return out


def test_counters_grouped_nonzero_by_default(topo, xdpstack):
    d = xdpstack(topo, all_counters=False)
    p = topo.ping(STACK_IP, count=3, interval="0.05")
    assert netns.parse_ping(p.stdout) == (3, 3), p.stdout
    assert topo.udp_echo(b"nobody", port=netns.UDP_ECHO_PORT + 1, timeout=0.3) is None
    c = d.counters()
    block = last_block_text(d)
    # Only non-zero counters, every one of them a known name.
    assert c and all(v > 0 for v in c.values()), block
    names, drops = stack_counter_names()
    assert set(c) <= names | drops | {"xdp_redirected", "xdp_passed"}, block
    assert c["icmp_echo_rx"] >= 3 and c["drop_udp_no_port"] == 1, block
    assert "tcp_rst_rx" not in c and "drop_ip_csum" not in c, block
    # Grouped: layers in order, each counter under its layer, drops by layer.
    hs = headers(block)
    top = [n for depth, n in hs if depth == 1]
    assert top[:5] == ["link", "arp", "ipv4", "icmp", "udp"], block
    assert "drops" in top and [n for depth, n in hs if depth == 3] == ["udp"], block
    layer = None
    for line in block.splitlines()[1:]:
        s = line.strip()
        if s.endswith(":"):
            layer = s[:-1]
            continue
        name = s.split()[0]
        want = {"rx": "link", "tx": "link", "xdp": "link", "frag": "ipv4", "ip": "ipv4",
                "drop": "udp", "mq": "queues"}.get(name.split("_")[0], name.split("_")[0])
        assert layer == want, f"{name} under {layer}:\n{block}"
    # The exit dump has the same shape.
    rc, out, err = d.stop()
    assert rc == 0, err
    final = netns.parse_counter_blocks(out)[-1]
    assert all(v > 0 for v in final.values()) and final["icmp_echo_rx"] >= 3


def test_all_counters_with_a(topo, xdpstack):
    d = xdpstack(topo, extra=["--all-counters"], all_counters=False)
    c = d.counters()
    names, drops = stack_counter_names()
    assert names | drops <= set(c), sorted(names | drops - set(c))
    assert any(v == 0 for v in c.values())
    assert c["xdp_redirected"] >= 0 and "xdp_passed" in c
    block = last_block_text(d)
    top = [n for depth, n in headers(block) if depth == 1]
    assert top == ["link", "arp", "ipv4", "icmp", "ipv6", "udp", "tcp", "dns", "tls", "queues", "drops"], block
    # -a is short for it.
    d.stop()
    d2 = xdpstack(topo, extra=["-a"], all_counters=False)
    assert names <= set(d2.counters())


def test_default_log_is_silent_and_v_tells_how_xdp_attached(topo, xdpstack):
    d = xdpstack(topo, all_counters=False)
    p = topo.ping(STACK_IP, count=1)
    assert netns.parse_ping(p.stdout) == (1, 1)
    rc, out, err = d.stop()
    assert rc == 0 and err == "", err
    assert re.search(r"^xdpstack: serving 172\.17\.0\.253/24 on ", out, re.M), out
    d = xdpstack(topo, extra=["-v"], all_counters=False)
    rc, out, err = d.stop()
    assert rc == 0
    assert re.search(r"^xdpstack: xs_steer .*attached to %s in \w+ mode" % topo.dev_a,
                     err, re.M), err
    assert "libbpf: " not in err or "DEBUG" not in err


def test_vv_adds_libbpf_debug(topo, xdpstack):
    d = xdpstack(topo, extra=["-vv"], all_counters=False)
    rc, out, err = d.stop()
    assert rc == 0
    lines = err.splitlines()
    assert len(lines) > 10 and any("libbpf" in l for l in lines), err[:2000]
    assert all(l.startswith("xdpstack: ") for l in lines if l and "Sanitizer" not in l), err


def test_quiet_prints_errors_only(topo, xdpstack):
    d = xdpstack(topo, extra=["-q"], all_counters=False, wait=False)
    # No status line to wait for: the service answering says it is up.
    end = time.monotonic() + 15
    while time.monotonic() < end and topo.udp_echo(b"up?", timeout=0.3) is None:
        assert d.running(), d.stderr()
    assert topo.udp_echo(b"up?") == (b"up?", (STACK_IP, netns.UDP_ECHO_PORT))
    rc, out, err = d.stop()
    assert rc == 0 and err == "", err
    assert "serving" not in out and "control socket" not in out, out
    # An error still gets its line.
    d = xdpstack(topo, args=["--ip", STACK_IP, "--dev", "nosuchdev0", "-q"], wait=False)
    d.proc.wait(10)
    d.out.join(2)
    d.err.join(2)
    assert d.proc.returncode == 1
    assert d.stderr().strip() == "xdpstack: no such interface 'nosuchdev0'", d.stderr()


def test_syslog(topo):
    """--syslog: the log goes to /dev/log (ours, in a private /dev), not stderr."""
    tmp = tempfile.mkdtemp(prefix="xs-syslog-")
    sock_path = os.path.join(tmp, "log")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(0.2)
    script = (
        "set -e; mount --make-rprivate /; mkdir -p $T/olddev; mount --rbind /dev $T/olddev; "
        "mount -t tmpfs -o mode=755 xsdev /dev; "
        "for n in null zero full random urandom tty; do touch /dev/$n; "
        "mount --bind $T/olddev/$n /dev/$n; done; "
        "ln -s $T/log /dev/log; "
        'exec ip netns exec "$NS" "$XS" --ip "$IP" --dev "$DEV" --syslog -v')
    env = dict(os.environ, T=tmp, NS=topo.ns_a, XS=str(netns.binary()), IP=STACK_IP,
               DEV=topo.dev_a)
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    proc = subprocess.Popen(["unshare", "--mount", "--", "sh", "-c", script], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    msgs = []
    try:
        end = time.monotonic() + 15
        while time.monotonic() < end and not any("serving" in m for m in msgs):
            try:
                msgs.append(s.recv(4096).decode(errors="replace"))
            except socket.timeout:
                assert proc.poll() is None, proc.communicate()
        assert topo.udp_echo(b"hi") == (b"hi", (STACK_IP, netns.UDP_ECHO_PORT))
        proc.terminate()
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        s.close()
        os.unlink(sock_path)
        # rmdir, never rmtree: olddev held /dev in the daemon's namespace only.
        if os.path.isdir(os.path.join(tmp, "olddev")):
            os.rmdir(os.path.join(tmp, "olddev"))
        os.rmdir(tmp)
    # RFC 3164 lines from the daemon facility (3 << 3): notice 29, info 30.
    assert any(re.match(r"<29>.*xdpstack\[\d+\]: serving 172\.17\.0\.253/24", m)
               for m in msgs), msgs
    assert any(re.match(r"<30>.*xdpstack\[\d+\]: xs_steer .*attached to", m)
               for m in msgs), msgs
    # Nothing of the log on stderr; the status and counters stay on stdout.
    assert "attached to" not in err and "Sanitizer" not in err, err
    assert "xdpstack: serving" in out and netns.parse_counter_blocks(out), out
