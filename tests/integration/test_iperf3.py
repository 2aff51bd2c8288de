# The daemon's iperf3 service (--iperf3) against stock /usr/bin/iperf3 in ns B:
# TCP and UDP both ways, -P, --bidir, each 2 s, and hostile control clients.
"""Each client runs with -J --get-server-output, so its JSON holds both its own
figures and what the service reported (`server_output_json`). Checks:

- the client exits 0 with no "error";
- what the client prints as the server's side equals what the service sent
  (server_output_json) and what the daemon counted (iperf3_bytes_rx/tx deltas);
- the receiver got no more than the sender sent, and at most the bytes that can
  sit in buffers at the end of the test less (per stream: the kernel's largest
  socket buffer plus 4 MiB for ours and the wire): TCP counts bytes handed to
  the socket on one side and bytes read on the other;
- UDP: lost <= packets <= packets sent, and the daemon's datagram count is
  packets - lost exactly (RFC 1889-style accounting, as iperf3's); from the
  stack (-R, --bidir) the client's "sent" figures equal the daemon's counts.

Nothing asserts a speed. One topology and daemon per module; tests run in
order, and every one ends by showing that the daemon still serves a test.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

import netns
from netns import STACK_IP

IPERF3 = "/usr/bin/iperf3"
PORT = 5201
MiB = 1 << 20

pytestmark = pytest.mark.skipif(not os.access(IPERF3, os.X_OK),
                                reason="iperf3 not installed (scripts/deps.sh)")


@pytest.fixture(scope="module")
def env(topo_module, tmp_path_factory):
    ctl = tmp_path_factory.mktemp("ip3") / "ctl.sock"
    d = netns.Daemon(topo_module, extra=["--iperf3", "--ctl", str(ctl)]).start()
    yield topo_module, d
    rc, out, err = d.stop()
    assert rc == 0, err
    assert d.sanitizer_report() is None


def sysctl_max(topo, name):
    p = netns.ns_run(topo.ns_b, ["sysctl", "-n", name])
    return int(p.stdout.split()[-1])


def run_client(topo, args, timeout=60):
    cmd = [IPERF3, "-c", STACK_IP, "-p", str(PORT), "-J", "--get-server-output"] + args
    p = netns.ns_run(topo.ns_b, cmd, check=False, timeout=timeout)
    try:
        j = json.loads(p.stdout)
    except ValueError:
        pytest.fail(f"iperf3 {' '.join(args)}: no JSON (rc {p.returncode})\n"
                    f"{p.stdout}\n{p.stderr}")
    return p.returncode, j


def ok_client(topo, args):
    rc, j = run_client(topo, args)
    assert rc == 0 and "error" not in j, f"iperf3 {args}: rc {rc} {j.get('error')}"
    return j


def delta(before, after, name):
    return after[name] - before[name]


def check_tcp_pair(topo, sent, received, streams):
    """Sender/receiver sums of one direction agree within what buffers hold."""
    slack = streams * (max(sysctl_max(topo, "net.ipv4.tcp_wmem"),
                           sysctl_max(topo, "net.ipv4.tcp_rmem")) + 4 * MiB)
    assert received["bytes"] > 0
    assert received["bytes"] <= sent["bytes"]
    assert sent["bytes"] - received["bytes"] <= slack, (sent, received)


def tcp_test(env, args, streams=1):
    topo, d = env
    before = d.counters()
    j = ok_client(topo, ["-t", "2"] + args)
    after = d.counters()
    end, srv = j["end"], j["server_output_json"]["end"]
    reverse, bidir = "-R" in args, "--bidir" in args
    assert len(end["streams"]) == streams * (2 if bidir else 1)
    assert delta(before, after, "iperf3_tests") == 1
    assert delta(before, after, "iperf3_tests_done") == 1
    rx = delta(before, after, "iperf3_bytes_rx")
    tx = delta(before, after, "iperf3_bytes_tx")
    # Client -> server: the client's received figure is the service's.
    up_sent, up_rcvd = end["sum_sent"], end["sum_received"]
    if bidir:
        down_sent, down_rcvd = end["sum_sent_bidir_reverse"], end["sum_received_bidir_reverse"]
    elif reverse:
        down_sent, down_rcvd, up_sent, up_rcvd = up_sent, up_rcvd, None, None
    else:
        down_sent = down_rcvd = None
    if up_sent:
        assert up_rcvd["bytes"] == srv["sum_received"]["bytes"] == rx
        check_tcp_pair(topo, up_sent, up_rcvd, streams)
    else:
        assert rx == 0
    if down_sent:
        assert down_sent["bytes"] == srv["sum_sent"]["bytes"] == tx
        check_tcp_pair(topo, down_sent, down_rcvd, streams)
    else:
        assert tx == 0
    return j


def test_tcp_upload(env):
    tcp_test(env, [])


def test_tcp_reverse(env):
    j = tcp_test(env, ["-R"])
    # Our sender's retransmissions reach the client's summary.
    assert j["end"]["sum_sent"]["retransmits"] >= 0


def test_tcp_parallel_2(env):
    tcp_test(env, ["-P", "2"], streams=2)


def test_tcp_parallel_4(env):
    tcp_test(env, ["-P", "4"], streams=4)


def test_tcp_bidir(env):
    tcp_test(env, ["--bidir"])


def test_tcp_bidir_parallel(env):
    tcp_test(env, ["--bidir", "-P", "2"], streams=2)


def test_udp_100m(env):
    topo, d = env
    before = d.counters()
    j = ok_client(topo, ["-t", "2", "-u", "-b", "100M", "-l", "1400"])
    after = d.counters()
    end, srv = j["end"], j["server_output_json"]["end"]
    sent, rcvd = end["sum_sent"], end["sum_received"]
    assert sent["packets"] > 0
    assert 0 <= rcvd["lost_packets"] <= rcvd["packets"] <= sent["packets"]
    assert rcvd["packets"] == srv["sum_received"]["packets"]
    assert rcvd["lost_packets"] == srv["sum_received"]["lost_packets"]
    got = rcvd["packets"] - rcvd["lost_packets"]
    assert delta(before, after, "iperf3_udp_packets") == got
    assert delta(before, after, "iperf3_bytes_rx") == got * 1400 == srv["sum_received"]["bytes"]
    assert sent["bytes"] == sent["packets"] * 1400
    assert delta(before, after, "iperf3_tests_done") == 1


def test_udp_parallel(env):
    topo, d = env
    before = d.counters()
    j = ok_client(topo, ["-t", "2", "-u", "-b", "20M", "-P", "2", "-l", "1000"])
    after = d.counters()
    rcvd = j["end"]["sum_received"]
    assert len(j["end"]["streams"]) == 2
    got = rcvd["packets"] - rcvd["lost_packets"]
    assert got > 0 and delta(before, after, "iperf3_udp_packets") == got
    assert delta(before, after, "iperf3_bytes_rx") == got * 1000


def udp_check_down(sent, rcvd, tx, udp_sent, blksize):
    """Stack -> client: the client's sent figures are the stack's."""
    assert sent["packets"] == udp_sent > 0
    assert sent["bytes"] == tx == udp_sent * blksize
    assert 0 <= rcvd["lost_packets"] <= rcvd["packets"] <= sent["packets"]
    assert rcvd["bytes"] <= sent["bytes"]


def test_udp_reverse(env):
    topo, d = env
    before = d.counters()
    j = ok_client(topo, ["-t", "2", "-u", "-R", "-b", "50M", "-l", "1400"])
    after = d.counters()
    end = j["end"]
    udp_check_down(end["sum_sent"], end["sum_received"], delta(before, after, "iperf3_bytes_tx"),
                   delta(before, after, "iperf3_udp_sent"), 1400)
    assert delta(before, after, "iperf3_bytes_rx") == 0


def test_udp_bidir(env):
    topo, d = env
    before = d.counters()
    j = ok_client(topo, ["-t", "2", "-u", "--bidir", "-b", "20M", "-P", "2", "-l", "1200"])
    after = d.counters()
    end = j["end"]
    assert len(end["streams"]) == 4
    up_sent, up_rcvd = end["sum_sent"], end["sum_received"]
    got = up_rcvd["packets"] - up_rcvd["lost_packets"]
    assert 0 <= up_rcvd["lost_packets"] <= up_rcvd["packets"] <= up_sent["packets"]
    assert delta(before, after, "iperf3_udp_packets") == got
    assert delta(before, after, "iperf3_bytes_rx") == got * 1200 == up_rcvd["bytes"]
    udp_check_down(end["sum_sent_bidir_reverse"], end["sum_received_bidir_reverse"],
                   delta(before, after, "iperf3_bytes_tx"),
                   delta(before, after, "iperf3_udp_sent"), 1200)


def test_udp_counters_64bit(env):
    topo, d = env
    before = d.counters()
    j = ok_client(topo, ["-t", "2", "-u", "-b", "10M", "-l", "1200", "--udp-counters-64bit"])
    after = d.counters()
    rcvd = j["end"]["sum_received"]
    got = rcvd["packets"] - rcvd["lost_packets"]
    assert 0 < rcvd["packets"] <= j["end"]["sum_sent"]["packets"]
    assert delta(before, after, "iperf3_udp_packets") == got
    assert delta(before, after, "iperf3_udp_short") == 0


# --- what the service refuses -----------------------------------------------

def test_udp_over_ipv6(topo, xdpstack, tmp_path):
    """iperf3 -6 -u to the stack's IPv6 address (its own daemon, IPv6 on):
    the client's and the service's counts agree as over IPv4."""
    stack6 = "fd00::fd"
    netns.enable_ipv6(topo, "fd00::1", "fd00::2")
    d = xdpstack(topo, extra=["--iperf3", "--ip6", f"{stack6}/64", "--ip6-dad", "0"])
    try:
        d.wait_for(lambda: f"ipv6: {stack6}/64 preferred" in "".join(d.out.chunks), 10,
                   "IPv6 up")
        before = d.counters()
        cmd = [IPERF3, "-6", "-c", stack6, "-p", str(PORT), "-J", "--get-server-output",
               "-t", "2", "-u", "-b", "50M", "-l", "1200"]
        p = netns.ns_run(topo.ns_b, cmd, check=False, timeout=60)
        j = json.loads(p.stdout)
        assert p.returncode == 0 and "error" not in j, (p.returncode, j.get("error"), p.stderr)
        after = d.counters()
        assert j["start"]["connected"][0]["remote_host"] == stack6
        end, srv = j["end"], j["server_output_json"]["end"]
        sent, rcvd = end["sum_sent"], end["sum_received"]
        assert sent["packets"] > 0 and sent["bytes"] == sent["packets"] * 1200
        assert 0 <= rcvd["lost_packets"] <= rcvd["packets"] <= sent["packets"]
        assert rcvd["packets"] == srv["sum_received"]["packets"]
        assert rcvd["lost_packets"] == srv["sum_received"]["lost_packets"]
        got = rcvd["packets"] - rcvd["lost_packets"]
        assert got > 0 and delta(before, after, "iperf3_udp_packets") == got
        assert delta(before, after, "iperf3_bytes_rx") == got * 1200 == \
            srv["sum_received"]["bytes"]
        assert delta(before, after, "iperf3_tests_done") == 1
        assert delta(before, after, "ip6_rx") >= got
    finally:
        rc, out, err = d.stop()
    assert rc == 0, err
    assert d.sanitizer_report() is None


def test_unsupported_is_refused(env):
    """--omit and too many streams: an error the client prints,
    counted, and the next test runs."""
    topo, d = env
    before = d.counters()
    # (iperf3 3.12 -J exits 0 after some server errors: the "error" tells.)
    rc, j = run_client(topo, ["-t", "1", "-O", "1"])
    assert "not implemented" in j.get("error", ""), j.get("error")
    rc, j = run_client(topo, ["-t", "1", "-P", "40"])
    assert "parallel streams" in j.get("error", ""), j.get("error")
    after = d.counters()
    assert delta(before, after, "iperf3_unsupported") == 1
    assert delta(before, after, "iperf3_bad_param") == 1
    tcp_test(env, [])


# --- hostile control clients --------------------------------------------------

def ctl_sock(topo, timeout=5.0):
    s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((STACK_IP, PORT))
    return s


def recv_all(s, limit=64):
    out = b""
    try:
        while len(out) < limit:
            b = s.recv(limit - len(out))
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    return out


COOKIE = b"abcdefghijklmnopqrstuvwxyz2345672345\0"
assert len(COOKIE) == 37


def test_garbage_cookie(env):
    topo, d = env
    before = d.counters()
    s = ctl_sock(topo)
    s.sendall(bytes(range(200, 237)))
    assert recv_all(s) == b"\xff"  # ACCESS_DENIED, then the close
    s.close()
    after = d.counters()
    assert delta(before, after, "iperf3_bad_cookie") == 1
    tcp_test(env, [])


def test_oversized_params(env):
    topo, d = env
    before = d.counters()
    s = ctl_sock(topo)
    s.sendall(COOKIE)
    assert recv_all(s, 1) == bytes([9])  # PARAM_EXCHANGE
    s.sendall(struct.pack("!I", 0x7fffffff) + b"{" * 100)
    reply = recv_all(s)
    s.close()
    # SERVER_ERROR (-2), then iperf3's IERECVPARAMS and EMSGSIZE; or a reset
    # when our close found the unread bytes (the reply may be lost then).
    assert reply in (b"", b"\xfe" + struct.pack("!ii", 114, 90)), reply
    after = d.counters()
    assert delta(before, after, "iperf3_param_too_big") == 1
    tcp_test(env, [])


def test_malformed_params(env):
    topo, d = env
    before = d.counters()
    for body in (b'{"tcp":true,', b'{"parallel":"4"}', b'[1]', b'{"a":1} x',
                 b'{"a":' + b'[' * 40 + b']' * 40 + b'}', b'{"time":1e999}'):
        s = ctl_sock(topo)
        s.sendall(COOKIE)
        assert recv_all(s, 1) == bytes([9])
        s.sendall(struct.pack("!I", len(body)) + body)
        reply = recv_all(s)
        s.close()
        assert reply == b"\xfe" + struct.pack("!ii", 114, 22), (body, reply)
    after = d.counters()
    assert delta(before, after, "iperf3_bad_param") == 6
    tcp_test(env, [])


def test_busy_then_stall_timeout(env):
    """A control connection that stops after its cookie holds the one test:
    a real client is denied, then the staller is timed out (10 s), and so is
    a connection that never sends its cookie."""
    topo, d = env
    before = d.counters()
    s = ctl_sock(topo, timeout=20)
    s.sendall(COOKIE)
    assert recv_all(s, 1) == bytes([9])
    silent = ctl_sock(topo, timeout=20)
    rc, j = run_client(topo, ["-t", "1"])
    assert "busy" in j.get("error", ""), j.get("error")
    t0 = time.monotonic()
    for c in (s, silent):
        with pytest.raises(ConnectionResetError):  # the timeout resets it
            c.recv(64)
    assert time.monotonic() - t0 < 15
    s.close()
    silent.close()
    after = d.counters()
    assert delta(before, after, "iperf3_denied") == 1
    assert delta(before, after, "iperf3_ctrl_timeout") == 2
    tcp_test(env, [])


def test_client_killed_mid_test(env):
    topo, d = env
    before = d.counters()
    p = netns.ns_popen(topo.ns_b, [IPERF3, "-c", STACK_IP, "-p", str(PORT), "-t", "30",
                                   "-P", "2"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            c = d.counters()
            if delta(before, c, "iperf3_bytes_rx") > 0:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the test never started")
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait(10)
    end = time.monotonic() + 5
    while delta(before, d.counters(), "iperf3_client_gone") < 1:
        assert time.monotonic() < end, "the killed client's test was not ended"
        time.sleep(0.2)
    tcp_test(env, [])


def test_pending_flood(env):
    """More silent connections than pending slots: the excess is reset,
    counted; closing them frees the slots."""
    topo, d = env
    before = d.counters()
    socks = []
    try:
        for _ in range(24):
            try:
                socks.append(ctl_sock(topo))
            except ConnectionResetError:
                pass  # one of the excess, reset as soon as it was accepted
        end = time.monotonic() + 5
        while delta(before, d.counters(), "iperf3_pending_full") < 8:
            assert time.monotonic() < end
            time.sleep(0.1)
    finally:
        for s in socks:
            s.close()
    time.sleep(0.5)
    tcp_test(env, [])


# --- command line ----------------------------------------------------------------

@pytest.mark.parametrize("arg", ["--iperf3=0", "--iperf3=65536", "--iperf3=abc",
                                 "--iperf3=", "--iperf3=-1", "--iperf3=5201x"])
def test_cli_bad_port(arg):
    p = subprocess.run([str(netns.binary()), "--ip", STACK_IP, arg],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "--iperf3" in lines[0], p.stderr


def test_cli_port_forms(topo, xdpstack, tmp_path):
    """`--iperf3 PORT` serves that port; a port another service holds is one
    line and a non-zero exit."""
    d = xdpstack(topo, extra=["--iperf3", "8888", "--ctl", str(tmp_path / "a.sock")],
                 wait=False)
    rc, out, err = d.stop() if d.proc.wait(15) is not None else (None, "", "")
    assert rc == 1, (rc, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "iperf3" in lines[0] and "8888" in lines[0], err
    d = xdpstack(topo, extra=["--iperf3", "5301", "--ctl", str(tmp_path / "b.sock")])
    cmd = [IPERF3, "-c", STACK_IP, "-p", "5301", "-J", "-t", "1"]
    p = netns.ns_run(topo.ns_b, cmd, check=False, timeout=30)
    j = json.loads(p.stdout)
    assert p.returncode == 0 and "error" not in j and j["end"]["sum_received"]["bytes"] > 0
    rc, out, err = d.stop()
    assert rc == 0, err
