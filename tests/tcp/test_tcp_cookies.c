/* Scripted SYN cookie conversations: cookies are checked only after the SYN
 * queue overflowed (Linux's tcp_synq_no_recent_overflow), the MSS index is under the MAC. */
#include "tcp_fixture.h"

static const struct xs_stats *stats(struct tfx *t)
{
	return xs_stack_stats(t->fx.st);
}

/* Fills the SYN queue of a backlog-1 listener (2*1+16 half-open connections),
 * then sends the SYN of port PPORT+100 with MSS mss and takes its cookie
 * SYN-ACK: t->iss is the cookie, the peer sends no timestamps from here. */
static void overflow(struct tfx *t, int mss)
{
	struct popts o = popts_syn_full(t);
	int i;

	if (t->lh.id < 0)
		tfx_listen(t, 1);
	for (i = 0; i < 18; i++) {
		t->pport = (uint16_t)(PPORT + i);
		psyn(t, &o);
		assert_true(take_seg(t));
		assert_int_equal(t->s.flags, F_SYN | F_ACK);
	}
	t->pport = PPORT + 100;
	o.mss = mss;
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
	assert_false(t->s.has_ts); /* a cookie SYN-ACK keeps nothing but MSS */
	t->iss = t->s.seq;
	t->ts = false;
	t->ts_on = false;
}

/* Throws away what the stack sent (SYN-ACK retransmissions, RSTs of the
 * half-open connections a closed listener held). */
static void drain(struct tfx *t)
{
	uint8_t f[FRAME_MAX];

	while (take(&t->fx, f))
		;
}

/* Lets dt pass in 100 ms steps, throwing away what the half-open
 * connections send meanwhile. */
static void idle(struct tfx *t, xs_time_t dt)
{
	xs_time_t end = t->fx.now + dt;

	while (t->fx.now < end) {
		tfx_run(t, XS_MS(100));
		drain(t);
	}
}

static void accept_it(struct tfx *t)
{
	t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
}

/* RFC 9293 3.10.7.2: with no SYN cookie out, a bare ACK to a listener is
 * answered <SEQ=SEG.ACK><CTL=RST> and counted, whatever its ACK number; it
 * is never checked as a cookie. */
static void test_ack_without_overflow_is_reset(void **state)
{
	struct tfx *t = *state;
	uint32_t ack = 0x12345678;

	tfx_listen(t, 16);
	t->irs = PEER_ISS;
	psend(t, F_ACK, P(0), ack, NULL, 0);
	expect_seg(t, F_RST, ack, 0, 0, WND_ANY);
	expect_nothing(t);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_COOKIE_UNEXPECTED], 1);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_COOKIE], 0);
	assert_int_equal(stats(t)->tcp_syncookies_ok, 0);
	assert_int_equal(conn_state(t), -1);
}

/* A cookie the MAC and the clock would accept, sent to a listener that never
 * overflowed (the one that sent it was closed and the port listened on
 * again): refused like any ACK to a listener, no connection. */
static void test_valid_cookie_refused_without_overflow(void **state)
{
	struct tfx *t = *state;

	overflow(t, 1460);
	assert_int_equal(stats(t)->tcp_syncookies_sent, 1);
	assert_int_equal(xs_tcp_close(t->fx.st, t->lh), 0);
	t->nhandles = 0;
	tfx_listen(t, 1);
	tfx_run(t, XS_SEC(1));
	drain(t);
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_seg(t, F_RST, S(0), 0, 0, WND_ANY);
	expect_nothing(t);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_COOKIE_UNEXPECTED], 1);
	assert_int_equal(stats(t)->tcp_syncookies_ok, 0);
	assert_int_equal(conn_state(t), -1);
	assert_true(xs_tcp_accept(t->fx.st, t->lh, NULL, NULL).id < 0);
}

/* Within the window after an overflow the cookie makes a connection (here
 * 100 s later: the next time period, still valid); after the window (two
 * periods, 128 s) an ACK is a closed port's again. */
static void test_cookie_accepted_within_window(void **state)
{
	struct tfx *t = *state;
	uint32_t cookie;

	overflow(t, 1460);
	cookie = t->iss;
	idle(t, XS_SEC(100));
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	assert_int_equal(stats(t)->tcp_syncookies_ok, 1);
	accept_it(t);
	assert_int_equal(conn_info(t).mss, 1460);

	/* The same cookie from another port fails the MAC (counted as a bad
	 * cookie: cookies may still be out). */
	t->pport = PPORT + 200;
	psend(t, F_ACK, P(0), cookie + 1, NULL, 0);
	expect_seg(t, F_RST, cookie + 1, 0, 0, WND_ANY);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_COOKIE], 1);

	/* 129 s after the last cookie went out no cookie can be valid. */
	idle(t, XS_SEC(29));
	psend(t, F_ACK, P(0), cookie + 1, NULL, 0);
	expect_seg(t, F_RST, cookie + 1, 0, 0, WND_ANY);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_COOKIE], 1);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_COOKIE_UNEXPECTED], 1);
	assert_int_equal(stats(t)->tcp_syncookies_ok, 1);
}

/* The 3-bit MSS index travels in clear (bits 24-26 of the ISS) but is under
 * the MAC: each of the seven other values is refused with a RST; the real
 * cookie still works and gives the MSS the SYN asked for. */
static void test_cookie_mss_index_under_mac(void **state)
{
	struct tfx *t = *state;
	uint32_t cookie, forged, i;

	overflow(t, 1460);
	cookie = t->iss;
	for (i = 1; i < 8; i++) {
		forged = cookie ^ (i << 24);
		psend(t, F_ACK, P(0), forged + 1, NULL, 0);
		expect_seg(t, F_RST, forged + 1, 0, 0, WND_ANY);
		assert_int_equal(conn_state(t), -1);
	}
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_COOKIE], 7);
	assert_int_equal(stats(t)->tcp_syncookies_ok, 0);
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	accept_it(t);
	assert_int_equal(conn_info(t).mss, 1460);
}

/* The MSS a cookie decodes is clamped as a SYN's option is (RFC 9293 3.7.1):
 * a SYN offering 9000 on a 1500-byte link gets the 8960 entry of the table,
 * and the connection still sends segments of at most 1460 bytes. */
static void test_cookie_mss_clamped(void **state)
{
	struct tfx *t = *state;

	overflow(t, 9000);
	assert_int_equal(t->s.mss, 1460); /* our own MSS, in the SYN-ACK */
	t->pwnd = 65535;
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	accept_it(t);
	assert_int_equal(conn_info(t).mss, 1460);
	app_send(t, 3000);
	expect_seg(t, F_ACK, S(0), P(0), 1460, WND_ANY);
	expect_seg(t, F_ACK, S(1460), P(0), 1460, WND_ANY);
	expect_nothing(t); /* Nagle holds the 80 bytes left */
	psend(t, F_ACK, P(0), S(2920), NULL, 0);
	expect_seg(t, F_ACK | F_PSH, S(2920), P(0), 80, WND_ANY);
}

/* The same clamp on a smaller link: MTU 1280 allows 1240, and a SYN's
 * MSS 1460 (cookie entry 1460) yields 1240. */
static void test_cookie_mss_clamped_small_mtu(void **state)
{
	struct tfx *t = *state;

	tfx_restart(t, 1280);
	overflow(t, 1460);
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	accept_it(t);
	assert_int_equal(conn_info(t).mss, 1240);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_ack_without_overflow_is_reset),
	    T(test_valid_cookie_refused_without_overflow),
	    T(test_cookie_accepted_within_window),
	    T(test_cookie_mss_index_under_mac),
	    T(test_cookie_mss_clamped),
	    T(test_cookie_mss_clamped_small_mtu),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_cookies", tests, NULL, NULL);
}
