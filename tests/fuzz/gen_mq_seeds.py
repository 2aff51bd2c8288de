#!/usr/bin/python3
"""Writes the seeds of fuzz_mq under tests/fuzz/corpus/mq/: one input per owner
rule of the multi-queue group (a queue byte, then a frame whose source MAC is
odd, so the target fixes its checksums). Run from the repository root; the
output is deterministic."""
import os
import struct

OUT = "tests/fuzz/corpus/mq"
OUR_MAC = bytes([2, 0, 0, 0, 0, 1])
PEER_MAC = bytes([0x52, 0x54, 0, 0x12, 0x34, 0x57])  # odd: checksums fixed
OUR = bytes([10, 0, 0, 1])
PEER = bytes([10, 0, 0, 2])


def ip4(proto, payload, src=PEER, dst=OUR, frag=0):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, frag, 64, proto, 0,
                       src, dst) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 1) + payload


def tcp(sport, dport, seq, ack, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)


def icmp(typ, code, rest, data):
    return struct.pack("!BBHI", typ, code, 0, rest) + data


def eth(typ, payload, dst=OUR_MAC):
    return dst + PEER_MAC + struct.pack("!H", typ) + payload


def arp(op, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, PEER_MAC, PEER, bytes(6), tpa)


OUR6 = bytes([0xfd] + [0] * 14 + [1])
PEER6 = bytes([0xfd] + [0] * 14 + [2])
PEER6_LL = bytes([0xfe, 0x80] + [0] * 13 + [2])
SN6 = bytes([0xff, 2] + [0] * 9 + [1, 0xff, 0, 0, 1])  # fd00::1's solicited-node group


def ip6(nh, payload, src=PEER6, dst=OUR6, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim, src, dst) + payload


def icmp6(typ, code, rest, data):
    return struct.pack("!BBHI", typ, code, 0, rest) + data


def ns6(target):  # with a source link-layer option
    return icmp6(135, 0, 0, target + bytes([1, 1]) + PEER_MAC)


# 32769 % 3 == 0: ports 32769, 32770, 32771 are queues 0, 1, 2's.
seeds = {
    "udp_to_q1_on_q0": b"\0" + eth(0x0800, ip4(17, udp(5000, 32770, b"hello"))),
    "udp_to_q2_on_q1": b"\1" + eth(0x0800, ip4(17, udp(5000, 32771, b"x" * 100))),
    "udp_service_on_q2": b"\2" + eth(0x0800, ip4(17, udp(5000, 7, b"echo"))),
    "echo_reply_id4_on_q0": b"\0" + eth(0x0800, ip4(1, icmp(0, 0, 4 << 16 | 1, b"ping"))),
    "echo_request_on_q1": b"\1" + eth(0x0800, ip4(1, icmp(8, 0, 9 << 16 | 1, b"ping"))),
    "port_unreach_quoting_q2": b"\0" + eth(0x0800, ip4(1, icmp(
        3, 3, 0, ip4(17, udp(32771, 53, b"q"), src=OUR, dst=PEER)[:28]))),
    "time_exceeded_quoting_ping_q2": b"\1" + eth(0x0800, ip4(1, icmp(
        11, 0, 0, ip4(1, icmp(8, 0, 5 << 16 | 1, b"abcd"), src=OUR, dst=PEER)[:28]))),
    "tcp_ack_no_conn_on_q1": b"\1" + eth(0x0800, ip4(6, tcp(40000, 80, 1000, 2000, 0x10))),
    "tcp_rst_no_conn_on_q0": b"\0" + eth(0x0800, ip4(6, tcp(40000, 80, 1000, 0, 0x04))),
    "tcp_syn_on_q2": b"\2" + eth(0x0800, ip4(6, tcp(40001, 80, 1000, 0, 0x02))),
    "tcp_syn_to_q1_port_on_q0": b"\0" + eth(0x0800, ip4(6, tcp(40002, 32770, 1, 0, 0x02))),
    "tcp_ack_to_q0_port_on_q2": b"\2" + eth(0x0800, ip4(6, tcp(40003, 32769, 1, 1, 0x10))),
    "first_fragment_to_q1_on_q0": b"\0" + eth(0x0800, ip4(17, udp(5000, 32770, b"y" * 24)[:24],
                                                          frag=0x2000)),
    "arp_request_on_q1": b"\1" + eth(0x0806, arp(1, OUR) + bytes(18), dst=b"\xff" * 6),
    "arp_reply_on_q2": b"\2" + eth(0x0806, arp(2, OUR) + bytes(18)),
    "udp6_to_q1_on_q0": b"\0" + eth(0x86dd, ip6(17, udp(5000, 32770, b"hello6"))),
    "echo6_reply_id5_on_q0": b"\0" + eth(0x86dd, ip6(58, icmp6(129, 0, 5 << 16 | 1, b"p6"))),
    "tcp6_ack_no_conn_on_q1": b"\1" + eth(0x86dd, ip6(6, tcp(40000, 80, 1000, 2000, 0x10))),
    "ptb6_quoting_q2": b"\0" + eth(0x86dd, ip6(58, icmp6(
        2, 0, 1280, ip6(17, udp(32771, 53, b"q" * 8), src=OUR6, dst=PEER6)))),
    "ns6_on_q1": b"\1" + eth(0x86dd, ip6(58, ns6(OUR6), dst=SN6, hlim=255),
                              dst=bytes([0x33, 0x33, 0xff, 0, 0, 1])),
    "ns6_not_ours_on_q0": b"\0" + eth(0x86dd, ip6(58, ns6(PEER6), hlim=255)),
    "ns6_atomic_frag_on_q2": b"\2" + eth(0x86dd, ip6(44, struct.pack("!BBHI", 58, 0, 0, 7) +
                                                    ns6(OUR6), hlim=255)),
    "mld6_query_on_q2": b"\2" + eth(0x86dd, ip6(58, icmp6(130, 0, 1000 << 16, bytes(20)),
                                               src=PEER6_LL, hlim=1)),
}
os.makedirs(OUT, exist_ok=True)
for k, v in seeds.items():
    with open(os.path.join(OUT, k), "wb") as f:
        f.write(v)
