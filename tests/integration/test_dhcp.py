# The stack's DHCP client (--ip dhcp) against a real dnsmasq in ns B: lease,
# ping and TCP on it, renewal, release on exit, DECLINE, hostile replies.
"""dnsmasq in ns B serves DHCP and DNS on xb<tag> with 2-minute leases, the
minimum dnsmasq grants, into a lease file the tests read; its zone d.test has
peer.d.test, a CNAME chain www -> mid -> peer, big.d.test (40 A records: TCP)
and nothing else (nx.d.test: NXDOMAIN):

    lease      --ip dhcp with the MAC derived from the interface's: the stack
               is bound, answers ping and TCP echo on the leased address,
               the lease file names its MAC; the DNS server came with the
               lease (the zone's names resolve through it); xdpstack-ctl
               addr shows the times.
    renew      at T1 (8 s, option 58) the lease file's expiry moves on.
    release    SIGTERM: the lease file loses the lease.
    decline    a second server (scapy) offers an address another host on the
               link holds: the RFC 5227 probe hears it, the stack DECLINEs
               and is then bound to dnsmasq's address.
    hostile    no dnsmasq: a scapy script in ns B answers the DISCOVER with
               malformed and foreign replies, each counted by reason, then
               NAKs a REQUEST (logged, discovery again), then grants a 10 s
               lease (the stack's floor) and answers nothing more: the
               renewal and the rebinding go unanswered, the lease expires
               (logged, the address no longer answers ping, discovery
               again). Offers for ns A's own MAC reach ns A's kernel, and
               while bound those for the stack's MAC too: the XDP program
               steers DHCP by chaddr only while the stack has no address."""

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
        hosts = tmp / "big.hosts"  # more than 512 bytes of answer: TCP
        hosts.write_text("".join(f"172.17.2.{i} big.d.test\n" for i in range(1, 41)))
        cmd = [DNSMASQ, "--no-daemon", "--no-resolv", "--no-hosts", "--port", "53",
               f"--interface={topo.dev_b}", "--bind-interfaces", "--dhcp-authoritative",
               f"--dhcp-range={rng[0]},{rng[1]},255.255.255.0,2m",
               f"--dhcp-leasefile={self.leases}", "--log-dhcp",
               f"--log-facility={self.log}", "--user=root", "--pid-file=",
               f"--dhcp-option=option:router,{PEER_B_IP}",
               f"--dhcp-option=option:dns-server,{PEER_B_IP}",
               "--host-record=peer.d.test," + PEER_B_IP, "--local=/d.test/",
               "--cname=www.d.test,mid.d.test", "--cname=mid.d.test,peer.d.test",
               f"--addn-hosts={hosts}", "--log-queries"] + list(extra)
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
        # The DNS server came with the lease, and the same dnsmasq's zone
        # answers: a name, a CNAME chain, a name that needs TCP, none.
        p = ctl(path, "resolve", "peer.d.test", json_out=True)
        assert p.returncode == 0 and json.loads(p.stdout)["addresses"] == [PEER_B_IP], p.stdout
        p = ctl(path, "resolve", "www.d.test", json_out=True)
        r = json.loads(p.stdout)
        assert p.returncode == 0 and r["addresses"] == [PEER_B_IP] and r["cnames"] == 2, r
        p = ctl(path, "resolve", "big.d.test", json_out=True)
        r = json.loads(p.stdout)
        assert p.returncode == 0 and r["tcp"] is True and len(r["addresses"]) == 8, r
        assert len(re.findall(r"query\[A\] big\.d\.test from ", dm.text())) == 2  # UDP, TCP
        p = ctl(path, "resolve", "nx.d.test")
        assert p.returncode == 1 and "NXDOMAIN" in p.stdout, p.stdout

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


ROGUE = r"""
import socket, sys
from scapy.all import Ether, IP, UDP, BOOTP, DHCP
dev, srv, ip = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind((dev, 0))
s.settimeout(30)
def reply(p, kind):
    b = BOOTP(op=2, xid=p[BOOTP].xid, yiaddr=ip, siaddr=srv, chaddr=p[BOOTP].chaddr)
    d = DHCP(options=[("message-type", kind), ("server_id", srv), ("lease_time", 120),
                      ("subnet_mask", "255.255.255.0"), "end"])
    s.send(bytes(Ether(dst=p[Ether].src) / IP(src=srv, dst="255.255.255.255") /
                 UDP(sport=67, dport=68) / b / d))
print("ready", flush=True)
offered = False
while True:
    p = Ether(s.recv(2048))
    if UDP not in p or p[UDP].dport != 67 or DHCP not in p:
        continue
    o = dict(x for x in p[DHCP].options if isinstance(x, tuple) and len(x) == 2)
    t = o.get("message-type")
    if t == 1 and not offered:  # one OFFER only: a DECLINE is not answered again
        reply(p, "offer")
        offered = True
    elif t == 3 and o.get("server_id") == srv:
        reply(p, "ack")
    elif t == 4:
        print("declined", o.get("requested_addr"), o.get("server_id"), flush=True)
        break
"""


def test_decline_address_in_use(topo, tmp_path):
    # A second DHCP server (scapy in ns B, at ROGUE_IP) offers and ACKs
    # 172.17.0.100, which another host on the link holds (a responder in ns B
    # answers ARP for it; the address cannot be on ns B's kernel, which would
    # take the stack's frames for it). The RFC 5227 probe hears the holder,
    # the stack DECLINEs to that server, and 10 s later takes dnsmasq's
    # address. dnsmasq starts once the DECLINE is out, so that the rogue's
    # offer is the one taken, every time.
    pytest.importorskip("scapy.all")
    rogue_ip = "172.17.0.3"
    netns.ns_run(topo.ns_b, ["ip", "addr", "add", f"{rogue_ip}/24", "dev", topo.dev_b])
    holder_py = tmp_path / "arp_holder.py"
    holder_py.write_text(ARP_HOLDER)
    rogue_py = tmp_path / "rogue.py"
    rogue_py.write_text(ROGUE)
    holder = netns.ns_popen(topo.ns_b, ["/usr/bin/python3", str(holder_py), topo.dev_b,
                                        "172.17.0.100", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rogue = netns.ns_popen(topo.ns_b, ["/usr/bin/python3", str(rogue_py), topo.dev_b,
                                       rogue_ip, "172.17.0.100"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dm = None
    try:
        assert holder.stdout.readline().strip() == b"ready"
        assert rogue.stdout.readline().strip() == "ready", rogue.stderr.read()
        d, path = start(topo, tmp_path, extra=["--mac", STACK_MAC])
        out, err = rogue.communicate(timeout=40)
        assert rogue.returncode == 0, err
        assert out.split() == ["declined", "172.17.0.100", rogue_ip], out
        d.wait_for(lambda: "offered address is in use" in "".join(d.out.chunks), 5,
                   "the DECLINE log")
        a = addr(path)
        assert a["ip"] == "0.0.0.0" and a["dhcp"]["declines"] == 1 and a["mac"] == STACK_MAC
        dm = Dnsmasq(topo, tmp_path, extra=["--no-ping"], rng=("172.17.0.101", "172.17.0.101"))
        ip, _, server = bound(d, timeout=30, dm=dm)
        assert ip == "172.17.0.101" and server == PEER_B_IP
        r = topo.ping(ip)
        assert r.returncode == 0, r.stdout
        rc, _, err = d.stop()
        assert rc == 0, err
    finally:
        if dm:
            dm.stop()
        for p in (rogue, holder):
            if p.poll() is None:
                p.kill()
            p.wait(5)


HOSTILE = r"""
import sys, socket, struct, time
from scapy.all import Ether, IP, UDP, BOOTP, DHCP, Raw
dev, srv = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind((dev, 0))
s.settimeout(30)
def client_msg(kind, skip_xid=None):
    # the stack's next DHCP message of type kind (its own xid not skip_xid)
    while True:
        p = Ether(s.recv(2048))
        if UDP not in p or p[UDP].dport != 67 or DHCP not in p:
            continue
        o = dict(x for x in p[DHCP].options if isinstance(x, tuple) and len(x) == 2)
        if o.get("message-type") == kind and p[BOOTP].xid != skip_xid:
            return p, o
p, _ = client_msg(1)
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
print("sent", len(bad) * 50, flush=True)
# Then a good OFFER, and a NAK to its REQUEST: the stack starts over.
sys.stdin.readline()
s.send(offer())
_, o = client_msg(3)
assert o.get("server_id") == srv and o.get("requested_addr") == "172.17.0.120", o
s.send(offer(yi="0.0.0.0", opts=[("message-type", "nak"), ("server_id", srv), "end"]))
p, _ = client_msg(1, skip_xid=xid)
print("nak", xid, p[BOOTP].xid, flush=True)
# Then a lease of 10 s, the stack's floor, and silence: the renewal (unicast
# to srv at T1) and the rebinding (broadcast at T2) are counted, not answered,
# until the DISCOVER of a new acquisition after the expiry.
sys.stdin.readline()
xid = p[BOOTP].xid
def short(kind):
    return [("message-type", kind), ("server_id", srv), ("lease_time", 10),
            ("subnet_mask", "255.255.255.0"), "end"]
s.send(offer(x=xid, opts=short("offer")))
_, o = client_msg(3)
assert o.get("server_id") == srv and o.get("requested_addr") == "172.17.0.120", o
s.send(offer(x=xid, opts=short("ack")))
print("acked", flush=True)
renew = rebind = 0
while True:
    p = Ether(s.recv(2048))
    if UDP not in p or p[UDP].dport != 67 or DHCP not in p:
        continue
    o = dict(x for x in p[DHCP].options if isinstance(x, tuple) and len(x) == 2)
    if o.get("message-type") == 3 and p[BOOTP].ciaddr == "172.17.0.120":
        if p[IP].dst == srv:
            renew += 1
        else:
            rebind += 1
    elif o.get("message-type") == 1 and p[BOOTP].xid != xid:
        break
print("lost", renew, rebind, xid, p[BOOTP].xid, flush=True)
"""


def dhcp_frames(topo, chaddr, n, xid=0x1234):
    """n OFFERs broadcast from ns B (Ethernet and IP) for chaddr: frames the
    kernel of ns A takes, unless the XDP program steers them to the stack."""
    from scapy.all import BOOTP, DHCP, IP, UDP, Ether
    ch = bytes.fromhex(chaddr.replace(":", "")) + bytes(10)
    return [bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=topo.mac_b) /
                  IP(src=PEER_B_IP, dst="255.255.255.255") / UDP(sport=67, dport=68) /
                  BOOTP(op=2, xid=xid + i, yiaddr="172.17.0.130", chaddr=ch) /
                  DHCP(options=[("message-type", "offer"), ("server_id", PEER_B_IP),
                                ("subnet_mask", "255.255.255.0"), "end"]))
            for i in range(n)]


def kernel_gets(topo, frames, want, timeout=5):
    """Sends frames from ns B; returns the chaddrs of the first `want` DHCP
    messages the kernel of ns A delivers to a socket on port 68. The frames
    go in order over one link: what was sent before the last one taken and
    not delivered was not passed to the kernel."""
    k = netns.socket_in(topo.ns_a, socket.AF_INET, socket.SOCK_DGRAM)
    raw = topo.raw_sender()
    got = []
    with k, raw:
        k.bind(("0.0.0.0", 68))
        k.settimeout(0.2)
        for f in frames:
            raw.send(f)
        end = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < end:
            try:
                b = k.recv(2048)
            except socket.timeout:
                continue
            got.append(b[28:34].hex(":"))
    return got


def wait_drops(path, want, timeout=5):
    """The dhcp_* drop counters once each reached want's count, or at the deadline."""
    end = time.monotonic() + timeout
    while True:
        dr = drops(path)
        if all(dr.get(k, 0) >= v for k, v in want.items()) or time.monotonic() > end:
            return {k: v for k, v in dr.items() if k.startswith("dhcp_") and v}
        time.sleep(0.1)


def test_hostile_replies(topo, tmp_path):
    # Unbound: scapy in ns B floods malformed and foreign replies to the
    # DISCOVER, each counted by reason (exactly: the wrong-chaddr ones are
    # never the stack's), then NAKs the REQUEST of a good OFFER, then grants
    # a 10 s lease it never renews. Offers for the kernel's own MAC are the
    # kernel's, before and after the lease; for the stack's MAC only while it
    # has no address.
    pytest.importorskip("scapy.all")
    script = tmp_path / "hostile.py"
    script.write_text(HOSTILE)
    sender = netns.ns_popen(topo.ns_b, ["/usr/bin/python3", str(script), topo.dev_b, PEER_B_IP],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        d, path = start(topo, tmp_path, extra=["--mac", STACK_MAC])
        line = sender.stdout.readline()
        assert line.strip() == "sent 400", sender.stderr.read() if not line else line
        want = {"dhcp_opt_len": 50, "dhcp_no_end": 50, "dhcp_opt_bad": 50,
                "dhcp_not_ours": 50, "dhcp_yiaddr": 150}
        assert wait_drops(path, want) == want  # xid only: wrong chaddrs not steered
        a = addr(path)
        assert a["ip"] == "0.0.0.0" and a["dhcp"]["state"] == "selecting"
        assert a["dhcp"]["offers"] == 0
        assert d.running()

        # The kernel's own DHCP: offers for ns A's MAC reach its socket; those
        # for the stack's MAC (wrong xid), sent first, go to the stack.
        mac_a = topo.mac_a
        got = kernel_gets(topo, dhcp_frames(topo, STACK_MAC, 5) + dhcp_frames(topo, mac_a, 5),
                          5)
        assert got == [mac_a] * 5
        want["dhcp_not_ours"] += 5
        assert wait_drops(path, want) == want

        # A NAK to the REQUEST: logged, and discovery again with a new xid.
        sender.stdin.write("go\n")
        sender.stdin.flush()
        line = sender.stdout.readline()
        assert line.startswith("nak "), sender.stderr.read() if not line else line
        _, old, new = line.split()
        assert old != new
        d.wait_for(lambda: "NAK from the server" in "".join(d.out.chunks), 5, "the NAK log")
        a = addr(path)
        assert a["ip"] == "0.0.0.0" and a["dhcp"]["state"] == "selecting", a
        assert a["dhcp"]["offers"] == 1 and a["dhcp"]["naks"] == 1 and a["dhcp"]["acks"] == 0
        assert "back to discovery" in d.stdout()
        assert wait_drops(path, want) == want

        # Then a lease of 10 s (the floor): the stack still takes one after
        # all that, and from then on offers for its MAC are not steered
        # either (broadcast: the kernel's).
        sender.stdin.write("go\n")
        sender.stdin.flush()
        line = sender.stdout.readline()
        assert line.strip() == "acked", sender.stderr.read() if not line else line
        ip, _, server = bound(d, timeout=15)
        assert ip == "172.17.0.120" and server == PEER_B_IP
        a = addr(path)
        assert a["ip"] == ip and a["dhcp"]["state"] == "bound" and a["dhcp"]["lease_s"] == 10
        got = kernel_gets(topo, dhcp_frames(topo, STACK_MAC, 3), 3)
        assert got == [STACK_MAC] * 3
        assert wait_drops(path, want, timeout=0) == want
        r = topo.ping(ip, count=1)
        assert r.returncode == 0, r.stdout

        # No renewal, no rebinding: at expiry (RFC 2131 4.4.5) one line says
        # so, the address is gone (no answer to ping, none in addr), offers
        # for the stack's MAC are steered to it again, and a new DISCOVER.
        d.wait_for(lambda: "expired without renewal" in "".join(d.out.chunks), 20,
                   "the lease's expiry")
        assert (f"xdpstack: dhcp: the lease on {ip} expired without renewal: address "
                "removed; back to discovery") in d.stdout().splitlines()
        out, err = sender.communicate(timeout=10)
        assert sender.returncode == 0, err
        lost, renew, rebind, old, new = out.split()
        assert lost == "lost" and (renew, rebind) == ("1", "1") and old != new, out
        a = addr(path)
        assert a["ip"] == "0.0.0.0" and a["dhcp"]["state"] == "selecting", a
        assert a["dhcp"]["expiries"] == 1 and a["dhcp"]["acks"] == 1, a
        assert a["dhcp"]["expiry_ms"] == -1
        r = topo.ping(ip, count=1, wait=1)
        assert r.returncode != 0 and " 0 received" in r.stdout, r.stdout
        got = kernel_gets(topo, dhcp_frames(topo, STACK_MAC, 3) + dhcp_frames(topo, mac_a, 1),
                          1)
        assert got == [mac_a]
        want["dhcp_not_ours"] += 3
        assert wait_drops(path, want) == want
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
