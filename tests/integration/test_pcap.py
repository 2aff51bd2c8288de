# --pcap FILE: every frame the stack receives and sends lands in a pcap file
# that tcpdump reads, both directions of ARP, ICMP echo and UDP echo.

import os
import re
import shutil
import stat
import struct
import time

import pytest

import netns
from netns import PEER_B_IP, STACK_IP, UDP_ECHO_PORT, parse_ping

PAYLOAD = b"xdpstack pcap test payload"


def tcpdump(path, *extra):
    if not shutil.which("tcpdump"):
        pytest.skip("tcpdump not installed (run scripts/deps.sh)")
    p = netns.run(["tcpdump", "-r", str(path), "-nn", *extra], check=False)
    assert p.returncode == 0, f"tcpdump -r failed:\n{p.stderr}"
    assert "link-type EN10MB" in p.stderr, p.stderr
    return p.stdout


def pcap_records(path):
    """(link type, [(ts seconds, caplen, len)]) of a classic pcap file."""
    data = path.read_bytes()
    magic, _, _, _, _, snaplen, linktype = struct.unpack_from("<IHHiIII", data, 0)
    assert magic == 0xa1b2c3d4, hex(magic)
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, usec, caplen, length = struct.unpack_from("<IIII", data, off)
        recs.append((sec + usec / 1e6, caplen, length))
        off += 16 + caplen
    assert off == len(data), "truncated record at the end of the capture"
    return linktype, snaplen, recs


def ctl(path, *args):
    cmd = [str(netns.build_dir() / "xdpstack-ctl"), "--ctl", str(path)] + list(args)
    return netns.run(cmd, check=False, timeout=30)


def test_capture_has_both_directions(topo, xdpstack, tmp_path):
    cap = tmp_path / "cap.pcap"
    sock = tmp_path / "run" / "xs.sock"
    t0 = time.time()
    d = xdpstack(topo, extra=["--pcap", cap, "--ctl", sock])
    assert stat.S_IMODE(os.stat(cap).st_mode) == 0o600

    p = topo.arping(STACK_IP, count=2)
    assert p.returncode == 0, p.stdout + p.stderr
    assert parse_ping(topo.ping(STACK_IP, count=3).stdout) == (3, 3)
    assert topo.udp_echo(PAYLOAD) == (PAYLOAD, (STACK_IP, UDP_ECHO_PORT))
    # Traffic the stack starts: its own echo request to the peer.
    p = ctl(sock, "ping", PEER_B_IP, "-c", "1")
    assert p.returncode == 0, p.stdout + p.stderr

    # Written while running: records reach the file within ~100 ms.
    time.sleep(0.5)
    live = tcpdump(cap)
    assert f"IP {STACK_IP} > {PEER_B_IP}: ICMP echo request" in live, live

    rc, out, err = d.stop()
    t1 = time.time()
    assert rc == 0, err
    last = netns.parse_counter_blocks(out)[-1]
    text = tcpdump(cap)
    mac_a = topo.mac_a.lower()
    expect = [
        rf"ARP, Request who-has {STACK_IP} tell {PEER_B_IP}",
        rf"ARP, Reply {STACK_IP} is-at {mac_a}",
        rf"IP {PEER_B_IP} > {STACK_IP}: ICMP echo request",
        rf"IP {STACK_IP} > {PEER_B_IP}: ICMP echo reply",
        rf"IP {STACK_IP} > {PEER_B_IP}: ICMP echo request",
        rf"IP {PEER_B_IP} > {STACK_IP}: ICMP echo reply",
        rf"IP {PEER_B_IP}\.(\d+) > {STACK_IP}\.{UDP_ECHO_PORT}: UDP, length {len(PAYLOAD)}",
        rf"IP {STACK_IP}\.{UDP_ECHO_PORT} > {PEER_B_IP}\.(\d+): UDP, length {len(PAYLOAD)}",
    ]
    for pat in expect:
        assert re.search(pat, text), f"no /{pat}/ in the capture:\n{text}"
    # The gratuitous ARP at start (sender = target = our address).
    assert f"ARP, Request who-has {STACK_IP} tell {STACK_IP}" in text, text
    # Counts: 2 arping requests answered, 3 peer pings, 1 stack ping.
    assert len(re.findall(rf"ARP, Reply {STACK_IP} is-at", text)) >= 2
    assert len(re.findall(rf"{PEER_B_IP} > {STACK_IP}: ICMP echo request", text)) == 3
    assert len(re.findall(rf"{STACK_IP} > {PEER_B_IP}: ICMP echo reply", text)) == 3

    # Every frame the stack counted, nothing else, whole, with wall-clock times.
    linktype, snaplen, recs = pcap_records(cap)
    assert linktype == 1 and snaplen == 65535
    assert len(recs) == last["rx_frames"] + last["tx_frames"], (len(recs), last)
    assert sum(r[2] for r in recs) == last["rx_bytes"] + last["tx_bytes"]
    assert all(caplen == length for _, caplen, length in recs)
    assert all(t0 - 2 <= ts <= t1 + 2 for ts, _, _ in recs), (t0, t1, recs[:3])


def test_fragments_are_captured(topo, xdpstack, tmp_path):
    cap = tmp_path / "frag.pcap"
    d = xdpstack(topo, extra=["--pcap", cap, "--ctl", tmp_path / "xs.sock"])
    assert parse_ping(topo.ping(STACK_IP, count=1, size=3000).stdout) == (1, 1)
    rc, _, err = d.stop()
    assert rc == 0, err
    text = tcpdump(cap, "-v")
    # 3000 bytes of data + 8 of ICMP: three fragments each way.
    assert len(re.findall(rf"{PEER_B_IP} > {STACK_IP}", text)) >= 3, text
    assert len(re.findall(rf"{STACK_IP} > {PEER_B_IP}", text)) >= 3, text
    assert re.search(r"flags \[\+\]", text), text


def test_unwritable_capture_file_is_one_error_line(topo, tmp_path):
    bad = tmp_path / "no-such-dir" / "x.pcap"
    sock = tmp_path / "xs.sock"
    cmd = ["ip", "netns", "exec", topo.ns_a, str(netns.binary()), "--ip", STACK_IP,
           "--dev", topo.dev_a, "--pcap", str(bad), "--ctl", str(sock)]
    p = netns.run(cmd, check=False, timeout=20)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert p.returncode == 1, p.stderr
    assert lines == [f"xdpstack: cannot create {bad}: No such file or directory"], p.stderr
    assert "serving" not in p.stdout
    assert topo.xdp_attached() is None
    assert not sock.exists(), "control socket left behind by a failed start"
