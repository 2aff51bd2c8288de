# The control socket against a hostile local user: a client that writes without
# end, directories others may write to, symlinks at (or swapped in for) the socket.

import os
import signal
import socket
import stat
import subprocess
import time

import pytest

import netns
from netns import PEER_B_IP, STACK_IP, parse_ping
from test_ctl import ctl, jctl, ok

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* After the daemon binds its control socket, an attacker swaps the name for
 * a symlink to XS_TEST_SWAP_TARGET (what a writable directory allows). */
int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) = dlsym(RTLD_NEXT, "bind");
	const char *target = getenv("XS_TEST_SWAP_TARGET");
	int r = real(fd, sa, len);

	if (r == 0 && target && sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *un = (const void *)sa;
		char moved[sizeof(un->sun_path) + 8];

		snprintf(moved, sizeof(moved), "%s.moved", un->sun_path);
		rename(un->sun_path, moved);
		symlink(target, un->sun_path);
	}
	return r;
}
"""


FLOODER = r"""
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Connects to argv[1], sends the request argv[2], then writes without end
 * from two processes: faster than the daemon's 512-byte reads drain it. */
int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static char junk[65536];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), big = 64 << 20;

	if (argc != 3 || fd < 0)
		return 2;
	/* Room for a deep queue (as root): the daemon never catches up. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return 1;
	if (write(fd, argv[2], strlen(argv[2])) < 0)
		return 1;
	memset(junk, 'x', sizeof(junk));
	printf("flooding\n");
	fflush(stdout);
	fork();
	for (;;)
		if (write(fd, junk, sizeof(junk)) < 0)
			return 1;
}
"""


def build_c(tmp_path, name, src, *flags):
    c = tmp_path / f"{name}.c"
    c.write_text(src)
    out = tmp_path / name
    p = subprocess.run(["gcc", "-O2", "-o", str(out), str(c), *flags],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot build {name}: {p.stderr}")
    return out


def start_once(topo, ctl_path, env=None, timeout=20):
    """Runs xdpstack expecting it to refuse to start; returns (rc, out, err)."""
    cmd = ["ip", "netns", "exec", topo.ns_a, str(netns.binary()), "--ip", STACK_IP,
           "--dev", topo.dev_a, "--ctl", str(ctl_path)]
    full_env = dict(os.environ)
    full_env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    if env:
        full_env.update(env)
    p = netns.run(cmd, check=False, timeout=timeout, env=full_env)
    return p.returncode, p.stdout, p.stderr


def refused(topo, ctl_path, *words, env=None):
    rc, out, err = start_once(topo, ctl_path, env=env)
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc == 1, f"exit {rc}\nstdout:\n{out}\nstderr:\n{err}"
    assert len(lines) == 1 and lines[0].startswith("xdpstack: "), err
    for w in words:
        assert w in lines[0], f"{lines[0]!r} lacks {w!r}"
    assert "serving" not in out
    assert topo.xdp_attached() is None
    return lines[0]


# ------------------------------------------------------------ a flooding client

def test_flooding_client_cannot_stall_the_loop(topo, xdpstack, tmp_path):
    path = tmp_path / "run" / "xs.sock"
    flooder = build_c(tmp_path, "flooder", FLOODER)
    d = xdpstack(topo, extra=["--ctl", path])
    before = jctl(path, "stats")["ctl"]["read_budget"]
    # A streaming session (ping, which reads "stop" lines), then bytes without
    # end. Without a per-turn budget the daemon read this client until EAGAIN,
    # which never came: stats below timed out and pings went unanswered.
    fl = subprocess.Popen([str(flooder), str(path), f"ping {PEER_B_IP} -i 0.2\n"],
                          stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert fl.stdout.readline() == "flooding\n"
        time.sleep(0.5)
        # Another client is served, and so is the data path.
        for _ in range(3):
            out = ok(ctl(path, "stats", timeout=10))
            assert "rx_frames" in out
        assert parse_ping(topo.ping(STACK_IP, count=3, interval="0.05").stdout) == (3, 3)
        after = jctl(path, "stats", timeout=10)["ctl"]["read_budget"]
        assert fl.poll() is None, "the flooder stopped: no flood"
    finally:
        # The flooder and its child share a session we started: end that group.
        os.killpg(fl.pid, 9)
        fl.wait(5)
    # The budget is what bit: turns ended with the client still readable.
    assert after - before > 0, (before, after)
    assert d.running()
    rc, _, err = d.stop()
    assert rc == 0, err


def test_connection_flood_leaves_the_loop_serving(topo, xdpstack, tmp_path):
    # 200 connection attempts while the daemon is stopped: its listen queue
    # (16) fills, the kernel refuses the rest; the daemon then accepts at
    # most 8 a turn, and the data path keeps answering.
    path = tmp_path / "run" / "xs.sock"
    d = xdpstack(topo, extra=["--ctl", path])
    socks = []
    # Stopped while the clients connect, the daemon finds the listen queue
    # full when it wakes: on a busy host it might otherwise accept each
    # connection as it arrives and never meet its per-turn budget.
    os.kill(d.pid, signal.SIGSTOP)
    try:
        for _ in range(200):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(str(path))
            except (BlockingIOError, ConnectionRefusedError, OSError):
                pass
            socks.append(s)
        os.kill(d.pid, signal.SIGCONT)
        assert parse_ping(topo.ping(STACK_IP, count=3, interval="0.05").stdout) == (3, 3)
    finally:
        os.kill(d.pid, signal.SIGCONT)
        for s in socks:
            s.close()
    j = jctl(path, "stats", timeout=10)
    assert j["ctl"]["accept_budget"] > 0, j["ctl"]
    assert d.running()


def test_clients_past_the_bound_are_told_and_counted(topo, xdpstack, tmp_path):
    # 40 clients hold their connections (within the 5 s a request may take):
    # 32 get a slot, each later one is told so, closed and counted (ctl_refused).
    path = tmp_path / "run" / "xs.sock"
    d = xdpstack(topo, extra=["--ctl", path])
    socks, told = [], set()
    try:
        # The listen queue holds 16: a connect past it is refused with EAGAIN
        # until the daemon accepts (slower on a loaded machine), so retry.
        deadline = time.monotonic() + 4
        while len(socks) < 40:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(str(path))
            except BlockingIOError:
                s.close()
                assert time.monotonic() < deadline, f"{len(socks)} clients connected"
                time.sleep(0.01)
                continue
            socks.append(s)
        deadline = time.monotonic() + 4
        while len(told) < 8 and time.monotonic() < deadline:
            for i, s in enumerate(socks):
                try:
                    b = s.recv(200)
                except BlockingIOError:  # a slot: waiting for our request
                    continue
                if b.startswith(b".error too many control connections"):
                    told.add(i)
            time.sleep(0.05)
    finally:
        for s in socks:
            s.close()
    assert len(told) == 8, sorted(told)
    j = jctl(path, "stats", timeout=10)["ctl"]
    assert j["refused"] == 8, j
    assert j["dropped"] == 0, j
    assert "ctl_refused" in ok(ctl(path, "stats"))
    assert d.running()


def test_request_line_past_the_bound_is_refused_and_counted(topo, xdpstack, tmp_path):
    # 512 bytes with no newline: an error line, the connection closed, the
    # client counted in ctl_dropped (text stats: ctl_dropped).
    path = tmp_path / "run" / "xs.sock"
    d = xdpstack(topo, extra=["--ctl", path])
    assert jctl(path, "stats")["ctl"]["dropped"] == 0
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect(str(path))
        s.sendall(b"x" * 512)  # all of it read: no reset for unread bytes
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
    finally:
        s.close()
    assert got == b".usage request line longer than 511 bytes\n", got
    assert jctl(path, "stats")["ctl"]["dropped"] == 1
    assert "ctl_dropped" in ok(ctl(path, "stats"))
    assert d.running()


# -------------------------------------------------- the socket's directory

def test_parent_writable_by_others_refused(topo, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    os.chmod(run, 0o777)
    line = refused(topo, run / "xs.sock", "control socket directory", "writable by others",
                   "0777", "pass --ctl PATH")
    assert str(run) in line
    assert not (run / "xs.sock").exists()


def test_parent_owned_by_another_user_refused(topo, tmp_path):
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    os.chown(run, 1234, 1234)
    refused(topo, run / "xs.sock", "owned by uid 1234", "pass --ctl PATH")
    assert not (run / "xs.sock").exists()


def test_writable_ancestor_refused(topo, tmp_path):
    # Whoever may write to any directory above could rename the one below.
    top = tmp_path / "open"
    top.mkdir()
    os.chmod(top, 0o777)
    run = top / "run"
    run.mkdir(mode=0o700)
    line = refused(topo, run / "xs.sock", "writable by others")
    assert f"{top} is writable" in line


def test_sticky_world_writable_parent_accepted(topo, xdpstack, tmp_path):
    # As /tmp: others may create names there but not rename or remove ours.
    run = tmp_path / "tmp"
    run.mkdir()
    os.chmod(run, 0o1777)
    path = run / "xs.sock"
    d = xdpstack(topo, extra=["--ctl", path])
    st = os.lstat(path)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    ok(ctl(path, "addr"))
    rc, _, err = d.stop()
    assert rc == 0, err


# ----------------------------------------------------------------- symlinks

def test_symlink_at_socket_path_not_followed(topo, tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    os.chmod(target, 0o644)
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    path = run / "xs.sock"
    os.symlink(target, path)
    refused(topo, path, "is a symlink", "pass --ctl PATH")
    assert os.path.islink(path)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    assert target.read_text() == "keep me\n"


def test_symlink_swapped_in_after_bind_not_chmodded(topo, tmp_path):
    # The race the old chmod(path) lost: between bind and chmod the name is
    # replaced by a symlink (an LD_PRELOAD shim plays the attacker). The chmod
    # must not follow it to the target; the daemon refuses to go on.
    lib = build_c(tmp_path, "swap.so", SHIM, "-shared", "-fPIC", "-ldl")
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    os.chmod(target, 0o644)
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    path = run / "xs.sock"
    env = {"LD_PRELOAD": str(lib), "XS_TEST_SWAP_TARGET": str(target),
           "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1:verify_asan_link_order=0"}
    refused(topo, path, "was replaced after bind", env=env)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644, oct(os.stat(target).st_mode)
    assert os.path.islink(path)
