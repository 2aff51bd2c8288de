/* Unit tests of user/wire/: checksums against RFC 1071 vectors, emit/parse round
 * trips, captured frames, and tables of malformed headers with their drop reasons. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <xdpstack/stats.h>

#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ip4.h"
#include "wire/udp.h"

/* --- captured-style vectors (generated once with scapy 2.5, checksums by scapy) --- */

/* Ethernet 52:54:00:12:34:56 -> 02:00:00:00:00:01, IPv4 10.0.0.2 -> 10.0.0.1,
 * id 0x1c46, DF, TTL 64, IP csum 0x0a61; ICMP echo request id 0x1234 seq 1,
 * 56 bytes of Linux ping data, ICMP csum 0x7676. */
static const uint8_t icmp_echo_frame[98] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x54, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x0a, 0x61, 0x0a, 0x00,
    0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x08, 0x00, 0x76, 0x76, 0x12, 0x34, 0x00, 0x01,
    0x5e, 0x8c, 0x1a, 0x66, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x8f, 0x0b, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
    0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
    0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
};

/* Same hosts, IPv4 id 0xbeef, TTL 64, IP csum 0xa7ce; UDP 5353 -> 7,
 * "hello, xdpstack!\n", UDP csum 0xc3e9; one byte of Ethernet padding (60). */
static const uint8_t udp_frame[60] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00, 0x45,
    0x00, 0x00, 0x2d, 0xbe, 0xef, 0x00, 0x00, 0x40, 0x11, 0xa7, 0xce, 0x0a, 0x00, 0x00, 0x02,
    0x0a, 0x00, 0x00, 0x01, 0x14, 0xe9, 0x00, 0x07, 0x00, 0x19, 0xc3, 0xe9, 0x68, 0x65, 0x6c,
    0x6c, 0x6f, 0x2c, 0x20, 0x78, 0x64, 0x70, 0x73, 0x74, 0x61, 0x63, 0x6b, 0x21, 0x0a, 0x00,
};

/* ARP request, who-has 10.0.0.1 tell 10.0.0.2 (52:54:00:12:34:56), broadcast. */
static const uint8_t arp_req_frame[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01,
};

/* UDP 10.0.0.1:7 -> 10.0.0.2:5353, "xdpstack\x16\x33": the checksum computes to
 * zero and is sent as 0xffff (scapy does the same). */
static const uint8_t udp_zero_csum[18] = {
    0x00, 0x07, 0x14, 0xe9, 0x00, 0x12, 0xff, 0xff, 0x78,
    0x64, 0x70, 0x73, 0x74, 0x61, 0x63, 0x6b, 0x16, 0x33,
};

#define IP_A 0x0a000001u /* 10.0.0.1 */
#define IP_B 0x0a000002u /* 10.0.0.2 */

static const uint8_t mac_ours[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mac_peer[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* Fails with both reasons named and the case that produced them. */
static void check_drop(enum xs_drop got, enum xs_drop want, const char *what, long i)
{
	if (got != want)
		fail_msg("%s [%ld]: got %s, want %s", what, i, xs_drop_name(got),
			 xs_drop_name(want));
}

/* Straightforward RFC 1071 reference: sum of big-endian 16-bit words. */
static uint16_t ref_sum(const uint8_t *b, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void fill_pattern(uint8_t *b, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

/* --- checksums ------------------------------------------------------------- */

static void test_csum_rfc1071_example(void **state)
{
	/* RFC 1071 section 3 numerical example. */
	static const uint8_t v[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint32_t s = csum_add(0, v, sizeof(v));

	assert_int_equal(csum_fold(s), (uint16_t)~0xddf2);
	assert_int_equal(csum_fold(s), 0x220d);
	/* Byte-order independence: the sum of the swapped pairs is the swapped sum. */
	{
		uint8_t w[8];
		int i;

		for (i = 0; i < 8; i += 2) {
			w[i] = v[i + 1];
			w[i + 1] = v[i];
		}
		assert_int_equal(csum_fold(csum_add(0, w, 8)), (uint16_t)~0xf2dd);
	}
}

static void test_csum_odd_lengths(void **state)
{
	static const uint8_t v7[7] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6};
	static const uint8_t one[1] = {0xab};

	/* The last odd byte is padded with a zero on the right (values from Python). */
	assert_int_equal(csum_fold(csum_add(0, v7, 7)), 0x2304);
	assert_int_equal(csum_fold(csum_add(0, one, 1)), (uint16_t)~0xab00);
	assert_int_equal(csum_fold(csum_add(0, one, 0)), 0xffff);
	assert_int_equal(csum_fold(0), 0xffff);
}

static void test_csum_ip_header_vector(void **state)
{
	/* The classic IPv4 header example: checksum 0xb861. */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	assert_int_equal(csum_fold(csum_add(0, h, 20)), 0xb861);
	st_be16(h + 10, 0xb861);
	assert_int_equal(csum_fold(csum_add(0, h, 20)), 0);
}

static void test_csum_matches_reference(void **state)
{
	static uint8_t buf[600];
	size_t n, a;

	/* Every length up to 300 at every alignment (the 8-byte loop and the tails). */
	fill_pattern(buf, sizeof(buf), 1);
	for (a = 0; a < 8; a++) {
		for (n = 0; n <= 300; n++) {
			uint16_t want = (uint16_t)~ref_sum(buf + a, n);

			if (csum_fold(csum_add(0, buf + a, n)) != want)
				fail_msg("align %zu len %zu", a, n);
		}
	}
}

static void test_csum_incremental(void **state)
{
	static uint8_t buf[257];
	size_t n, k, j;

	fill_pattern(buf, sizeof(buf), 7);
	for (n = 0; n <= sizeof(buf); n++) {
		uint16_t whole = csum_fold(csum_add(0, buf, n));

		/* Any even first piece, then the rest (odd lengths only last). */
		for (k = 0; k <= n; k += 2) {
			uint32_t s = csum_add(0, buf, k);

			if (csum_fold(csum_add(s, buf + k, n - k)) != whole)
				fail_msg("len %zu split %zu", n, k);
		}
		/* Three pieces. */
		for (k = 0; k <= n; k += 6) {
			for (j = k; j <= n; j += 4) {
				uint32_t s = csum_add(csum_add(0, buf, k), buf + k, j - k);

				if (csum_fold(csum_add(s, buf + j, n - j)) != whole)
					fail_msg("len %zu splits %zu %zu", n, k, j);
			}
		}
	}
}

static void test_csum_large_and_carries(void **state)
{
	static uint8_t ff[65536];
	uint32_t s;

	memset(ff, 0xff, sizeof(ff));
	/* All ones sums to 0xffff (negative zero): checksum 0. */
	assert_int_equal(csum_fold(csum_add(0, ff, sizeof(ff))), 0);
	assert_int_equal(csum_fold(csum_add(0, ff, 65535)), (uint16_t)~ref_sum(ff, 65535));
	/* A large starting sum keeps its end-around carries. */
	s = csum_add(0xfffffu, ff, 2);
	assert_int_equal(
	    csum_fold(s),
	    (uint16_t)~ref_sum((const uint8_t[]){0x00, 0x0f, 0xff, 0xff, 0xff, 0xff}, 6));
}

static void test_csum_pseudo4(void **state)
{
	uint8_t ph[12];

	/* Against the pseudo header written out byte by byte. */
	st_be32(ph, 0xc0a80001);
	st_be32(ph + 4, 0xc0a800c7);
	ph[8] = 0;
	ph[9] = IP4_PROTO_UDP;
	st_be16(ph + 10, 0x005f);
	assert_int_equal(csum_fold(csum_pseudo4(0xc0a80001, 0xc0a800c7, IP4_PROTO_UDP, 0x5f)),
			 csum_fold(csum_add(0, ph, sizeof(ph))));
	assert_int_equal(csum_fold(csum_pseudo4(0xffffffff, 0xffffffff, 0xff, 0xffff)),
			 (uint16_t)~ref_sum((const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
							      0xff, 0xff, 0x00, 0xff, 0xff, 0xff},
					    12));
}

/* --- Ethernet --------------------------------------------------------------- */

static void test_eth_parse_untagged(void **state)
{
	struct eth_repr e;

	assert_int_equal(eth_parse(icmp_echo_frame, sizeof(icmp_echo_frame), &e), XS_DROP_NONE);
	assert_memory_equal(e.dst, mac_ours, 6);
	assert_memory_equal(e.src, mac_peer, 6);
	assert_int_equal(e.type, ETH_TYPE_IP4);
	assert_int_equal(e.vlan, 0);
	assert_int_equal(e.ntags, 0);
	assert_int_equal(e.hdr_len, 14);
	/* Exactly a header is enough. */
	assert_int_equal(eth_parse(arp_req_frame, 14, &e), XS_DROP_NONE);
	assert_int_equal(e.type, ETH_TYPE_ARP);
	assert_true(eth_is_multicast(e.dst));
	assert_false(eth_is_multicast(e.src));
}

/* Builds dst, src, then ntags tags (tpids[i], vids[i] with PCP 7), then type. */
static size_t eth_tagged(uint8_t *b, int ntags, const uint16_t *tpids, const uint16_t *vids,
			 uint16_t type)
{
	size_t off = 12;
	int i;

	memcpy(b, mac_ours, 6);
	memcpy(b + 6, mac_peer, 6);
	for (i = 0; i < ntags; i++) {
		st_be16(b + off, tpids[i]);
		st_be16(b + off + 2, (uint16_t)(0xe000 | vids[i]));
		off += 4;
	}
	st_be16(b + off, type);
	memset(b + off + 2, 0x5a, 46);
	return off + 2 + 46;
}

static void test_eth_parse_vlan(void **state)
{
	static const uint16_t q[3] = {ETH_TYPE_VLAN, ETH_TYPE_VLAN, ETH_TYPE_VLAN};
	static const uint16_t ad[3] = {ETH_TYPE_QINQ, ETH_TYPE_VLAN, ETH_TYPE_VLAN};
	static const uint16_t vids[3] = {100, 0xfff, 7};
	uint8_t b[128];
	struct eth_repr e;
	size_t n, i;

	/* One 802.1Q tag: the VID without the PCP bits. */
	n = eth_tagged(b, 1, q, vids, ETH_TYPE_IP4);
	assert_int_equal(eth_parse(b, n, &e), XS_DROP_NONE);
	assert_int_equal(e.ntags, 1);
	assert_int_equal(e.vlan, 100);
	assert_int_equal(e.type, ETH_TYPE_IP4);
	assert_int_equal(e.hdr_len, 18);
	assert_int_equal(eth_parse(b, 18, &e), XS_DROP_NONE);
	for (i = 14; i < 18; i++)
		check_drop(eth_parse(b, i, &e), XS_DROP_ETH_SHORT, "1 tag truncated", (long)i);

	/* 802.1ad outer + 802.1Q inner: the innermost VID. */
	n = eth_tagged(b, 2, ad, vids, ETH_TYPE_ARP);
	assert_int_equal(eth_parse(b, n, &e), XS_DROP_NONE);
	assert_int_equal(e.ntags, 2);
	assert_int_equal(e.vlan, 0xfff);
	assert_int_equal(e.type, ETH_TYPE_ARP);
	assert_int_equal(e.hdr_len, 22);
	for (i = 14; i < 22; i++)
		check_drop(eth_parse(b, i, &e), XS_DROP_ETH_SHORT, "2 tags truncated", (long)i);
	assert_int_equal(eth_parse(b, 22, &e), XS_DROP_NONE);

	/* Two 802.1Q tags are accepted as well. */
	n = eth_tagged(b, 2, q, vids, ETH_TYPE_IP4);
	assert_int_equal(eth_parse(b, n, &e), XS_DROP_NONE);
	assert_int_equal(e.vlan, 0xfff);

	/* A third tag is refused, whatever follows it. */
	n = eth_tagged(b, 3, ad, vids, ETH_TYPE_IP4);
	check_drop(eth_parse(b, n, &e), XS_DROP_ETH_VLAN, "3 tags", 0);
	n = eth_tagged(b, 3, q, vids, ETH_TYPE_IP4);
	check_drop(eth_parse(b, n, &e), XS_DROP_ETH_VLAN, "3 tags 802.1Q", 0);
	check_drop(eth_parse(b, 22, &e), XS_DROP_ETH_VLAN, "3rd tag cut", 22);
}

static void test_eth_truncated(void **state)
{
	struct eth_repr e;
	size_t n;

	for (n = 0; n < ETH_HDR_LEN; n++)
		check_drop(eth_parse(icmp_echo_frame, n, &e), XS_DROP_ETH_SHORT, "eth", (long)n);
}

static void test_eth_emit_roundtrip(void **state)
{
	struct eth_repr in = {.type = ETH_TYPE_IP4}, out;
	uint8_t b[ETH_HDR_LEN];

	memcpy(in.dst, mac_ours, 6);
	memcpy(in.src, mac_peer, 6);
	assert_int_equal(eth_emit(&in, b, sizeof(b)), ETH_HDR_LEN);
	assert_memory_equal(b, icmp_echo_frame, ETH_HDR_LEN);
	assert_int_equal(eth_parse(b, sizeof(b), &out), XS_DROP_NONE);
	assert_memory_equal(out.dst, in.dst, 6);
	assert_memory_equal(out.src, in.src, 6);
	assert_int_equal(out.type, in.type);
	assert_int_equal(eth_emit(&in, b, ETH_HDR_LEN - 1), 0);
	assert_int_equal(eth_emit(&in, b, 0), 0);
}

/* --- ARP -------------------------------------------------------------------- */

static void test_arp_parse_captured(void **state)
{
	static const uint8_t zero[6];
	struct arp_repr a;

	assert_int_equal(arp_parse(arp_req_frame + 14, ARP_LEN, &a), XS_DROP_NONE);
	assert_int_equal(a.op, ARP_OP_REQUEST);
	assert_memory_equal(a.sha, mac_peer, 6);
	assert_int_equal(a.spa, IP_B);
	assert_memory_equal(a.tha, zero, 6);
	assert_int_equal(a.tpa, IP_A);
	/* Ethernet padding after the 28 bytes is ignored. */
	{
		uint8_t padded[46] = {0};

		memcpy(padded, arp_req_frame + 14, ARP_LEN);
		memset(padded + ARP_LEN, 0xee, sizeof(padded) - ARP_LEN);
		assert_int_equal(arp_parse(padded, sizeof(padded), &a), XS_DROP_NONE);
		assert_int_equal(a.tpa, IP_A);
	}
}

static void test_arp_emit_roundtrip(void **state)
{
	struct arp_repr req = {.op = ARP_OP_REQUEST, .spa = IP_B, .tpa = IP_A}, out;
	struct arp_repr rep = {.op = ARP_OP_REPLY, .spa = IP_A, .tpa = IP_B};
	uint8_t b[ARP_LEN + 4];

	memcpy(req.sha, mac_peer, 6);
	assert_int_equal(arp_emit(&req, b, sizeof(b)), ARP_LEN);
	assert_memory_equal(b, arp_req_frame + 14, ARP_LEN);

	memcpy(rep.sha, mac_ours, 6);
	memcpy(rep.tha, mac_peer, 6);
	assert_int_equal(arp_emit(&rep, b, ARP_LEN), ARP_LEN);
	assert_int_equal(arp_parse(b, ARP_LEN, &out), XS_DROP_NONE);
	assert_int_equal(out.op, ARP_OP_REPLY);
	assert_memory_equal(out.sha, mac_ours, 6);
	assert_memory_equal(out.tha, mac_peer, 6);
	assert_int_equal(out.spa, IP_A);
	assert_int_equal(out.tpa, IP_B);
	assert_int_equal(ld_be16(b + 6), 2);

	assert_int_equal(arp_emit(&rep, b, ARP_LEN - 1), 0);
}

static void test_arp_malformed(void **state)
{
	static const struct {
		const char *name;
		size_t off;
		uint8_t val;
		enum xs_drop why;
	} t[] = {
	    {"htype 6 (IEEE 802)", 1, 6, XS_DROP_ARP_FORMAT},
	    {"htype 0x0101", 0, 1, XS_DROP_ARP_FORMAT},
	    {"ptype 0x86dd", 2, 0x86, XS_DROP_ARP_FORMAT},
	    {"ptype 0x0801", 3, 0x01, XS_DROP_ARP_FORMAT},
	    {"hlen 8", 4, 8, XS_DROP_ARP_FORMAT},
	    {"hlen 0", 4, 0, XS_DROP_ARP_FORMAT},
	    {"plen 16", 5, 16, XS_DROP_ARP_FORMAT},
	    {"plen 0", 5, 0, XS_DROP_ARP_FORMAT},
	    {"op 0", 7, 0, XS_DROP_ARP_OP},
	    {"op 3 (RARP)", 7, 3, XS_DROP_ARP_OP},
	    {"op 0x0101", 6, 1, XS_DROP_ARP_OP},
	};
	struct arp_repr a;
	uint8_t b[ARP_LEN];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memcpy(b, arp_req_frame + 14, ARP_LEN);
		b[t[i].off] = t[i].val;
		check_drop(arp_parse(b, ARP_LEN, &a), t[i].why, t[i].name, (long)i);
	}
	/* A wrong format is reported as such even when the rest is missing. */
	memcpy(b, arp_req_frame + 14, ARP_LEN);
	b[1] = 6;
	check_drop(arp_parse(b, 8, &a), XS_DROP_ARP_FORMAT, "format, 8 bytes", 8);
}

static void test_arp_truncated(void **state)
{
	struct arp_repr a;
	size_t n;

	for (n = 0; n < ARP_LEN; n++)
		check_drop(arp_parse(arp_req_frame + 14, n, &a), XS_DROP_ARP_SHORT, "arp", (long)n);
}

/* --- IPv4 ------------------------------------------------------------------- */

static const uint8_t *echo_ip = icmp_echo_frame + 14;
#define ECHO_IP_LEN (sizeof(icmp_echo_frame) - 14)

static void test_ip4_parse_captured(void **state)
{
	struct ip4_repr ip;

	assert_int_equal(ip4_parse(echo_ip, ECHO_IP_LEN, &ip), XS_DROP_NONE);
	assert_int_equal(ip.hdr_len, 20);
	assert_int_equal(ip.tos, 0);
	assert_int_equal(ip.total_len, 84);
	assert_int_equal(ip.id, 0x1c46);
	assert_int_equal(ip.frag, IP4_FLAG_DF);
	assert_false(ip4_is_fragment(&ip));
	assert_int_equal(ip.ttl, 64);
	assert_int_equal(ip.proto, IP4_PROTO_ICMP);
	assert_int_equal(ip.src, IP_B);
	assert_int_equal(ip.dst, IP_A);
	assert_int_equal(ip4_payload_len(&ip), 64);

	/* Ethernet padding after total_len is allowed. */
	assert_int_equal(ip4_parse(udp_frame + 14, sizeof(udp_frame) - 14, &ip), XS_DROP_NONE);
	assert_int_equal(ip.total_len, 45);
	assert_int_equal(ip.proto, IP4_PROTO_UDP);
	assert_int_equal(ip.id, 0xbeef);
	assert_int_equal(ip4_payload_len(&ip), 25);
}

static void test_ip4_emit_roundtrip(void **state)
{
	struct ip4_repr in = {
	    .tos = 0,
	    .total_len = 84,
	    .id = 0x1c46,
	    .frag = IP4_FLAG_DF,
	    .ttl = 64,
	    .proto = IP4_PROTO_ICMP,
	    .src = IP_B,
	    .dst = IP_A,
	};
	struct ip4_repr out;
	uint8_t b[IP4_HDR_LEN + 64];

	/* Emitting the captured header's fields gives the captured bytes. */
	memset(b, 0, sizeof(b));
	in.hdr_len = 60; /* ignored */
	assert_int_equal(ip4_emit(&in, b, IP4_HDR_LEN), IP4_HDR_LEN);
	assert_memory_equal(b, echo_ip, IP4_HDR_LEN);
	assert_int_equal(ip4_parse(b, sizeof(b), &out), XS_DROP_NONE);
	assert_int_equal(out.hdr_len, 20);
	assert_int_equal(out.total_len, 84);
	assert_int_equal(out.id, in.id);
	assert_int_equal(out.frag, in.frag);

	/* Every field through a round trip. */
	in = (struct ip4_repr){.tos = 0xb8,
			       .total_len = 21,
			       .id = 0xffff,
			       .frag = IP4_FLAG_MF | 0x1234,
			       .ttl = 1,
			       .proto = 0xfe,
			       .src = 0xfffffffe,
			       .dst = 0x01020304};
	assert_int_equal(ip4_emit(&in, b, sizeof(b)), IP4_HDR_LEN);
	assert_int_equal(ip4_parse(b, 21, &out), XS_DROP_NONE);
	assert_int_equal(out.tos, 0xb8);
	assert_int_equal(out.total_len, 21);
	assert_int_equal(out.id, 0xffff);
	assert_int_equal(out.frag, IP4_FLAG_MF | 0x1234);
	assert_true(ip4_is_fragment(&out));
	assert_int_equal(out.ttl, 1);
	assert_int_equal(out.proto, 0xfe);
	assert_int_equal(out.src, 0xfffffffe);
	assert_int_equal(out.dst, 0x01020304);

	assert_int_equal(ip4_emit(&in, b, IP4_HDR_LEN - 1), 0);
}

static void test_ip4_truncated(void **state)
{
	struct ip4_repr ip;
	size_t n;

	for (n = 0; n < IP4_HDR_LEN; n++)
		check_drop(ip4_parse(echo_ip, n, &ip), XS_DROP_IP_SHORT, "ip4", (long)n);
	/* A whole header but less than total_len. */
	for (n = IP4_HDR_LEN; n < 84; n++)
		check_drop(ip4_parse(echo_ip, n, &ip), XS_DROP_IP_TOTAL_LEN, "ip4 total", (long)n);
}

/* Recomputes the IPv4 header checksum over ihl bytes. */
static void ip_fix_csum(uint8_t *b, size_t ihl)
{
	st_be16(b + 10, 0);
	st_be16(b + 10, csum_fold(csum_add(0, b, ihl)));
}

static void test_ip4_version(void **state)
{
	static const uint8_t versions[] = {0, 1, 5, 6, 15};
	struct ip4_repr ip;
	uint8_t b[ECHO_IP_LEN];
	size_t i;

	for (i = 0; i < sizeof(versions); i++) {
		memcpy(b, echo_ip, sizeof(b));
		b[0] = (uint8_t)(versions[i] << 4 | 5);
		ip_fix_csum(b, 20);
		check_drop(ip4_parse(b, sizeof(b), &ip), XS_DROP_IP_VERSION, "version",
			   versions[i]);
	}
	/* An IPv6 header behind EtherType 0x0800. */
	memset(b, 0, sizeof(b));
	b[0] = 0x60;
	check_drop(ip4_parse(b, 40, &ip), XS_DROP_IP_VERSION, "ipv6 header", 6);
}

static void test_ip4_header_length(void **state)
{
	struct ip4_repr ip;
	uint8_t b[128];
	unsigned ihl;
	size_t n;

	/* IHL below 5. */
	for (ihl = 0; ihl < 5; ihl++) {
		memcpy(b, echo_ip, ECHO_IP_LEN);
		b[0] = (uint8_t)(0x40 | ihl);
		ip_fix_csum(b, 20);
		check_drop(ip4_parse(b, ECHO_IP_LEN, &ip), XS_DROP_IP_HDR_LEN, "ihl < 5", ihl);
	}
	/* IHL beyond the buffer: 15 (60 bytes) against 20..59 bytes. */
	for (n = IP4_HDR_LEN; n < 60; n++) {
		memcpy(b, echo_ip, ECHO_IP_LEN);
		b[0] = 0x4f;
		check_drop(ip4_parse(b, n, &ip), XS_DROP_IP_HDR_LEN, "ihl 15 beyond", (long)n);
	}
	/* IHL 6 against 20..23 bytes. */
	for (n = IP4_HDR_LEN; n < 24; n++) {
		memcpy(b, echo_ip, ECHO_IP_LEN);
		b[0] = 0x46;
		check_drop(ip4_parse(b, n, &ip), XS_DROP_IP_HDR_LEN, "ihl 6 beyond", (long)n);
	}
	/* A valid header with 4 bytes of options (IHL 6). */
	memcpy(b, echo_ip, IP4_HDR_LEN);
	b[0] = 0x46;
	st_be16(b + 2, 28);
	memcpy(b + 20, (const uint8_t[]){0x01, 0x01, 0x01, 0x00}, 4); /* NOP NOP NOP EOL */
	memset(b + 24, 0xab, 4);
	ip_fix_csum(b, 24);
	assert_int_equal(ip4_parse(b, 28, &ip), XS_DROP_NONE);
	assert_int_equal(ip.hdr_len, 24);
	assert_int_equal(ip4_payload_len(&ip), 4);
	/* IHL 15 with total length 60: all header, no payload. */
	memcpy(b, echo_ip, IP4_HDR_LEN);
	b[0] = 0x4f;
	st_be16(b + 2, 60);
	memset(b + 20, 0x01, 40);
	ip_fix_csum(b, 60);
	assert_int_equal(ip4_parse(b, 60, &ip), XS_DROP_NONE);
	assert_int_equal(ip4_payload_len(&ip), 0);
}

static void test_ip4_total_length(void **state)
{
	static const struct {
		uint8_t ihl;
		uint16_t total;
		enum xs_drop why;
	} t[] = {
	    {5, 0, XS_DROP_IP_TOTAL_LEN},
	    {5, 1, XS_DROP_IP_TOTAL_LEN},
	    {5, 19, XS_DROP_IP_TOTAL_LEN},
	    {5, 20, XS_DROP_NONE},
	    {5, 84, XS_DROP_NONE},
	    {5, 85, XS_DROP_IP_TOTAL_LEN},
	    {5, 0xffff, XS_DROP_IP_TOTAL_LEN},
	    {6, 20, XS_DROP_IP_TOTAL_LEN},
	    {6, 23, XS_DROP_IP_TOTAL_LEN},
	    {6, 24, XS_DROP_NONE},
	};
	struct ip4_repr ip;
	uint8_t b[ECHO_IP_LEN];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memcpy(b, echo_ip, sizeof(b));
		b[0] = (uint8_t)(0x40 | t[i].ihl);
		st_be16(b + 2, t[i].total);
		ip_fix_csum(b, t[i].ihl * 4u);
		check_drop(ip4_parse(b, sizeof(b), &ip), t[i].why, "total length", t[i].total);
	}
}

static void test_ip4_bad_checksum(void **state)
{
	struct ip4_repr ip;
	uint8_t b[ECHO_IP_LEN];
	size_t i;
	int bit;

	/* Any single-bit error in the header (other than version, IHL and total
	 * length, which are checked first) is a checksum drop. */
	for (i = 1; i < IP4_HDR_LEN; i++) {
		if (i == 2 || i == 3)
			continue;
		for (bit = 0; bit < 8; bit++) {
			memcpy(b, echo_ip, sizeof(b));
			b[i] ^= (uint8_t)(1u << bit);
			check_drop(ip4_parse(b, sizeof(b), &ip), XS_DROP_IP_CSUM, "ip csum byte",
				   (long)(i * 8 + bit));
		}
	}
	/* Payload bytes are not covered. */
	memcpy(b, echo_ip, sizeof(b));
	b[40] ^= 0xff;
	assert_int_equal(ip4_parse(b, sizeof(b), &ip), XS_DROP_NONE);
	/* The checksum covers the options too. */
	{
		uint8_t o[28];

		memcpy(o, echo_ip, IP4_HDR_LEN);
		o[0] = 0x46;
		st_be16(o + 2, 28);
		memset(o + 20, 0x01, 8);
		ip_fix_csum(o, 24);
		assert_int_equal(ip4_parse(o, 28, &ip), XS_DROP_NONE);
		o[22] = 0x00;
		check_drop(ip4_parse(o, 28, &ip), XS_DROP_IP_CSUM, "option byte", 22);
	}
}

static void test_ip4_helpers(void **state)
{
	struct ip4_repr r = {.frag = IP4_FLAG_DF};

	assert_false(ip4_is_fragment(&r));
	r.frag = IP4_FLAG_MF;
	assert_true(ip4_is_fragment(&r));
	r.frag = 1;
	assert_true(ip4_is_fragment(&r));
	r.frag = IP4_FLAG_DF | 0x1fff;
	assert_true(ip4_is_fragment(&r));

	assert_true(ip4_is_martian_src(0));
	assert_true(ip4_is_martian_src(0x00ffffff));
	assert_true(ip4_is_martian_src(0x7f000001));
	assert_true(ip4_is_martian_src(0xe0000001));
	assert_true(ip4_is_martian_src(0xf0000001));
	assert_true(ip4_is_martian_src(0xffffffff));
	assert_false(ip4_is_martian_src(0x01000000));
	assert_false(ip4_is_martian_src(IP_B));
	assert_false(ip4_is_martian_src(0xdfffffff));
}

/* --- ICMP ------------------------------------------------------------------- */

static const uint8_t *echo_icmp = icmp_echo_frame + 34;
#define ECHO_ICMP_LEN (sizeof(icmp_echo_frame) - 34)

static void test_icmp_parse_captured(void **state)
{
	struct icmp_repr m;

	assert_int_equal(icmp_parse(echo_icmp, ECHO_ICMP_LEN, &m), XS_DROP_NONE);
	assert_int_equal(m.type, ICMP_ECHO_REQUEST);
	assert_int_equal(m.code, 0);
	assert_int_equal(m.rest, 0x12340001);
	assert_int_equal(m.data_len, 56);
	assert_ptr_equal(m.data, echo_icmp + 8);
}

static void test_icmp_emit_reply_vector(void **state)
{
	struct icmp_repr m, out;
	uint8_t b[ECHO_ICMP_LEN];

	assert_int_equal(icmp_parse(echo_icmp, ECHO_ICMP_LEN, &m), XS_DROP_NONE);
	m.type = ICMP_ECHO_REPLY;
	assert_int_equal(icmp_emit(&m, b, sizeof(b)), ECHO_ICMP_LEN);
	/* The reply's checksum, from scapy: 0x7e76. */
	assert_int_equal(b[0], 0);
	assert_int_equal(ld_be16(b + 2), 0x7e76);
	assert_memory_equal(b + 4, echo_icmp + 4, ECHO_ICMP_LEN - 4);
	assert_int_equal(icmp_parse(b, sizeof(b), &out), XS_DROP_NONE);
	assert_int_equal(out.type, ICMP_ECHO_REPLY);
	assert_int_equal(out.rest, 0x12340001);
	/* Too small a buffer. */
	assert_int_equal(icmp_emit(&m, b, sizeof(b) - 1), 0);
	assert_int_equal(icmp_emit(&m, b, 0), 0);
}

static void test_icmp_roundtrip_lengths(void **state)
{
	static uint8_t data[1480], b[1500];
	struct icmp_repr in = {.type = ICMP_ECHO_REQUEST, .code = 0, .rest = 0xdeadbeef}, out;
	size_t n;

	fill_pattern(data, sizeof(data), 3);
	for (n = 0; n <= 1472; n += (n < 16 ? 1 : 97)) {
		in.data = data;
		in.data_len = n;
		assert_int_equal(icmp_emit(&in, b, sizeof(b)), ICMP_HDR_LEN + n);
		check_drop(icmp_parse(b, ICMP_HDR_LEN + n, &out), XS_DROP_NONE, "icmp len",
			   (long)n);
		assert_int_equal(out.type, ICMP_ECHO_REQUEST);
		assert_int_equal(out.rest, 0xdeadbeef);
		assert_int_equal(out.data_len, n);
		if (n)
			assert_memory_equal(out.data, data, n);
	}
}

static void test_icmp_malformed(void **state)
{
	struct icmp_repr m;
	uint8_t b[ECHO_ICMP_LEN];
	size_t n, i;

	for (n = 0; n < ICMP_HDR_LEN; n++)
		check_drop(icmp_parse(echo_icmp, n, &m), XS_DROP_ICMP_SHORT, "icmp short", (long)n);
	/* Any byte changed, header or data: checksum. */
	for (i = 0; i < ECHO_ICMP_LEN; i++) {
		memcpy(b, echo_icmp, sizeof(b));
		b[i] ^= 0x10;
		check_drop(icmp_parse(b, sizeof(b), &m), XS_DROP_ICMP_CSUM, "icmp byte", (long)i);
	}
	/* Cut data (the checksum covers it): 8..63 bytes. */
	for (n = ICMP_HDR_LEN; n < ECHO_ICMP_LEN; n++)
		check_drop(icmp_parse(echo_icmp, n, &m), XS_DROP_ICMP_CSUM, "icmp cut", (long)n);
}

/* The quote of an ICMP error: our echo request's IP header (the captured frame
 * read as sent), then with options; each cut below header + 8 bytes fails. */
static void test_icmp_quote(void **state)
{
	struct icmp_quote q;
	uint8_t b[60 + 8];
	size_t n;

	assert_int_equal(icmp_quote_parse(echo_ip, 28, &q), XS_DROP_NONE);
	assert_int_equal(q.hdr_len, 20);
	assert_int_equal(q.proto, IP4_PROTO_ICMP);
	assert_int_equal(q.src, ld_be32(echo_ip + 12));
	assert_int_equal(q.dst, ld_be32(echo_ip + 16));
	assert_ptr_equal(q.l4, echo_ip + 20);
	for (n = 0; n < 28; n++)
		check_drop(icmp_quote_parse(echo_ip, n, &q), XS_DROP_ICMP_ERR_BAD, "quote cut",
			   (long)n);
	/* 40 bytes of options: the transport bytes start at 60. */
	memset(b, 1, sizeof(b));
	memcpy(b, echo_ip, 20);
	b[0] = 0x4f;
	assert_int_equal(icmp_quote_parse(b, sizeof(b), &q), XS_DROP_NONE);
	assert_int_equal(q.hdr_len, 60);
	assert_ptr_equal(q.l4, b + 60);
	check_drop(icmp_quote_parse(b, sizeof(b) - 1, &q), XS_DROP_ICMP_ERR_BAD, "quote opts", 67);
	/* IHL below 5 or another version. */
	for (n = 0; n < 5; n++) {
		b[0] = (uint8_t)(0x40 | n);
		check_drop(icmp_quote_parse(b, sizeof(b), &q), XS_DROP_ICMP_ERR_BAD, "quote ihl",
			   (long)n);
	}
	b[0] = 0x65;
	check_drop(icmp_quote_parse(b, sizeof(b), &q), XS_DROP_ICMP_ERR_BAD, "quote v6", 6);
}

/* --- UDP -------------------------------------------------------------------- */

static const uint8_t *cap_udp = udp_frame + 34;
#define CAP_UDP_LEN 25 /* IP total 45 - 20; the frame's padding byte excluded */

static void test_udp_parse_captured(void **state)
{
	struct udp_repr u;

	assert_int_equal(udp_parse(cap_udp, CAP_UDP_LEN, IP_B, IP_A, &u), XS_DROP_NONE);
	assert_int_equal(u.sport, 5353);
	assert_int_equal(u.dport, 7);
	assert_int_equal(u.payload_len, 17);
	assert_memory_equal(u.payload, "hello, xdpstack!\n", 17);
	/* Trailing bytes past the UDP length are ignored (the padding byte here). */
	assert_int_equal(udp_parse(cap_udp, CAP_UDP_LEN + 1, IP_B, IP_A, &u), XS_DROP_NONE);
	assert_int_equal(u.payload_len, 17);
	/* The pseudo header counts: other addresses fail the checksum (swapping
	 * source and destination does not change a one's complement sum). */
	assert_int_equal(udp_parse(cap_udp, CAP_UDP_LEN, IP_A, IP_B, &u), XS_DROP_NONE);
	check_drop(udp_parse(cap_udp, CAP_UDP_LEN, IP_B + 1, IP_A, &u), XS_DROP_UDP_CSUM, "src", 0);
	check_drop(udp_parse(cap_udp, CAP_UDP_LEN, IP_B, IP_A + 1, &u), XS_DROP_UDP_CSUM, "dst", 0);
}

static void test_udp_emit_vector(void **state)
{
	struct udp_repr u = {.sport = 5353,
			     .dport = 7,
			     .payload = (const uint8_t *)"hello, xdpstack!\n",
			     .payload_len = 17};
	uint8_t b[64];

	assert_int_equal(udp_emit(&u, IP_B, IP_A, b, sizeof(b)), CAP_UDP_LEN);
	assert_memory_equal(b, cap_udp, CAP_UDP_LEN);
	assert_int_equal(ld_be16(b + 6), 0xc3e9);
	assert_int_equal(udp_emit(&u, IP_B, IP_A, b, CAP_UDP_LEN - 1), 0);
	assert_int_equal(udp_emit(&u, IP_B, IP_A, b, 0), 0);
}

static void test_udp_roundtrip_lengths(void **state)
{
	static uint8_t data[1472], b[1480];
	struct udp_repr in = {.sport = 40000, .dport = 53, .payload = data}, out;
	size_t n;

	fill_pattern(data, sizeof(data), 5);
	for (n = 0; n <= sizeof(data); n += (n < 16 ? 1 : 89)) {
		in.payload_len = n;
		assert_int_equal(udp_emit(&in, IP_A, IP_B, b, sizeof(b)), UDP_HDR_LEN + n);
		assert_int_equal(ld_be16(b + 4), UDP_HDR_LEN + n);
		assert_int_not_equal(ld_be16(b + 6), 0);
		check_drop(udp_parse(b, UDP_HDR_LEN + n, IP_A, IP_B, &out), XS_DROP_NONE, "udp len",
			   (long)n);
		assert_int_equal(out.sport, 40000);
		assert_int_equal(out.dport, 53);
		assert_int_equal(out.payload_len, n);
		if (n)
			assert_memory_equal(out.payload, data, n);
	}
}

static void test_udp_malformed(void **state)
{
	struct udp_repr u;
	uint8_t b[CAP_UDP_LEN + 8];
	size_t n, i;
	unsigned len;

	for (n = 0; n < UDP_HDR_LEN; n++)
		check_drop(udp_parse(cap_udp, n, IP_B, IP_A, &u), XS_DROP_UDP_SHORT, "udp short",
			   (long)n);
	/* Length field below the header. */
	for (len = 0; len < UDP_HDR_LEN; len++) {
		memcpy(b, cap_udp, CAP_UDP_LEN);
		st_be16(b + 4, (uint16_t)len);
		check_drop(udp_parse(b, CAP_UDP_LEN, IP_B, IP_A, &u), XS_DROP_UDP_LEN, "len < 8",
			   len);
	}
	/* Length field beyond the IP payload. */
	for (len = CAP_UDP_LEN + 1; len < CAP_UDP_LEN + 8; len++) {
		memcpy(b, cap_udp, CAP_UDP_LEN);
		st_be16(b + 4, (uint16_t)len);
		check_drop(udp_parse(b, CAP_UDP_LEN, IP_B, IP_A, &u), XS_DROP_UDP_LEN, "len > n",
			   len);
	}
	memcpy(b, cap_udp, CAP_UDP_LEN);
	st_be16(b + 4, 0xffff);
	check_drop(udp_parse(b, CAP_UDP_LEN, IP_B, IP_A, &u), XS_DROP_UDP_LEN, "len 0xffff", 0);
	/* The datagram cut short of its length field. */
	for (n = UDP_HDR_LEN; n < CAP_UDP_LEN; n++)
		check_drop(udp_parse(cap_udp, n, IP_B, IP_A, &u), XS_DROP_UDP_LEN, "udp cut",
			   (long)n);
	/* Any byte changed (except the length, checked above): checksum. */
	for (i = 0; i < CAP_UDP_LEN; i++) {
		if (i == 4 || i == 5)
			continue;
		memcpy(b, cap_udp, CAP_UDP_LEN);
		b[i] ^= 0x01;
		check_drop(udp_parse(b, CAP_UDP_LEN, IP_B, IP_A, &u), XS_DROP_UDP_CSUM, "udp byte",
			   (long)i);
	}
}

static void test_udp_zero_checksum(void **state)
{
	struct udp_repr u;
	uint8_t b[CAP_UDP_LEN];

	/* Zero means "no checksum" on IPv4: accepted even with any payload. */
	memcpy(b, cap_udp, CAP_UDP_LEN);
	st_be16(b + 6, 0);
	b[10] ^= 0xff;
	assert_int_equal(udp_parse(b, CAP_UDP_LEN, IP_B, IP_A, &u), XS_DROP_NONE);
	assert_int_equal(u.payload_len, 17);
	assert_int_equal(u.payload[2], 'l' ^ 0xff);
	/* Even with the wrong addresses. */
	assert_int_equal(udp_parse(b, CAP_UDP_LEN, 1, 2, &u), XS_DROP_NONE);
}

static void test_udp_computed_zero_sent_as_ffff(void **state)
{
	struct udp_repr u = {.sport = 7, .dport = 5353}, out;
	uint8_t data[10], b[32];
	uint16_t c;

	/* The pasted vector: checksum field 0xffff verifies. */
	assert_int_equal(udp_parse(udp_zero_csum, sizeof(udp_zero_csum), IP_A, IP_B, &out),
			 XS_DROP_NONE);
	assert_int_equal(out.payload_len, 10);

	/* Emitting it writes 0xffff, never 0. */
	u.payload = udp_zero_csum + 8;
	u.payload_len = 10;
	assert_int_equal(udp_emit(&u, IP_A, IP_B, b, sizeof(b)), sizeof(udp_zero_csum));
	assert_int_equal(ld_be16(b + 6), 0xffff);
	assert_memory_equal(b, udp_zero_csum, sizeof(udp_zero_csum));

	/* The same built here: the last word set to the checksum of the rest makes
	 * the sum 0xffff, i.e. a computed checksum of zero. */
	memcpy(data, "xdpstack\0\0", 10);
	u.payload = data;
	assert_int_equal(udp_emit(&u, IP_A, IP_B, b, sizeof(b)), 18);
	c = ld_be16(b + 6);
	st_be16(data + 8, c);
	assert_int_equal(udp_emit(&u, IP_A, IP_B, b, sizeof(b)), 18);
	assert_int_equal(ld_be16(b + 6), 0xffff);
	assert_int_equal(udp_parse(b, 18, IP_A, IP_B, &out), XS_DROP_NONE);
}

static void test_udp_emit_too_big(void **state)
{
	static uint8_t data[65536], b[65600];
	struct udp_repr u = {.sport = 1, .dport = 2, .payload = data};

	/* 65527 bytes is the largest UDP payload the length field can describe. */
	u.payload_len = 65527;
	assert_int_equal(udp_emit(&u, IP_A, IP_B, b, sizeof(b)), 65535);
	u.payload_len = 65528;
	assert_int_equal(udp_emit(&u, IP_A, IP_B, b, sizeof(b)), 0);
}

/* --- drop names --------------------------------------------------------------- */

static void test_drop_names(void **state)
{
	int i;

	for (i = 0; i < XS_DROP_MAX; i++) {
		assert_non_null(xs_drop_name((enum xs_drop)i));
		assert_non_null(xs_drop_desc((enum xs_drop)i));
	}
	assert_string_equal(xs_drop_name(XS_DROP_IP_CSUM), "IP_CSUM");
	assert_string_equal(xs_drop_name(XS_DROP_MAX), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csum_rfc1071_example),
	    cmocka_unit_test(test_csum_odd_lengths),
	    cmocka_unit_test(test_csum_ip_header_vector),
	    cmocka_unit_test(test_csum_matches_reference),
	    cmocka_unit_test(test_csum_incremental),
	    cmocka_unit_test(test_csum_large_and_carries),
	    cmocka_unit_test(test_csum_pseudo4),
	    cmocka_unit_test(test_eth_parse_untagged),
	    cmocka_unit_test(test_eth_parse_vlan),
	    cmocka_unit_test(test_eth_truncated),
	    cmocka_unit_test(test_eth_emit_roundtrip),
	    cmocka_unit_test(test_arp_parse_captured),
	    cmocka_unit_test(test_arp_emit_roundtrip),
	    cmocka_unit_test(test_arp_malformed),
	    cmocka_unit_test(test_arp_truncated),
	    cmocka_unit_test(test_ip4_parse_captured),
	    cmocka_unit_test(test_ip4_emit_roundtrip),
	    cmocka_unit_test(test_ip4_truncated),
	    cmocka_unit_test(test_ip4_version),
	    cmocka_unit_test(test_ip4_header_length),
	    cmocka_unit_test(test_ip4_total_length),
	    cmocka_unit_test(test_ip4_bad_checksum),
	    cmocka_unit_test(test_ip4_helpers),
	    cmocka_unit_test(test_icmp_parse_captured),
	    cmocka_unit_test(test_icmp_emit_reply_vector),
	    cmocka_unit_test(test_icmp_roundtrip_lengths),
	    cmocka_unit_test(test_icmp_quote),
	    cmocka_unit_test(test_icmp_malformed),
	    cmocka_unit_test(test_udp_parse_captured),
	    cmocka_unit_test(test_udp_emit_vector),
	    cmocka_unit_test(test_udp_roundtrip_lengths),
	    cmocka_unit_test(test_udp_malformed),
	    cmocka_unit_test(test_udp_zero_checksum),
	    cmocka_unit_test(test_udp_computed_zero_sent_as_ffff),
	    cmocka_unit_test(test_udp_emit_too_big),
	    cmocka_unit_test(test_drop_names),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
