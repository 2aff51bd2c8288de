/* Unit tests of congestion control (user/tcp/cc.c): NewReno's slow start, ABC,
 * avoidance, loss, RTO, recovery exit, idle restart; CUBIC's curve and regions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcp/cc.h"

#define MSS 1000u
#define SEG(n) ((uint32_t)(n)*MSS)

/* A sender with a full window: each RTT acknowledges exactly the cwnd the
 * round began with, one ACK per `per_ack` segments (the last one possibly
 * shorter), evenly spread over the RTT, each with flight = cwnd. */
struct sim {
	const struct tcp_cc_ops *ops;
	struct tcp_cc c;
	xs_time_t now;
	xs_time_t rtt;
};

static void sim_init(struct sim *s, const struct tcp_cc_ops *ops, uint32_t mss, xs_time_t rtt)
{
	s->ops = ops;
	s->now = XS_SEC(1000);
	s->rtt = rtt;
	ops->init(&s->c, mss);
}

static void sim_round(struct sim *s, uint32_t per_ack)
{
	uint32_t left = s->c.cwnd, step = per_ack * s->c.mss;
	uint32_t n = (left + step - 1) / step;

	while (left) {
		uint32_t a = left < step ? left : step;

		s->now += s->rtt / n;
		s->ops->on_ack(&s->c, a, s->c.cwnd, s->now, s->rtt);
		left -= a;
	}
}

static double segs(uint32_t bytes)
{
	return (double)bytes / MSS;
}

/* --- common ------------------------------------------------------------ */

static void test_initial_window_and_find(void **state)
{
	struct tcp_cc c;

	/* RFC 6928 2: min(10*MSS, max(2*MSS, 14600)). */
	assert_int_equal(tcp_cc_initial_window(1460), 14600);
	assert_int_equal(tcp_cc_initial_window(536), 5360);
	assert_int_equal(tcp_cc_initial_window(1000), 10000);
	assert_int_equal(tcp_cc_initial_window(4000), 14600);
	assert_int_equal(tcp_cc_initial_window(9000), 18000);
	assert_int_equal(tcp_cc_initial_window(1), 10);

	assert_ptr_equal(tcp_cc_find("newreno"), &tcp_cc_newreno);
	assert_ptr_equal(tcp_cc_find("cubic"), &tcp_cc_cubic);
	assert_null(tcp_cc_find("reno"));
	assert_null(tcp_cc_find("CUBIC"));
	assert_null(tcp_cc_find(""));
	assert_null(tcp_cc_find(NULL));

	/* RFC 5681 3.1: IW and an arbitrarily high ssthresh, both algorithms. */
	tcp_cc_newreno.init(&c, 1460);
	assert_int_equal(c.cwnd, 14600);
	assert_int_equal(c.ssthresh, UINT32_MAX);
	assert_int_equal(c.mss, 1460);
	tcp_cc_cubic.init(&c, 1460);
	assert_int_equal(c.cwnd, 14600);
	assert_int_equal(c.ssthresh, UINT32_MAX);
	assert_int_equal(c.epoch_start, 0);
}

/* --- NewReno ----------------------------------------------------------- */

static void test_reno_slow_start_doubles(void **state)
{
	struct sim s;
	int r;

	/* One ACK per segment: cwnd doubles each RTT from IW = 10 segments. */
	sim_init(&s, &tcp_cc_newreno, 1460, XS_MS(50));
	for (r = 0; r < 5; r++) {
		assert_int_equal(s.c.cwnd, (14600u << r));
		sim_round(&s, 1);
	}
	assert_int_equal(s.c.cwnd, 14600u << 5);

	/* Delayed ACKs (one per two segments): ABC still doubles per RTT,
	 * since 2 segments per ACK is within L = 2*SMSS (RFC 3465 2.2). */
	sim_init(&s, &tcp_cc_newreno, MSS, XS_MS(50));
	sim_round(&s, 2);
	assert_int_equal(s.c.cwnd, SEG(20));
	sim_round(&s, 2);
	assert_int_equal(s.c.cwnd, SEG(40));
}

static void test_reno_abc_limit(void **state)
{
	const struct tcp_cc_ops *o = &tcp_cc_newreno;
	struct tcp_cc c;

	o->init(&c, MSS);
	/* A stretch ACK of 5 segments counts for 2 (L = 2*SMSS). */
	o->on_ack(&c, SEG(5), SEG(10), 0, 0);
	assert_int_equal(c.cwnd, SEG(12));
	/* Partial segments count their bytes. */
	o->on_ack(&c, 500, SEG(12), 0, 0);
	assert_int_equal(c.cwnd, SEG(12) + 500);
	/* No bytes, no growth. */
	o->on_ack(&c, 0, SEG(12), 0, 0);
	assert_int_equal(c.cwnd, SEG(12) + 500);

	/* Slow start after an RTO uses L = 1*SMSS (RFC 3465 2.3), until
	 * ssthresh; then normal slow start again after a later loss. */
	o->on_rto(&c, SEG(12), 0);
	assert_int_equal(c.cwnd, SEG(1));
	assert_int_equal(c.ssthresh, SEG(6));
	o->on_ack(&c, SEG(3), SEG(1), 0, 0);
	assert_int_equal(c.cwnd, SEG(2));
	o->on_ack(&c, SEG(3), SEG(2), 0, 0);
	o->on_ack(&c, SEG(3), SEG(3), 0, 0);
	o->on_ack(&c, SEG(3), SEG(4), 0, 0);
	assert_int_equal(c.cwnd, SEG(5));
	o->on_ack(&c, SEG(3), SEG(5), 0, 0); /* reaches ssthresh: 2 segs left over */
	assert_int_equal(c.cwnd, SEG(6));
	assert_int_equal(c.after_rto, 0);
	assert_int_equal(c.bytes_acked, SEG(2));
}

static void test_reno_slow_start_to_avoidance(void **state)
{
	const struct tcp_cc_ops *o = &tcp_cc_newreno;
	struct tcp_cc c;
	int i;

	o->init(&c, MSS);
	c.ssthresh = SEG(15);
	/* 10 one-segment ACKs: 5 to reach ssthresh, 5 counted towards the
	 * first avoidance increment. */
	for (i = 0; i < 10; i++)
		o->on_ack(&c, MSS, c.cwnd, 0, 0);
	assert_int_equal(c.cwnd, SEG(15));
	assert_int_equal(c.bytes_acked, SEG(5));
	for (i = 0; i < 9; i++)
		o->on_ack(&c, MSS, c.cwnd, 0, 0);
	assert_int_equal(c.cwnd, SEG(15));
	o->on_ack(&c, MSS, c.cwnd, 0, 0);
	assert_int_equal(c.cwnd, SEG(16));
	assert_int_equal(c.bytes_acked, 0);
}

static void test_reno_avoidance_one_mss_per_rtt(void **state)
{
	struct sim s;
	int r;

	sim_init(&s, &tcp_cc_newreno, MSS, XS_MS(50));
	s.c.ssthresh = SEG(20);
	s.c.cwnd = SEG(20);
	/* RFC 5681 3.1: +1 SMSS per RTT, whatever the ACK pattern. */
	for (r = 1; r <= 10; r++) {
		sim_round(&s, 1);
		assert_int_equal(s.c.cwnd, SEG(20 + r));
	}
	/* Delayed ACKs: byte counting keeps +1 SMSS per RTT (per-ACK
	 * SMSS*SMSS/cwnd would give half). */
	for (r = 1; r <= 10; r++) {
		sim_round(&s, 2);
		assert_int_equal(s.c.cwnd, SEG(30 + r));
	}
}

static void test_reno_loss_and_rto(void **state)
{
	const struct tcp_cc_ops *o = &tcp_cc_newreno;
	struct tcp_cc c;

	o->init(&c, MSS);
	c.cwnd = SEG(40);
	c.bytes_acked = 123;
	/* RFC 5681 eq. 4 and 3.2: ssthresh = max(flight/2, 2*SMSS). */
	o->on_loss(&c, SEG(40), 0);
	assert_int_equal(c.ssthresh, SEG(20));
	assert_int_equal(c.cwnd, SEG(20));
	assert_int_equal(c.bytes_acked, 0);
	/* FlightSize, not cwnd: an application-limited sender halves its
	 * flight. */
	c.cwnd = SEG(40);
	o->on_loss(&c, SEG(25), 0);
	assert_int_equal(c.ssthresh, 12500);
	o->on_loss(&c, SEG(3), 0);
	assert_int_equal(c.ssthresh, SEG(2));
	assert_int_equal(c.cwnd, SEG(2));

	/* RTO: cwnd = 1 SMSS (loss window), ssthresh from flight. */
	c.cwnd = SEG(30);
	o->on_rto(&c, SEG(30), 0);
	assert_int_equal(c.cwnd, SEG(1));
	assert_int_equal(c.ssthresh, SEG(15));
	/* The same segment timing out again: ssthresh held (RFC 5681 3.1). */
	o->on_rto(&c, SEG(1), 0);
	assert_int_equal(c.cwnd, SEG(1));
	assert_int_equal(c.ssthresh, SEG(15));
	/* After new data is acknowledged, a new timeout sets it again. */
	o->on_ack(&c, MSS, SEG(1), 0, 0);
	assert_int_equal(c.cwnd, SEG(2));
	o->on_rto(&c, SEG(8), 0);
	assert_int_equal(c.ssthresh, SEG(4));
	assert_int_equal(c.cwnd, SEG(1));
}

static void test_reno_recovery_exit(void **state)
{
	const struct tcp_cc_ops *o = &tcp_cc_newreno;
	struct tcp_cc c;

	o->init(&c, MSS);
	c.cwnd = SEG(40);
	o->on_loss(&c, SEG(40), 0);
	/* RFC 6582 3.2 step 3 option (1): min(ssthresh, max(flight, SMSS) +
	 * SMSS). A full pipe at the full ACK: ssthresh. */
	c.cwnd = SEG(33); /* inflated by the recovery code meanwhile */
	o->on_recovery_exit(&c, SEG(30), 0);
	assert_int_equal(c.cwnd, SEG(20));
	/* Little in flight: no burst, cwnd = flight + SMSS. */
	o->on_recovery_exit(&c, SEG(5), 0);
	assert_int_equal(c.cwnd, SEG(6));
	o->on_recovery_exit(&c, 0, 0);
	assert_int_equal(c.cwnd, SEG(2));
	/* Then slow start back to ssthresh. */
	o->on_ack(&c, SEG(2), SEG(2), 0, 0);
	assert_int_equal(c.cwnd, SEG(4));
}

static void test_reno_idle_restart(void **state)
{
	const struct tcp_cc_ops *o = &tcp_cc_newreno;
	struct tcp_cc c;

	/* RFC 5681 4.1: RW = min(IW, cwnd); ssthresh kept. */
	o->init(&c, 1460);
	c.cwnd = 50 * 1460;
	c.ssthresh = 30 * 1460;
	o->on_idle(&c, 0);
	assert_int_equal(c.cwnd, 14600);
	assert_int_equal(c.ssthresh, 30 * 1460);
	c.cwnd = 5 * 1460;
	o->on_idle(&c, 0);
	assert_int_equal(c.cwnd, 5 * 1460);
}

static void test_reno_cwnd_ceiling(void **state)
{
	const struct tcp_cc_ops *o = &tcp_cc_newreno;
	struct tcp_cc c;
	int i;

	/* Slow start with no loss does not wrap 32 bits: it stops at 1 GiB. */
	o->init(&c, 65535);
	for (i = 0; i < 100000; i++)
		o->on_ack(&c, 4000000000u, c.cwnd, 0, 0);
	assert_int_equal(c.cwnd, 1u << 30);
	o->on_ack(&c, 4000000000u, c.cwnd, 0, 0);
	assert_int_equal(c.cwnd, 1u << 30);
}

/* --- CUBIC ------------------------------------------------------------- */

/* W_max = 100 segments, beta 0.7, C 0.4: K = cbrt(100 * 0.3 / 0.4) =
 * cbrt(75) = 4.21716 s. In 2^-10 s units floor(4318.37) = 4318, i.e.
 * 4318 * 10^9 / 1024 = 4216796875 ns. */
static void test_cubic_k(void **state)
{
	xs_time_t k = tcp_cubic_k(SEG(100), SEG(70), MSS);

	assert_int_equal(k, 4216796875ull);
	assert_true(k > XS_MS(4215) && k < XS_MS(4218));
	/* Independent of the segment size, in segments. */
	k = tcp_cubic_k(100 * 1460, 70 * 1460, 1460);
	assert_true(k > XS_MS(4215) && k < XS_MS(4218));
	/* W_max 1000, cwnd_epoch 700: cbrt(750) = 9.08560 s. */
	k = tcp_cubic_k(SEG(1000), SEG(700), MSS);
	assert_true(k > XS_MS(9084) && k < XS_MS(9087));
	/* cwnd_epoch 99: cbrt(2.5) = 1.35721 s. */
	k = tcp_cubic_k(SEG(100), SEG(99), MSS);
	assert_true(k > XS_MS(1355) && k < XS_MS(1358));
	/* At or above W_max: K = 0. */
	assert_int_equal(tcp_cubic_k(SEG(100), SEG(100), MSS), 0);
	assert_int_equal(tcp_cubic_k(SEG(100), SEG(120), MSS), 0);
	/* The largest windows do not overflow: 2^30 bytes of 1-byte
	 * segments, cbrt(2^30 * 2.5) = 1389.5 s. */
	k = tcp_cubic_k(1u << 30, 0, 1);
	assert_true(k > XS_SEC(1388) && k < XS_SEC(1391));
}

static void test_cubic_w(void **state)
{
	struct tcp_cc c;
	/* (t, W in bytes) for W_max 100 segments, K = 4.216796875 s:
	 * W = 100000 + 400 * (t - K)^3, rounded. */
	static const struct {
		xs_time_t t;
		uint32_t w;
	} v[] = {
	    {0, 70008},		     /* 100000 - 400 * 4.216797^3 */
	    {XS_SEC(1), 86685},	     /* - 400 * 3.216797^3 */
	    {XS_SEC(2), 95642},	     /* - 400 * 2.216797^3 */
	    {4216796875ull, 100000}, /* t = K */
	    {4216796875ull - XS_SEC(2), 96800},
	    {4216796875ull + XS_SEC(2), 103200},
	    {4216796875ull + XS_SEC(1), 100400},
	    {XS_SEC(10), 177369}, /* + 400 * 5.783203^3 */
	};
	unsigned i;

	tcp_cc_cubic.init(&c, MSS);
	c.w_max = SEG(100);
	c.k = tcp_cubic_k(SEG(100), SEG(70), MSS);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t w = tcp_cubic_w(&c, v[i].t);
		uint32_t d = w > v[i].w ? w - v[i].w : v[i].w - w;

		/* 2^-10 s quantization of t: a byte or two here. */
		assert_true(d <= 2);
	}
	/* Far in the future the window saturates instead of wrapping; far
	 * in the past it bottoms out at 0. */
	assert_int_equal(tcp_cubic_w(&c, XS_SEC(100000)), 1u << 30);
	c.w_max = SEG(5);
	c.k = XS_SEC(100);
	assert_int_equal(tcp_cubic_w(&c, 0), 0);
}

static void test_cubic_beta_reduction(void **state)
{
	const struct tcp_cc_ops *o = &tcp_cc_cubic;
	struct tcp_cc c;

	o->init(&c, MSS);
	c.cwnd = SEG(100);
	c.epoch_start = XS_SEC(5);
	/* RFC 9438 4.6: ssthresh = flight * 0.7, cwnd = ssthresh, W_max =
	 * cwnd before the reduction (first loss: no fast convergence). */
	o->on_loss(&c, SEG(100), XS_SEC(10));
	assert_int_equal(c.ssthresh, SEG(70));
	assert_int_equal(c.cwnd, SEG(70));
	assert_int_equal(c.w_max, SEG(100));
	assert_int_equal(c.cwnd_prior, SEG(100));
	assert_int_equal(c.epoch_start, 0);
	/* At least 2 segments. */
	o->on_loss(&c, SEG(2), XS_SEC(11));
	assert_int_equal(c.ssthresh, SEG(2));
	assert_int_equal(c.cwnd, SEG(2));
}

static void test_cubic_fast_convergence(void **state)
{
	const struct tcp_cc_ops *o = &tcp_cc_cubic;
	struct tcp_cc c;

	o->init(&c, MSS);
	c.cwnd = SEG(100);
	o->on_loss(&c, SEG(100), XS_SEC(1));
	assert_int_equal(c.w_max, SEG(100));
	/* The next loss comes before the window regained W_max: another
	 * flow is competing; W_max = cwnd * (1 + 0.7) / 2 (RFC 9438 4.7). */
	c.cwnd = SEG(90);
	o->on_loss(&c, SEG(90), XS_SEC(5));
	assert_int_equal(c.w_max, 76500);
	assert_int_equal(c.w_last_max, SEG(100));
	assert_int_equal(c.cwnd_prior, SEG(90));
	assert_int_equal(c.ssthresh, SEG(63));
	/* The plateau is now below where the window was: K = cbrt((76.5 -
	 * 63) / 0.4) = cbrt(33.75) = 3.2317 s, shorter than without it. */
	o->on_ack(&c, MSS, c.cwnd, XS_SEC(6), XS_MS(100));
	assert_int_equal(c.epoch_start, XS_SEC(6));
	assert_true(c.k > XS_MS(3230) && c.k < XS_MS(3233));
	/* A loss at or above W_max: W_max = cwnd, no convergence. */
	c.cwnd = SEG(80);
	o->on_loss(&c, SEG(80), XS_SEC(9));
	assert_int_equal(c.w_max, SEG(80));
}

/* After a loss at 100 segments with a 100 ms RTT: the window climbs fast,
 * flattens at W_max = 100 around t = K, then accelerates (RFC 9438 4.4,
 * 4.5), following W_cubic(t) closely while Reno's estimate stays below. */
static void test_cubic_concave_convex(void **state)
{
	struct sim s;
	uint32_t w[12];
	xs_time_t t;
	int i;

	sim_init(&s, &tcp_cc_cubic, MSS, XS_MS(100));
	s.c.cwnd = SEG(100);
	s.ops->on_loss(&s.c, SEG(100), s.now);
	s.ops->on_recovery_exit(&s.c, SEG(70), s.now);
	assert_int_equal(s.c.cwnd, SEG(70));
	assert_int_equal(s.c.epoch_start, 0);

	/* Sample cwnd every 0.5 s of the epoch (5 rounds), up to 5.5 s. */
	w[0] = s.c.cwnd;
	for (i = 1; i < 12;) {
		sim_round(&s, 1);
		t = s.now - s.c.epoch_start;
		if (t + XS_MS(50) >= (xs_time_t)i * XS_MS(500)) {
			uint32_t cw = tcp_cubic_w(&s.c, t);
			uint32_t d = s.c.cwnd > cw ? s.c.cwnd - cw : cw - s.c.cwnd;

			w[i++] = s.c.cwnd;
			/* On the curve within half a segment. */
			assert_true(d <= MSS / 2);
			assert_true((s.c.w_est >> 10) < cw);
		}
	}
	/* Concave: the increments shrink up to K (4.22 s, in the interval
	 * from sample 8 to 9); convex: they grow after it. */
	for (i = 2; i <= 9; i++)
		assert_true(w[i] - w[i - 1] < w[i - 1] - w[i - 2]);
	for (i = 10; i < 12; i++)
		assert_true(w[i] - w[i - 1] > w[i - 1] - w[i - 2]);
	/* Plateau at W_max: at 4 and 4.5 s within a segment of 100. */
	assert_true(w[8] >= SEG(99) && w[8] <= SEG(101));
	assert_true(w[9] >= SEG(99) && w[9] <= SEG(101));
	assert_true(w[1] > SEG(78) && w[1] < SEG(81));
	assert_true(w[2] > SEG(86) && w[2] < SEG(88));
	assert_true(w[11] > SEG(100));
}

/* The per-ACK increase is bounded by target <= 1.5 cwnd (RFC 9438 4.4):
 * an ACK long after the epoch began (W_cubic far above) adds at most
 * (0.5 cwnd) / cwnd segments per segment acknowledged. */
static void test_cubic_target_cap(void **state)
{
	const struct tcp_cc_ops *o = &tcp_cc_cubic;
	struct tcp_cc c;

	o->init(&c, MSS);
	c.cwnd = SEG(100);
	o->on_loss(&c, SEG(100), XS_SEC(1));
	o->on_ack(&c, MSS, c.cwnd, XS_SEC(2), XS_MS(100)); /* epoch begins */
	assert_int_equal(c.epoch_start, XS_SEC(2));
	c.bytes_acked = 0;
	c.cwnd = SEG(20);
	c.ssthresh = SEG(20);
	o->on_ack(&c, MSS, c.cwnd, XS_SEC(200), XS_MS(100));
	assert_int_equal(c.cwnd, SEG(20) + MSS / 2);
	o->on_ack(&c, SEG(4), c.cwnd, XS_SEC(201), XS_MS(100));
	assert_int_equal(c.cwnd, SEG(20) + MSS / 2 + SEG(2));
}

/* A short RTT (1 ms) and a small W_max (20 segments): Reno's linear growth
 * per RTT outruns the cubic (K = 2.47 s) and sets cwnd (RFC 9438 4.3). */
static void test_cubic_reno_friendly(void **state)
{
	struct sim s;
	uint32_t w10, w50;
	int r;

	sim_init(&s, &tcp_cc_cubic, MSS, XS_MS(1));
	s.c.cwnd = SEG(20);
	s.ops->on_loss(&s.c, SEG(20), s.now);
	assert_int_equal(s.c.cwnd, SEG(14));
	for (r = 0; r < 10; r++)
		sim_round(&s, 1);
	/* alpha_cubic = 9/17 = 0.53 segment per RTT while below cwnd_prior:
	 * 14 + 10 * 0.53 = 19.3 (a little less as cwnd grows within a round). */
	w10 = s.c.cwnd;
	assert_true(w10 > 18800 && w10 < 19400);
	for (; r < 50; r++)
		sim_round(&s, 1);
	w50 = s.c.cwnd;
	for (; r < 300; r++)
		sim_round(&s, 1);
	/* Past cwnd_prior alpha is 1: one segment per RTT. */
	assert_true(s.c.cwnd - w50 > SEG(245) && s.c.cwnd - w50 < SEG(251));
	/* Where CUBIC alone would still be below W_max. */
	assert_true(tcp_cubic_w(&s.c, s.now - s.c.epoch_start) < SEG(17));
	assert_int_equal(s.c.cwnd, (uint32_t)(s.c.w_est >> 10));
	print_message("reno-friendly: %.2f segs after 10 RTTs, %.2f after 300\n", segs(w10),
		      segs(s.c.cwnd));
}

static void test_cubic_rto(void **state)
{
	struct sim s;
	int r;

	sim_init(&s, &tcp_cc_cubic, MSS, XS_MS(100));
	s.c.cwnd = SEG(100);
	s.ops->on_loss(&s.c, SEG(100), s.now);
	sim_round(&s, 1);
	assert_true(s.c.epoch_start != 0);

	/* RTO: loss window, ssthresh by beta, epoch over. */
	s.ops->on_rto(&s.c, SEG(70), s.now);
	assert_int_equal(s.c.cwnd, SEG(1));
	assert_int_equal(s.c.ssthresh, SEG(49));
	assert_int_equal(s.c.epoch_start, 0);
	/* Repeated: held. */
	s.ops->on_rto(&s.c, SEG(1), s.now);
	assert_int_equal(s.c.ssthresh, SEG(49));

	/* Slow start (one segment per ACK after an RTO) to 49, then the
	 * first avoidance epoch: K = 0 and W_max = cwnd_epoch (4.8), so
	 * growth is convex from the start. */
	for (r = 0; r < 6 && s.c.cwnd < s.c.ssthresh; r++)
		sim_round(&s, 1);
	/* 1, 2, 4 ... 32, then 49 plus what the Reno-friendly estimate
	 * adds over the round's remaining ACKs (alpha * 1/49 segment each). */
	assert_true(s.c.cwnd >= SEG(49) && s.c.cwnd < SEG(49) + 200);
	assert_int_equal(s.c.after_rto, 0);
	if (!s.c.epoch_start)
		sim_round(&s, 1);
	assert_true(s.c.epoch_start != 0);
	assert_int_equal(s.c.k, 0);
	assert_int_equal(s.c.w_max, SEG(49));
	for (r = 0; r < 30; r++)
		sim_round(&s, 1);
	assert_true(s.c.cwnd > SEG(52));
}

/* Idle (RFC 5681 4.1 for the window): the epoch ends, and the next one
 * starts from the window after slow start, towards the same W_max; the
 * idle time does not count as time on the curve. */
static void test_cubic_idle(void **state)
{
	struct sim s;
	xs_time_t t;
	int r;

	sim_init(&s, &tcp_cc_cubic, MSS, XS_MS(100));
	s.c.cwnd = SEG(100);
	s.ops->on_loss(&s.c, SEG(100), s.now);
	for (r = 0; r < 20; r++)
		sim_round(&s, 1);
	assert_true(s.c.epoch_start != 0);
	assert_true(s.c.cwnd > SEG(90));

	s.ops->on_idle(&s.c, s.now);
	assert_int_equal(s.c.cwnd, SEG(10));
	assert_int_equal(s.c.epoch_start, 0);
	assert_int_equal(s.c.ssthresh, SEG(70));
	s.now += XS_SEC(10);
	/* Slow start 10 -> 20 -> 40 -> 70, the new epoch beginning in the
	 * round that reaches ssthresh. */
	sim_round(&s, 1);
	sim_round(&s, 1);
	assert_int_equal(s.c.cwnd, SEG(40));
	assert_int_equal(s.c.epoch_start, 0);
	sim_round(&s, 1);
	assert_true(s.c.epoch_start != 0);
	assert_true(s.c.epoch_start > s.now - s.rtt);
	/* cwnd_epoch 70 below W_max 100: K = 4.2 s again. */
	assert_int_equal(s.c.w_max, SEG(100));
	assert_int_equal(s.c.k, 4216796875ull);
	t = s.now - s.c.epoch_start;
	assert_true(s.c.cwnd < SEG(72));
	assert_true(tcp_cubic_w(&s.c, t) < SEG(72));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_initial_window_and_find),
	    cmocka_unit_test(test_reno_slow_start_doubles),
	    cmocka_unit_test(test_reno_abc_limit),
	    cmocka_unit_test(test_reno_slow_start_to_avoidance),
	    cmocka_unit_test(test_reno_avoidance_one_mss_per_rtt),
	    cmocka_unit_test(test_reno_loss_and_rto),
	    cmocka_unit_test(test_reno_recovery_exit),
	    cmocka_unit_test(test_reno_idle_restart),
	    cmocka_unit_test(test_reno_cwnd_ceiling),
	    cmocka_unit_test(test_cubic_k),
	    cmocka_unit_test(test_cubic_w),
	    cmocka_unit_test(test_cubic_beta_reduction),
	    cmocka_unit_test(test_cubic_fast_convergence),
	    cmocka_unit_test(test_cubic_concave_convex),
	    cmocka_unit_test(test_cubic_target_cap),
	    cmocka_unit_test(test_cubic_reno_friendly),
	    cmocka_unit_test(test_cubic_rto),
	    cmocka_unit_test(test_cubic_idle),
	};

	return cmocka_run_group_tests_name("cc", tests, NULL, NULL);
}
