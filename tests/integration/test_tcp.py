# TCP of the daemon (echo 8888, discard 9, source 19 on 172.17.0.253) against
# the Linux kernel in ns B over veth: bulk transfers, many connections, closes.
"""Bulk transfers are 1 GiB each on the optimised build. XS_TCP_SCALE divides
every transfer size (default: 1, or 16 when XS_BUILD names the sanitizer
build, e.g. `build-san`, so that CI's second pass stays short: 64 MiB there);
XS_TCP_SCALE=64 makes a quick run. Echo transfers compare SHA-256 of what was
sent with what came back, streamed in 256 KiB chunks of a deterministic
pattern (tcp_util.Pattern), so nothing large is held in memory.

Every test runs its own daemon with a control socket in tmp_path and ends by
stopping it: exit status 0 and no sanitizer report. Every wait has a deadline
(tcp_util.deadline, socket timeouts), so a hang fails the test instead of
blocking CI.

The daemon's echo, discard and source services run on the zero-copy calls
(echo: xs_tcp_recv_peek -> xs_tcp_send_reserve -> commit/consume, ring to
ring; discard: peek/consume; source: reserve/commit writing '!' + i % 94 in
place), so these bulk transfers are also those calls' integration tests.

Not here: a kernel server in ns B receiving from the stack (test_tcp_ctl.py,
`xdpstack-ctl connect`); loss and duplication (test_tcp_loss.py).
"""

import os
import random
import socket
import struct
import subprocess
import time

import pytest

import netns
import tcp_util as U
from netns import STACK_IP
from tcp_util import DISCARD_PORT, ECHO_PORT, GiB, MiB, SOURCE_PORT

BULK = U.scaled(GiB)
# Slowest acceptable rate for the deadlines: far below what either build does
# (measured: optimised ~250 MiB/s echo, ~500 MiB/s one way; ASan ~130-190 and
# ~200-300 MiB/s).
MIN_RATE = 8 * MiB if U.is_san() else 40 * MiB


def budget(nbytes, floor=30.0):
    return max(floor, nbytes / MIN_RATE)


@pytest.fixture
def daemon(topo, xdpstack, tmp_path):
    """(topo, daemon, ctl socket path): the daemon with its default services."""
    path = tmp_path / "xs.sock"
    d = xdpstack(topo, extra=["--ctl", str(path)])
    return topo, d, path


def assert_no_conns(path, what):
    left = U.wait_no_conns(path)
    if left is None:
        return  # no conns command in this xdpstack-ctl: checked by counters only
    assert left == [], f"{what}: the stack still holds {len(left)} connection(s): {left[:5]}"


def assert_sha(t, total):
    assert t.error is None, f"transfer failed: {t!r}"
    assert t.sent == total, t
    assert t.received == total, f"echo returned {t.received} of {total} bytes: {t!r}"
    assert t.eof, f"no FIN after the echo: {t!r}"
    assert t.sent_sha.hexdigest() == t.recv_sha.hexdigest(), \
        f"echo differs from what was sent (SHA-256): {t!r}"


# ------------------------------------------------------------------ bulk

def test_echo_bulk_python_sha256(daemon):
    topo, d, path = daemon
    s = U.connect(topo, ECHO_PORT)
    try:
        t = U.echo_transfer(s, BULK, timeout=budget(2 * BULK))
    finally:
        s.close()
    assert_sha(t, BULK)
    print(f"echo {BULK // MiB} MiB each way: {t.seconds:.2f}s, {t.mbps():.0f} MiB/s")
    assert_no_conns(path, "after the echo")
    U.finish(d)


@pytest.mark.skipif(not U.nc_is_openbsd(), reason="needs OpenBSD netcat (netcat-openbsd)")
def test_echo_bulk_nc_sha256(daemon):
    topo, d, path = daemon
    t = U.nc_echo(topo, BULK, timeout=budget(2 * BULK, 60))
    assert t.rc == 0, f"nc exited {t.rc}: {t.stderr}"
    assert_sha(t, BULK)
    print(f"nc echo {BULK // MiB} MiB each way: {t.seconds:.2f}s, {t.mbps():.0f} MiB/s")
    assert_no_conns(path, "after the nc echo")
    U.finish(d)


def test_discard_bulk_python(daemon):
    """Send BULK bytes, shut down writing: the discard service reads all of it,
    then closes its side (our EOF). The stack's receive counters saw it all."""
    topo, d, path = daemon
    c0 = d.counters()
    s = U.connect(topo, DISCARD_PORT)
    try:
        t = U.send_all(s, BULK, timeout=budget(BULK))
    finally:
        s.close()
    assert t.sent == BULK and t.eof and t.received == 0, t
    c1 = d.counters()
    segs = U.delta(c1, c0, "tcp_rx")
    assert U.delta(c1, c0, "rx_bytes") >= BULK + segs * 54, (segs, U.delta(c1, c0, "rx_bytes"))
    print(f"discard {BULK // MiB} MiB: {t.seconds:.2f}s, {t.mbps(BULK):.0f} MiB/s")
    assert_no_conns(path, "after the discard")
    U.finish(d)


@pytest.mark.skipif(not U.nc_is_openbsd(), reason="needs OpenBSD netcat (netcat-openbsd)")
def test_discard_bulk_nc(daemon):
    topo, d, path = daemon
    c0 = d.counters()
    t = U.nc_echo(topo, BULK, port=DISCARD_PORT, timeout=budget(BULK, 60))
    assert t.rc == 0, f"nc exited {t.rc}: {t.stderr}"
    assert t.sent == BULK and t.received == 0 and t.eof, t
    c1 = d.counters()
    assert U.delta(c1, c0, "rx_bytes") >= BULK
    print(f"nc discard {BULK // MiB} MiB: {t.seconds:.2f}s, {t.mbps(BULK):.0f} MiB/s")
    assert_no_conns(path, "after the nc discard")
    U.finish(d)


def test_source_bulk_python(daemon):
    """Read BULK bytes from the source service: exactly '!' + i % 94 for byte
    i, the sequence it writes in place into its send ring (xs_tcp_send_reserve,
    the ring wrapping thousands of times), no holes; then close with data
    unread (the kernel resets), and the stack lets go."""
    topo, d, path = daemon
    s = U.connect(topo, SOURCE_PORT)
    try:
        t = U.recv_n(s, BULK, timeout=budget(BULK), check_sequence=True)
    finally:
        s.close()
    assert t.error is None and t.received == BULK, t
    print(f"source {BULK // MiB} MiB: {t.seconds:.2f}s, {t.mbps():.0f} MiB/s")
    assert_no_conns(path, "after the source")
    U.finish(d)


def test_source_first_byte_is_prompt(daemon):
    """The source service starts streaming as soon as the connection is up.
    The accept callback's xs_tcp_set_event_cb queues XS_EV_WRITABLE for the
    next poll, so xs_stack_next_timer() must be due at once while events are
    pending; before 00ffa26 it ignored them, the daemon slept in poll() for
    its 100 ms cap, and every source connection waited ~100 ms for its first
    byte. A regression test for that wake-up."""
    topo, d, path = daemon
    waits = []
    for _ in range(5):
        s = U.connect(topo, SOURCE_PORT)
        try:
            t0 = time.monotonic()
            with U.deadline(10, "first byte from the source"):
                assert s.recv(1)
            waits.append(time.monotonic() - t0)
        finally:
            s.close()
    waits.sort()
    assert waits[2] < 0.03, f"first byte after {[round(w * 1000, 1) for w in waits]} ms"
    U.finish(d)


@pytest.mark.skipif(not U.nc_is_openbsd(), reason="needs OpenBSD netcat (netcat-openbsd)")
def test_source_bulk_nc(daemon):
    topo, d, path = daemon
    p = netns.ns_popen(topo.ns_b, [U.nc_path(), "-d", STACK_IP, SOURCE_PORT],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    topo.procs.append(p)
    t = U.Transfer()
    t0 = time.monotonic()
    try:
        with U.deadline(budget(BULK), f"nc reading {BULK} bytes"):
            U._pipe_reader(p.stdout, t, BULK, check_sequence=True)
    finally:
        p.kill()
        p.wait(5)
    t.seconds = time.monotonic() - t0
    assert t.error is None and t.received == BULK, t
    print(f"nc source {BULK // MiB} MiB: {t.seconds:.2f}s, {t.mbps():.0f} MiB/s")
    assert_no_conns(path, "after nc was killed")
    U.finish(d)


# ------------------------------------------------------------ connections

def test_sequential_1000(daemon):
    """1000 connections one after the other: connect, echo 4-200 bytes, close;
    each within 30 ms but for a few scheduling hiccups.
    When the handshake's ACK and the first data arrive in one receive batch,
    the READABLE event queued by the accept callback must be served by the
    next poll at once, not after the delayed-ACK timer; before 00ffa26 ~12% of
    the connections took 40 ms (same cause as
    test_source_first_byte_is_prompt)."""
    topo, d, path = daemon
    c0 = d.counters()
    rnd = random.Random(7)
    slow = []
    t0 = time.monotonic()
    with U.deadline(120, "1000 sequential connections"):
        for i in range(1000):
            msg = f"{i:04d}".encode() + rnd.randbytes(rnd.randrange(0, 197))
            t1 = time.monotonic()
            try:
                s = U.connect(topo, ECHO_PORT, timeout=5)
            except OSError as e:
                pytest.fail(f"connection {i}: {e!r}; {U.daemon_state(d)}")
            try:
                s.sendall(msg)
                got = U.recv_exact(s, len(msg))
            finally:
                s.close()
            assert got == msg, f"connection {i}: echo {got[:16]!r}... != {msg[:16]!r}...; " \
                + U.daemon_state(d)
            if time.monotonic() - t1 > 0.03:
                slow.append(round((time.monotonic() - t1) * 1000))
    el = time.monotonic() - t0
    c1 = U.quiescent(d)
    assert U.delta(c1, c0, "tcp_passive_opens") == 1000
    assert U.delta(c1, c0, "drop_tcp_accept_full") == 0
    print(f"1000 sequential connections: {el:.2f}s ({el:.2f} ms each), {len(slow)} over 30 ms")
    assert_no_conns(path, "after 1000 sequential connections")
    U.finish(d)
    assert len(slow) <= 20, f"{len(slow)} of 1000 connections took over 30 ms: {slow[:20]} ms"


def test_concurrent_500(daemon):
    """500 connections open at once, each echoing its own payload."""
    topo, d, path = daemon
    c0 = d.counters()

    def payload(i):
        r = random.Random(i)
        return struct.pack("!I", i) + r.randbytes(r.randrange(1, 16384))

    t0 = time.monotonic()
    with U.deadline(120, "500 concurrent connections"):
        ok, failures = U.concurrent_echo(topo, 500, payload, timeout=100)
    el = time.monotonic() - t0
    assert not failures, f"{len(failures)} of 500 failed, e.g. {failures[:5]}; " + \
        U.daemon_state(d)
    assert ok == 500
    c1 = U.quiescent(d)
    assert U.delta(c1, c0, "tcp_passive_opens") == 500
    print(f"500 concurrent connections: {el:.2f}s")
    assert_no_conns(path, "after 500 concurrent connections")
    U.finish(d)


def test_urgent_data_from_the_kernel_stays_in_line(daemon):
    # RFC 9293 3.8.5 / RFC 6093: the kernel sends one byte with MSG_OOB (URG,
    # the pointer just after it); the stack keeps urgent bytes in line, so
    # the echo service returns the stream unchanged, the urgent byte in its
    # place, as plain data.
    topo, d, path = daemon
    s = U.connect(topo, ECHO_PORT)
    try:
        s.sendall(b"hello ")
        s.send(b"!", socket.MSG_OOB)
        s.sendall(b" world")
        got = b""
        deadline = time.monotonic() + 10
        while len(got) < 13 and time.monotonic() < deadline:
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    assert got == b"hello ! world", got
    assert_no_conns(path, "after the urgent echo")
    U.finish(d)


def test_half_close(daemon):
    """The client shuts down writing first: every byte still comes back, then
    the FIN; meanwhile the client (FIN-WAIT-2) keeps receiving."""
    topo, d, path = daemon
    # Small: everything is sent before the echo starts to come back.
    s = U.connect(topo, ECHO_PORT)
    try:
        msg = random.Random(3).randbytes(100_000)
        s.sendall(msg)
        s.shutdown(socket.SHUT_WR)
        time.sleep(0.3)  # our FIN is acked before we read a byte
        with U.deadline(20, "half-close echo"):
            got = bytearray()
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
        assert bytes(got) == msg, f"{len(got)} of {len(msg)} bytes, equal prefix: " \
            f"{bytes(got) == msg[:len(got)]}"
    finally:
        s.close()
    # Large: the FIN arrives while megabytes are still queued both ways.
    n = U.scaled(64 * MiB)
    s = U.connect(topo, ECHO_PORT)
    try:
        t = U.echo_transfer(s, n, timeout=budget(2 * n))
    finally:
        s.close()
    assert_sha(t, n)
    assert_no_conns(path, "after the half-closed echoes")
    U.finish(d)


def test_refused_gets_rst_quickly(daemon):
    topo, d, path = daemon
    c0 = d.counters()
    times = []
    for port in (7, 80, 8889, 65535):
        s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        t0 = time.monotonic()
        try:
            with pytest.raises(ConnectionRefusedError):
                s.connect((STACK_IP, port))
        finally:
            s.close()
        times.append(time.monotonic() - t0)
    assert max(times) < 0.5, f"refusals took {times}"
    c1 = d.counters()
    assert U.delta(c1, c0, "tcp_rst_tx") >= 4
    assert U.delta(c1, c0, "drop_tcp_no_conn") >= 4
    # The services still work after the refusals.
    s = U.connect(topo, ECHO_PORT)
    try:
        s.sendall(b"still here")
        assert U.recv_exact(s, 10) == b"still here"
    finally:
        s.close()
    U.finish(d)


def _storm(topo, kind, n):
    """n connections closed in one way each; returns how many connected."""
    done = 0
    for i in range(n):
        s = netns.socket_in(topo.ns_b, socket.AF_INET, socket.SOCK_STREAM)
        try:
            if kind == "syn-then-close":
                # Close while the handshake may still be in flight: B answers
                # the SYN-ACK (or later segments) with RST.
                s.setblocking(False)
                s.connect_ex((STACK_IP, ECHO_PORT))
                done += 1
                continue
            s.settimeout(5)
            s.connect((STACK_IP, ECHO_PORT if kind != "source-unread" else SOURCE_PORT))
            done += 1
            if kind == "connect-close":
                pass
            elif kind == "abort":
                s.sendall(b"x" * 100)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif kind == "unread":
                s.sendall(os.urandom(3000))  # echoed, never read: close sends RST
                time.sleep(0.001)
            elif kind == "source-unread":
                s.recv(1)
            elif kind == "half-close":
                s.sendall(b"y" * 500)
                s.shutdown(socket.SHUT_WR)
        finally:
            s.close()
    return done


def test_storms_leave_no_connections(daemon):
    """Connect/close storms with every way a kernel client can go away; then
    the stack holds nothing, its counters stop moving, and it still serves."""
    topo, d, path = daemon
    c0 = d.counters()
    t0 = time.monotonic()
    with U.deadline(120, "connect/close storms"):
        for kind in ("connect-close", "abort", "unread", "source-unread", "half-close",
                     "syn-then-close"):
            # source-unread: 50, each waits ~100 ms for its first byte (see
            # test_source_first_byte_is_prompt) while that bug stands.
            n = 50 if kind == "source-unread" else 200
            try:
                assert _storm(topo, kind, n) == n, kind
            except OSError as e:
                pytest.fail(f"storm {kind}: {e!r}; {U.daemon_state(d)}")
    el = time.monotonic() - t0
    with U.deadline(40, "settling after the storms"):
        c1 = U.quiescent(d, settle=2.0, timeout=30)
    assert_no_conns(path, "after the storms")
    assert U.delta(c1, c0, "drop_tcp_accept_full") == 0
    assert U.delta(c1, c0, "drop_tcp_syn_queue") == 0
    print(f"storms of 1050 connections: {el:.2f}s; passive opens "
          f"{U.delta(c1, c0, 'tcp_passive_opens')}, RSTs in {U.delta(c1, c0, 'tcp_rst_rx')}")
    s = U.connect(topo, ECHO_PORT)
    try:
        s.sendall(b"after the storm")
        assert U.recv_exact(s, 15) == b"after the storm"
    finally:
        s.close()
    U.finish(d)


def test_conns_command_available():
    """The storm tests rely on `xdpstack-ctl conns` to see that the stack let
    every connection go; without it they can only check that it went quiet."""
    if not U.ctl_bin().exists():
        pytest.skip(f"{U.ctl_bin()} not built")
    assert U.ctl_has("conns"), "xdpstack-ctl has no conns command"
