# The sockperf service (--sockperf): stock sockperf clients in ns B against the
# daemon over UDP and TCP, and hand-made messages that probe the protocol.
"""sockperf's header (src/message.h): u64 sequence number, u16 flags (1 client,
2 pong request, 4 warm-up), u32 length of the whole message; 14 bytes, big
endian. A reply is the request with the client flag cleared.

Every run of the stock client checks its own summary: observations > 0, no
dropped, duplicated or out-of-order messages; the daemon's counters (SIGUSR1)
must agree with what the client did. Nothing here asserts a speed.

Runtime: about 80 s in either build (each stock client run lasts 1-2 s plus start-up).
"""

import re
import shutil
import socket
import struct
import time

import pytest

import netns
from netns import STACK_IP

SOCKPERF = shutil.which("sockperf") or "/usr/bin/sockperf"
PORT = 11111
HDR = struct.Struct(">QHI")
F_CLIENT, F_PONG, F_WARMUP = 1, 2, 4
MAX_MSG = 65507
MAX_CONNS = 256

pytestmark = pytest.mark.skipif(not shutil.which("sockperf"),
                                reason="sockperf not installed (run scripts/deps.sh)")


def msg(seq, flags, size, fill=b"\xa5"):
    """One sockperf message of `size` bytes (header included)."""
    body = (fill * size)[:size - HDR.size]
    return HDR.pack(seq, flags, size) + body


def parse_reply(b):
    seq, flags, length = HDR.unpack_from(b)
    return seq, flags, length


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def sockperf(topo, mode, *args, port=PORT, seconds=2, timeout=60):
    cmd = [SOCKPERF, mode, "-i", STACK_IP, "-p", str(port), "-t", str(seconds)] + list(args)
    p = netns.ns_run(topo.ns_b, cmd, check=False, timeout=timeout)
    out = ANSI.sub("", p.stdout + p.stderr)
    assert p.returncode == 0, f"{' '.join(cmd)} exited {p.returncode}:\n{out}"
    return out


def summary(out):
    """The latency summary of ping-pong / under-load, checked for sanity."""
    m = re.search(r"\[Valid Duration\] RunTime=[\d.]+ sec; SentMessages=(\d+); "
                  r"ReceivedMessages=(\d+)", out)
    assert m, f"no [Valid Duration] line:\n{out}"
    d = re.search(r"# dropped messages = (\d+); # duplicated messages = (\d+); "
                  r"# out-of-order messages = (\d+)", out)
    assert d, f"no dropped/duplicated/out-of-order line:\n{out}"
    o = re.search(r"Total (\d+) observations", out)
    assert o, f"no observations line:\n{out}"
    pct = re.findall(r"percentile (\d+\.\d+) = +([\d.]+)", out)
    return {"sent": int(m.group(1)), "received": int(m.group(2)),
            "dropped": int(d.group(1)), "duplicated": int(d.group(2)),
            "out_of_order": int(d.group(3)), "observations": int(o.group(1)),
            "percentiles": {k: float(v) for k, v in pct}}


def delta(after, before, name):
    return after.get(f"sockperf_{name}", 0) - before.get(f"sockperf_{name}", 0)


@pytest.fixture(scope="module")
def sp(topo_module):
    d = netns.Daemon(topo_module, extra=["--sockperf"]).start()
    assert f"sockperf server on UDP and TCP port {PORT}" in d.stdout()
    return topo_module, d


def served(topo, d):
    """The daemon is up and a stock client gets answers (UDP and TCP)."""
    assert d.running(), d.stderr()
    for extra in ((), ("--tcp",)):
        s = summary(sockperf(topo, "ping-pong", *extra, "-m", "64", seconds=1))
        assert s["observations"] > 0 and s["dropped"] == 0, s


# ------------------------------------------------------------ stock clients

@pytest.mark.parametrize("proto", ["udp", "tcp"])
@pytest.mark.parametrize("size", [64, 1400])
def test_ping_pong(sp, proto, size):
    topo, d = sp
    before = d.counters()
    extra = ["--tcp"] if proto == "tcp" else []
    # --data-integrity: the client compares every reply with its request
    # (CLIENT flag aside) and fails the run on a difference.
    s = summary(sockperf(topo, "ping-pong", *extra, "-m", str(size), "--data-integrity"))
    after = d.counters()
    assert s["observations"] > 0, s
    assert s["received"] == s["sent"] > 0, s
    assert (s["dropped"], s["duplicated"], s["out_of_order"]) == (0, 0, 0), s
    assert s["percentiles"], "no percentile lines"
    # ping-pong flags every message as a pong request: every one answered.
    msgs, replies = delta(after, before, f"{proto}_msgs"), delta(after, before, f"{proto}_replies")
    assert msgs >= s["sent"] and replies == msgs, (msgs, replies, s)
    assert not any(delta(after, before, k) for k in
                   ("drop_udp_malformed", "drop_not_client", "drop_tcp_bad_len",
                    "drop_conn_limit", "drop_udp_reply"))


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_throughput(sp, proto):
    topo, d = sp
    before = d.counters()
    extra = ["--tcp"] if proto == "tcp" else []
    out = sockperf(topo, "throughput", *extra, "-m", "256")
    m = re.search(r"Total of (\d+) messages sent", out)
    assert m, out
    sent = int(m.group(1))
    assert sent > 0
    if proto == "tcp":
        # Reliable: every message the client sent reaches the service.
        after = d.wait_counter(before, "sockperf_tcp_msgs", delta=sent, timeout=10)
        assert delta(after, before, "tcp_msgs") == sent
    else:
        after = d.counters()
        got = delta(after, before, "udp_msgs")
        assert 0 < got <= sent, (got, sent)
    # throughput asks for no replies, and none is sent.
    assert delta(after, before, f"{proto}_replies") == 0


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_under_load(sp, proto):
    topo, d = sp
    before = d.counters()
    extra = ["--tcp"] if proto == "tcp" else []
    s = summary(sockperf(topo, "under-load", *extra, "--mps", "1000", "-m", "64"))
    after = d.counters()
    assert s["observations"] > 0, s
    assert (s["dropped"], s["duplicated"], s["out_of_order"]) == (0, 0, 0), s
    # Only the pong requests (one in --reply-every, 100) are answered.
    msgs, replies = delta(after, before, f"{proto}_msgs"), delta(after, before, f"{proto}_replies")
    assert 0 < replies < msgs, (msgs, replies)
    assert replies >= s["received"], (replies, s)


# ------------------------------------------------------------ the protocol by hand

def udp_sock(topo):
    s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((netns.PEER_B_IP, 0))
    return s


def quiet(s, wait=0.3):
    """Nothing arrives on s within `wait` seconds."""
    s.settimeout(wait)
    try:
        data = s.recv(70000)
    except (socket.timeout, BlockingIOError):
        return True
    raise AssertionError(f"unexpected reply {data[:32]!r}")


def test_udp_reply_format(sp):
    topo, d = sp
    before = d.counters()
    s = udp_sock(topo)
    try:
        req = msg(0x0102030405060708, F_CLIENT | F_PONG, 300, fill=bytes(range(256)))
        s.settimeout(2)
        s.sendto(req, (STACK_IP, PORT))
        rep, addr = s.recvfrom(70000)
        assert addr == (STACK_IP, PORT)
        assert len(rep) == 300
        assert parse_reply(rep) == (0x0102030405060708, F_PONG, 300)
        assert rep[HDR.size:] == req[HDR.size:], "payload not returned intact"
        # Not a pong request, a warm-up, or the largest message without pong:
        # counted, never answered.
        s.sendto(msg(2, F_CLIENT, 64), (STACK_IP, PORT))
        s.sendto(msg(3, F_CLIENT | F_PONG | F_WARMUP, 64), (STACK_IP, PORT))
        s.sendto(msg(4, F_CLIENT, MAX_MSG), (STACK_IP, PORT))
        quiet(s)
        # The largest message sockperf allows is answered in full (fragmented).
        big = msg(5, F_CLIENT | F_PONG, MAX_MSG)
        s.settimeout(2)
        s.sendto(big, (STACK_IP, PORT))
        rep = s.recv(70000)
        assert len(rep) == MAX_MSG and parse_reply(rep) == (5, F_PONG, MAX_MSG)
    finally:
        s.close()
    after = d.counters()
    assert delta(after, before, "udp_msgs") == 4
    assert delta(after, before, "udp_replies") == 2
    assert delta(after, before, "warmup_msgs") == 1


def test_udp_garbage(sp):
    topo, d = sp
    before = d.counters()
    s = udp_sock(topo)
    bad = [
        b"",                                              # empty
        b"\x00" * 5,                                      # shorter than a header
        b"\xff" * 13,
        HDR.pack(1, F_CLIENT | F_PONG, 100) + b"x" * 36,  # length says 100, 50 came
        HDR.pack(1, F_CLIENT | F_PONG, 20) + b"x" * 36,   # length says 20, 50 came
        HDR.pack(1, F_CLIENT | F_PONG, 0xFFFFFFFF),       # absurd length
        HDR.pack(1, F_CLIENT | F_PONG, 3) + b"x" * 10,
    ]
    try:
        for b in bad:
            s.sendto(b, (STACK_IP, PORT))
        # A server's message (no client flag) is well formed but never answered:
        # answering it would let two servers ping-pong forever.
        s.sendto(msg(9, F_PONG, 64), (STACK_IP, PORT))
        quiet(s)
    finally:
        s.close()
    after = d.counters()
    assert delta(after, before, "drop_udp_malformed") == len(bad)
    assert delta(after, before, "drop_not_client") == 1
    assert delta(after, before, "udp_replies") == 0
    served(topo, d)


def tcp_sock(topo):
    s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((STACK_IP, PORT))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise AssertionError(f"EOF after {len(buf)} of {n} bytes")
        buf += b
    return buf


def test_tcp_framing(sp):
    """Messages back to back, cut anywhere: only pong requests come back, whole."""
    topo, d = sp
    before = d.counters()
    msgs = [msg(1, F_CLIENT | F_PONG, 14), msg(2, F_CLIENT, 1000),
            msg(3, F_CLIENT | F_PONG, 5000, fill=b"\x01\x02\x03"),
            msg(4, F_CLIENT | F_PONG | F_WARMUP, 64), msg(5, F_PONG, 64),
            msg(6, F_CLIENT | F_PONG, MAX_MSG)]
    stream = b"".join(msgs)
    s = tcp_sock(topo)
    try:
        # Header bytes one at a time, then odd-sized pieces across boundaries.
        for i in range(20):
            s.send(stream[i:i + 1])
            time.sleep(0.002)
        pos = 20
        for n in (7, 1, 13, 999, 4000, 3, 70000):
            s.sendall(stream[pos:pos + n])
            pos += n
        s.sendall(stream[pos:])
        want = [msgs[0], msgs[2], msgs[5]]
        for w in want:
            rep = recv_exact(s, len(w))
            seq, flags, length = parse_reply(rep)
            assert (flags, length) == (F_PONG, len(w)), (seq, flags, length)
            assert rep[:8] == w[:8] and rep[HDR.size:] == w[HDR.size:]
        s.shutdown(socket.SHUT_WR)
        assert s.recv(100) == b"", "more than the three replies"
    finally:
        s.close()
    after = d.counters()
    assert delta(after, before, "tcp_msgs") == 4
    assert delta(after, before, "tcp_replies") == 3
    assert delta(after, before, "warmup_msgs") == 1
    assert delta(after, before, "drop_not_client") == 1


@pytest.mark.parametrize("length", [0xFFFFFFFF, MAX_MSG + 1, 13, 0])
def test_tcp_bad_length_resets(sp, length):
    topo, d = sp
    before = d.counters()
    s = tcp_sock(topo)
    try:
        # A good message is answered; then the bad header resets the connection
        # (like sockperf's own server, which closes it with the data unread).
        s.sendall(msg(1, F_CLIENT | F_PONG, 64))
        assert parse_reply(recv_exact(s, 64)) == (1, F_PONG, 64)
        s.sendall(HDR.pack(2, F_CLIENT | F_PONG, length) + b"z" * 100)
        try:
            rest = s.recv(100)
        except ConnectionResetError:
            rest = b""
        assert rest == b"", f"data after a protocol error: {rest!r}"
    finally:
        s.close()
    after = d.wait_counter(before, "sockperf_drop_tcp_bad_len")
    assert delta(after, before, "drop_tcp_bad_len") == 1
    assert delta(after, before, "tcp_replies") == 1
    served(topo, d)


def test_tcp_reader_that_never_reads(sp):
    """Pong requests without end from a client that never reads its replies:
    the service stops reading once its send buffer is full (our window closes),
    holds a bounded amount, and serves everyone else meanwhile."""
    topo, d = sp
    s = tcp_sock(topo)
    try:
        s.setblocking(False)
        one = msg(7, F_CLIENT | F_PONG, 1400)
        chunk = one * 64
        sent, stalled_since = 0, None
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                # Partial sends: go on from where the stream stopped.
                off = sent % len(one)
                sent += s.send(chunk[off:])
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 1.0:
                    break
                time.sleep(0.01)
        assert stalled_since, f"still accepting after {sent} bytes: nothing pushes back"
        assert sent < 64 << 20, sent
        served(topo, d)
    finally:
        s.close()


# ------------------------------------------------------------ budgets and CLI

def test_connection_limit(topo, xdpstack):
    d = xdpstack(topo, extra=["--sockperf", "12000"])
    assert "sockperf server on UDP and TCP port 12000" in d.stdout()
    before = d.counters()
    socks = []
    try:
        for _ in range(MAX_CONNS):
            socks.append(netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM))
            socks[-1].settimeout(5)
            socks[-1].connect((STACK_IP, 12000))
        c = d.wait_counter(before, "sockperf_tcp_accepted", delta=MAX_CONNS, timeout=10)
        assert delta(c, before, "tcp_accepted") == MAX_CONNS
        for _ in range(4):
            # The handshake completes (the stack accepts), then the service
            # resets the connection: maybe before connect() returns here.
            x = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
            x.settimeout(5)
            try:
                x.connect((STACK_IP, 12000))
                x.sendall(msg(1, F_CLIENT | F_PONG, 64))
                got = x.recv(100)
            except (ConnectionResetError, BrokenPipeError):
                got = b""
            finally:
                x.close()
            assert got == b"", "a connection beyond the limit was served"
        c = d.wait_counter(before, "sockperf_drop_conn_limit", delta=4, timeout=10)
        assert delta(c, before, "drop_conn_limit") == 4
        # The ones we hold are served.
        socks[0].sendall(msg(1, F_CLIENT | F_PONG, 64))
        assert parse_reply(recv_exact(socks[0], 64)) == (1, F_PONG, 64)
    finally:
        for x in socks:
            x.close()
    # Once they are gone there is room again.
    time.sleep(0.5)
    s = summary(sockperf(topo, "ping-pong", "--tcp", "-m", "64", port=12000, seconds=1))
    assert s["observations"] > 0 and s["dropped"] == 0, s


def test_idle_connections_are_reset(topo, xdpstack):
    # Clients that connect and send nothing would hold the 256 slots for
    # ever: after --sockperf-idle-timeout without a byte they are reset.
    # A client that keeps talking is never cut.
    d = xdpstack(topo, extra=["--sockperf", "12000", "--sockperf-idle-timeout", "1000"])
    before = d.counters()
    idle = []
    for _ in range(8):
        x = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
        x.settimeout(5)
        x.connect((STACK_IP, 12000))
        idle.append(x)
    busy = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
    busy.settimeout(5)
    busy.connect((STACK_IP, 12000))
    try:
        d.wait_counter(before, "sockperf_tcp_accepted", delta=9, timeout=10)
        end = time.monotonic() + 2.5
        seq = 0
        while time.monotonic() < end:
            seq += 1
            busy.sendall(msg(seq, F_CLIENT | F_PONG, 64))
            assert parse_reply(recv_exact(busy, 64)) == (seq, F_PONG, 64)
            time.sleep(0.2)
        c = d.wait_counter(before, "sockperf_drop_idle", delta=8, timeout=5)
        assert delta(c, before, "drop_idle") == 8, c
        for x in idle:
            try:
                got = x.recv(100)
            except ConnectionResetError:
                got = b""
            assert got == b"", "an idle connection was not ended"
        busy.sendall(msg(seq + 1, F_CLIENT | F_PONG, 64))
        assert parse_reply(recv_exact(busy, 64)) == (seq + 1, F_PONG, 64)
    finally:
        busy.close()
        for x in idle:
            x.close()


def test_port_equals_form_beside_iperf3(topo, xdpstack):
    # --sockperf=PORT, next to the iperf3 service: both count in one block.
    d = xdpstack(topo, extra=["--sockperf=12001", "--iperf3"])
    assert "sockperf server on UDP and TCP port 12001" in d.stdout()
    s = summary(sockperf(topo, "ping-pong", "-m", "64", port=12001, seconds=1))
    assert s["observations"] > 0 and s["dropped"] == 0, s
    c = d.counters()
    assert c["sockperf_udp_replies"] >= s["received"]
    assert any(k.startswith("iperf3_") for k in c), sorted(c)


def test_off_by_default(topo, xdpstack):
    d = xdpstack(topo)
    assert "sockperf" not in d.stdout()
    s = udp_sock(topo)
    try:
        s.sendto(msg(1, F_CLIENT | F_PONG, 64), (STACK_IP, PORT))
        quiet(s)
    finally:
        s.close()
    assert "sockperf_udp_msgs" not in d.counters()
