/* Unit tests of user/tcp/rack.c: transmission records (append, split on
 * resend, SACK of whole records, cumulative ACK) and RACK's loss detection (RFC 8985 6.2)
 * with hand-set times, at several sequence bases (across the 2^32 wrap). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/rack.h"
#include "wire/tcp.h"

static uint32_t base_low = 1000;
static uint32_t base_wrap = 0xffffffffu - 5000; /* records straddle 2^32 */
static uint32_t base_sign = 0x7fffffffu - 3000; /* and the sign bit */

#define BASE(state) (*(const uint32_t *)*(state))
#define MS(x) XS_MS(x)

/* The records, copied in order by check(). */
static struct tcp_txrec flat[RACK_MAX_RECORDS];

/* The queued transmission with number xno, or NULL (entries are in
 * transmission order: binary search). */
static const struct rack_xmit *tq_find(const struct tcp_rack *q, uint32_t xno)
{
	uint32_t lo = 0, hi = q->tqn;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct rack_xmit *x = &q->tq[(q->tqhead + mid) & (q->tqcap - 1)];

		if (x->xno == xno)
			return x;
		if ((int32_t)(x->xno - xno) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Every record in order, non-empty, and the flag counts, the pipe, the
 * chunks and the time-order queue right: each record in flight has its
 * latest transmission queued (else RACK could never find it lost). */
static void check(const struct tcp_rack *q)
{
	uint32_t i, c, s = 0, l = 0, x = 0, pipe = 0, n = 0;

	for (c = 0; c < q->nch; c++) {
		const struct rack_chunk *k = q->ch[c];

		assert_true(k->lo < k->hi && k->hi <= RACK_CHUNK);
		/* Only the first and the last chunk may be less than half full. */
		if (c && c + 1 < q->nch)
			assert_true(k->hi - k->lo >= RACK_CHUNK / 2);
		assert_true(n + (k->hi - k->lo) <= RACK_MAX_RECORDS);
		for (i = k->lo; i < k->hi; i++)
			flat[n++] = k->r[i];
	}
	assert_int_equal(n, q->n);
	assert_true(q->nch <= RACK_MAX_CHUNKS);
	assert_true(q->tqn <= q->tqcap && q->tqcap <= RACK_MAX_XMITS);
	for (i = 0; i + 1 < q->tqn; i++) /* one entry a transmission, in order */
		assert_true((int32_t)(q->tq[(q->tqhead + i) & (q->tqcap - 1)].xno -
				      q->tq[(q->tqhead + i + 1) & (q->tqcap - 1)].xno) < 0);
	for (i = 0; i < n; i++) {
		const struct tcp_txrec *r = &flat[i];

		assert_true(seq_lt(r->seq, r->end));
		if (i)
			assert_true(seq_le(flat[i - 1].end, r->seq));
		assert_false((r->flags & TXREC_SACKED) && (r->flags & TXREC_LOST));
		s += !!(r->flags & TXREC_SACKED);
		l += !!(r->flags & TXREC_LOST);
		x += !!(r->flags & TXREC_RETRANS);
		if (!(r->flags & (TXREC_SACKED | TXREC_LOST))) {
			const struct rack_xmit *t = tq_find(q, r->xno);

			pipe += r->end - r->seq;
			assert_non_null(t);
			assert_true(seq_lt(t->seq, r->end) && seq_lt(r->seq, t->end));
		}
		/* The lowest lost record is at or above the hint. */
		if ((r->flags & TXREC_LOST) && l == 1)
			assert_true(seq_le(q->lost_hint, r->seq));
	}
	assert_int_equal(s, q->nsacked);
	assert_int_equal(l, q->nlost);
	assert_int_equal(x, q->nrtx);
	assert_int_equal(pipe, rack_pipe(q));
}

static const struct tcp_txrec *at(const struct tcp_rack *q, uint32_t i)
{
	assert_true(i < q->n);
	return rack_at(q, i);
}

/* n segments of 100 octets from b, sent at time t (one batch). */
static uint32_t send_n(struct tcp_rack *q, uint32_t b, uint32_t from, unsigned n, xs_time_t t)
{
	for (unsigned k = 0; k < n; k++, from += 100)
		rack_on_xmit(q, b + from, b + from + 100, b + from, t);
	check(q);
	return from;
}

static void test_records_follow_sends_and_acks(void **state)
{
	uint32_t b = BASE(state);
	struct tcp_rack q;

	rack_init(&q);
	send_n(&q, b, 0, 5, MS(1));
	assert_int_equal(q.n, 5);
	assert_int_equal(rack_pipe(&q), 500);
	/* A resend across two records splits both at its edges. */
	rack_on_xmit(&q, b + 150, b + 250, b + 500, MS(3));
	check(&q);
	assert_int_equal(q.n, 7);
	assert_int_equal(at(&q, 1)->end, b + 150);
	assert_int_equal(at(&q, 2)->seq, b + 150);
	assert_true(at(&q, 2)->flags & TXREC_RETRANS);
	assert_int_equal(at(&q, 2)->sent, MS(3));
	assert_int_equal(at(&q, 3)->end, b + 250);
	assert_true(at(&q, 3)->flags & TXREC_RETRANS);
	assert_false(at(&q, 4)->flags & TXREC_RETRANS);
	assert_int_equal(at(&q, 4)->sent, MS(1));
	assert_int_equal(q.nrtx, 2);
	/* A send that is partly new: the old part is a resend, the rest a
	 * new record. */
	rack_on_xmit(&q, b + 450, b + 600, b + 500, MS(4));
	check(&q);
	assert_int_equal(at(&q, q.n - 1)->seq, b + 500);
	assert_int_equal(at(&q, q.n - 1)->flags, 0);
	assert_true(at(&q, q.n - 2)->flags & TXREC_RETRANS);
	/* Cumulative ACK: whole records go, a cut one is trimmed. */
	rack_on_ack(&q, b + 120, MS(10));
	check(&q);
	assert_int_equal(at(&q, 0)->seq, b + 120);
	rack_on_ack(&q, b + 600, MS(11));
	check(&q);
	assert_int_equal(q.n, 0);
	assert_int_equal(rack_pipe(&q), 0);
	rack_free(&q);
}

/* rack_release: nothing while a record is held; with none, every block
 * goes and RACK's own state stays; the next send works as the first. */
static void test_release_storage(void **state)
{
	uint32_t b = BASE(state);
	struct tcp_rack q;

	rack_init(&q);
	assert_int_equal(rack_release(&q), 0);
	send_n(&q, b, 0, 3, MS(1));
	assert_int_equal(rack_release(&q), 0);
	assert_non_null(q.ch);
	rack_on_ack(&q, b + 300, MS(11));
	assert_int_equal(q.n, 0);
	assert_true(q.have);
	assert_int_equal(rack_release(&q), 1);
	assert_null(q.ch);
	assert_null(q.spare);
	assert_null(q.tq);
	assert_int_equal(q.nch + q.chcap + q.tqcap + q.tqn, 0);
	assert_true(q.have);
	assert_int_equal(q.min_rtt, MS(10));
	assert_int_equal(rack_release(&q), 0);
	send_n(&q, b + 300, 0, 2, MS(20));
	check(&q);
	assert_int_equal(q.n, 2);
	assert_int_equal(rack_pipe(&q), 200);
	rack_on_ack(&q, b + 500, MS(25));
	check(&q);
	assert_int_equal(q.n, 0);
	rack_free(&q);
}

static void test_sack_marks_whole_records(void **state)
{
	uint32_t b = BASE(state), s, e;
	struct tcp_rack q;

	rack_init(&q);
	send_n(&q, b, 0, 6, MS(1));
	/* An inverted or empty block changes nothing. */
	assert_int_equal(rack_on_sack(&q, b + 300, b + 200, MS(5)), 0);
	assert_int_equal(rack_on_sack(&q, b + 300, b + 300, MS(5)), 0);
	check(&q);
	assert_int_equal(q.nsacked, 0);
	assert_false(q.have);
	/* [250, 400): half of record 2 and record 3. A record is one segment
	 * as sent: a block that covers part of one is resegmenting or lying,
	 * and does not split it (reported as unaligned): only 3 is SACKed. */
	assert_int_equal(rack_on_sack(&q, b + 250, b + 400, MS(5)), 1);
	check(&q);
	assert_int_equal(q.n, 6);
	assert_int_equal(q.nsacked, 1);
	assert_false(at(&q, 2)->flags & TXREC_SACKED);
	assert_int_equal(at(&q, 3)->seq, b + 300);
	assert_int_equal(at(&q, 3)->end, b + 400);
	assert_true(at(&q, 3)->flags & TXREC_SACKED);
	assert_int_equal(rack_pipe(&q), 600 - 100);
	/* The same block again: nothing new; an aligned one is not unaligned. */
	assert_int_equal(rack_on_sack(&q, b + 250, b + 400, MS(6)), 1);
	assert_int_equal(rack_on_sack(&q, b + 300, b + 400, MS(6)), 0);
	assert_int_equal(q.nsacked, 1);
	/* A block inside one record, and one ending inside one. */
	assert_int_equal(rack_on_sack(&q, b + 410, b + 420, MS(6)), 1);
	assert_int_equal(rack_on_sack(&q, b + 400, b + 550, MS(6)), 1);
	check(&q);
	assert_int_equal(q.nsacked, 2); /* 400-500 */
	assert_int_equal(q.n, 6);
	/* RACK now knows the newest delivered: sent at 1 ms, ends at 500. */
	assert_true(q.have);
	assert_int_equal(q.xmit_ts, MS(1));
	assert_int_equal(q.end_seq, b + 500);
	assert_int_equal(q.rtt, MS(5));
	/* After a timeout everything not SACKed is lost, in order. */
	rack_mark_all_lost(&q);
	check(&q);
	assert_int_equal(rack_pipe(&q), 0);
	assert_true(rack_next_lost(&q, &s, &e));
	assert_int_equal(s, b);
	assert_int_equal(e, b + 100);
	/* A resend clears the mark and is in flight again. */
	rack_on_xmit(&q, b, b + 100, b + 600, MS(7));
	check(&q);
	assert_int_equal(rack_pipe(&q), 100);
	assert_true(rack_next_lost(&q, &s, &e));
	assert_int_equal(s, b + 100);
	/* A resend of part of a lost record splits it: the rest stays lost. */
	rack_on_xmit(&q, b + 100, b + 130, b + 600, MS(8));
	check(&q);
	assert_int_equal(q.n, 7);
	assert_true(rack_next_lost(&q, &s, &e));
	assert_int_equal(s, b + 130);
	assert_int_equal(e, b + 200);
	rack_free(&q);
}

/* RFC 8985 6.2: records sent before the newest delivered one are lost once
 * RACK.rtt + reo_wnd passed; the window is min_RTT / 4 until three are
 * SACKed (then 0, with no reordering seen). */
static void test_detect_by_time(void **state)
{
	uint32_t b = BASE(state);
	struct tcp_rack q;
	xs_time_t wait;

	rack_init(&q);
	send_n(&q, b, 0, 3, MS(0));
	send_n(&q, b, 300, 3, MS(2));
	/* 300-400 (sent at 2 ms) SACKed at 42 ms: rtt 40, window 10. 0-300
	 * were sent before it: lost at 0 + 40 + 10 = 50 ms. */
	rack_on_sack(&q, b + 300, b + 400, MS(42));
	assert_int_equal(rack_detect_loss(&q, MS(42), MS(40), false, &wait), 0);
	assert_int_equal(wait, MS(8));
	assert_int_equal(rack_detect_loss(&q, MS(49), MS(40), false, &wait), 0);
	assert_int_equal(wait, MS(1));
	assert_int_equal(rack_detect_loss(&q, MS(50), MS(40), false, &wait), 3);
	assert_int_equal(wait, 0);
	check(&q);
	assert_int_equal(q.nlost, 3);
	/* 400-600 were sent with 300-400 but after it (higher end): never
	 * lost by it. */
	assert_false(at(&q, 4)->flags & TXREC_LOST);
	assert_false(at(&q, 5)->flags & TXREC_LOST);
	/* Again: nothing new. */
	assert_int_equal(rack_detect_loss(&q, MS(60), MS(40), false, &wait), 0);
	rack_free(&q);
}

static void test_window_closes_with_three_sacked(void **state)
{
	uint32_t b = BASE(state);
	struct tcp_rack q;
	xs_time_t wait;

	rack_init(&q);
	send_n(&q, b, 0, 5, MS(0));
	/* One batch, same time: order by end sequence decides. */
	rack_on_sack(&q, b + 100, b + 300, MS(20));
	assert_int_equal(rack_detect_loss(&q, MS(20), MS(20), false, &wait), 0);
	assert_int_equal(wait, MS(5));
	rack_on_sack(&q, b + 300, b + 400, MS(20));
	assert_int_equal(rack_detect_loss(&q, MS(20), MS(20), false, &wait), 1);
	assert_true(at(&q, 0)->flags & TXREC_LOST);
	assert_false(at(&q, 4)->flags & TXREC_LOST);
	rack_free(&q);
	/* In recovery the window is 0 too. */
	rack_init(&q);
	send_n(&q, b, 0, 3, MS(0));
	rack_on_sack(&q, b + 100, b + 200, MS(20));
	assert_int_equal(rack_detect_loss(&q, MS(20), MS(20), true, &wait), 1);
	rack_free(&q);
}

/* RFC 8985 6.2 step 3: delivered below what was delivered, never resent:
 * reordering. From then on the window stays open. */
static void test_reordering_keeps_window(void **state)
{
	uint32_t b = BASE(state);
	struct tcp_rack q;
	xs_time_t wait;

	rack_init(&q);
	send_n(&q, b, 0, 8, MS(0));
	rack_on_sack(&q, b + 200, b + 300, MS(20));
	rack_on_ack(&q, b + 100, MS(21)); /* 0-100 delivered below 300 */
	assert_true(q.reordering_seen);
	rack_on_sack(&q, b + 300, b + 800, MS(22));
	assert_int_equal(q.nsacked, 6);
	/* min_RTT 20: window 5 ms, although six are SACKed. */
	/* RACK.rtt is now 22 ms (the newest delivered, 700-800): 100-200 is
	 * lost at 0 + 22 + 5 = 27 ms. */
	assert_int_equal(rack_detect_loss(&q, MS(22), MS(20), false, &wait), 0);
	assert_int_equal(wait, MS(5));
	assert_int_equal(rack_detect_loss(&q, MS(26), MS(20), false, &wait), 0);
	assert_int_equal(rack_detect_loss(&q, MS(27), MS(20), false, &wait), 1);
	/* The window never exceeds SRTT. */
	rack_free(&q);
	rack_init(&q);
	send_n(&q, b, 0, 3, MS(0));
	rack_on_sack(&q, b + 200, b + 300, MS(40));
	rack_on_ack(&q, b + 100, MS(40));
	assert_true(q.reordering_seen);
	assert_int_equal(rack_detect_loss(&q, MS(40), MS(4), false, &wait), 0);
	assert_int_equal(wait, MS(4)); /* min(40 / 4, SRTT 4) */
	rack_free(&q);
}

/* A lost resend: data sent after it is delivered, so it is lost again. A
 * resend acknowledged faster than min_RTT was not what arrived (step 2): it
 * does not move RACK. */
static void test_lost_retransmission(void **state)
{
	uint32_t b = BASE(state), s, e;
	struct tcp_rack q;
	xs_time_t wait;

	rack_init(&q);
	send_n(&q, b, 0, 5, MS(0));
	rack_on_sack(&q, b + 100, b + 400, MS(10));
	assert_int_equal(rack_detect_loss(&q, MS(10), MS(10), false, &wait), 1);
	assert_true(rack_next_lost(&q, &s, &e));
	rack_on_xmit(&q, s, e, b + 500, MS(10)); /* the resend */
	send_n(&q, b, 500, 2, MS(11));            /* new data after it */
	rack_on_sack(&q, b + 500, b + 600, MS(21));
	/* 500-600 left at 11 ms: the resend (10 ms) and 400-500 (0 ms) went
	 * before it, and RACK.rtt (10 ms) has passed for both. */
	assert_int_equal(rack_detect_loss(&q, MS(21), MS(10), true, &wait), 2);
	assert_true(at(&q, 0)->flags & TXREC_LOST);
	assert_true(at(&q, 0)->flags & TXREC_RETRANS);
	check(&q);
	/* Resent again at 21 ms; acknowledged at 22 ms (faster than the
	 * 10 ms path): the original must have arrived. RACK stays. */
	rack_on_xmit(&q, b, b + 100, b + 700, MS(21));
	rack_on_ack(&q, b + 100, MS(22));
	assert_int_equal(q.xmit_ts, MS(11));
	assert_int_equal(q.rtt, MS(10));
	check(&q);
	rack_free(&q);
}

/* At RACK_MAX_RECORDS new data joins the last record: memory stays
 * bounded and the records still cover everything sent. */
static void test_record_limit(void **state)
{
	uint32_t b = BASE(state), end;
	struct tcp_rack q;

	rack_init(&q);
	end = send_n(&q, b, 0, RACK_MAX_RECORDS + 100, MS(1));
	assert_int_equal(q.n, RACK_MAX_RECORDS);
	assert_int_equal(q.nch, RACK_MAX_RECORDS / RACK_CHUNK);
	assert_int_equal(at(&q, q.n - 1)->end, b + end);
	/* A split at the limit (a partial resend) leaves the record whole. */
	rack_on_xmit(&q, b + 150, b + 160, b + end, MS(2));
	check(&q);
	assert_int_equal(q.n, RACK_MAX_RECORDS);
	assert_true(at(&q, 1)->flags & TXREC_RETRANS);
	/* Popping frees room again: new records, not a longer last one. */
	rack_on_ack(&q, b + 1000, MS(3));
	send_n(&q, b, end, 5, MS(4));
	assert_int_equal(q.n, RACK_MAX_RECORDS - 10 + 5);
	assert_int_equal(at(&q, q.n - 1)->seq, b + end + 400);
	assert_int_equal(at(&q, q.n - 1)->end, b + end + 500);
	assert_true(q.nch <= RACK_MAX_RECORDS / RACK_CHUNK + 1);
	rack_free(&q);
}

/* The end of the last record (max, if there is none). */
static uint32_t flat_end(const struct tcp_rack *q, uint32_t b, uint32_t max)
{
	const struct tcp_txrec *r = q->n ? rack_at(q, q->n - 1) : NULL;

	return r && seq_gt(r->end, b + max) ? r->end - b : max;
}

/* The records (flat, from check) cover [una, max) exactly, and SACKed
 * records hold only octets the model has SACKed. */
static void model_check(const struct tcp_rack *q, uint32_t b, uint32_t una, uint32_t max,
			const uint8_t *sacked)
{
	if (!q->n) {
		assert_int_equal(una, max);
		return;
	}
	assert_int_equal(flat[0].seq, b + una);
	assert_int_equal(flat[q->n - 1].end, b + max);
	for (uint32_t i = 0; i < q->n; i++) {
		const struct tcp_txrec *t = &flat[i];

		if (i)
			assert_int_equal(flat[i - 1].end, t->seq);
		if (t->flags & TXREC_SACKED)
			for (uint32_t k = t->seq - b; k < t->end - b; k++)
				assert_true(sacked[k]);
	}
}

/* Random sends, resends, SACKs, ACKs and detections against the
 * invariants, and against a per-octet model of what was SACKed. */
static void test_random_against_model(void **state)
{
	uint32_t b = BASE(state);
	enum { N = 1 << 21 };
	static uint8_t sacked[N];
	struct tcp_rack q;
	uint32_t una = 0, max = 0;
	xs_time_t now = 0, wait;
	unsigned lost_total = 0;

	srand(7);
	rack_init(&q);
	for (unsigned i = 0; i < N; i++)
		sacked[i] = 0;
	for (int step = 0; step < 16000; step++) {
		int op = rand() % 8;
		uint32_t l, r, s, e;

		now += MS(rand() % 3);
		if (op <= 2 && max + 300 < N) {
			uint32_t len = 1 + (uint32_t)(rand() % 200);

			rack_on_xmit(&q, b + max, b + max + len, b + max, now);
			max += len;
		} else if (op == 3 && max > una) {
			l = una + (uint32_t)rand() % (max - una);
			r = l + 1 + (uint32_t)rand() % (max - l);
			rack_on_sack(&q, b + l, b + r, now);
			for (uint32_t k = l; k < r; k++)
				sacked[k] = 1;
		} else if (op == 4 && max > una) {
			una += (uint32_t)rand() % (max - una + 1);
			rack_on_ack(&q, b + una, now);
		} else if (op == 5) {
			lost_total += rack_detect_loss(&q, now, MS(5), rand() % 2, &wait);
		} else if (op == 6 && rack_next_lost(&q, &s, &e)) {
			rack_on_xmit(&q, s, e, b + max, now);
		} else if (op == 7 && max > una) {
			l = una + (uint32_t)rand() % (max - una);
			rack_on_xmit(&q, b + l, b + l + 1 + (uint32_t)rand() % 50, b + max, now);
			if (seq_gt(at(&q, q.n - 1)->end, b + max))
				max = at(&q, q.n - 1)->end - b;
		}
		check(&q);
		model_check(&q, b, una, max, sacked);
	}
	assert_true(lost_total > 100);
	print_message("    %u records marked lost over the run\n", lost_total);
	rack_free(&q);
}

/* Like the model test, with records of 1-3 octets so that the table
 * fills (RACK_MAX_RECORDS), many partial resends (splits: full chunks cut
 * in two, room taken at a chunk's front) and rare ACKs and scans, so that
 * the transmission queue's ring wraps. */
static void test_random_full_table(void **state)
{
	uint32_t b = BASE(state);
	enum { N = 1 << 16 };
	static uint8_t sacked[N];
	struct tcp_rack q;
	uint32_t una = 0, max = 0, most_chunks = 0;
	xs_time_t now = 0, wait;
	unsigned at_limit = 0, wrapped = 0;

	srand(11);
	rack_init(&q);
	memset(sacked, 0, sizeof(sacked));
	for (int step = 0; step < 16000; step++) {
		int op = rand() % 16;
		uint32_t l, r, s, e;

		now += MS(rand() % 2);
		if (op <= 7 && max + 300 < N) {
			uint32_t len = 1 + (uint32_t)(rand() % 3);

			rack_on_xmit(&q, b + max, b + max + len, b + max, now);
			max += len;
		} else if (op <= 9 && max > una) {
			l = una + (uint32_t)rand() % (max - una);
			r = l + 1 + (uint32_t)rand() % 4;
			rack_on_sack(&q, b + l, b + r, now);
			for (uint32_t k = l; k < r; k++)
				sacked[k] = 1;
		} else if (op == 10 && max > una && rand() % 8 == 0) {
			una += (uint32_t)rand() % ((max - una) / 32 + 1);
			rack_on_ack(&q, b + una, now);
		} else if (op == 11 && rand() % 4 == 0) {
			rack_detect_loss(&q, now, MS(5), rand() % 2, &wait);
		} else if (op == 12 && rack_next_lost(&q, &s, &e)) {
			rack_on_xmit(&q, s, s + 1 + (e - s - 1) / 2, b + max, now);
		} else if (op >= 13 && max > una) {
			/* Part of a record or a few: a split at each edge. */
			l = una + (uint32_t)rand() % (max - una);
			rack_on_xmit(&q, b + l, b + l + 1 + (uint32_t)rand() % 3, b + max, now);
			if (seq_gt(b + l + 1, b + max))
				max = l + 1;
			max = flat_end(&q, b, max);
		}
		check(&q);
		model_check(&q, b, una, max, sacked);
		at_limit += q.n == RACK_MAX_RECORDS;
		wrapped += q.tqn && q.tqhead + q.tqn > q.tqcap;
		if (q.nch > most_chunks)
			most_chunks = q.nch;
	}
	/* The edges were reached: the table full, chunks split (more than a
	 * full table of full chunks would need), the queue's ring wrapped. */
	assert_true(at_limit > 100);
	assert_true(most_chunks > RACK_MAX_RECORDS / RACK_CHUNK);
	assert_true(wrapped > 100);
	print_message("    %u steps at the record limit, %u chunks at most, %u with the queue wrapped\n",
		      at_limit, most_chunks, wrapped);
	rack_free(&q);
}

/* The transmission queue at RACK_MAX_XMITS: a record never delivered
 * holds the head while another is resent again and again (each resend
 * leaves its previous entry stale). The full queue is compacted to its
 * live entries instead of growing, and RACK still finds both lost. */
static void test_xmit_queue_limit(void **state)
{
	uint32_t b = BASE(state), s, e;
	struct tcp_rack q;
	xs_time_t wait;
	unsigned compactions = 0, lost;
	uint32_t before;

	rack_init(&q);
	send_n(&q, b, 0, 3, MS(0));
	for (unsigned k = 0; k < 3 * RACK_MAX_XMITS; k++) {
		before = q.tqn;
		rack_on_xmit(&q, b + 100, b + 200, b + 300, MS(1));
		assert_true(q.tqcap <= RACK_MAX_XMITS);
		compactions += q.tqn < before;
	}
	check(&q);
	assert_int_equal(q.tqcap, RACK_MAX_XMITS);
	assert_true(compactions >= 2);
	assert_true(q.tqn < RACK_MAX_XMITS);
	/* 200-300 is delivered at 20 ms: 0-100 left before it and is lost;
	 * 100-200's latest resend left after it, so it is not. */
	rack_on_sack(&q, b + 200, b + 300, MS(20));
	lost = rack_detect_loss(&q, MS(20), MS(20), true, &wait);
	assert_int_equal(lost, 1);
	assert_true(rack_next_lost(&q, &s, &e));
	assert_int_equal(s, b);
	check(&q);
	rack_free(&q);
}

/* Work per ACK, by a peer that SACKs every other segment of a flight of
 * `segs`, three blocks an ACK, ACK after ACK, while the sender resends what
 * RACK marks lost as a stack would. Returns the most work one ACK cost;
 * *total the work of all of them. */
static uint64_t every_other_attack(uint32_t b, uint32_t segs, uint64_t *total, unsigned *lost)
{
	struct tcp_rack q;
	uint64_t most = 0, sum = 0;
	uint32_t max, i, s, e;
	xs_time_t now, wait;

	rack_init(&q);
	/* The flight leaves over 10 ms, in batches of 64 (one poll each). */
	for (i = 0, max = 0; i < segs; i++, max += 100)
		rack_on_xmit(&q, b + max, b + max + 100, b + max, MS(i / 64 * 10 / (segs / 64)));
	now = MS(20);
	*lost = 0;
	for (i = 1; i < segs; i += 6) {
		uint64_t w0 = q.work_own;

		now += 1000; /* 1 us between ACKs */
		for (uint32_t k = i; k < i + 6 && k < segs; k += 2)
			rack_on_sack(&q, b + k * 100, b + k * 100 + 100, now);
		*lost += rack_detect_loss(&q, now, MS(20), true, &wait);
		/* The sender resends the lost records (RFC 6675 NextSeg), a
		 * few an ACK, as cwnd allows. */
		for (int n = 0; n < 4 && rack_next_lost(&q, &s, &e); n++)
			rack_on_xmit(&q, s, e, b + max, now);
		/* And new data, as the pipe allows. */
		rack_on_xmit(&q, b + max, b + max + 100, b + max, now);
		max += 100;
		if (q.work_own - w0 > most)
			most = q.work_own - w0;
		sum += q.work_own - w0;
	}
	check(&q);
	rack_free(&q);
	*total = sum;
	return most;
}

/* The SACK Panic / SegmentSmack class: however large the flight, a peer
 * that SACKs every other segment makes each ACK cost work in proportion to
 * what it changes (blocks, records SACKed, marked lost, resent), never to
 * the window. Asserted on the counted work, not on time: the most one ACK
 * costs at 4096 segments is within a log factor of what it costs at 256,
 * and far below one visit per record. */
static void test_sack_every_other_bounded(void **state)
{
	uint32_t b = BASE(state);
	uint64_t small_total, big_total, small, big;
	unsigned small_lost, big_lost;

	small = every_other_attack(b, 256, &small_total, &small_lost);
	big = every_other_attack(b, RACK_MAX_RECORDS - 1024, &big_total, &big_lost);
	print_message("    most work an ACK: %llu at 256 segments, %llu at %u; "
		      "total %llu / %llu\n",
		      (unsigned long long)small, (unsigned long long)big, RACK_MAX_RECORDS - 1024,
		      (unsigned long long)small_total, (unsigned long long)big_total);
	/* Half the flight is found lost either way. */
	assert_true(small_lost >= 256 / 2 - 8);
	assert_true(big_lost >= (RACK_MAX_RECORDS - 1024) / 2 - 8);
	/* 12x the window: the worst ACK costs a few more search steps (a
	 * log factor), and far less than one visit per record. */
	assert_true(big <= 2 * small);
	assert_true(big < (RACK_MAX_RECORDS - 1024) / 8);
	/* So does the average ACK: total work is linear in the ACKs. */
	assert_true(big_total / ((RACK_MAX_RECORDS - 1024) / 6) <= 2 * (small_total / (256 / 6)));
}

/* A peer SACKing a 1-octet piece of every segment: no record is split
 * (they would have multiplied; at the limit they could not even be
 * recorded), each block is reported unaligned, and each costs a search. */
static void test_sack_tiny_holes(void **state)
{
	uint32_t b = BASE(state), i, max;
	struct tcp_rack q;
	unsigned unaligned = 0;
	uint64_t most = 0;
	xs_time_t wait;

	rack_init(&q);
	for (i = 0, max = 0; i < RACK_MAX_RECORDS; i++, max += 100)
		rack_on_xmit(&q, b + max, b + max + 100, b + max, MS(1));
	for (i = 0; i < RACK_MAX_RECORDS; i++) {
		uint64_t w0 = q.work_own;

		/* [seq + 1, seq + 2): a hole of one octet before and after. */
		unaligned += (unsigned)rack_on_sack(&q, b + i * 100 + 1, b + i * 100 + 2, MS(20));
		/* And [seq + 50, next seq + 50): halves of two records. */
		if (i + 1 < RACK_MAX_RECORDS)
			unaligned += (unsigned)rack_on_sack(&q, b + i * 100 + 50,
							    b + i * 100 + 150, MS(20));
		assert_int_equal(rack_detect_loss(&q, MS(20), MS(20), false, &wait), 0);
		if (q.work_own - w0 > most)
			most = q.work_own - w0;
	}
	check(&q);
	assert_int_equal(q.n, RACK_MAX_RECORDS);
	assert_int_equal(q.nsacked, 0);
	assert_int_equal(rack_pipe(&q), RACK_MAX_RECORDS * 100);
	assert_int_equal(unaligned, 2 * RACK_MAX_RECORDS - 1);
	/* Two searches (chunk, then record) and a step or two per block. */
	assert_true(most <= 2 * (2 * 13 + 4));
	print_message("    most work an ACK of two tiny blocks: %llu\n", (unsigned long long)most);
	rack_free(&q);
}

#define AT_BASES(f)                                  \
	{ #f "@low", f, NULL, NULL, &base_low },     \
	{ #f "@wrap", f, NULL, NULL, &base_wrap },   \
	{ #f "@sign", f, NULL, NULL, &base_sign }

int main(void)
{
	const struct CMUnitTest tests[] = {
		AT_BASES(test_records_follow_sends_and_acks),
		AT_BASES(test_release_storage),
		AT_BASES(test_sack_marks_whole_records),
		AT_BASES(test_detect_by_time),
		AT_BASES(test_window_closes_with_three_sacked),
		AT_BASES(test_reordering_keeps_window),
		AT_BASES(test_lost_retransmission),
		AT_BASES(test_record_limit),
		AT_BASES(test_random_against_model),
		AT_BASES(test_random_full_table),
		AT_BASES(test_xmit_queue_limit),
		AT_BASES(test_sack_every_other_bounded),
		AT_BASES(test_sack_tiny_holes),
	};

	return cmocka_run_group_tests_name("rack", tests, NULL, NULL);
}
