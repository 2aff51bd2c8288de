# The stack's DNS stub resolver (--dns, xdpstack-ctl resolve) against dnsmasq in
# ns B, and hostile replies crafted with scapy that spoof the server.
"""dnsmasq serves a.test from ns B with --local-ttl 3 and logs every query:

    host.a.test    A 172.17.1.10 (off the subnet: no route from the stack)
    peer.a.test    A 172.17.0.2, ns B's kernel (ping by name)
    www.a.test     CNAME mid.a.test, mid.a.test CNAME host.a.test
    big.a.test     40 A records (from an hosts file): more than 512 bytes
                   over UDP, so dnsmasq truncates and the stack asks over TCP
    nx.a.test      nothing (--local=/a.test/: NXDOMAIN)

    nx.neg.test    NXDOMAIN with an SOA (dnsmasq authoritative for neg.test on
                   a second address of ns B, AUTH_IP, with --auth-ttl 3)

The daemon asks AUTH_IP first: it refuses what is not neg.test, so every
a.test resolve also goes through the move to the next server. The query log
shows what reached the server: one query for two resolves within the TTL, a
second after it. The hostile test has no server at all at
the address the daemon asks (PEER:5353): a scapy script in ns B sniffs the
query and answers it with every kind of bad reply, then a good one."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

import netns
from netns import PEER_B_IP

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
HOST_IP = "172.17.1.10"
AUTH_IP = "172.17.0.3"  # ns B's second address: dnsmasq authoritative for neg.test
TTL = 3
BIG_N = 40

pytestmark = pytest.mark.skipif(not os.access(DNSMASQ, os.X_OK),
                                reason="dnsmasq not installed (scripts/deps.sh)")


def ctl_bin():
    return str(netns.build_dir() / "xdpstack-ctl")


def ctl(path, *args, json_out=False, timeout=30):
    cmd = [ctl_bin(), "--ctl", str(path)] + (["--json"] if json_out else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def resolve(path, name, **kw):
    p = ctl(path, "resolve", name, json_out=True, **kw)
    assert p.stdout, f"exit {p.returncode}: {p.stderr}"
    return p.returncode, json.loads(p.stdout)


def stats(path):
    p = ctl(path, "stats", json_out=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def drops(path):
    return {k: v["count"] for k, v in stats(path)["drops"].items()}


class Dnsmasq:
    def __init__(self, topo, tmp):
        self.log = tmp / "dnsmasq.log"
        hosts = tmp / "big.hosts"
        hosts.write_text("".join(f"172.17.2.{i} big.a.test\n" for i in range(1, BIG_N + 1)))
        self.cmd = [DNSMASQ, "--no-daemon", "--no-resolv", "--no-hosts", "--port", "53",
                    "--listen-address", f"{PEER_B_IP},{AUTH_IP}", "--bind-interfaces",
                    "--log-queries",
                    f"--log-facility={self.log}", f"--local-ttl={TTL}", "--local=/a.test/",
                    f"--host-record=host.a.test,{HOST_IP}",
                    f"--host-record=peer.a.test,{PEER_B_IP}",
                    "--cname=mid.a.test,host.a.test", "--cname=www.a.test,mid.a.test",
                    f"--addn-hosts={hosts}", "--user=root", "--pid-file=",
                    f"--auth-server=ns.neg.test,{AUTH_IP}", "--auth-zone=neg.test",
                    f"--auth-ttl={TTL}", "--auth-soa=1,hostmaster.neg.test,1200,120,1209600"]
        self.proc = netns.ns_popen(topo.ns_b, self.cmd, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if self.log.exists() and "started" in self.log.read_text():
                return
            if self.proc.poll() is not None:
                pytest.fail(f"dnsmasq exited: {self.proc.stderr.read().decode()}")
            time.sleep(0.05)
        pytest.fail("dnsmasq did not start")

    def queries(self, name, kind="query"):
        """Queries for name that dnsmasq answered from a.test (kind "query", UDP
        and TCP alike) or as the authority of neg.test (kind "auth")."""
        text = self.log.read_text() if self.log.exists() else ""
        return len(re.findall(rf"{kind}\[A\] {re.escape(name)} from ", text))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def served(topo_module, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dns")
    netns.ns_run(topo_module.ns_b, ["ip", "addr", "add", f"{AUTH_IP}/24", "dev",
                                    topo_module.dev_b])
    dm = Dnsmasq(topo_module, tmp)
    path = tmp / "run" / "xs.sock"
    d = netns.Daemon(topo_module, extra=["--ctl", path, "--dns", AUTH_IP, "--dns", PEER_B_IP])
    try:
        d.start()
        yield topo_module, d, path, dm
    finally:
        dm.stop()
        if d.running():
            rc, _, err = d.stop()
            assert rc == 0, err


def test_resolve_a(served):
    _, d, path, dm = served
    rc, r = resolve(path, "host.a.test")
    assert rc == 0, r
    assert r["addresses"] == [HOST_IP]
    assert r["cnames"] == 0 and r["canonical"] == "host.a.test"
    assert 0 < r["ttl"] <= TTL and r["cached"] is False and r["tcp"] is False
    assert dm.queries("host.a.test") == 1
    # Text form, as host(1) prints it.
    p = ctl(path, "resolve", "HOST.a.test")
    assert p.returncode == 0, p.stderr
    assert f"host.a.test has address {HOST_IP}" in p.stdout


def test_cname_chain(served):
    _, d, path, dm = served
    rc, r = resolve(path, "www.a.test")
    assert rc == 0, r
    assert r["addresses"] == [HOST_IP]
    assert r["cnames"] == 2 and r["canonical"] == "host.a.test"
    p = ctl(path, "resolve", "www.a.test")
    assert "www.a.test is an alias for host.a.test (2 CNAMEs)" in p.stdout


def test_tcp_fallback(served):
    _, d, path, dm = served
    before = stats(path)["counters"]
    rc, r = resolve(path, "big.a.test")
    assert rc == 0, r
    assert r["tcp"] is True
    # XS_DNS_MAX_ADDRS (8) of the 40 are kept.
    assert len(r["addresses"]) == 8
    assert all(a.startswith("172.17.2.") for a in r["addresses"])
    after = stats(path)["counters"]
    assert after["dns_tcp_fallback"] - before["dns_tcp_fallback"] == 1
    # Asked twice: over UDP (truncated), then over TCP.
    assert dm.queries("big.a.test") == 2


def test_cache_by_ttl(served):
    _, d, path, dm = served
    time.sleep(TTL + 0.5)  # whatever earlier tests cached is gone
    n0 = dm.queries("mid.a.test")
    rc, r1 = resolve(path, "mid.a.test")
    rc2, r2 = resolve(path, "mid.a.test")
    assert rc == 0 and rc2 == 0
    assert r1["cached"] is False and r2["cached"] is True
    assert r2["addresses"] == r1["addresses"] == [HOST_IP]
    assert dm.queries("mid.a.test") == n0 + 1, "the second resolve reached the server"
    time.sleep(TTL + 0.5)
    rc, r3 = resolve(path, "mid.a.test")
    assert rc == 0 and r3["cached"] is False
    assert dm.queries("mid.a.test") == n0 + 2, "the expired entry was not asked again"


def test_nxdomain(served):
    _, d, path, dm = served
    rc, r = resolve(path, "nx.a.test")
    assert rc == 1 and r["errno"] == 2 and "NXDOMAIN" in r["error"]
    p = ctl(path, "resolve", "nx.a.test")
    assert p.returncode == 1 and "NXDOMAIN" in p.stdout
    # RFC 2308 5: dnsmasq's --local NXDOMAIN has no SOA, so it is not cached.
    assert dm.queries("nx.a.test") == 2
    assert r["cached"] is False and r["ttl"] == 0


def test_negative_cache_by_soa(served):
    _, d, path, dm = served
    # neg.test is dnsmasq's authoritative zone: its NXDOMAIN carries the SOA,
    # whose TTL (--auth-ttl) bounds how long the answer is kept.
    n0 = dm.queries("nx.neg.test", "auth")
    rc, r1 = resolve(path, "nx.neg.test")
    rc2, r2 = resolve(path, "nx.neg.test")
    assert rc == 1 and rc2 == 1 and r1["errno"] == r2["errno"] == 2
    assert r1["cached"] is False and 0 < r1["ttl"] <= TTL
    assert r2["cached"] is True
    assert dm.queries("nx.neg.test", "auth") == n0 + 1
    time.sleep(TTL + 0.5)
    rc, r3 = resolve(path, "nx.neg.test")
    assert rc == 1 and r3["cached"] is False
    assert dm.queries("nx.neg.test", "auth") == n0 + 2


def test_ping_by_name(served):
    topo, d, path, dm = served
    p = ctl(path, "ping", "peer.a.test", "-c", "2", "-i", "0.2")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"PING peer.a.test ({PEER_B_IP}) 56(84) bytes of data.\n")
    assert f"bytes from {PEER_B_IP}: icmp_seq=1" in p.stdout
    assert "--- peer.a.test ping statistics ---" in p.stdout
    # www.a.test ends at 172.17.1.10: off the subnet, and no gateway.
    p = ctl(path, "ping", "www.a.test", "-c", "1", "-W", "1")
    assert p.returncode == 1 and "no route to 172.17.1.10" in p.stderr, p.stderr
    p = ctl(path, "ping", "nx.a.test", "-c", "1")
    assert p.returncode == 1 and "nx.a.test: name not found" in p.stderr, p.stderr


def test_bad_names(served):
    _, d, path, dm = served
    for bad in ("a..b", "x" * 64 + ".test", "bad name!"):
        p = ctl(path, "resolve", bad)
        assert p.returncode == 2, (bad, p.stdout, p.stderr)
    p = ctl(path, "resolve", PEER_B_IP)
    assert p.returncode == 0 and f"{PEER_B_IP} has address {PEER_B_IP}" in p.stdout


HOSTILE = r'''
import struct, sys, time
from scapy.all import IP, UDP, Raw, conf, send, sniff
conf.verb = 0
dev, server, port, answer = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
q = sniff(iface=dev, count=1, timeout=20,
          lfilter=lambda p: UDP in p and p[UDP].dport == port and p[IP].dst == server)
if not q:
    print("no query seen"); sys.exit(1)
q = q[0]
msg = bytes(q[UDP].payload)
qid, = struct.unpack(">H", msg[:2])
question = msg[12:]
stack, sport = q[IP].src, q[UDP].sport

def hdr(id_, an=1, ns=0, ar=0, flags=0x8180, qd=1):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)

def a_rr(owner=b"\xc0\x0c", rdlen=4, rdata=None, ttl=60):
    rdata = rdata if rdata is not None else bytes(map(int, answer.split(".")))
    return owner + struct.pack(">HHIH", 1, 1, ttl, rdlen) + rdata

good = hdr(qid) + question + a_rr()
other_q = b"\x05other\x01a\x04test\x00\x00\x01\x00\x01"
long_name = (b"\x3f" + b"x" * 63) * 4 + b"\x00"
cases = [
    ("dns_id", server, port, hdr(qid ^ 0x5555) + question + a_rr()),
    ("dns_src", server, port + 1, good),
    ("dns_src", "172.17.0.77", port, good),
    ("dns_question", server, port, hdr(qid) + other_q + a_rr()),
    # The answer's owner "b" + a pointer back to its own start.
    ("dns_ptr_loop", server, port,
     hdr(qid) + question + a_rr(owner=b"\x01b\xc0" + bytes([12 + len(question)]))),
    ("dns_ptr_forward", server, port,
     hdr(qid) + question + a_rr(owner=b"\xc0\x30") + b"\x00" * 20),
    ("dns_ptr_past_end", server, port, hdr(qid) + question + a_rr(owner=b"\xc3\xff")),
    ("dns_label_long", server, port,
     hdr(qid) + question + a_rr(owner=b"\x40" + b"y" * 64 + b"\x00")),
    ("dns_name_long", server, port, hdr(qid) + question + a_rr(owner=long_name)),
    ("dns_rdlen", server, port, hdr(qid) + question + a_rr(rdlen=200)),
    ("dns_count", server, port, hdr(qid, an=3) + question + a_rr()),
    ("dns_count", server, port, hdr(qid, an=1, ns=2, ar=5) + question + a_rr()),
]
for why, src, sp, payload in cases:
    send(IP(src=src, dst=stack) / UDP(sport=sp, dport=sport) / Raw(payload))
    time.sleep(0.05)
time.sleep(0.3)
send(IP(src=server, dst=stack) / UDP(sport=port, dport=sport) / Raw(good))
print(" ".join(c[0] for c in cases))
'''


def test_hostile_replies(topo, xdpstack, tmp_path):
    path = tmp_path / "run" / "xs.sock"
    d = xdpstack(topo, extra=["--ctl", path, "--dns", f"{PEER_B_IP}:5353",
                              "--dns-timeout", "8000"])
    script = tmp_path / "hostile.py"
    script.write_text(HOSTILE)
    atk = netns.ns_popen(topo.ns_b, [sys.executable, script, topo.dev_b, PEER_B_IP, "5353",
                                     "172.17.1.99"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)  # scapy is sniffing
        before = drops(path)
        rc, r = resolve(path, "evil.a.test")
        out, err = atk.communicate(timeout=30)
    finally:
        if atk.poll() is None:
            atk.kill()
            atk.wait()
    assert atk.returncode == 0, err
    assert rc == 0, r
    assert r["addresses"] == ["172.17.1.99"]
    after = drops(path)
    want = {}
    for why in out.split():
        want[why] = want.get(why, 0) + 1
    for why, n in want.items():
        assert after[why] - before[why] == n, f"{why}: {after[why] - before[why]}, want {n}"
    assert d.running()
    # The genuine answer was cached: asked again, nothing is sent.
    rc, r = resolve(path, "evil.a.test")
    assert rc == 0 and r["cached"] is True


def test_connect_by_name(served):
    topo, d, path, dm = served
    ls = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((PEER_B_IP, 7777))
    ls.listen(1)
    ls.settimeout(10)

    def serve():
        try:
            c, _ = ls.accept()
            c.sendall(b"hello by name\n")
            c.close()
        except OSError:
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        p = subprocess.run([ctl_bin(), "--ctl", str(path), "connect", "peer.a.test", "7777"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    finally:
        t.join(10)
        ls.close()
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"hello by name\n"
    p = ctl(path, "connect", "nx.a.test", "7777")
    assert p.returncode == 1 and "nx.a.test: name not found" in p.stderr, p.stderr


def test_query_budget(topo, xdpstack, tmp_path):
    # One name at a time (--dns-queries 1) and a server that never answers:
    # a second resolve is refused and counted while the first waits, and the
    # first ends when every try timed out (2 rounds of 300 ms).
    path = tmp_path / "run" / "xs.sock"
    d = xdpstack(topo, extra=["--ctl", path, "--dns", f"{PEER_B_IP}:5353",
                              "--dns-queries", "1", "--dns-timeout", "300"])
    first = subprocess.Popen([ctl_bin(), "--ctl", str(path), "--json", "resolve", "slow.test"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.2)
    p = ctl(path, "resolve", "other.test")
    assert p.returncode == 1 and "too many names being resolved" in p.stderr, p.stderr
    out, err = first.communicate(timeout=30)
    assert first.returncode == 1, err
    r = json.loads(out)
    assert r["error"] == "no DNS server answered"
    c = stats(path)["counters"]
    assert c["dns_busy"] == 1 and c["dns_timeouts"] == 2 and c["dns_inflight"] == 0
    assert d.running()
