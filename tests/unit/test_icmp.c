/* ICMP over the in-memory device: the error token bucket under frequent polls, and
 * ping results queued (bounded) and delivered after the batch: reply, error, ARP failure. */
#include "stack_fixture.h"

#include "net/arp.h"
#include "net/icmp.h"

/* --- the error token bucket -------------------------------------------------------- */

/* Polls 1 us apart over a virtual second, each with a datagram to a closed
 * port: the burst (50) goes at once, then the rate (100 a second) still goes
 * out. Regression: the bucket credited whole thousandths of a token per poll
 * and restarted its clock each time, so at 1 us a poll earned nothing and,
 * once the burst was spent, no error left again. */
static void test_icmp_bucket_frequent_polls(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .icmp_rate = 100, .icmp_burst = 50};
	uint8_t f[FRAME_MAX], d[FRAME_MAX];
	xs_time_t t0;
	size_t n, m;
	unsigned sent = 0, polls = 0;

	fx_restart(fx, &cfg, 1500, 64, true);
	learn_peer(fx, peer_mac, PEER_IP);
	n = mk_udp(d, PEER_IP, 1, OUR_IP, 9999, "x", 1);
	t0 = fx->now;
	while (fx->now < t0 + XS_SEC(1)) {
		inject(fx, d, n);
		fx_poll(fx, fx->now + 1000);
		polls++;
		while ((m = take(fx, f)) != 0) {
			/* Port unreachable quoting the whole datagram. */
			check_icmp_error(f, m, peer_mac, PEER_IP, 3, 3, d + ETH_LEN, IP_LEN + 9);
			sent++;
		}
	}
	print_message("%u polls, %u errors sent\n", polls, sent);
	assert_int_equal(polls, 1000000);
	/* 50 at once, 100 over the second (the last may miss by a rounding). */
	assert_true(sent >= 149 && sent <= 150);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_ICMP_RATE], polls - sent);
}

/* --- ping results after the batch ------------------------------------------------- */

struct ping_ctx {
	struct fx *fx;
	int calls;
	struct xs_ping_result r;
	uint64_t no_port_seen;	  /* drop_udp_no_port when the callback ran */
	uint64_t unresolved_seen; /* drop_arp_unresolved when the callback ran */
	int resend;		  /* seq to send again from the callback, 0: none */
	uint32_t resend_to;
	struct xs_ping close_h; /* a handle to close from the callback, id -1: none */
};

static void ping_cb(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r, void *ctx)
{
	struct ping_ctx *c = ctx;

	c->calls++;
	c->r = *r;
	c->no_port_seen = xs_stack_stats(st)->drop[XS_DROP_UDP_NO_PORT];
	c->unresolved_seen = xs_stack_stats(st)->drop[XS_DROP_ARP_UNRESOLVED];
	/* Back into the stack: the tables are whole again. */
	if (c->resend) {
		assert_int_equal(xs_ping_send(st, h, c->resend_to, (uint16_t)c->resend, 8), 0);
		c->resend = 0;
	}
	if (c->close_h.id >= 0) {
		assert_int_equal(xs_ping_close(st, c->close_h), 0);
		c->close_h = (struct xs_ping)XS_NO_HANDLE;
	}
}

/* The echo request of a ping just sent: its identifier. */
static uint16_t take_echo(struct fx *fx, uint32_t dst, uint16_t seq)
{
	uint8_t f[FRAME_MAX];
	size_t n = take(fx, f), l4len;
	const uint8_t *m = check_ip_out(f, n, peer_mac, dst, 1, &l4len);

	assert_int_equal(m[0], 8);
	assert_int_equal(get16(m + 6), seq);
	return get16(m + 4);
}

/* The peer's echo reply to (id, seq) with 8 bytes of data. */
static size_t mk_reply(uint8_t *f, uint16_t id, uint16_t seq)
{
	static const uint8_t data[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	size_t n = mk_echo(f, PEER_IP, OUR_IP, id, seq, data, sizeof(data));

	f[L4_OFF] = 0;
	put16(f + L4_OFF + 2, 0);
	put16(f + L4_OFF + 2, sum_fold(sum_add(0, f + L4_OFF, 16)));
	return n;
}

/* An echo reply first in a batch, a datagram to a closed port after it: the
 * callback runs once the whole batch was parsed (the later frame is already
 * counted), and may send the next request from there. */
static void test_ping_reply_after_batch(void **state)
{
	struct fx *fx = *state;
	struct ping_ctx c = {.fx = fx, .close_h = XS_NO_HANDLE};
	uint8_t f[FRAME_MAX], d[FRAME_MAX];
	uint16_t id;
	struct xs_ping h;

	learn_peer(fx, peer_mac, PEER_IP);
	fx_snap(fx);
	h = xs_ping_open(fx->st, ping_cb, &c);
	assert_true(h.id >= 0);
	assert_int_equal(xs_ping_send(fx->st, h, PEER_IP, 1, 8), 0);
	fx_poll(fx, fx->now);
	id = take_echo(fx, PEER_IP, 1);
	inject(fx, f, mk_reply(f, id, 1));
	inject(fx, d, mk_udp(d, PEER_IP, 1, OUR_IP, 9999, "x", 1));
	c.resend = 2;
	c.resend_to = PEER_IP;
	fx_poll(fx, fx->now + XS_MS(1));
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.r.error, 0);
	assert_int_equal(c.r.seq, 1);
	assert_int_equal(c.no_port_seen, 1); /* the frame after the reply was parsed */
	/* The port unreachable, and the request the callback sent. */
	assert_true(take(fx, f));
	assert_int_equal(take_echo(fx, PEER_IP, 2), id);
	expect_drops(fx, XS_DROP_UDP_NO_PORT, 1, "closed port");
	assert_int_equal(xs_ping_close(fx->st, h), 0);
}

/* A result queued for a handle that a callback closes in the same delivery
 * is dropped, even when the slot is opened again before the next poll. */
static void test_ping_result_of_closed_handle_dropped(void **state)
{
	struct fx *fx = *state;
	struct ping_ctx a = {.fx = fx, .close_h = XS_NO_HANDLE}, b = {.fx = fx, .close_h = XS_NO_HANDLE};
	uint8_t f[FRAME_MAX];
	uint16_t ida, idb;
	struct xs_ping ha, hb, h2;

	learn_peer(fx, peer_mac, PEER_IP);
	ha = xs_ping_open(fx->st, ping_cb, &a);
	hb = xs_ping_open(fx->st, ping_cb, &b);
	assert_true(ha.id >= 0 && hb.id >= 0 && ha.id < hb.id);
	assert_int_equal(xs_ping_send(fx->st, ha, PEER_IP, 1, 8), 0);
	assert_int_equal(xs_ping_send(fx->st, hb, PEER_IP, 1, 8), 0);
	fx_poll(fx, fx->now);
	ida = take_echo(fx, PEER_IP, 1);
	idb = take_echo(fx, PEER_IP, 1);
	inject(fx, f, mk_reply(f, ida, 1));
	inject(fx, f, mk_reply(f, idb, 1));
	a.close_h = hb; /* a's callback closes b before b's result is delivered */
	fx_poll(fx, fx->now + XS_MS(1));
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0);
	h2 = xs_ping_open(fx->st, ping_cb, &b);
	assert_int_equal(h2.id, hb.id);
	/* The number is reused; the closed handle stays closed. */
	assert_int_not_equal(h2.gen, hb.gen);
	assert_int_equal(xs_ping_send(fx->st, hb, PEER_IP, 2, 8), -EBADF);
	assert_int_equal(xs_ping_poll_events(fx->st, hb), -EBADF);
	fx_poll(fx, fx->now + XS_MS(1));
	assert_int_equal(b.calls, 0);
	assert_int_equal(xs_ping_close(fx->st, ha), 0);
	assert_int_equal(xs_ping_close(fx->st, h2), 0);
}

/* ARP gives up on a next hop with three pings waiting (RFC 1122 2.3.2.2):
 * each becomes a host unreachable from our own address, delivered after the
 * ARP timer finished with the entry (all three drops already counted); the
 * callback sends again to the same host, which starts a new resolution. */
static void test_ping_arp_failure_after_timer(void **state)
{
	struct fx *fx = *state;
	struct ping_ctx c = {.fx = fx, .close_h = XS_NO_HANDLE};
	uint8_t f[FRAME_MAX];
	struct xs_ping h;
	int i, arps = 0;

	fx_snap(fx);
	h = xs_ping_open(fx->st, ping_cb, &c);
	assert_true(h.id >= 0);
	for (i = 1; i <= 3; i++)
		assert_int_equal(xs_ping_send(fx->st, h, PEER_IP, (uint16_t)i, 8), 0);
	c.resend = 4;
	c.resend_to = PEER_IP;
	fx_poll(fx, fx->now);
	for (i = 1; i <= 3 && !c.calls; i++) {
		while (take(fx, f))
			arps++;
		fx_poll(fx, fx->now + XS_SEC(1));
	}
	assert_int_equal(arps, 3);
	assert_int_equal(c.calls, 3);
	assert_int_equal(c.r.error, -EHOSTUNREACH);
	assert_int_equal(c.r.from, OUR_IP);
	assert_int_equal(c.r.icmp_type, 3);
	assert_int_equal(c.r.icmp_code, 1);
	assert_int_equal(c.unresolved_seen, 3); /* the timer was done with all three */
	expect_drops(fx, XS_DROP_ARP_UNRESOLVED, 3, "three pings");
	/* The request sent from the callback waits for a new ARP request. */
	assert_true(take(fx, f));
	check_arp_request(f, MIN_FRAME, PEER_IP);
	expect_nothing_sent(fx, "one ARP request");
	inject(fx, f, mk_arp(f, our_mac, 2, peer_mac, PEER_IP, our_mac, OUR_IP));
	fx_poll(fx, fx->now);
	take_echo(fx, PEER_IP, 4);
	expect_nothing_sent(fx, "the waiting ping");
	assert_int_equal(xs_ping_close(fx->st, h), 0);
}

/* The result queue is bounded (ICMP_PING_QUEUE): in one poll a batch of 64
 * echo replies, then the ARP timer failing 256 pings waiting for four
 * neighbours that never answer. The first 256 results are delivered, in
 * order; the rest are counted in drop_icmp_ping_queue, none delivered late. */
static void test_ping_queue_bounded(void **state)
{
	struct fx *fx = *state;
	struct ping_ctx a = {.fx = fx, .close_h = XS_NO_HANDLE};
	struct ping_ctx b = {.fx = fx, .close_h = XS_NO_HANDLE};
	struct xs_config cfg = {.ip = OUR_IP, .prefix_len = 24};
	uint8_t f[FRAME_MAX];
	struct xs_ping ha, hb;
	uint16_t idb;
	unsigned i, nb = XS_POLL_BATCH, na = ARP_PENDING_SLOTS;

	assert_true(nb + na > ICMP_PING_QUEUE);
	assert_true(na / ARP_PENDING_PER_ENTRY * ARP_PENDING_PER_ENTRY == na);
	fx_restart(fx, &cfg, 1500, 512, true);
	learn_peer(fx, peer_mac, PEER_IP);
	ha = xs_ping_open(fx->st, ping_cb, &a);
	hb = xs_ping_open(fx->st, ping_cb, &b);
	assert_true(ha.id >= 0 && hb.id >= 0);
	/* b's identifier, from a request to the known peer. */
	assert_int_equal(xs_ping_send(fx->st, hb, PEER_IP, 1, 8), 0);
	fx_poll(fx, fx->now);
	idb = take_echo(fx, PEER_IP, 1);
	/* a: the whole ARP queue, 64 pings to each of four silent neighbours. */
	for (i = 0; i < na; i++)
		assert_int_equal(xs_ping_send(fx->st, ha, 0x0a000014u + i / ARP_PENDING_PER_ENTRY,
					      (uint16_t)i, 8),
				 0);
	fx_snap(fx);
	fx_poll(fx, fx->now);
	/* Three rounds of requests, one per neighbour, nothing answered. */
	for (i = 0; i < 3; i++) {
		size_t n;
		unsigned k = 0;

		while ((n = take(fx, f))) {
			uint32_t tpa = get32(f + ETH_LEN + 24);

			assert_true(tpa >= 0x0a000014u &&
				    tpa < 0x0a000014u + na / ARP_PENDING_PER_ENTRY);
			check_arp_request(f, n, tpa);
			k++;
		}
		assert_int_equal(k, na / ARP_PENDING_PER_ENTRY);
		assert_int_equal(a.calls, 0);
		if (i < 2)
			fx_poll(fx, fx->now + XS_SEC(1));
	}
	expect_drops(fx, XS_DROP_NONE, 0, "256 pings waiting for ARP");
	/* The poll in which the resolutions fail: b's replies come first. */
	for (i = 0; i < nb; i++)
		inject(fx, f, mk_reply(f, idb, (uint16_t)(100 + i)));
	fx_poll(fx, fx->now + XS_SEC(1));
	assert_int_equal(b.calls, nb);
	assert_int_equal(b.r.seq, 100 + nb - 1);
	assert_int_equal(a.calls, ICMP_PING_QUEUE - nb);
	assert_int_equal(a.r.error, -EHOSTUNREACH);
	assert_int_equal(a.r.seq, ICMP_PING_QUEUE - nb - 1);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_ICMP_PING_QUEUE],
			 nb + na - ICMP_PING_QUEUE);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_ARP_UNRESOLVED], na);
	/* Nothing was kept back for a later poll. */
	fx_poll(fx, fx->now + XS_MS(1));
	assert_int_equal(a.calls, ICMP_PING_QUEUE - nb);
	assert_int_equal(b.calls, nb);
	assert_int_equal(xs_ping_poll_events(fx->st, ha), XS_EV_WRITABLE);
	assert_int_equal(xs_ping_close(fx->st, ha), 0);
	assert_int_equal(xs_ping_close(fx->st, hb), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_icmp_bucket_frequent_polls),
	    T(test_ping_reply_after_batch),
	    T(test_ping_result_of_closed_handle_dropped),
	    T(test_ping_arp_failure_after_timer),
	    T(test_ping_queue_bounded),
	};
#undef T
	return cmocka_run_group_tests_name("icmp", tests, NULL, NULL);
}
