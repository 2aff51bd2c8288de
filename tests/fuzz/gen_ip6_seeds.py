#!/usr/bin/python3
"""Writes the IPv6 seed inputs: tests/fuzz/corpus/ip6/ (IPv6 packets with
extension-header chains, ICMPv6 messages and errors), corpus/ndp/ (the
fuzz_ndp format: a type byte, an address byte, the message after its
checksum) and the IPv6 frames of corpus/rx/ (named ip6_*). Run from the
repository root; the output is deterministic, so rerunning it changes nothing."""
import os
import struct

OUT = "tests/fuzz/corpus"
OUR_MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_MAC = bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56])
OUR = bytes([0xfd] + [0] * 14 + [1])       # fuzz_rx's stack: fd00::1/64
PEER = bytes([0xfd] + [0] * 14 + [2])
PEER_LL = bytes([0xfe, 0x80] + [0] * 13 + [2])
ALL_NODES = bytes([0xff, 2] + [0] * 13 + [1])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def sn(a):
    return bytes([0xff, 2] + [0] * 9 + [1, 0xff]) + a[13:]


def l4sum(src, dst, nh, body, off):
    c = csum(src + dst + struct.pack("!IBBBB", len(body), 0, 0, 0, nh) + body)
    if nh == 17 and c == 0:
        c = 0xffff
    return body[:off] + struct.pack("!H", c) + body[off + 2:]


def icmp6(typ, code, rest, data, src=PEER, dst=OUR):
    body = struct.pack("!BBHI", typ, code, 0, rest) + data
    return l4sum(src, dst, 58, body, 2)


def ip6(nh, payload, src=PEER, dst=OUR, hop=64):
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, hop) + src + dst + payload


def opts_hdr(nh, opts):
    """A Hop-by-Hop or Destination Options header padded to 8 bytes."""
    body = opts
    pad = (-(2 + len(body))) % 8
    if pad == 1:
        body += b"\0"
    elif pad:
        body += bytes([1, pad - 2]) + b"\0" * (pad - 2)
    return bytes([nh, (2 + len(body)) // 8 - 1]) + body


def frag_hdr(nh, off, more, ident):
    return struct.pack("!BBHI", nh, 0, off | (1 if more else 0), ident)


def udp(sport, dport, data, src=PEER, dst=OUR):
    body = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    return l4sum(src, dst, 17, body, 6)


def eth(payload, dst=OUR_MAC, src=PEER_MAC):
    # the lowest bit of the source MAC's last byte asks fuzz_rx to fix checksums
    return dst + src + b"\x86\xdd" + payload


def mcast_mac(a):
    return b"\x33\x33" + a[12:]


def nd_ns(target, src=PEER, sll=True):
    d = target + (b"\x01\x01" + PEER_MAC if sll else b"")
    return icmp6(135, 0, 0, d, src=src, dst=sn(target))


def nd_na(target, flags, dst=OUR, tll=True):
    d = target + (b"\x02\x01" + PEER_MAC if tll else b"")
    return icmp6(136, 0, flags << 24, d, dst=dst)


def ra_body():
    fixed = struct.pack("!BBHII", 64, 0, 1800, 30000, 1000)
    sll = b"\x01\x01" + PEER_MAC
    mtu = struct.pack("!BBHI", 5, 1, 0, 1400)
    pfx = struct.pack("!BBBBII4x", 3, 4, 64, 0xc0, 86400, 14400) + \
        bytes([0x20, 1, 0x0d, 0xb8, 0, 1] + [0] * 10)
    return fixed + sll + mtu + pfx


def write(name, files):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    for fname, data in files.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


def main():
    echo = icmp6(128, 0, 0x12340001, bytes(range(32)))
    quoted = ip6(17, udp(4000, 53, b"query"), src=OUR, dst=PEER)
    ip6_seeds = {
        "echo_request": ip6(58, echo),
        "ns_solicited_node": ip6(58, nd_ns(OUR), dst=sn(OUR), hop=255),
        "na_solicited": ip6(58, nd_na(PEER, 0x60), hop=255),
        "hbh_router_alert_dst_echo": ip6(0, opts_hdr(60, b"\x05\x02\x00\x00") +
                                        opts_hdr(58, b"\x1e\x02ab") + echo),
        "hbh_not_first": ip6(60, opts_hdr(0, b"") + opts_hdr(58, b"") + echo),
        "three_dst_headers": ip6(60, opts_hdr(60, b"") + opts_hdr(60, b"") +
                                 opts_hdr(58, b"") + echo),
        "unknown_option_10": ip6(60, opts_hdr(58, b"\x9e\x02ab") + echo),
        "pad1_run": ip6(60, bytes([58, 1]) + b"\0" * 14 + echo),
        "routing_segments_left": ip6(43, bytes([58, 2, 0, 1]) + b"\0" * 4 + OUR + echo),
        "first_fragment": ip6(44, frag_hdr(58, 0, True, 7) + echo[:24]),
        "atomic_fragment": ip6(44, frag_hdr(58, 0, False, 8) + echo),
        "unknown_next_header": ip6(253, b"\xab" * 16),
        "ptb_quoting_udp": ip6(58, icmp6(2, 0, 1300, quoted)),
        "ptb_below_1280": ip6(58, icmp6(2, 0, 1000, quoted)),
        "param_problem_quoting_dst": ip6(58, icmp6(4, 1, 40, ip6(60, opts_hdr(17, b"") +
                                                              udp(1, 2, b""), src=OUR,
                                                              dst=PEER))),
    }
    # an RA: the ICMPv6 header, then ra_body() (fixed part and options)
    ra_msg = l4sum(PEER_LL, ALL_NODES, 58, bytes([134, 0, 0, 0]) + ra_body(), 2)
    ip6_seeds["ra_prefix_mtu"] = ip6(58, ra_msg, src=PEER_LL, dst=ALL_NODES, hop=255)
    write("ip6", ip6_seeds)

    # fuzz_ndp: [type index | 0x80 hop 254][address bits][message after csum]
    tgt = OUR
    write("ndp", {
        "rs": bytes([0, 2]) + b"\0\0\0\0" + b"\x01\x01" + PEER_MAC,
        "ra_prefix_mtu": bytes([1, 2 | 8]) + ra_body(),
        "ns_with_sll": bytes([2, 4]) + b"\0\0\0\0" + tgt + b"\x01\x01" + PEER_MAC,
        "ns_dad": bytes([2, 1 | 4]) + b"\0\0\0\0" + tgt,
        "na_solicited": bytes([3, 0]) + b"\x60\0\0\0" + tgt + b"\x02\x01" + PEER_MAC,
        "na_unsolicited_all_nodes": bytes([3, 8]) + b"\x20\0\0\0" + tgt,
        "ns_hop_254": bytes([0x82, 4]) + b"\0\0\0\0" + tgt + b"\x01\x01" + PEER_MAC,
        "option_length_zero": bytes([2, 4]) + b"\0\0\0\0" + tgt + b"\x01\x00" + PEER_MAC,
        "option_past_end": bytes([2, 4]) + b"\0\0\0\0" + tgt + b"\x01\x02" + PEER_MAC,
        "unknown_option": bytes([2, 4]) + b"\0\0\0\0" + tgt + b"\x0e\x01" + b"\x01" * 6,
    })

    # fuzz_frag6: records ctl off(2) len(2) xt ulen(2) [payload]
    def rec(ctl, off, ln, xt=0, ulen=0, payload=b""):
        return struct.pack("!BHHBH", ctl, off, ln, xt, ulen) + payload
    fudp, ficmp = 0x00, 0x10
    write("frag6", {
        "udp_two": rec(fudp | 4, 0, 1200, 0, 2000) + rec(fudp, 1200, 800),
        "udp_reversed_behind_dst": rec(fudp, 1200, 800, 2) + rec(fudp | 4, 0, 1200, 2, 2000),
        "icmp_echo_three": rec(ficmp | 4, 0, 1448) + rec(ficmp | 4, 1448, 1448) +
                           rec(ficmp, 2896, 300),
        "overlap": rec(fudp | 4, 0, 1200, 0, 2000) + rec(fudp | 4, 1192, 400) +
                   rec(fudp, 1200, 800),
        "duplicate": rec(fudp | 4, 0, 1200, 0, 2000) + rec(fudp | 4, 0, 1200, 0, 2000) +
                     rec(fudp, 1200, 800),
        "overlap_behind_dst": rec(fudp | 4, 0, 8, 4, 2000) + rec(fudp, 8, 1992),
        "tiny_tcp_first": rec(0x20 | 4, 0, 16) + rec(0x20, 16, 100),
        "odd_length_middle": rec(fudp | 4, 0, 1200, 0, 2000) + rec(fudp | 4, 1200, 401),
        "offset_past_65535": rec(fudp, 65528, 100),
        "timeout_after_first": rec(fudp | 4, 0, 1200, 0, 2000) + rec(fudp, 1200, 800, 0xf0),
        "three_dst_refused": rec(fudp | 4, 0, 1200, 3, 2000) + rec(fudp, 1200, 800, 3),
        "atomic_and_whole": rec(fudp, 0, 100, 0, 100) + rec(0x80 | fudp, 0, 100, 0, 100),
        "two_sources_four_dgrams": b"".join(rec(fudp | 4 | i | (8 if i & 1 else 0), 0, 600, 0,
                                                 1000) for i in range(4)) +
                                   b"".join(rec(fudp | i | (8 if i & 1 else 0), 600, 400)
                                            for i in range(4)),
        "raw_payload": rec(0x40 | fudp | 4, 0, 16, 0, 0, bytes(range(16))) +
                       rec(0x40 | fudp, 16, 16, 0, 0, bytes(range(16))),
    })

    write("rx", {
        "ip6_echo_request": eth(ip6(58, echo)),
        "ip6_ns_for_us": eth(ip6(58, nd_ns(OUR), dst=sn(OUR), hop=255),
                             dst=mcast_mac(sn(OUR))),
        "ip6_ns_dad_for_us": eth(ip6(58, nd_ns(OUR, src=bytes(16), sll=False), src=bytes(16),
                                     dst=sn(OUR), hop=255), dst=mcast_mac(sn(OUR))),
        "ip6_na_unsolicited": eth(ip6(58, nd_na(bytes([0xfd] + [0] * 14 + [9]), 0x60),
                                      hop=255)),
        "ip6_ns_hop_64": eth(ip6(58, nd_ns(OUR), dst=sn(OUR), hop=64), dst=mcast_mac(sn(OUR))),
        "ip6_hbh_not_first": eth(ip6_seeds["hbh_not_first"]),
        "ip6_routing_header": eth(ip6_seeds["routing_segments_left"]),
        "ip6_unknown_next_header": eth(ip6_seeds["unknown_next_header"]),
        "ip6_ptb": eth(ip6_seeds["ptb_quoting_udp"]),
        "ip6_ptb_small": eth(ip6_seeds["ptb_below_1280"]),
        "ip6_fragment": eth(ip6_seeds["first_fragment"]),
        "ip6_atomic_fragment": eth(ip6_seeds["atomic_fragment"]),
        "ip6_udp": eth(ip6(17, udp(4242, 7, b"hello"))),
        "ip6_ra": eth(ip6_seeds["ra_prefix_mtu"], dst=mcast_mac(ALL_NODES)),
    })


if __name__ == "__main__":
    main()
