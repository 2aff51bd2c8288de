# `make install` into a temporary DESTDIR, then what a packager and an
# application developer see: headers, pkg-config, the shared/static library,
# man pages, xdpstack-ctl --help, and the three examples built against the
# staged tree, each exercised by a kernel client or server.
"""Installation tests.

The install, header, symbol and man page checks need no root; the example
runs need namespaces and AF_XDP (skipped without them, via the topo
fixture). XS_BUILD picks the build whose binaries are installed.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import netns

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/usr"


def run(cmd, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def make_vars():
    """The build the tests were asked for: SAN=1 for build-san."""
    return ["SAN=1"] if netns.build_dir().name == "build-san" else []


@pytest.fixture(scope="module")
def dest(tmp_path_factory):
    d = tmp_path_factory.mktemp("destdir")
    p = run(["make", "-C", str(ROOT), "-j2", "install", f"DESTDIR={d}", f"PREFIX={PREFIX}"]
            + make_vars())
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return d


def pc_env(dest):
    env = dict(os.environ)
    env["PKG_CONFIG_PATH"] = str(dest / PREFIX.lstrip("/") / "lib/pkgconfig")
    # The .pc file says /usr; the staged tree lives under DESTDIR.
    env["PKG_CONFIG_SYSROOT_DIR"] = str(dest)
    return env


def pkg_config(dest, *args):
    p = run(["pkg-config", *args, "libxdpstack"], env=pc_env(dest))
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def test_installed_tree(dest):
    usr = dest / PREFIX.lstrip("/")
    for f in ("bin/xdpstack", "bin/xdpstack-ctl"):
        assert os.access(usr / f, os.X_OK), f
    lib = usr / "lib"
    assert (lib / "libxdpstack.a").is_file()
    assert (lib / "libxdpstack.so.0.1.0").is_file()
    assert os.readlink(lib / "libxdpstack.so.0") == "libxdpstack.so.0.1.0"
    assert os.readlink(lib / "libxdpstack.so") == "libxdpstack.so.0"
    p = run(["readelf", "-d", str(lib / "libxdpstack.so.0.1.0")])
    assert "Library soname: [libxdpstack.so.0]" in p.stdout, p.stdout
    # Only the public headers, all of them.
    want = sorted(h.name for h in (ROOT / "include/xdpstack").glob("*.h"))
    assert sorted(h.name for h in (usr / "include/xdpstack").iterdir()) == want
    for page in ("share/man/man8/xdpstack.8", "share/man/man8/xdpstack-ctl.8",
                 "share/man/man3/libxdpstack.3", "share/doc/xdpstack/xdpstack@.service",
                 "lib/pkgconfig/libxdpstack.pc"):
        assert (usr / page).is_file(), page
    # The unit goes to the docs unless SYSTEMD_UNIT=1 asks for more.
    assert not (usr / "lib/systemd").exists()


def test_pkg_config_file(dest):
    assert pkg_config(dest, "--modversion") == ["0.1.0"]
    cflags = pkg_config(dest, "--cflags")
    assert f"-I{dest}{PREFIX}/include" in cflags, cflags
    libs = pkg_config(dest, "--libs")
    assert "-lxdpstack" in libs and "-lbpf" not in libs, libs  # private deps stay private
    slibs = pkg_config(dest, "--static", "--libs")
    for l in ("-lxdpstack", "-lxdp", "-lbpf", "-lelf", "-lz", "-lpcap"):
        assert l in slibs, slibs


def test_each_public_header_compiles_alone(dest, tmp_path):
    inc = dest / PREFIX.lstrip("/") / "include"
    for h in sorted((inc / "xdpstack").glob("*.h")):
        src = tmp_path / f"only_{h.stem}.c"
        src.write_text(f"#include <xdpstack/{h.name}>\nint main(void) {{ return 0; }}\n")
        p = run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
                 f"-I{inc}", "-c", str(src), "-o", str(tmp_path / "o.o")])
        assert p.returncode == 0, f"{h.name} does not compile alone:\n{p.stderr}"


def public_functions():
    names = set()
    for h in (ROOT / "include/xdpstack").glob("*.h"):
        text = re.sub(r"/\*.*?\*/", "", h.read_text(), flags=re.S)
        names |= set(re.findall(r"\b(xs_[a-z0-9_]+)\s*\(", text))
    return names


def test_shared_library_exports_only_the_public_api(dest):
    so = dest / PREFIX.lstrip("/") / "lib/libxdpstack.so.0.1.0"
    p = run(["nm", "-D", "--defined-only", str(so)])
    assert p.returncode == 0, p.stderr
    exported = {l.split()[-1].split("@")[0] for l in p.stdout.splitlines()
                if l.split()[1] in "TDBRW"}
    exported.discard("XDPSTACK_0")  # the version node
    pub = {n for n in public_functions() if not n.startswith("xs_event_cb")}
    assert exported, p.stdout
    assert not exported - pub, f"exported but not in include/xdpstack: {exported - pub}"
    # Every declared function is there (macros like XS_MS are not functions).
    assert not pub - exported, f"declared but not exported: {pub - exported}"


EXAMPLES = ROOT / "tools/examples"
EXAMPLE_NAMES = ["udp_echo", "tcp_echo_epoll", "http_get"]


@pytest.fixture(scope="module")
def examples(dest, tmp_path_factory):
    """Builds an example against the staged tree once per (name, static)."""
    out_dir = tmp_path_factory.mktemp("examples")
    built = {}

    def get(name, static):
        key = (name, static)
        if key not in built:
            built[key] = build_example(dest, out_dir, name, static)
        return built[key]
    return get


def build_example(dest, out_dir, name, static):
    src = EXAMPLES / f"{name}.c"
    out = out_dir / (f"{name}_static" if static else f"{name}_shared")
    cflags = pkg_config(dest, "--cflags")
    if static:
        # The archive, by name: -l would take the shared object next to it.
        libs = [("-l:libxdpstack.a" if l == "-lxdpstack" else l)
                for l in pkg_config(dest, "--static", "--libs")]
    else:
        libs = pkg_config(dest, "--libs")
        libs.append(f"-Wl,-rpath,{dest}{PREFIX}/lib")
    san = ["-fsanitize=address,undefined"] if make_vars() else []
    # Only the installed tree for libxdpstack; example.h is the examples' own helper.
    p = run(["cc", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror", *san,
             *cflags, f"-I{EXAMPLES}", "-o", str(out), str(src), *libs])
    assert p.returncode == 0, p.stderr
    return out


@pytest.mark.parametrize("static", [False, True], ids=["shared", "static"])
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_links(examples, dest, name, static):
    exe = examples(name, static)
    p = run(["ldd", str(exe)])
    linked_shared = "libxdpstack.so.0" in p.stdout
    assert linked_shared == (not static), p.stdout
    if not static:
        assert str(dest) in p.stdout, p.stdout  # the staged copy, not another one
    # Usage error: it runs (the loader found everything) and says how.
    p = run([str(exe)])
    assert p.returncode != 0 and "usage:" in p.stderr, p.stderr


def start_example(topo, exe, args, port):
    """Runs an installed example in ns A on the veth; returns once it is ready."""
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:detect_leaks=1")
    proc = subprocess.Popen(["ip", "netns", "exec", topo.ns_a, str(exe),
                             "--dev", f"afxdp:{topo.dev_a}",
                             "--ip", f"{netns.STACK_IP}/{netns.PLEN}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    topo.procs.append(proc)
    line = proc.stdout.readline()
    assert f"ready on port {port}" in line, \
        line + proc.stderr.read() if proc.poll() is not None else line
    return proc


def stop_example(proc):
    """SIGTERM by PID: the example stops its loop and exits 0, sanitizers quiet."""
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    for m in netns.SANITIZER_MARKERS:
        assert m not in err, err
    assert proc.returncode == 0, err
    return out


@pytest.mark.parametrize("static", [False, True], ids=["shared", "static"])
def test_udp_echo_serves_a_kernel_client(topo, examples, static):
    proc = start_example(topo, examples("udp_echo", static), ["--port", "7777"], 7777)
    got = None
    for i in range(20):  # the first datagram may wait for ARP
        got = topo.udp_echo(b"hello %d" % i, port=7777, timeout=0.5)
        if got:
            break
    assert got and got[0].startswith(b"hello") and got[1] == (netns.STACK_IP, 7777)
    for i in range(5):
        assert topo.udp_echo(b"x" * (100 * i + 1), port=7777) == \
            (b"x" * (100 * i + 1), (netns.STACK_IP, 7777))
    out = stop_example(proc)
    m = re.search(r"(\d+) datagrams echoed", out)
    assert m and int(m.group(1)) >= 6, out


def test_tcp_echo_epoll_serves_kernel_clients(topo, examples):
    """The installed tcp_echo_epoll (shared library), driven by its own epoll
    loop, echoes to nc in the peer namespace: a short line, then more than
    its buffers and the windows hold (flow control)."""
    proc = start_example(topo, examples("tcp_echo_epoll", False), ["--port", "7008"], 7008)
    small = "installed headers, own epoll loop\n"
    big = "".join(f"{i:08d} bytes through the installed library\n" for i in range(6000))
    for data in (small, big):
        p = netns.ns_run(topo.ns_b, ["nc", "-N", "-w10", netns.STACK_IP, "7008"], input=data,
                         timeout=60)
        assert p.stdout == data
    out = stop_example(proc)
    assert "2 connections, 0 refused" in out, out
    assert f"{len(small) + len(big)} bytes echoed" in out, out


def test_http_get_fetches_from_a_kernel_server(topo, examples, tmp_path):
    """The installed http_get (static library) fetches a file from Python's
    http.server in the peer namespace, byte for byte."""
    body = os.urandom(200000)
    (tmp_path / "blob.bin").write_bytes(body)
    srv = netns.ns_popen(topo.ns_b, ["/usr/bin/python3", "-m", "http.server", "8089", "--bind",
                                     netns.PEER_B_IP, "--directory", str(tmp_path)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    topo.procs.append(srv)
    end = time.monotonic() + 20
    while netns.ns_run(topo.ns_b, ["nc", "-z", netns.PEER_B_IP, "8089"],
                       check=False).returncode:
        assert time.monotonic() < end, "http.server did not start"
        time.sleep(0.1)
    exe = examples("http_get", True)
    p = subprocess.run(["ip", "netns", "exec", topo.ns_a, str(exe), "--dev",
                        f"afxdp:{topo.dev_a}", "--ip", f"{netns.STACK_IP}/{netns.PLEN}",
                        f"http://{netns.PEER_B_IP}:8089/blob.bin"], capture_output=True,
                       timeout=60)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 0, err
    assert p.stdout == body
    assert "status 200, 200000 body bytes" in err, err


def man_pages(dest):
    base = dest / PREFIX.lstrip("/") / "share/man"
    return [base / "man8/xdpstack.8", base / "man8/xdpstack-ctl.8", base / "man3/libxdpstack.3"]


@pytest.mark.skipif(not shutil.which("man"), reason="man(1) not installed")
def test_man_pages_render_without_warnings(dest):
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0")
    for page in man_pages(dest):
        p = run(["man", "--warnings", "-l", str(page)], env=env)
        text = p.stdout + p.stderr
        assert p.returncode == 0, text
        assert "warning:" not in text.lower(), f"{page.name}:\n{p.stderr}"
        plain = re.sub(r".\x08", "", p.stdout)  # no overstrike (bold, underline)
        assert "NAME" in plain and "DESCRIPTION" in plain, plain[:500]


def daemon_long_options():
    src = (ROOT / "user/app/cli.c").read_text()
    return set(re.findall(r'\{\s*"([a-z0-9-]+)",\s*(?:no|required|optional)_argument', src))


def test_man_page_documents_every_daemon_option(dest):
    page = (ROOT / "docs/man/xdpstack.8").read_text()
    opts = daemon_long_options()
    assert len(opts) > 10
    # roff escapes the dashes: \-\-name
    missing = [o for o in opts if "\\-\\-" + o.replace("-", "\\-") not in page]
    assert not missing, f"options of user/app/cli.c not in xdpstack.8: {missing}"
    # And --help lists them too.
    p = run([str(netns.binary()), "--help"])
    assert p.returncode == 0
    assert not [o for o in opts if f"--{o}" not in p.stdout]


def ctl_commands():
    """The daemon's command table (user/app/ctl*.c), the source of truth."""
    srcs = [f.read_text() for f in sorted((ROOT / "user/app").glob("ctl*.c"))]
    src = next(s for s in srcs if "} commands[] = {" in s)
    table = src[src.index("} commands[] = {"):]
    table = table[:table.index("};")]
    names = re.findall(r'\{\s*"([a-z0-9-]+)",\s*ctl_cmd_', table)
    assert len(names) >= 5, table
    return names


def test_ctl_help_and_man_page_list_every_command(dest):
    ctl = dest / PREFIX.lstrip("/") / "bin/xdpstack-ctl"
    p = run([str(ctl), "--help"])
    assert p.returncode == 0 and p.stderr == ""
    listed = {l.split()[0] for l in p.stdout.split("commands:", 1)[1].splitlines()
              if l.startswith("  ") and not l.startswith("   ")}
    page = (ROOT / "docs/man/xdpstack-ctl.8").read_text()
    for c in ctl_commands():
        assert c in listed, f"xdpstack-ctl --help does not list '{c}':\n{p.stdout}"
        assert re.search(r'^\.B[IR]* "?%s\b' % re.escape(c), page, re.M), \
            f"xdpstack-ctl.8 lacks '{c}'"


def test_uninstall_leaves_nothing(tmp_path):
    d = tmp_path / "stage"
    p = run(["make", "-C", str(ROOT), "-j2", "install", "SYSTEMD_UNIT=1", f"DESTDIR={d}",
             f"PREFIX={PREFIX}"] + make_vars())
    assert p.returncode == 0, p.stderr[-2000:]
    unit = d / "usr/lib/systemd/system/xdpstack@.service"
    assert unit.is_file() and "/usr/bin/xdpstack" in unit.read_text()
    p = run(["make", "-C", str(ROOT), "uninstall", f"DESTDIR={d}", f"PREFIX={PREFIX}"]
            + make_vars())
    assert p.returncode == 0, p.stderr
    left = [str(f.relative_to(d)) for f in d.rglob("*") if not f.is_dir()]
    assert not left, left


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze missing")
def test_systemd_unit_verifies(dest, tmp_path):
    # verify wants the ExecStart binary where the unit says: point it at the staged copy.
    unit = (ROOT / "docs/xdpstack@.service").read_text()
    staged = tmp_path / "xdpstack@.service"
    staged.write_text(unit.replace("/usr/local/bin/", f"{dest}{PREFIX}/bin/"))
    inst = tmp_path / "xdpstack@veth0.service"
    os.symlink(staged, inst)
    p = run(["systemd-analyze", "verify", "--man=no", str(inst)])
    problems = [l for l in (p.stdout + p.stderr).splitlines()
                if "xdpstack" in l and l.strip()]
    assert p.returncode == 0 and not problems, p.stdout + p.stderr
