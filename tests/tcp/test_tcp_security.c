/* Scripted TCP conversations: what a synchronized connection accepts (RFC 9293
 * 3.10.7.4), blind-attack defenses (RFC 5961), PAWS (RFC 7323 5), odd flags, SYN cookies. */
#include "tcp_fixture.h"

static uint64_t stat_challenges(struct tfx *t)
{
	return xs_stack_stats(t->fx.st)->tcp_challenge_acks;
}

static uint32_t rcv_queue(struct tfx *t)
{
	return conn_info(t).rcv_queue;
}

/* RFC 9293 3.10.7.4, the acceptability table, with a window: a zero-length
 * segment is acceptable in [RCV.NXT, RCV.NXT+RCV.WND); one with data when
 * its first or last octet falls there (only the new part is kept).
 * Unacceptable segments draw <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
static void test_acceptability_open_window(void **state)
{
	struct tfx *t = *state;
	uint32_t wnd;
	struct tseg *s;

	tfx_passive_open(t, NULL);
	pdata(t, 0, 10, S(0));
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(10));
	wnd = conn_info(t).rcv_wnd;
	assert_int_equal(wnd, (uint32_t)t->s.wnd << 3);

	/* Length 0: RCV.NXT and RCV.NXT+RCV.WND-1 are in; one below and
	 * RCV.NXT+RCV.WND are out. */
	psend(t, F_ACK, P(10), S(0), NULL, 0);
	expect_nothing(t);
	psend(t, F_ACK, P(10) + wnd - 1, S(0), NULL, 0);
	expect_nothing(t);
	psend(t, F_ACK, P(9), S(0), NULL, 0);
	expect_ack(t, S(0), P(10));
	psend(t, F_ACK, P(10) + wnd, S(0), NULL, 0);
	expect_ack(t, S(0), P(10));
	expect_nothing(t);
	assert_int_equal(rcv_queue(t), 10);

	/* Data wholly before RCV.NXT (a duplicate): ACK, nothing kept. */
	tfx_run(t, XS_SEC(1));
	psend(t, F_ACK | F_PSH, P(0), S(0), t->in, 10);
	expect_ack(t, S(0), P(10));
	assert_int_equal(rcv_queue(t), 10);
	/* Data wholly beyond the window: ACK, nothing kept. */
	psend(t, F_ACK | F_PSH, P(10) + wnd, S(0), t->in, 10);
	expect_ack(t, S(0), P(10));
	expect_nothing(t);
	assert_int_equal(rcv_queue(t), 10);
	/* Straddling RCV.NXT: the first octet is old, the last new: the new
	 * part (10..19) is taken; a partly duplicate segment is ACKed at once. */
	psend(t, F_ACK | F_PSH, P(0), S(0), t->in, 20);
	expect_ack(t, S(0), P(20));
	expect_nothing(t);
	assert_int_equal(rcv_queue(t), 20);
	/* Straddling the right edge: the first octet is in: kept out of order,
	 * ACKed at once with a SACK block starting at it (RFC 2018). */
	wnd = conn_info(t).rcv_wnd;
	psend(t, F_ACK | F_PSH, P(20) + wnd - 4, S(0), t->in, 10);
	s = expect_ack(t, S(0), P(20));
	assert_int_equal(s->nsack, 1);
	assert_int_equal(s->sack[0][0], P(20) + wnd - 4);
	expect_nothing(t);
	app_recv(t, 0, 20);
}

/* RFC 9293 3.10.7.4 with RCV.WND = 0 (a 4 KiB buffer filled, unread):
 * only a zero-length segment at RCV.NXT is acceptable; a one-octet
 * probe at RCV.NXT is not (ACK with window 0, octet dropped), nor is a
 * zero-length segment above RCV.NXT. */
static void test_acceptability_zero_window(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_RCVBUF, 4096), 0);
	tfx_passive_open(t, &o);
	assert_int_equal(conn_info(t).rcv_wscale, 0);
	pdata(t, 0, 1448, S(0));
	pdata(t, 1448, 1448, S(0));
	expect_ack(t, S(0), P(2896));
	pdata(t, 2896, 1200, S(0));
	tfx_run(t, XS_MS(40));
	expect_seg(t, F_ACK, S(0), P(4096), 0, 0);
	expect_nothing(t);
	assert_int_equal(conn_info(t).rcv_wnd, 0);

	/* Zero-length at RCV.NXT: acceptable, silent. */
	psend(t, F_ACK, P(4096), S(0), NULL, 0);
	expect_nothing(t);
	/* Zero-length at RCV.NXT+1: not acceptable. */
	psend(t, F_ACK, P(4097), S(0), NULL, 0);
	expect_seg(t, F_ACK, S(0), P(4096), 0, 0);
	/* A one-octet probe at RCV.NXT: not acceptable (RCV.WND = 0). */
	pdata(t, 4096, 1, S(0));
	expect_seg(t, F_ACK, S(0), P(4096), 0, 0);
	expect_nothing(t);
	assert_int_equal(rcv_queue(t), 4096);
	/* Reading opens the window; an update tells the peer. */
	app_recv(t, 0, 4096);
	expect_seg(t, F_ACK, S(0), P(4096), 0, 4096);
	expect_nothing(t);
}

/* RFC 5961 3.2: a RST whose sequence number is exactly RCV.NXT resets the
 * connection (XS_EV_ERROR, -ECONNRESET); nothing is sent back. */
static void test_rst_exact_resets(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	psend(t, F_RST, P(0), 0, NULL, 0);
	expect_nothing(t);
	assert_true(t->events & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ECONNRESET);
	assert_int_equal(conn_state(t), -1);
	assert_int_equal(xs_tcp_send(t->fx.st, t->h, "x", 1), -ECONNRESET);
	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, (char[4]){0}, 4), -ECONNRESET);
}

/* RFC 5961 3.2: a RST inside the window but not at RCV.NXT draws a challenge
 * ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and changes nothing; the peer's
 * RST at the sequence number the challenge told it then resets. */
static void test_rst_in_window_challenged(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	app_send(t, 30);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 30, WND_ANY);
	psend(t, F_RST, P(1), 0, NULL, 0);
	expect_ack(t, S(30), P(0));
	psend(t, F_RST | F_ACK, P(5000), S(30), NULL, 0);
	expect_ack(t, S(30), P(0));
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	assert_int_equal(t->events & XS_EV_ERROR, 0);
	assert_int_equal(stat_challenges(t), 2);
	psend(t, F_RST, P(0), 0, NULL, 0);
	expect_nothing(t);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ECONNRESET);
}

/* RFC 5961 3.2 / RFC 9293 3.10.7.4: a RST outside the window is dropped
 * silently (no ACK: a RST is never answered). */
static void test_rst_out_of_window_dropped(void **state)
{
	struct tfx *t = *state;
	uint32_t wnd;

	tfx_passive_open(t, NULL);
	wnd = conn_info(t).rcv_wnd;
	psend(t, F_RST, P(0) - 1, 0, NULL, 0);
	psend(t, F_RST, P(0) + wnd, 0, NULL, 0);
	psend(t, F_RST | F_ACK, P(0) + 0x80000000u, S(0), NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	assert_int_equal(stat_challenges(t), 0);
	assert_int_equal(xs_stack_stats(t->fx.st)->drop[XS_DROP_TCP_SEQ], 3);
}

/* RFC 5961 4.2: any SYN in a synchronized state, in the window or not,
 * draws a challenge ACK; the connection is not reset and nothing of the
 * SYN is kept. */
static void test_syn_in_established_challenged(void **state)
{
	struct tfx *t = *state;
	struct popts o;

	tfx_passive_open(t, NULL);
	o = popts_syn_full(t);
	o.tsecr = t->ts_last;
	psend_opts(t, F_SYN, P(0), 0, &o, NULL, 0); /* at RCV.NXT */
	expect_ack(t, S(0), P(0));
	psend_opts(t, F_SYN, P(100), 0, &o, NULL, 0); /* in window */
	expect_ack(t, S(0), P(0));
	psend_opts(t, F_SYN, PEER_ISS, 0, &o, NULL, 0); /* the original SYN */
	expect_ack(t, S(0), P(0));
	psend_opts(t, F_SYN | F_ACK, P(0), S(0), &o, NULL, 0); /* with ACK */
	expect_ack(t, S(0), P(0));
	psend_opts(t, F_SYN, P(0) + 0x40000000u, 0, &o, "zz", 2); /* far away, data */
	expect_ack(t, S(0), P(0));
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	assert_int_equal(t->events & XS_EV_ERROR, 0);
	assert_int_equal(rcv_queue(t), 0);
	/* The three within the window went through the challenge ACK budget
	 * (RFC 5961 7); those outside it may draw plain out-of-window ACKs. */
	assert_true(stat_challenges(t) >= 3);
	/* Still a working connection. */
	pdata(t, 0, 5, S(0));
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(5));
	app_recv(t, 0, 5);
}

/* RFC 5961 5.2 / RFC 9293 3.10.7.4 fifth: an ACK of data never sent
 * (SEG.ACK > SND.NXT) draws an ACK and the segment is dropped, its data
 * with it. */
static void test_ack_above_snd_nxt(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	app_send(t, 100);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	psend(t, F_ACK | F_PSH, P(0), S(101), t->in, 50);
	expect_ack(t, S(100), P(0));
	expect_nothing(t);
	assert_int_equal(rcv_queue(t), 0);
	assert_int_equal(conn_info(t).snd_queue, 100);
	/* The same data with a sane ACK goes in. */
	psend(t, F_ACK | F_PSH, P(0), S(100), t->in, 50);
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(100), P(50));
	assert_int_equal(rcv_queue(t), 50);
	assert_int_equal(conn_info(t).snd_queue, 0);
}

/* RFC 5961 5.2: an ACK below SND.UNA - MAX.SND.WND is dropped with an ACK
 * (its data not taken); a merely old one within MAX.SND.WND is fine. */
static void test_ack_too_old(void **state)
{
	struct tfx *t = *state;
	uint32_t maxwnd = 1024u << 7;

	tfx_passive_open(t, NULL);
	app_send(t, 5000);
	peer_ack_all(t, P(0));
	assert_int_equal(conn_info(t).snd_queue, 0);
	psend(t, F_ACK | F_PSH, P(0), S(5000) - maxwnd - 1, t->in, 40);
	expect_ack(t, S(5000), P(0));
	expect_nothing(t);
	assert_int_equal(rcv_queue(t), 0);
	assert_int_equal(xs_stack_stats(t->fx.st)->drop[XS_DROP_TCP_ACK], 1);
	/* SND.UNA - MAX.SND.WND itself is acceptable (an old duplicate ACK). */
	psend(t, F_ACK | F_PSH, P(0), S(5000) - maxwnd, t->in, 40);
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(5000), P(40));
	assert_int_equal(rcv_queue(t), 40);
}

/* RFC 5961 7: challenge ACKs are rate limited; here at most 10 per second
 * per connection (TCP_CHALLENGE_ACKS_PER_SEC), the budget renewed after a
 * second. */
static void test_challenge_ack_rate_limit(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;
	int i, n = 0;

	tfx_passive_open(t, NULL);
	t0 = t->fx.now;
	for (i = 0; i < 15; i++) {
		psend(t, F_RST, P(10 + i), 0, NULL, 0);
		while (take_seg(t)) {
			assert_int_equal(t->s.flags, F_ACK);
			n++;
		}
	}
	assert_int_equal(n, 10);
	tfx_at(t, t0 + XS_MS(999));
	psend(t, F_RST, P(10), 0, NULL, 0);
	expect_nothing(t);
	tfx_at(t, t0 + XS_SEC(1));
	psend(t, F_RST, P(10), 0, NULL, 0);
	expect_ack(t, S(0), P(0));
	expect_state(t, XS_TCP_ESTABLISHED);
	assert_int_equal(stat_challenges(t), 11);
}

/* RFC 7323 5.3 PAWS: a segment whose TSval is older than TS.Recent is a
 * duplicate from the past: ACK (echoing TS.Recent) and drop, data too.
 * RSTs are exempt (5.3: a RST is acceptable whatever its timestamp). */
static void test_paws(void **state)
{
	struct tfx *t = *state;
	struct popts o;
	uint32_t recent;
	struct tseg *s;

	tfx_passive_open(t, NULL);
	tfx_run(t, XS_MS(100));
	pdata(t, 0, 10, S(0));
	recent = peer_tsval(t);
	tfx_run(t, XS_MS(40));
	s = expect_ack(t, S(0), P(10));
	assert_int_equal(s->tsecr, recent);

	o = popts_ts(t);
	o.tsval = recent - 1;
	psend_opts(t, F_ACK | F_PSH, P(10), S(0), &o, t->in + 10, 10);
	s = expect_ack(t, S(0), P(10));
	assert_int_equal(s->tsecr, recent);
	expect_nothing(t);
	assert_int_equal(rcv_queue(t), 10);
	assert_int_equal(xs_stack_stats(t->fx.st)->drop[XS_DROP_TCP_PAWS], 1);
	/* Across the 2^31 wrap, "older" is modular: recent - 2^31 + 1 is older. */
	o.tsval = recent + 0x80000001u;
	psend_opts(t, F_ACK | F_PSH, P(10), S(0), &o, t->in + 10, 10);
	expect_ack(t, S(0), P(10));
	assert_int_equal(rcv_queue(t), 10);
	/* The same data with a current TSval is taken. */
	pdata(t, 10, 10, S(0));
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(20));
	assert_int_equal(rcv_queue(t), 20);
	/* An old TSval on an exact RST still resets. */
	o.tsval = recent - 1000;
	psend_opts(t, F_RST, P(20), 0, &o, NULL, 0);
	expect_nothing(t);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ECONNRESET);
}

/* RFC 9293 3.10.7.2, LISTEN: a RST is ignored; an ACK (or SYN+ACK) draws
 * <SEQ=SEG.ACK><CTL=RST>; a segment without SYN is dropped; SYN+FIN is
 * dropped too (as Linux does: no legitimate opener sends it). Nothing of
 * these creates a connection. */
static void test_flags_in_listen(void **state)
{
	static const uint8_t silent[] = {
	    0,
	    F_FIN,
	    F_PSH,
	    F_URG,
	    F_FIN | F_PSH | F_URG,
	    F_SYN | F_FIN,
	    F_SYN | F_RST,
	    F_RST,
	    0xff,
	    F_SYN | F_FIN | F_PSH | F_URG,
	};
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);
	unsigned i;

	tfx_listen(t, 16);
	for (i = 0; i < sizeof(silent); i++) {
		psend_opts(t, silent[i], PEER_ISS, silent[i] & F_ACK ? 12345 : 0, &o, NULL, 0);
		if (take_seg(t))
			fail_msg("flags %#x in LISTEN drew flags %#x", silent[i], t->s.flags);
		assert_int_equal(conn_state(t), -1);
	}
	psend_opts(t, F_ACK, PEER_ISS, 12345, &o, NULL, 0);
	expect_seg(t, F_RST, 12345, 0, 0, WND_ANY);
	psend_opts(t, F_SYN | F_ACK, PEER_ISS, 777, &o, NULL, 0);
	expect_seg(t, F_RST, 777, 0, 0, WND_ANY);
	psend_opts(t, F_FIN | F_ACK, PEER_ISS, 778, &o, NULL, 0);
	expect_seg(t, F_RST, 778, 0, 0, WND_ANY);
	expect_nothing(t);
	assert_int_equal(conn_state(t), -1);
	/* A plain SYN still works. */
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
}

/* RFC 9293 3.10.7.4 in SYN-RECEIVED (passive): without ACK a segment is
 * dropped; FIN without ACK too (no CLOSE-WAIT); an exact RST (whatever
 * else is set) returns the connection to LISTEN silently (second step). */
static void test_flags_in_syn_received(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);

	tfx_listen(t, 16);
	psyn(t, &o);
	assert_true(take_seg(t));
	t->iss = t->s.seq;
	t->ts = t->ts_on = true;
	psend(t, 0, P(0), 0, NULL, 0);
	expect_nothing(t);
	psend(t, F_FIN, P(0), 0, NULL, 0);
	expect_nothing(t);
	psend(t, F_PSH | F_URG, P(0), 0, "ab", 2);
	expect_nothing(t);
	expect_state(t, XS_TCP_SYN_RECEIVED);
	/* SYN+FIN in the window: a SYN in a synchronized state (RFC 5961 4.2):
	 * challenge ACK (or the SYN-ACK again); never a new connection. */
	psend(t, F_SYN | F_FIN, P(1), 0, NULL, 0);
	while (take_seg(t))
		assert_true(t->s.flags & F_ACK);
	expect_state(t, XS_TCP_SYN_RECEIVED);
	/* All flags, exact sequence: the RST wins. */
	psend(t, 0xff, P(0), S(0), NULL, 0);
	expect_nothing(t);
	assert_int_equal(conn_state(t), -1);
	/* The listener is intact. */
	tfx_run(t, XS_MS(1));
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
}

/* RFC 9293 3.10.7.4 in ESTABLISHED: no flags, or FIN/PSH/URG without ACK,
 * are dropped silently (fifth step: "if the ACK bit is off, drop") and
 * change nothing; SYN+FIN draws a challenge ACK (RFC 5961 4.2) and no
 * CLOSE-WAIT; every flag at the exact sequence number resets (RST second). */
static void test_flags_in_established(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	psend(t, 0, P(0), 0, t->in, 10);
	expect_nothing(t);
	psend(t, F_FIN | F_PSH | F_URG, P(0), 0, t->in, 10);
	expect_nothing(t);
	psend(t, F_FIN, P(0), 0, NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	assert_int_equal(rcv_queue(t), 0);
	psend(t, F_SYN | F_FIN, P(0), 0, NULL, 0);
	expect_ack(t, S(0), P(0));
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	psend(t, F_SYN | F_FIN | F_ACK | F_PSH, P(0), S(0), t->in, 10);
	expect_ack(t, S(0), P(0));
	expect_state(t, XS_TCP_ESTABLISHED);
	assert_int_equal(rcv_queue(t), 0);
	assert_int_equal(t->events & (XS_EV_READABLE | XS_EV_ERROR), 0);
	psend(t, 0xff, P(0), S(0), NULL, 0);
	expect_nothing(t);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ECONNRESET);
	assert_int_equal(conn_state(t), -1);
}

/* SYN cookies when the SYN queue is full (the listener holds 2*backlog+16
 * half-open connections): the SYN-ACK's ISS is the cookie, with an MSS
 * from the table and no other options; the ACK that returns it creates the
 * connection, which then carries data both ways (RFC 4987 3.6). */
static void test_syn_cookies(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);
	struct tseg *s;
	int i;

	tfx_listen(t, 1);
	for (i = 0; i < 18; i++) {
		t->pport = (uint16_t)(PPORT + i);
		psyn(t, &o);
		assert_true(take_seg(t));
		assert_int_equal(t->s.flags, F_SYN | F_ACK);
		assert_int_equal(t->s.ack, P(0));
		assert_true(t->s.has_ws);
	}
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_syncookies_sent, 0);
	t->pport = PPORT + 100;
	psyn(t, &o);
	assert_true(take_seg(t));
	s = &t->s;
	assert_int_equal(s->flags, F_SYN | F_ACK);
	assert_int_equal(s->ack, P(0));
	assert_true(s->has_mss);
	assert_int_equal(s->mss, 1460);
	assert_false(s->has_ws || s->has_sackok || s->has_ts);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_syncookies_sent, 1);
	assert_int_equal(conn_state(t), -1); /* nothing kept */
	t->iss = s->seq;
	t->ts = false;

	/* A forged cookie is refused with a RST. */
	psend(t, F_ACK, P(0), S(1), NULL, 0);
	expect_seg(t, F_RST, S(1), 0, 0, WND_ANY);
	assert_int_equal(conn_state(t), -1);

	/* The real one: a connection, accepted. */
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
	assert_int_equal(conn_info(t).mss, 1460);
	assert_false(conn_info(t).timestamps);

	/* The peer's first data (within the window of our SYN-ACK); regression (was a bug, now
	 * fixed): the cookie path (tcp_listen_input) sets rcv_adv = rcv_nxt, so RCV.WND is 0 and
	 * this segment is rejected as unacceptable (ACK without taking it) until some ACK of ours
	 * reopens the window. */
	pdata(t, 0, 100, S(0));
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(100));
	assert_int_equal(rcv_queue(t), 100);
	app_send(t, 20);
	expect_seg(t, F_ACK | F_PSH, S(0), P(100), 20, WND_ANY);
}

/* RFC 9293 3.10.7.4: data on the ACK that completes a cookie handshake is
 * processed like any data (sixth and seventh steps). */
static void test_syn_cookie_ack_with_data(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);
	int i;

	tfx_listen(t, 1);
	for (i = 0; i < 18; i++) {
		t->pport = (uint16_t)(PPORT + i);
		psyn(t, &o);
		assert_true(take_seg(t));
	}
	t->pport = PPORT + 100;
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_false(t->s.has_ts);
	t->iss = t->s.seq;
	t->ts = false;
	psend(t, F_ACK | F_PSH, P(0), S(0), t->in, 100);
	/* Regression guard; the bug was: the cookie path creates the connection from the ACK
	 * and returns without processing its text: the 100 bytes are lost and must be
	 * retransmitted. */
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(100));
	t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
	assert_int_equal(rcv_queue(t), 100);
}

/* A full accept queue (backlog 1, nothing accepted): the ACK completing a
 * second handshake is ignored, not reset (the connection stays SYN-RECEIVED
 * and its SYN-ACK is retransmitted); once the application accepts, the
 * peer's next ACK completes it. */
static void test_accept_queue_full(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);
	xs_time_t t0;
	struct xs_tcp h1, h2;

	tfx_listen(t, 1);
	tfx_passive_open(t, &o); /* accepted at once by the helper */
	t->nhandles = 1;
	h1 = t->h;
	/* A second connection completes and waits in the queue. */
	t->pport = PPORT + 1;
	o = popts_syn_full(t);
	psyn(t, &o);
	assert_true(take_seg(t));
	t->iss = t->s.seq;
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	/* A third finds the queue full. */
	t->pport = PPORT + 2;
	o = popts_syn_full(t);
	t0 = t->fx.now;
	psyn(t, &o);
	assert_true(take_seg(t));
	t->iss = t->s.seq;
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_SYN_RECEIVED);
	assert_int_equal(xs_stack_stats(t->fx.st)->drop[XS_DROP_TCP_ACCEPT_FULL], 1);
	tfx_at(t, t0 + XS_SEC(1));
	expect_seg(t, F_SYN | F_ACK, t->iss, P(0), 0, WND_ANY);
	h2 = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	assert_true(h2.id >= 0);
	tfx_track(t, h2);
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_ESTABLISHED);
	t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
	tfx_track(t, h1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_acceptability_open_window), T(test_acceptability_zero_window),
	    T(test_rst_exact_resets),	       T(test_rst_in_window_challenged),
	    T(test_rst_out_of_window_dropped), T(test_syn_in_established_challenged),
	    T(test_ack_above_snd_nxt),	       T(test_ack_too_old),
	    T(test_challenge_ack_rate_limit),  T(test_paws),
	    T(test_flags_in_listen),	       T(test_flags_in_syn_received),
	    T(test_flags_in_established),      T(test_syn_cookies),
	    T(test_syn_cookie_ack_with_data),  T(test_accept_queue_full),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_security", tests, NULL, NULL);
}
