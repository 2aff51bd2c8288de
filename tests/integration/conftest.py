# Fixtures of the integration tests: per-test (or per-module) netns + veth
# topologies and the xdpstack daemon running in ns A.
"""Fixtures:

    topo          fresh Topology for one test (see netns.py), always removed
    topo_module   one Topology shared by a module (cheap tests)
    xdpstack      factory: xdpstack(topo, extra=[...], dev=..., wait=True) -> Daemon
    stack         (topo, Daemon) with the daemon serving 172.17.0.253 on xa<tag>

Without root, network namespaces or AF_XDP the tests are skipped with the
reason; they never pass by default. XS_BUILD picks the build directory.
"""

import os
import socket
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import netns  # noqa: E402

_env_problem = None
_env_checked = False


def _check_env():
    """None when we can build topologies and open AF_XDP sockets, else why not."""
    if os.geteuid() != 0:
        return "integration tests need root (network namespaces, XDP, AF_XDP)"
    for tool in ("ip", "ethtool", "ping", "arping"):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin"]):
            return f"{tool} not installed (run scripts/deps.sh)"
    t = netns.Topology()
    try:
        t.create()
    except Exception as e:
        t.destroy()
        return f"cannot create network namespaces / veth: {e}"
    try:
        try:
            s = netns.socket_in(t.ns_a, 44, socket.SOCK_RAW, 0)  # AF_XDP
            s.close()
        except OSError as e:
            return f"AF_XDP sockets not available: {e}"
    finally:
        t.destroy()
    return None


def _require_env():
    global _env_checked, _env_problem
    if not _env_checked:
        _env_problem = _check_env()
        _env_checked = True
    if _env_problem:
        pytest.skip(_env_problem)


def _teardown(topo, request=None):
    problems = []
    reports = [d.sanitizer_report() for d in topo.daemons]
    problems += topo.destroy()
    # Daemons stopped inside the test were checked there; this catches the rest
    # (e.g. an ASan report printed while the daemon was being torn down).
    reports += [d.sanitizer_report() for d in topo.daemons]
    reports = [r for r in reports if r]
    if reports:
        pytest.fail("sanitizer report from xdpstack:\n" + reports[-1], pytrace=False)
    if problems:
        pytest.fail("topology teardown problems: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def netenv():
    """Skips unless namespaces, veth and AF_XDP are usable (for tests that
    build their own topology)."""
    _require_env()


@pytest.fixture
def topo():
    _require_env()
    t = netns.Topology().create()
    try:
        yield t
    finally:
        _teardown(t)


@pytest.fixture(scope="module")
def topo_module():
    _require_env()
    t = netns.Topology().create()
    try:
        yield t
    finally:
        _teardown(t)


@pytest.fixture
def xdpstack():
    def start(topo, **kw):
        wait = kw.pop("wait", True)
        timeout = kw.pop("timeout", None)
        d = netns.Daemon(topo, **kw)
        d.start(wait=wait, timeout=timeout)
        return d
    return start


@pytest.fixture
def stack(topo, xdpstack):
    d = xdpstack(topo)
    yield topo, d
