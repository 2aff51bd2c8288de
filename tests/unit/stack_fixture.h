/* Shared helpers of the whole-stack tests: byte builders with an independent
 * checksum, and a fixture (stack over a mem device) that proves at teardown
 * that every frame came home. Header-only, static inline, for tests/unit/. */
#ifndef XS_TEST_STACK_FIXTURE_H
#define XS_TEST_STACK_FIXTURE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>
#include <xdpstack/stats.h>

#include "dev/dev.h"

#define OUR_IP 0x0a000001u   /* 10.0.0.1/24 */
#define PEER_IP 0x0a000002u  /* 10.0.0.2 */
#define PEER2_IP 0x0a000003u /* 10.0.0.3 */
#define OTHER_IP 0x0a000009u /* 10.0.0.9, nobody we know */
#define BCAST_IP 0x0a0000ffu /* 10.0.0.255 */
#define GW_IP 0x0a0000feu    /* 10.0.0.254 */

#define FRAME_MAX 2048
#define ETH_LEN 14
#define IP_LEN 20
#define L4_OFF (ETH_LEN + IP_LEN)
#define MIN_FRAME 60

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t peer2_mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
static const uint8_t gw_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0xfe};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];

/* --- byte helpers and a reference checksum (independent of user/wire) --------- */

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Unfolded RFC 1071 sum of big-endian words; odd tail padded with zero. */
static inline uint32_t sum_add(uint32_t s, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += get16(b + i);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static inline uint16_t sum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The UDP checksum over the pseudo header of the IPv4 header at ip. */
static inline uint16_t udp_csum(const uint8_t *ip, const uint8_t *udp, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	put16(ph + 10, (uint16_t)len);
	return sum_fold(sum_add(sum_add(0, ph, sizeof(ph)), udp, len));
}

static inline void fill_pattern(uint8_t *b, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

/* --- frame builders ---------------------------------------------------------- */

/* Pads to the Ethernet minimum with junk, as some NICs deliver it. */
static inline size_t pad60(uint8_t *b, size_t n)
{
	if (n < MIN_FRAME) {
		memset(b + n, 0xee, MIN_FRAME - n);
		n = MIN_FRAME;
	}
	return n;
}

static inline void mk_eth(uint8_t *b, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	put16(b + 12, type);
}

static inline size_t mk_arp(uint8_t *b, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
			    uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	uint8_t *a = b + ETH_LEN;

	mk_eth(b, eth_dst, sha, 0x0806);
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	return pad60(b, ETH_LEN + 28);
}

static inline void ip_fix_csum(uint8_t *ip)
{
	size_t ihl = (ip[0] & 0x0fu) * 4u;

	put16(ip + 10, 0);
	put16(ip + 10, sum_fold(sum_add(0, ip, ihl)));
}

/* Ethernet + IPv4 header from the peer around l4len bytes already at b + 34. */
static inline size_t mk_ip(uint8_t *b, const uint8_t *eth_dst, uint32_t src, uint32_t dst,
			   uint8_t proto, size_t l4len)
{
	uint8_t *ip = b + ETH_LEN;

	mk_eth(b, eth_dst, peer_mac, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(IP_LEN + l4len));
	put16(ip + 4, 0x4242);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	ip_fix_csum(ip);
	return pad60(b, L4_OFF + l4len);
}

static inline size_t mk_echo(uint8_t *b, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
			     const uint8_t *data, size_t n)
{
	uint8_t *l4 = b + L4_OFF;

	l4[0] = 8;
	l4[1] = 0;
	put16(l4 + 2, 0);
	put16(l4 + 4, id);
	put16(l4 + 6, seq);
	memcpy(l4 + 8, data, n);
	put16(l4 + 2, sum_fold(sum_add(0, l4, 8 + n)));
	return mk_ip(b, our_mac, src, dst, 1, 8 + n);
}

static inline size_t mk_udp(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
			    const void *data, size_t n)
{
	uint8_t *l4 = b + L4_OFF;
	size_t len;

	put16(l4, sport);
	put16(l4 + 2, dport);
	put16(l4 + 4, (uint16_t)(8 + n));
	put16(l4 + 6, 0);
	memcpy(l4 + 8, data, n);
	len = mk_ip(b, our_mac, src, dst, 17, 8 + n);
	put16(l4 + 6, udp_csum(b + ETH_LEN, l4, 8 + n));
	return len;
}

/* --- fixture ------------------------------------------------------------------ */

struct fx {
	struct xs_dev *dev;
	struct xs_stack *st;
	xs_time_t now;
	uint64_t drops[XS_DROP_MAX];
};

static inline void fx_snap(struct fx *fx)
{
	memcpy(fx->drops, xs_stack_stats(fx->st)->drop, sizeof(fx->drops));
}

static inline void fx_poll(struct fx *fx, xs_time_t now)
{
	fx->now = now;
	assert_true(xs_stack_poll(fx->st, now) >= 0);
}

/* buf must hold FRAME_MAX bytes. */
static inline size_t take(struct fx *fx, uint8_t *buf)
{
	return xs_mem_dev_take(fx->dev, buf, FRAME_MAX);
}

static inline void expect_nothing_sent(struct fx *fx, const char *what)
{
	size_t n = xs_mem_dev_pending_tx(fx->dev);

	if (n)
		fail_msg("%s: %zu unexpected frame(s) sent", what, n);
}

/* Exactly count new drops for why since the last snapshot, and no others
 * (except the reason ignore, which is not compared; XS_DROP_NONE: none). */
static inline void expect_drops_ign(struct fx *fx, enum xs_drop why, uint64_t count,
				    enum xs_drop ignore, const char *what)
{
	const struct xs_stats *s = xs_stack_stats(fx->st);
	int i;

	for (i = 0; i < XS_DROP_MAX; i++) {
		uint64_t want = fx->drops[i] + (i == (int)why && why != XS_DROP_NONE ? count : 0);

		if (i == (int)ignore && ignore != XS_DROP_NONE)
			continue;
		if (s->drop[i] != want)
			fail_msg("%s: drop %s = %llu, want %llu", what,
				 xs_drop_name((enum xs_drop)i), (unsigned long long)s->drop[i],
				 (unsigned long long)want);
	}
	fx_snap(fx);
}

static inline void expect_drops(struct fx *fx, enum xs_drop why, uint64_t count, const char *what)
{
	expect_drops_ign(fx, why, count, XS_DROP_NONE, what);
}

static inline void inject(struct fx *fx, const uint8_t *f, size_t len)
{
	assert_int_equal(xs_mem_dev_inject(fx->dev, f, len), 0);
}

/* Checks a gratuitous ARP announcement (RFC 5227: request, spa = tpa = ours). */
static inline void check_garp(const uint8_t *f, size_t len)
{
	const uint8_t *a = f + ETH_LEN;

	assert_int_equal(len, MIN_FRAME);
	assert_memory_equal(f, bcast_mac, 6);
	assert_memory_equal(f + 6, our_mac, 6);
	assert_int_equal(get16(f + 12), 0x0806);
	assert_int_equal(get16(a + 6), 1);
	assert_memory_equal(a + 8, our_mac, 6);
	assert_int_equal(get32(a + 14), OUR_IP);
	assert_memory_equal(a + 18, zero_mac, 6);
	assert_int_equal(get32(a + 24), OUR_IP);
}

/* A stack on a fresh device; warm runs it past the two start-up announcements
 * (t = 0 and t = 1 s), leaving fx->now at 1 s and no frame queued. */
static inline void fx_start(struct fx *fx, const struct xs_config *cfg_in, uint16_t mtu,
			    uint32_t nframes, bool warm)
{
	struct xs_config cfg = {.ip = OUR_IP};
	uint8_t buf[FRAME_MAX];
	size_t n;

	if (cfg_in)
		cfg = *cfg_in;
	fx->dev = xs_mem_dev_new(our_mac, mtu, nframes);
	assert_non_null(fx->dev);
	fx->st = xs_stack_new(&cfg, fx->dev);
	assert_non_null(fx->st);
	fx->now = 0;
	fx_snap(fx);
	if (!warm)
		return;
	fx_poll(fx, 0);
	n = take(fx, buf);
	check_garp(buf, n);
	expect_nothing_sent(fx, "first poll");
	fx_poll(fx, XS_SEC(1));
	n = take(fx, buf);
	check_garp(buf, n);
	expect_nothing_sent(fx, "second announcement");
}

/* Takes what is left, proves every frame came home, frees stack and device. */
static inline void fx_stop(struct fx *fx)
{
	struct xs_dev_frames fr;
	uint8_t buf[FRAME_MAX];

	if (!fx->dev)
		return;
	/* Frames submitted since the last poll leave at a flush. */
	if (fx->st)
		assert_true(xs_stack_poll(fx->st, fx->now) >= 0);
	while (take(fx, buf))
		;
	fx->dev->ops->frames(fx->dev, &fr);
	xs_stack_free(fx->st);
	fx->st = NULL;
	assert_int_equal(fr.fill, 0);
	assert_int_equal(fr.rx_borrowed, 0);
	assert_int_equal(fr.tx_borrowed, 0);
	assert_int_equal(fr.tx_queued, 0);
	assert_int_equal(fr.in_flight, 0);
	assert_int_equal(fr.free, fr.total);
	xs_dev_free(fx->dev);
	fx->dev = NULL;
}

static inline void fx_restart(struct fx *fx, const struct xs_config *cfg, uint16_t mtu,
			      uint32_t nframes, bool warm)
{
	fx_stop(fx);
	fx_start(fx, cfg, mtu, nframes, warm);
}

static inline int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	*state = fx;
	fx_start(fx, NULL, 1500, 64, true);
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *fx = *state;

	fx_stop(fx);
	free(fx);
	return 0;
}

/* The peer asks for our address; the reply is taken so only learning remains. */
static inline void learn_peer(struct fx *fx, const uint8_t *mac, uint32_t ip)
{
	uint8_t f[FRAME_MAX];
	size_t n;

	n = mk_arp(f, bcast_mac, 1, mac, ip, zero_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_equal(take(fx, f), MIN_FRAME);
	assert_int_equal(get16(f + ETH_LEN + 6), 2);
	expect_nothing_sent(fx, "learn_peer");
	fx_snap(fx);
}

/* Checks an IPv4 frame sent by the stack; returns its L4 bytes and length. */
static inline const uint8_t *check_ip_out(const uint8_t *f, size_t len, const uint8_t *dst_mac,
					  uint32_t dst, uint8_t proto, size_t *l4len)
{
	const uint8_t *ip = f + ETH_LEN;
	size_t total, i;

	assert_true(len >= MIN_FRAME);
	assert_memory_equal(f, dst_mac, 6);
	assert_memory_equal(f + 6, our_mac, 6);
	assert_int_equal(get16(f + 12), 0x0800);
	assert_int_equal(ip[0], 0x45);
	total = get16(ip + 2);
	assert_true(total >= IP_LEN);
	/* The frame is the packet, or the packet zero-padded to 60 bytes. */
	assert_int_equal(len, ETH_LEN + total < MIN_FRAME ? MIN_FRAME : ETH_LEN + total);
	for (i = ETH_LEN + total; i < len; i++)
		assert_int_equal(f[i], 0);
	assert_int_equal(sum_fold(sum_add(0, ip, IP_LEN)), 0);
	assert_int_equal(get16(ip + 6) & 0x3fff, 0); /* not a fragment */
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], proto);
	assert_int_equal(get32(ip + 12), OUR_IP);
	assert_int_equal(get32(ip + 16), dst);
	*l4len = total - IP_LEN;
	return ip + IP_LEN;
}

/* Checks a UDP datagram sent by the stack and returns its payload. */
static inline const uint8_t *check_udp_out(const uint8_t *f, size_t len, const uint8_t *dst_mac,
					   uint32_t dst, uint16_t sport, uint16_t dport,
					   size_t *plen)
{
	size_t l4len;
	const uint8_t *u = check_ip_out(f, len, dst_mac, dst, 17, &l4len);

	assert_true(l4len >= 8);
	if (sport)
		assert_int_equal(get16(u), sport);
	assert_int_equal(get16(u + 2), dport);
	assert_int_equal(get16(u + 4), l4len);
	assert_int_not_equal(get16(u + 6), 0);
	assert_int_equal(udp_csum(f + ETH_LEN, u, l4len), 0);
	*plen = l4len - 8;
	return u + 8;
}

/* Checks an ARP request for tpa sent by the stack. */
static inline void check_arp_request(const uint8_t *f, size_t len, uint32_t tpa)
{
	const uint8_t *a = f + ETH_LEN;

	assert_int_equal(len, MIN_FRAME);
	assert_memory_equal(f, bcast_mac, 6);
	assert_memory_equal(f + 6, our_mac, 6);
	assert_int_equal(get16(f + 12), 0x0806);
	assert_int_equal(get16(a), 1);
	assert_int_equal(get16(a + 2), 0x0800);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(get16(a + 6), 1);
	assert_memory_equal(a + 8, our_mac, 6);
	assert_int_equal(get32(a + 14), OUR_IP);
	assert_memory_equal(a + 18, zero_mac, 6);
	assert_int_equal(get32(a + 24), tpa);
}

static inline size_t arp_list(struct fx *fx, struct xs_arp_entry_info *out, size_t max)
{
	return xs_stack_arp_list(fx->st, fx->now, out, max);
}

/* An IPv4 fragment from the peer: ihl bytes of header (NOP options past 20),
 * len bytes of data at byte offset off. */
static inline size_t mk_frag(uint8_t *b, uint32_t src, uint8_t proto, uint16_t id, unsigned ihl,
			     size_t off, bool mf, const uint8_t *data, size_t len)
{
	uint8_t *ip = b + ETH_LEN;

	mk_eth(b, our_mac, peer_mac, 0x0800);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(ihl + len));
	put16(ip + 4, id);
	put16(ip + 6, (uint16_t)(off / 8 | (mf ? 0x2000 : 0)));
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, OUR_IP);
	memset(ip + IP_LEN, 0x01, ihl - IP_LEN);
	ip_fix_csum(ip);
	memcpy(ip + ihl, data, len);
	return pad60(b, ETH_LEN + ihl + len);
}

/* Checks an ICMP error sent by the stack: type, code, and that it quotes the
 * first bytes of the offending IP packet (at most 548, RFC 1812 4.3.2.3). */
static inline void check_icmp_error(const uint8_t *f, size_t len, const uint8_t *dst_mac,
				    uint32_t dst, uint8_t type, uint8_t code, const uint8_t *pkt,
				    size_t pkt_len)
{
	size_t l4len, q = pkt_len < 548 ? pkt_len : 548;
	const uint8_t *m = check_ip_out(f, len, dst_mac, dst, 1, &l4len);

	assert_int_equal(f[ETH_LEN + 1], 0xc0); /* internetwork control, as Linux */
	assert_int_equal(m[0], type);
	assert_int_equal(m[1], code);
	assert_int_equal(sum_fold(sum_add(0, m, l4len)), 0);
	assert_int_equal(l4len, 8 + q);
	assert_memory_equal(m + 8, pkt, q);
}

/* Takes the frames of one fragmented IPv4 packet sent to dst_mac and puts its
 * payload together in out (offsets checked: contiguous, MF on all but the last,
 * one id); returns the payload length. */
static inline size_t take_fragments(struct fx *fx, const uint8_t *dst_mac, uint32_t dst,
				    uint8_t proto, uint8_t *out, size_t cap, unsigned *nfrags)
{
	uint8_t f[FRAME_MAX];
	size_t total = 0, n, l4len;
	int id = -1;

	*nfrags = 0;
	for (;;) {
		const uint8_t *p;
		uint16_t fo;

		n = take(fx, f);
		if (!n)
			fail_msg("fragment %u missing", *nfrags);
		/* check_ip_out insists on "not a fragment"; check by hand. */
		assert_memory_equal(f, dst_mac, 6);
		assert_int_equal(get16(f + 12), 0x0800);
		assert_int_equal(f[ETH_LEN], 0x45);
		assert_int_equal(sum_fold(sum_add(0, f + ETH_LEN, IP_LEN)), 0);
		assert_int_equal(f[ETH_LEN + 9], proto);
		assert_int_equal(get32(f + ETH_LEN + 12), OUR_IP);
		assert_int_equal(get32(f + ETH_LEN + 16), dst);
		assert_true(get16(f + ETH_LEN + 2) <= 1500);
		if (id < 0)
			id = get16(f + ETH_LEN + 4);
		assert_int_equal(get16(f + ETH_LEN + 4), id);
		fo = get16(f + ETH_LEN + 6);
		assert_int_equal((fo & 0x1fff) * 8u, total);
		l4len = get16(f + ETH_LEN + 2) - IP_LEN;
		p = f + L4_OFF;
		assert_true(total + l4len <= cap);
		memcpy(out + total, p, l4len);
		total += l4len;
		(*nfrags)++;
		if (!(fo & 0x2000))
			break;
		assert_int_equal(l4len % 8, 0);
	}
	return total;
}

#endif
