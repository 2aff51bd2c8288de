# The control socket and xdpstack-ctl against a running daemon: addr, arp,
# route, ping (run by the daemon, to the kernel peer), stats, --json, errors.

import json
import os
import re
import signal
import socket
import stat
import subprocess
import time

import pytest

import netns
from netns import KERNEL_A_IP, PEER_B_IP, STACK_IP, UDP_ECHO_PORT, parse_ping

UNUSED_IP = "172.17.0.77"  # on the subnet, nobody answers ARP for it
REPLY_RE = re.compile(r"^(\d+) bytes from ([\d.]+): icmp_seq=(\d+) ttl=(\d+) time=([\d.]+) ms$")
SUMMARY_RE = re.compile(r"^(\d+) packets transmitted, (\d+) received, (?:\+(\d+) errors, )?"
                        r"([\d.]+)% packet loss, time (\d+)ms$")
RTT_RE = re.compile(r"^rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms$")


def ctl_binary():
    return netns.build_dir() / "xdpstack-ctl"


def ctl(path, *args, timeout=30, json_out=False):
    """Run xdpstack-ctl --ctl PATH ARGS; returns the CompletedProcess."""
    if not ctl_binary().exists():
        pytest.fail(f"{ctl_binary()} is not built (run make, or set XS_BUILD)")
    cmd = [str(ctl_binary())]
    if path is not None:
        cmd += ["--ctl", str(path)]
    if json_out:
        cmd.append("--json")
    cmd += [str(a) for a in args]
    try:
        return netns.run(cmd, check=False, timeout=timeout)
    except netns.CmdError as e:
        pytest.fail(f"xdpstack-ctl did not finish: {e}")


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    assert p.stderr == "", p.stderr
    return p.stdout


def jctl(path, *args, **kw):
    p = ctl(path, *args, json_out=True, **kw)
    out = ok(p)
    try:
        return json.loads(out)
    except ValueError as e:
        pytest.fail(f"--json {' '.join(map(str, args))} is not JSON ({e}):\n{out}")


def one_error(p, code, *words):
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode == code, f"exit {p.returncode}, want {code}\n{p.stdout}\n{p.stderr}"
    assert len(lines) == 1, f"want one stderr line:\n{p.stderr}"
    assert lines[0].startswith("xdpstack-ctl: "), lines[0]
    for w in words:
        assert w in lines[0], f"{lines[0]!r} lacks {w!r}"
    assert p.stdout == "", p.stdout
    return lines[0]


def counters(path):
    return jctl(path, "stats")["counters"]


def delta(after, before, name):
    return after[name] - before[name]


def arp_entries(path):
    return {e["ip"]: e for e in jctl(path, "arp")["entries"]}


def parse_ping_output(out):
    lines = out.splitlines()
    replies = [REPLY_RE.match(l) for l in lines]
    summary = [SUMMARY_RE.match(l) for l in lines if SUMMARY_RE.match(l)]
    rtt = [RTT_RE.match(l) for l in lines if RTT_RE.match(l)]
    return lines, [m for m in replies if m], summary[0] if summary else None, \
        rtt[0] if rtt else None


def _daemon_once(topo, args, timeout=20):
    cmd = ["ip", "netns", "exec", topo.ns_a, str(netns.binary()), "--ip", STACK_IP,
           "--dev", topo.dev_a] + [str(a) for a in args]
    p = netns.run(cmd, check=False, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def ctl_path_for(tmp_path):
    # A directory that does not exist yet: the daemon creates it (0700).
    p = tmp_path / "run" / "xs.sock"
    assert len(str(p)) < 108
    return p


# ----------------------------------------------- one daemon for most tests

@pytest.fixture(scope="module")
def served(topo_module, tmp_path_factory):
    path = ctl_path_for(tmp_path_factory.mktemp("ctl"))
    d = netns.Daemon(topo_module, extra=["--ctl", path])
    d.start()
    yield topo_module, d, path
    if d.running():
        rc, out, err = d.stop()
        assert rc == 0, f"exit {rc} after SIGTERM\nstderr:\n{err}"
    assert not path.exists(), "control socket left behind at exit"


@pytest.fixture
def srv(served):
    topo, d, path = served
    assert d.running(), f"xdpstack died earlier:\n{d.stderr()}"
    return topo, d, path


def test_socket_and_directory_permissions(srv):
    _, d, path = srv
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_uid == 0
    dst = os.stat(path.parent)
    assert stat.S_IMODE(dst.st_mode) == 0o700, oct(dst.st_mode)
    assert f"control socket {path}" in d.stdout()


def test_addr(srv):
    topo, _, path = srv
    out = ok(ctl(path, "addr"))
    assert out.startswith(f"{topo.dev_a}: mtu 1500 "), out
    assert f"link/ether {topo.mac_a.lower()}" in out, out
    assert f"inet {STACK_IP}/24" in out, out
    j = jctl(path, "addr")
    assert j["ifname"] == topo.dev_a and j["ip"] == STACK_IP and j["prefix_len"] == 24
    assert j["mac"] == topo.mac_a.lower() and j["mtu"] == 1500 and j["queue"] == 0
    assert ok(ctl(path, "addr", "show")) == out


def test_arp_show_lists_the_peer_after_it_pinged_us(srv):
    topo, _, path = srv
    assert parse_ping(topo.ping(STACK_IP, count=2).stdout) == (2, 2)
    out = ok(ctl(path, "arp", "show"))
    lines = out.splitlines()
    assert lines[0].split() == ["Address", "HWaddress", "State", "Expires"], out
    row = [l.split() for l in lines[1:] if l.split()[0] == PEER_B_IP]
    assert row and row[0][1] == topo.mac_b.lower() and row[0][2] == "reachable", out
    assert ok(ctl(path, "arp")) .splitlines()[0] == lines[0]
    e = arp_entries(path)[PEER_B_IP]
    assert e["mac"] == topo.mac_b.lower() and e["state"] == "reachable"
    assert 0 < e["expires_ms"] <= 60000


def test_arp_flush_empties_it(srv):
    topo, _, path = srv
    assert parse_ping(topo.ping(STACK_IP, count=1).stdout) == (1, 1)
    n = len(arp_entries(path))
    assert n >= 1
    out = ok(ctl(path, "arp", "flush"))
    assert out == f"flushed {n} entr{'y' if n == 1 else 'ies'}\n", out
    assert arp_entries(path) == {}
    assert ok(ctl(path, "arp")).splitlines()[1:] == []
    assert jctl(path, "arp", "flush") == {"flushed": 0}
    # The stack learns the peer again from its next request.
    assert parse_ping(topo.ping(STACK_IP, count=1).stdout) == (1, 1)
    assert PEER_B_IP in arp_entries(path)


def routes(path):
    return [(r["dst"], r["prefix_len"], r["gateway"], r["connected"])
            for r in jctl(path, "route")["routes"]]


def test_route_add_show_del(srv):
    topo, _, path = srv
    connected = ("172.17.0.0", 24, None, True)
    assert routes(path) == [connected]
    assert ok(ctl(path, "route")) == f"172.17.0.0/24 dev {topo.dev_a} scope link (connected)\n"
    assert ok(ctl(path, "route", "add", "10.0.0.0/8", "via", KERNEL_A_IP)) == ""
    assert ok(ctl(path, "route", "add", "default", "via", KERNEL_A_IP)) == ""
    j = jctl(path, "route", "add", "192.168.7.0/24", "via", PEER_B_IP)
    assert j == {"added": {"dst": "192.168.7.0", "prefix_len": 24, "gateway": PEER_B_IP}}
    out = ok(ctl(path, "route", "show"))
    assert out.splitlines() == [
        f"172.17.0.0/24 dev {topo.dev_a} scope link (connected)",
        f"192.168.7.0/24 via {PEER_B_IP} dev {topo.dev_a}",
        f"10.0.0.0/8 via {KERNEL_A_IP} dev {topo.dev_a}",
        f"default via {KERNEL_A_IP} dev {topo.dev_a}",
    ], out
    assert routes(path) == [connected, ("192.168.7.0", 24, PEER_B_IP, False),
                            ("10.0.0.0", 8, KERNEL_A_IP, False),
                            ("0.0.0.0", 0, KERNEL_A_IP, False)]
    assert ok(ctl(path, "route", "del", "10.0.0.0/8")) == ""
    assert ok(ctl(path, "route", "del", "default")) == ""
    assert jctl(path, "route", "del", "192.168.7.0/24") == {"deleted": "192.168.7.0/24"}
    assert routes(path) == [connected]


@pytest.mark.parametrize("args,code,words", [
    (["add", "10.0.0.1/8", "via", KERNEL_A_IP], 2, ["host bits", "10.0.0.0/8"]),
    (["add", "10.0.0.0/8", "via", "10.9.9.9"], 1, ["not a host on the connected subnet"]),
    (["add", "10.0.0.0/33", "via", KERNEL_A_IP], 2, ["invalid destination"]),
    (["add", "10.0.0.0/8"], 2, ["expected DST/PLEN via GW"]),
    (["add", "10.0.0.0/8", "via", "bogus"], 2, ["invalid gateway"]),
    (["del", "172.17.0.0/24"], 1, ["connected", "cannot be deleted"]),
    (["del", "10.99.0.0/16"], 1, ["no route to 10.99.0.0/16"]),
    (["del"], 2, ["expected"]),
    (["frob"], 2, ["unexpected argument 'frob'"]),
], ids=["host-bits", "gw-off-subnet", "plen", "no-via", "bad-gw", "del-connected",
        "del-missing", "del-nothing", "subcommand"])
def test_route_errors(srv, args, code, words):
    _, _, path = srv
    one_error(ctl(path, "route", *args), code, *words)
    one_error(ctl(path, "route", *args, json_out=True), code, *words)
    assert routes(path) == [("172.17.0.0", 24, None, True)]


def test_route_add_twice_is_an_error(srv):
    _, _, path = srv
    ok(ctl(path, "route", "add", "10.1.0.0/16", "via", KERNEL_A_IP))
    try:
        one_error(ctl(path, "route", "add", "10.1.0.0/16", "via", PEER_B_IP), 1,
                  "already exists")
    finally:
        ok(ctl(path, "route", "del", "10.1.0.0/16"))


def test_ping_reaches_the_kernel_peer(srv):
    _, _, path = srv
    before = counters(path)
    t0 = time.monotonic()
    out = ok(ctl(path, "ping", PEER_B_IP, "-c", "3"))
    took = time.monotonic() - t0
    lines, replies, summary, rtt = parse_ping_output(out)
    assert lines[0] == f"PING {PEER_B_IP} ({PEER_B_IP}) 56(84) bytes of data.", out
    assert [(int(m[1]), m[2], int(m[3]), int(m[4])) for m in replies] == \
        [(64, PEER_B_IP, s, 64) for s in (1, 2, 3)], out
    assert all(0 < float(m[5]) < 1000 for m in replies), out
    assert f"--- {PEER_B_IP} ping statistics ---" in lines, out
    assert summary and summary.group(1, 2, 4) == ("3", "3", "0"), out
    assert 1900 <= int(summary.group(5)) < 5000, out  # two 1 s intervals
    assert rtt, out
    mn, avg, mx, mdev = map(float, rtt.groups())
    assert 0 < mn <= avg <= mx and mdev >= 0, out
    assert 1.9 <= took < 8, f"ping -c 3 took {took:.1f}s"
    after = counters(path)
    assert delta(after, before, "icmp_echo_tx") == 3
    assert delta(after, before, "icmp_echo_reply_rx") == 3


def test_ping_json(srv):
    _, _, path = srv
    j = jctl(path, "ping", PEER_B_IP, "-c", "2", "-i", "0.2")
    assert j["host"] == PEER_B_IP and j["data_bytes"] == 56
    assert [(e["type"], e["seq"], e["from"], e["bytes"], e["dup"]) for e in j["events"]] == \
        [("reply", 1, PEER_B_IP, 64, False), ("reply", 2, PEER_B_IP, 64, False)]
    assert j["transmitted"] == 2 and j["received"] == 2 and j["loss_pct"] == 0
    assert j["errors"] == 0 and j["duplicates"] == 0
    r = j["rtt_ms"]
    assert 0 < r["min"] <= r["avg"] <= r["max"]


def test_ping_unused_address_reports_host_unreachable(srv):
    _, _, path = srv
    before = counters(path)
    t0 = time.monotonic()
    p = ctl(path, "ping", UNUSED_IP, "-c", "2")
    took = time.monotonic() - t0
    assert p.returncode == 1, f"want 1 (no reply)\n{p.stdout}\n{p.stderr}"
    assert p.stderr == ""
    lines, replies, summary, _ = parse_ping_output(p.stdout)
    assert lines[0] == f"PING {UNUSED_IP} ({UNUSED_IP}) 56(84) bytes of data."
    assert not replies
    errs = [l for l in lines if "Destination Host Unreachable" in l]
    assert errs == [f"From {STACK_IP} icmp_seq=1 Destination Host Unreachable",
                    f"From {STACK_IP} icmp_seq=2 Destination Host Unreachable"], p.stdout
    assert summary and summary.group(1, 2, 3, 4) == ("2", "0", "2", "100"), p.stdout
    assert "rtt min" not in p.stdout
    # ARP gives up after 3 requests 1 s apart.
    assert 2.5 <= took < 8, f"took {took:.1f}s"
    after = counters(path)
    assert delta(after, before, "arp_tx_request") >= 3
    assert UNUSED_IP not in arp_entries(path)
    p = ctl(path, "ping", UNUSED_IP, "-c", "1", json_out=True)
    assert p.returncode == 1
    j = json.loads(p.stdout)
    assert j["received"] == 0 and j["errors"] == 1 and j["rtt_ms"] is None
    assert j["events"][0]["error"] == "Destination Host Unreachable"
    assert (j["events"][0]["icmp_type"], j["events"][0]["icmp_code"]) == (3, 1)


def test_ping_fragmented(srv):
    _, _, path = srv
    before = counters(path)
    out = ok(ctl(path, "ping", PEER_B_IP, "-c", "2", "-s", "4000", "-i", "0.3"))
    lines, replies, summary, _ = parse_ping_output(out)
    assert lines[0] == f"PING {PEER_B_IP} ({PEER_B_IP}) 4000(4028) bytes of data.", out
    assert [(int(m[1]), int(m[3])) for m in replies] == [(4008, 1), (4008, 2)], out
    assert summary and summary.group(1, 2, 4) == ("2", "2", "0"), out
    after = counters(path)
    assert delta(after, before, "ip_frag_tx") >= 6  # 3 fragments each way per ping
    assert delta(after, before, "ip_reassembled") == 2


def test_ping_interrupted_prints_the_summary(srv):
    _, _, path = srv
    p = subprocess.Popen([str(ctl_binary()), "--ctl", str(path), "ping", PEER_B_IP, "-i", "0.2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.1)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, f"{out}\n{err}"
    _, replies, summary, rtt = parse_ping_output(out)
    assert summary and int(summary.group(1)) >= 3, out
    assert int(summary.group(2)) == len(replies) >= 3 and rtt, out


def test_client_gone_mid_ping_ends_the_session(srv):
    _, _, path = srv
    p = subprocess.Popen([str(ctl_binary()), "--ctl", str(path), "ping", PEER_B_IP, "-i", "0.1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.6)
    p.kill()
    p.wait()
    time.sleep(0.3)
    c1 = counters(path)
    time.sleep(0.6)
    c2 = counters(path)
    assert delta(c2, c1, "icmp_echo_tx") == 0, "the daemon kept pinging for a dead client"
    # More sessions than the stack has ping handles: each was closed.
    for _ in range(20):
        out = ok(ctl(path, "ping", PEER_B_IP, "-c", "1"))
        assert "1 packets transmitted, 1 received" in out


@pytest.mark.parametrize("args,code,words", [
    ([], 2, ["missing HOST"]),
    (["1.2.3"], 2, ["invalid HOST"]),
    (["host.example"], 1, ["no DNS server", "--dns"]),
    (["bad_name!"], 2, ["invalid HOST"]),
    ([PEER_B_IP, "-c", "0"], 2, ["invalid -c"]),
    ([PEER_B_IP, "-s", "70000"], 2, ["invalid -s"]),
    ([PEER_B_IP, "-i", "0"], 2, ["invalid -i"]),
    ([PEER_B_IP, "-x"], 2, ["unknown option"]),
    ([PEER_B_IP, "-c"], 2, ["needs a value"]),
    ([PEER_B_IP, KERNEL_A_IP], 2, ["one HOST"]),
    (["192.168.99.1", "-c", "1"], 1, ["no route to 192.168.99.1"]),
    ([STACK_IP, "-c", "1"], 1, ["own address"]),
], ids=["no-host", "short-ip", "name", "bad-name", "count", "size", "interval", "option", "novalue",
        "two-hosts", "no-route", "self"])
def test_ping_errors(srv, args, code, words):
    _, _, path = srv
    one_error(ctl(path, "ping", *args), code, *words)


def test_stats_match_the_traffic(srv):
    topo, d, path = srv
    assert parse_ping(topo.ping(STACK_IP, count=1).stdout) == (1, 1)  # ARP warm
    j0 = jctl(path, "stats")
    assert parse_ping(topo.ping(STACK_IP, count=5, interval="0.05").stdout) == (5, 5)
    for payload in (b"one", b"two!"):
        assert topo.udp_echo(payload) == (payload, (STACK_IP, UDP_ECHO_PORT))
    assert topo.udp_echo(b"nobody", port=UDP_ECHO_PORT + 1, timeout=0.3) is None
    time.sleep(0.2)
    j1 = jctl(path, "stats")
    c0, c1 = j0["counters"], j1["counters"]
    assert delta(c1, c0, "icmp_echo_rx") == 5
    assert delta(c1, c0, "icmp_echo_reply_tx") == 5
    assert delta(c1, c0, "udp_rx") == 3
    assert delta(c1, c0, "udp_tx") == 2
    assert j1["drops"]["udp_no_port"]["count"] - j0["drops"]["udp_no_port"]["count"] == 1
    assert j1["xdp"]["redirected"] - j0["xdp"]["redirected"] >= 5 + 3
    # Every drop reason, with its description, in the JSON.
    reasons = {k[len("drop_"):] for k in d.counters() if k.startswith("drop_")}
    assert set(j1["drops"]) == reasons
    assert all(v["description"] and isinstance(v["count"], int) for v in j1["drops"].values())
    # The daemon's own counter block (SIGUSR1) agrees.
    blk = d.counters()
    assert blk["icmp_echo_rx"] == c1["icmp_echo_rx"]
    assert blk["udp_tx"] == c1["udp_tx"]

    # Text: the grouped view; -a lists every counter, drops with descriptions.
    vals, drops = parse_stats_text(ok(ctl(path, "stats", "-a")))
    assert set(c1) <= set(vals)
    assert vals["icmp_echo_rx"] == c1["icmp_echo_rx"] and vals["udp_rx"] == c1["udp_rx"]
    assert vals["xdp_redirected"] >= j1["xdp"]["redirected"] and "xdp_passed" in vals
    assert set(drops) == set(j1["drops"])
    assert drops["udp_no_port"][1] == j1["drops"]["udp_no_port"]["description"]
    # Without -a: only what is non-zero, under its layer.
    out = ok(ctl(path, "stats"))
    vals, drops = parse_stats_text(out)
    assert all(v > 0 for v in vals.values()), out
    assert all(n > 0 for n, _ in drops.values()), out
    assert drops["udp_no_port"][0] >= j1["drops"]["udp_no_port"]["count"], out
    assert "icmp_echo_rx" in vals and "\nicmp:\n" in "\n" + out, out
    assert "tcp_rst_rx" not in vals or vals["tcp_rst_rx"] > 0


def parse_stats_text(out):
    """`xdpstack-ctl stats` text: ({counter: value}, {drop: (count, description)})."""
    vals, drops = {}, {}
    for line in out.splitlines():
        parts = line.split()
        if not parts or (len(parts) == 1 and parts[0].endswith(":")):
            continue  # a layer header
        if parts[0].startswith("drop_"):
            drops[parts[0][len("drop_"):]] = (int(parts[1]), " ".join(parts[2:]))
        else:
            assert len(parts) == 2, out
            vals[parts[0]] = int(parts[1])
    return vals, drops


def test_stats_frames_and_socket_counters(srv):
    """stats --json: the UMEM frames all accounted between batches, and every
    frame the XDP program redirected either reached the stack or is counted
    by the socket as dropped."""
    topo, d, path = srv
    assert parse_ping(topo.ping(STACK_IP, count=5, interval="0.05").stdout) == (5, 5)
    for _ in range(20):
        j = jctl(path, "stats")
        x, c = j["xdp"], j["counters"]
        if x["redirected"] == c["rx_frames"] + x["xsk_rx_dropped"] + x["xsk_rx_ring_full"]:
            break
        time.sleep(0.1)  # a frame still in the rx ring
    else:
        raise AssertionError(f"xdp {x} vs rx_frames {c['rx_frames']}")
    assert all(isinstance(x[k], int) for k in ("xsk_rx_dropped", "xsk_rx_ring_full",
                                                "xsk_fill_empty", "xsk_rx_invalid",
                                                "xsk_tx_invalid")), x
    f = j["frames"]
    assert f["total"] > 0 and f["fill"] > 0, f
    assert f["rx_borrowed"] == f["tx_borrowed"] == f["misuse"] == 0, f
    assert f["free"] + f["fill"] + f["tx_queued"] + f["in_flight"] == f["total"], f


def test_json_outputs_parse(srv):
    _, _, path = srv
    for args in (["addr"], ["arp"], ["arp", "show"], ["route"], ["route", "show"], ["stats"],
                 ["ping", PEER_B_IP, "-c", "1"]):
        jctl(path, *args)
    # --json may come after the command too.
    out = ok(ctl(path, "stats", "--json"))
    assert "counters" in json.loads(out)


def test_unknown_command_and_tool_usage(srv):
    _, _, path = srv
    one_error(ctl(path, "bogus"), 2, "unknown command 'bogus'")
    one_error(ctl(path, "bogus", json_out=True), 2, "unknown command")
    one_error(ctl(path, "addr", "extra"), 2, "unexpected argument")
    one_error(ctl(path, "stats", "extra"), 2, "unexpected argument")
    one_error(ctl(path, "arp", "frob"), 2, "unexpected argument")
    one_error(ctl(path), 2, "missing COMMAND")
    one_error(ctl(None, "--frob", "addr"), 2, "unknown option")
    p = ctl(None, "--help")
    assert p.returncode == 0 and "--ctl PATH" in p.stdout and "route add" in p.stdout
    assert "ping HOST" in p.stdout and p.stderr == ""


def test_raw_protocol(srv):
    # What docs/DESIGN.md promises: one request line, output lines, a status line, close.
    _, _, path = srv
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(path))
    s.sendall(b"route\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.decode().splitlines()[-1] == ".ok", data
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(path))
    s.sendall(b"nope\n")
    assert s.recv(4096).decode().startswith(".usage unknown command"), "usage status"
    s.close()


def test_idle_and_slow_clients_do_not_block_the_stack(srv):
    topo, d, path = srv
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    idle.connect(str(path))  # sends nothing
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.connect(str(path))
    slow.sendall(b"--json stats\n")  # never reads
    try:
        assert parse_ping(topo.ping(STACK_IP, count=3, interval="0.05").stdout) == (3, 3)
        ok(ctl(path, "addr"))
    finally:
        idle.close()
        slow.close()
    assert d.running()


# -------------------------------------------- no daemon, stale and live sockets

def test_no_daemon_listening(tmp_path):
    path = tmp_path / "none.sock"
    line = one_error(ctl(path, "addr"), 1)
    assert line == (f"xdpstack-ctl: no xdpstack daemon listening on {path} "
                    "(is it running? pass --ctl PATH)")
    # A socket file left by a dead daemon: same answer.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()
    assert one_error(ctl(path, "ping", PEER_B_IP), 1) == line


def test_stale_socket_replaced_live_one_refused(topo, xdpstack, tmp_path):
    path = ctl_path_for(tmp_path)
    path.parent.mkdir(mode=0o700)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))  # stale: bound, nobody listens
    s.close()
    d = xdpstack(topo, extra=["--ctl", path])
    ok(ctl(path, "addr"))
    # A second daemon on the same socket: one line, before touching XDP.
    rc, out, err = _daemon_once(topo, ["--ctl", path])
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc == 1 and len(lines) == 1, err
    assert lines[0].startswith("xdpstack: another xdpstack is running") and str(path) in lines[0]
    assert "serving" not in out
    assert d.running() and topo.xdp_attached() is not None
    assert parse_ping(topo.ping(STACK_IP, count=2).stdout) == (2, 2)
    ok(ctl(path, "addr"))
    rc, _, err = d.stop()
    assert rc == 0, err
    assert not path.exists()


def test_default_socket_path(topo, xdpstack):
    d = xdpstack(topo)
    path = f"/run/xdpstack/{topo.dev_a}.sock"
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(os.stat("/run/xdpstack").st_mode) == 0o700
    assert topo.dev_a in ok(ctl(path, "addr"))
    # Without --ctl the tool takes the only socket there, or asks for --ctl.
    p = ctl(None, "addr")
    if p.returncode == 0:
        assert p.stdout.startswith(topo.dev_a + ":")
    else:
        one_error(p, 2, "pass --ctl PATH")
    rc, _, err = d.stop()
    assert rc == 0, err
    assert not os.path.exists(path)


# ------------------------------------------------- the daemon's new options

@pytest.mark.parametrize("args,words", [
    (["--gw", "10.0.0.1"], ["invalid --gw 10.0.0.1", "connected subnet 172.17.0.0/24"]),
    (["--gw", STACK_IP], ["own address"]),
    (["--gw", "172.17.0.255"], ["not a host"]),
    (["--frag-timeout", "0"], ["--frag-timeout"]),
    (["--frag-timeout", "abc"], ["--frag-timeout"]),
    (["--icmp-rate", "-1"], ["--icmp-rate"]),
    (["--ctl", ""], ["--ctl"]),
    (["--ctl", "/tmp/" + "x" * 120], ["--ctl"]),
    (["--pcap", ""], ["--pcap"]),
], ids=["gw-off-subnet", "gw-self", "gw-bcast", "frag-0", "frag-text", "icmp-neg", "ctl-empty",
        "ctl-long", "pcap-empty"])
def test_bad_option_values(topo, tmp_path, args, words):
    rc, out, err = _daemon_once(topo, args + (["--ctl", tmp_path / "c.sock"]
                                               if "--ctl" not in args else []))
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc == 2, f"exit {rc}\n{err}"
    assert len(lines) == 1 and lines[0].startswith("xdpstack: "), err
    for w in words:
        assert w in lines[0], lines[0]
    assert "serving" not in out
    assert topo.xdp_attached() is None


def test_gateway_on_subnet_becomes_the_default_route(topo, xdpstack, tmp_path):
    path = ctl_path_for(tmp_path)
    xdpstack(topo, extra=["--gw", KERNEL_A_IP, "--ctl", path])
    assert ("0.0.0.0", 0, KERNEL_A_IP, False) in routes(path)


def test_help_lists_the_new_options(topo):
    rc, out, _ = _daemon_once(topo, ["--help"])
    assert rc == 0
    for opt in ("--pcap FILE", "--ctl PATH", "--frag-timeout MS", "--icmp-rate N"):
        assert opt in out, out


def test_frag_timeout_option(topo, xdpstack, tmp_path):
    scapy = pytest.importorskip("scapy.all")
    path = ctl_path_for(tmp_path)
    xdpstack(topo, extra=["--frag-timeout", "300", "--ctl", path])
    assert parse_ping(topo.ping(STACK_IP, count=1).stdout) == (1, 1)
    before = jctl(path, "stats")["drops"]["frag_timeout"]["count"]
    first = (scapy.Ether(dst=topo.mac_a, src=topo.mac_b) /
             scapy.IP(src=PEER_B_IP, dst=STACK_IP, id=4242, flags="MF", proto=17) /
             scapy.Raw(b"\0" * 64))
    s = topo.raw_sender()
    try:
        s.send(bytes(first))
    finally:
        s.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        after = jctl(path, "stats")["drops"]["frag_timeout"]["count"]
        if after > before:
            break
        time.sleep(0.1)
    took = 5 - (deadline - time.monotonic())
    assert after - before == 1, "the lone fragment did not time out"
    assert took < 3, f"timed out after {took:.1f}s with --frag-timeout 300"


def test_icmp_rate_option(topo, xdpstack, tmp_path):
    path = ctl_path_for(tmp_path)
    xdpstack(topo, extra=["--icmp-rate", "1", "--ctl", path])
    assert parse_ping(topo.ping(STACK_IP, count=1).stdout) == (1, 1)
    before = jctl(path, "stats")
    s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(100):
            s.sendto(b"x", (STACK_IP, 9))  # closed port: port unreachable, rate-limited
    finally:
        s.close()
    time.sleep(0.5)
    after = jctl(path, "stats")
    sent = after["counters"]["icmp_err_tx"] - before["counters"]["icmp_err_tx"]
    limited = after["drops"]["icmp_rate"]["count"] - before["drops"]["icmp_rate"]["count"]
    assert sent + limited == 100, (sent, limited)
    assert sent <= 55 and limited >= 45, (sent, limited)  # the burst (50), then 1/s
