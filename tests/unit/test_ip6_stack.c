/* IPv6 beyond one frame and one link, on a virtual clock: reassembly (RFC 8200
 * 4.5, RFC 5722, RFC 7112, atomic fragments), UDP over IPv6 through the
 * address-family-aware calls, routes, and SLAAC from Router Advertisements. */
#include <xdpstack/mq.h>

#include "ip6_fixture.h"

static const uint8_t router_ll[16] = {0xfe, 0x80, [15] = 1};
static const uint8_t router_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0xfe};
static const uint8_t pfx1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
static const uint8_t far6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1};

/* One fragment of the datagram whose fragmentable part is data (len bytes):
 * bytes [off, off + n) with M, id, next header nh. */
static size_t mk_frag6(uint8_t *b, uint8_t nh, uint32_t id, size_t off, bool more,
		       const uint8_t *data, size_t n)
{
	uint8_t *fh = b + L4_6;

	fh[0] = nh;
	fh[1] = 0;
	put16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
	put32(fh + 4, id);
	memcpy(fh + 8, data + off, n);
	return mk_ip6(b, our_mac, peer_mac, peer6, our6, 44, 64, 8 + n);
}

/* An echo request of n data bytes, as it would be sent whole (ICMPv6 bytes). */
static size_t echo_msg(uint8_t *m, uint16_t seq, size_t n)
{
	size_t i;

	m[0] = 128;
	m[1] = 0;
	put16(m + 2, 0);
	put32(m + 4, 0x77770000u | seq);
	for (i = 0; i < n; i++)
		m[8 + i] = (uint8_t)(i * 7);
	put16(m + 2, csum6(peer6, our6, 58, m, 8 + n));
	return 8 + n;
}

/* Takes an echo reply of total ICMPv6 bytes, whole or in fragments. */
static void take_echo_reply(struct fx *fx, const uint8_t *req, size_t total)
{
	static uint8_t got[70000];
	uint8_t f[FRAME_MAX];
	size_t n, l4len, have = 0, frags = 0;

	while ((n = take(fx, f))) {
		const uint8_t *l4 = check_ip6_out(f, n, peer_mac, our6, peer6,
						  f[ETH_LEN + 6], &l4len);

		if (f[ETH_LEN + 6] == 44) {
			uint16_t off = get16(l4 + 2) & 0xfff8;

			assert_int_equal(l4[0], 58);
			memcpy(got + off, l4 + 8, l4len - 8);
			have += l4len - 8;
			frags++;
		} else {
			assert_int_equal(f[ETH_LEN + 6], 58);
			memcpy(got, l4, l4len);
			have += l4len;
		}
	}
	assert_int_equal(have, total);
	assert_int_equal(got[0], 129);
	assert_memory_equal(got + 4, req + 4, total - 4);
	assert_int_equal(csum6(our6, peer6, 58, got, total), 0);
}

static void test_reassembly_echo(void **state)
{
	struct fx *fx = *state;
	static uint8_t msg[4000];
	uint8_t f[FRAME_MAX];
	size_t len;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	learn_peer6(fx);
	len = echo_msg(msg, 1, 3000);
	/* Three fragments, out of order, one an exact duplicate (dropped alone). */
	inject(fx, f, mk_frag6(f, 58, 0x1001, 2896, false, msg, len - 2896));
	inject(fx, f, mk_frag6(f, 58, 0x1001, 1448, true, msg, 1448));
	inject(fx, f, mk_frag6(f, 58, 0x1001, 1448, true, msg, 1448));
	inject(fx, f, mk_frag6(f, 58, 0x1001, 0, true, msg, 1448));
	fx_poll(fx, fx->now);
	take_echo_reply(fx, msg, len);
	expect_drops(fx, XS_DROP_FRAG_DUP, 1, "one duplicate");
	assert_int_equal(xs_stack_stats(fx->st)->ip6_reassembled, 1);
	/* An atomic fragment is a whole packet (RFC 6946). */
	len = echo_msg(msg, 2, 100);
	inject(fx, f, mk_frag6(f, 58, 0x1002, 0, false, msg, len));
	fx_poll(fx, fx->now);
	take_echo_reply(fx, msg, len);
	assert_int_equal(xs_stack_stats(fx->st)->ip6_atomic_frag, 1);
}

static void test_reassembly_hostile(void **state)
{
	struct fx *fx = *state;
	static uint8_t msg[4000];
	uint8_t f[FRAME_MAX], first[FRAME_MAX];
	size_t n, mlen, firstlen;
	const uint8_t *m;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	learn_peer6(fx);
	echo_msg(msg, 3, 3000);
	/* RFC 5722: an overlap drops the whole datagram, silently. */
	inject(fx, f, mk_frag6(f, 58, 0x2001, 0, true, msg, 1448));
	inject(fx, f, mk_frag6(f, 58, 0x2001, 2888, false, msg, 3008 - 2888));
	inject(fx, f, mk_frag6(f, 58, 0x2001, 1440, true, msg, 1448));
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "overlap");
	expect_drops(fx, XS_DROP_FRAG_OVERLAP, 1, "overlap");
	/* RFC 7112: a first fragment without the whole header chain (a
	 * 16-byte Destination Options header, 8 bytes of it there). */
	{
		uint8_t dst[8] = {58, 1};

		inject(fx, f, mk_frag6(f, 60, 0x2002, 0, true, dst, 8));
	}
	fx_poll(fx, fx->now);
	n = take(fx, f);
	m = check_icmp6_out(f, n, peer_mac, our6, peer6, 4, 3, &mlen);
	assert_int_equal(get32(m + 4), 0);
	expect_drops(fx, XS_DROP_FRAG_TINY, 1, "tiny first fragment");
	/* M set and not a multiple of 8: Parameter Problem at Payload Length. */
	inject(fx, f, mk_frag6(f, 58, 0x2003, 0, true, msg, 1001));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	m = check_icmp6_out(f, n, peer_mac, our6, peer6, 4, 0, &mlen);
	assert_int_equal(get32(m + 4), 4);
	expect_drops(fx, XS_DROP_IP6_FRAG, 1, "odd length");
	/* Past 65535 bytes: Parameter Problem at the Fragment Offset. */
	n = mk_frag6(f, 58, 0x2004, 0, false, msg, 16);
	put16(f + L4_6 + 2, 65528);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	m = check_icmp6_out(f, n, peer_mac, our6, peer6, 4, 0, &mlen);
	assert_int_equal(get32(m + 4), 42);
	expect_drops(fx, XS_DROP_FRAG_TOO_BIG, 1, "too big");
	/* The last fragment never comes: Time Exceeded (code 1) quoting the
	 * first, after the reassembly timeout (30 s). */
	firstlen = mk_frag6(first, 58, 0x2005, 0, true, msg, 1448);
	inject(fx, first, firstlen);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "waiting");
	fx_poll(fx, fx->now + XS_SEC(31));
	n = take(fx, f);
	m = check_icmp6_out(f, n, peer_mac, our6, peer6, 3, 1, &mlen);
	assert_int_equal(mlen, 8 + 1232);
	assert_memory_equal(m + 8, first + ETH_LEN, 1232);
	while (take(fx, f)) /* neighbor unreachability probes of the peer */
		assert_int_equal(f[L4_6], 135);
	expect_drops_ign(fx, XS_DROP_FRAG_TIMEOUT, 1, XS_DROP_NONE, "timeout");
	/* A missing first fragment times out silently. */
	inject(fx, f, mk_frag6(f, 58, 0x2006, 1448, true, msg, 1448));
	fx_poll(fx, fx->now);
	fx_poll(fx, fx->now + XS_SEC(31));
	while (take(fx, f))
		assert_int_equal(f[L4_6], 135);
	expect_drops_ign(fx, XS_DROP_FRAG_TIMEOUT, 1, XS_DROP_ND_UNRESOLVED, "silent timeout");
}

struct ures {
	int calls;
};

static void on_udp(struct xs_stack *st, struct xs_udp h, unsigned ev, void *ctx)
{
	(void)st;
	(void)h;
	(void)ev;
	((struct ures *)ctx)->calls++;
}

static size_t mk_udp6(uint8_t *b, const uint8_t *src, uint16_t sport, uint16_t dport,
		      const void *data, size_t n, bool zero_csum)
{
	uint8_t *u = b + L4_6;

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + n));
	put16(u + 6, 0);
	memcpy(u + 8, data, n);
	if (!zero_csum)
		put16(u + 6, csum6(src, our6, 17, u, 8 + n));
	return mk_ip6(b, our_mac, peer_mac, src, our6, 17, 64, 8 + n);
}

static void test_udp6(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], buf[4000];
	struct ures r = {0};
	struct xs_addr from, to;
	uint16_t port;
	size_t n, l4len;
	const uint8_t *u;
	struct xs_udp h;
	int frags = 0;
	ssize_t got;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	learn_peer6(fx);
	h = xs_udp_open(fx->st);
	assert_true(h.id >= 0);
	assert_int_equal(xs_udp_bind(fx->st, h, 7), 0);
	assert_int_equal(xs_udp_set_event_cb(fx->st, h, on_udp, &r), 0);
	inject(fx, f, mk_udp6(f, peer6, 4000, 7, "hello6", 6, false));
	fx_poll(fx, fx->now);
	assert_int_equal(r.calls, 1);
	got = xs_udp_recvfrom_addr(fx->st, h, buf, sizeof(buf), &from, &port);
	assert_int_equal(got, 6);
	assert_memory_equal(buf, "hello6", 6);
	assert_int_equal(from.family, XS_AF_INET6);
	assert_memory_equal(from.a, peer6, 16);
	assert_int_equal(port, 4000);
	/* The IPv4 call tells the sender is not IPv4. */
	inject(fx, f, mk_udp6(f, peer6, 4000, 7, "again", 5, false));
	fx_poll(fx, fx->now);
	{
		uint32_t ip4 = 1;

		assert_int_equal(xs_udp_recvfrom(fx->st, h, buf, sizeof(buf), &ip4, &port), 5);
		assert_int_equal(ip4, 0);
	}
	/* Back to it, with the pseudo-header checksum. */
	assert_int_equal(xs_udp_sendto_addr(fx->st, h, "pong", 4, &from, 4000), 4);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	u = check_ip6_out(f, n, peer_mac, our6, peer6, 17, &l4len);
	assert_int_equal(l4len, 12);
	assert_int_equal(get16(u), 7);
	assert_int_equal(get16(u + 2), 4000);
	assert_int_not_equal(get16(u + 6), 0);
	assert_int_equal(csum6(our6, peer6, 17, u, l4len), 0);
	assert_memory_equal(u + 8, "pong", 4);
	/* A zero checksum is refused over IPv6 (RFC 8200 8.1). */
	inject(fx, f, mk_udp6(f, peer6, 4000, 7, "zero", 4, true));
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_UDP_CSUM, 1, "zero checksum");
	/* No socket: port unreachable, code 4. */
	inject(fx, f, mk_udp6(f, peer6, 4000, 9, "nobody", 6, false));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_icmp6_out(f, n, peer_mac, our6, peer6, 1, 4, &l4len);
	expect_drops(fx, XS_DROP_UDP_NO_PORT, 1, "no port");
	/* Larger than a frame: fragments of a multiple of 8, one id. */
	memset(buf, 0x5a, 3000);
	assert_int_equal(xs_udp_sendto_addr(fx->st, h, buf, 3000, &from, 4000), 3000);
	fx_poll(fx, fx->now);
	while ((n = take(fx, f))) {
		check_ip6_out(f, n, peer_mac, our6, peer6, 44, &l4len);
		frags++;
	}
	assert_int_equal(frags, 3);
	/* Connected: errors about its peer come back by the next call. */
	xs_addr_from_ip6(&to, peer6);
	assert_int_equal(xs_udp_connect_addr(fx->st, h, &to, 4000), 0);
	assert_int_equal(xs_udp_send(fx->st, h, "c", 1), 1);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	{
		uint8_t q[200];

		memcpy(q, f + ETH_LEN, 40 + 9);
		inject(fx, f, mk_icmp6(f, our_mac, peer6, our6, 64, 1, 4, 0, q, 49));
	}
	fx_poll(fx, fx->now);
	assert_int_equal(xs_udp_send(fx->st, h, "c", 1), -ECONNREFUSED);
	/* A datagram from someone else is not for a connected socket. */
	inject(fx, f, mk_udp6(f, other6, 4000, 7, "stranger", 8, false));
	fx_poll(fx, fx->now);
	while (take(fx, f))
		;
	expect_drops_ign(fx, XS_DROP_UDP_NO_PORT, 1, XS_DROP_NONE, "stranger");
	xs_udp_close(fx->st, h);
}

/* A Router Advertisement from router_ll: lifetime, prefix (valid, preferred,
 * flags), an MTU option when mtu. */
static size_t mk_ra(uint8_t *b, uint16_t lifetime, const uint8_t *pfx, uint32_t valid,
		    uint32_t preferred, uint8_t flags, uint32_t mtu)
{
	uint8_t d[128] = {0}; /* after the checksum: hop limit, flags, lifetime,
			       * reachable, retrans, options */
	size_t n = 12;

	d[0] = 64;
	put16(d + 2, lifetime);
	d[n] = 1;
	d[n + 1] = 1;
	memcpy(d + n + 2, router_mac, 6);
	n += 8;
	if (mtu) {
		d[n] = 5;
		d[n + 1] = 1;
		put32(d + n + 4, mtu);
		n += 8;
	}
	if (pfx) {
		d[n] = 3;
		d[n + 1] = 4;
		d[n + 2] = 64;
		d[n + 3] = flags;
		put32(d + n + 4, valid);
		put32(d + n + 8, preferred);
		memcpy(d + n + 16, pfx, 16);
		n += 32;
	}
	{
		size_t len = mk_icmp6(b, (const uint8_t *)"\x33\x33\x00\x00\x00\x01", router_ll,
				      all_nodes6, 255, 134, 0, (uint32_t)d[0] << 24 | d[1] << 16 |
								   get16(d + 2),
				      d + 4, n - 4);

		memcpy(b + 6, router_mac, 6);
		return len;
	}
}

static const char *find_state(struct fx *fx, const char *origin, uint8_t out[16])
{
	struct xs_ip6_addr_info in[XS_IP6_MAX_ADDRS];
	size_t n = xs_ip6_addr_list(fx->st, fx->now, in, XS_IP6_MAX_ADDRS), i;

	for (i = 0; i < n; i++) {
		if (!strcmp(in[i].origin, origin)) {
			if (out)
				memcpy(out, in[i].addr, 16);
			return in[i].state;
		}
	}
	return NULL;
}

static void test_slaac(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP};
	struct xs_ip6_config c = {.slaac = 1, .dad_transmits = 1, .mld_robustness = XS_IP6_NO_MLD};
	struct xs_route6 rt[XS_IP6_MAX_ROUTES];
	struct xs_ip6_steer s;
	uint8_t f[FRAME_MAX], ll[16], a[16];
	size_t n, mlen;
	int rs = 0, i, h;
	bool found;

	fx_restart(fx, &cfg, 1500, 64, true);
	memset(c.secret, 7, 16);
	assert_int_equal(xs_ip6_enable(fx->st, &c), 0);
	xs_ip6_steer_info(fx->st, &s);
	assert_true(s.want_ra);
	our_ll(fx, ll);
	/* DAD of the link-local, then up to three RS from it, 4 s apart. */
	for (i = 0; i < 130; i++) {
		fx_poll(fx, fx->now + XS_MS(100));
		while ((n = take(fx, f))) {
			const uint8_t *m;

			if (f[L4_6] != 133)
				continue;
			m = check_icmp6_out(f, n, (const uint8_t *)"\x33\x33\x00\x00\x00\x02", ll,
					    (const uint8_t[16]){0xff, 2, [15] = 2}, 133, 0, &mlen);
			assert_int_equal(f[ETH_LEN + 7], 255);
			assert_int_equal(mlen, 16);
			assert_int_equal(m[8], 1);
			rs++;
		}
	}
	assert_int_equal(rs, 3);
	/* The router answers: a prefix, a default route, a smaller MTU. */
	inject(fx, f, mk_ra(f, 1800, pfx1, 7200, 3600, 0xc0, 1400));
	fx_poll(fx, fx->now);
	assert_int_equal(xs_stack_stats(fx->st)->nd_ra_used, 1);
	assert_string_equal(find_state(fx, "slaac", a), "tentative");
	assert_memory_equal(a, pfx1, 8);
	assert_false(a[11] == 0xff && a[12] == 0xfe); /* RFC 7217, not EUI-64 */
	for (i = 0; i < 25; i++)
		fx_poll(fx, fx->now + XS_MS(100));
	while (take(fx, f))
		;
	assert_string_equal(find_state(fx, "slaac", NULL), "preferred");
	/* RFC 4861 6.3.4: the default router and the on-link prefix, timed. */
	n = xs_route6_list(fx->st, fx->now, rt, XS_IP6_MAX_ROUTES);
	found = false;
	for (i = 0; i < (int)n; i++) {
		if (rt[i].prefix_len == 0) {
			assert_memory_equal(rt[i].gateway, router_ll, 16);
			assert_string_equal(rt[i].origin, "ra-router");
			assert_true(rt[i].expires_ms > 1790000 && rt[i].expires_ms <= 1800000);
			found = true;
		} else {
			assert_int_equal(rt[i].prefix_len, 64);
			assert_memory_equal(rt[i].dst, pfx1, 16);
			assert_string_equal(rt[i].origin, "ra-prefix");
		}
	}
	assert_true(found);
	assert_int_equal(n, 2);
	assert_int_equal(xs_ip6_pmtu(fx->st, far6), 1400);
	/* RAs go to the kernel again until half the shortest lifetime. */
	xs_ip6_steer_info(fx->st, &s);
	assert_false(s.want_ra);
	assert_int_equal(s.naddrs, 2);
	/* Off-link: through the router, from the SLAAC address. */
	{
		struct xs_addr d;
		struct xs_ping hp = xs_ping_open(fx->st, (xs_ping_cb)(void (*)(void))abort, NULL);

		xs_addr_from_ip6(&d, far6);
		assert_int_equal(xs_ping_send_addr(fx->st, hp, &d, 1, 8), 0);
		fx_poll(fx, fx->now);
		n = take(fx, f);
		check_icmp6_out(f, n, router_mac, a, far6, 128, 0, &mlen);
		xs_ping_close(fx->st, hp);
	}
	/* RFC 4862 5.5.3 (e): a valid lifetime of 60 s does not cut an
	 * address with under two hours left. */
	inject(fx, f, mk_ra(f, 1800, pfx1, 60, 60, 0x40, 0));
	fx_poll(fx, fx->now);
	{
		struct xs_ip6_addr_info in[XS_IP6_MAX_ADDRS];
		size_t k = xs_ip6_addr_list(fx->st, fx->now, in, XS_IP6_MAX_ADDRS);

		for (i = 0; i < (int)k; i++)
			if (!strcmp(in[i].origin, "slaac"))
				assert_true(in[i].valid_ms > 7000000);
	}
	/* Half of 60 s on, RAs are wanted again, and one RS asks for one. */
	rs = 0;
	for (i = 0; i < 40; i++) {
		fx_poll(fx, fx->now + XS_SEC(1));
		while ((n = take(fx, f)))
			rs += f[L4_6] == 133;
	}
	xs_ip6_steer_info(fx->st, &s);
	assert_true(s.want_ra);
	assert_int_equal(rs, 1);
	/* A router lifetime of 0 takes the router off the list. */
	inject(fx, f, mk_ra(f, 0, NULL, 0, 0, 0, 0));
	fx_poll(fx, fx->now);
	n = xs_route6_list(fx->st, fx->now, rt, XS_IP6_MAX_ROUTES);
	for (i = 0; i < (int)n; i++)
		assert_int_not_equal(rt[i].prefix_len, 0);
	/* Preferred for 3600 s, valid for 7200 s from the first RA. */
	fx_poll(fx, fx->now + XS_SEC(3600));
	assert_string_equal(find_state(fx, "slaac", NULL), "deprecated");
	fx_poll(fx, fx->now + XS_SEC(3600));
	assert_null(find_state(fx, "slaac", NULL));
	while (take(fx, f))
		;
	(void)h;
}

static void test_routes6_api(void **state)
{
	struct fx *fx = *state;
	static const uint8_t any[16];
	struct xs_route6 rt[XS_IP6_MAX_ROUTES];
	uint8_t f[FRAME_MAX], net[16] = {0xfd, 0, 0, 9};
	size_t n, mlen;
	int i;

	assert_int_equal(xs_route6_add(fx->st, any, 0, peer6), -EADDRNOTAVAIL);
	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	/* The connected prefix is there and cannot go. */
	n = xs_route6_list(fx->st, fx->now, rt, XS_IP6_MAX_ROUTES);
	assert_int_equal(n, 1);
	assert_string_equal(rt[0].origin, "connected");
	assert_int_equal(rt[0].prefix_len, 64);
	assert_int_equal(xs_route6_del(fx->st, rt[0].dst, 64), -EPERM);
	/* A gateway must be a neighbour; host bits refused; no duplicates. */
	assert_int_equal(xs_route6_add(fx->st, any, 0, far6), -ENETUNREACH);
	assert_int_equal(xs_route6_add(fx->st, our6, 64, peer6), -EINVAL);
	assert_int_equal(xs_route6_add(fx->st, net, 32, peer6), 0);
	assert_int_equal(xs_route6_add(fx->st, net, 32, peer6), -EEXIST);
	assert_int_equal(xs_route6_add(fx->st, any, 0, peer6_ll), 0);
	/* fd00:0:9::1 goes through fd00::2 (the longest prefix), far6 by default. */
	learn_peer6(fx);
	{
		struct xs_addr d;
		struct xs_ping hp = xs_ping_open(fx->st, (xs_ping_cb)(void (*)(void))abort, NULL);
		uint8_t dst[16] = {0xfd, 0, 0, 9, [15] = 1};

		xs_addr_from_ip6(&d, dst);
		assert_int_equal(xs_ping_send_addr(fx->st, hp, &d, 1, 8), 0);
		fx_poll(fx, fx->now);
		n = take(fx, f);
		check_icmp6_out(f, n, peer_mac, our6, dst, 128, 0, &mlen);
		xs_addr_from_ip6(&d, far6);
		assert_int_equal(xs_ping_send_addr(fx->st, hp, &d, 2, 8), 0);
		fx_poll(fx, fx->now);
		n = take(fx, f); /* fe80::2 is not resolved yet: its NS */
		check_icmp6_out(f, n, NULL, NULL, NULL, 135, 0, &mlen);
		assert_memory_equal(f + L4_6 + 8, peer6_ll, 16);
		xs_ping_close(fx->st, hp);
	}
	assert_int_equal(xs_route6_del(fx->st, net, 32), 0);
	assert_int_equal(xs_route6_del(fx->st, net, 32), -ESRCH);
	for (i = 0; i < XS_IP6_MAX_ROUTES - 2; i++) {
		net[3] = (uint8_t)(10 + i);
		assert_int_equal(xs_route6_add(fx->st, net, 32, peer6), 0);
	}
	net[3] = 99;
	assert_int_equal(xs_route6_add(fx->st, net, 32, peer6), -ENOSPC);
}

/* A TCP segment from the peer (fd00::2:4000 -> fd00::1:80) with flags,
 * seq, ack, and MSS 1440 on a SYN. */
static size_t mk_tcp6(uint8_t *b, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
		      size_t n)
{
	uint8_t *t = b + L4_6;
	size_t hl = flags & 0x02 ? 24 : 20;

	memset(t, 0, hl);
	put16(t, 4000);
	put16(t + 2, 80);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)(hl / 4 << 4);
	t[13] = flags;
	put16(t + 14, 65535);
	if (hl == 24) {
		t[20] = 2;
		t[21] = 4;
		put16(t + 22, 1440);
	}
	if (n)
		memcpy(t + hl, data, n);
	put16(t + 16, csum6(peer6, our6, 6, t, hl + n));
	return mk_ip6(b, our_mac, peer_mac, peer6, our6, 6, 64, hl + n);
}

static void test_tcp6(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], buf[4096], q[FRAME_MAX];
	struct xs_tcp_info in;
	struct xs_addr from;
	uint32_t iss;
	uint16_t port;
	size_t n, l4len, qlen;
	const uint8_t *t;
	struct xs_tcp l, h;
	int i;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	learn_peer6(fx);
	l = xs_tcp_listen(fx->st, 80, 4);
	assert_true(l.id >= 0);
	/* SYN over IPv6: the SYN-ACK's MSS is the IPv6 one (1500 - 60). */
	inject(fx, f, mk_tcp6(f, 0x02, 1000, 0, NULL, 0));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	t = check_ip6_out(f, n, peer_mac, our6, peer6, 6, &l4len);
	assert_int_equal(csum6(our6, peer6, 6, t, l4len), 0);
	assert_int_equal(t[13], 0x12);
	assert_int_equal(get32(t + 8), 1001);
	assert_int_equal(t[20], 2);
	assert_int_equal(get16(t + 22), 1440);
	iss = get32(t + 4);
	inject(fx, f, mk_tcp6(f, 0x10, 1001, iss + 1, NULL, 0));
	fx_poll(fx, fx->now);
	h = xs_tcp_accept_addr(fx->st, l, &from, &port);
	assert_true(h.id >= 0);
	assert_int_equal(from.family, XS_AF_INET6);
	assert_memory_equal(from.a, peer6, 16);
	assert_int_equal(port, 4000);
	assert_int_equal(xs_tcp_get_info(fx->st, h, &in), 0);
	assert_int_equal(in.rip, 0);
	assert_int_equal(in.laddr.family, XS_AF_INET6);
	assert_memory_equal(in.laddr.a, our6, 16);
	assert_int_equal(in.mss, 1440);
	/* Data both ways. */
	inject(fx, f, mk_tcp6(f, 0x18, 1001, iss + 1, "hello", 5));
	fx_poll(fx, fx->now);
	assert_int_equal(xs_tcp_recv(fx->st, h, buf, sizeof(buf)), 5);
	/* In order, so its payload is summed on its way into the receive ring
	 * (the IPv6 pseudo header in the sum): a bad checksum delivers nothing. */
	n = mk_tcp6(f, 0x18, 1006, iss + 1, "world", 5);
	f[L4_6 + 20] ^= 0x20;
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_TCP_CSUM, 1, "bad checksum, copied early");
	assert_int_equal(xs_tcp_recv(fx->st, h, buf, sizeof(buf)), -EAGAIN);
	inject(fx, f, mk_tcp6(f, 0x18, 1006, iss + 1, "world", 5));
	fx_poll(fx, fx->now);
	assert_int_equal(xs_tcp_recv(fx->st, h, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "world", 5);
	while (take(fx, f))
		;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(xs_tcp_send(fx->st, h, buf, 3000), 3000);
	fx_poll(fx, fx->now);
	qlen = 0;
	for (i = 0; (n = take(fx, f)); i++) {
		t = check_ip6_out(f, n, peer_mac, our6, peer6, 6, &l4len);
		assert_int_equal(csum6(our6, peer6, 6, t, l4len), 0);
		if (l4len > 20 && !qlen) {
			qlen = 40 + l4len;
			memcpy(q, f + ETH_LEN, qlen);
		}
	}
	assert_true(qlen > 1400);
	/* RFC 8201 5.2: a Packet Too Big of 1280 quoting a segment in flight:
	 * segments of 1280 - 60 from now on, the first one resent at once. */
	inject(fx, f, mk_icmp6(f, our_mac, peer6, our6, 64, 2, 0, 1280, q, 1232));
	fx_poll(fx, fx->now);
	assert_int_equal(xs_tcp_get_info(fx->st, h, &in), 0);
	assert_int_equal(in.mss, 1220);
	n = take(fx, f);
	t = check_ip6_out(f, n, peer_mac, our6, peer6, 6, &l4len);
	assert_int_equal(40 + l4len, 1280); /* 20 of TCP header, 1220 of data */
	assert_int_equal(get32(t + 4), iss + 1);
	while (take(fx, f))
		;
	/* A segment from a v4-mapped source never names a connection. */
	xs_tcp_abort(fx->st, h);
	xs_tcp_close(fx->st, l);
	while (take(fx, f))
		;
}

/* A TCP segment src:sport -> dst:dport from the peer's MAC (a SYN carries MSS 1440). */
static size_t mk_tcp6_at(uint8_t *b, const uint8_t *eth_dst, const uint8_t *src, const uint8_t *dst,
			 uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
			 const void *data, size_t n)
{
	size_t len = mk_tcp6(b, flags, seq, ack, data, n), hl = flags & 0x02 ? 24 : 20;
	uint8_t *t = b + L4_6;

	put16(t, sport);
	put16(t + 2, dport);
	put16(t + 16, 0);
	put16(t + 16, csum6(src, dst, 6, t, hl + n));
	mk_ip6(b, eth_dst, peer_mac, src, dst, 6, 64, hl + n);
	return len;
}

/* The SYN of an active open: its source address, port and ISS. */
static uint32_t take_syn6(struct fx *fx, const uint8_t *src, const uint8_t *dst, uint16_t port,
			  uint16_t *sport)
{
	uint8_t f[FRAME_MAX];
	size_t n = take(fx, f), l4len;
	const uint8_t *t = check_ip6_out(f, n, peer_mac, src, dst, 6, &l4len);

	assert_int_equal(csum6(src, dst, 6, t, l4len), 0);
	assert_int_equal(t[13], 0x02);
	assert_int_equal(get16(t + 2), port);
	*sport = get16(t);
	return get32(t + 4);
}

/* RFC 9293 3.9.1.1 and 3.9.2.3 with several addresses (MUST-44, 45, 46, 57,
 * 63 over IPv6): the source of an active open is asked of IP before the
 * SYN (RFC 6724: the longest matching prefix), every later segment keeps
 * it; a multicast, unspecified, loopback or own remote address is refused;
 * a SYN to a multicast address or from an address no host has is dropped
 * without an answer. */
static void test_tcp6_addresses(void **state)
{
	static const uint8_t our6b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1};
	static const uint8_t peer6b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2};
	static const uint8_t loop6[16] = {[15] = 1};
	static const uint8_t mapped6[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 2};
	const uint8_t *bad[] = {all_nodes6, unspec6, loop6, our6, our6b};
	struct xs_ip6_config c = {.naddrs = 2, .dad_transmits = XS_IP6_NO_DAD};
	uint8_t f[FRAME_MAX], sn[16], m[6];
	struct xs_addr dst = {.family = XS_AF_INET6};
	struct fx *fx = *state;
	struct xs_tcp ha, hb;
	uint16_t pa, pb;
	uint32_t iss;
	size_t n, l4len, i;
	const uint8_t *t;
	struct xs_tcp l;

	memcpy(c.addrs[0].addr, our6, 16);
	memcpy(c.addrs[1].addr, our6b, 16);
	c.addrs[0].plen = c.addrs[1].plen = 64;
	memset(c.secret, 0x5a, sizeof(c.secret));
	assert_int_equal(xs_ip6_enable(fx->st, &c), 0);
	learn_peer6(fx);
	/* The peer's second address, on the second prefix. */
	sn6(our6b, sn);
	mcast_mac6(sn, m);
	inject(fx, f, mk_ns6(f, m, peer6b, sn, our6b, 255));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_icmp6_out(f, n, peer_mac, our6b, peer6b, 136, 0, &l4len);
	expect_nothing_sent(fx, "the NA");
	fx_snap(fx);

	/* Each SYN leaves from the address that shares the most with its peer. */
	memcpy(dst.a, peer6b, 16);
	hb = xs_tcp_connect_addr(fx->st, &dst, 5000, NULL);
	assert_true(hb.id >= 0);
	memcpy(dst.a, peer6, 16);
	ha = xs_tcp_connect_addr(fx->st, &dst, 5000, NULL);
	assert_true(ha.id >= 0);
	fx_poll(fx, fx->now);
	take_syn6(fx, our6b, peer6b, 5000, &pb);
	iss = take_syn6(fx, our6, peer6, 5000, &pa);
	expect_nothing_sent(fx, "two SYNs");
	/* The handshake of the first and its data: from that address still. */
	inject(fx, f, mk_tcp6_at(f, our_mac, peer6, our6, 5000, pa, 0x12, 7000, iss + 1, NULL, 0));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	t = check_ip6_out(f, n, peer_mac, our6, peer6, 6, &l4len);
	assert_int_equal(t[13], 0x10);
	assert_int_equal(get32(t + 8), 7001);
	assert_int_equal(xs_tcp_send(fx->st, ha, "abc", 3), 3);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	t = check_ip6_out(f, n, peer_mac, our6, peer6, 6, &l4len);
	assert_int_equal(l4len, 20 + 3);
	assert_int_equal(csum6(our6, peer6, 6, t, l4len), 0);
	expect_nothing_sent(fx, "one data segment");
	expect_drops(fx, XS_DROP_NONE, 0, "handshake");

	/* MUST-43: the application names the local address: from our6b to
	 * peer6 (RFC 6724 would pick our6), and only one of ours, past DAD. */
	{
		struct xs_tcp_connect_opts o = {.laddr = {.family = XS_AF_INET6}};
		struct xs_tcp hc;
		uint16_t pc;

		memcpy(o.laddr.a, our6b, 16);
		memcpy(dst.a, peer6, 16);
		hc = xs_tcp_connect_addr(fx->st, &dst, 5001, &o);
		assert_true(hc.id >= 0);
		fx_poll(fx, fx->now);
		take_syn6(fx, our6b, peer6, 5001, &pc);
		expect_nothing_sent(fx, "the SYN from the given address");
		xs_tcp_abort(fx->st, hc);
		fx_poll(fx, fx->now);
		while (take(fx, f))
			;
		memcpy(o.laddr.a, other6, 16);
		assert_int_equal(xs_tcp_connect_addr(fx->st, &dst, 5001, &o).id, -EADDRNOTAVAIL);
		o.laddr.family = XS_AF_INET4;
		assert_int_equal(xs_tcp_connect_addr(fx->st, &dst, 5001, &o).id, -EINVAL);
		fx_poll(fx, fx->now);
		expect_nothing_sent(fx, "refused local addresses");
	}

	/* MUST-46: no connection to a remote address a host cannot have. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(dst.a, bad[i], 16);
		assert_int_equal(xs_tcp_connect_addr(fx->st, &dst, 5000, NULL).id, -EINVAL);
	}
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "refused opens");

	/* MUST-57: a SYN to the all-nodes group gets nothing, not even a RST. */
	l = xs_tcp_listen(fx->st, 80, 4);
	assert_true(l.id >= 0);
	mcast_mac6(all_nodes6, m);
	inject(fx, f, mk_tcp6_at(f, m, peer6, all_nodes6, 4000, 80, 0x02, 1000, 0, NULL, 0));
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "SYN to multicast");
	expect_drops(fx, XS_DROP_TCP_DST, 1, "SYN to multicast");
	/* MUST-63: nor one from a multicast or v4-mapped source. */
	inject(fx, f, mk_tcp6_at(f, our_mac, all_nodes6, our6, 4000, 80, 0x02, 1000, 0, NULL, 0));
	inject(fx, f, mk_tcp6_at(f, our_mac, mapped6, our6, 4000, 80, 0x02, 1000, 0, NULL, 0));
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "SYN from an invalid source");
	expect_drops(fx, XS_DROP_IP6_SRC, 2, "SYN from an invalid source");
	/* The listener is fine: the peer's own SYN is answered from our6. */
	inject(fx, f, mk_tcp6_at(f, our_mac, peer6, our6, 4000, 80, 0x02, 1000, 0, NULL, 0));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	t = check_ip6_out(f, n, peer_mac, our6, peer6, 6, &l4len);
	assert_int_equal(t[13], 0x12);
	xs_tcp_abort(fx->st, ha);
	xs_tcp_abort(fx->st, hb);
	xs_tcp_abort(fx->st, l);
	fx_poll(fx, fx->now);
	while (take(fx, f))
		;
}

/* The stack has no loopback: a ping to one of its own addresses (or to
 * ::1, ::, a v4-mapped one) is refused at once, as a TCP open is, instead
 * of soliciting the address on the wire until neighbor discovery gives up.
 * A ping to the peer still leaves. */
static void test_ping6_refuses_own_addresses(void **state)
{
	static const uint8_t loop6[16] = {[15] = 1};
	static const uint8_t mapped6[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 2};
	struct fx *fx = *state;
	uint8_t ll[16], f[FRAME_MAX];
	const uint8_t *bad[] = {our6, ll, loop6, unspec6, mapped6};
	struct xs_addr d = {.family = XS_AF_INET6};
	struct xs_ping hp;
	size_t i, n, mlen;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	our_ll(fx, ll);
	learn_peer6(fx);
	hp = xs_ping_open(fx->st, (xs_ping_cb)(void (*)(void))abort, NULL);
	assert_true(hp.id >= 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(d.a, bad[i], 16);
		assert_int_equal(xs_ping_send_addr(fx->st, hp, &d, (uint16_t)i, 8), -EINVAL);
	}
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "pings to our own addresses");
	memcpy(d.a, peer6, 16);
	assert_int_equal(xs_ping_send_addr(fx->st, hp, &d, 9, 8), 0);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_icmp6_out(f, n, peer_mac, our6, peer6, 128, 0, &mlen);
	xs_ping_close(fx->st, hp);
}

/* A stack with IPv6 on joins a multi-queue group: as a follower (index 1)
 * it forgets the addresses and routes it made itself, stack 0's come
 * (tests/unit/test_mq.c runs the group). */
static void test_ip6_joins_mq_group(void **state)
{
	struct fx *fx = *state;
	struct xs_mq *g = xs_mq_new(2, 0);
	struct xs_ip6_addr_info in[XS_IP6_MAX_ADDRS];
	struct xs_route6 r[XS_IP6_MAX_ROUTES];

	assert_non_null(g);
	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	assert_true(xs_ip6_addr_list(fx->st, fx->now, in, XS_IP6_MAX_ADDRS) >= 1);
	assert_int_equal(xs_mq_attach(g, 1, fx->st), 0);
	assert_int_equal(xs_ip6_addr_list(fx->st, fx->now, in, XS_IP6_MAX_ADDRS), 0);
	assert_int_equal(xs_route6_list(fx->st, fx->now, r, XS_IP6_MAX_ROUTES), 0);
	xs_mq_free(g);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_reassembly_echo),
	    T(test_reassembly_hostile),
	    T(test_udp6),
	    T(test_slaac),
	    T(test_routes6_api),
	    T(test_tcp6),
	    T(test_tcp6_addresses),
	    T(test_ping6_refuses_own_addresses),
	    T(test_ip6_joins_mq_group),
	};
#undef T
	return cmocka_run_group_tests_name("ip6_stack", tests, NULL, NULL);
}
