/* Scripted TCP conversations: a configurable RTO floor (XS_TCP_RTO_MIN, the
 * stack config's tcp_rto_min_us, the daemon's --tcp-rto-min).
 *
 * RFC 6298 2.4 asks for a 1 s minimum RTO; like Linux the stack uses 200 ms
 * (TCP_RTO_MIN), and like Linux it lets a LAN of sub-millisecond RTTs go
 * lower (Linux: `ip route ... rto_min`, net.ipv4.tcp_rto_min_us). Linux's
 * tcp_delack_max() also keeps the delayed ACK within that floor, so a peer
 * configured the same way is not driven into spurious timeouts by our ACK
 * delay; the stack does the same for its delayed ACK and for the worst-case
 * delayed ACK in the tail loss probe's timeout (RFC 8985 7.2). */
#include <errno.h>

#include "tcp_fixture.h"

#define US(x) ((xs_time_t)(x) * 1000)
#define FLOOR_MS 5

/* The next whole millisecond at or after the clock (timers are on a 1 ms
 * wheel; starting a timed step there makes the expected times exact). */
static void to_whole_ms(struct tfx *t)
{
	xs_time_t ms = (t->fx.now + XS_MS(1) - 1) / XS_MS(1);

	tfx_at(t, XS_MS(ms));
}

/* A listener on LPORT, with XS_TCP_RTO_MIN = floor_ms unless 0. */
static void listen_floor(struct tfx *t, int floor_ms)
{
	tfx_listen(t, 16);
	if (floor_ms)
		assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_RTO_MIN, floor_ms), 0);
}

/* Passive open against the listener: MSS 1460, WS 7, SACK and timestamps
 * as asked, the handshake's ACK rtt after the SYN-ACK (the RTT sample);
 * the clock is left on a whole millisecond. */
static void open_passive(struct tfx *t, bool sack, bool ts, xs_time_t rtt)
{
	struct popts o = popts_syn_full(t);
	uint32_t ip;
	uint16_t port;

	o.sackok = sack;
	o.ts = ts;
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
	t->iss = t->s.seq;
	t->ts = t->ts_on = ts;
	t->sack = sack;
	tfx_run(t, rtt);
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	t->h = xs_tcp_accept(t->fx.st, t->lh, &ip, &port);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
	assert_int_equal(xs_tcp_set_event_cb(t->fx.st, t->h, tfx_event_cb, t), 0);
	to_whole_ms(t);
	reset_events(t);
}

/* One 100-byte segment is sent at a whole millisecond and never
 * acknowledged: the retransmissions must come exactly at the gaps given
 * (each one 1 ms early finds nothing), then an ACK ends them. */
static void expect_rto_gaps(struct tfx *t, const unsigned *gap_ms, unsigned n)
{
	uint64_t r0 = xs_stack_stats(t->fx.st)->tcp_retransmits;
	xs_time_t at;
	unsigned i;

	app_send(t, 100);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	expect_nothing(t);
	at = t->fx.now;
	for (i = 0; i < n; i++) {
		at += XS_MS(gap_ms[i]);
		tfx_at(t, at - XS_MS(1));
		expect_nothing(t);
		tfx_at(t, at);
		expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
		expect_nothing(t);
	}
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_retransmits - r0, n);
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	tfx_run(t, XS_SEC(2));
	expect_nothing(t);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), 0);
}

/* XS_TCP_RTO_MIN takes 1-1000 ms: 0, 1001 and negative values are refused
 * with -EINVAL, on a listener and on a connection, and change nothing. */
static void test_setopt_range(void **state)
{
	struct tfx *t = *state;
	struct xs_stack *st = t->fx.st;
	static const int bad[] = {0, 1001, -1, -1000, 100000};
	unsigned i;

	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(st, t->lh, XS_TCP_RTO_MIN, 1), 0);
	assert_int_equal(xs_tcp_setopt(st, t->lh, XS_TCP_RTO_MIN, 1000), 0);
	assert_int_equal(xs_tcp_setopt(st, t->lh, XS_TCP_RTO_MIN, 7), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xs_tcp_setopt(st, t->lh, XS_TCP_RTO_MIN, bad[i]), -EINVAL);
	/* The 7 ms set before the refusals is what the connection gets. */
	open_passive(t, false, false, US(300));
	assert_int_equal(conn_info(t).rtt_us, 300);
	assert_int_equal(conn_info(t).rto_ms, 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xs_tcp_setopt(st, t->h, XS_TCP_RTO_MIN, bad[i]), -EINVAL);
	assert_int_equal(conn_info(t).rto_ms, 7);
	/* Raising it on a connection takes effect at once (the RTO never sits
	 * below the floor). */
	assert_int_equal(xs_tcp_setopt(st, t->h, XS_TCP_RTO_MIN, 300), 0);
	assert_int_equal(conn_info(t).rto_ms, 300);
}

/* A listener's floor is inherited by the connections it accepts: 5 ms
 * with a 300 us RTT, where the same handshake without the option gives
 * the 200 ms default. */
static void test_listener_floor_inherited(void **state)
{
	struct tfx *t = *state;

	listen_floor(t, FLOOR_MS);
	open_passive(t, true, false, US(300));
	assert_int_equal(conn_info(t).rtt_us, 300);
	assert_int_equal(conn_info(t).rto_ms, FLOOR_MS);

	tfx_restart(t, 1500);
	listen_floor(t, 0);
	open_passive(t, true, false, US(300));
	assert_int_equal(conn_info(t).rtt_us, 300);
	assert_int_equal(conn_info(t).rto_ms, 200);
}

/* RFC 6298 2.4 with a 5 ms floor on a sub-millisecond path: RTO = SRTT +
 * max(G, 4 * RTTVAR) = 0.3 + 1 ms, raised to the floor, so the first
 * retransmission comes 5 ms after the send (not 200 ms), and RFC 6298 5.5
 * doubles it: 10 ms, then 20 ms. No SACK, so no tail loss probe. */
static void test_rto_fires_at_floor_and_backs_off(void **state)
{
	static const unsigned gaps[] = {5, 10, 20};
	struct tfx *t = *state;

	listen_floor(t, FLOOR_MS);
	open_passive(t, false, false, US(300));
	expect_rto_gaps(t, gaps, 3);
}

/* The stack-wide floor (xs_config.tcp_rto_min_us, like Linux's
 * net.ipv4.tcp_rto_min_us) gives the same with no socket option, for a
 * passive and an active open. */
static void test_stack_config_floor(void **state)
{
	static const unsigned gaps[] = {5, 10, 20};
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	struct popts o;

	cfg.tcp_rto_min_us = FLOOR_MS * 1000;
	tfx_restart_cfg(t, 1500, &cfg);
	listen_floor(t, 0);
	open_passive(t, false, false, US(300));
	assert_int_equal(conn_info(t).rto_ms, FLOOR_MS);
	expect_rto_gaps(t, gaps, 3);

	/* Active open: the SYN-ACK at once (a 0 us sample), no SACK. */
	tfx_restart_cfg(t, 1500, &cfg);
	o = popts_syn_full(t);
	o.sackok = false;
	o.ts = false;
	tfx_active_open(t, &o);
	assert_int_equal(conn_info(t).rto_ms, FLOOR_MS);
	to_whole_ms(t);
	expect_rto_gaps(t, gaps, 3);
}

/* The config's range is 1 ms to 1 s (0: the default); xs_stack_new refuses
 * anything else with EINVAL. */
static void test_stack_config_range(void **state)
{
	static const unsigned bad[] = {1, 999, 1000001, 0xffffffffu};
	static const unsigned good[] = {1000, 5000, 1000000};
	struct xs_config cfg = tfx_config();
	struct xs_dev *dev;
	struct xs_stack *st;
	unsigned i;

	(void)state;
	dev = xs_mem_dev_new(our_mac, 1500, 64);
	assert_non_null(dev);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.tcp_rto_min_us = bad[i];
		errno = 0;
		assert_null(xs_stack_new(&cfg, dev));
		assert_int_equal(errno, EINVAL);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cfg.tcp_rto_min_us = good[i];
		st = xs_stack_new(&cfg, dev);
		assert_non_null(st);
		xs_stack_free(st);
	}
	xs_dev_free(dev);
}

/* A lone segment is ACKed after the delayed-ACK time, which the floor
 * bounds as Linux's tcp_delack_max() does: by 5 ms with a 5 ms floor, not
 * 40 ms. A floor above 40 ms leaves the 40 ms delay as it is. */
static void test_delack_clamped_to_floor(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	listen_floor(t, FLOOR_MS);
	open_passive(t, true, true, US(300));
	t0 = t->fx.now;
	pdata(t, 0, 1000, S(0));
	tfx_at(t, t0 + XS_MS(FLOOR_MS - 1));
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(FLOOR_MS));
	expect_ack(t, S(0), P(1000));
	expect_nothing(t);

	tfx_restart(t, 1500);
	listen_floor(t, 100);
	open_passive(t, true, true, US(300));
	t0 = t->fx.now;
	pdata(t, 0, 1000, S(0));
	tfx_at(t, t0 + XS_MS(39));
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(40));
	expect_ack(t, S(0), P(1000));
	expect_nothing(t);
}

/* RFC 8985 7.2: with one segment out, PTO = 2 * SRTT + WCDelAckT, at most
 * the RTO. The peer's worst delayed ACK is clamped to the floor like ours:
 * with a 20 ms RTT (SRTT 20, RTTVAR 10, RTO 60 ms) and a 5 ms floor the
 * probe leaves at 40 + 5 = 45 ms; unclamped (200 ms) it would wait for the
 * RTO at 60 ms. */
static void test_tlp_delack_clamped_to_floor(void **state)
{
	struct tfx *t = *state;
	uint64_t tlp0;
	xs_time_t t0;

	listen_floor(t, FLOOR_MS);
	open_passive(t, true, true, XS_MS(20));
	assert_int_equal(conn_info(t).rtt_us, 20000);
	assert_int_equal(conn_info(t).rto_ms, 60);
	tlp0 = xs_stack_stats(t->fx.st)->tcp_tlp;
	app_send(t, 100);
	t0 = t->fx.now;
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(44));
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(45));
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	expect_nothing(t);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_tlp - tlp0, 1);
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	tfx_run(t, XS_SEC(2));
	expect_nothing(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_setopt_range, tfx_setup, tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_listener_floor_inherited, tfx_setup,
					    tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_rto_fires_at_floor_and_backs_off, tfx_setup,
					    tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_stack_config_floor, tfx_setup, tfx_teardown),
	    cmocka_unit_test(test_stack_config_range),
	    cmocka_unit_test_setup_teardown(test_delack_clamped_to_floor, tfx_setup,
					    tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_tlp_delack_clamped_to_floor, tfx_setup,
					    tfx_teardown),
	};

	return cmocka_run_group_tests_name("tcp_rto_min", tests, NULL, NULL);
}
