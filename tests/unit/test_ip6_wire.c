/* Unit tests of the IPv6 wire layer: the header, the extension-header walk and
 * its limits, ICMPv6 and its quote, NDP messages and options (scapy vectors). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <xdpstack/stats.h>

#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"
#include "wire/ndp.h"

/* scapy 2.5: IPv6 fe80::1 -> ff02::1:ff00:fd, hop 255, NS target fd00::fd, SLL 52:54:00:12:34:56 */
static const uint8_t ns_pkt[72] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0xfd, 0x87, 0x00,
    0xf5, 0x65, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x01, 0x01, 0x52, 0x54, 0x00, 0x12,
    0x34, 0x56,
};

/* scapy 2.5: RA fe80::1 -> ff02::1, hop limit 64, lifetime 1800, reachable 30000,
 * retrans 1000, SLL, MTU 1400, prefix 2001:db8:1::/64 LA valid 86400 preferred 14400 */
static const uint8_t ra_pkt[104] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x40, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0x00,
    0x2e, 0x60, 0x40, 0x08, 0x07, 0x08, 0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x03, 0xe8,
    0x01, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x05, 0x78, 0x03, 0x04, 0x40, 0xc0, 0x00, 0x01, 0x51, 0x80, 0x00, 0x00, 0x38, 0x40,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static struct ip6_addr addr(const char *hex32)
{
	struct ip6_addr a;
	unsigned i, v;

	for (i = 0; i < 16; i++) {
		sscanf(hex32 + 2 * i, "%2x", &v);
		a.b[i] = (uint8_t)v;
	}
	return a;
}

/* --- the header ------------------------------------------------------------- */

static void test_ip6_parse_vector(void **state)
{
	struct ip6_repr r;
	uint8_t padded[80], out[40];

	(void)state;
	memcpy(padded, ns_pkt, sizeof(ns_pkt));
	memset(padded + sizeof(ns_pkt), 0xee, sizeof(padded) - sizeof(ns_pkt));
	assert_int_equal(ip6_parse(padded, sizeof(padded), &r), XS_DROP_NONE);
	assert_int_equal(r.payload_len, 32);
	assert_int_equal(r.next_hdr, IP6_NH_ICMP6);
	assert_int_equal(r.hop_limit, 255);
	assert_memory_equal(r.src.b, ns_pkt + 8, 16);
	assert_memory_equal(r.dst.b, ns_pkt + 24, 16);
	assert_true(ip6_is_solicited_node(&r.dst));
	assert_int_equal(ip6_emit(&r, out, sizeof(out)), 40);
	assert_memory_equal(out, ns_pkt, 40);
	assert_int_equal(ip6_emit(&r, out, 39), 0);
}

static void test_ip6_parse_malformed(void **state)
{
	struct ip6_repr r;
	uint8_t b[72];

	(void)state;
	memcpy(b, ns_pkt, sizeof(b));
	assert_int_equal(ip6_parse(b, 39, &r), XS_DROP_IP6_SHORT);
	b[0] = 0x40;
	assert_int_equal(ip6_parse(b, sizeof(b), &r), XS_DROP_IP6_VERSION);
	b[0] = 0x60;
	assert_int_equal(ip6_parse(b, sizeof(b) - 1, &r), XS_DROP_IP6_LEN);
	st_be16(b + 4, 0xffff);
	assert_int_equal(ip6_parse(b, sizeof(b), &r), XS_DROP_IP6_LEN);
	/* Traffic class and flow label kept. */
	memcpy(b, ns_pkt, sizeof(b));
	st_be32(b, 0x6abcdef1);
	assert_int_equal(ip6_parse(b, sizeof(b), &r), XS_DROP_NONE);
	assert_int_equal(r.tclass, 0xab);
	assert_int_equal(r.flow, 0xcdef1);
}

static void test_ip6_address_helpers(void **state)
{
	struct ip6_addr a = addr("20010db8000000000000000000abcdef"), b, sn;
	uint8_t mac[6];

	(void)state;
	ip6_solicited_node(&a, &sn);
	assert_memory_equal(sn.b, addr("ff0200000000000000000001ffabcdef").b, 16);
	ip6_mcast_mac(&sn, mac);
	assert_memory_equal(mac, "\x33\x33\xff\xab\xcd\xef", 6);
	b = a;
	b.b[8] ^= 0x01; /* bit 71 */
	assert_int_equal(ip6_common_prefix(&a, &b), 71);
	assert_true(ip6_prefix_eq(&a, &b, 71));
	assert_false(ip6_prefix_eq(&a, &b, 72));
	assert_true(ip6_prefix_eq(&a, &b, 0));
	assert_int_equal(ip6_common_prefix(&a, &a), 128);
	ip6_prefix_mask(&b, 33);
	assert_memory_equal(b.b, addr("20010db8000000000000000000000000").b, 16);
	assert_true(ip6_is_linklocal(&(struct ip6_addr){{0xfe, 0xbf}}));
	assert_false(ip6_is_linklocal(&(struct ip6_addr){{0xfe, 0xc0}}));
	assert_true(ip6_is_v4mapped(&(struct ip6_addr){{[10] = 0xff, [11] = 0xff, [15] = 1}}));
}

/* --- the extension-header walk ---------------------------------------------- */

/* A packet of 40 + n bytes with next header nh and ext at 40. */
static size_t mk_pkt(uint8_t *b, uint8_t nh, const uint8_t *ext, size_t n, bool mcast)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	st_be16(b + 4, (uint16_t)n);
	b[6] = nh;
	b[7] = 64;
	b[8] = 0xfe;
	b[9] = 0x80;
	b[23] = 1;
	b[24] = mcast ? 0xff : 0xfd;
	b[25] = mcast ? 0x02 : 0;
	b[39] = 0xfd;
	memcpy(b + 40, ext, n);
	return 40 + n;
}

static void test_walk_plain_and_options(void **state)
{
	/* HBH: Router Alert, PadN(2); DST: Pad1 x2, unknown 00-type option,
	 * PadN(0); then UDP with 8 bytes. */
	static const uint8_t ext[] = {
	    IP6_NH_DSTOPTS, 0, 5, 2, 0, 0, 1, 0,
	    IP6_NH_UDP, 0, 0, 0, 0x1e, 0, 1, 0,
	    0x12, 0x34, 0x00, 0x35, 0, 8, 0, 0,
	};
	uint8_t b[128];
	struct ip6_walk w;
	size_t n = mk_pkt(b, IP6_NH_HOPOPTS, ext, sizeof(ext), false);

	(void)state;
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_NONE);
	assert_int_equal(w.proto, IP6_NH_UDP);
	assert_int_equal(w.l4_off, 56);
	assert_int_equal(w.nh_off, 48);
	assert_int_equal(w.nexts, 2);
	assert_false(w.atomic);
	/* No extension headers at all. */
	n = mk_pkt(b, IP6_NH_TCP, ext + 16, 8, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_NONE);
	assert_int_equal(w.proto, IP6_NH_TCP);
	assert_int_equal(w.l4_off, 40);
	assert_int_equal(w.nh_off, 6);
}

static void test_walk_order_and_limits(void **state)
{
	uint8_t b[1200], ext[1100];
	struct ip6_walk w;
	size_t n;

	(void)state;
	/* Hop-by-hop after a Destination Options header: code 1 at the byte
	 * that named it (RFC 8200 4.3). */
	memset(ext, 0, sizeof(ext));
	ext[0] = IP6_NH_HOPOPTS; /* DST -> HBH */
	ext[8] = IP6_NH_UDP;
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_EXT_ORDER);
	assert_int_equal(w.icmp_code, 1);
	assert_int_equal(w.icmp_ptr, 40);
	/* Three Destination Options headers: a chain made to be walked. */
	ext[0] = IP6_NH_DSTOPTS;
	ext[8] = IP6_NH_DSTOPTS;
	ext[16] = IP6_NH_UDP;
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 32, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_EXT_ORDER);
	assert_int_equal(w.icmp_code, IP6_NO_ICMP);
	/* Two are fine. */
	ext[8] = IP6_NH_UDP;
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_NONE);
	/* A header past the packet, a length past the packet. */
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 1, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_EXT_BAD);
	ext[1] = 3; /* 32 bytes */
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_EXT_BAD);
	/* 520 bytes of one header: past IP6_EXT_BYTES_MAX. */
	memset(ext, 0, sizeof(ext));
	ext[0] = IP6_NH_UDP;
	ext[1] = 64; /* (64 + 1) * 8 = 520 */
	for (unsigned i = 2; i < 520; i += 7) {
		ext[i] = 1; /* PadN of 5: 7 bytes of padding, no more */
		ext[i + 1] = i + 7 <= 520 ? 5 : (uint8_t)(520 - i - 2);
	}
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 528, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_EXT_LIMIT);
}

static void test_walk_option_rules(void **state)
{
	uint8_t b[256], ext[64];
	struct ip6_walk w;
	size_t n;

	(void)state;
	memset(ext, 0, sizeof(ext));
	ext[0] = IP6_NH_UDP;
	ext[1] = 1; /* 16 bytes */
	/* Eight Pad1: more than 7 bytes of padding in a row. */
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_EXT_BAD);
	/* An option running past the header. */
	ext[2] = 0x1e;
	ext[3] = 20;
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_EXT_BAD);
	/* Action 01: discard silently. */
	ext[2] = 0x5e;
	ext[3] = 12;
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_OPT_UNKNOWN);
	assert_int_equal(w.icmp_code, IP6_NO_ICMP);
	/* 10: Parameter Problem code 2 at the option, even to multicast. */
	ext[2] = 0x9e;
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_OPT_UNKNOWN);
	assert_int_equal(w.icmp_code, 2);
	assert_int_equal(w.icmp_ptr, 42);
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, true);
	assert_int_equal(ip6_walk(b, n, true, &w), XS_DROP_IP6_OPT_UNKNOWN);
	assert_int_equal(w.icmp_code, 2);
	/* 11: only when not to multicast. */
	ext[2] = 0xde;
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, true);
	assert_int_equal(ip6_walk(b, n, true, &w), XS_DROP_IP6_OPT_UNKNOWN);
	assert_int_equal(w.icmp_code, IP6_NO_ICMP);
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 24, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_OPT_UNKNOWN);
	assert_int_equal(w.icmp_code, 2);
	/* Nine options of type 00 with no data: past IP6_OPTS_MAX. */
	memset(ext + 2, 0, 62);
	ext[1] = 2; /* 24 bytes: 9 x 2-byte options + PadN(2) */
	for (unsigned i = 0; i < 9; i++)
		ext[2 + 2 * i] = 0x1e;
	ext[20] = 1;
	ext[21] = 2;
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 32, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_EXT_LIMIT);
	ext[18] = 1; /* the ninth becomes padding */
	ext[19] = 0;
	n = mk_pkt(b, IP6_NH_DSTOPTS, ext, 32, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_NONE);
}

static void test_walk_routing_and_fragment(void **state)
{
	uint8_t b[256], ext[64];
	struct ip6_walk w;
	size_t n;

	(void)state;
	memset(ext, 0, sizeof(ext));
	/* Routing type 0 with a segment left: code 0 at the routing type. */
	ext[0] = IP6_NH_UDP;
	ext[1] = 2;
	ext[2] = 0;
	ext[3] = 1;
	n = mk_pkt(b, IP6_NH_ROUTING, ext, 32, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_IP6_ROUTING);
	assert_int_equal(w.icmp_code, 0);
	assert_int_equal(w.icmp_ptr, 42);
	/* Segments left 0: ignored. */
	ext[3] = 0;
	n = mk_pkt(b, IP6_NH_ROUTING, ext, 32, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_NONE);
	assert_int_equal(w.proto, IP6_NH_UDP);
	/* A fragment: the walk stops there. */
	memset(ext, 0, sizeof(ext));
	ext[0] = IP6_NH_UDP;
	st_be16(ext + 2, 1448 | 1);
	st_be32(ext + 4, 0xdeadbeef);
	n = mk_pkt(b, IP6_NH_FRAGMENT, ext, 16, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_NONE);
	assert_int_equal(w.proto, IP6_NH_FRAGMENT);
	assert_int_equal(w.l4_off, 40);
	assert_int_equal(w.frag.offset, 1448);
	assert_true(w.frag.more);
	assert_int_equal(w.frag.id, 0xdeadbeef);
	assert_int_equal(w.frag.next_hdr, IP6_NH_UDP);
	/* An atomic fragment (RFC 6946): processed whole. */
	st_be16(ext + 2, 0);
	n = mk_pkt(b, IP6_NH_FRAGMENT, ext, 16, false);
	assert_int_equal(ip6_walk(b, n, false, &w), XS_DROP_NONE);
	assert_int_equal(w.proto, IP6_NH_UDP);
	assert_int_equal(w.l4_off, 48);
	assert_true(w.atomic);
	/* Emit gives the same bytes. */
	{
		struct ip6_frag f = {.next_hdr = IP6_NH_UDP, .offset = 1448, .more = true,
				     .id = 0xdeadbeef};
		uint8_t out[8];

		assert_int_equal(ip6_frag_emit(&f, out, sizeof(out)), 8);
		st_be16(ext + 2, 1448 | 1);
		assert_memory_equal(out, ext, 8);
	}
}

/* --- ICMPv6 ------------------------------------------------------------------- */

static void test_icmp6_checksum_and_quote(void **state)
{
	struct ip6_repr ip;
	struct icmp6_repr m, e;
	struct icmp6_quote q;
	uint8_t b[72], out[200], quoted[64];
	size_t n;

	(void)state;
	assert_int_equal(ip6_parse(ns_pkt, sizeof(ns_pkt), &ip), XS_DROP_NONE);
	assert_int_equal(icmp6_parse(ns_pkt + 40, 32, &ip.src, &ip.dst, &m), XS_DROP_NONE);
	assert_int_equal(m.type, ICMP6_ND_NS);
	assert_int_equal(m.data_len, 24);
	/* One bit off: the checksum sees it, and a wrong pseudo header too. */
	memcpy(b, ns_pkt, sizeof(b));
	b[70] ^= 1;
	assert_int_equal(icmp6_parse(b + 40, 32, &ip.src, &ip.dst, &m), XS_DROP_ICMP6_CSUM);
	assert_int_equal(icmp6_parse(ns_pkt + 40, 32, &ip.dst, &ip.src, &m), XS_DROP_NONE);
	ip.dst.b[15] ^= 1;
	assert_int_equal(icmp6_parse(ns_pkt + 40, 32, &ip.src, &ip.dst, &m), XS_DROP_ICMP6_CSUM);
	ip.dst.b[15] ^= 1;
	assert_int_equal(icmp6_parse(ns_pkt + 40, 7, &ip.src, &ip.dst, &m), XS_DROP_ICMP6_SHORT);
	/* An error quoting a UDP packet behind a Destination Options header. */
	memset(quoted, 0, sizeof(quoted));
	n = mk_pkt(quoted, IP6_NH_DSTOPTS,
		   (const uint8_t[]){IP6_NH_UDP, 0, 1, 4, 0, 0, 0, 0, 0x04, 0x00, 0x00, 0x35, 0,
				     8, 0, 0},
		   16, false);
	e = (struct icmp6_repr){.type = ICMP6_DST_UNREACH, .code = 4, .data = quoted,
				.data_len = n};
	n = icmp6_emit(&e, &ip.src, &ip.dst, out, sizeof(out));
	assert_int_equal(n, 8 + 56);
	assert_int_equal(icmp6_parse(out, n, &ip.src, &ip.dst, &m), XS_DROP_NONE);
	assert_int_equal(icmp6_quote_parse(m.data, m.data_len, &q), XS_DROP_NONE);
	assert_int_equal(q.proto, IP6_NH_UDP);
	assert_int_equal(ld_be16(q.l4), 1024);
	assert_int_equal(ld_be16(q.l4 + 2), 53);
	assert_int_equal(q.dst.b[15], 0xfd);
	/* Cut before 8 bytes of UDP, or not IPv6: nothing to go on. */
	assert_int_equal(icmp6_quote_parse(m.data, 55, &q), XS_DROP_ICMP6_ERR_BAD);
	quoted[0] = 0x45;
	assert_int_equal(icmp6_quote_parse(quoted, 56, &q), XS_DROP_ICMP6_ERR_BAD);
	/* A non-first fragment holds no transport header. */
	n = mk_pkt(quoted, IP6_NH_FRAGMENT,
		   (const uint8_t[]){IP6_NH_UDP, 0, 0x05, 0xa8, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8},
		   16, false);
	assert_int_equal(icmp6_quote_parse(quoted, n, &q), XS_DROP_ICMP6_ERR_BAD);
	quoted[42] = 0; /* offset 0, M: a first fragment */
	quoted[43] = 1;
	assert_int_equal(icmp6_quote_parse(quoted, n, &q), XS_DROP_NONE);
}

/* --- NDP ---------------------------------------------------------------------- */

static enum xs_drop nd_parse_pkt(const uint8_t *p, size_t n, struct ndp_repr *r)
{
	struct ip6_repr ip;
	struct icmp6_repr m;
	enum xs_drop d = ip6_parse(p, n, &ip);

	if (d)
		return d;
	d = icmp6_parse(p + 40, ip.payload_len, &ip.src, &ip.dst, &m);
	if (d)
		return d;
	return ndp_parse(&m, ip.hop_limit, &ip.src, &ip.dst, r);
}

/* Rewrites the ICMPv6 checksum after an edit. */
static void fix(uint8_t *p)
{
	struct ip6_addr s, d;

	memcpy(s.b, p + 8, 16);
	memcpy(d.b, p + 24, 16);
	icmp6_set_csum(p + 40, ld_be16(p + 4), &s, &d);
}

static void test_ndp_ns_vector_and_rules(void **state)
{
	struct ndp_repr r, r2;
	struct ip6_addr s, d;
	uint8_t b[128], out[128];
	size_t n;

	(void)state;
	assert_int_equal(nd_parse_pkt(ns_pkt, sizeof(ns_pkt), &r), XS_DROP_NONE);
	assert_int_equal(r.type, ICMP6_ND_NS);
	assert_memory_equal(r.target.b, addr("fd0000000000000000000000000000fd").b, 16);
	assert_true(r.has_sll);
	assert_memory_equal(r.sll, peer_mac, 6);
	/* Emit makes scapy's bytes. */
	memcpy(s.b, ns_pkt + 8, 16);
	memcpy(d.b, ns_pkt + 24, 16);
	n = ndp_emit(&r, &s, &d, out, sizeof(out));
	assert_int_equal(n, 32);
	assert_memory_equal(out, ns_pkt + 40, 32);
	/* Hop limit 254: from off the link. */
	memcpy(b, ns_pkt, sizeof(ns_pkt));
	b[7] = 254;
	assert_int_equal(nd_parse_pkt(b, sizeof(ns_pkt), &r), XS_DROP_ND_HOP_LIMIT);
	/* Code 1, a multicast target. */
	memcpy(b, ns_pkt, sizeof(ns_pkt));
	b[41] = 1;
	fix(b);
	assert_int_equal(nd_parse_pkt(b, sizeof(ns_pkt), &r), XS_DROP_ND_BAD);
	memcpy(b, ns_pkt, sizeof(ns_pkt));
	b[48] = 0xff;
	fix(b);
	assert_int_equal(nd_parse_pkt(b, sizeof(ns_pkt), &r), XS_DROP_ND_BAD);
	/* An option of length 0, or running past the end. */
	memcpy(b, ns_pkt, sizeof(ns_pkt));
	b[65] = 0;
	fix(b);
	assert_int_equal(nd_parse_pkt(b, sizeof(ns_pkt), &r), XS_DROP_ND_OPT);
	b[65] = 2;
	fix(b);
	assert_int_equal(nd_parse_pkt(b, sizeof(ns_pkt), &r), XS_DROP_ND_OPT);
	/* A link-layer option of 16 bytes is not Ethernet's. */
	memcpy(b, ns_pkt, sizeof(ns_pkt));
	memset(b + 72, 0, 8);
	b[65] = 2;
	st_be16(b + 4, 40);
	fix(b);
	assert_int_equal(nd_parse_pkt(b, 80, &r), XS_DROP_ND_OPT);
	/* DAD: from ::, no SLL allowed, only to a solicited-node group. */
	memcpy(b, ns_pkt, sizeof(ns_pkt));
	memset(b + 8, 0, 16);
	fix(b);
	assert_int_equal(nd_parse_pkt(b, sizeof(ns_pkt), &r), XS_DROP_ND_SRC);
	st_be16(b + 4, 24);
	fix(b);
	assert_int_equal(nd_parse_pkt(b, 64, &r), XS_DROP_NONE);
	assert_false(r.has_sll);
	memcpy(b + 24, addr("fd0000000000000000000000000000fd").b, 16);
	fix(b);
	assert_int_equal(nd_parse_pkt(b, 64, &r), XS_DROP_ND_SRC);
	/* Unknown options are skipped; a second SLL is not taken. */
	memcpy(b, ns_pkt, sizeof(ns_pkt));
	memcpy(b + 72, "\x0e\x01\x01\x02\x03\x04\x05\x06\x01\x01\xaa\xbb\xcc\xdd\xee\xff", 16);
	st_be16(b + 4, 48);
	fix(b);
	assert_int_equal(nd_parse_pkt(b, 88, &r2), XS_DROP_NONE);
	assert_memory_equal(r2.sll, peer_mac, 6);
}

static void test_ndp_na_rules(void **state)
{
	struct ndp_repr r = {.type = ICMP6_ND_NA, .flags = NDP_NA_SOLICITED | NDP_NA_OVERRIDE,
			     .has_tll = true},
			r2;
	struct ip6_addr src = addr("fd000000000000000000000000000002"),
			dst = addr("fd0000000000000000000000000000fd");
	uint8_t b[128];
	size_t n;

	(void)state;
	r.target = src;
	memcpy(r.tll, peer_mac, 6);
	n = mk_pkt(b, IP6_NH_ICMP6, (const uint8_t[32]){0}, 32, false);
	memcpy(b + 8, src.b, 16);
	memcpy(b + 24, dst.b, 16);
	b[7] = 255;
	assert_int_equal(ndp_emit(&r, &src, &dst, b + 40, 32), 32);
	assert_int_equal(nd_parse_pkt(b, n, &r2), XS_DROP_NONE);
	assert_int_equal(r2.flags, NDP_NA_SOLICITED | NDP_NA_OVERRIDE);
	assert_true(r2.has_tll);
	assert_false(r2.has_sll);
	assert_memory_equal(r2.tll, peer_mac, 6);
	assert_memory_equal(r2.target.b, src.b, 16);
	/* Solicited to a multicast address: invalid (RFC 4861 7.1.2). */
	memcpy(b + 24, ip6_all_nodes.b, 16);
	fix(b);
	assert_int_equal(nd_parse_pkt(b, n, &r2), XS_DROP_ND_BAD);
	b[44] = NDP_NA_OVERRIDE;
	fix(b);
	assert_int_equal(nd_parse_pkt(b, n, &r2), XS_DROP_NONE);
	/* Too short for the target. */
	st_be16(b + 4, 20);
	fix(b);
	assert_int_equal(nd_parse_pkt(b, 60, &r2), XS_DROP_ND_BAD);
}

static void test_ndp_ra_vector(void **state)
{
	struct ndp_repr r, r2;
	struct ip6_addr s, d;
	uint8_t b[256], out[128];
	size_t n;

	(void)state;
	assert_int_equal(nd_parse_pkt(ra_pkt, sizeof(ra_pkt), &r), XS_DROP_NONE);
	assert_int_equal(r.type, ICMP6_ND_RA);
	assert_int_equal(r.cur_hop_limit, 64);
	assert_int_equal(r.router_lifetime, 1800);
	assert_int_equal(r.reachable_ms, 30000);
	assert_int_equal(r.retrans_ms, 1000);
	assert_true(r.has_sll);
	assert_true(r.has_mtu);
	assert_int_equal(r.mtu, 1400);
	assert_int_equal(r.nprefix, 1);
	assert_int_equal(r.prefix[0].plen, 64);
	assert_int_equal(r.prefix[0].flags, NDP_PFX_ONLINK | NDP_PFX_AUTO);
	assert_int_equal(r.prefix[0].valid, 86400);
	assert_int_equal(r.prefix[0].preferred, 14400);
	assert_memory_equal(r.prefix[0].prefix.b, addr("20010db8000100000000000000000000").b, 16);
	/* Round trip (scapy's preference bits are not kept, so bytes differ there). */
	memcpy(s.b, ra_pkt + 8, 16);
	memcpy(d.b, ra_pkt + 24, 16);
	n = ndp_emit(&r, &s, &d, out, sizeof(out));
	assert_int_equal(n, 64);
	memcpy(b, ra_pkt, 40);
	memcpy(b + 40, out, n);
	assert_int_equal(nd_parse_pkt(b, 40 + n, &r2), XS_DROP_NONE);
	assert_memory_equal(&r2, &r, sizeof(r));
	/* From a global address: not a router on this link. */
	memcpy(b, ra_pkt, sizeof(ra_pkt));
	b[8] = 0x20;
	fix(b);
	assert_int_equal(nd_parse_pkt(b, sizeof(ra_pkt), &r), XS_DROP_ND_SRC);
	/* A prefix option of the wrong length. */
	memcpy(b, ra_pkt, sizeof(ra_pkt));
	b[73] = 3;
	fix(b);
	assert_int_equal(nd_parse_pkt(b, sizeof(ra_pkt), &r), XS_DROP_ND_OPT);
	/* Five prefixes: four kept, five seen. */
	memcpy(b, ra_pkt, 72);
	r2.nprefix = 0;
	for (int i = 0; i < 5; i++) {
		memcpy(b + 72 + 32 * i, ra_pkt + 72, 32);
		b[72 + 32 * i + 21] = (uint8_t)i;
	}
	st_be16(b + 4, 32 + 160);
	fix(b);
	assert_int_equal(nd_parse_pkt(b, 40 + 32 + 160, &r), XS_DROP_NONE);
	assert_int_equal(r.nprefix, 4);
	assert_int_equal(r.nprefix_seen, 5);
	assert_int_equal(r.prefix[3].prefix.b[5], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ip6_parse_vector),
	    cmocka_unit_test(test_ip6_parse_malformed),
	    cmocka_unit_test(test_ip6_address_helpers),
	    cmocka_unit_test(test_walk_plain_and_options),
	    cmocka_unit_test(test_walk_order_and_limits),
	    cmocka_unit_test(test_walk_option_rules),
	    cmocka_unit_test(test_walk_routing_and_fragment),
	    cmocka_unit_test(test_icmp6_checksum_and_quote),
	    cmocka_unit_test(test_ndp_ns_vector_and_rules),
	    cmocka_unit_test(test_ndp_na_rules),
	    cmocka_unit_test(test_ndp_ra_vector),
	};

	return cmocka_run_group_tests_name("ip6_wire", tests, NULL, NULL);
}
