/* Scripted TCP conversations: data transfer — window scaling (RFC 7323 2),
 * flow control and SWS avoidance (RFC 9293 3.8.6), Nagle, delayed ACK, SACK, keepalive. */
#include "tcp_fixture.h"

/* RFC 7323 2.2-2.3: the peer's window field is shifted by its WS (7 here)
 * in every segment but its SYN; a shift above 14 is taken as 14; our own
 * window is announced shifted by ours (3 for 256 KiB, 9 for 16 MiB). */
static void test_window_scaling(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);
	int i;

	/* The peer offers 100 << 7 = 12800 bytes: 8 full segments (11584);
	 * the 1216-byte rest is a sliver under half the largest window the
	 * peer offered: held (RFC 9293 3.8.6.2.1). */
	t->pwnd = 100;
	tfx_passive_open(t, &o);
	assert_int_equal(conn_info(t).snd_wnd, 12800);
	app_send(t, 20000);
	for (i = 0; i < 8; i++)
		expect_seg(t, F_ACK, S(1448 * i), P(0), 1448, 32768);
	expect_nothing(t);
	/* An ACK of 2 segments slides the window by 2896. */
	psend(t, F_ACK, P(0), S(2896), NULL, 0);
	expect_seg(t, F_ACK, S(11584), P(0), 1448, 32768);
	expect_seg(t, F_ACK, S(13032), P(0), 1448, 32768);
	expect_nothing(t);

	/* WS 15 is taken as 14 (RFC 7323 2.3). */
	tfx_restart(t, 1500);
	o = popts_syn_full(t);
	o.ws = 15;
	t->pwnd = 1;
	tfx_passive_open(t, &o);
	assert_int_equal(conn_info(t).snd_wscale, 14);
	assert_int_equal(conn_info(t).snd_wnd, 16384);

	/* A 16 MiB receive buffer: WS 9 in the SYN-ACK, whose window is the
	 * unscaled 65535; later segments carry min(16 MiB, 65535 << 9) >> 9. */
	tfx_restart(t, 1500);
	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_RCVBUF, 16 << 20), 0);
	o = popts_syn_full(t);
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.ws, 9);
	assert_int_equal(t->s.wnd, 65535);
	t->iss = t->s.seq;
	t->ts = t->ts_on = t->sack = true;
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	tfx_track(t, t->h);
	app_send(t, 10);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 10, 32768);
}

/* RFC 7323 2.2 on the active side: the SYN-ACK's window (1000, WS 7) is
 * not scaled; the next ACK's is (1000 << 7). */
static void test_window_scaling_syn_ack_unscaled(void **state)
{
	struct tfx *t = *state;

	t->pwnd = 1000;
	tfx_active_open(t, NULL);
	assert_int_equal(conn_info(t).snd_wnd, 1000);
	/* 3000 bytes: 1000 may go (half the largest window: not a sliver). */
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_NODELAY, 1), 0);
	app_send(t, 3000);
	expect_seg(t, F_ACK, S(0), P(0), 1000, WND_ANY);
	expect_nothing(t);
	psend(t, F_ACK, P(0), S(1000), NULL, 0);
	assert_int_equal(conn_info(t).snd_wnd, 128000);
	expect_seg(t, F_ACK, S(1000), P(0), 1448, WND_ANY);
	expect_seg(t, F_ACK | F_PSH, S(2448), P(0), 552, WND_ANY);
	expect_nothing(t);
}

/* RFC 9293 3.8.6.2.2: data arriving unread shrinks the window by as much
 * (the right edge stays put); reading reopens it, and a window update goes
 * out only once it grew by min(MSS, buffer/2) = 1460 (receiver SWS). */
static void test_receive_window_shrinks_and_reopens(void **state)
{
	struct tfx *t = *state;

	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_RCVBUF, 4096), 0);
	tfx_passive_open(t, NULL);
	pdata(t, 0, 1000, S(0));
	tfx_run(t, XS_MS(40));
	expect_seg(t, F_ACK, S(0), P(1000), 0, 3096);
	pdata(t, 1000, 1000, S(0));
	tfx_run(t, XS_MS(40));
	expect_seg(t, F_ACK, S(0), P(2000), 0, 2096);
	expect_nothing(t);
	/* 1000 read: the window could grow by 1000 < 1460: no update. */
	app_recv(t, 0, 1000);
	expect_nothing(t);
	/* 1000 more: it grows by 2000: update to 4096. */
	app_recv(t, 1000, 1000);
	expect_seg(t, F_ACK, S(0), P(2000), 0, 4096);
	expect_nothing(t);

	/* Filled to zero: reading 1000 is not enough, 1500 is. */
	pdata(t, 2000, 1448, S(0));
	pdata(t, 3448, 1448, S(0));
	expect_seg(t, F_ACK, S(0), P(4896), 0, 1200);
	pdata(t, 4896, 1200, S(0));
	tfx_run(t, XS_MS(40));
	expect_seg(t, F_ACK, S(0), P(6096), 0, 0);
	app_recv(t, 2000, 1000);
	expect_nothing(t);
	app_recv(t, 3000, 500);
	expect_seg(t, F_ACK, S(0), P(6096), 0, 1500);
	expect_nothing(t);
}

/* RFC 9293 3.8.6.1: a zero window with data waiting starts the persist
 * timer: probes after an RTO, with exponential backoff, as long as the
 * peer keeps answering; when the window opens, the data goes at once. A
 * probe is <SEQ=SND.UNA-1> without data, or one octet of new data. */
static void test_zero_window_persist(void **state)
{
	static const unsigned gap_ms[] = {200, 400, 800, 1600, 3200};
	struct tfx *t = *state;
	xs_time_t at;
	unsigned i;

	tfx_passive_open(t, NULL);
	app_send(t, 2896);
	expect_seg(t, F_ACK, S(0), P(0), 1448, WND_ANY);
	expect_seg(t, F_ACK | F_PSH, S(1448), P(0), 1448, WND_ANY);
	/* The peer answers within 1 ms: before a tail loss probe (2*SRTT +
	 * 2 ms, RFC 8985 7.2) could go. */
	tfx_run(t, XS_MS(1));
	t->pwnd = 0;
	psend(t, F_ACK, P(0), S(2896), NULL, 0);
	expect_nothing(t);
	assert_int_equal(conn_info(t).snd_wnd, 0);
	assert_int_equal(conn_info(t).rto_ms, 200);
	app_send(t, 1000);
	expect_nothing(t);
	at = t->fx.now;
	for (i = 0; i < 5; i++) {
		at += XS_MS(gap_ms[i]);
		tfx_at(t, at - XS_MS(1));
		expect_nothing(t);
		tfx_at(t, at);
		assert_true(take_seg(t));
		if (t->s.len == 0) {
			assert_int_equal(t->s.seq, S(2896) - 1);
		} else {
			assert_int_equal(t->s.len, 1);
			assert_int_equal(t->s.seq, S(2896));
		}
		assert_int_equal(t->s.flags & ~F_PSH, F_ACK);
		expect_nothing(t);
		/* The peer answers: still zero. */
		psend(t, F_ACK, P(0), S(2896), NULL, 0);
		expect_nothing(t);
	}
	expect_state(t, XS_TCP_ESTABLISHED);
	/* The window opens: the 1000 bytes leave at once. */
	t->pwnd = 1024;
	psend(t, F_ACK, P(0), S(2896), NULL, 0);
	if (take_seg(t) && t->s.len == 1) /* a one-octet probe was sent */
		expect_seg(t, F_ACK | F_PSH, S(2897), P(0), 999, WND_ANY);
	else
		assert_true(t->s.seq == S(2896) && t->s.len == 1000);
	expect_nothing(t);
}

/* RFC 9293 3.7.4 (Nagle): a short segment waits while data is
 * unacknowledged; full segments do not; XS_TCP_NODELAY sends at once. */
static void test_nagle(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	app_send(t, 100);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	app_send(t, 100);
	app_send(t, 100);
	expect_nothing(t);
	/* Full segments go even with data unacknowledged; the tail waits. */
	app_send(t, 3000);
	expect_seg(t, F_ACK, S(100), P(0), 1448, WND_ANY);
	expect_seg(t, F_ACK, S(1548), P(0), 1448, WND_ANY);
	expect_nothing(t);
	/* ACKs within 1 ms, before a tail loss probe (which, as Linux's,
	 * would send the held tail regardless of Nagle). */
	tfx_run(t, XS_MS(1));
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	expect_nothing(t); /* still unacknowledged data: the 304 wait */
	psend(t, F_ACK, P(0), S(2996), NULL, 0);
	expect_seg(t, F_ACK | F_PSH, S(2996), P(0), 304, WND_ANY);
	expect_nothing(t);
	psend(t, F_ACK, P(0), S(3300), NULL, 0);

	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_NODELAY, 1), 0);
	app_send(t, 10);
	expect_seg(t, F_ACK | F_PSH, S(3300), P(0), 10, WND_ANY);
	app_send(t, 10);
	expect_seg(t, F_ACK | F_PSH, S(3310), P(0), 10, WND_ANY);
	expect_nothing(t);

	/* Turning NODELAY on flushes what Nagle held. */
	psend(t, F_ACK, P(0), S(3320), NULL, 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_NODELAY, 0), 0);
	app_send(t, 10);
	expect_seg(t, F_ACK | F_PSH, S(3320), P(0), 10, WND_ANY);
	app_send(t, 10);
	expect_nothing(t);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_NODELAY, 1), 0);
	tfx_poll(t);
	expect_seg(t, F_ACK | F_PSH, S(3330), P(0), 10, WND_ANY);
}

/* RFC 9293 3.8.6.3 / RFC 5681 4.2: an ACK for at least every second full
 * segment; a lone segment is ACKed within 0.5 s (40 ms here); an ACK rides
 * on data when there is some. */
static void test_delayed_ack(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	tfx_passive_open(t, NULL);
	t0 = t->fx.now;
	pdata(t, 0, 1448, S(0));
	tfx_at(t, t0 + XS_MS(39));
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(40));
	expect_ack(t, S(0), P(1448));
	expect_nothing(t);

	/* Four full segments: ACKs after the second and the fourth. */
	pdata(t, 1448, 1448, S(0));
	expect_nothing(t);
	pdata(t, 2896, 1448, S(0));
	expect_ack(t, S(0), P(4344));
	pdata(t, 4344, 1448, S(0));
	expect_nothing(t);
	pdata(t, 5792, 1448, S(0));
	expect_ack(t, S(0), P(7240));
	expect_nothing(t);

	/* A small segment: delayed too, within 40 ms. */
	t0 = t->fx.now;
	pdata(t, 7240, 10, S(0));
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(40));
	expect_ack(t, S(0), P(7250));

	/* Data to send within the delay carries the ACK; none follows alone. */
	t0 = t->fx.now;
	pdata(t, 7250, 10, S(0));
	tfx_at(t, t0 + XS_MS(5));
	app_send(t, 5);
	expect_seg(t, F_ACK | F_PSH, S(0), P(7260), 5, WND_ANY);
	tfx_at(t, t0 + XS_MS(100));
	expect_nothing(t);
	app_recv(t, 0, 7260);
}

/* RFC 9293 3.1: in-order data is summed while it is copied into the
 * receive ring, before anything else looks at the segment. A corrupted one
 * (the checksum fails) changes nothing: no ACK, nothing readable, counted;
 * shorter good data after it reads right, and so does the rest. */
static void test_rx_bad_checksum_in_order(void **state)
{
	struct tfx *t = *state;
	struct popts o;
	uint8_t f[FRAME_MAX];
	size_t n;

	tfx_passive_open(t, NULL);
	pdata(t, 0, 1448, S(0));
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(1448));
	for (int i = 0; i < 2; i++) {
		o = popts_ts(t);
		n = mk_tcp(f, t->pport, t->lport, P(1448), S(0), F_ACK, t->pwnd, &o,
			   t->in + 1448, 1448);
		f[n - 1 - 100 * i] ^= 0x5a; /* a payload byte, after the checksum */
		inject(&t->fx, f, n);
		tfx_poll(t);
		expect_nothing(t);
	}
	assert_int_equal(xs_stack_stats(t->fx.st)->drop[XS_DROP_TCP_CSUM], 2);
	assert_int_equal(conn_info(t).rcv_queue, 1448);
	pdata(t, 1448, 100, S(0));
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(1548));
	app_recv(t, 0, 1548);
	while (take_seg(t))
		;
	pdata(t, 1548, 1348, S(0));
	tfx_run(t, XS_MS(40));
	while (take_seg(t))
		;
	app_recv(t, 1548, 1348);
}

/* RFC 2018 / RFC 5681 4.2: out-of-order segments are kept and ACKed at
 * once with SACK blocks, the first naming the block that holds the segment
 * just received (RFC 2018 4), the others the most recent ones (at most 3
 * with timestamps); the segment filling the hole is ACKed at once too. */
static void test_out_of_order_and_sack(void **state)
{
	struct tfx *t = *state;
	struct tseg *s;

	tfx_passive_open(t, NULL);
	/* Segments 1 and 3 (of 0..5) arrive first. */
	pdata(t, 1448, 1448, S(0));
	s = expect_ack(t, S(0), P(0));
	assert_int_equal(s->nsack, 1);
	assert_int_equal(s->sack[0][0], P(1448));
	assert_int_equal(s->sack[0][1], P(2896));
	pdata(t, 4344, 1448, S(0));
	s = expect_ack(t, S(0), P(0));
	assert_int_equal(s->nsack, 2);
	assert_int_equal(s->sack[0][0], P(4344));
	assert_int_equal(s->sack[0][1], P(5792));
	assert_int_equal(s->sack[1][0], P(1448));
	assert_int_equal(s->sack[1][1], P(2896));
	/* Segment 2 joins them: one block. */
	pdata(t, 2896, 1448, S(0));
	s = expect_ack(t, S(0), P(0));
	assert_int_equal(s->nsack, 1);
	assert_int_equal(s->sack[0][0], P(1448));
	assert_int_equal(s->sack[0][1], P(5792));
	/* Segment 0 fills the hole: ACK of all, no SACK. */
	pdata(t, 0, 1448, S(0));
	s = expect_ack(t, S(0), P(5792));
	assert_int_equal(s->nsack, 0);
	expect_nothing(t);
	app_recv(t, 0, 5792);
	/* The window update after reading 4 MSS. */
	expect_ack(t, S(0), P(5792));

	/* Four islands: three blocks fit beside the timestamps, the newest
	 * first, then the others most recent first. */
	pdata(t, 5792 + 1 * 1448, 1448, S(0));
	expect_ack(t, S(0), P(5792));
	pdata(t, 5792 + 3 * 1448, 1448, S(0));
	expect_ack(t, S(0), P(5792));
	pdata(t, 5792 + 5 * 1448, 1448, S(0));
	expect_ack(t, S(0), P(5792));
	pdata(t, 5792 + 7 * 1448, 1448, S(0));
	s = expect_ack(t, S(0), P(5792));
	assert_int_equal(s->nsack, 3);
	assert_int_equal(s->sack[0][0], P(5792 + 7 * 1448));
	assert_int_equal(s->sack[1][0], P(5792 + 5 * 1448));
	assert_int_equal(s->sack[2][0], P(5792 + 3 * 1448));
	/* A duplicate of an island: its block first again (RFC 2018 4). */
	pdata(t, 5792 + 1 * 1448, 1448, S(0));
	s = expect_ack(t, S(0), P(5792));
	assert_int_equal(s->nsack, 3);
	assert_int_equal(s->sack[0][0], P(5792 + 1 * 1448));
	assert_int_equal(s->sack[1][0], P(5792 + 7 * 1448));
	assert_int_equal(s->sack[2][0], P(5792 + 5 * 1448));
	expect_nothing(t);
}

/* RFC 9293 3.8.4 / RFC 1122 4.2.3.6: keepalive is off by default; when on
 * the first probe <SEQ=SND.NXT-1> goes after the idle time, 2 hours by
 * default. */
static void test_keepalive_defaults(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	tfx_passive_open(t, NULL);
	t0 = t->fx.now;
	tfx_at(t, t0 + XS_SEC(3 * 3600));
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	t0 = t->fx.now;
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPALIVE, 1), 0);
	tfx_at(t, t0 + XS_SEC(7200) - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t0 + XS_SEC(7200));
	expect_ack(t, S(0) - 1, P(0));
	expect_nothing(t);
	/* Off again: no more probes. */
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPALIVE, 0), 0);
	tfx_run(t, XS_SEC(10000));
	expect_nothing(t);
}

/* RFC 9293 3.8.4 with XS_TCP_KEEPIDLE 10 s, KEEPINTVL 5 s, KEEPCNT 3: a
 * probe after 10 s idle; an answer makes the connection alive again (the
 * next probe after 10 s idle); unanswered probes every 5 s, and after 3 the
 * connection is aborted (RST, -ETIMEDOUT). */
static void test_keepalive_probes_and_abort(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPIDLE, 10), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPINTVL, 5), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPCNT, 3), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPIDLE, 0), -EINVAL);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPALIVE, 1), 0);
	t0 = t->fx.now;
	tfx_at(t, t0 + XS_SEC(10) - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t0 + XS_SEC(10));
	expect_ack(t, S(0) - 1, P(0));
	expect_nothing(t);
	/* The peer answers. */
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	/* Regression guard; the bug was: tcp_sync_input re-arms the keepalive timer
	 * (tcp_arm_keepalive) before clearing c->probes, so after an answered probe the next one
	 * comes after KEEPINTVL (5 s) instead of KEEPIDLE (10 s). */
	tfx_at(t, t0 + XS_SEC(20) - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t0 + XS_SEC(20));
	expect_ack(t, S(0) - 1, P(0));
	tfx_at(t, t0 + XS_SEC(25) - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t0 + XS_SEC(25));
	expect_ack(t, S(0) - 1, P(0));
	tfx_at(t, t0 + XS_SEC(30));
	expect_ack(t, S(0) - 1, P(0));
	expect_nothing(t);
	assert_int_equal(t->events & XS_EV_ERROR, 0);
	tfx_at(t, t0 + XS_SEC(35) - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t0 + XS_SEC(35));
	expect_seg(t, F_RST | F_ACK, S(0), P(0), 0, WND_ANY);
	expect_nothing(t);
	assert_true(t->events & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ETIMEDOUT);
	assert_int_equal(conn_state(t), -1);
}

/* Keepalive counts idleness from the last segment received: traffic
 * pushes the first probe back. */
static void test_keepalive_idle_from_last_segment(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPIDLE, 10), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_KEEPALIVE, 1), 0);
	t0 = t->fx.now;
	tfx_at(t, t0 + XS_SEC(8));
	pdata(t, 0, 10, S(0));
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(10));
	tfx_at(t, t0 + XS_SEC(18) - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t0 + XS_SEC(18));
	expect_ack(t, S(0) - 1, P(10));
	app_recv(t, 0, 10);
}

/* RFC 7323 4.3: TS.Recent is the TSval of the segment that the next ACK
 * acknowledges first: with a delayed ACK the earlier of two segments; an
 * out-of-order segment does not change it; the segment filling a hole does. */
static void test_tsecr_rules(void **state)
{
	struct tfx *t = *state;
	uint32_t a;
	struct tseg *s;

	tfx_passive_open(t, NULL);
	tfx_run(t, XS_MS(10));
	a = peer_tsval(t);
	pdata(t, 0, 1448, S(0));
	tfx_run(t, XS_MS(5));
	pdata(t, 1448, 1448, S(0));
	s = expect_ack(t, S(0), P(2896));
	assert_int_equal(s->tsecr, a);
	/* Out of order (a hole at 2896): TSecr stays that of the last
	 * in-order segment. */
	tfx_run(t, XS_MS(5));
	a = peer_tsval(t);
	tfx_run(t, XS_MS(5));
	pdata(t, 4344, 1448, S(0));
	s = expect_ack(t, S(0), P(2896));
	assert_int_equal(s->tsecr, a - 10);
	/* The hole is filled: its TSval is echoed. */
	tfx_run(t, XS_MS(5));
	a = peer_tsval(t);
	pdata(t, 2896, 1448, S(0));
	s = expect_ack(t, S(0), P(5792));
	assert_int_equal(s->tsecr, a);
	app_recv(t, 0, 5792);
}

/* RFC 9293 3.8.6.2.1 / RFC 5681: a bulk transfer never puts a byte beyond
 * the peer's window (20000 bytes, no scaling), sends every byte once, in
 * order, when nothing is lost; the send buffer refills as ACKs arrive. */
static void test_bulk_send_respects_window(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);
	const size_t total = 600000;
	uint32_t una, next;
	int rounds = 0;

	o.ws = -1;
	t->pwnd = 20000;
	tfx_passive_open(t, &o);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_NODELAY, 1), 0);
	una = next = S(0);
	while ((una != S(total)) && rounds++ < 10000) {
		ssize_t n = 1;

		while (t->sent < total && n > 0) {
			n = xs_tcp_send(t->fx.st, t->h, t->out + t->sent, total - t->sent);
			if (n > 0)
				t->sent += (size_t)n;
			else
				assert_int_equal(n, -EAGAIN);
		}
		tfx_poll(t);
		while (take_seg(t)) {
			assert_int_equal(t->s.seq, next);
			assert_true(t->s.len > 0 && t->s.len <= 1448);
			next += (uint32_t)t->s.len;
			if ((int32_t)(next - (una + 20000)) > 0)
				fail_msg("segment ends %u bytes beyond the window",
					 next - (una + 20000));
		}
		una = next;
		tfx_run(t, XS_MS(1));
		psend(t, F_ACK, P(0), una, NULL, 0);
	}
	assert_int_equal(una, S(total));
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_retransmits, 0);
	assert_int_equal(conn_info(t).snd_queue, 0);
}

/* RFC 9293 3.8.6.2.2 (RFC 1122 4.2.2.16): the right edge of the window
 * (ACK + window << 3) does not move back, whatever the segment sizes and
 * reads, but for the retraction of less than one scale unit that RFC 7323
 * 2.4 allows when the buffer cannot hold a rounded-up window. */
static void test_receiver_never_shrinks_window(void **state)
{
	static const size_t sizes[] = {1001, 1448, 7, 1448, 1448, 999, 13, 1448, 500, 1};
	struct tfx *t = *state;
	uint32_t edge = 0, off = 0, rd = 0;
	unsigned i, k;

	tfx_passive_open(t, NULL);
	for (k = 0; k < 30; k++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			pdata(t, off, sizes[i], S(0));
			off += (uint32_t)sizes[i];
			if (i % 3 == 2)
				tfx_run(t, XS_MS(40));
			while (take_seg(t)) {
				uint32_t e = t->s.ack + ((uint32_t)t->s.wnd << 3);

				/* Regression guard; the bug was: tcp_window_to_send rounded
				 * every window down to 1 << rcv_wscale. Now it rounds up while
				 * the ring holds it; only at the ring's limit may the edge
				 * retract, by less than one scale unit (RFC 7323 2.4). */
				if (edge && (int32_t)(e - edge) < 0 && edge - e >= 8)
					fail_msg("right edge moved back by %u (ack %u wnd %u)",
						 edge - e, t->s.ack - P(0), t->s.wnd);
				edge = e;
			}
		}
		/* Read a part, unevenly. */
		app_recv(t, rd, (off - rd) * 2 / 3);
		rd += (off - rd) * 2 / 3;
	}
}

/* RFC 9293 3.4 (sequence numbers modulo 2^32): data crossing the wrap of
 * the peer's sequence space is received and acknowledged normally. */
static void test_seq_wraparound(void **state)
{
	struct tfx *t = *state;

	t->peer_iss = 0xfffffc00u;
	tfx_passive_open(t, NULL);
	pdata(t, 0, 1448, S(0));
	pdata(t, 1448, 1448, S(0));
	expect_ack(t, S(0), P(2896));
	assert_true(P(2896) < 0x1000u);
	/* Out of order across the wrap too. */
	pdata(t, 4344, 1448, S(0));
	assert_true(take_seg(t));
	assert_int_equal(t->s.nsack, 1);
	assert_int_equal(t->s.sack[0][0], P(4344));
	pdata(t, 2896, 1448, S(0));
	expect_ack(t, S(0), P(5792));
	app_recv(t, 0, 5792);
}

/* The API: with a full send buffer xs_tcp_send says -EAGAIN; an ACK that
 * frees space raises XS_EV_WRITABLE and sending resumes. */
static void test_writable_when_send_space_returns(void **state)
{
	struct tfx *t = *state;

	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_SNDBUF, 4096), 0);
	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_send(t->fx.st, t->h, t->out, 5000), 4096);
	t->sent = 4096;
	assert_int_equal(xs_tcp_send(t->fx.st, t->h, t->out + 4096, 100), -EAGAIN);
	tfx_poll(t);
	expect_seg(t, F_ACK, S(0), P(0), 1448, WND_ANY);
	expect_seg(t, F_ACK, S(1448), P(0), 1448, WND_ANY);
	expect_nothing(t);
	reset_events(t);
	psend(t, F_ACK, P(0), S(2896), NULL, 0);
	expect_seg(t, F_ACK | F_PSH, S(2896), P(0), 1200, WND_ANY);
	assert_true(t->events & XS_EV_WRITABLE);
	/* 2896 bytes fit again: two full segments, Nagle does not hold them. */
	app_send(t, 2896);
	expect_seg(t, F_ACK, S(4096), P(0), 1448, WND_ANY);
	expect_seg(t, F_ACK | F_PSH, S(5544), P(0), 1448, WND_ANY);
	expect_nothing(t);
	assert_int_equal(xs_tcp_send(t->fx.st, t->h, t->out + t->sent, 1), -EAGAIN);
}

/* RFC 7323 2.2: scaling needs both SYNs to carry the option; our SYN
 * offered WS 3, the peer's SYN-ACK has none: neither side scales, our
 * windows go out unscaled (at most 65535) and the peer's are taken as is. */
static void test_no_scaling_when_peer_declines(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	o.ws = -1;
	t->pwnd = 30000;
	tfx_active_open(t, &o);
	assert_int_equal(t->s.wnd, 65535);
	assert_int_equal(conn_info(t).snd_wnd, 30000);
	assert_int_equal(conn_info(t).rcv_wscale, 0);
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	assert_int_equal(conn_info(t).snd_wnd, 30000);
	/* 1000 bytes in: the right edge stays (64535: receiver SWS, RFC 9293
	 * 3.8.6.2.2, with the 65535 cap as the buffer) or the window stays at
	 * the unscaled maximum (the 256 KiB buffer has room): never more. */
	pdata(t, 0, 1000, S(0));
	tfx_run(t, XS_MS(40));
	expect_seg(t, F_ACK, S(0), P(1000), 0, WND_ANY);
	assert_true(t->s.wnd == 64535 || t->s.wnd == 65535);
	/* 2000 more: the edge may move now; unscaled, at most 65535. */
	pdata(t, 1000, 1000, S(0));
	pdata(t, 2000, 1000, S(0));
	expect_seg(t, F_ACK, S(0), P(3000), 0, 65535);
}

/* RFC 9293 3.7.1: an MSS option outside a SYN is ignored; segments keep
 * the size agreed in the handshake. */
static void test_mss_outside_syn_ignored(void **state)
{
	struct tfx *t = *state;
	struct popts o;

	tfx_passive_open(t, NULL);
	o = popts_ts(t);
	o.mss = 100;
	o.ws = 0;
	psend_opts(t, F_ACK, P(0), S(0), &o, NULL, 0);
	assert_int_equal(conn_info(t).mss, 1460);
	assert_int_equal(conn_info(t).snd_wnd, 1024u << 7);
	app_send(t, 2000);
	expect_seg(t, F_ACK, S(0), P(0), 1448, WND_ANY);
	expect_nothing(t);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_window_scaling),
	    T(test_window_scaling_syn_ack_unscaled),
	    T(test_no_scaling_when_peer_declines),
	    T(test_mss_outside_syn_ignored),
	    T(test_receive_window_shrinks_and_reopens),
	    T(test_zero_window_persist),
	    T(test_nagle),
	    T(test_delayed_ack),
	    T(test_out_of_order_and_sack),
	    T(test_rx_bad_checksum_in_order),
	    T(test_keepalive_defaults),
	    T(test_keepalive_probes_and_abort),
	    T(test_keepalive_idle_from_last_segment),
	    T(test_tsecr_rules),
	    T(test_bulk_send_respects_window),
	    T(test_receiver_never_shrinks_window),
	    T(test_seq_wraparound),
	    T(test_writable_when_send_space_returns),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_data", tests, NULL, NULL);
}
