# Busy-poll mode (--busy-poll[=US]): the daemon spins on the AF_XDP rings while
# frames come and sleeps in poll() once idle, so an idle daemon burns no core.

import json
import os
import time

import pytest

import netns
from netns import STACK_IP, parse_ping

IDLE_US = 50000  # a short idle period keeps these tests' spinning brief
CLK_TCK = os.sysconf("SC_CLK_TCK")


def ctl_binary():
    return netns.build_dir() / "xdpstack-ctl"


def ctl_path(topo):
    return f"/run/xdpstack/{topo.dev_a}.sock"


def ctl(topo, *args):
    if not ctl_binary().exists():
        pytest.fail(f"{ctl_binary()} is not built (run make, or set XS_BUILD)")
    p = netns.run([str(ctl_binary()), "--ctl", ctl_path(topo)] + list(args), check=False,
                  timeout=10)
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p.stdout


def cpu_seconds(pid):
    """utime + stime of pid, from /proc/PID/stat (fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_share(pid, secs=2.0):
    """CPU time the process used over secs of wall time, as a fraction."""
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(secs)
    return (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def busy_line(d):
    lines = [l for l in d.stdout().splitlines() if "busy-poll:" in l]
    assert len(lines) == 1, d.stdout()
    return lines[0]


def test_idle_daemon_sleeps_and_traffic_wakes_it(topo, xdpstack):
    d = xdpstack(topo, extra=[f"--busy-poll={IDLE_US}"])
    line = busy_line(d)
    # The start line says the idle period and what the kernel made of its
    # socket options (on veth it takes them; whether it then busy-polls is
    # the napi id in stats, below).
    assert f"{IDLE_US} us" in line, line
    assert "accepted" in line or "refused" in line, line

    time.sleep(0.3)  # well past the idle period: asleep in poll()
    share = cpu_share(d.pid)
    assert share < 0.10, f"idle busy-poll daemon used {share:.0%} of a CPU"
    c0 = d.counters()
    assert c0["busy_poll_sleeps"] >= 1, c0
    assert c0["busy_poll_spins"] > 0, c0

    # The first frame wakes it through poll(); it answers every echo.
    p = topo.ping(STACK_IP, count=20, interval="0.01")
    assert parse_ping(p.stdout) == (20, 20), p.stdout
    c1 = d.counters()
    assert c1["busy_poll_wakes"] > c0["busy_poll_wakes"], (c0, c1)
    assert c1["busy_poll_spins"] > c0["busy_poll_spins"], (c0, c1)

    # And after the traffic it goes back to sleep.
    time.sleep(0.3)
    share = cpu_share(d.pid)
    assert share < 0.10, f"busy-poll daemon idle again used {share:.0%} of a CPU"
    c2 = d.counters()
    assert c2["busy_poll_sleeps"] > c1["busy_poll_sleeps"], (c1, c2)
    assert c2["icmp_echo_reply_tx"] >= 20, c2


def test_spinning_daemon_serves_control_and_stops(topo, xdpstack):
    # A 10 s idle period: it spins for the whole test, so the control socket
    # is served by the zero-timeout polls and SIGTERM ends the spin.
    d = xdpstack(topo, extra=["--busy-poll", "10000000"])
    assert "10000000 us" in busy_line(d)
    data, src = topo.udp_echo(b"spin")
    assert data == b"spin" and src == (STACK_IP, netns.UDP_ECHO_PORT), (data, src)
    js = json.loads(ctl(topo, "--json", "stats"))
    bp = js["busy_poll"]
    assert bp["idle_us"] == 10000000, bp
    assert bp["spinning"] is True, bp
    assert bp["spins"] > 0 and bp["sleeps"] == 0, bp
    assert isinstance(bp["kernel"], bool) and isinstance(bp["napi_id"], int), bp
    text = ctl(topo, "stats")
    assert "busy_poll_spins" in text and "busy_poll_napi_id" in text, text
    t0 = time.monotonic()
    rc, out, err = d.stop()
    assert rc == 0, err
    assert time.monotonic() - t0 < 5
    final = netns.parse_counter_blocks(out)[-1]
    assert final["busy_poll_spins"] >= bp["spins"], final
    assert final["udp_rx"] >= 1, final


@pytest.mark.skipif(netns.busy_poll_args(), reason="XS_BUSY_POLL turns busy polling on")
def test_off_by_default(topo, xdpstack):
    d = xdpstack(topo)
    assert "busy-poll:" not in d.stdout()
    js = json.loads(ctl(topo, "--json", "stats"))
    assert js["busy_poll"] is None, js["busy_poll"]
    assert "busy_poll_spins" not in d.counters()
