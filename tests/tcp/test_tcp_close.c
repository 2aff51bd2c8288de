/* Scripted TCP conversations: closing (RFC 9293 3.6, 3.10.4-3.10.5, 3.10.7.4
 * eighth), TIME-WAIT and its reuse (RFC 1122 4.2.2.13), resets on close (RFC 2525 2.17). */
#include "tcp_fixture.h"

/* RFC 9293 3.6 figure 12, our side first: FIN (FIN-WAIT-1), its ACK
 * (FIN-WAIT-2), the peer's FIN is ACKed (TIME-WAIT, XS_EV_HUP, EOF), and
 * after 2*MSL (60 s) the connection is gone. */
static void test_active_close(void **state)
{
	struct tfx *t = *state;
	char buf[8];
	xs_time_t tw;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_shutdown(t->fx.st, t->h), 0);
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, 32768);
	expect_nothing(t);
	expect_state(t, XS_TCP_FIN_WAIT_1);
	assert_int_equal(xs_tcp_send(t->fx.st, t->h, "x", 1), -EPIPE);

	psend(t, F_ACK, P(0), S(1), NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_FIN_WAIT_2);
	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, buf, sizeof(buf)), -EAGAIN);

	tfx_run(t, XS_MS(100));
	reset_events(t);
	psend(t, F_FIN | F_ACK, P(0), S(1), NULL, 0);
	expect_ack(t, S(1), P(1));
	expect_nothing(t);
	expect_state(t, XS_TCP_TIME_WAIT);
	assert_true(t->events & XS_EV_HUP);
	assert_true(t->events & XS_EV_READABLE);
	assert_false(t->events & XS_EV_ERROR);
	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, buf, sizeof(buf)), 0);
	tw = t->fx.now;

	tfx_at(t, tw + 2 * XS_SEC(30) - XS_MS(1));
	expect_nothing(t);
	expect_state(t, XS_TCP_TIME_WAIT);
	tfx_at(t, tw + 2 * XS_SEC(30));
	expect_nothing(t);
	assert_int_equal(conn_state(t), -1);
	assert_int_equal(conn_info(t).state, XS_TCP_CLOSED);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), 0);
	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, buf, sizeof(buf)), 0);
	/* A late segment for it draws a RST (RFC 9293 3.10.7.1), from the listener's port. */
	psend(t, F_ACK, P(1), S(1), NULL, 0);
	expect_seg(t, F_RST, S(1), 0, 0, WND_ANY);
}

/* The API: closing the handle of a connection that is already CLOSED
 * (here after TIME-WAIT ran out) releases it; a second close is -EBADF. */
static void test_close_after_time_wait(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_shutdown(t->fx.st, t->h), 0);
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	psend(t, F_FIN | F_ACK, P(0), S(1), NULL, 0);
	expect_ack(t, S(1), P(1));
	tfx_run(t, XS_SEC(60));
	assert_int_equal(conn_info(t).state, XS_TCP_CLOSED);
	/* Regression guard; the bug was: xs_tcp_close (user/tcp/tcp_conn.c) reads c->state
	 * after tcp_handle_release() has freed a CLOSED connection (heap-use-after-free under
	 * ASan). */
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), -EBADF);
	t->nhandles = 1; /* only the listener is left */
}

/* RFC 9293 3.10.4 / 3.8.1: an unacknowledged FIN is retransmitted on the
 * retransmission timer, doubling (1 s, then 2 s). */
static void test_fin_retransmitted(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0, rto;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 1;
	t0 = t->fx.now;
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	/* The handshake gave an RTT sample (RFC 7323 4), so the RTO is the
	 * 200 ms floor: the FIN goes again at RTO, then after 2*RTO, then
	 * 4*RTO (RFC 6298 5.5 backoff): t0 + 1, 3 and 7 RTOs. */
	rto = XS_MS(200); /* the handle is closed: no info; a ~0 RTT gives the floor */
	tfx_at(t, t0 + rto - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t0 + rto);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	expect_nothing(t);
	tfx_at(t, t0 + 3 * rto - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t0 + 3 * rto);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	tfx_at(t, t0 + 7 * rto - XS_MS(1));
	expect_nothing(t);
	tfx_at(t, t0 + 7 * rto);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	psend(t, F_FIN | F_ACK, P(0), S(1), NULL, 0);
	expect_ack(t, S(1), P(1));
	expect_state(t, XS_TCP_TIME_WAIT);
}

/* RFC 9293 3.6 figure 12, the peer first: its FIN is ACKed at once
 * (CLOSE-WAIT, EOF, XS_EV_READABLE); we may still send; our FIN takes us to
 * LAST-ACK and its ACK to CLOSED, without TIME-WAIT. */
static void test_passive_close(void **state)
{
	struct tfx *t = *state;
	char buf[8];

	tfx_passive_open(t, NULL);
	reset_events(t);
	psend(t, F_FIN | F_ACK, P(0), S(0), NULL, 0);
	expect_ack(t, S(0), P(1));
	expect_nothing(t);
	expect_state(t, XS_TCP_CLOSE_WAIT);
	assert_true(t->events & XS_EV_READABLE);
	assert_false(t->events & XS_EV_HUP);
	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, buf, sizeof(buf)), 0);

	app_send(t, 10);
	expect_seg(t, F_ACK | F_PSH, S(0), P(1), 10, WND_ANY);
	psend(t, F_ACK, P(1), S(10), NULL, 0);
	expect_nothing(t);

	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 1;
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(10), P(1), 0, WND_ANY);
	expect_nothing(t);
	expect_state(t, XS_TCP_LAST_ACK);
	/* Regression guard; the bug was: the ACK of our FIN frees the orphan inside tcp_ack_new
	 * (tcp_conn_done); tcp_ack_input then reads c->state from freed
	 * memory ("if (c->state == XS_TCP_CLOSED)", user/tcp/tcp_in.c):
	 * heap-use-after-free on every passive close of a released handle. */
	psend(t, F_ACK, P(1), S(11), NULL, 0);
	expect_nothing(t);
	assert_int_equal(conn_state(t), -1);
	tfx_run(t, XS_SEC(120));
	expect_nothing(t);
}

/* RFC 9293 3.6 figure 13, simultaneous close: FINs cross; the peer's FIN
 * in FIN-WAIT-1 is ACKed (CLOSING), the ACK of ours leads to TIME-WAIT. */
static void test_simultaneous_close(void **state)
{
	struct tfx *t = *state;
	xs_time_t tw;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_shutdown(t->fx.st, t->h), 0);
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	psend(t, F_FIN | F_ACK, P(0), S(0), NULL, 0);
	expect_ack(t, S(1), P(1));
	expect_nothing(t);
	expect_state(t, XS_TCP_CLOSING);
	tfx_run(t, XS_MS(1));
	psend(t, F_ACK, P(1), S(1), NULL, 0);
	expect_nothing(t);
	expect_state(t, XS_TCP_TIME_WAIT);
	tw = t->fx.now;
	tfx_at(t, tw + XS_SEC(60) - XS_MS(1));
	expect_state(t, XS_TCP_TIME_WAIT);
	tfx_at(t, tw + XS_SEC(60));
	assert_int_equal(conn_state(t), -1);
	expect_nothing(t);
}

/* RFC 9293 3.10.4 half close: after shutdown we keep receiving in
 * FIN-WAIT-2 (ACK for every second full segment, RFC 9293 3.8.6.3), the
 * data is read, and the peer's FIN ends it. */
static void test_half_close(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_shutdown(t->fx.st, t->h), 0);
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	psend(t, F_ACK, P(0), S(1), NULL, 0);
	expect_state(t, XS_TCP_FIN_WAIT_2);
	assert_int_equal(xs_tcp_send(t->fx.st, t->h, "x", 1), -EPIPE);

	reset_events(t);
	pdata(t, 0, 1448, S(1));
	expect_nothing(t);
	pdata(t, 1448, 1448, S(1));
	expect_ack(t, S(1), P(2896));
	expect_nothing(t);
	assert_true(t->events & XS_EV_READABLE);
	/* Reading 2 MSS reopens the window by more than one MSS: an update
	 * (RFC 9293 3.8.6.2.2), the right edge back at 262144 >> 3. */
	app_recv(t, 0, 2896);
	expect_seg(t, F_ACK, S(1), P(2896), 0, 32768);
	expect_nothing(t);
	psend(t, F_FIN | F_ACK, P(2896), S(1), NULL, 0);
	expect_ack(t, S(1), P(2897));
	expect_state(t, XS_TCP_TIME_WAIT);
	{
		char b[4];

		assert_int_equal(xs_tcp_recv(t->fx.st, t->h, b, sizeof(b)), 0);
	}
}

/* RFC 2525 2.17 (and the API): closing with received data unread resets
 * the connection: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, no FIN, gone. */
static void test_close_with_unread_data_resets(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	pdata(t, 0, 100, S(0));
	tfx_run(t, XS_MS(40)); /* delayed ACK */
	expect_ack(t, S(0), P(100));
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 1;
	tfx_poll(t);
	expect_seg(t, F_RST | F_ACK, S(0), P(100), 0, WND_ANY);
	expect_nothing(t);
	assert_int_equal(conn_state(t), -1);
	tfx_run(t, XS_SEC(5));
	expect_nothing(t);
}

/* RFC 9293 3.10.5: ABORT sends <SEQ=SND.NXT><CTL=RST> and forgets the
 * connection; the peer's next segment is answered as for no connection. */
static void test_abort_sends_rst(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	app_send(t, 50);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 50, WND_ANY);
	assert_int_equal(xs_tcp_abort(t->fx.st, t->h), 0);
	t->nhandles = 1;
	tfx_poll(t);
	expect_seg(t, F_RST | F_ACK, S(50), P(0), 0, WND_ANY);
	expect_nothing(t);
	assert_int_equal(conn_state(t), -1);
	/* No retransmission of the 50 bytes. */
	tfx_run(t, XS_SEC(3));
	expect_nothing(t);
	psend(t, F_ACK, P(0), S(50), NULL, 0);
	expect_seg(t, F_RST, S(50), 0, 0, WND_ANY);
}

/* RFC 9293 3.10.4: CLOSE in SYN-SENT deletes the connection without a
 * word; a late SYN-ACK then finds nothing and is reset (3.10.7.1). */
static void test_close_in_syn_sent(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_none();

	t->h = xs_tcp_connect(t->fx.st, PEER_IP, PPORT);
	t->lport = 0;
	tfx_poll(t);
	{
		uint8_t f[FRAME_MAX];
		size_t n = take(&t->fx, f);

		parse_tcp_frame(f, n, &t->s);
	}
	t->lport = t->s.sport;
	t->iss = t->s.seq;
	t->irs = PEER_ISS;
	/* Regression guard; the bug was: the connection is freed inside xs_tcp_close (CLOSED
	 * after shutdown), which then reads c->state (use after free). */
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	tfx_poll(t);
	expect_nothing(t);
	assert_int_equal(conn_state(t), -1);
	tfx_run(t, XS_SEC(2));
	expect_nothing(t);
	psend_opts(t, F_SYN | F_ACK, t->irs, S(0), &o, NULL, 0);
	expect_seg(t, F_RST, S(0), 0, 0, WND_ANY);
}

/* RFC 9293 3.10.7.4 (TIME-WAIT, eighth step): a retransmitted FIN is
 * acknowledged again and the 2*MSL timer restarts. */
static void test_time_wait_reacks_fin(void **state)
{
	struct tfx *t = *state;
	xs_time_t tw, again;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 1;
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	psend(t, F_FIN | F_ACK, P(0), S(1), NULL, 0);
	expect_ack(t, S(1), P(1));
	expect_state(t, XS_TCP_TIME_WAIT);
	tw = t->fx.now;

	/* Our ACK was lost; the peer sends its FIN again 30 s later. */
	tfx_at(t, tw + XS_SEC(30));
	psend(t, F_FIN | F_ACK, P(0), S(1), NULL, 0);
	expect_ack(t, S(1), P(1));
	expect_nothing(t);
	again = t->fx.now;
	/* Regression guard; the bug was: the retransmitted FIN (SEG.SEQ = RCV.NXT - 1) fails
	 * the acceptability test in tcp_sync_input and is answered as an unacceptable segment
	 * (rate-limited ACK) before the TIME-WAIT branch that restarts 2*MSL can run: the
	 * connection dies at tw + 60 s. */
	tfx_at(t, tw + XS_SEC(60));
	expect_state(t, XS_TCP_TIME_WAIT);
	tfx_at(t, again + XS_SEC(60) - XS_MS(1));
	expect_state(t, XS_TCP_TIME_WAIT);
	tfx_at(t, again + XS_SEC(60));
	assert_int_equal(conn_state(t), -1);
	expect_nothing(t);
}

/* RFC 1122 4.2.2.13 (and RFC 6191): a new SYN with a sequence number above
 * RCV.NXT may reopen a TIME-WAIT connection if (1) our new ISS is larger
 * than any sequence number used by the previous incarnation. A SYN below
 * RCV.NXT with an older timestamp is an old duplicate: TIME-WAIT stays. */
static void test_time_wait_reuse(void **state)
{
	struct tfx *t = *state;
	struct popts o;
	uint32_t old_snd_max, old_iss;

	tfx_passive_open(t, NULL);
	app_send(t, 10000);
	peer_ack_all(t, P(0));
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 1;
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(10000), P(0), 0, WND_ANY);
	psend(t, F_FIN | F_ACK, P(0), S(10001), NULL, 0);
	expect_ack(t, S(10001), P(1));
	expect_state(t, XS_TCP_TIME_WAIT);
	old_snd_max = S(10001);
	old_iss = t->iss;

	/* An old duplicate SYN (below RCV.NXT, older timestamp): an ACK
	 * (RFC 7323 5.3) or silence (RFC 6191 2), nothing reopened. */
	tfx_run(t, XS_MS(1));
	o = popts_syn_full(t);
	o.tsval -= 100000;
	psend_opts(t, F_SYN, PEER_ISS - 5000, 0, &o, NULL, 0);
	if (take_seg(t)) {
		assert_int_equal(t->s.flags, F_ACK);
		assert_int_equal(t->s.seq, S(10001));
		assert_int_equal(t->s.ack, P(1));
	}
	expect_nothing(t);
	expect_state(t, XS_TCP_TIME_WAIT);

	/* A new SYN above RCV.NXT, 1 ms later: a new connection. */
	tfx_run(t, XS_MS(1));
	o = popts_syn_full(t);
	t->ts_known = false;
	psend_opts(t, F_SYN, PEER_ISS + 100000, 0, &o, NULL, 0);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
	assert_int_equal(t->s.ack, PEER_ISS + 100001);
	expect_nothing(t);
	expect_state(t, XS_TCP_SYN_RECEIVED);
	/* Regression guard; the bug was: the new ISS comes from the RFC 6528 clock alone
	 * (tcp_isn: 4 us ticks, same 4-tuple hash): 2 ms after the old connection started it is
	 * ~500 above the old ISS, below the 10001 octets it used. */
	if (!((int32_t)(t->s.seq - old_snd_max) > 0))
		fail_msg("new ISS %u not above the old SND.MAX %u (old ISS %u)", t->s.seq,
			 old_snd_max, old_iss);
}

/* An orphaned connection in FIN-WAIT-2 (closed by the application after a
 * shutdown, the peer never sending its FIN) is not kept forever: 60 s
 * (Linux tcp_fin_timeout), like an orphan that reached FIN-WAIT-2 itself. */
static void test_fin_wait_2_orphan_timeout(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_shutdown(t->fx.st, t->h), 0);
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	psend(t, F_ACK, P(0), S(1), NULL, 0);
	expect_state(t, XS_TCP_FIN_WAIT_2);
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 1;
	t0 = t->fx.now;
	tfx_at(t, t0 + XS_SEC(60) - XS_MS(1));
	expect_state(t, XS_TCP_FIN_WAIT_2);
	tfx_at(t, t0 + XS_SEC(60));
	assert_int_equal(conn_state(t), -1);
	expect_nothing(t);

	/* The other order: closed first, FIN-WAIT-2 reached as an orphan. */
	tfx_restart(t, 1500);
	tfx_passive_open(t, NULL);
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 1;
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	psend(t, F_ACK, P(0), S(1), NULL, 0);
	t0 = t->fx.now;
	expect_state(t, XS_TCP_FIN_WAIT_2);
	tfx_at(t, t0 + XS_SEC(60) - XS_MS(1));
	expect_state(t, XS_TCP_FIN_WAIT_2);
	tfx_at(t, t0 + XS_SEC(60));
	assert_int_equal(conn_state(t), -1);
}

/* RFC 9293 3.10.7.4 (eighth): a FIN with data is delivered in order, the
 * data before EOF; a FIN beyond a hole waits for the hole to fill. */
static void test_fin_with_data_and_after_hole(void **state)
{
	struct tfx *t = *state;
	char b[16];

	tfx_passive_open(t, NULL);
	/* Bytes 100..199 with FIN arrive before 0..99. */
	psend(t, F_FIN | F_ACK, P(100), S(0), t->in + 100, 100);
	assert_true(take_seg(t));
	assert_int_equal(t->s.ack, P(0)); /* out of order: ACK at once */
	expect_state(t, XS_TCP_ESTABLISHED);
	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, b, sizeof(b)), -EAGAIN);
	pdata(t, 0, 100, S(0));
	/* The hole is filled; a FIN seen earlier beyond it is not remembered
	 * by the stack (RFC 9293 allows dropping it), so accept either the
	 * ACK of 200 (FIN dropped) or of 201 (FIN kept). */
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags & ~F_PSH, F_ACK);
	if (t->s.ack == P(200)) {
		expect_state(t, XS_TCP_ESTABLISHED);
		psend(t, F_FIN | F_ACK, P(200), S(0), NULL, 0);
		expect_ack(t, S(0), P(201));
	} else {
		assert_int_equal(t->s.ack, P(201));
	}
	expect_state(t, XS_TCP_CLOSE_WAIT);
	app_recv(t, 0, 200);
	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, b, sizeof(b)), 0);
}

/* RFC 9293 3.10.7.4: the ACK completing the handshake may carry a FIN:
 * ESTABLISHED then CLOSE-WAIT at once; the FIN is ACKed, the accepted
 * connection reads EOF. */
static void test_fin_on_handshake_ack(void **state)
{
	struct tfx *t = *state;
	struct popts o = popts_syn_full(t);
	char b[4];

	tfx_listen(t, 16);
	psyn(t, &o);
	assert_true(take_seg(t));
	t->iss = t->s.seq;
	t->ts = t->ts_on = t->sack = true;
	psend(t, F_ACK | F_FIN, P(0), S(0), NULL, 0);
	expect_ack(t, S(0), P(1));
	expect_nothing(t);
	expect_state(t, XS_TCP_CLOSE_WAIT);
	t->h = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, b, sizeof(b)), 0);
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 1;
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(1), 0, WND_ANY);
	psend(t, F_ACK, P(1), S(1), NULL, 0); /* LAST-ACK: see test_passive_close */
	assert_int_equal(conn_state(t), -1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_active_close),
	    T(test_fin_retransmitted),
	    T(test_simultaneous_close),
	    T(test_half_close),
	    T(test_close_with_unread_data_resets),
	    T(test_abort_sends_rst),
	    T(test_time_wait_reacks_fin),
	    T(test_time_wait_reuse),
	    T(test_fin_wait_2_orphan_timeout),
	    T(test_fin_with_data_and_after_hole),
	    /* Each of these once hit a use after free (see its note). */
	    T(test_passive_close),
	    T(test_fin_on_handshake_ack),
	    T(test_close_in_syn_sent),
	    T(test_close_after_time_wait),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_close", tests, NULL, NULL);
}
