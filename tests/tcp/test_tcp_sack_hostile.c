/* Scripted TCP conversations with a hostile peer (issue 9): SACK blocks that
 * cut 1-octet holes across a large flight, and out-of-order 1-octet segments. */
#include "tcp_fixture.h"
#include "tcp/seqset.h"

#define PEER_MSS 100       /* so that a flight is thousands of segments */
#define SEG (PEER_MSS - 12) /* payload of one, with timestamps */
#define FLIGHT_MIN 2048    /* segments in flight before the attack */
#define MAX_SEGS 8192

struct flight {
	uint32_t seq[MAX_SEGS], len[MAX_SEGS];
	unsigned n;
};

/* A passive open by a peer with MSS PEER_MSS, window scale 7, SACK and
 * timestamps; the listener's send buffer holds sndbuf. */
static void open_small_mss(struct tfx *t, int sndbuf)
{
	struct popts o = popts_syn_full(t);
	uint32_t ip;
	uint16_t port;

	o.mss = PEER_MSS;
	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_SNDBUF, sndbuf), 0);
	psyn(t, &o);
	assert_true(take_seg(t));
	t->iss = t->s.seq;
	t->ts = t->ts_on = true;
	t->sack = true;
	tfx_run(t, XS_MS(10));
	t->pwnd = 0xffff; /* 8 MiB at scale 7: the window never limits */
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	t->h = xs_tcp_accept(t->fx.st, t->lh, &ip, &port);
	tfx_track(t, t->h);
	assert_int_equal(xs_tcp_set_event_cb(t->fx.st, t->h, tfx_event_cb, t), 0);
	tfx_poll(t);
	reset_events(t);
}

/* Takes every segment sent into f (data only). */
static void collect(struct tfx *t, struct flight *f)
{
	while (take_seg(t)) {
		if (!t->s.len)
			continue;
		assert_true(f->n < MAX_SEGS);
		f->seq[f->n] = t->s.seq;
		f->len[f->n] = (uint32_t)t->s.len;
		f->n++;
	}
}

/* Slow start, round after round (10 ms each), the peer ACKing every second
 * segment, until one round's flight holds at least FLIGHT_MIN segments; that
 * flight is left unacknowledged in *f. */
static void grow_flight(struct tfx *t, struct flight *f)
{
	static struct flight next;

	f->n = 0;
	collect(t, f);
	for (int round = 0; round < 20 && f->n < FLIGHT_MIN; round++) {
		tfx_run(t, XS_MS(10));
		next.n = 0;
		for (unsigned k = 1; k < f->n; k += 2) {
			psend(t, F_ACK, P(0), f->seq[k] + f->len[k], NULL, 0);
			collect(t, &next);
		}
		*f = next;
	}
	assert_true(f->n >= FLIGHT_MIN);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_retransmits, 0);
}

/* The end of the highest segment in either list. */
static uint32_t flight_end(const struct flight *a, const struct flight *b)
{
	uint32_t hi = a->seq[0];

	for (unsigned k = 0; k < a->n; k++)
		if ((int32_t)(a->seq[k] + a->len[k] - hi) > 0)
			hi = a->seq[k] + a->len[k];
	for (unsigned k = 0; k < b->n; k++)
		if ((int32_t)(b->seq[k] + b->len[k] - hi) > 0)
			hi = b->seq[k] + b->len[k];
	return hi;
}

/* The most tcp_rack_work one of the peer's ACKs cost, and their total. */
struct work {
	uint64_t most, total;
	unsigned acks;
};

static void sack3(struct tfx *t, uint32_t ack, const uint32_t (*b)[2], unsigned nb,
		  struct work *w, struct flight *sent)
{
	uint64_t w0 = xs_stack_stats(t->fx.st)->tcp_rack_work, d;

	tfx_run(t, 1000); /* 1 us apart */
	psack(t, ack, nb, b);
	d = xs_stack_stats(t->fx.st)->tcp_rack_work - w0;
	if (d > w->most)
		w->most = d;
	w->total += d;
	w->acks++;
	collect(t, sent);
}

/* The peer ACKs everything sent (up to hi), then whatever the stack
 * sends, until all the data is acknowledged: the connection still works. */
static void finish(struct tfx *t, uint32_t hi, size_t bytes)
{
	tfx_run(t, XS_MS(10));
	psend(t, F_ACK, P(0), hi, NULL, 0);
	peer_ack_all(t, P(0));
	assert_int_equal(conn_info(t).snd_queue, 0);
	assert_int_equal(conn_info(t).bytes_acked, bytes);
	expect_state(t, XS_TCP_ESTABLISHED);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), 0);
}

/* SACK Panic / SegmentSmack class, sender side: over a flight of thousands of
 * segments the peer SACKs every segment but its first octet (a 1-octet hole
 * before each), three blocks an ACK. No segment is split (each block is
 * reported unaligned), nothing is taken as delivered, and each ACK costs a
 * few searches, not a walk of the flight. Then it SACKs every other segment
 * whole: RACK marks the others lost and recovery resends them, each ACK
 * costing work in proportion to what it changes. The connection completes. */
static void test_sack_one_octet_holes(void **state)
{
	struct tfx *t = *state;
	static struct flight f, sent;
	const size_t bytes = 1000000;
	struct work a = { 0 }, b = { 0 };
	uint64_t unaligned0, rtx0;
	uint32_t blk[3][2], una;
	unsigned k, nb;

	open_small_mss(t, 1 << 20);
	app_send(t, bytes);
	grow_flight(t, &f);
	una = f.seq[0];
	unaligned0 = xs_stack_stats(t->fx.st)->tcp_sack_unaligned;
	rtx0 = xs_stack_stats(t->fx.st)->tcp_retransmits;
	/* The 1-octet holes. */
	sent.n = 0;
	for (k = 1; k < f.n; k += nb) {
		for (nb = 0; nb < 3 && k + nb < f.n; nb++) {
			blk[nb][0] = f.seq[k + nb] + 1;
			blk[nb][1] = f.seq[k + nb] + f.len[k + nb];
		}
		sack3(t, una, (const uint32_t(*)[2])blk, nb, &a, &sent);
	}
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_sack_unaligned - unaligned0, f.n - 1);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_retransmits, rtx0);
	assert_int_equal(xs_stack_stats(t->fx.st)->tcp_rack_lost, 0);
	/* Every other segment, whole: half the flight is lost. */
	for (k = 1; k < f.n; k += 2 * nb) {
		for (nb = 0; nb < 3 && k + 2 * nb < f.n; nb++) {
			blk[nb][0] = f.seq[k + 2 * nb];
			blk[nb][1] = f.seq[k + 2 * nb] + f.len[k + 2 * nb];
		}
		sack3(t, una, (const uint32_t(*)[2])blk, nb, &b, &sent);
	}
	print_message("    flight of %u segments; work an ACK: 1-octet holes most %llu, mean %llu; "
		      "every other most %llu, mean %llu; %llu resent\n",
		      f.n, (unsigned long long)a.most, (unsigned long long)(a.total / a.acks),
		      (unsigned long long)b.most, (unsigned long long)(b.total / b.acks),
		      (unsigned long long)(xs_stack_stats(t->fx.st)->tcp_retransmits - rtx0));
	assert_true(xs_stack_stats(t->fx.st)->tcp_rack_lost >= f.n / 2 - 2);
	assert_true(xs_stack_stats(t->fx.st)->tcp_retransmits > rtx0);
	/* Bounded: three blocks of a few search steps each, far below one
	 * visit per segment in flight. Whole blocks: work in proportion to
	 * the records changed (SACKed, marked lost, resent), a few searches
	 * each, and no ACK near a walk of the flight. */
	assert_true(a.most <= 3 * 32 + 16);
	assert_true(b.total <= 48 * ((f.n / 2) + xs_stack_stats(t->fx.st)->tcp_rack_lost +
				     (xs_stack_stats(t->fx.st)->tcp_retransmits - rtx0)));
	assert_true(b.most < f.n / 4);
	finish(t, flight_end(&f, &sent), bytes);
}

/* Receive side: a peer sending thousands of 1-octet segments, each leaving a
 * hole, holds at most SEQSET_MAX ranges; every segment past that is dropped
 * and counted (drop_tcp_ooo_full), each costing at most a pass over those ranges.
 * Once the holes are filled the data arrives intact. */
static void test_ooo_one_octet_segments(void **state)
{
	struct tfx *t = *state;
	const unsigned n = 5000;
	uint64_t full0;
	unsigned k;

	open_small_mss(t, 1 << 16);
	t->pwnd = 1024;
	full0 = xs_stack_stats(t->fx.st)->drop[XS_DROP_TCP_OOO_FULL];
	for (k = 0; k < n; k++) {
		/* Octet 2k + 1: octets 0, 2, 4 ... are missing. */
		psend(t, F_ACK, P(2 * k + 1), S(0), t->in + 2 * k + 1, 1);
		/* Each is answered at once, with SACK blocks (RFC 5681 4.2). */
		expect_seg(t, F_ACK, S(0), P(0), 0, WND_ANY);
		assert_true(t->s.nsack >= 1 && t->s.nsack <= 3);
	}
	assert_int_equal(xs_stack_stats(t->fx.st)->drop[XS_DROP_TCP_OOO_FULL] - full0,
			 n - SEQSET_MAX);
	/* The sender fills everything in order: it all arrives. */
	for (k = 0; k < 2 * n; k += SEG) {
		uint32_t len = 2 * n - k < SEG ? 2 * n - k : SEG;

		psend(t, F_ACK, P(k), S(0), t->in + k, len);
		while (take_seg(t))
			;
	}
	app_recv(t, 0, 2 * n);
	while (take_seg(t))
		;
	expect_state(t, XS_TCP_ESTABLISHED);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_sack_one_octet_holes),
		T(test_ooo_one_octet_segments),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_sack_hostile", tests, NULL, NULL);
}
