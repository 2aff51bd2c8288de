# The example programs (tools/examples/, built against the public headers
# only) against the real kernel and stock tools: nc, python3's http.server.
"""udp_echo and tcp_echo_epoll serve 172.17.0.253 on the veth over AF_XDP and
are exercised by nc from the peer namespace; http_get fetches a file from a
kernel-side HTTP server; udp_echo on a TAP device answers the kernel on the
other side of the TAP."""

import hashlib
import os
import select
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import netns  # noqa: E402
from netns import PEER_B_IP, STACK_IP  # noqa: E402


def example(name):
    p = netns.build_dir() / "examples" / name
    if not p.exists():
        pytest.fail(f"{p} is not built (run make)")
    return p


def start(topo, ns, args, ready=b"ready"):
    """Runs an example in ns, returns (proc, first stdout line) once it says ready."""
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1")
    p = subprocess.Popen(["ip", "netns", "exec", ns] + [str(a) for a in args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                         start_new_session=True)
    topo.procs.append(p)
    end = time.monotonic() + 15
    line = b""
    while time.monotonic() < end:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if r:
            line = p.stdout.readline()
            if ready in line:
                return p, line
        if p.poll() is not None:
            break
    p.kill()
    out, err = p.communicate(timeout=5)
    pytest.fail(f"{args[0]} did not get ready: {line!r} {out!r} {err!r}")


def stop(p):
    """SIGTERM by PID: the example stops its loop (xs_stop) and exits 0."""
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    err = err.decode(errors="replace")
    for m in netns.SANITIZER_MARKERS:
        assert m not in err, err
    assert p.returncode == 0, (p.returncode, out, err)
    return out.decode(errors="replace")


def nc(topo, args, data, timeout=10):
    return netns.ns_run(topo.ns_b, ["nc"] + args, input=data, timeout=timeout).stdout


def test_udp_echo_over_afxdp(topo):
    p, _ = start(topo, topo.ns_a, [example("udp_echo"), "--dev", f"afxdp:{topo.dev_a}",
                                    "--ip", f"{STACK_IP}/24", "--port", "7007"])
    got = []
    for i in range(3):
        msg = f"datagram {i} via nc\n"
        got.append(nc(topo, ["-u", "-w1", STACK_IP, "7007"], msg))
        assert got[-1] == msg
    out = stop(p)
    assert "3 datagrams echoed" in out


def test_tcp_echo_epoll_over_afxdp(topo):
    p, _ = start(topo, topo.ns_a, [example("tcp_echo_epoll"), "--dev", f"afxdp:{topo.dev_a}",
                                    "--ip", f"{STACK_IP}/24", "--port", "7008"])
    small = "hello through an application's own epoll loop\n"
    assert nc(topo, ["-N", "-w5", STACK_IP, "7008"], small) == small
    # Larger than the windows: flow control (the example holds nothing of its
    # own; it sends from the receive ring in place, xs_tcp_recv_peek).
    big = "".join(f"{i:08d} line of the echo test\n" for i in range(20000))
    assert len(big) > 500000
    assert nc(topo, ["-N", "-w10", STACK_IP, "7008"], big, timeout=30) == big
    # Two at once.
    procs = [netns.ns_popen(topo.ns_b, ["nc", "-N", "-w5", STACK_IP, "7008"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [q.communicate(f"client {i}\n" * 1000, timeout=20)[0] for i, q in enumerate(procs)]
    assert outs == [f"client {i}\n" * 1000 for i in range(2)]
    out = stop(p)
    assert "4 connections, 0 refused" in out
    assert f"{len(small) + len(big) + 2 * 9000} bytes echoed" in out


def test_http_get_from_kernel_server(topo, tmp_path):
    body = os.urandom(300000)
    (tmp_path / "blob.bin").write_bytes(body)
    srv = netns.ns_popen(topo.ns_b, [sys.executable, "-m", "http.server", "8089", "--bind",
                                     PEER_B_IP, "--directory", str(tmp_path)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    topo.procs.append(srv)
    # Ready when the kernel peer accepts on the port.
    end = time.monotonic() + 10
    while netns.ns_run(topo.ns_b, ["nc", "-z", PEER_B_IP, "8089"], check=False).returncode:
        assert time.monotonic() < end, "http.server did not start"
        time.sleep(0.1)
    p = subprocess.run(["ip", "netns", "exec", topo.ns_a, str(example("http_get")), "--dev",
                        f"afxdp:{topo.dev_a}", "--ip", f"{STACK_IP}/24",
                        f"http://{PEER_B_IP}:8089/blob.bin"], capture_output=True, timeout=30)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 0, err
    assert hashlib.sha256(p.stdout).hexdigest() == hashlib.sha256(body).hexdigest()
    assert "status 200, 300000 body bytes" in err
    # A missing file: 404, non-zero exit.
    p = netns.ns_run(topo.ns_a, [example("http_get"), "--dev", f"afxdp:{topo.dev_a}", "--ip",
                                 f"{STACK_IP}/24", f"http://{PEER_B_IP}:8089/nothing"],
                     timeout=30, check=False)
    assert p.returncode == 1
    assert "status 404" in p.stderr
    # Nobody listening: refused, one line, non-zero exit.
    p = netns.ns_run(topo.ns_a, [example("http_get"), "--dev", f"afxdp:{topo.dev_a}", "--ip",
                                 f"{STACK_IP}/24", f"http://{PEER_B_IP}:8090/"],
                     timeout=30, check=False)
    assert p.returncode == 1
    assert "connection failed: Connection refused" in p.stderr


def test_udp_echo_over_tap(topo):
    """The TAP device: udp_echo makes xt<tag> in ns B; the kernel of ns B
    talks to it across the TAP (ARP, ping, UDP)."""
    tap = f"xt{topo.tag}"
    p, _ = start(topo, topo.ns_b, [example("udp_echo"), "--dev", f"tap:{tap}",
                                    "--ip", "10.77.0.2/24", "--port", "7"])
    link = topo.link(topo.ns_b, tap)
    assert "UP" in link["flags"]
    netns.run(["ip", "-n", topo.ns_b, "addr", "add", "10.77.0.1/24", "dev", tap])
    out = netns.ns_run(topo.ns_b, ["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.77.0.2"],
                       check=False)
    assert " 0% packet loss" in out.stdout, out.stdout + out.stderr
    msg = "over the tap\n"
    assert nc(topo, ["-u", "-w1", "10.77.0.2", "7"], msg) == msg
    out = stop(p)
    assert "1 datagrams echoed" in out
    # The TAP went with the process.
    assert netns.run(["ip", "-n", topo.ns_b, "link", "show", tap], check=False).returncode != 0


@pytest.mark.parametrize("args,msg", [
    (["--dev", "afxdp:"], "bad device"),
    (["--dev", "tun:x", "--ip", "10.0.0.1"], "bad device"),
    (["--dev", "mem", "--ip", "10.0.0.300"], "bad --ip"),
    (["--dev", "mem", "--ip", "10.0.0.1/33"], "bad --ip"),
    (["--dev", "mem", "--ip", "10.0.0.1", "--port", "0"], "bad --port"),
    (["--dev", "afxdp:nosuchif0", "--ip", "10.0.0.1"], "nosuchif0"),
])
def test_bad_arguments_one_line(args, msg):
    if os.geteuid() != 0 and "nosuchif0" in args[1]:
        pytest.skip("needs root to try an interface")
    p = netns.run([example("udp_echo")] + args, check=False, timeout=10)
    assert p.returncode != 0
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and msg in lines[0], p.stderr
