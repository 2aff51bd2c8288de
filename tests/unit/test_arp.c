/* Whole-stack ARP tests over the in-memory device (RFC 826, RFC 5227, RFC 1122
 * 2.3.2): replies, learning, conflicts, resolution with retries and aging on a
 * virtual clock, and the bounds of the cache and of the queue of waiting packets. */
#include "net/arp.h"
#include "stack_fixture.h"

/* --- answering and learning ------------------------------------------------------- */

static void test_arp_request_gets_one_reply(void **state)
{
	struct fx *fx = *state;
	const struct xs_stats *s = xs_stack_stats(fx->st);
	uint8_t f[FRAME_MAX];
	const uint8_t *a = f + ETH_LEN;
	size_t n, i;
	int unicast;

	/* Broadcast request, then a unicast one (a refresh, as Linux sends). */
	for (unicast = 0; unicast < 2; unicast++) {
		n = mk_arp(f, unicast ? our_mac : bcast_mac, 1, peer_mac, PEER_IP, zero_mac,
			   OUR_IP);
		inject(fx, f, n);
		fx_poll(fx, fx->now + XS_MS(10));
		memset(f, 0xaa, sizeof(f));
		n = take(fx, f);
		assert_int_equal(n, MIN_FRAME);
		expect_nothing_sent(fx, "exactly one reply");
		assert_memory_equal(f, peer_mac, 6);
		assert_memory_equal(f + 6, our_mac, 6);
		assert_int_equal(get16(f + 12), 0x0806);
		assert_int_equal(get16(a), 1);
		assert_int_equal(get16(a + 2), 0x0800);
		assert_int_equal(a[4], 6);
		assert_int_equal(a[5], 4);
		assert_int_equal(get16(a + 6), 2);
		assert_memory_equal(a + 8, our_mac, 6);
		assert_int_equal(get32(a + 14), OUR_IP);
		assert_memory_equal(a + 18, peer_mac, 6);
		assert_int_equal(get32(a + 24), PEER_IP);
		for (i = ETH_LEN + 28; i < MIN_FRAME; i++)
			assert_int_equal(f[i], 0);
	}
	assert_int_equal(s->arp_rx_request, 2);
	assert_int_equal(s->arp_tx_reply, 2);
	expect_drops(fx, XS_DROP_NONE, 0, "arp request");
}

static void test_arp_request_for_other_ip(void **state)
{
	struct fx *fx = *state;
	struct xs_arp_entry_info e[4];
	uint8_t f[FRAME_MAX];
	size_t n;

	n = mk_arp(f, bcast_mac, 1, peer_mac, PEER_IP, zero_mac, OTHER_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "not ours");
	expect_drops(fx, XS_DROP_ARP_NOT_OURS, 1, "not ours");
	/* Nothing learned from a conversation that is not ours (RFC 826). */
	assert_int_equal(arp_list(fx, e, 4), 0);
	/* A reply between two other hosts likewise. */
	n = mk_arp(f, bcast_mac, 2, peer_mac, PEER_IP, peer2_mac, OTHER_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "reply not ours");
	expect_drops(fx, XS_DROP_ARP_NOT_OURS, 1, "reply not ours");
	assert_int_equal(arp_list(fx, e, 4), 0);
}

static void test_arp_learned_entry_listed(void **state)
{
	struct fx *fx = *state;
	struct xs_arp_entry_info e[4];
	uint8_t f[FRAME_MAX];
	size_t n;

	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(arp_list(fx, e, 4), 1);
	assert_int_equal(e[0].ip, PEER_IP);
	assert_memory_equal(e[0].mac, peer_mac, 6);
	assert_int_equal(e[0].resolved, 1);
	assert_int_equal(e[0].expires_ms, 60000);
	assert_int_equal(arp_list(fx, e, 0), 0);

	/* Ten seconds later the entry is older. */
	fx_poll(fx, fx->now + XS_SEC(10));
	assert_int_equal(arp_list(fx, e, 4), 1);
	assert_int_equal(e[0].expires_ms, 50000);

	/* RFC 826 merge: a known sender is refreshed (new MAC, new life) by any
	 * ARP it sends, even one not for us, and that is not a drop. */
	n = mk_arp(f, bcast_mac, 1, peer2_mac, PEER_IP, zero_mac, OTHER_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "merge");
	expect_drops(fx, XS_DROP_NONE, 0, "merge");
	assert_int_equal(arp_list(fx, e, 4), 1);
	assert_memory_equal(e[0].mac, peer2_mac, 6);
	assert_int_equal(e[0].expires_ms, 60000);

	/* A reply for us that we did not ask for teaches nothing (Linux's
	 * arp_accept=0): new entries come from requests for us only. */
	n = mk_arp(f, our_mac, 2, gw_mac, GW_IP, our_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "unsolicited reply");
	expect_drops(fx, XS_DROP_ARP_UNSOLICITED, 1, "unsolicited reply");
	assert_int_equal(arp_list(fx, e, 4), 1);
}

static void test_arp_conflict(void **state)
{
	struct fx *fx = *state;
	struct xs_arp_entry_info e[4];
	uint8_t f[FRAME_MAX];
	size_t n;

	/* Another host announces our address. */
	n = mk_arp(f, bcast_mac, 1, peer_mac, OUR_IP, zero_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "conflict announcement");
	expect_drops(fx, XS_DROP_ARP_CONFLICT, 1, "conflict announcement");
	/* Another host answers for our address. */
	n = mk_arp(f, our_mac, 2, peer_mac, OUR_IP, our_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "conflict reply");
	expect_drops(fx, XS_DROP_ARP_CONFLICT, 1, "conflict reply");
	/* Our own announcement looped back is not a conflict. */
	n = mk_arp(f, bcast_mac, 1, our_mac, OUR_IP, zero_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	expect_nothing_sent(fx, "own announcement");
	expect_drops(fx, XS_DROP_ARP_SRC, 1, "own announcement");
	assert_int_equal(arp_list(fx, e, 4), 0);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_ARP_CONFLICT], 2);
}

static void test_arp_probe_answered(void **state)
{
	struct fx *fx = *state;
	struct xs_arp_entry_info e[4];
	uint8_t f[FRAME_MAX];
	size_t n;

	/* RFC 5227 probe (sender 0.0.0.0) for our address: defended, nothing learned. */
	n = mk_arp(f, bcast_mac, 1, peer_mac, 0, zero_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	assert_int_equal(n, MIN_FRAME);
	assert_int_equal(get16(f + ETH_LEN + 6), 2);
	assert_memory_equal(f, peer_mac, 6);
	expect_nothing_sent(fx, "probe");
	expect_drops(fx, XS_DROP_NONE, 0, "probe");
	assert_int_equal(arp_list(fx, e, 4), 0);
}

/* --- resolution: retries, aging, bounded queues -------------------------------- */

static void test_arp_retries_then_drop(void **state)
{
	struct fx *fx = *state;
	struct xs_arp_entry_info e[4];
	uint8_t f[FRAME_MAX];
	const xs_time_t t0 = XS_SEC(5);
	size_t n;
	struct xs_udp h = xs_udp_open(fx->st);
	int i;

	fx_poll(fx, t0);
	assert_int_equal(xs_udp_sendto(fx->st, h, "one", 3, PEER_IP, 9), 3);
	assert_int_equal(xs_udp_sendto(fx->st, h, "two", 3, PEER_IP, 9), 3);
	fx_poll(fx, t0);
	n = take(fx, f);
	check_arp_request(f, n, PEER_IP);
	expect_nothing_sent(fx, "one request for two datagrams");

	/* Requests at t0, t0 + 1 s, t0 + 2 s; nothing in between. */
	for (i = 1; i <= 2; i++) {
		fx_poll(fx, t0 + XS_SEC(i) - XS_MS(100));
		expect_nothing_sent(fx, "before the retry");
		fx_poll(fx, t0 + XS_SEC(i));
		n = take(fx, f);
		if (!n)
			fail_msg("no retry %d at t0 + %d s", i, i);
		check_arp_request(f, n, PEER_IP);
		expect_nothing_sent(fx, "one retry");
		assert_int_equal(arp_list(fx, e, 4), 1);
		assert_int_equal(e[0].resolved, 0);
	}
	expect_drops(fx, XS_DROP_NONE, 0, "still waiting");
	fx_poll(fx, t0 + XS_SEC(3) - XS_MS(100));
	expect_nothing_sent(fx, "before giving up");
	expect_drops(fx, XS_DROP_NONE, 0, "before giving up");

	/* After the third request went unanswered for 1 s: both datagrams dropped. */
	fx_poll(fx, t0 + XS_SEC(3));
	expect_nothing_sent(fx, "no fourth request");
	expect_drops(fx, XS_DROP_ARP_UNRESOLVED, 2, "unresolved");
	assert_int_equal(arp_list(fx, e, 4), 0);
	fx_poll(fx, t0 + XS_SEC(30));
	expect_nothing_sent(fx, "quiet afterwards");
	assert_int_equal(xs_stack_stats(fx->st)->arp_tx_request, 2 + 3);

	/* A late answer is not a reply we wait for and teaches us nothing. */
	n = mk_arp(f, our_mac, 2, peer_mac, PEER_IP, peer2_mac, OTHER_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_equal(arp_list(fx, e, 4), 0);
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_arp_retries_configurable(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .arp_retry_ms = 250, .arp_retries = 2};
	uint8_t f[FRAME_MAX];
	size_t n;
	struct xs_udp h;

	fx_restart(fx, &cfg, 1500, 64, true);
	h = xs_udp_open(fx->st);
	assert_int_equal(xs_udp_sendto(fx->st, h, "x", 1, PEER_IP, 9), 1);
	fx_poll(fx, fx->now);
	check_arp_request(f, take(fx, f), PEER_IP);
	fx_poll(fx, fx->now + XS_MS(200));
	expect_nothing_sent(fx, "200 ms");
	fx_poll(fx, fx->now + XS_MS(100));
	n = take(fx, f);
	check_arp_request(f, n, PEER_IP);
	fx_poll(fx, fx->now + XS_MS(300));
	expect_nothing_sent(fx, "two requests only");
	expect_drops(fx, XS_DROP_ARP_UNRESOLVED, 1, "gave up after two");
}

static void test_arp_entry_aging(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .arp_lifetime_ms = 5000};
	struct xs_arp_entry_info e[4];
	uint8_t f[FRAME_MAX];
	xs_time_t t0;
	size_t n;
	struct xs_udp h;

	fx_restart(fx, &cfg, 1500, 64, true);
	t0 = XS_SEC(10);
	fx_poll(fx, t0);
	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(arp_list(fx, e, 4), 1);
	assert_int_equal(e[0].expires_ms, 5000);

	fx_poll(fx, t0 + XS_MS(4900));
	assert_int_equal(arp_list(fx, e, 4), 1);
	assert_int_equal(e[0].expires_ms, 100);
	fx_poll(fx, t0 + XS_MS(5000));
	assert_int_equal(arp_list(fx, e, 4), 0);
	expect_nothing_sent(fx, "silent expiry");
	expect_drops(fx, XS_DROP_NONE, 0, "expiry drops nothing");

	/* Once forgotten, sending needs a new resolution. */
	h = xs_udp_open(fx->st);
	assert_int_equal(xs_udp_sendto(fx->st, h, "x", 1, PEER_IP, 9), 1);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_arp_request(f, n, PEER_IP);
	expect_nothing_sent(fx, "re-resolve");

	/* An entry refreshed by the peer's ARP lives on. */
	n = mk_arp(f, our_mac, 2, peer_mac, PEER_IP, our_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_not_equal(take(fx, f), 0); /* the waiting datagram */
	t0 = fx->now;
	fx_poll(fx, t0 + XS_MS(3000));
	learn_peer(fx, peer_mac, PEER_IP);
	fx_poll(fx, t0 + XS_MS(7000));
	assert_int_equal(arp_list(fx, e, 4), 1);
	fx_poll(fx, t0 + XS_MS(8000));
	assert_int_equal(arp_list(fx, e, 4), 0);
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

/* A unicast request from us to mac, asking for tpa (RFC 1122 2.3.2.1 (2)). */
static void check_arp_poll(const uint8_t *f, size_t len, const uint8_t *mac, uint32_t tpa)
{
	uint8_t b[FRAME_MAX];

	assert_int_equal(len, MIN_FRAME);
	assert_memory_equal(f, mac, 6);
	memcpy(b, f, len);
	memcpy(b, bcast_mac, 6); /* otherwise the broadcast request */
	check_arp_request(b, len, tpa);
}

/* The soak's finding: an entry in use that reached the end of its life was
 * dropped, so every minute a busy flow's packets waited for a broadcast
 * resolution and all past 64 were lost (drop_arp_queue_full). Now it stays
 * usable while unicast polls ask the neighbour; only silence removes it. */
static void test_arp_entry_in_use_is_polled_not_dropped(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .arp_lifetime_ms = 5000};
	const struct xs_stats *s;
	struct xs_arp_entry_info e[4];
	uint8_t f[FRAME_MAX];
	xs_time_t t0;
	size_t n;
	struct xs_udp h;
	int i;

	fx_restart(fx, &cfg, 1500, 64, true);
	s = xs_stack_stats(fx->st);
	t0 = XS_SEC(10);
	fx_poll(fx, t0);
	learn_peer(fx, peer_mac, PEER_IP);
	h = xs_udp_open(fx->st);
	fx_poll(fx, t0 + XS_MS(4000));
	assert_int_equal(xs_udp_sendto(fx->st, h, "a", 1, PEER_IP, 9), 1);
	fx_poll(fx, fx->now);
	assert_int_not_equal(take(fx, f), 0);
	assert_memory_equal(f, peer_mac, 6);

	/* End of life while in use: a unicast poll, and the entry still serves. */
	fx_poll(fx, t0 + XS_MS(5000));
	check_arp_poll(f, take(fx, f), peer_mac, PEER_IP);
	expect_nothing_sent(fx, "one poll");
	assert_int_equal(arp_list(fx, e, 4), 1);
	assert_int_equal(e[0].resolved, 1);
	/* 40 datagrams (a 64-frame device) leave at once; with the entry
	 * gone they would wait for a broadcast resolution (past 64: lost). */
	for (i = 0; i < 40; i++)
		assert_int_equal(xs_udp_sendto(fx->st, h, "b", 1, PEER_IP, 9), 1);
	fx_poll(fx, fx->now + XS_MS(10));
	for (i = 0; i < 40; i++) {
		n = take(fx, f);
		assert_int_not_equal(n, 0);
		assert_memory_equal(f, peer_mac, 6);
		assert_int_equal(get16(f + 12), 0x0800);
	}
	expect_nothing_sent(fx, "the datagrams, nothing else");
	expect_drops(fx, XS_DROP_NONE, 0, "nothing waits, nothing is lost");

	/* The neighbour answers: a full lifetime again, no more polls. */
	n = mk_arp(f, our_mac, 2, peer_mac, PEER_IP, our_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_equal(arp_list(fx, e, 4), 1);
	assert_int_equal(e[0].expires_ms, 5000);
	t0 = fx->now;
	fx_poll(fx, t0 + XS_MS(4900));
	expect_nothing_sent(fx, "confirmed: quiet");

	/* In use again, and this time the neighbour is gone: three polls a
	 * second apart, still used meanwhile, then the entry goes. */
	assert_int_equal(xs_udp_sendto(fx->st, h, "c", 1, PEER_IP, 9), 1);
	fx_poll(fx, fx->now);
	assert_int_not_equal(take(fx, f), 0);
	for (i = 0; i < 3; i++) {
		fx_poll(fx, t0 + XS_MS(5000) + XS_SEC(i));
		check_arp_poll(f, take(fx, f), peer_mac, PEER_IP);
		expect_nothing_sent(fx, "one poll a second");
		assert_int_equal(arp_list(fx, e, 4), 1);
	}
	fx_poll(fx, t0 + XS_MS(5000) + XS_SEC(3));
	assert_int_equal(arp_list(fx, e, 4), 0);
	expect_nothing_sent(fx, "gave up");
	expect_drops(fx, XS_DROP_NONE, 0, "nothing was waiting");
	assert_int_equal(s->arp_tx_request, 2 + 1 + 3);
	/* Then a new resolution, by broadcast. */
	assert_int_equal(xs_udp_sendto(fx->st, h, "d", 1, PEER_IP, 9), 1);
	fx_poll(fx, fx->now);
	check_arp_request(f, take(fx, f), PEER_IP);
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_arp_entry_default_lifetime(void **state)
{
	struct fx *fx = *state;
	struct xs_arp_entry_info e[4];
	xs_time_t t0 = fx->now;

	learn_peer(fx, peer_mac, PEER_IP);
	fx_poll(fx, t0 + XS_MS(59900));
	assert_int_equal(arp_list(fx, e, 4), 1);
	fx_poll(fx, t0 + XS_SEC(60));
	assert_int_equal(arp_list(fx, e, 4), 0);
}

static void test_arp_pending_queue_bounded(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], msg[2] = {'m', 0};
	const uint8_t *p;
	size_t n, plen;
	struct xs_udp h;
	int i;

	/* Enough frames to send a whole queue at once. */
	fx_restart(fx, NULL, 1500, 4 * ARP_PENDING_PER_ENTRY, true);
	h = xs_udp_open(fx->st);
	assert_int_equal(xs_udp_bind(fx->st, h, 4444), 0);
	/* ARP_PENDING_PER_ENTRY datagrams wait for one next hop; one more is dropped. */
	for (i = 0; i <= ARP_PENDING_PER_ENTRY; i++) {
		msg[1] = (uint8_t)i;
		assert_int_equal(xs_udp_sendto(fx->st, h, msg, 2, PEER_IP, 9), 2);
		if (i < ARP_PENDING_PER_ENTRY)
			expect_drops(fx, XS_DROP_NONE, 0, "queued");
	}
	expect_drops(fx, XS_DROP_ARP_QUEUE_FULL, 1, "one too many");
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_arp_request(f, n, PEER_IP);
	expect_nothing_sent(fx, "one request");

	/* The answer releases them, in the order they were sent. */
	n = mk_arp(f, our_mac, 2, peer_mac, PEER_IP, our_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	for (i = 0; i < ARP_PENDING_PER_ENTRY; i++) {
		n = take(fx, f);
		if (!n)
			fail_msg("datagram %d missing", i);
		p = check_udp_out(f, n, peer_mac, PEER_IP, 4444, 9, &plen);
		assert_int_equal(plen, 2);
		assert_int_equal(p[1], i);
	}
	expect_nothing_sent(fx, "all of them");
	expect_drops(fx, XS_DROP_NONE, 0, "flushed");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_arp_pending_total_bounded(void **state)
{
	const int hosts = ARP_PENDING_SLOTS / ARP_PENDING_PER_ENTRY;
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	size_t n;
	struct xs_udp h = xs_udp_open(fx->st);
	int host, i;

	/* Full queues for ARP_PENDING_SLOTS / ARP_PENDING_PER_ENTRY next hops use
	 * every shared slot; the next host's datagram finds none. */
	for (host = 0; host <= hosts; host++) {
		for (i = 0; i < ARP_PENDING_PER_ENTRY; i++) {
			assert_int_equal(
			    xs_udp_sendto(fx->st, h, "x", 1, 0x0a000010u + (uint32_t)host, 9), 1);
			if (host == hosts)
				break;
		}
	}
	expect_drops(fx, XS_DROP_ARP_QUEUE_FULL, 1, "slots exhausted");
	fx_poll(fx, fx->now);
	for (host = 0; host <= hosts; host++) {
		n = take(fx, f);
		check_arp_request(f, n, 0x0a000010u + (uint32_t)host);
	}
	expect_nothing_sent(fx, "one request per host");
	/* Nobody answers: everything waiting is dropped after the retries. */
	for (i = 1; i <= 3; i++) {
		fx_poll(fx, fx->now + XS_SEC(1));
		while (take(fx, f))
			;
	}
	expect_drops(fx, XS_DROP_ARP_UNRESOLVED, ARP_PENDING_SLOTS, "all unresolved");
	/* The slots are free again. */
	assert_int_equal(xs_udp_sendto(fx->st, h, "x", 1, PEER_IP, 9), 1);
	expect_drops(fx, XS_DROP_NONE, 0, "slots back");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_arp_cache_full_evicts_oldest(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .prefix_len = 16};
	static struct xs_arp_entry_info e[300];
	uint8_t f[FRAME_MAX], mac[6] = {0x52, 0x54, 0x00, 0x01, 0x00, 0x00};
	size_t n, k;
	int i;

	fx_restart(fx, &cfg, 1500, 64, true);
	/* 256 neighbours, the first one learned a millisecond before the rest. */
	for (i = 0; i <= 256; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		n = mk_arp(f, bcast_mac, 1, mac, 0x0a000100u + (uint32_t)i, zero_mac, OUR_IP);
		inject(fx, f, n);
		if (i == 0 || i % 32 == 31 || i == 255 || i == 256) {
			fx_poll(fx, fx->now + XS_MS(1));
			while (take(fx, f))
				;
		}
		if (i == 255)
			assert_int_equal(arp_list(fx, e, 300), 256);
	}
	expect_drops(fx, XS_DROP_NONE, 0, "learning");
	/* The 257th took the place of the oldest. */
	n = arp_list(fx, e, 300);
	assert_int_equal(n, 256);
	for (k = 0; k < n; k++) {
		assert_int_not_equal(e[k].ip, 0x0a000100u);
		assert_int_equal(e[k].resolved, 1);
	}
	for (k = 0; k < n && e[k].ip != 0x0a000200u; k++)
		;
	assert_true(k < n);
}

/* --- policy: what unsolicited traffic may add, and what it may not evict --------- */

static bool arp_has(struct fx *fx, uint32_t ip, bool resolved)
{
	static struct xs_arp_entry_info e[XS_ARP_CACHE_SIZE];
	size_t n = arp_list(fx, e, XS_ARP_CACHE_SIZE), k;

	for (k = 0; k < n; k++)
		if (e[k].ip == ip)
			return e[k].resolved == resolved;
	return false;
}

/* count requests for our address from senders base, base + 1, ... with
 * made-up MACs; every one is answered (the answers are taken). */
static void arp_request_flood(struct fx *fx, uint32_t base, int count)
{
	uint8_t f[FRAME_MAX], mac[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x00};
	uint64_t replies = xs_stack_stats(fx->st)->arp_tx_reply;
	size_t n;
	int i;

	for (i = 0; i < count; i++) {
		mac[3] = (uint8_t)(i >> 16);
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		n = mk_arp(f, bcast_mac, 1, mac, base + (uint32_t)i, zero_mac, OUR_IP);
		inject(fx, f, n);
		if (i % 32 == 31 || i == count - 1) {
			fx_poll(fx, fx->now + XS_MS(1));
			while (take(fx, f))
				;
		}
	}
	assert_int_equal(xs_stack_stats(fx->st)->arp_tx_reply - replies, count);
}

static void test_arp_offlink_sender_not_learned(void **state)
{
	struct fx *fx = *state;
	struct xs_arp_entry_info e[4];
	uint8_t f[FRAME_MAX];
	size_t n;

	/* 192.168.5.5 is not on 10.0.0.0/24: answered (as Linux does), not
	 * learned (we would never send to it directly), counted. */
	n = mk_arp(f, bcast_mac, 1, peer_mac, 0xc0a80505u, zero_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	assert_int_equal(n, MIN_FRAME);
	assert_int_equal(get16(f + ETH_LEN + 6), 2);
	assert_int_equal(get32(f + ETH_LEN + 24), 0xc0a80505u);
	expect_nothing_sent(fx, "one reply");
	expect_drops(fx, XS_DROP_NONE, 0, "answered");
	assert_int_equal(arp_list(fx, e, 4), 0);
	assert_int_equal(xs_stack_stats(fx->st)->arp_refused_offlink, 1);
	/* On-link senders still are. */
	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(arp_list(fx, e, 4), 1);
	assert_int_equal(xs_stack_stats(fx->st)->arp_refused_offlink, 1);
}

static void test_arp_flood_spares_entries_in_use(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .prefix_len = 16, .gateway = GW_IP};
	const struct xs_stats *s;
	uint8_t f[FRAME_MAX];
	size_t n, plen;
	struct xs_udp h;

	fx_restart(fx, &cfg, 1500, 64, true);
	s = xs_stack_stats(fx->st);
	h = xs_udp_open(fx->st);
	assert_int_equal(xs_udp_bind(fx->st, h, 4444), 0);
	/* The gateway asks for us (learned, never sent through); the peer
	 * asks and we send to it (in use); OTHER_IP is being resolved with a
	 * datagram waiting. */
	learn_peer(fx, gw_mac, GW_IP);
	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(xs_udp_sendto(fx->st, h, "p", 1, PEER_IP, 9), 1);
	fx_poll(fx, fx->now);
	check_udp_out(f, take(fx, f), peer_mac, PEER_IP, 4444, 9, &plen);
	assert_int_equal(xs_udp_sendto(fx->st, h, "o", 1, OTHER_IP, 9), 1);
	fx_poll(fx, fx->now);
	check_arp_request(f, take(fx, f), OTHER_IP);
	fx_snap(fx);

	/* 2000 spoofed neighbours on the /16 ask for us within 100 ms: the
	 * cache (256) fills and they evict one another, never the three. */
	arp_request_flood(fx, 0x0a000100u, 2000);
	assert_true(arp_has(fx, GW_IP, true));
	assert_true(arp_has(fx, PEER_IP, true));
	assert_true(arp_has(fx, OTHER_IP, false));
	assert_true(arp_has(fx, 0x0a000100u + 1999, true)); /* the last one learned */
	assert_false(arp_has(fx, 0x0a000100u, true));	    /* the first one evicted */
	assert_int_equal(s->arp_refused_in_use, 0);
	expect_drops(fx, XS_DROP_NONE, 0, "nothing waiting was dropped");

	/* The answer for OTHER_IP still finds its entry and the datagram. */
	n = mk_arp(f, our_mac, 2, peer2_mac, OTHER_IP, our_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	check_udp_out(f, take(fx, f), peer2_mac, OTHER_IP, 4444, 9, &plen);
	expect_nothing_sent(fx, "the waiting datagram only");

	/* Our own resolution (solicited) makes room from the unused entries too. */
	assert_int_equal(xs_udp_sendto(fx->st, h, "q", 1, PEER2_IP, 9), 1);
	fx_poll(fx, fx->now);
	check_arp_request(f, take(fx, f), PEER2_IP);
	assert_true(arp_has(fx, GW_IP, true));
	assert_true(arp_has(fx, PEER_IP, true));
	assert_true(arp_has(fx, OTHER_IP, true));
	expect_drops(fx, XS_DROP_NONE, 0, "solicited eviction");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_arp_full_of_entries_in_use_refuses(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .prefix_len = 16};
	const struct xs_stats *s;
	uint8_t f[FRAME_MAX];
	size_t n;
	struct xs_udp h;
	int i;

	fx_restart(fx, &cfg, 1500, 1024, true); /* 256 retries go out at once */
	s = xs_stack_stats(fx->st);
	h = xs_udp_open(fx->st);
	/* One datagram waits for each of 256 next hops: every entry is in use. */
	for (i = 0; i < XS_ARP_CACHE_SIZE; i++) {
		assert_int_equal(xs_udp_sendto(fx->st, h, "w", 1, 0x0a000200u + (uint32_t)i, 9), 1);
		if (i % 32 == 31) {
			fx_poll(fx, fx->now);
			while (take(fx, f))
				;
		}
	}
	expect_drops(fx, XS_DROP_NONE, 0, "all waiting");
	/* A flood of requests for us is answered, and learns nothing. */
	arp_request_flood(fx, 0x0a000400u, 300);
	assert_int_equal(s->arp_refused_in_use, 300);
	expect_drops(fx, XS_DROP_NONE, 0, "nothing evicted");
	for (i = 0; i < XS_ARP_CACHE_SIZE; i++)
		assert_true(arp_has(fx, 0x0a000200u + (uint32_t)i, false));
	/* An answer we asked for still completes its entry. */
	n = mk_arp(f, our_mac, 2, peer_mac, 0x0a000200u, our_mac, OUR_IP);
	inject(fx, f, n);
	fx_poll(fx, fx->now);
	assert_int_not_equal(take(fx, f), 0);
	expect_nothing_sent(fx, "one datagram released");
	assert_true(arp_has(fx, 0x0a000200u, true));
	/* When they give up, the waiting datagrams are dropped as unresolved
	 * (not evicted by the flood), and new neighbours are learned again. */
	for (i = 1; i <= 3; i++) {
		fx_poll(fx, fx->now + XS_SEC(1));
		while (take(fx, f))
			;
	}
	expect_drops_ign(fx, XS_DROP_ARP_UNRESOLVED, XS_ARP_CACHE_SIZE - 1, XS_DROP_ICMP_RATE,
			 "gave up");
	learn_peer(fx, peer2_mac, PEER2_IP);
	assert_true(arp_has(fx, PEER2_IP, true));
	assert_int_equal(s->arp_refused_in_use, 300);
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

static void test_arp_gateway_is_in_use(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .prefix_len = 16};

	fx_restart(fx, &cfg, 1500, 64, true);
	/* PEER2 asks for us, then becomes the gateway of a route: from then
	 * on a flood cannot evict it, though it was never sent through. */
	learn_peer(fx, peer2_mac, PEER2_IP);
	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(xs_route_add(fx->st, 0x0b000000u, 8, PEER2_IP), 0);
	arp_request_flood(fx, 0x0a000100u, 600);
	assert_true(arp_has(fx, PEER2_IP, true));
	assert_false(arp_has(fx, PEER_IP, true)); /* neither gateway nor used */
	/* Once the route is gone it is an ordinary entry again. */
	assert_int_equal(xs_route_del(fx->st, 0x0b000000u, 8), 0);
	arp_request_flood(fx, 0x0a000400u, 600);
	assert_false(arp_has(fx, PEER2_IP, true));
	expect_drops(fx, XS_DROP_NONE, 0, "flood");
}

/* The bucket the cache used before it was keyed: a multiply and a shift. */
static unsigned old_arp_hash(uint32_t ip)
{
	return (ip * 2654435761u) >> 26;
}

static void test_arp_keyed_hash_spreads(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .prefix_len = 16};
	uint8_t f[FRAME_MAX], mac[6] = {0x52, 0x54, 0x00, 0x66, 0x00, 0x00};
	uint32_t ip;
	size_t n;
	int k = 0;

	fx_restart(fx, &cfg, 1500, 64, true);
	/* 256 neighbours of the /16 that the old hash put in one chain. */
	for (ip = 0x0a000002u; k < XS_ARP_CACHE_SIZE; ip++) {
		if (old_arp_hash(ip) != old_arp_hash(0x0a000002u))
			continue;
		mac[4] = (uint8_t)(k >> 8);
		mac[5] = (uint8_t)k;
		n = mk_arp(f, bcast_mac, 1, mac, ip, zero_mac, OUR_IP);
		inject(fx, f, n);
		if (++k % 32 == 0) {
			fx_poll(fx, fx->now + XS_MS(1));
			while (take(fx, f))
				;
		}
	}
	assert_true(arp_has(fx, 0x0a000002u, true));
	/* 256 entries in 256 keyed buckets: chains of a few, not 256 (a chain
	 * of 12 has odds below 1e-6 for a random function). */
	assert_true(xs_stack_stats(fx->st)->arp_chain_max >= 2);
	assert_true(xs_stack_stats(fx->st)->arp_chain_max <= 12);
	expect_drops(fx, XS_DROP_NONE, 0, "learned");
}

/* The next hop of the last packet sent is remembered (no hash for the
 * next one), never beyond the entry's life: each datagram goes to its own
 * neighbour's MAC, alternating; once the cache is flushed the remembered
 * entry answers nothing and a new resolution starts. */
static void test_arp_last_next_hop_memo(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	size_t n;
	struct xs_udp h;

	learn_peer(fx, peer_mac, PEER_IP);
	learn_peer(fx, peer2_mac, PEER2_IP);
	h = xs_udp_open(fx->st);
	assert_true(h.id >= 0);
	for (int i = 0; i < 4; i++) {
		uint32_t ip = i & 1 ? PEER2_IP : PEER_IP;

		assert_int_equal(xs_udp_sendto(fx->st, h, "x", 1, ip, 9), 1);
		assert_int_equal(xs_udp_sendto(fx->st, h, "y", 1, ip, 9), 1);
		fx_poll(fx, fx->now);
		for (int k = 0; k < 2; k++) {
			n = take(fx, f);
			assert_true(n > 0);
			assert_memory_equal(f, i & 1 ? peer2_mac : peer_mac, 6);
			assert_int_equal(get32(f + ETH_LEN + 16), ip);
		}
		expect_nothing_sent(fx, "two datagrams");
	}
	xs_stack_arp_flush(fx->st);
	assert_int_equal(xs_udp_sendto(fx->st, h, "z", 1, PEER2_IP, 9), 1);
	fx_poll(fx, fx->now);
	n = take(fx, f);
	check_arp_request(f, n, PEER2_IP);
	expect_nothing_sent(fx, "re-resolve");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_arp_request_gets_one_reply),
	    T(test_arp_request_for_other_ip),
	    T(test_arp_learned_entry_listed),
	    T(test_arp_conflict),
	    T(test_arp_probe_answered),
	    T(test_arp_retries_then_drop),
	    T(test_arp_retries_configurable),
	    T(test_arp_entry_aging),
	    T(test_arp_entry_default_lifetime),
	    T(test_arp_pending_queue_bounded),
	    T(test_arp_pending_total_bounded),
	    T(test_arp_cache_full_evicts_oldest),
	    T(test_arp_offlink_sender_not_learned),
	    T(test_arp_flood_spares_entries_in_use),
	    T(test_arp_full_of_entries_in_use_refuses),
	    T(test_arp_gateway_is_in_use),
	    T(test_arp_keyed_hash_spreads),
	    T(test_arp_entry_in_use_is_polled_not_dropped),
	    T(test_arp_last_next_hop_memo),
#undef T
	};

	return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}
