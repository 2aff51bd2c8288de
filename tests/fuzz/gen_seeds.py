#!/usr/bin/python3
"""Writes the seed inputs of the fuzz targets added with it (eth_arp, ip4,
icmp, udp, frag, ctl) under tests/fuzz/corpus/NAME/: small valid inputs, one
per case each parser or path should reach. Run from the repository root;
the output is deterministic, so rerunning it changes nothing."""
import os
import struct

OUT = "tests/fuzz/corpus"
OUR_MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_MAC = bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56])
OUR = bytes([10, 0, 0, 1])
PEER = bytes([10, 0, 0, 2])
SRC = bytes([172, 17, 0, 2])   # the wire targets' pseudo-header addresses
DST = bytes([172, 17, 0, 253])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(proto, payload, src=PEER, dst=OUR, opts=b"", ident=1, frag=0, total=None):
    hl = 20 + len(opts)
    tl = total if total is not None else hl + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, tl, ident, frag, 64, proto, 0,
                    src, dst) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(sport, dport, payload, src=PEER, dst=OUR, zero=False):
    n = 8 + len(payload)
    h = struct.pack("!HHHH", sport, dport, n, 0) + payload
    if zero:
        return h
    c = csum(src + dst + struct.pack("!BBH", 0, 17, n) + h) or 0xffff
    return h[:6] + struct.pack("!H", c) + h[8:]


def icmp(typ, code, rest, data):
    h = struct.pack("!BBHI", typ, code, 0, rest) + data
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


def tcp_hdr(sport, dport, seq, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)


def eth(typ, payload, dst=OUR_MAC, tags=()):
    b = dst + PEER_MAC
    for tpid, vid in tags:
        b += struct.pack("!HH", tpid, vid)
    return b + struct.pack("!H", typ) + payload


def write(name, seeds):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)


RR = bytes([7, 11, 4]) + bytes(8) + b"\0"        # record route, 2 slots, EOL
TS = bytes([68, 12, 5, 0]) + bytes(8)             # timestamp, 2 slots
NOPS = bytes([1, 1, 1, 0])

req = arp(1, PEER_MAC, PEER, bytes(6), OUR)
write("eth_arp", {
    "arp_request": eth(0x0806, req + bytes(18), dst=b"\xff" * 6),
    "arp_reply": eth(0x0806, arp(2, PEER_MAC, PEER, OUR_MAC, OUR)),
    "arp_vlan": eth(0x0806, req, tags=((0x8100, 42),)),
    "arp_qinq": eth(0x0806, req, tags=((0x88a8, 100), (0x8100, 42))),
    "three_tags": eth(0x0806, req, tags=((0x88a8, 1), (0x8100, 2), (0x8100, 3))),
    "ipv4": eth(0x0800, ip4(17, udp(5000, 7, b"hello"))),
    "arp_bad_op": eth(0x0806, arp(3, PEER_MAC, PEER, bytes(6), OUR)),
})

write("ip4", {
    "udp": ip4(17, udp(5000, 7, b"hello")),
    "record_route": ip4(17, udp(5000, 7, b"hi"), opts=RR),
    "timestamp_nops": ip4(1, icmp(8, 0, 0x12340001, b"ping"), opts=TS + NOPS),
    "max_options": ip4(6, tcp_hdr(1, 2, 3, 2), opts=bytes([1] * 39 + [0])),
    "first_fragment": ip4(17, bytes(16), frag=0x2000, ident=77),
    "last_fragment": ip4(17, bytes(5), frag=2, ident=77),
    "padded": ip4(17, udp(5000, 7, b"x")) + bytes(18),
    "df": ip4(17, udp(5000, 7, b"df"), frag=0x4000),
})

udp_quote = ip4(17, udp(40000, 53, b"query"), src=OUR, dst=PEER)[:28]
tcp_quote = ip4(6, tcp_hdr(40000, 80, 1000, 2), src=OUR, dst=PEER, opts=RR)[:44]
echo_quote = ip4(1, icmp(8, 0, 0x00070003, bytes(56)), src=OUR, dst=PEER)[:28]
write("icmp", {
    "echo_request": icmp(8, 0, 0x12340001, bytes(range(56))),
    "echo_reply": icmp(0, 0, 0x12340001, bytes(56)),
    "port_unreach_udp": icmp(3, 3, 0, udp_quote),
    "frag_needed_tcp_options": icmp(3, 4, 1400, tcp_quote),
    "time_exceeded_echo": icmp(11, 0, 0, echo_quote),
    "param_problem_short": icmp(12, 0, 0x14000000, udp_quote[:24]),
    "header_only": icmp(8, 0, 0, b""),
})

write("udp", {
    "dns": udp(40000, 53, b"\x12\x34\x01\x00\x00\x01" + bytes(6) + b"\x03www\x00\x00\x01\x00\x01",
               src=SRC, dst=DST),
    "empty": udp(1, 2, b"", src=SRC, dst=DST),
    "no_checksum": udp(5000, 7, b"zero", src=SRC, dst=DST, zero=True),
    "trailing": udp(5000, 7, b"abc", src=SRC, dst=DST) + b"pad",
    "odd_length": udp(5000, 7, b"odd", src=SRC, dst=DST),
})


def frag(dg, off, length, mf=False, src2=False, proto=0, raw=None, opts=b"", t=0, ulen=0,
         df=False):
    """One fuzz_frag record (see the format atop tests/fuzz/fuzz_frag.c)."""
    assert len(opts) % 4 == 0 and len(opts) <= 40
    ctl = dg | (4 if mf else 0) | (8 if src2 else 0) | proto << 4 | \
        (0x40 if raw is not None else 0) | (0x80 if df else 0)
    rec = struct.pack("!BHHBH", ctl, off, length, len(opts) // 4 | t << 4, ulen) + opts
    return rec + (raw or b"")


write("frag", {
    # 1000-byte UDP datagram in two fragments, in order and reversed
    "udp_two": frag(0, 0, 512, mf=True, ulen=1000) + frag(0, 64, 488),
    "udp_reversed": frag(1, 64, 488) + frag(1, 0, 512, mf=True, ulen=1000),
    "udp_four_options": frag(2, 0, 8, mf=True, ulen=32, opts=RR) +
    frag(2, 2, 8, mf=True, opts=TS) + frag(2, 1, 8, mf=True, opts=NOPS) + frag(2, 3, 8),
    "tcp_two": frag(2, 0, 24, mf=True, proto=2) + frag(2, 3, 8, proto=2),
    "two_sources": frag(0, 0, 16, mf=True, ulen=24) + frag(0, 0, 16, mf=True, ulen=24,
                                                           src2=True) +
    frag(0, 2, 8, src2=True) + frag(0, 2, 8),
    "overlap": frag(3, 0, 64, mf=True, ulen=100) + frag(3, 4, 64, mf=True) + frag(3, 8, 36),
    "duplicate": frag(0, 0, 64, mf=True, ulen=72) + frag(0, 0, 64, mf=True, ulen=72) +
    frag(0, 8, 8),
    "timeout": frag(1, 0, 64, mf=True, ulen=128) + frag(1, 8, 64, t=15),
    "slots_full": b"".join(frag(d, 0, 64, mf=True, ulen=100, src2=s) for s in (False, True)
                           for d in range(4)) + frag(0, 8, 36),
    "bytes_full": b"".join(frag(d, o * 180, 1440, mf=True) for d in range(4)
                           for o in range(5)),
    "icmp_unknown_proto": frag(0, 0, 64, mf=True, proto=1) + frag(0, 8, 8, proto=1) +
    frag(1, 0, 64, mf=True, proto=3) + frag(1, 8, 8, proto=3),
    "tcp_tiny": frag(2, 0, 16, mf=True, proto=2) + frag(2, 1, 16, mf=True, proto=2) +
    frag(2, 2, 8, proto=2),
    "raw_udp": frag(0, 0, 16, mf=True, raw=udp(6000, 7, bytes(24), zero=True)[:16]) +
    frag(0, 2, 16, raw=bytes(16)),
    "too_big": frag(3, 8100, 1000, mf=True) + frag(3, 8180, 500),
    "last_then_more": frag(0, 4, 8) + frag(0, 8, 8, mf=True) + frag(0, 0, 32, mf=True, ulen=40),
})

# fuzz_rx: frames whose source MAC has its low bit set get their checksums
# fixed by the target; these do not need it, but keep the bit for mutations.
RX_MAC = bytes([0x52, 0x54, 0, 0x12, 0x34, 0x57])
rx_quote = ip4(17, udp(4000, 53, b"q" * 12, src=OUR, dst=PEER), src=OUR, dst=PEER)
write("rx", {
    "icmp_port_unreach_connected_udp": OUR_MAC + RX_MAC + b"\x08\x00" +
    ip4(1, icmp(3, 3, 0, rx_quote)),
    "icmp_frag_needed_connected_udp": OUR_MAC + RX_MAC + b"\x08\x00" +
    ip4(1, icmp(3, 4, 1400, rx_quote[:28])),
})

write("ctl", {
    "addr": b"addr\n",
    "addr_json": b"--json addr show\n",
    "arp": b"arp\n--json arp\narp flush\n--json arp flush\narp show\n",
    "route": b"route add 10.1.0.0/16 via 10.0.0.254\nroute add default via 10.0.0.254\n"
             b"route\n--json route show\nroute del 10.1.0.0/16\nroute del default\n"
             b"route add 11.0.0.0/8 via 10.9.9.9\n",
    "stats": b"stats\n--json stats\n",
    "help": b"help\n",
    "conns": b"conns\n--json conns\n",
    "ping": b"ping 10.0.0.2 -c 2 -s 100 -i 0.5 -W 1\n",
    "ping_stop_json": b"--json ping 10.0.0.2 -i0.2\nstop\n",
    "ping_unknown_host": b"ping 10.0.0.77 -c 1 -W 0.5\nping 10.0.0.1\nping 224.0.0.1\n",
    "connect": b"connect 10.0.0.2 80 -w 1\nhello\n",
    "connect_bad": b"connect 10.0.0.2\nconnect 10.0.0.2 0\n--json connect 10.0.0.2 1\n",
    "usage": b"\n--json\nbogus arg\naddr extra\n" + b"a " * 17 + b"\n",
    "resolve": b"resolve www.a.test\n--json resolve www.a.test\n--json resolve 10.0.0.2\n"
               b"resolve nx.test\n--json resolve nx.test\nresolve 1.2.3\nresolve a..b\n"
               b"resolve\nping www.a.test -c 1\nping nothing.test -c 1\n"
               b"--json ping other.test -i0.2\nstop\nconnect peer.test 80\n",
})
