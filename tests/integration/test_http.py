# The daemon's HTTP/1.1 server (--http PORT --root DIR) against stock curl and
# wrk and raw sockets in ns B: byte-exact files, keep-alive, pipelining, refusals.
"""One topology and daemon per module, serving a temporary root made here:

    one.txt (1 B), kib.bin (1 KiB), mib.bin (1 MiB), big.bin (100 MB, random
    bytes from a seeded PRNG), index.html, sub/inner.json, sub/index.html,
    a symlink to a file outside the root, a symlink to a directory outside it,
    a FIFO; and outside the root, secret.txt whose bytes must never be served.

The daemon runs with --http-header-timeout 2000 (slowloris) and
--http-send-timeout 3000 (a client that stops reading); the connection budget
has a daemon of its own (--http-max-conns 8) in a topology of its own. Files are compared by sha256,
every response's Content-Length against the file's size. Nothing asserts a
speed; "completes" means within a generous timeout.
"""

import hashlib
import os
import re
import socket
import subprocess
import threading
import time

import pytest

import netns
from netns import STACK_IP
from served_files import file_sha256, write_random_files

PORT = 8080
CURL = "/usr/bin/curl"
WRK = "/usr/bin/wrk"
HEADER_TIMEOUT_MS = 2000
SEND_TIMEOUT_MS = 3000
SECRET = b"top secret: must never leave the daemon\n"
SAN = "san" in os.environ.get("XS_BUILD", "")

pytestmark = pytest.mark.skipif(not os.access(CURL, os.X_OK),
                                reason="curl not installed (scripts/deps.sh)")

FILES = {"one.txt": 1, "kib.bin": 1024, "mib.bin": 1 << 20, "big.bin": 100_000_000}


def make_root(base):
    root = base / "root"
    (root / "sub").mkdir(parents=True)
    outside = base / "outside"
    outside.mkdir()
    (base / "secret.txt").write_bytes(SECRET)
    (outside / "secret.txt").write_bytes(SECRET)
    digests = write_random_files(root, FILES, 20261206)
    (root / "index.html").write_bytes(b"<html>root</html>\n")
    (root / "sub" / "inner.json").write_bytes(b'{"inner": true}\n')
    (root / "sub" / "index.html").write_bytes(b"<html>sub</html>\n")
    os.symlink(base / "secret.txt", root / "escape.txt")
    os.symlink(outside, root / "outdir")
    os.mkfifo(root / "fifo")
    return root, digests


@pytest.fixture(scope="module")
def env(topo_module, tmp_path_factory):
    base = tmp_path_factory.mktemp("http")
    root, digests = make_root(base)
    d = netns.Daemon(topo_module, extra=[
        "--http", str(PORT), "--root", str(root),
        "--http-header-timeout", str(HEADER_TIMEOUT_MS),
        "--http-send-timeout", str(SEND_TIMEOUT_MS),
        "--ctl", str(base / "ctl.sock")]).start()
    yield topo_module, d, root, digests, base
    rc, out, err = d.stop()
    assert rc == 0, err
    assert d.sanitizer_report() is None


def url(path):
    return f"http://{STACK_IP}:{PORT}{path}"


def curl(topo, args, timeout=120):
    return netns.ns_run(topo.ns_b, [CURL, "-sS"] + args, check=False, timeout=timeout)


def connect(topo, timeout=10):
    s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((STACK_IP, PORT))
    return s


class Reader:
    """Reads HTTP/1.1 responses off one socket, in order."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def response(self, head_only=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        m = re.fullmatch(r"HTTP/1\.1 (\d{3}) .*", lines[0])
        assert m, lines[0]
        fields = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.strip()
        n = 0 if head_only else int(fields["content-length"])
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(m.group(1)), fields, body

    def eof(self):
        """True when the peer closed with nothing more to read."""
        try:
            self._fill()
        except EOFError:
            return not self.buf
        except ConnectionResetError:
            return True
        return False


def request(path, method="GET", extra="", version="1.1"):
    return (f"{method} {path} HTTP/{version}\r\nHost: {STACK_IP}\r\n{extra}\r\n").encode()


def delta(before, after, name):
    return after[name] - before[name]


def test_get_files_byte_exact(env):
    topo, d, root, digests, base = env
    for name, size in FILES.items():
        out, hdr = base / f"got-{name}", base / f"hdr-{name}"
        p = curl(topo, ["-D", str(hdr), "-o", str(out),
                        "-w", "%{http_code}|%{content_type}|%{size_download}", url("/" + name)],
                 timeout=300)
        assert p.returncode == 0, p.stderr
        code, ctype, got = p.stdout.split("|")
        assert code == "200" and int(got) == size
        assert ctype == ("text/plain; charset=utf-8" if name.endswith(".txt")
                         else "application/octet-stream")
        h = hdr.read_text()
        assert re.search(rf"(?im)^content-length: {size}\r?$", h), h
        assert file_sha256(out) == digests[name]
        out.unlink()
    # Directories serve their index.html as text/html.
    for path, body in (("/", b"<html>root</html>\n"), ("/sub/", b"<html>sub</html>\n"),
                       ("/sub", b"<html>sub</html>\n")):
        p = netns.run(["ip", "netns", "exec", topo.ns_b, CURL, "-sS", "-w", "\n%{content_type}",
                       url(path)], check=False)
        assert p.returncode == 0, p.stderr
        got, ctype = p.stdout.rsplit("\n", 1)
        assert got.encode() == body and ctype.startswith("text/html"), p.stdout
    p = curl(topo, ["-w", "\n%{content_type}", url("/sub/inner.json")])
    assert p.stdout == '{"inner": true}\n\napplication/json', p.stdout


def test_large_file_is_not_held_in_memory(env):
    topo, d, root, digests, base = env

    def rss_kib():
        with open(f"/proc/{d.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))

    before = rss_kib()
    p = curl(topo, ["-o", "/dev/null", "-w", "%{size_download}", url("/big.bin")], timeout=300)
    assert p.returncode == 0 and int(p.stdout) == FILES["big.bin"], p.stderr
    # Bounded staging: the resident set does not grow by anything near the
    # file's 100 MB (the kernel's page cache holds the file, not us).
    assert rss_kib() - before < 32 * 1024


def test_head(env):
    topo, d, root, digests, base = env
    for name, size in FILES.items():
        p = curl(topo, ["-I", url("/" + name)])
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith("HTTP/1.1 200 OK\n"), p.stdout  # text mode: \r\n -> \n
        assert re.search(rf"(?im)^content-length: {size}\r?$", p.stdout), p.stdout
    # HEAD on a raw socket: the head only, then the next response follows
    # directly (no body bytes in between).
    s = connect(topo)
    s.sendall(request("/mib.bin", "HEAD") + request("/one.txt"))
    r = Reader(s)
    code, fields, _ = r.response(head_only=True)
    assert code == 200 and fields["content-length"] == str(1 << 20)
    code, fields, body = r.response()
    assert code == 200 and body == (root / "one.txt").read_bytes()
    s.close()


def test_keepalive_100_requests_one_connection(env):
    topo, d, root, digests, base = env
    before = d.counters()
    s = connect(topo)
    r = Reader(s)
    names = ["one.txt", "kib.bin", "sub/inner.json", "index.html"]
    for i in range(100):
        name = names[i % len(names)]
        s.sendall(request("/" + name))
        code, fields, body = r.response()
        assert code == 200 and body == (root / name).read_bytes(), (i, name)
        assert "connection" not in fields
    s.close()
    after = d.counters()
    assert delta(before, after, "http_conns") == 1
    assert delta(before, after, "http_requests") == 100
    assert delta(before, after, "http_2xx") == 100
    # curl reuses its connection for many URLs on one command line.
    before = after
    p = curl(topo, ["-w", "%{num_connects} %{http_code}\n"]
             + ["-o", "/dev/null", url("/kib.bin")] * 20)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    # One connect for the first transfer, none for the other 19.
    assert lines == ["1 200"] + ["0 200"] * 19, p.stdout
    after = d.counters()
    assert delta(before, after, "http_conns") == 1
    assert delta(before, after, "http_requests") == 20


def test_pipelined_requests_answered_in_order(env):
    topo, d, root, digests, base = env
    before = d.counters()
    s = connect(topo)
    s.sendall(request("/one.txt") + request("/kib.bin", "HEAD") + request("/nope")
              + request("/sub/inner.json") + request("/mib.bin"))
    r = Reader(s)
    code, _, body = r.response()
    assert code == 200 and body == (root / "one.txt").read_bytes()
    code, fields, _ = r.response(head_only=True)
    assert code == 200 and fields["content-length"] == "1024"
    code, _, body = r.response()
    assert code == 404 and body == b"404 Not Found\n"
    code, _, body = r.response()
    assert code == 200 and body == b'{"inner": true}\n'
    code, _, body = r.response()
    assert code == 200 and hashlib.sha256(body).hexdigest() == digests["mib.bin"]
    # The last one asks to close: answered, then the server closes.
    s.sendall(request("/one.txt", extra="Connection: close\r\n"))
    code, fields, body = r.response()
    assert code == 200 and fields["connection"] == "close" and body
    assert r.eof()
    s.close()
    after = d.counters()
    assert delta(before, after, "http_conns") == 1
    assert delta(before, after, "http_requests") == 6
    # HTTP/1.0 without keep-alive closes after one answer.
    s = connect(topo)
    s.sendall(b"GET /one.txt HTTP/1.0\r\n\r\n")
    r = Reader(s)
    assert r.response()[0] == 200
    assert r.eof()
    s.close()


TRAVERSALS = ["/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt",
              "/%2e%2e%2fsecret.txt", "/.%2e/secret.txt", "/sub/%2E%2E/%2e%2e/secret.txt",
              "/escape.txt", "/outdir/secret.txt", "/outdir/", "/fifo",
              "http://x/../secret.txt"]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_escape_from_the_root(env, path):
    topo, d, root, digests, base = env
    before = d.counters()
    s = connect(topo)
    s.sendall(request(path))
    r = Reader(s)
    code, fields, body = r.response()
    assert code in (403, 404), (path, code)
    assert SECRET not in body and SECRET not in r.buf
    # The connection stays usable.
    s.sendall(request("/one.txt"))
    assert r.response()[0] == 200
    s.close()
    after = d.counters()
    assert delta(before, after, "http_forbidden") + delta(before, after, "http_not_found") == 1
    # Stock curl with the path as typed gets the same.
    if path.startswith("/"):
        p = curl(topo, ["--path-as-is", "-w", "\n%{http_code}", url(path)])
        assert p.returncode == 0, p.stderr
        assert SECRET.decode() not in p.stdout
        assert p.stdout.rsplit("\n", 1)[1] in ("403", "404"), p.stdout


def refused(topo, raw, want):
    s = connect(topo)
    s.sendall(raw)
    r = Reader(s)
    code, fields, body = r.response()
    assert code == want, (raw[:80], code, body)
    return s, r, fields


@pytest.mark.parametrize("raw,want,counter,closes", [
    (request("/", extra="X-Big: " + "a" * 9000 + "\r\n"), 431, "http_head_too_big", True),
    (request("/" + "a" * 5000), 414, "http_line_too_long", True),
    (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "http_bad_request", True),
    (b"GET / HTTP/1.1\r\n\r\n", 400, "http_bad_request", True),
    (b"GET / HTTP/1.1\nHost: x\n\n", 400, "http_bad_request", True),
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_refused", True),
    (request("/", extra="Content-Length: 5\r\n") + b"hello", 413, "http_body_refused", True),
    (request("/one.txt", "DELETE"), 405, "http_method_refused", False),
    (request("/one.txt", "POST", extra="Content-Length: 3\r\n") + b"abc", 405,
     "http_method_refused", True),
], ids=["431", "414", "space-colon", "no-host", "bare-lf", "505", "413-get-body", "405",
        "405-body"])
def test_bad_requests_refused(env, raw, want, counter, closes):
    topo, d, root, digests, base = env
    before = d.counters()
    s, r, fields = refused(topo, raw, want)
    if want == 405:
        assert fields["allow"] == "GET, HEAD"
    if closes:
        assert fields["connection"] == "close"
        assert r.eof()
    else:
        s.sendall(request("/one.txt"))
        assert r.response()[0] == 200
    s.close()
    after = d.counters()
    assert delta(before, after, counter) == 1
    assert delta(before, after, "http_4xx" if want < 500 else "http_5xx") == 1


def test_oversized_header_with_curl(env):
    topo, d, root, digests, base = env
    p = curl(topo, ["-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Big: " + "b" * 9000,
                    url("/one.txt")])
    assert p.stdout == "431", (p.stdout, p.stderr)


def test_slowloris_is_cut_and_others_served(env):
    topo, d, root, digests, base = env
    before = d.counters()
    slow = [connect(topo) for _ in range(8)]
    stop = threading.Event()
    head = request("/one.txt")

    def trickle():
        for i in range(len(head)):
            for s in slow:
                try:
                    s.send(head[i:i + 1])
                except OSError:
                    pass
            if stop.wait(1.0):
                return

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        # While they trickle, a normal client is served at once.
        time.sleep(0.5)
        p = curl(topo, ["--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                        url("/kib.bin")])
        assert p.returncode == 0 and p.stdout == "200", p.stderr
        # Each slow one gets 408 once its 2 s are up, then the close.
        for s in slow:
            s.settimeout(HEADER_TIMEOUT_MS / 1000 + 5)
            r = Reader(s)
            code, fields, _ = r.response()
            assert code == 408 and fields["connection"] == "close"
            assert r.eof()
    finally:
        stop.set()
        t.join()
        for s in slow:
            s.close()
    after = d.counters()
    assert delta(before, after, "http_header_timeout") == len(slow)
    # An idle connection that sends nothing is closed quietly.
    s = connect(topo)
    s.settimeout(HEADER_TIMEOUT_MS / 1000 + 5)
    assert s.recv(100) == b""
    s.close()


def test_connection_budget(topo, xdpstack, tmp_path):
    # Its own daemon with the default 10 s header timeout, so that the held
    # connections cannot time out while the test opens them on a busy host.
    (tmp_path / "one.txt").write_bytes(b"1")
    d = xdpstack(topo, extra=["--http", str(PORT), "--root", str(tmp_path),
                              "--http-max-conns", "8", "--ctl", str(tmp_path / "ctl.sock")])
    before = d.counters()
    held = [connect(topo) for _ in range(8)]
    # The last is served: the daemon has accepted them all (in order).
    held[-1].sendall(request("/one.txt"))
    assert Reader(held[-1]).response()[0] == 200
    try:
        # The one over the budget is reset (maybe before connect returns).
        with pytest.raises((ConnectionResetError, EOFError, BrokenPipeError)):
            extra = connect(topo)
            try:
                extra.sendall(request("/one.txt"))
                Reader(extra).response()
            finally:
                extra.close()
        after = d.counters()
        assert delta(before, after, "http_conn_refused") == 1
        assert delta(before, after, "http_conns") == 8
    finally:
        for s in held:
            s.close()
    # Once they are gone, new connections are served again.
    time.sleep(0.3)
    p = curl(topo, ["--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", url("/one.txt")])
    assert p.stdout == "200", p.stderr
    rc, out, err = d.stop()
    assert rc == 0 and d.sanitizer_report() is None, err


def test_reader_that_stops_reading_is_reset(env):
    topo, d, root, digests, base = env
    before = d.counters()
    s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect((STACK_IP, PORT))
    s.sendall(request("/big.bin"))
    # Nothing is read: the window closes, the send buffer stays full, and
    # after --http-send-timeout without progress the response is reset.
    after = d.wait_counter(before, "http_send_timeout", timeout=SEND_TIMEOUT_MS / 1000 + 10)
    assert delta(before, after, "http_send_timeout") == 1
    got = 0
    with pytest.raises(ConnectionResetError):
        while True:
            chunk = s.recv(65536)
            assert chunk, "a cut response must not end like a complete one"
            got += len(chunk)
    assert got < FILES["big.bin"]
    s.close()
    # The daemon serves the next client as usual.
    p = curl(topo, ["--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", url("/one.txt")])
    assert p.stdout == "200", p.stderr


@pytest.mark.skipif(not os.access(WRK, os.X_OK), reason="wrk not installed")
def test_wrk_no_errors(env):
    topo, d, root, digests, base = env
    secs = 3 if SAN else 10
    before = d.counters()
    p = netns.ns_run(topo.ns_b, [WRK, "-t2", "-c50", f"-d{secs}s", url("/kib.bin")],
                     check=False, timeout=secs + 60)
    assert p.returncode == 0, p.stderr
    assert "Socket errors" not in p.stdout, p.stdout
    assert "Non-2xx" not in p.stdout, p.stdout
    m = re.search(r"(\d+) requests in", p.stdout)
    assert m and int(m.group(1)) > 0, p.stdout
    after = d.counters()
    # wrk counts what completed; we answered at least that many.
    assert delta(before, after, "http_2xx") >= int(m.group(1))
    assert delta(before, after, "http_4xx") == 0
    assert delta(before, after, "http_conn_refused") == 0
