/* IPv6 on top of the whole-stack fixture (stack_fixture.h): the stack holds
 * fd00::1/64 and its link-local address; the peer is fd00::2 (fe80::2) at
 * peer_mac. Frame builders with an independent checksum, and checks. */
#ifndef XS_TEST_IP6_FIXTURE_H
#define XS_TEST_IP6_FIXTURE_H

#include "stack_fixture.h"

#define IP6_LEN 40
#define L4_6 (ETH_LEN + IP6_LEN)

static const uint8_t our6[16] = {0xfd, [15] = 1};
static const uint8_t peer6[16] = {0xfd, [15] = 2};
static const uint8_t peer6_ll[16] = {0xfe, 0x80, [15] = 2};
static const uint8_t other6[16] = {0xfd, [15] = 9};
static const uint8_t unspec6[16];
static const uint8_t all_nodes6[16] = {0xff, 0x02, [15] = 1};

static inline void sn6(const uint8_t *a, uint8_t out[16])
{
	static const uint8_t pfx[13] = {0xff, 0x02, [11] = 1, [12] = 0xff};

	memcpy(out, pfx, 13);
	memcpy(out + 13, a + 13, 3);
}

static inline void mcast_mac6(const uint8_t *a, uint8_t mac[6])
{
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, a + 12, 4);
}

/* The upper-layer checksum over the IPv6 pseudo header (RFC 8200 8.1). */
static inline uint16_t csum6(const uint8_t *src, const uint8_t *dst, uint8_t nh, const uint8_t *l4,
			     size_t len)
{
	uint8_t ph[40];

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	put32(ph + 32, (uint32_t)len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = nh;
	return sum_fold(sum_add(sum_add(0, ph, sizeof(ph)), l4, len));
}

/* Ethernet + IPv6 header around l4len bytes already at b + 54. */
static inline size_t mk_ip6(uint8_t *b, const uint8_t *eth_dst, const uint8_t *eth_src,
			    const uint8_t *src, const uint8_t *dst, uint8_t nh, uint8_t hop,
			    size_t l4len)
{
	uint8_t *ip = b + ETH_LEN;

	mk_eth(b, eth_dst, eth_src, 0x86dd);
	put32(ip, 0x60000000);
	put16(ip + 4, (uint16_t)l4len);
	ip[6] = nh;
	ip[7] = hop;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	return pad60(b, L4_6 + l4len);
}

/* An ICMPv6 message (header + n bytes of data) from src to dst. */
static inline size_t mk_icmp6(uint8_t *b, const uint8_t *eth_dst, const uint8_t *src,
			      const uint8_t *dst, uint8_t hop, uint8_t type, uint8_t code,
			      uint32_t rest, const uint8_t *data, size_t n)
{
	uint8_t *m = b + L4_6;

	m[0] = type;
	m[1] = code;
	put16(m + 2, 0);
	put32(m + 4, rest);
	if (data)
		memmove(m + 8, data, n);
	put16(m + 2, csum6(src, dst, 58, m, 8 + n));
	return mk_ip6(b, eth_dst, peer_mac, src, dst, 58, hop, 8 + n);
}

/* NS for target from src (SLL of peer_mac unless src is ::), to dst. */
static inline size_t mk_ns6(uint8_t *b, const uint8_t *eth_dst, const uint8_t *src,
			    const uint8_t *dst, const uint8_t *target, uint8_t hop)
{
	uint8_t d[32] = {0};
	size_t n = 16;

	memcpy(d, target, 16);
	if (memcmp(src, unspec6, 16)) {
		d[16] = 1;
		d[17] = 1;
		memcpy(d + 18, peer_mac, 6);
		n = 24;
	}
	return mk_icmp6(b, eth_dst, src, dst, hop, 135, 0, 0, d, n);
}

/* NA for target with flags (0x80 R, 0x40 S, 0x20 O) and a TLL of mac (NULL: none). */
static inline size_t mk_na6(uint8_t *b, const uint8_t *eth_dst, const uint8_t *src,
			    const uint8_t *dst, const uint8_t *target, uint8_t flags,
			    const uint8_t *mac)
{
	uint8_t d[32] = {0};

	memcpy(d, target, 16);
	if (mac) {
		d[16] = 2;
		d[17] = 1;
		memcpy(d + 18, mac, 6);
	}
	return mk_icmp6(b, eth_dst, src, dst, 255, 136, 0, (uint32_t)flags << 24, d,
			mac ? 24 : 16);
}

/* Checks an IPv6 frame sent by the stack; returns the upper layer and its length. */
static inline const uint8_t *check_ip6_out(const uint8_t *f, size_t len, const uint8_t *dst_mac,
					   const uint8_t *src, const uint8_t *dst, uint8_t nh,
					   size_t *l4len)
{
	const uint8_t *ip = f + ETH_LEN;
	size_t plen, i;

	assert_true(len >= MIN_FRAME);
	if (dst_mac)
		assert_memory_equal(f, dst_mac, 6);
	assert_memory_equal(f + 6, our_mac, 6);
	assert_int_equal(get16(f + 12), 0x86dd);
	assert_int_equal(ip[0] >> 4, 6);
	plen = get16(ip + 4);
	assert_int_equal(len, L4_6 + plen < MIN_FRAME ? MIN_FRAME : L4_6 + plen);
	for (i = L4_6 + plen; i < len; i++)
		assert_int_equal(f[i], 0);
	assert_int_equal(ip[6], nh);
	if (src)
		assert_memory_equal(ip + 8, src, 16);
	if (dst)
		assert_memory_equal(ip + 24, dst, 16);
	*l4len = plen;
	return ip + IP6_LEN;
}

/* Checks an ICMPv6 message sent by the stack (checksum included). */
static inline const uint8_t *check_icmp6_out(const uint8_t *f, size_t len, const uint8_t *dst_mac,
					     const uint8_t *src, const uint8_t *dst, uint8_t type,
					     uint8_t code, size_t *mlen)
{
	const uint8_t *m = check_ip6_out(f, len, dst_mac, src, dst, 58, mlen);

	assert_true(*mlen >= 8);
	assert_int_equal(csum6(f + ETH_LEN + 8, f + ETH_LEN + 24, 58, m, *mlen), 0);
	assert_int_equal(m[0], type);
	assert_int_equal(m[1], code);
	return m;
}

/* IPv6 on a warm fixture stack: fd00::1/64 with dad NS per address
 * (XS_IP6_NO_DAD: none; then both addresses are usable at once), MLD
 * reports with robustness mld (XS_IP6_NO_MLD: none). */
static inline void fx6_enable_mld(struct fx *fx, uint8_t dad, int slaac, uint8_t mld)
{
	struct xs_ip6_config c = {
	    .naddrs = 1, .dad_transmits = dad, .slaac = slaac, .mld_robustness = mld};

	memcpy(c.addrs[0].addr, our6, 16);
	c.addrs[0].plen = 64;
	memset(c.secret, 0x5a, sizeof(c.secret));
	assert_int_equal(xs_ip6_enable(fx->st, &c), 0);
	fx_snap(fx);
}

/* Without MLD: its reports (test_mld.c's) would interleave with the frames
 * the other tests take one by one. */
static inline void fx6_enable(struct fx *fx, uint8_t dad, int slaac)
{
	fx6_enable_mld(fx, dad, slaac, XS_IP6_NO_MLD);
}

/* Our link-local address (the stack's first). */
static inline void our_ll(struct fx *fx, uint8_t out[16])
{
	struct xs_ip6_addr_info in[XS_IP6_MAX_ADDRS];
	size_t n = xs_ip6_addr_list(fx->st, fx->now, in, XS_IP6_MAX_ADDRS), i;

	for (i = 0; i < n; i++) {
		if (!strcmp(in[i].origin, "link-local")) {
			memcpy(out, in[i].addr, 16);
			return;
		}
	}
	fail_msg("no link-local address");
}

/* The state of our address a ("tentative", "preferred", ...), NULL if absent. */
static inline const char *addr6_state(struct fx *fx, const uint8_t *a)
{
	struct xs_ip6_addr_info in[XS_IP6_MAX_ADDRS];
	size_t n = xs_ip6_addr_list(fx->st, fx->now, in, XS_IP6_MAX_ADDRS), i;

	for (i = 0; i < n; i++)
		if (!memcmp(in[i].addr, a, 16))
			return in[i].state;
	return NULL;
}

/* The neighbor cache state of a, NULL if it has no entry. */
static inline const char *nd_state(struct fx *fx, const uint8_t *a)
{
	static struct xs_nd_entry_info e[XS_ND_CACHE_SIZE];
	size_t n = xs_ip6_nd_list(fx->st, fx->now, e, XS_ND_CACHE_SIZE), i;

	for (i = 0; i < n; i++)
		if (!memcmp(e[i].addr, a, 16))
			return e[i].state;
	return NULL;
}

static inline size_t nd_count(struct fx *fx)
{
	static struct xs_nd_entry_info e[XS_ND_CACHE_SIZE];

	return xs_ip6_nd_list(fx->st, fx->now, e, XS_ND_CACHE_SIZE);
}

/* The peer tells us its address (an NS for ours with its SLL), then the
 * stack's answer is taken: the peer is STALE and known. */
static inline void learn_peer6(struct fx *fx)
{
	uint8_t f[FRAME_MAX], sn[16];
	size_t n, mlen;

	sn6(our6, sn);
	{
		uint8_t m[6];

		mcast_mac6(sn, m);
		n = mk_ns6(f, m, peer6, sn, our6, 255);
	}
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_icmp6_out(f, n, peer_mac, our6, peer6, 136, 0, &mlen);
	expect_nothing_sent(fx, "learn_peer6");
	fx_snap(fx);
}

#endif
