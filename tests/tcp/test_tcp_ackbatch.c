/* Scripted TCP conversations for ACKs per receive batch (RFC 9293 3.10.7.4,
 * MUST-58/59): owed ACKs leave once after the batch; out-of-order ones at once. */
#include "tcp_fixture.h"

/* The peer's segment of n bytes of its pattern from off (flags, its ACK of
 * ack), queued on the device without a poll: the next poll takes every
 * queued frame as one receive batch. */
static void pqueue(struct tfx *t, uint8_t flags, size_t off, size_t n, uint32_t ack)
{
	uint8_t f[FRAME_MAX];
	struct popts o = popts_ts(t);
	size_t len = mk_tcp(f, t->pport, t->lport, P(off), ack, flags, t->pwnd, &o,
			    n ? t->in + off : NULL, n);

	inject(&t->fx, f, len);
}

/* Takes every segment sent; all must be pure ACKs. Returns how many, the
 * last one in t->s. */
static unsigned take_acks(struct tfx *t)
{
	unsigned n = 0;

	while (take_seg(t)) {
		assert_int_equal(t->s.flags, F_ACK);
		assert_int_equal(t->s.len, 0);
		n++;
	}
	return n;
}

/* Two full segments in one batch: one ACK covering both, not one per
 * segment or per pair, and no delayed ACK left to follow it. */
static void test_two_segments_one_ack(void **state)
{
	struct tfx *t = *state;
	xs_time_t t0;

	tfx_passive_open(t, NULL);
	t0 = t->fx.now;
	pqueue(t, F_ACK, 0, 1448, S(0));
	pqueue(t, F_ACK | F_PSH, 1448, 1448, S(0));
	tfx_poll(t);
	assert_int_equal(take_acks(t), 1);
	assert_int_equal(t->s.ack, P(2896));
	tfx_at(t, t0 + XS_MS(200));
	expect_nothing(t);
	app_recv(t, 0, 2896);
}

/* A batch of sixteen: still one ACK, of all of them. */
static void test_batch_of_sixteen_one_ack(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	for (size_t i = 0; i < 16; i++)
		pqueue(t, F_ACK, 1448 * i, 1448, S(0));
	tfx_poll(t);
	assert_int_equal(take_acks(t), 1);
	assert_int_equal(t->s.ack, P(16 * 1448));
	assert_int_equal(t->s.nsack, 0);
	app_recv(t, 0, 16 * 1448);
}

/* One segment alone in its batch is still a delayed ACK (40 ms), and the
 * next batch's segment makes two: ACKed after that batch. */
static void test_single_segment_still_delayed(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	pqueue(t, F_ACK | F_PSH, 0, 1448, S(0));
	tfx_poll(t);
	expect_nothing(t);
	pqueue(t, F_ACK | F_PSH, 1448, 1448, S(0));
	tfx_run(t, XS_MS(1));
	assert_int_equal(take_acks(t), 1);
	assert_int_equal(t->s.ack, P(2896));
	tfx_run(t, XS_MS(100));
	expect_nothing(t);
}

/* RFC 5681 4.2: every out-of-order segment draws its own duplicate ACK at
 * once, in a batch too (the sender counts them); the segment filling the
 * hole is ACKed at once; in-order data after it in the same batch is ACKed
 * once, after the batch. */
static void test_out_of_order_in_batch_acked_each(void **state)
{
	struct tfx *t = *state;
	struct tseg *s;

	tfx_passive_open(t, NULL);
	pqueue(t, F_ACK, 1448, 1448, S(0));
	pqueue(t, F_ACK, 2896, 1448, S(0));
	pqueue(t, F_ACK, 4344, 1448, S(0));
	tfx_poll(t);
	for (unsigned i = 1; i <= 3; i++) {
		s = expect_ack(t, S(0), P(0));
		assert_int_equal(s->nsack, 1);
		assert_int_equal(s->sack[0][0], P(1448));
		assert_int_equal(s->sack[0][1], P(1448 + 1448 * i));
	}
	expect_nothing(t);
	/* The hole, then two in-order segments. */
	pqueue(t, F_ACK, 0, 1448, S(0));
	pqueue(t, F_ACK, 5792, 1448, S(0));
	pqueue(t, F_ACK, 7240, 1448, S(0));
	tfx_poll(t);
	s = expect_ack(t, S(0), P(5792));
	assert_int_equal(s->nsack, 0);
	s = expect_ack(t, S(0), P(8688));
	assert_int_equal(s->nsack, 0);
	expect_nothing(t);
	app_recv(t, 0, 8688);
}

/* Data the stack sends during the batch carries the ACK owed: no pure ACK
 * follows it (a cumulative ACK of the peer's two segments frees cwnd, and
 * the new data leaves with ACK = everything received so far). */
static void test_batch_ack_rides_on_data(void **state)
{
	struct tfx *t = *state;
	unsigned data = 0;

	tfx_passive_open(t, NULL);
	t->pwnd = 65535;
	app_send(t, 16 * 1448);
	while (take_seg(t))
		data++;
	assert_true(data > 0 && data < 16); /* the initial window holds it back */
	pqueue(t, F_ACK, 0, 1448, S(0));
	pqueue(t, F_ACK, 1448, 1448, S(2 * 1448));
	tfx_poll(t);
	data = 0;
	while (take_seg(t)) {
		assert_true(t->s.len > 0);
		assert_int_equal(t->s.ack, P(2896));
		data++;
	}
	assert_true(data > 0);
	app_recv(t, 0, 2896);
}

/* Data and the FIN in one batch: one ACK, of the FIN too. */
static void test_data_and_fin_one_ack(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	pqueue(t, F_ACK, 0, 1448, S(0));
	pqueue(t, F_ACK, 1448, 1448, S(0));
	pqueue(t, F_ACK | F_FIN, 2896, 0, S(0));
	tfx_poll(t);
	assert_int_equal(take_acks(t), 1);
	assert_int_equal(t->s.ack, P(2896) + 1);
	expect_state(t, XS_TCP_CLOSE_WAIT);
	app_recv(t, 0, 2896);
}

/* Old data (a retransmission of what was ACKed) is not acceptable (RFC 9293
 * 3.10.7.4): each such segment draws an ACK at once, in a batch too. */
static void test_old_data_in_batch_acked_each(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	pqueue(t, F_ACK, 0, 1448, S(0));
	pqueue(t, F_ACK, 1448, 1448, S(0));
	tfx_poll(t);
	assert_int_equal(take_acks(t), 1);
	pqueue(t, F_ACK, 0, 1448, S(0));
	pqueue(t, F_ACK, 1448, 1448, S(0));
	tfx_poll(t);
	assert_int_equal(take_acks(t), 2);
	assert_int_equal(t->s.ack, P(2896));
	app_recv(t, 0, 2896);
}

/* A partly old segment (its tail new) is ACKed at once, and the in-order
 * segment after it in the batch once more after the batch. */
static void test_overlap_acked_at_once(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	pqueue(t, F_ACK, 0, 1448, S(0));
	pqueue(t, F_ACK, 1448, 1448, S(0));
	tfx_poll(t);
	assert_int_equal(take_acks(t), 1);
	pqueue(t, F_ACK, 2000, 1448, S(0)); /* 2000-2896 old, 2896-3448 new */
	pqueue(t, F_ACK, 3448, 1448, S(0));
	tfx_poll(t);
	expect_ack(t, S(0), P(3448));
	expect_nothing(t); /* the next one alone waits for a second segment */
	tfx_run(t, XS_MS(40));
	expect_ack(t, S(0), P(4896));
	app_recv(t, 0, 4896);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_two_segments_one_ack),
	    T(test_batch_of_sixteen_one_ack),
	    T(test_single_segment_still_delayed),
	    T(test_out_of_order_in_batch_acked_each),
	    T(test_batch_ack_rides_on_data),
	    T(test_data_and_fin_one_ack),
	    T(test_old_data_in_batch_acked_each),
	    T(test_overlap_acked_at_once),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_ackbatch", tests, NULL, NULL);
}
