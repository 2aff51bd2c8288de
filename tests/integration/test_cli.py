# The daemon's command line: every bad invocation ends with one clear
# `xdpstack: ...` line on stderr and a non-zero exit, and leaves nothing attached.

import pytest

import netns
from netns import STACK_IP

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
# uid 0, but every capability gone (bounding, inheritable, ambient sets empty).
NO_CAPS = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all"]


def xdpstack(topo, args, wrap=(), timeout=20):
    """Run the daemon to completion in ns A; (exit code, stdout, stderr)."""
    if not netns.binary().exists():
        pytest.fail(f"{netns.binary()} is not built (run make, or set XS_BUILD)")
    cmd = ["ip", "netns", "exec", topo.ns_a] + list(wrap) + [str(netns.binary())] + args
    try:
        p = netns.run(cmd, check=False, timeout=timeout)
    except netns.CmdError as e:
        pytest.fail(f"xdpstack did not exit: {e}")
    return p.returncode, p.stdout, p.stderr


def assert_one_error(topo, rc, out, err, *words, code=None):
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc != 0, f"exit 0 for a bad invocation\nstdout:\n{out}\nstderr:\n{err}"
    if code is not None:
        assert rc == code, f"exit {rc}, want {code}\nstderr:\n{err}"
    assert len(lines) == 1, f"want exactly one stderr line, got {len(lines)}:\n{err}"
    assert lines[0].startswith("xdpstack: "), lines[0]
    if words:
        assert any(w in lines[0] for w in words), f"{lines[0]!r} mentions none of {words}"
    assert "serving" not in out
    assert topo.xdp_attached() is None, "a failed start left an XDP program attached"


@pytest.fixture(scope="module")
def t(topo_module):
    return topo_module


def test_help_exits_0(t):
    rc, out, err = xdpstack(t, ["--help"])
    assert rc == 0, err
    assert "--ip" in out, out
    assert err.strip() == ""


def test_version_exits_0(t):
    rc, out, err = xdpstack(t, ["--version"])
    assert rc == 0, err
    assert out.strip(), "empty --version output"
    assert "xdpstack" in out.lower()


def test_not_root(t):
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a], wrap=NOBODY)
    assert_one_error(t, rc, out, err, "root", "CAP_")


def test_root_without_capabilities(t):
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a], wrap=NO_CAPS)
    assert_one_error(t, rc, out, err, "root", "CAP_")


def test_no_such_interface(t):
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", "nosuchif0"])
    assert_one_error(t, rc, out, err, "no such interface")
    assert "nosuchif0" in err


@pytest.mark.parametrize("addr", ["300.1.1.1", "1.2.3", "abc", "1.2.3.4/33",
                                  "1.2.3.4.5", "172.17.0.253/x", ""])
def test_malformed_address(t, addr):
    rc, out, err = xdpstack(t, ["--ip", addr, "--dev", t.dev_a])
    assert_one_error(t, rc, out, err, "invalid")


def test_address_already_assigned_to_kernel(t):
    rc, out, err = xdpstack(t, ["--ip", netns.KERNEL_A_IP, "--dev", t.dev_a])
    assert_one_error(t, rc, out, err, "already assigned")
    # The kernel's address keeps working.
    p = t.ping(netns.KERNEL_A_IP, count=1)
    assert netns.parse_ping(p.stdout) == (1, 1), p.stdout


def test_address_already_assigned_default_interface(t):
    rc, out, err = xdpstack(t, ["--ip", netns.KERNEL_A_IP])
    assert_one_error(t, rc, out, err, "already assigned")


def test_unknown_option(t):
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a, "--bogus"])
    assert_one_error(t, rc, out, err, code=2)


@pytest.mark.parametrize("args", [["--ip"], ["--ip", STACK_IP, "--dev"],
                                  ["--ip", STACK_IP, "--mode"]],
                         ids=["ip", "dev", "mode"])
def test_missing_argument(t, args):
    rc, out, err = xdpstack(t, args)
    assert_one_error(t, rc, out, err, code=2)


def test_no_address_at_all(t):
    rc, out, err = xdpstack(t, [])
    assert_one_error(t, rc, out, err, "--ip")


@pytest.mark.parametrize("args", [["--mode", "turbo"], ["--udp-echo", "70000"],
                                  ["--udp-echo", "abc"], ["--mac", "zz:00:00:00:00:01"]],
                         ids=["mode", "port-range", "port-text", "mac"])
def test_bad_option_values(t, args):
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a] + args)
    assert_one_error(t, rc, out, err)


@pytest.mark.parametrize("value", ["0", "1001", "abc", "", "-5", "5ms"],
                         ids=["zero", "over-1000", "text", "empty", "negative", "unit"])
def test_bad_tcp_rto_min(t, value):
    # 1-1000 ms, a plain decimal number: anything else is a usage error.
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a, "--tcp-rto-min", value])
    assert_one_error(t, rc, out, err, "--tcp-rto-min", code=2)


@pytest.mark.parametrize("flag,value", [
    ("--tcp-max-orphans", "0"), ("--tcp-max-orphans", "1000001"), ("--tcp-max-orphans", "x"),
    ("--tcp-orphan-mem", "1K"), ("--tcp-orphan-mem", "5T"), ("--tcp-orphan-mem", "12Q"),
    ("--tcp-orphan-mem", "-1"), ("--tcp-orphan-retries", "0"), ("--tcp-orphan-retries", "256"),
    ("--tcp-persist-span", "99"), ("--tcp-persist-span", "86400001"),
    ("--tcp-persist-span", "5s"), ("--tcp-mem", "1M,2M"), ("--tcp-mem", "3M,2M,4M"),
    ("--tcp-mem", "1M,2M,3M,4M"), ("--tcp-mem", "1K,2M,3M"), ("--tcp-mem", "1M,,2M,3M"),
    ("--tcp-mem", ""), ("--tcp-max-conns", "15"), ("--tcp-max-conns", "16777217"),
    ("--tcp-max-conns", "x"), ("--tcp-buf-idle", "60001"), ("--tcp-buf-idle", "-1"),
    ("--tcp-buf-idle", "1s"),
], ids=lambda v: v)
def test_bad_tcp_budgets(t, flag, value):
    # Each budget flag: one line naming the flag and what it expects, exit 2.
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a, flag, value])
    assert_one_error(t, rc, out, err, flag, code=2)


def test_help_lists_tcp_budgets(t):
    rc, out, err = xdpstack(t, ["--help"])
    assert rc == 0, err
    for flag in ("--tcp-max-orphans N", "--tcp-orphan-mem SIZE", "--tcp-orphan-retries N",
                 "--tcp-persist-span MS", "--tcp-mem LOW,PRESSURE,HIGH",
                 "--tcp-max-conns N", "--tcp-buf-idle MS"):
        assert flag in out, out


@pytest.mark.parametrize("arg", ["--busy-poll=0", "--busy-poll=60000001", "--busy-poll=abc",
                                 "--busy-poll=", "--busy-poll=-5", "--busy-poll=5ms"],
                         ids=["zero", "over-max", "text", "empty", "negative", "unit"])
def test_bad_busy_poll(t, arg):
    # An idle period of 1-60000000 us, a plain decimal number: else exit 2.
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a, arg])
    assert_one_error(t, rc, out, err, "--busy-poll", code=2)


def test_help_lists_busy_poll(t):
    rc, out, err = xdpstack(t, ["--help"])
    assert rc == 0, err
    assert "--busy-poll[=US]" in out, out


@pytest.mark.parametrize("flag,value", [
    ("--dns", "1.2.3"), ("--dns", "dns.example"), ("--dns", "0.0.0.0"), ("--dns", "224.0.0.1"),
    ("--dns", "10.0.0.1:0"), ("--dns", "10.0.0.1:65536"), ("--dns", "10.0.0.1:"),
    ("--dns", ""), ("--dns-timeout", "9"), ("--dns-timeout", "60001"), ("--dns-timeout", "x"),
    ("--dns-cache", "0"), ("--dns-cache", "65537"), ("--dns-queries", "0"),
    ("--dns-queries", "4097"),
], ids=lambda v: v)
def test_bad_dns(t, flag, value):
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a, flag, value])
    assert_one_error(t, rc, out, err, flag, code=2)


def test_too_many_dns_servers(t):
    args = ["--ip", STACK_IP, "--dev", t.dev_a]
    for i in range(5):
        args += ["--dns", f"10.0.0.{i + 1}"]
    rc, out, err = xdpstack(t, args)
    assert_one_error(t, rc, out, err, "--dns", "at most 4", code=2)


def test_help_lists_tcp_rto_min(t):
    rc, out, err = xdpstack(t, ["--help"])
    assert rc == 0, err
    assert "--tcp-rto-min MS" in out, out


@pytest.mark.parametrize("value", ["0", "256", "abc", "", "-1"],
                         ids=["zero", "over-255", "text", "empty", "negative"])
def test_bad_ttl(t, value):
    # 1-255, a plain decimal number: anything else is a usage error.
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a, "--ttl", value])
    assert_one_error(t, rc, out, err, "--ttl", code=2)


def test_ttl_sets_the_ttl(topo, xdpstack):
    # RFC 9293 3.9.2 (MUST-49): the TTL is configurable; the kernel's ping
    # reads it from the stack's echo replies (64 without the flag).
    d = xdpstack(topo)
    p = topo.ping(STACK_IP, count=1)
    assert "ttl=64" in p.stdout, p.stdout
    d.stop()
    d = xdpstack(topo, extra=["--ttl", "17"])
    p = topo.ping(STACK_IP, count=1)
    assert "ttl=17" in p.stdout, p.stdout


@pytest.mark.parametrize("args,word", [
    (["--http", "0", "--root", "/"], "--http"),
    (["--http", "70000", "--root", "/"], "--http"),
    (["--http", "abc", "--root", "/"], "--http"),
    (["--http", "8080"], "--root"),
    (["--http", "8080", "--root", "/nonexistent-xdpstack-root"], "no such directory"),
    (["--http", "8080", "--root", "/etc/hostname"], "not a directory"),
    (["--root", "/"], "--http"),
    (["--http-header-timeout", "1000"], "--http"),
    (["--http", "8080", "--root", "/", "--http-header-timeout", "0"], "--http-header-timeout"),
    (["--http", "8080", "--root", "/", "--http-header-timeout", "abc"], "--http-header-timeout"),
    (["--http", "8080", "--root", "/", "--http-header-timeout", "-1"], "--http-header-timeout"),
    (["--http", "8080", "--root", "/", "--http-header-timeout", "3600001"],
     "--http-header-timeout"),
    (["--http", "8080", "--root", "/", "--http-max-conns", "0"], "--http-max-conns"),
    (["--http", "8080", "--root", "/", "--http-max-conns", "4097"], "--http-max-conns"),
    (["--http", "8080", "--root", "/", "--http-send-timeout", "0"], "--http-send-timeout"),
    (["--http", "8080", "--root", "/", "--http-send-timeout", "1s"], "--http-send-timeout"),
    (["--http-send-timeout", "1000"], "--http"),
], ids=["port-0", "port-range", "port-text", "no-root", "root-missing", "root-file",
        "root-alone", "timeout-alone", "timeout-0", "timeout-text", "timeout-negative",
        "timeout-range", "conns-0", "conns-range", "send-timeout-0", "send-timeout-unit",
        "send-timeout-alone"])
def test_bad_http_options(t, args, word):
    # One line naming the flag, exit 2, before anything is attached.
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a] + args)
    assert_one_error(t, rc, out, err, word, code=2)


def test_help_lists_http(t):
    rc, out, err = xdpstack(t, ["--help"])
    assert rc == 0, err
    for flag in ("--http PORT", "--root DIR", "--http-header-timeout MS", "--http-max-conns N",
                 "--http-send-timeout MS"):
        assert flag in out, out


def test_native_mode_refused_names_generic(t):
    # A bridge (or ifb) has no driver XDP: native attach must be refused with the fix.
    dm = "xd" + t.tag
    for kind in ("bridge", "ifb", "dummy"):
        if netns.run(["ip", "-n", t.ns_a, "link", "add", dm, "type", kind],
                     check=False).returncode == 0:
            break
    else:
        pytest.skip("no link type without native XDP available (bridge, ifb, dummy)")
    try:
        netns.run(["ip", "-n", t.ns_a, "link", "set", dm, "up"])
        rc, out, err = xdpstack(t, ["--ip", "172.18.0.253", "--dev", dm, "--mode", "native"])
        assert_one_error(t, rc, out, err, "--mode generic")
        assert t.xdp_attached(dev=dm) is None
    finally:
        netns.run(["ip", "-n", t.ns_a, "link", "del", dm], check=False)


@pytest.mark.parametrize("args", [["--sockperf=0"], ["--sockperf=70000"], ["--sockperf=abc"],
                                  ["--sockperf="], ["--sockperf", "65536"],
                                  ["--sockperf=-1"], ["--sockperf=11111x"]],
                         ids=["zero", "range", "text", "empty", "range-word", "negative",
                              "suffix"])
def test_bad_sockperf_port(t, args):
    # A port 1-65535 (--sockperf alone: 11111): anything else is a usage error.
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a] + args)
    assert_one_error(t, rc, out, err, "--sockperf", code=2)


def test_sockperf_port_in_use(t):
    # The TCP echo service already holds 8888: one line, nothing left attached.
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a, "--sockperf", "8888"])
    assert_one_error(t, rc, out, err, "sockperf", "8888")


def test_help_lists_sockperf(t):
    rc, out, err = xdpstack(t, ["--help"])
    assert rc == 0, err
    assert "--sockperf[=PORT]" in out, out


@pytest.mark.parametrize("args,flag", [
    (["--queues", "0"], "--queues"), (["--queues", "65"], "--queues"),
    (["--queues", "x"], "--queues"), (["--queues", "-1"], "--queues"),
    (["--queues", ""], "--queues"), (["--queue", "60", "--queues", "8"], "--queues"),
    (["--xdp-mode", "fast"], "--xdp-mode"), (["--xdp-mode", ""], "--xdp-mode"),
], ids=["zero", "over-64", "text", "negative", "empty", "past-63", "mode-unknown",
        "mode-empty"])
def test_bad_queues_and_xdp_mode(t, args, flag):
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a] + args)
    assert_one_error(t, rc, out, err, flag, code=2)


def test_help_lists_queues_and_xdp_mode(t):
    rc, out, err = xdpstack(t, ["--help"])
    assert rc == 0, err
    assert "--queues N" in out and "--xdp-mode MODE" in out, out


def test_more_queues_than_the_nic_has(t):
    # A one-queue veth: queue 1 does not exist; one line, nothing left attached.
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a, "--queues", "2"])
    assert_one_error(t, rc, out, err, "queue 1", code=1)


def test_zerocopy_refused_on_veth(t):
    # veth has no zero-copy: forced, it is one clear error; auto falls back.
    rc, out, err = xdpstack(t, ["--ip", STACK_IP, "--dev", t.dev_a, "--xdp-mode", "zerocopy"])
    assert_one_error(t, rc, out, err, "zero-copy", code=1)
    assert "--xdp-mode copy" in err or "native" in err, err
