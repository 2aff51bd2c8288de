# The stack's DHCP client (--ip dhcp) against a real dnsmasq in ns B: lease,
# ping and TCP on it, renewal, release on exit, DECLINE, hostile replies.
"""dnsmasq in ns B serves DHCP (and DNS) on xb<tag> with 2-minute leases, the
minimum dnsmasq grants, into a lease file the tests read:

    lease      --ip dhcp with the MAC derived from the interface's: the stack
               is bound, answers ping and TCP echo on the leased address,
               the lease file names its MAC; the DNS server came with the
               lease (resolve through it); xdpstack-ctl addr shows the times.
    renew      at T1 (60 s) the lease file's expiry moves on.
    release    SIGTERM: the lease file loses the lease.
    decline    the address reserved for the stack's MAC is held by ns B's
               kernel: the RFC 5227 probe hears it, the stack DECLINEs and
               is bound to the next address.
    hostile    no dnsmasq: a scapy script in ns B answers the DISCOVER with
               malformed and foreign replies; each is counted by reason and
               the stack stays up (then takes a good offer).
The kernel of ns A keeps its own address and MAC: frames for other MACs
(chaddr) are never steered, so its DHCP traffic would be untouched."""

import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

import netns
from netns import PEER_B_IP

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
STACK_MAC = "02:00:00:00:00:aa"
RANGE = ("172.17.0.100", "172.17.0.150")

pytestmark = pytest.mark.skipif(not os.access(DNSMASQ, os.X_OK),
                                reason="dnsmasq not installed (scripts/deps.sh)")


def ctl(path, *args, json_out=False, timeout=30):
    cmd = [str(netns.build_dir() / "xdpstack-ctl"), "--ctl", str(path)] + \
        (["--json"] if json_out else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def addr(path):
    p = ctl(path, "addr", json_out=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def drops(path):
    p = ctl(path, "stats", json_out=True)
    assert p.returncode == 0, p.stderr
    return {k.lower(): v["count"] for k, v in json.loads(p.stdout)["drops"].items()}


class Dnsmasq:
    def __init__(self, topo, tmp, extra=(), rng=RANGE):
        self.leases = tmp / "dnsmasq.leases"
        self.log = tmp / "dnsmasq.log"
        self.leases.write_text("")
        cmd = [DNSMASQ, "--no-daemon", "--no-resolv", "--no-hosts", "--port", "53",
               f"--interface={topo.dev_b}", "--bind-interfaces", "--dhcp-authoritative",
               f"--dhcp-range={rng[0]},{rng[1]},255.255.255.0,2m",
               f"--dhcp-leasefile={self.leases}", "--log-dhcp",
               f"--log-facility={self.log}", "--user=root", "--pid-file=",
               f"--dhcp-option=option:router,{PEER_B_IP}",
               f"--dhcp-option=option:dns-server,{PEER_B_IP}",
               "--host-record=peer.d.test," + PEER_B_IP, "--local=/d.test/"] + list(extra)
        self.proc = netns.ns_popen(topo.ns_b, cmd, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if self.log.exists() and "DHCP, IP range" in self.log.read_text():
                return
            if self.proc.poll() is not None:
                pytest.fail(f"dnsmasq exited: {self.proc.stderr.read().decode()}")
            time.sleep(0.05)
        pytest.fail("dnsmasq did not start")

    def lease_lines(self):
        return [l.split() for l in self.leases.read_text().splitlines() if l.strip()]

    def text(self):
        return self.log.read_text() if self.log.exists() else ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def bound(d, timeout=30, dm=None):
    try:
        d.wait_for(lambda: "dhcp: bound to" in "".join(d.out.chunks), timeout, "a DHCP lease")
    except netns.DaemonError as e:
        raise netns.DaemonError(f"{e}\ndnsmasq log:\n{dm.text() if dm else ''}") from None
    m = re.search(r"dhcp: bound to ([\d.]+)/(\d+) from server ([\d.]+)", d.stdout())
    return m.group(1), int(m.group(2)), m.group(3)


def start(topo, tmp, extra=()):
    path = tmp / "run" / "xs.sock"
    d = netns.Daemon(topo, ip="dhcp", extra=["--ctl", path] + list(extra))
    d.start()
    return d, path


def test_lease_ping_tcp_renew_release(topo, tmp_path):
    # dnsmasq's shortest lease is 2 min; T1 (option 58) is set to 8 s so
    # that the renewal comes within the test, not after the default 60 s.
    dm = Dnsmasq(topo, tmp_path, extra=["--dhcp-option=option:T1,8",
                                        "--dhcp-option=option:T2,100"])
    try:
        d, path = start(topo, tmp_path)
        ip, plen, server = bound(d, dm=dm)
        assert plen == 24 and server == PEER_B_IP
        lo = int(RANGE[0].rsplit(".", 1)[1])
        hi = int(RANGE[1].rsplit(".", 1)[1])
        assert lo <= int(ip.rsplit(".", 1)[1]) <= hi
        a = addr(path)
        assert a["ip"] == ip and a["dhcp"]["state"] == "bound"
        assert 0 < a["dhcp"]["t1_ms"] <= 8000 and 60000 < a["dhcp"]["expiry_ms"] <= 120000
        # Not the interface's MAC: a locally administered one derived from it.
        assert a["mac"] != topo.mac_a and int(a["mac"][:2], 16) & 2
        lines = dm.lease_lines()
        assert len(lines) == 1 and lines[0][1] == a["mac"] and lines[0][2] == ip
        exp0 = int(lines[0][0])
        text = ctl(path, "addr").stdout
        assert "dhcp bound server " + PEER_B_IP in text and "expires " in text

        r = topo.ping(ip)
        assert r.returncode == 0, r.stdout
        cli = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
        with cli:
            cli.settimeout(5)
            cli.connect((ip, 8888))
            cli.sendall(b"dhcp tcp echo\n")
            got = b""
            while len(got) < 14:
                chunk = cli.recv(100)
                if not chunk:
                    break
                got += chunk
        assert got == b"dhcp tcp echo\n"
        # The DNS server came with the lease.
        p = ctl(path, "resolve", "peer.d.test", json_out=True)
        assert p.returncode == 0 and json.loads(p.stdout)["addresses"] == [PEER_B_IP], p.stdout

        # T1 = 8 s: the renewal (unicast REQUEST) moves the lease file's expiry.
        d.wait_for(lambda: "dhcp: renewed" in "".join(d.out.chunks), 20, "the renewal")
        end = time.monotonic() + 5
        while time.monotonic() < end and int(dm.lease_lines()[0][0]) == exp0:
            time.sleep(0.1)
        assert int(dm.lease_lines()[0][0]) > exp0, dm.text()
        assert "DHCPREQUEST" in dm.text() and "renew" in d.stdout()
        assert addr(path)["dhcp"]["acks"] == 2

        rc, out, err = d.stop()
        assert rc == 0, err
        assert "lease released" in out
        end = time.monotonic() + 5
        while time.monotonic() < end and dm.lease_lines():
            time.sleep(0.1)
        assert dm.lease_lines() == [], dm.text()
        assert "DHCPRELEASE" in dm.text()
    finally:
        dm.stop()


ARP_HOLDER = r'''
import socket, struct, sys, time
dev, ip = sys.argv[1], socket.inet_aton(sys.argv[2])
mac = bytes.fromhex("0200000000bb")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((dev, 0))
end = time.monotonic() + float(sys.argv[3])
s.settimeout(0.2)
print("ready", flush=True)
while time.monotonic() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    a = f[14:42]
    if len(a) < 28 or struct.unpack("!H", a[6:8])[0] != 1 or a[24:28] != ip:
        continue
    sha = a[8:14]
    # another host that holds the address answers the probe
    rep = sha + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac + ip + \
        sha + a[14:18]
    s.send(rep.ljust(60, b"\0"))
    print("answered", flush=True)
'''


def test_decline_address_in_use(topo, tmp_path):
    # The stack's MAC is reserved 172.17.0.100, which another host on the
    # link holds (a responder in ns B answers ARP for it; the address cannot
    # be on ns B's kernel, which would then take dnsmasq's unicast OFFER
    # itself). dnsmasq (--no-ping) offers it anyway: the probe hears the
    # holder, the stack DECLINEs, and dnsmasq offers the range's address.
    script = tmp_path / "arp_holder.py"
    script.write_text(ARP_HOLDER)
    holder = netns.ns_popen(topo.ns_b, ["/usr/bin/python3", str(script), topo.dev_b,
                                        "172.17.0.100", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"ready"
    dm = Dnsmasq(topo, tmp_path, extra=["--no-ping", f"--dhcp-host={STACK_MAC},172.17.0.100"],
                 rng=("172.17.0.101", "172.17.0.101"))
    try:
        d, path = start(topo, tmp_path, extra=["--mac", STACK_MAC])
        ip, _, _ = bound(d, timeout=60, dm=dm)
        assert "offered address is in use" in d.stdout()
        assert ip == "172.17.0.101"
        assert "DHCPDECLINE" in dm.text()
        a = addr(path)
        assert a["dhcp"]["declines"] >= 1 and a["mac"] == STACK_MAC
        r = topo.ping(ip)
        assert r.returncode == 0, r.stdout
        rc, _, err = d.stop()
        assert rc == 0, err
    finally:
        dm.stop()
        holder.kill()
        holder.wait(5)


HOSTILE = r'''
import sys, socket, struct, time
from scapy.all import Ether, IP, UDP, BOOTP, DHCP, Raw
dev, srv = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind((dev, 0))
s.settimeout(20)
while True:
    f = s.recv(2048)
    p = Ether(f)
    if UDP in p and p[UDP].dport == 67 and BOOTP in p:
        break
xid, mac = p[BOOTP].xid, p[Ether].src
chaddr = bytes.fromhex(mac.replace(":", "")) + bytes(10)
def offer(yi="172.17.0.120", x=xid, ch=chaddr, opts=None, raw=None):
    b = BOOTP(op=2, xid=x, yiaddr=yi, siaddr=srv, chaddr=ch)
    if raw is not None:
        b = b / Raw(b"\x63\x82\x53\x63" + raw)
    else:
        b = b / DHCP(options=opts or [("message-type", "offer"), ("server_id", srv),
                                      ("lease_time", 120), ("subnet_mask", "255.255.255.0"),
                                      "end"])
    return bytes(Ether(dst=mac) / IP(src=srv, dst="255.255.255.255") / UDP(sport=67, dport=68) / b)
bad = [
    offer(raw=b"\x35\x01\x02\x36\x04\xac\x11\x00\x02\x06\xc8\xac\x11"),  # option past the end
    offer(raw=b"\x35\x01\x02\x36\x04\xac\x11\x00\x02" + b"\x00" * 8),     # no END
    offer(x=xid ^ 0x5a5a5a5a),                                             # wrong xid
    offer(ch=b"\x02\x99\x99\x99\x99\x99" + bytes(10)),                     # wrong chaddr
    offer(yi="0.0.0.0"),                                                   # yiaddr 0
    offer(yi="255.255.255.255"),                                           # broadcast
    offer(yi="172.17.0.255"),                                              # subnet broadcast
    offer(raw=b"\x35\x01\x02\x01\x03\xff\xff\xff\xff"),                    # bad option length
]
for _ in range(50):  # a flood of them too
    for f in bad:
        s.send(f)
time.sleep(0.5)
print("sent", len(bad) * 50, flush=True)
'''


def test_hostile_replies(topo, tmp_path):
    pytest.importorskip("scapy.all")
    script = tmp_path / "hostile.py"
    script.write_text(HOSTILE)
    sender = netns.ns_popen(topo.ns_b, ["/usr/bin/python3", str(script), topo.dev_b, PEER_B_IP],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        d, path = start(topo, tmp_path, extra=["--mac", STACK_MAC])
        out, err = sender.communicate(timeout=60)
        assert sender.returncode == 0, err.decode()
        assert b"sent 400" in out
        time.sleep(0.5)
        dr = drops(path)
        assert dr.get("dhcp_opt_len", 0) >= 50
        assert dr.get("dhcp_no_end", 0) >= 50
        assert dr.get("dhcp_opt_bad", 0) >= 50
        assert dr.get("dhcp_not_ours", 0) >= 50  # xid (chaddr ones are not steered)
        assert dr.get("dhcp_yiaddr", 0) >= 150
        a = addr(path)
        assert a["ip"] == "0.0.0.0" and a["dhcp"]["state"] == "selecting"
        assert a["dhcp"]["offers"] == 0
        assert d.running()
        # Then a real server: the stack still takes a lease.
        dm = Dnsmasq(topo, tmp_path)
        try:
            bound(d, timeout=80)
        finally:
            dm.stop()
        rc, _, err = d.stop()
        assert rc == 0, err
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait(5)


@pytest.mark.parametrize("args,msg", [
    (["--ip", "dhcp"], "--ip dhcp needs --dev"),
    (["--ip", "dhcp", "--dev", "lo", "--gw", "10.0.0.1"], "drop --gw"),
    (["--ip", "dhcp/24", "--dev", "lo"], "invalid --ip"),
])
def test_cli_errors(args, msg):
    p = subprocess.run([str(netns.binary())] + args, capture_output=True, text=True, timeout=10)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0], p.stderr
