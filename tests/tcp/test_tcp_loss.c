/* Scripted TCP conversations: loss — retransmission timer (RFC 6298), fast
 * retransmit (RFC 5681), NewReno (RFC 6582), SACK recovery (RFC 6675), Karn, user timeout. */
#include "tcp_fixture.h"

#define MSS_PLAIN 1460 /* segments without timestamps */
#define MSS_TS 1448    /* with timestamps */

/* A passive open with MSS 1460 and WS 7, SACK and timestamps as asked, the
 * handshake ACK rtt_ms after the SYN-ACK; cc: NewReno if newreno. */
static void open_conn(struct tfx *t, bool sack, bool ts, unsigned rtt_ms, bool newreno)
{
	struct popts o = popts_syn_full(t);
	uint32_t ip;
	uint16_t port;

	o.sackok = sack;
	o.ts = ts;
	tfx_listen(t, 16);
	psyn(t, &o);
	assert_true(take_seg(t));
	t->iss = t->s.seq;
	t->ts = t->ts_on = ts;
	t->sack = sack;
	tfx_run(t, XS_MS(rtt_ms));
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	t->h = xs_tcp_accept(t->fx.st, t->lh, &ip, &port);
	assert_true(t->h.id >= 0);
	tfx_track(t, t->h);
	assert_int_equal(xs_tcp_set_event_cb(t->fx.st, t->h, tfx_event_cb, t), 0);
	if (newreno)
		assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_CC_CUBIC, 0), 0);
	tfx_poll(t);
	reset_events(t);
}

/* The application sends `bytes`; the stack sends its first n segments of
 * MSS_TS at once. Returns the time they left. */
static xs_time_t send_flight(struct tfx *t, uint32_t bytes, unsigned n)
{
	xs_time_t t0;

	app_send(t, bytes);
	t0 = t->fx.now;
	for (unsigned k = 0; k < n; k++)
		expect_seg(t, F_ACK, S(k * MSS_TS), P(0), MSS_TS, WND_ANY);
	return t0;
}

/* A duplicate ACK from the peer (same ACK, same window, no data). */
static void dupack(struct tfx *t, uint32_t ack)
{
	psend(t, F_ACK, P(0), ack, NULL, 0);
}

/* RFC 6298 5.5 with 2.4 (the 200 ms floor) and 2.5 (the 60 s ceiling):
 * the first unacknowledged segment is retransmitted at 200 ms, then the
 * timer doubles each time: 400, 800 ... 51.2 s, then stays at 60 s. */
static void test_rto_backoff(void **state)
{
	static const unsigned gap_ms[] = {200,	 400,	800,   1600,  3200, 6400,
					  12800, 25600, 51200, 60000, 60000};
	struct tfx *t = *state;
	xs_time_t at;
	unsigned i;

	open_conn(t, false, false, 10, false);
	assert_int_equal(conn_info(t).rto_ms, 200);
	app_send(t, 100);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	at = t->fx.now;
	for (i = 0; i < sizeof(gap_ms) / sizeof(gap_ms[0]); i++) {
		at += XS_MS(gap_ms[i]);
		tfx_at(t, at - XS_MS(1));
		expect_nothing(t);
		tfx_at(t, at);
		expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
		expect_nothing(t);
	}
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_retransmits, 11);
	/* An ACK ends it: no more retransmissions. */
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	tfx_run(t, XS_SEC(120));
	expect_nothing(t);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), 0);
}

/* RFC 6298 5.4 / RFC 5681 3.1: on timeout only the first unacknowledged
 * segment goes again (cwnd = 1 SMSS); each ACK then lets slow start resend
 * the rest in order. */
static void test_rto_resends_first_unacked(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	open_conn(t, false, false, 10, false);
	app_send(t, 3 * MSS_PLAIN);
	t0 = t->fx.now;
	expect_seg(t, F_ACK, S(0), P(0), MSS_PLAIN, WND_ANY);
	expect_seg(t, F_ACK, S(1460), P(0), MSS_PLAIN, WND_ANY);
	expect_seg(t, F_ACK | F_PSH, S(2920), P(0), MSS_PLAIN, WND_ANY);
	tfx_at(t, t0 + XS_MS(200));
	expect_seg(t, F_ACK, S(0), P(0), MSS_PLAIN, WND_ANY);
	expect_nothing(t);
	assert_int_equal(conn_info(t).cwnd, MSS_PLAIN);
	tfx_run(t, XS_MS(10));
	psend(t, F_ACK, P(0), S(1460), NULL, 0);
	expect_seg(t, F_ACK, S(1460), P(0), MSS_PLAIN, WND_ANY);
	expect_seg(t, F_ACK | F_PSH, S(2920), P(0), MSS_PLAIN, WND_ANY);
	expect_nothing(t);
	psend(t, F_ACK, P(0), S(4380), NULL, 0);
	expect_nothing(t);
	assert_int_equal(conn_info(t).snd_queue, 0);
}

/* RFC 5681 3.2: the third duplicate ACK retransmits the missing segment at
 * once (steps 1-2); NewReno: ssthresh = max(FlightSize / 2, 2 * SMSS),
 * cwnd = ssthresh + 3 * SMSS; the first two duplicates send nothing (no new
 * data is waiting); a full ACK ends recovery (RFC 6582 3.2 step 3). */
static void test_fast_retransmit(void **state)
{
	struct tfx *t = *state;
	struct xs_tcp_info i;

	open_conn(t, false, false, 10, true);
	app_send(t, 6 * MSS_PLAIN);
	for (int k = 0; k < 6; k++)
		expect_seg(t, F_ACK, S(k * 1460), P(0), MSS_PLAIN, WND_ANY);
	tfx_run(t, XS_MS(10));
	/* Segment 1 is lost: ACK of 0, then three duplicates. */
	psend(t, F_ACK, P(0), S(1460), NULL, 0);
	expect_nothing(t);
	dupack(t, S(1460));
	expect_nothing(t);
	dupack(t, S(1460));
	expect_nothing(t);
	dupack(t, S(1460));
	expect_seg(t, F_ACK, S(1460), P(0), MSS_PLAIN, WND_ANY);
	expect_nothing(t);
	i = conn_info(t);
	assert_int_equal(i.ssthresh, 3650); /* flight 7300 / 2 */
	assert_int_equal(i.cwnd, 3650 + 3 * 1460);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_fast_recovery, 1);
	/* More duplicates inflate cwnd (RFC 5681 3.2 step 4), nothing to send. */
	dupack(t, S(1460));
	expect_nothing(t);
	assert_int_equal(conn_info(t).cwnd, 3650 + 4 * 1460);
	/* The retransmission repaired everything: full ACK. */
	psend(t, F_ACK, P(0), S(6 * 1460), NULL, 0);
	expect_nothing(t);
	i = conn_info(t);
	assert_int_equal(i.ssthresh, 3650);
	assert_true(i.cwnd == 2920 || i.cwnd == 3650); /* RFC 6582 3.2 step 3 */
	/* No retransmission timer left running. */
	tfx_run(t, XS_SEC(5));
	expect_nothing(t);
}

/* RFC 6582 3.2 step 5: a partial ACK (below "recover") retransmits the
 * next hole at once, deflates cwnd by the amount acknowledged and adds one
 * SMSS back; further duplicates do not start a new recovery (ssthresh is
 * not cut again) until an ACK covers "recover". */
static void test_newreno_partial_ack(void **state)
{
	struct tfx *t = *state;
	struct xs_tcp_info i;
	uint32_t cwnd;

	open_conn(t, false, false, 10, true);
	app_send(t, 6 * MSS_PLAIN);
	for (int k = 0; k < 6; k++)
		expect_seg(t, F_ACK, S(k * 1460), P(0), MSS_PLAIN, WND_ANY);
	tfx_run(t, XS_MS(10));
	/* Segments 1 and 3 are lost. */
	psend(t, F_ACK, P(0), S(1460), NULL, 0);
	dupack(t, S(1460));
	dupack(t, S(1460));
	dupack(t, S(1460));
	expect_seg(t, F_ACK, S(1460), P(0), MSS_PLAIN, WND_ANY);
	expect_nothing(t);
	cwnd = conn_info(t).cwnd;
	assert_int_equal(conn_info(t).ssthresh, 3650);
	/* The retransmitted 1 arrives: ACK up to 3 (partial): 3 goes at once. */
	tfx_run(t, XS_MS(10));
	psend(t, F_ACK, P(0), S(4380), NULL, 0);
	expect_seg(t, F_ACK, S(4380), P(0), MSS_PLAIN, WND_ANY);
	expect_nothing(t);
	i = conn_info(t);
	assert_int_equal(i.cwnd, cwnd - 2920 + 1460);
	assert_int_equal(i.ssthresh, 3650);
	/* Duplicates of the partial ACK: still the same recovery. */
	dupack(t, S(4380));
	dupack(t, S(4380));
	dupack(t, S(4380));
	expect_nothing(t);
	assert_int_equal(conn_info(t).ssthresh, 3650);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_fast_recovery, 1);
	/* Full ACK. */
	psend(t, F_ACK, P(0), S(6 * 1460), NULL, 0);
	expect_nothing(t);
	assert_int_equal(conn_info(t).snd_queue, 0);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_retransmits, 2);
}

/* RFC 6582 4.1 (with RFC 5681 3.1): after a timeout "recover" is SND.MAX;
 * duplicate ACKs for sequence numbers below it (the peer seeing the
 * go-back-N retransmissions twice) must not start a fast retransmit. */
static void test_no_fast_retransmit_below_recover(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;
	uint32_t ssthresh;

	open_conn(t, false, false, 10, true);
	app_send(t, 4 * MSS_PLAIN);
	t0 = t->fx.now;
	for (int k = 0; k < 4; k++)
		expect_seg(t, F_ACK, S(k * 1460), P(0), MSS_PLAIN, WND_ANY);
	tfx_at(t, t0 + XS_MS(200));
	expect_seg(t, F_ACK, S(0), P(0), MSS_PLAIN, WND_ANY);
	ssthresh = conn_info(t).ssthresh;
	assert_int_equal(ssthresh, 2920); /* max(5840 / 2, 2 SMSS) */
	/* The ACK of 0 only; slow start resends 1 and 2. */
	tfx_run(t, XS_MS(10));
	psend(t, F_ACK, P(0), S(1460), NULL, 0);
	expect_seg(t, F_ACK, S(1460), P(0), MSS_PLAIN, WND_ANY);
	expect_seg(t, F_ACK, S(2920), P(0), MSS_PLAIN, WND_ANY);
	expect_nothing(t);
	dupack(t, S(1460));
	dupack(t, S(1460));
	dupack(t, S(1460));
	expect_nothing(t);
	assert_int_equal(conn_info(t).ssthresh, ssthresh);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_fast_recovery, 0);
}

/* RFC 8985 6.2 with RFC 6675 5: with SACK, RACK infers loss by time. A
 * segment sent before one that was delivered is lost once RACK.rtt plus
 * the reordering window has passed; with no reordering seen and three
 * segments SACKed, that window is 0 (step 4), so every hole below the
 * newest delivered segment goes at once: here 1 and 3 together (RFC
 * 6675's IsLost would have waited for three SACKed segments above 3).
 * SACKed segments are never resent. */
static void test_sack_recovery(void **state)
{
	struct tfx *t = *state;
	const uint32_t M = MSS_TS;
	uint32_t b[2][2];

	open_conn(t, true, true, 10, false);
	send_flight(t, 8 * M, 8);
	expect_nothing(t);
	tfx_run(t, XS_MS(10));
	/* Segments 1 and 3 are lost; 0 is ACKed, then 2, 4, 5, 6, 7 SACKed. */
	psend(t, F_ACK, P(0), S(M), NULL, 0);
	expect_nothing(t);
	b[0][0] = S(2 * M);
	b[0][1] = S(3 * M);
	psack(t, S(M), 1, (const uint32_t(*)[2])b);
	expect_nothing(t); /* 1 may only be reordered: the window runs */
	b[0][0] = S(4 * M);
	b[0][1] = S(5 * M);
	b[1][0] = S(2 * M);
	b[1][1] = S(3 * M);
	psack(t, S(M), 2, (const uint32_t(*)[2])b);
	expect_nothing(t);
	b[0][1] = S(6 * M);
	psack(t, S(M), 2, (const uint32_t(*)[2])b);
	/* Three SACKed, no reordering seen: 1 and 3 are lost now. */
	expect_seg(t, F_ACK, S(M), P(0), M, WND_ANY);
	expect_seg(t, F_ACK, S(3 * M), P(0), M, WND_ANY);
	expect_nothing(t);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_sack_recovery, 1);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_rack_lost, 2);
	b[0][1] = S(7 * M);
	psack(t, S(M), 2, (const uint32_t(*)[2])b);
	b[0][1] = S(8 * M);
	psack(t, S(M), 2, (const uint32_t(*)[2])b);
	expect_nothing(t);
	/* The retransmission of 1 arrives: ACK up to 3 (partial), SACK 4-7. */
	tfx_run(t, XS_MS(10));
	b[0][0] = S(4 * M);
	b[0][1] = S(8 * M);
	psack(t, S(3 * M), 1, (const uint32_t(*)[2])b);
	expect_nothing(t);
	psend(t, F_ACK, P(0), S(8 * M), NULL, 0);
	expect_nothing(t);
	assert_int_equal(conn_info(t).snd_queue, 0);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_retransmits, 2);
	tfx_run(t, XS_SEC(5));
	expect_nothing(t);
}

/* RFC 8985 6.2 step 4 and 6.3: with fewer than three segments SACKed and no
 * reordering seen, a hole waits RACK.min_RTT/4 (the reordering window) on
 * the reorder timer, then is resent: long before a probe or an RTO. */
static void test_rack_reorder_timer(void **state)
{
	struct tfx *t = *state;
	const uint32_t M = MSS_TS;
	uint32_t b[1][2];
	xs_time_t t0;

	open_conn(t, true, true, 40, false);
	t0 = send_flight(t, 4 * M, 4);
	/* 40 ms later: 0 ACKed, 2 SACKed (1 missing). min_RTT 40 ms, so the
	 * window is 10 ms: 1 is lost at t0 + 40 + 10. */
	tfx_at(t, t0 + XS_MS(40));
	psend(t, F_ACK, P(0), S(M), NULL, 0);
	b[0][0] = S(2 * M);
	b[0][1] = S(3 * M);
	psack(t, S(M), 1, (const uint32_t(*)[2])b);
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(48));
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(52));
	expect_seg(t, F_ACK, S(M), P(0), M, WND_ANY);
	expect_nothing(t);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_rack_lost, 1);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_rto_expired, 0);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_tlp, 0);
}

/* RFC 8985 6.2 step 3: a hole filled by its original segment within the
 * window is reordering, not loss: nothing is resent, and once reordering
 * has been seen the window stays open even with three segments SACKed. */
static void test_rack_reordering_tolerated(void **state)
{
	struct tfx *t = *state;
	const uint32_t M = MSS_TS;
	uint32_t b[1][2];
	xs_time_t t0;

	open_conn(t, true, true, 40, false);
	t0 = send_flight(t, 8 * M, 8);
	tfx_at(t, t0 + XS_MS(40));
	psend(t, F_ACK, P(0), S(M), NULL, 0);
	b[0][0] = S(2 * M);
	b[0][1] = S(3 * M);
	psack(t, S(M), 1, (const uint32_t(*)[2])b);
	/* 1 arrives late, 5 ms on: the ACK covers 0-2. */
	tfx_at(t, t0 + XS_MS(45));
	psend(t, F_ACK, P(0), S(3 * M), NULL, 0);
	tfx_at(t, t0 + XS_MS(60));
	expect_nothing(t);
	/* 3 and 4 then arrive after 5, 6, 7 (three SACKed): reordering was
	 * seen, so they too get the window before they count as lost. */
	b[0][0] = S(5 * M);
	b[0][1] = S(8 * M);
	psack(t, S(3 * M), 1, (const uint32_t(*)[2])b);
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(62));
	psend(t, F_ACK, P(0), S(8 * M), NULL, 0);
	tfx_at(t, t0 + XS_MS(150));
	expect_nothing(t);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_retransmits, 0);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_rack_lost, 0);
}

/* RFC 8985 6.2 (its reason to exist): a retransmission that is lost too is
 * found by time, from data sent after it being SACKed, and resent again
 * without waiting for the RTO. */
static void test_rack_lost_retransmission(void **state)
{
	struct tfx *t = *state;
	const uint32_t M = MSS_TS;
	uint32_t b[1][2], hi = 0, hi2 = 0;
	unsigned resent = 0;
	xs_time_t t0;

	open_conn(t, true, true, 10, false);
	t0 = send_flight(t, 32 * M, 10); /* the initial window */
	expect_nothing(t);
	/* 0 lost; 1-4 SACKed: with three SACKed 0 is resent, and new data
	 * follows as the pipe allows. */
	tfx_at(t, t0 + XS_MS(10));
	b[0][0] = S(M);
	for (unsigned k = 2; k <= 5; k++) {
		b[0][1] = S(k * M);
		psack(t, S(0), 1, (const uint32_t(*)[2])b);
	}
	while (take_seg(t)) {
		if (t->s.seq == S(0))
			resent++;
		else
			assert_true(t->s.seq >= S(10 * M)); /* nothing SACKed again */
		if (t->s.seq + t->s.len > hi)
			hi = t->s.seq + (uint32_t)t->s.len;
	}
	assert_int_equal(resent, 1);
	assert_true(hi > S(10 * M)); /* some new data went after the resend */
	/* The resend of 0 is lost. 5-9 and what limited transmit sent (before
	 * the resend, in the same instant) are SACKed: none of it left after
	 * the resend, so RACK cannot tell yet (RFC 8985 6.2 judges by what was
	 * sent later, and the records know the order exactly); the pipe it
	 * frees carries new data, after the resend. */
	tfx_at(t, t0 + XS_MS(15));
	b[0][1] = hi;
	psack(t, S(0), 1, (const uint32_t(*)[2])b);
	resent = 0;
	while (take_seg(t)) {
		if (t->s.seq == S(0))
			resent++;
		if (t->s.seq + t->s.len > hi2)
			hi2 = t->s.seq + (uint32_t)t->s.len;
	}
	assert_int_equal(resent, 0);
	assert_true(hi2 > hi);
	/* That new data is SACKed 10 ms later: 0 is lost again and goes a
	 * third time, at once, without an RTO. */
	tfx_at(t, t0 + XS_MS(25));
	b[0][1] = hi2;
	psack(t, S(0), 1, (const uint32_t(*)[2])b);
	resent = 0;
	while (take_seg(t))
		if (t->s.seq == S(0))
			resent++;
	assert_int_equal(resent, 1);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_rto_expired, 0);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_sack_recovery, 1);
	assert_true(xs_stack_stats(t->fx.st)->tcp_rack_lost >= 2);
	/* It arrives: everything is acknowledged, recovery ends. */
	tfx_at(t, t0 + XS_MS(35));
	psend(t, F_ACK, P(0), hi2, NULL, 0);
	while (take_seg(t))
		assert_true(t->s.seq >= hi2); /* only new data from here */
}

/* RFC 8985 7.2: no tail loss probe while in loss recovery: a probe timer
 * armed before recovery began must not fire during it (only the RTO). */
static void test_no_tlp_in_recovery(void **state)
{
	struct tfx *t = *state;
	const uint32_t M = MSS_TS;
	uint32_t b[1][2];
	xs_time_t t0;

	open_conn(t, true, true, 10, false);
	t0 = send_flight(t, 8 * M, 8);
	/* 10 ms later: 0 ACKed (an RTT sample: SRTT 10 ms, PTO 20 ms). */
	tfx_at(t, t0 + XS_MS(10));
	psend(t, F_ACK, P(0), S(M), NULL, 0);
	expect_nothing(t);
	b[0][0] = S(2 * M);
	for (unsigned k = 3; k <= 5; k++) {
		b[0][1] = S(k * M);
		psack(t, S(M), 1, (const uint32_t(*)[2])b);
	}
	expect_seg(t, F_ACK, S(M), P(0), M, WND_ANY);
	expect_nothing(t);
	/* Past the probe timeout, well before the RTO: nothing. */
	tfx_at(t, t0 + XS_MS(60));
	expect_nothing(t);
	/* Nor before the RTO (200 ms after the retransmission). */
	tfx_at(t, t0 + XS_MS(209));
	expect_nothing(t);
}

/* RFC 6298 3 (Karn): an ACK that may be for a retransmitted segment gives
 * no RTT sample; and the backed-off RTO stays until a sample is taken
 * (RFC 6298 5, last note: only a new measurement collapses it). */
static void test_karn(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	open_conn(t, false, false, 50, false);
	assert_int_equal(conn_info(t).rtt_us, 50000);
	assert_int_equal(conn_info(t).rto_ms, 200);
	app_send(t, 100);
	t0 = t->fx.now;
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	tfx_at(t, t0 + XS_MS(200));
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	/* The ACK at 500 ms: 500 or 300 ms? Neither is measured. */
	tfx_at(t, t0 + XS_MS(500));
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	assert_int_equal(conn_info(t).rtt_us, 50000);
	/* Next segment: the RTO is still the backed-off 400 ms. */
	app_send(t, 100);
	t0 = t->fx.now;
	expect_seg(t, F_ACK | F_PSH, S(100), P(0), 100, WND_ANY);
	/* Regression guard; the bug was: tcp_ack_new (user/tcp/tcp_in.c) calls
	 * rtt_reset_backoff on every new ACK, also one that gave no sample: the RTO collapses to
	 * 200 ms (Linux resets the backoff only on a valid measurement). */
	tfx_at(t, t0 + XS_MS(399));
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(400));
	expect_seg(t, F_ACK | F_PSH, S(100), P(0), 100, WND_ANY);
}

/* Karn, the sample side: a segment sent once and ACKed gives a sample
 * (RFC 6298 2.3: SRTT = 7/8 SRTT + 1/8 R), one sent twice does not. */
static void test_karn_samples(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	open_conn(t, false, false, 50, false);
	app_send(t, 100);
	t0 = t->fx.now;
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	tfx_at(t, t0 + XS_MS(200));
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	tfx_at(t, t0 + XS_MS(250));
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	assert_int_equal(conn_info(t).rtt_us, 50000);
	/* A clean exchange: 100 ms. */
	app_send(t, 100);
	expect_seg(t, F_ACK | F_PSH, S(100), P(0), 100, WND_ANY);
	tfx_run(t, XS_MS(100));
	psend(t, F_ACK, P(0), S(200), NULL, 0);
	assert_int_equal(conn_info(t).rtt_us, 56250);
}

/* RFC 9293 3.8.3 (R2) / RFC 5482: with XS_TCP_USER_TIMEOUT 5000 ms, data
 * unacknowledged for 5 s aborts the connection (-ETIMEDOUT, XS_EV_ERROR;
 * a RST may be sent); retransmissions before that follow the backoff. */
static void test_user_timeout(void **state)
{
	static const unsigned rtx_ms[] = {200, 600, 1400, 3000};
	struct tfx *t = *state;
	xs_time_t t0;
	unsigned i;

	open_conn(t, false, false, 10, false);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_USER_TIMEOUT, 5000), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_USER_TIMEOUT, -1), -EINVAL);
	app_send(t, 100);
	t0 = t->fx.now;
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	for (i = 0; i < 4; i++) {
		tfx_at(t, t0 + XS_MS(rtx_ms[i]));
		expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	}
	tfx_at(t, t0 + XS_MS(4999));
	expect_nothing(t);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), 0);
	/* Regression guard; the bug was: the user timeout is only checked when the
	 * retransmission timer fires (tcp_rto_fire), and that timer is not clamped to it (Linux:
	 * tcp_clamp_rto_to_user_timeout): the abort waits for the next RTO,
	 * at 6.2 s. */
	tfx_at(t, t0 + XS_MS(5000));
	if (take_seg(t))
		assert_int_equal(t->s.flags & ~F_ACK, F_RST);
	expect_nothing(t);
	assert_true(t->events & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ETIMEDOUT);
	assert_int_equal(conn_state(t), -1);
}

/* The user timeout counts from the oldest unacknowledged data: progress
 * (an ACK of part of it) starts it again. */
static void test_user_timeout_progress(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	open_conn(t, false, false, 10, false);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_USER_TIMEOUT, 3000), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_NODELAY, 1), 0);
	app_send(t, 2 * MSS_PLAIN);
	t0 = t->fx.now;
	expect_seg(t, F_ACK, S(0), P(0), MSS_PLAIN, WND_ANY);
	expect_seg(t, F_ACK | F_PSH, S(1460), P(0), MSS_PLAIN, WND_ANY);
	tfx_at(t, t0 + XS_MS(2500));
	while (take_seg(t))
		;
	psend(t, F_ACK, P(0), S(1460), NULL, 0);
	while (take_seg(t))
		;
	tfx_at(t, t0 + XS_MS(3100));
	while (take_seg(t))
		assert_false(t->s.flags & F_RST);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), 0);
	expect_state(t, XS_TCP_ESTABLISHED);
}

/* RFC 8985 7: with SACK and an RTT sample (SRTT 10 ms) a tail of three
 * segments unanswered draws one loss probe after PTO = 2 * SRTT (7.2): the last
 * segment again (no new data waits); then the RTO, re-armed after the probe
 * (7.3), resends the first one. */
static void test_tail_loss_probe(void **state)
{
	struct tfx *t = *state;
	const uint32_t M = MSS_TS;
	xs_time_t t0;
	unsigned ms;

	open_conn(t, true, true, 10, false);
	app_send(t, 100);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	tfx_run(t, XS_MS(10));
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	assert_int_equal(conn_info(t).rtt_us, 10000);
	app_send(t, 3 * M);
	t0 = t->fx.now;
	for (unsigned k = 0; k < 3; k++)
		expect_seg(t, F_ACK, S(100 + k * M), P(0), M, WND_ANY);
	/* The probe: not before 2 * SRTT, a little slack allowed (Linux: 2 ms). */
	for (ms = 1; ms <= 22; ms++) {
		tfx_at(t, t0 + XS_MS(ms));
		if (take_seg(t))
			break;
	}
	if (ms < 20 || ms > 22)
		fail_msg("loss probe at %u ms, want 20..22 (2 * SRTT + slack)", ms);
	assert_int_equal(t->s.seq + t->s.len, S(100 + 3 * M));
	assert_true(t->s.len > 0 && t->s.len <= M);
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(ms + 199));
	expect_nothing(t);
	tfx_at(t, t0 + XS_MS(ms + 200));
	expect_seg(t, F_ACK, S(100), P(0), M, WND_ANY);
	expect_nothing(t);
}

/* RFC 9293 3.8.6.1 lets the window stay closed as long as the peer answers
 * the probes; a peer that vanishes behind a zero window must not hold the
 * connection forever: with XS_TCP_USER_TIMEOUT 10 s, unanswered probes end
 * it (Linux: tcp_probe_timer honours the user timeout). */
static void test_persist_unanswered_aborts(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	open_conn(t, false, false, 10, false);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->h, XS_TCP_USER_TIMEOUT, 10000), 0);
	app_send(t, 100);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 100, WND_ANY);
	tfx_run(t, XS_MS(10));
	t->pwnd = 0;
	psend(t, F_ACK, P(0), S(100), NULL, 0);
	app_send(t, 1000);
	expect_nothing(t);
	t0 = t->fx.now;
	/* Regression guard; the bug was: the persist timer (tcp_rto_fire, c->persist) probes
	 * forever; neither the user timeout nor a probe count ever ends it. */
	for (unsigned ms = 100; ms <= 30000; ms += 100) {
		tfx_at(t, t0 + XS_MS(ms));
		while (take_seg(t))
			;
		if (t->events & XS_EV_ERROR)
			break;
	}
	assert_true(t->events & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ETIMEDOUT);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_rto_backoff),
	    T(test_rto_resends_first_unacked),
	    T(test_fast_retransmit),
	    T(test_newreno_partial_ack),
	    T(test_no_fast_retransmit_below_recover),
	    T(test_sack_recovery),
	    T(test_rack_reorder_timer),
	    T(test_rack_reordering_tolerated),
	    T(test_rack_lost_retransmission),
	    T(test_no_tlp_in_recovery),
	    T(test_karn),
	    T(test_karn_samples),
	    T(test_user_timeout),
	    T(test_user_timeout_progress),
	    T(test_tail_loss_probe),
	    T(test_persist_unanswered_aborts),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_loss", tests, NULL, NULL);
}
