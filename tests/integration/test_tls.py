# TLS over the stack's TCP (OpenSSL, no kernel socket): the daemon's HTTPS and TLS
# echo against openssl s_client, curl and Python's ssl; the stack as a TLS client.
"""Certificates come from tests/tcp/tls_certs.sh (openssl): a test CA, a server
certificate for server.test and the stack's and peer's addresses, an expired
one, one for wrong.test, a self-signed one.

One topology and daemon per module: --https 8443 (the HTTP service's files over
TLS) and --tls-echo 7443, both with the server certificate. From ns B:
s_client over TLS 1.2 and 1.3 echoes random bytes byte-exact; curl --cacert
fetches files byte-exact, 100 MB included; 200 concurrent clients complete;
resumption shows in s_client (-reconnect for 1.2, -sess_out/-sess_in for 1.3:
s_client's -reconnect does not wait for a 1.3 ticket). The stack as a client
(xdpstack-ctl connect --tls) against openssl s_server in ns B: served with the
right CA, refused with a clear line for each bad certificate.

Hostile clients get a daemon of their own (--tls-handshake-timeout 1500
--tls-max-handshakes 4) in a topology of its own: garbage instead of a
ClientHello is dropped at once, a stall at the timeout, while others are
served; past the handshake budget connections are reset until a slot frees.

With --queues 2 on a 2-queue veth, each queue runs its own context and services:
echo and HTTPS clients land on both queues and are served, and the counters are
summed over the queues.
Nothing asserts a speed: bounds are generous, or "not before the timeout".
"""

import hashlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import time

import pytest

import netns
from netns import PEER_B_IP, STACK_IP
from served_files import file_sha256, write_random_files

HTTPS_PORT = 8443
ECHO_PORT = 7443
OPENSSL = "/usr/bin/openssl"
CURL = "/usr/bin/curl"
HERE = os.path.dirname(os.path.abspath(__file__))
CERTS_SH = os.path.join(HERE, "..", "tcp", "tls_certs.sh")
FILES = {"one.txt": 1, "mib.bin": 1 << 20, "big.bin": 100_000_000}

pytestmark = pytest.mark.skipif(not (os.access(OPENSSL, os.X_OK) and os.access(CURL, os.X_OK)),
                                reason="openssl or curl not installed (scripts/deps.sh)")


def make_certs(base):
    d = base / "certs"
    netns.run(["sh", CERTS_SH, str(d)])
    return d


def make_root(base):
    root = base / "root"
    root.mkdir()
    return root, write_random_files(root, FILES, 20261215)


@pytest.fixture(scope="module")
def env(topo_module, tmp_path_factory):
    base = tmp_path_factory.mktemp("tls")
    certs = make_certs(base)
    root, digests = make_root(base)
    d = netns.Daemon(topo_module, extra=[
        "--https", HTTPS_PORT, "--tls-echo", ECHO_PORT, "--root", root,
        "--cert", certs / "server.pem", "--key", certs / "server.key",
        "--ctl", base / "ctl.sock"]).start()
    yield topo_module, d, certs, root, digests, base
    rc, out, err = d.stop()
    assert rc == 0, err
    assert d.sanitizer_report() is None


def s_client(topo, port, *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE):
    return netns.ns_popen(topo.ns_b, [OPENSSL, "s_client", "-connect", f"{STACK_IP}:{port}"]
                          + [str(a) for a in args], stdin=stdin, stdout=stdout,
                          stderr=subprocess.PIPE, start_new_session=True)


def read_exactly(f, n, timeout):
    """n bytes from a pipe within timeout seconds (fewer if it ends)."""
    got = bytearray()
    end = time.monotonic() + timeout
    fd = f.fileno()
    while len(got) < n:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, n - len(got))
        if not chunk:
            break
        got += chunk
    return bytes(got)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.communicate(timeout=5)


@pytest.mark.parametrize("version", ["tls1_2", "tls1_3"])
def test_s_client_echo_byte_exact(env, version):
    topo, d, certs, *_ = env
    data = os.urandom(256 * 1024)
    # -ign_eof: s_client reads on after its stdin ends; -brief: the summary on stderr.
    p = s_client(topo, ECHO_PORT, "-CAfile", certs / "ca.pem", "-verify_return_error",
                 "-servername", "server.test", "-verify_hostname", "server.test",
                 f"-{version}", "-brief", "-ign_eof")
    try:
        p.stdin.write(data)
        p.stdin.flush()
        got = read_exactly(p.stdout, len(data), 60)
    finally:
        _, err = stop(p)
    err = err.decode(errors="replace")
    assert len(got) == len(data) and got == data, err
    want = "TLSv1.2" if version == "tls1_2" else "TLSv1.3"
    assert f"Protocol version: {want}" in err, err
    assert "Verification: OK" in err and "Verified peername: server.test" in err, err


def curl(topo, certs, path, *args, timeout=120):
    return netns.ns_run(topo.ns_b, [CURL, "-sS", "--cacert", certs / "ca.pem", "--resolve",
                                    f"server.test:{HTTPS_PORT}:{STACK_IP}"] + list(args)
                        + [f"https://server.test:{HTTPS_PORT}{path}"],
                        check=False, timeout=timeout)


def test_curl_https_byte_exact(env):
    topo, d, certs, root, digests, base = env
    for name, size in FILES.items():
        out = base / f"got-{name}"
        p = curl(topo, certs, "/" + name, "-o", out, "-w",
                 "%{http_code}|%{size_download}|%{ssl_verify_result}|%{http_version}",
                 timeout=300)
        assert p.returncode == 0, p.stderr
        code, got, verify, httpv = p.stdout.split("|")
        assert (code, int(got), verify, httpv) == ("200", size, "0", "1.1"), p.stdout
        assert file_sha256(out) == digests[name]
        out.unlink()
    # ALPN chose http/1.1 (curl offers h2 first); a 404 comes over TLS too.
    p = curl(topo, certs, "/one.txt", "-v", "-o", "/dev/null")
    assert "ALPN: server accepted http/1.1" in p.stderr, p.stderr
    p = curl(topo, certs, "/nothing", "-o", "/dev/null", "-w", "%{http_code}")
    assert p.stdout == "404", p.stdout + p.stderr
    # Without the CA, curl refuses the certificate: nothing was plaintext.
    p = netns.ns_run(topo.ns_b, [CURL, "-sS", "--resolve", f"server.test:{HTTPS_PORT}:{STACK_IP}",
                                 f"https://server.test:{HTTPS_PORT}/one.txt"], check=False)
    assert p.returncode == 60, p.stderr  # CURLE_PEER_FAILED_VERIFICATION


def test_200_concurrent_tls_clients(env):
    topo, d, certs, *_ = env
    before = d.counters()
    p = netns.ns_run(topo.ns_b, ["/usr/bin/python3", os.path.join(HERE, "tls_clients.py"),
                                 STACK_IP, ECHO_PORT, certs / "ca.pem", "server.test", 200,
                                 4096, 60], check=False, timeout=180)
    res = json.loads(p.stdout.strip().splitlines()[-1]) if p.stdout.strip() else {}
    assert p.returncode == 0 and res.get("ok") == 200, p.stdout + p.stderr
    after = d.counters()
    assert after["tls_handshakes"] - before["tls_handshakes"] >= 200
    assert after["tls_handshake_refused"] == before["tls_handshake_refused"]


def s_client_session(topo, certs, version, *args):
    """One s_client session to the echo: a line echoed, then stdin closed;
    returns its stdout and stderr once it ended."""
    p = s_client(topo, ECHO_PORT, "-CAfile", certs / "ca.pem", "-servername", "server.test",
                 f"-{version}", *args)
    head = b""
    try:
        p.stdin.write(b"ping\n")
        p.stdin.flush()
        # The echo comes after the server's tickets: they were read by then.
        end = time.monotonic() + 20
        while b"\nping\n" not in head and time.monotonic() < end:
            chunk = read_exactly(p.stdout, 1, 1)
            if not chunk:
                break
            head += chunk
        p.stdin.close()
        p.stdin = None
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            stop(p)
    return (head + out).decode(errors="replace"), err.decode(errors="replace")


def test_resumption(env):
    topo, d, certs, root, digests, base = env
    before = d.counters()
    # TLS 1.2: s_client -reconnect resumes five times.
    p = s_client(topo, ECHO_PORT, "-CAfile", certs / "ca.pem", "-servername", "server.test",
                 "-tls1_2", "-reconnect", stdin=subprocess.DEVNULL)
    out, err = p.communicate(timeout=60)
    out = out.decode(errors="replace")
    assert len(re.findall(r"^New, TLSv1\.2", out, re.M)) == 1, out
    assert len(re.findall(r"^Reused, TLSv1\.2", out, re.M)) == 5, out
    # TLS 1.3: the ticket of one session resumes the next.
    sess = base / "sess.pem"
    out, err = s_client_session(topo, certs, "tls1_3", "-sess_out", sess)
    assert re.search(r"^New, TLSv1\.3", out, re.M) and sess.exists(), out + err
    out, err = s_client_session(topo, certs, "tls1_3", "-sess_in", sess)
    assert re.search(r"^Reused, TLSv1\.3", out, re.M), out + err
    after = d.counters()
    assert after["tls_resumed"] - before["tls_resumed"] >= 6


# --------------------------------------------------- the stack as a TLS client

@pytest.fixture(scope="module")
def servers(env):
    """openssl s_server in ns B, one per certificate, reversing lines (-rev)."""
    topo, d, certs, *_ = env
    procs, ports = [], {}
    for i, name in enumerate(("server", "expired", "wrong", "self")):
        port = 4433 + i
        p = netns.ns_popen(topo.ns_b, [OPENSSL, "s_server", "-accept", f"{PEER_B_IP}:{port}",
                                       "-cert", certs / f"{name}.pem", "-key",
                                       certs / f"{name}.key", "-rev", "-quiet"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
        topo.procs.append(p)
        procs.append(p)
        ports[name] = port
    end = time.monotonic() + 10
    for port in ports.values():
        while netns.ns_run(topo.ns_b, ["nc", "-z", PEER_B_IP, port], check=False).returncode:
            assert time.monotonic() < end, f"s_server on {port} did not start"
            time.sleep(0.1)
    yield ports
    for p in procs:
        stop(p)


def ctl_connect(env, *args, data=b"hello tls\n", timeout=30):
    topo, d, certs, root, digests, base = env
    cmd = [netns.build_dir() / "xdpstack-ctl", "--ctl", base / "ctl.sock", "connect", "--tls",
           "--cafile", certs / "ca.pem"] + list(args)
    return subprocess.run([str(c) for c in cmd], input=data, capture_output=True,
                          timeout=timeout)


def test_stack_client_verifies_the_server(env, servers):
    p = ctl_connect(env, "--servername", "server.test", PEER_B_IP, servers["server"])
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert p.stdout == b"slt olleh\n"  # s_server -rev
    assert re.search(r"^xdpstack-ctl: TLS: TLSv1\.3 \S+ alpn=- resumed=no peer=/CN=server\.test$",
                     err, re.M), err
    # By address: the certificate names 172.17.0.2 too.
    p = ctl_connect(env, PEER_B_IP, servers["server"])
    assert p.returncode == 0 and p.stdout == b"slt olleh\n", p.stderr.decode()


@pytest.mark.parametrize("name,why", [
    ("expired", "certificate verify failed: certificate has expired"),
    ("wrong", "certificate verify failed: hostname mismatch"),
    ("self", "certificate verify failed: self-signed certificate"),
])
def test_stack_client_refuses_bad_certificates(env, servers, name, why):
    topo, d, *_ = env
    before = d.counters()
    p = ctl_connect(env, "--servername", "server.test", PEER_B_IP, servers[name])
    err = p.stderr.decode().strip()
    assert p.returncode == 1, err
    assert p.stdout == b""
    assert err == (f"xdpstack-ctl: connect {PEER_B_IP}:{servers[name]}: TLS handshake "
                   f"failed: {why}"), err
    assert d.counters()["tls_verify_failed"] == before["tls_verify_failed"] + 1


def test_stack_client_usage_errors(env, servers):
    topo, d, certs, root, digests, base = env
    p = ctl_connect(env, "--cafile", base / "missing.pem", PEER_B_IP, servers["server"])
    assert p.returncode == 1, p.stderr
    assert p.stderr.decode() == (f"xdpstack-ctl: connect: cannot load the CA file "
                                 f"{base / 'missing.pem'}: No such file or directory\n")
    cmd = [netns.build_dir() / "xdpstack-ctl", "--ctl", base / "ctl.sock", "connect",
           "--cafile", certs / "ca.pem", PEER_B_IP, servers["server"]]
    p = subprocess.run([str(c) for c in cmd], input=b"", capture_output=True, timeout=30)
    assert p.returncode == 2 and b"need --tls" in p.stderr, p.stderr


# ------------------------------------------------------- hostile TLS clients

TIMEOUT_MS = 1500
MAX_HS = 4


@pytest.fixture
def hostile(topo, tmp_path):
    certs = make_certs(tmp_path)
    d = netns.Daemon(topo, extra=[
        "--tls-echo", ECHO_PORT, "--cert", certs / "server.pem", "--key",
        certs / "server.key", "--tls-handshake-timeout", TIMEOUT_MS,
        "--tls-max-handshakes", MAX_HS, "--ctl", tmp_path / "ctl.sock"]).start()
    yield topo, d, certs
    rc, out, err = d.stop()
    assert rc == 0, err
    assert d.sanitizer_report() is None


def raw(topo, payload=b""):
    """A plain TCP connection from ns B; None when it was reset at once."""
    s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((STACK_IP, ECHO_PORT))
        if payload:
            s.sendall(payload)
    except ConnectionResetError:
        s.close()
        return None
    return s


def ended(s, timeout):
    """True when the server closed (FIN or RST) within timeout seconds."""
    s.settimeout(timeout)
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def good_client(topo, certs):
    """One verified TLS echo exchange from ns B; True when it completed."""
    p = netns.ns_run(topo.ns_b, ["/usr/bin/python3", os.path.join(HERE, "tls_clients.py"),
                                 STACK_IP, ECHO_PORT, certs / "ca.pem", "server.test", 1, 1000,
                                 20], check=False, timeout=60)
    return p.returncode == 0


def test_garbage_and_stall_are_dropped(hostile):
    topo, d, certs = hostile
    before = d.counters()
    # Not TLS at all: dropped at once, no timeout needed.
    for junk in (b"\x99" * 32, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"):
        s = raw(topo, junk)
        assert ended(s, 10), "the server kept a connection that sent garbage"
        s.close()
    # Half a ClientHello, then nothing: held until the timeout, not before.
    s = raw(topo, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    t0 = time.monotonic()
    assert good_client(topo, certs), "a good client was not served during the stall"
    assert not ended(s, max(0.1, TIMEOUT_MS / 1000 * 0.5 - (time.monotonic() - t0)))
    assert ended(s, 15), "the stalled handshake was not dropped"
    s.close()
    after = d.wait_counter(before, "tls_handshake_timeouts", 1)
    assert after["tls_handshake_failed"] - before["tls_handshake_failed"] >= 2
    assert after["tls_handshake_timeouts"] - before["tls_handshake_timeouts"] == 1
    assert after["tls_handshakes"] - before["tls_handshakes"] >= 1
    assert after["tls_handshaking"] == 0 and after["tls_sessions"] == 0


def test_handshake_budget(hostile):
    topo, d, certs = hostile
    before = d.counters()
    stalled = [raw(topo) for _ in range(MAX_HS)]
    c = d.wait_counter(before, "tls_handshaking", MAX_HS, timeout=10)
    assert c["tls_handshaking"] == MAX_HS
    # Past the budget: reset at once, counted.
    extra = raw(topo)
    if extra:
        assert ended(extra, 10)
        extra.close()
    c = d.wait_counter(before, "tls_handshake_refused", 1)
    assert c["tls_handshake_refused"] - before["tls_handshake_refused"] >= 1
    # The stalled ones go at the timeout; then clients are served again.
    for s in stalled:
        assert ended(s, 15)
        s.close()
    assert good_client(topo, certs)
    after = d.counters()
    assert after["tls_handshake_timeouts"] - before["tls_handshake_timeouts"] == MAX_HS
    assert after["tls_handshaking"] == 0


def test_bad_tls_arguments_are_one_line(env):
    topo, d, certs, root, digests, base = env
    (base / "garbage.pem").write_text("not a certificate\n")
    cases = [
        (["--https", "8444", "--root", root], "--https and --tls-echo need --cert FILE and --key FILE"),
        (["--tls-echo", "7444", "--cert", certs / "server.pem"],
         "--cert needs --key FILE: the certificate's private key"),
        (["--cert", certs / "server.pem", "--key", certs / "server.key"],
         "--cert, --key and --tls-* need --https or --tls-echo PORT"),
        (["--tls-echo", "7444", "--cert", certs / "server.pem", "--key", certs / "server.key",
          "--tls-max-handshakes", "0"], "invalid --tls-max-handshakes '0': expected 1-1000000"),
        (["--tls-echo", "7444", "--cert", base / "garbage.pem", "--key", certs / "server.key"],
         f"invalid --cert/--key: cannot load the certificate {base / 'garbage.pem'}: "
         "no start line"),
        (["--tls-echo", "7444", "--cert", certs / "server.pem", "--key", certs / "other.key"],
         f"invalid --cert/--key: cannot load the private key {certs / 'other.key'}: "
         "key values mismatch"),
    ]
    for args, line in cases:
        p = netns.ns_run(topo.ns_a, [netns.binary(), "--ip", STACK_IP, "--dev", topo.dev_a,
                                     "--ctl", base / "bad.sock"] + args, check=False)
        assert p.returncode == 2, (args, p.stderr)
        assert p.stderr == f"xdpstack: {line}\n", (args, p.stderr)
        assert not (base / "bad.sock").exists()
    # The daemon that serves was not disturbed.
    assert good_client(topo, certs)


def test_https_get_example(topo, tmp_path):
    """tools/examples/http_get over TLS (public headers only) from its own stack
    in ns A against openssl s_server -WWW in ns B."""
    certs = make_certs(tmp_path)
    www = tmp_path / "www"
    www.mkdir()
    body = os.urandom(300000)
    (www / "blob.bin").write_bytes(body)
    srv = subprocess.Popen(["ip", "netns", "exec", topo.ns_b, OPENSSL, "s_server", "-accept",
                            f"{PEER_B_IP}:4443", "-cert", str(certs / "server.pem"), "-key",
                            str(certs / "server.key"), "-WWW", "-quiet"], cwd=www,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    topo.procs.append(srv)
    end = time.monotonic() + 10
    while netns.ns_run(topo.ns_b, ["nc", "-z", PEER_B_IP, "4443"], check=False).returncode:
        assert time.monotonic() < end, "s_server did not start"
        time.sleep(0.1)
    get = [netns.build_dir() / "examples" / "http_get", "--dev", f"afxdp:{topo.dev_a}",
           "--ip", f"{STACK_IP}/24", "--cafile", certs / "ca.pem"]
    try:
        p = subprocess.run(["ip", "netns", "exec", topo.ns_a] + [str(a) for a in get]
                           + ["--name", "server.test", f"https://{PEER_B_IP}:4443/blob.bin"],
                           capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr.decode()
        assert hashlib.sha256(p.stdout).digest() == hashlib.sha256(body).digest()
        p = netns.ns_run(topo.ns_a, get + ["--name", "nobody.test",
                                           f"https://{PEER_B_IP}:4443/blob.bin"],
                         check=False, timeout=60)
        assert p.returncode == 1
        assert "http_get: TLS failed: certificate verify failed: hostname mismatch" in p.stderr
    finally:
        stop(srv)


# ------------------------------------------------------------ multi-queue

MQ_CLIENTS = 24  # TLS echo clients at once: all on one queue by chance is 2^-23
MQ_GETS = 12


def test_tls_services_on_every_queue(netenv, tmp_path):
    """--queues 2 on a 2-queue veth: each queue runs its own TLS context, echo
    and HTTPS service. Flows the kernel spreads over both queues are served on
    both (the per-queue stats show handshakes on each), and the exit dump sums
    the services' counters over the queues."""
    certs = make_certs(tmp_path)
    root = tmp_path / "root"
    root.mkdir()
    body = os.urandom(5000)
    (root / "q.bin").write_bytes(body)
    topo = netns.Topology(queues=2).create()
    d = None
    try:
        path = tmp_path / "ctl.sock"
        d = netns.Daemon(topo, extra=[
            "--queues", 2, "--https", HTTPS_PORT, "--tls-echo", ECHO_PORT, "--root", root,
            "--cert", certs / "server.pem", "--key", certs / "server.key", "--ctl", path])
        d.start()
        assert "(queues 0-1," in d.serving_line, d.serving_line
        p = netns.ns_run(topo.ns_b, ["/usr/bin/python3", os.path.join(HERE, "tls_clients.py"),
                                     STACK_IP, ECHO_PORT, certs / "ca.pem", "server.test",
                                     MQ_CLIENTS, 4096, 60], check=False, timeout=180)
        res = json.loads(p.stdout.strip().splitlines()[-1]) if p.stdout.strip() else {}
        assert p.returncode == 0 and res.get("ok") == MQ_CLIENTS, p.stdout + p.stderr
        for _ in range(MQ_GETS):
            out = tmp_path / "got.bin"
            p = curl(topo, certs, "/q.bin", "-o", out, "-w", "%{http_code}")
            assert p.returncode == 0 and p.stdout == "200", p.stdout + p.stderr
            assert out.read_bytes() == body
        ctl = [netns.build_dir() / "xdpstack-ctl", "--ctl", path, "--json", "stats"]
        doc = json.loads(netns.ns_run(topo.ns_a, ctl).stdout)
        hs = [q["counters"]["tls_handshakes"] for q in doc["queues"]]
        assert len(hs) == 2 and all(n > 0 for n in hs), hs
        assert sum(hs) >= MQ_CLIENTS + MQ_GETS, hs
        assert doc["counters"]["tls_handshakes"] == sum(hs), doc["counters"]  # summed
        rc, out, err = d.stop()
        assert rc == 0, err
        c = netns.parse_counter_blocks(out)[-1]
        assert c["tls_echo_conns"] == MQ_CLIENTS, c
        assert c["https_conns"] == MQ_GETS and c["https_2xx"] == MQ_GETS, c
        assert c["tls_handshakes"] == sum(hs), c
        lines = [l for l in out.splitlines() if "frames at exit (queue" in l]
        assert len(lines) == 2 and all(l.endswith(" lost 0") for l in lines), lines
    finally:
        if d:
            d.kill()
        problems = topo.destroy()
        rep = d.sanitizer_report() if d else None
        assert rep is None, f"sanitizer report:\n{rep}"
        assert not problems, problems
