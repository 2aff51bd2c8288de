/* The IPv6 host on a virtual clock: duplicate address detection (RFC 4862
 * 5.4), the neighbor cache's states (RFC 4861 7.3), hostile NDP, ICMPv6
 * errors (RFC 4443 2.4) and Packet Too Big (RFC 8201). */
#include "ip6_fixture.h"

struct pres {
	int calls;
	struct xs_ping_result r;
};

static void on_ping(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r, void *ctx)
{
	struct pres *p = ctx;

	(void)st;
	(void)h;
	p->calls++;
	p->r = *r;
}

static struct xs_ping ping6(struct fx *fx, struct pres *p, const uint8_t *dst, uint16_t seq, size_t len)
{
	struct xs_addr a;
	struct xs_ping h = xs_ping_open(fx->st, on_ping, p);

	assert_true(h.id >= 0);
	xs_addr_from_ip6(&a, dst);
	assert_int_equal(xs_ping_send_addr(fx->st, h, &a, seq, len), 0);
	return h;
}

/* Polls every 100 ms until t, counting DAD solicitations for a (and others). */
static unsigned run_until(struct fx *fx, xs_time_t t, const uint8_t *dad_for, unsigned *other)
{
	uint8_t f[FRAME_MAX], sn[16], mac[6];
	unsigned nd = 0;
	size_t n, mlen;

	while (fx->now < t) {
		fx_poll(fx, fx->now + XS_MS(100));
		while ((n = take(fx, f))) {
			const uint8_t *m;

			if (dad_for && get16(f + 12) == 0x86dd && f[ETH_LEN + 6] == 58 &&
			    !memcmp(f + L4_6 + 8, dad_for, 16)) {
				sn6(dad_for, sn);
				mcast_mac6(sn, mac);
				m = check_icmp6_out(f, n, mac, unspec6, sn, 135, 0, &mlen);
				assert_int_equal(f[ETH_LEN + 7], 255);
				assert_int_equal(mlen, 24); /* no SLL from :: */
				(void)m;
				nd++;
			} else if (other) {
				(*other)++;
			}
		}
	}
	return nd;
}

static void test_dad_then_preferred(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], ll[16];
	size_t n, mlen;
	unsigned other = 0;

	fx6_enable(fx, 1, 0);
	our_ll(fx, ll);
	/* RFC 7217: not the EUI-64 of the MAC (fffe in the middle). */
	assert_false(ll[11] == 0xff && ll[12] == 0xfe);
	assert_string_equal(addr6_state(fx, our6), "tentative");
	assert_int_equal(xs_ip6_events(fx->st) & XS_IP6_EV_STEER, XS_IP6_EV_STEER);
	/* Tentative: an echo to it goes unanswered (RFC 4862 5.4). */
	n = mk_icmp6(f, our_mac, peer6, our6, 64, 128, 0, 0x12340001, (const uint8_t *)"abcd", 4);
	inject(fx, f, n);
	/* One solicitation each within the first second (a random delay). */
	assert_int_equal(run_until(fx, fx->now + XS_MS(1000), our6, &other), 1);
	expect_drops(fx, XS_DROP_IP6_DST, 1, "echo to a tentative address");
	assert_int_equal(other, 1); /* the link-local's */
	assert_string_equal(addr6_state(fx, our6), "tentative");
	/* RetransTimer later, no answer: ours. */
	assert_int_equal(run_until(fx, fx->now + XS_MS(1100), our6, NULL), 0);
	assert_string_equal(addr6_state(fx, our6), "preferred");
	assert_string_equal(addr6_state(fx, ll), "preferred");
	assert_true(xs_ip6_events(fx->st) & XS_IP6_EV_ADDR);
	/* Now it answers, from that address (the peer is resolved first). */
	learn_peer6(fx);
	n = mk_icmp6(f, our_mac, peer6, our6, 64, 128, 0, 0x12340002, (const uint8_t *)"abcd", 4);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_icmp6_out(f, n, peer_mac, our6, peer6, 129, 0, &mlen);
	assert_int_equal(mlen, 12);
	assert_int_equal(get32(f + L4_6 + 4), 0x12340002);
	assert_memory_equal(f + L4_6 + 8, "abcd", 4);
	expect_nothing_sent(fx, "one reply");
}

static void test_dad_conflict_refuses_static(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	struct xs_ip6_steer s;
	size_t n;

	fx6_enable(fx, 1, 0);
	xs_ip6_events(fx->st);
	run_until(fx, fx->now + XS_MS(1000), NULL, NULL);
	/* The holder of fd00::1 answers our DAD (to all-nodes, RFC 4861 7.2.4),
	 * from that very address, as Linux does. */
	n = mk_na6(f, (const uint8_t *)"\x33\x33\x00\x00\x00\x01", our6, all_nodes6, our6,
		   0x20, peer_mac);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_string_equal(addr6_state(fx, our6), "duplicate");
	assert_int_equal(xs_stack_stats(fx->st)->nd_dad_conflicts, 1);
	assert_true(xs_ip6_events(fx->st) & XS_IP6_EV_DUPLICATE);
	xs_ip6_steer_info(fx->st, &s);
	assert_int_equal(s.naddrs, 1); /* the link-local only */
	/* Never used: stays duplicate past DAD's end; echo to it dropped. */
	run_until(fx, fx->now + XS_SEC(3), NULL, NULL);
	assert_string_equal(addr6_state(fx, our6), "duplicate");
	n = mk_icmp6(f, our_mac, peer6, our6, 64, 128, 0, 1, NULL, 0);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "echo to a duplicate");
	expect_drops(fx, XS_DROP_IP6_DST, 1, "echo to a duplicate");
}

static void test_dad_conflict_linklocal_regenerates(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], ll[16], ll2[16], sn[16], mac[6];
	size_t n;

	fx6_enable(fx, 1, 0);
	our_ll(fx, ll);
	/* Another node's DAD for the same address (an NS from ::). */
	sn6(ll, sn);
	mcast_mac6(sn, mac);
	n = mk_ns6(f, mac, unspec6, sn, ll, 255);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	our_ll(fx, ll2);
	assert_memory_not_equal(ll, ll2, 16);
	assert_memory_equal(ll2, ll, 8); /* fe80::/64 still */
	assert_string_equal(addr6_state(fx, ll2), "tentative");
	assert_null(addr6_state(fx, ll));
	assert_true(xs_ip6_events(fx->st) & XS_IP6_EV_DUPLICATE);
	/* The new identifier gets its own DAD, then is ours. */
	assert_int_equal(run_until(fx, fx->now + XS_MS(2200), ll2, NULL), 1);
	assert_string_equal(addr6_state(fx, ll2), "preferred");
}

static void test_resolution_gives_up(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], sn[16], mac[6];
	struct pres p = {0};
	unsigned ns = 0;
	size_t n, mlen;
	struct xs_ping h;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	h = ping6(fx, &p, peer6, 1, 8);
	sn6(peer6, sn);
	mcast_mac6(sn, mac);
	assert_string_equal(nd_state(fx, peer6), "incomplete");
	/* RFC 4861 7.2.2: three multicast solicitations, RetransTimer apart. */
	for (int i = 0; i < 40 && !p.calls; i++) {
		fx_poll(fx, fx->now + XS_MS(100));
		while ((n = take(fx, f))) {
			const uint8_t *m = check_icmp6_out(f, n, mac, our6, sn, 135, 0, &mlen);

			assert_int_equal(f[ETH_LEN + 7], 255);
			assert_memory_equal(m + 8, peer6, 16);
			assert_int_equal(m[24], 1); /* our SLL */
			assert_memory_equal(m + 26, our_mac, 6);
			ns++;
		}
	}
	assert_int_equal(ns, 3);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.r.error, -EHOSTUNREACH);
	assert_int_equal(p.r.icmp_type, 1);
	assert_int_equal(p.r.icmp_code, 3);
	assert_null(nd_state(fx, peer6));
	expect_drops(fx, XS_DROP_ND_UNRESOLVED, 1, "the waiting echo");
	xs_ping_close(fx->st, h);
}

static void test_nud_states(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], sn[16], mac[6];
	struct pres p = {0};
	size_t n, mlen;
	struct xs_ping h;
	int probes = 0;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	h = ping6(fx, &p, peer6, 1, 8);
	fx_poll(fx, fx->now);
	sn6(peer6, sn);
	mcast_mac6(sn, mac);
	n = take(fx, f);
	check_icmp6_out(f, n, mac, our6, sn, 135, 0, &mlen);
	/* A solicited NA: REACHABLE, and the echo that waited leaves. */
	inject(fx, f, mk_na6(f, our_mac, peer6, our6, peer6, 0x60, peer_mac));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_icmp6_out(f, n, peer_mac, our6, peer6, 128, 0, &mlen);
	assert_string_equal(nd_state(fx, peer6), "reachable");
	/* ReachableTime (15-45 s) later: STALE. */
	fx_poll(fx, fx->now + XS_SEC(46));
	fx_poll(fx, fx->now + XS_MS(100));
	assert_string_equal(nd_state(fx, peer6), "stale");
	expect_nothing_sent(fx, "stale is quiet");
	/* Used: the packet goes at once, DELAY, then PROBE by unicast. */
	assert_int_equal(xs_ping_send_addr(fx->st, h, &(struct xs_addr){XS_AF_INET6, {0xfd, [15] = 2}},
					   2, 8), 0);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_icmp6_out(f, n, peer_mac, our6, peer6, 128, 0, &mlen);
	assert_string_equal(nd_state(fx, peer6), "delay");
	fx_poll(fx, fx->now + XS_MS(4900));
	assert_string_equal(nd_state(fx, peer6), "delay");
	for (int i = 0; i < 50; i++) {
		fx_poll(fx, fx->now + XS_MS(100));
		while ((n = take(fx, f))) {
			const uint8_t *m = check_icmp6_out(f, n, peer_mac, our6, peer6, 135, 0, &mlen);

			assert_memory_equal(m + 8, peer6, 16);
			probes++;
		}
		if (probes == 1) {
			assert_string_equal(nd_state(fx, peer6), "probe");
			break;
		}
	}
	/* A solicited answer: REACHABLE again. */
	inject(fx, f, mk_na6(f, our_mac, peer6, our6, peer6, 0x40, NULL));
	fx_poll(fx, fx->now);
	assert_string_equal(nd_state(fx, peer6), "reachable");
	/* Stale, used, probed three times unanswered: gone. */
	fx_poll(fx, fx->now + XS_SEC(46));
	fx_poll(fx, fx->now + XS_MS(100));
	assert_int_equal(xs_ping_send_addr(fx->st, h, &(struct xs_addr){XS_AF_INET6, {0xfd, [15] = 2}},
					   3, 8), 0);
	fx_poll(fx, fx->now);
	take(fx, f);
	probes = 0;
	for (int i = 0; i < 100 && nd_state(fx, peer6); i++) {
		fx_poll(fx, fx->now + XS_MS(100));
		while (take(fx, f))
			probes++;
	}
	assert_int_equal(probes, 3);
	assert_null(nd_state(fx, peer6));
	xs_ping_close(fx->st, h);
}

static void test_ns_answered_and_learned(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], sn[16], mac[6];
	size_t n, mlen;
	const uint8_t *m;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	sn6(our6, sn);
	mcast_mac6(sn, mac);
	inject(fx, f, mk_ns6(f, mac, peer6, sn, our6, 255));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	m = check_icmp6_out(f, n, peer_mac, our6, peer6, 136, 0, &mlen);
	assert_int_equal(f[ETH_LEN + 7], 255);
	assert_int_equal(m[4], 0x60); /* solicited, override; not a router */
	assert_memory_equal(m + 8, our6, 16);
	assert_int_equal(m[24], 2); /* TLL */
	assert_memory_equal(m + 26, our_mac, 6);
	/* RFC 4861 7.2.3: the sender is STALE (the answer went to its SLL). */
	assert_string_equal(nd_state(fx, peer6), "stale");
	/* A DAD of someone else for our address: defended to all-nodes. */
	inject(fx, f, mk_ns6(f, mac, unspec6, sn, our6, 255));
	fx_poll(fx, fx->now);
	n = take(fx, f);
	m = check_icmp6_out(f, n, (const uint8_t *)"\x33\x33\x00\x00\x00\x01", our6, all_nodes6,
			    136, 0, &mlen);
	assert_int_equal(m[4], 0x20);
	expect_nothing_sent(fx, "two answers");
	/* A solicitation for someone else: not ours. */
	inject(fx, f, mk_ns6(f, mac, peer6, sn, other6, 255));
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "not ours");
	expect_drops(fx, XS_DROP_ND_NOT_OURS, 1, "NS for another target");
}

static void test_nd_hostile(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], sn[16], mac[6], target[16];
	size_t n;
	int i;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	sn6(our6, sn);
	mcast_mac6(sn, mac);
	/* Hop limit other than 255: from off the link. */
	inject(fx, f, mk_ns6(f, mac, peer6, sn, our6, 64));
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "hop limit 64");
	expect_drops(fx, XS_DROP_ND_HOP_LIMIT, 1, "hop limit 64");
	assert_null(nd_state(fx, peer6));
	/* An option running past the end. */
	n = mk_ns6(f, mac, peer6, sn, our6, 255);
	f[L4_6 + 25] = 3;
	put16(f + L4_6 + 2, 0);
	put16(f + L4_6 + 2, csum6(peer6, sn, 58, f + L4_6, 32));
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_ND_OPT, 1, "option past the end");
	/* Advertisements nobody asked for teach nothing, a thousand of them. */
	memcpy(target, peer6, 16);
	for (i = 0; i < 1000; i++) {
		put16(target + 12, (uint16_t)i);
		inject(fx, f, mk_na6(f, our_mac, peer6, our6, target, 0x60, peer_mac));
		if (i % 32 == 31)
			fx_poll(fx, fx->now);
	}
	fx_poll(fx, fx->now);
	assert_int_equal(nd_count(fx), 0);
	expect_drops(fx, XS_DROP_ND_UNSOLICITED, 1000, "NA flood");
	/* A neighbour in use survives a flood of solicitations from 1000
	 * made-up senders; the cache stays at its size. */
	learn_peer6(fx);
	{
		struct pres p = {0};
		struct xs_ping h = ping6(fx, &p, peer6, 1, 8); /* sent through it: in use */

		fx_poll(fx, fx->now);
		assert_int_equal(take(fx, f), 0 + L4_6 + 16);
		xs_ping_close(fx->st, h);
	}
	for (i = 0; i < 1000; i++) {
		uint8_t src[16];

		memcpy(src, other6, 16);
		put16(src + 12, (uint16_t)i);
		inject(fx, f, mk_ns6(f, mac, src, sn, our6, 255));
		if (i % 16 == 15) {
			fx_poll(fx, fx->now);
			while (take(fx, f))
				;
		}
	}
	fx_poll(fx, fx->now);
	while (take(fx, f))
		;
	assert_non_null(nd_state(fx, peer6));
	assert_true(nd_count(fx) <= XS_ND_CACHE_SIZE);
	assert_true(xs_stack_stats(fx->st)->nd_chain_max < 16);
}

/* One fragment (hop limit 255, as NDP's) of the ICMPv6 message m: bytes
 * [off, off + n) with M, from peer6 to our6. */
static size_t mk_nd_frag(uint8_t *b, const uint8_t *m, size_t off, size_t n, bool more)
{
	uint8_t *fh = b + L4_6;

	fh[0] = 58;
	fh[1] = 0;
	put16(fh + 2, (uint16_t)(off | (more ? 1 : 0)));
	put32(fh + 4, 0x6980);
	memcpy(fh + 8, m + off, n);
	return mk_ip6(b, our_mac, peer_mac, peer6, our6, 44, 255, 8 + n);
}

/* RFC 6980 5: neighbor discovery in fragments (RA Guard's blind spot) or
 * behind an atomic Fragment header is ignored, and counted. */
static void test_nd_fragmented_ignored(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], m[FRAME_MAX];
	size_t n;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	/* A solicitation for our address with the peer's SLL, unicast. */
	n = mk_ns6(f, our_mac, peer6, our6, our6, 255);
	memcpy(m, f + L4_6, 32);
	(void)n;
	inject(fx, f, mk_nd_frag(f, m, 0, 16, true));
	inject(fx, f, mk_nd_frag(f, m, 16, 16, false));
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "fragmented NS");
	assert_null(nd_state(fx, peer6));
	expect_drops(fx, XS_DROP_ND_FRAG, 1, "fragmented NS");
	inject(fx, f, mk_nd_frag(f, m, 0, 32, false));
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "atomic fragment NS");
	assert_null(nd_state(fx, peer6));
	expect_drops(fx, XS_DROP_ND_FRAG, 1, "atomic fragment NS");
	/* Whole, it is answered. */
	inject(fx, f, mk_ns6(f, our_mac, peer6, our6, our6, 255));
	fx_poll(fx, fx->now);
	assert_true(take(fx, f) > 0);
	assert_non_null(nd_state(fx, peer6));
}

static void test_icmp6_param_problems(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], pkt[200];
	size_t n, mlen, plen;
	const uint8_t *m;
	int i;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	learn_peer6(fx);
	/* An unknown upper layer (253): code 1 at the Next Header byte, the
	 * packet quoted whole. */
	memset(f + L4_6, 0xab, 16);
	n = mk_ip6(f, our_mac, peer_mac, peer6, our6, 253, 64, 16);
	plen = 40 + 16;
	memcpy(pkt, f + ETH_LEN, plen);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	m = check_icmp6_out(f, n, peer_mac, our6, peer6, 4, 1, &mlen);
	assert_int_equal(get32(m + 4), 6);
	assert_int_equal(mlen, 8 + plen);
	assert_memory_equal(m + 8, pkt, plen);
	expect_drops(fx, XS_DROP_IP6_NEXT_HDR, 1, "next header 253");
	/* Hop-by-hop after a Destination Options header: code 1 at offset 40. */
	memset(f + L4_6, 0, 16);
	f[L4_6] = 0; /* DST -> HBH */
	f[L4_6 + 8] = 59;
	n = mk_ip6(f, our_mac, peer_mac, peer6, our6, 60, 64, 16);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	m = check_icmp6_out(f, n, peer_mac, our6, peer6, 4, 1, &mlen);
	assert_int_equal(get32(m + 4), 40);
	expect_drops(fx, XS_DROP_IP6_EXT_ORDER, 1, "HBH not first");
	/* No error about an ICMPv6 error (RFC 4443 2.4 (e.1)): an unknown
	 * option of action 10 in front of a Destination Unreachable. */
	memset(f + L4_6, 0, 16);
	f[L4_6] = 58;
	f[L4_6 + 2] = 0x9e;
	f[L4_6 + 3] = 4;
	f[L4_6 + 8] = 1;
	n = mk_ip6(f, our_mac, peer_mac, peer6, our6, 60, 64, 16);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "about an error");
	expect_drops(fx, XS_DROP_IP6_OPT_UNKNOWN, 1, "option 10 before an error");
	/* The bucket: 50 deep, then counted, not sent. */
	for (i = 0; i < 60; i++) {
		memset(f + L4_6, 0, 16);
		n = mk_ip6(f, our_mac, peer_mac, peer6, our6, 253, 64, 16);
		inject(fx, f, n);
		if (i % 16 == 15 || i == 59) {
			fx_poll(fx, fx->now);
			while (take(fx, f))
				;
		}
	}
	assert_true(xs_stack_stats(fx->st)->drop[XS_DROP_ICMP6_RATE] >= 8);
}

static void test_packet_too_big(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], req[1500];
	struct pres p = {0};
	size_t n, mlen, frags = 0;
	struct xs_ping h;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	learn_peer6(fx);
	h = ping6(fx, &p, peer6, 1, 1400);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_icmp6_out(f, n, peer_mac, our6, peer6, 128, 0, &mlen);
	assert_int_equal(mlen, 1408);
	memcpy(req, f + ETH_LEN, 40 + 1232);
	/* Below 1280: ignored and counted (RFC 8201 4, RFC 8021). */
	inject(fx, f, mk_icmp6(f, our_mac, peer6, our6, 64, 2, 0, 1000, req, 1232));
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_ICMP6_PTB_SMALL, 1, "PTB 1000");
	assert_int_equal(xs_ip6_pmtu(fx->st, peer6), 1500);
	/* 1300: learned; the next echo of 1400 goes in fragments within it. */
	inject(fx, f, mk_icmp6(f, our_mac, peer6, our6, 64, 2, 0, 1300, req, 1232));
	fx_poll(fx, fx->now);
	assert_int_equal(xs_ip6_pmtu(fx->st, peer6), 1300);
	assert_int_equal(xs_stack_stats(fx->st)->ip6_pmtu_updates, 1);
	assert_int_equal(xs_ping_send_addr(fx->st, h, &(struct xs_addr){XS_AF_INET6, {0xfd, [15] = 2}},
					   2, 1400), 0);
	fx_poll(fx, fx->now);
	while ((n = take(fx, f))) {
		check_ip6_out(f, n, peer_mac, our6, peer6, 44, &mlen);
		assert_true(40 + mlen <= 1300);
		frags++;
	}
	assert_int_equal(frags, 2);
	/* A PTB quoting a packet we never sent (not from our address) is bad. */
	memset(req + 8, 0x11, 16);
	inject(fx, f, mk_icmp6(f, our_mac, peer6, our6, 64, 2, 0, 1280, req, 1232));
	fx_poll(fx, fx->now);
	expect_drops(fx, XS_DROP_ICMP6_ERR_BAD, 1, "foreign quote");
	/* Forgotten after 10 minutes. */
	fx_poll(fx, fx->now + XS_SEC(601));
	assert_int_equal(xs_ip6_pmtu(fx->st, peer6), 1500);
	xs_ping_close(fx->st, h);
}

static void test_echo_reply_reaches_ping(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	struct pres p = {0};
	size_t n, mlen;
	const uint8_t *m;
	struct xs_ping h;

	fx6_enable(fx, XS_IP6_NO_DAD, 0);
	learn_peer6(fx);
	h = ping6(fx, &p, peer6, 7, 16);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	m = check_icmp6_out(f, n, peer_mac, our6, peer6, 128, 0, &mlen);
	inject(fx, f, mk_icmp6(f, our_mac, peer6, our6, 61, 129, 0, get32(m + 4), m + 8, 16));
	fx_poll(fx, fx->now);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.r.error, 0);
	assert_int_equal(p.r.seq, 7);
	assert_int_equal(p.r.ttl, 61);
	assert_int_equal(p.r.bytes, 24);
	assert_int_equal(p.r.from_addr.family, XS_AF_INET6);
	assert_memory_equal(p.r.from_addr.a, peer6, 16);
	xs_ping_close(fx->st, h);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_dad_then_preferred),
	    T(test_dad_conflict_refuses_static),
	    T(test_dad_conflict_linklocal_regenerates),
	    T(test_resolution_gives_up),
	    T(test_nud_states),
	    T(test_ns_answered_and_learned),
	    T(test_nd_hostile),
	    T(test_nd_fragmented_ignored),
	    T(test_icmp6_param_problems),
	    T(test_packet_too_big),
	    T(test_echo_reply_reaches_ping),
	};
#undef T
	return cmocka_run_group_tests_name("nd", tests, NULL, NULL);
}
