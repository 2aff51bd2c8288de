/* Congestion control: NewReno (RFC 5681, RFC 6582, byte counting per RFC 3465)
 * and CUBIC (RFC 9438), in integer arithmetic; windows in bytes, time passed in. */
#include <stdint.h>
#include <string.h>

#include "tcp/cc.h"

/* The largest window TCP can use (RFC 7323 2.3: shift 14); also keeps the
 * products below in 64 bits. */
#define CC_CWND_MAX (1u << 30)
#define CC_MSS_DEFAULT 536u /* RFC 9293 3.7.1, for a caller passing 0 */
#define CC_MSS_MAX 65535u   /* the MSS option is 16 bits */

/* RFC 9438 constants as exact fractions: C = 0.4 = 2/5, beta_cubic = 7/10,
 * fast convergence (1 + beta) / 2 = 17/20, alpha_cubic = 3 (1 - beta) /
 * (1 + beta) = 9/17. */
#define CUBIC_C_NUM 2
#define CUBIC_C_DEN 5
#define CUBIC_BETA_NUM 7
#define CUBIC_BETA_DEN 10
#define CUBIC_FC_NUM 17
#define CUBIC_FC_DEN 20
#define CUBIC_ALPHA_NUM 9
#define CUBIC_ALPHA_DEN 17

/* The cubic is evaluated with time in units of 2^-10 s (about 1 ms, as
 * Linux does): (t - K)^3 then fits 64 bits for |t - K| up to 2^20 units
 * (1024 s), by which time the window is far beyond CC_CWND_MAX anyway. */
#define CUBIC_T_SHIFT 10
#define CUBIC_D_MAX (1ull << 20)
#define NS_PER_SEC 1000000000ull

static uint32_t clamp_cwnd(uint64_t w)
{
	return w > CC_CWND_MAX ? CC_CWND_MAX : (uint32_t)w;
}

uint32_t tcp_cc_initial_window(uint32_t mss)
{
	/* RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)). */
	uint64_t iw = (uint64_t)mss * 10, lim = (uint64_t)mss * 2;

	if (lim < 14600)
		lim = 14600;
	if (iw > lim)
		iw = lim;
	return clamp_cwnd(iw);
}

static void cc_reset(struct tcp_cc *c, uint32_t mss)
{
	memset(c, 0, sizeof(*c));
	if (!mss)
		mss = CC_MSS_DEFAULT;
	if (mss > CC_MSS_MAX)
		mss = CC_MSS_MAX;
	c->mss = mss;
	c->cwnd = tcp_cc_initial_window(mss);
	c->ssthresh = UINT32_MAX; /* RFC 5681 3.1: "arbitrarily high" */
}

/* RFC 5681 3.1 eq. 2 with appropriate byte counting (RFC 3465 2.2): cwnd
 * grows by the bytes acknowledged, at most L = 2*SMSS per ACK, or 1*SMSS in
 * the slow start that follows an RTO (RFC 3465 2.3). Growth stops at
 * ssthresh; the bytes of this ACK not needed to get there are returned for
 * congestion avoidance. */
static uint32_t slow_start(struct tcp_cc *c, uint32_t acked)
{
	uint32_t limit = c->after_rto ? c->mss : 2 * c->mss;
	uint32_t inc = acked < limit ? acked : limit;
	uint32_t room = c->ssthresh - c->cwnd;

	if (inc < room) {
		c->cwnd = clamp_cwnd((uint64_t)c->cwnd + inc);
		return 0;
	}
	c->cwnd = clamp_cwnd(c->ssthresh);
	c->after_rto = 0;
	return acked > room ? acked - room : 0;
}

/* RFC 5681 3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t reno_ssthresh(const struct tcp_cc *c, uint32_t flight)
{
	uint32_t ss = flight / 2;

	return ss > 2 * c->mss ? ss : 2 * c->mss;
}

/* RFC 6582 3.2 step 3, option (1): cwnd = min(ssthresh, max(FlightSize,
 * SMSS) + SMSS). Chosen over plain ssthresh because it cannot release a
 * burst when little is in flight at the full ACK; with a full pipe the two
 * agree. Shared by both algorithms. */
static void cc_recovery_exit(struct tcp_cc *c, uint32_t flight, xs_time_t now)
{
	uint64_t w = (uint64_t)(flight > c->mss ? flight : c->mss) + c->mss;

	c->cwnd = clamp_cwnd(w < c->ssthresh ? w : c->ssthresh);
	c->bytes_acked = 0;
}

/* RFC 5681 4.1: after an idle period longer than an RTO, restart from
 * RW = min(IW, cwnd). ssthresh is kept. */
static void cc_restart_window(struct tcp_cc *c)
{
	uint32_t iw = tcp_cc_initial_window(c->mss);

	if (c->cwnd > iw)
		c->cwnd = iw;
	c->bytes_acked = 0;
	c->after_rto = 0;
}

/* --- NewReno ----------------------------------------------------------- */

static void reno_init(struct tcp_cc *c, uint32_t mss)
{
	cc_reset(c, mss);
}

static void reno_on_ack(struct tcp_cc *c, uint32_t acked, uint32_t flight, xs_time_t now,
			xs_time_t srtt)
{
	uint64_t b;

	if (!acked)
		return;
	c->rto_repeat = 0;
	if (c->cwnd < c->ssthresh) {
		acked = slow_start(c, acked);
		if (!acked)
			return;
	}
	/* RFC 5681 3.1 congestion avoidance by byte counting (RFC 3465 2.1):
	 * cwnd grows by SMSS each time a full cwnd of bytes has been
	 * acknowledged, i.e. one SMSS per RTT, the equivalent of eq. 3
	 * without its rounding drift. */
	b = (uint64_t)c->bytes_acked + acked;
	while (b >= c->cwnd && c->cwnd < CC_CWND_MAX) {
		b -= c->cwnd;
		c->cwnd = clamp_cwnd((uint64_t)c->cwnd + c->mss);
	}
	c->bytes_acked = b < c->cwnd ? (uint32_t)b : 0;
}

static void reno_on_loss(struct tcp_cc *c, uint32_t flight, xs_time_t now)
{
	/* RFC 5681 3.2 step 2 / RFC 6582 3.2 step 2; the window inflation by
	 * duplicate ACKs belongs to the recovery code, not to cwnd here. */
	c->ssthresh = reno_ssthresh(c, flight);
	c->cwnd = c->ssthresh;
	c->bytes_acked = 0;
	c->after_rto = 0;
}

static void reno_on_rto(struct tcp_cc *c, uint32_t flight, xs_time_t now)
{
	/* RFC 5681 3.1: ssthresh by eq. 4, held constant when the segment
	 * had already been retransmitted by the timer; cwnd = LW = 1 SMSS. */
	if (!c->rto_repeat)
		c->ssthresh = reno_ssthresh(c, flight);
	c->cwnd = c->mss;
	c->bytes_acked = 0;
	c->after_rto = 1;
	c->rto_repeat = 1;
}

static void reno_on_idle(struct tcp_cc *c, xs_time_t now)
{
	cc_restart_window(c);
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "newreno",
    .init = reno_init,
    .on_ack = reno_on_ack,
    .on_loss = reno_on_loss,
    .on_rto = reno_on_rto,
    .on_recovery_exit = cc_recovery_exit,
    .on_idle = reno_on_idle,
};

/* --- CUBIC ------------------------------------------------------------- */

/* floor(cbrt(x)), digit by digit (Hacker's Delight 11-2, widened to 64 bits). */
static uint64_t icbrt64(uint64_t x)
{
	uint64_t y = 0, b;
	int s;

	for (s = 63; s >= 0; s -= 3) {
		y <<= 1;
		b = 3 * y * (y + 1) + 1;
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return y;
}

xs_time_t tcp_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss)
{
	uint64_t k3;

	/* RFC 9438 4.2 eq. 2: K = cbrt((W_max - cwnd_epoch) / C), in segments
	 * and seconds. In units of 2^-10 s, K^3 = (W_max - cwnd_epoch) / mss
	 * * 5/2 * 2^30; the difference is below 2^32, so this fits 64 bits. */
	if (cwnd_epoch >= w_max || !mss)
		return 0;
	k3 = ((uint64_t)(w_max - cwnd_epoch) * CUBIC_C_DEN << (3 * CUBIC_T_SHIFT)) /
	     ((uint64_t)mss * CUBIC_C_NUM);
	return (icbrt64(k3) * NS_PER_SEC) >> CUBIC_T_SHIFT;
}

uint32_t tcp_cubic_w(const struct tcp_cc *c, xs_time_t t)
{
	xs_time_t dns;
	uint64_t d, off;
	int before = t < c->k;

	/* RFC 9438 4.2 eq. 1: W_cubic(t) = C (t - K)^3 + W_max. */
	dns = before ? c->k - t : t - c->k;
	if (dns > (CUBIC_D_MAX * NS_PER_SEC) >> CUBIC_T_SHIFT)
		d = CUBIC_D_MAX;
	else
		d = (dns << CUBIC_T_SHIFT) / NS_PER_SEC;
	/* C d^3 in segments << 10, then bytes. */
	off = (CUBIC_C_NUM * d * d * d / CUBIC_C_DEN) >> (2 * CUBIC_T_SHIFT);
	off = (off * c->mss) >> CUBIC_T_SHIFT;
	if (before)
		return off >= c->w_max ? 0 : c->w_max - (uint32_t)off;
	return clamp_cwnd(c->w_max + off);
}

static void cubic_init(struct tcp_cc *c, uint32_t mss)
{
	cc_reset(c, mss);
}

/* RFC 9438 4.2: a congestion avoidance stage begins. cwnd_epoch is cwnd now.
 * After a timeout (w_max cleared by on_rto, 4.8), or whenever cwnd already
 * reaches W_max, K = 0 and W_max = cwnd_epoch. 4.3: W_est = cwnd_epoch. */
static void cubic_epoch_begin(struct tcp_cc *c, xs_time_t now)
{
	c->epoch_start = now ? now : 1; /* 0 means "no epoch" */
	if (c->cwnd < c->w_max) {
		c->k = tcp_cubic_k(c->w_max, c->cwnd, c->mss);
	} else {
		c->k = 0;
		c->w_max = c->cwnd;
	}
	c->w_est = (uint64_t)c->cwnd << 10;
	c->bytes_acked = 0;
}

static void cubic_ca(struct tcp_cc *c, uint32_t acked, xs_time_t now, xs_time_t srtt)
{
	uint64_t an = CUBIC_ALPHA_NUM, ad = CUBIC_ALPHA_DEN, est, target, inc, cwnd = c->cwnd;
	xs_time_t t;

	if (!c->epoch_start)
		cubic_epoch_begin(c, now);
	t = now > c->epoch_start ? now - c->epoch_start : 0;
	if (acked > CC_CWND_MAX)
		acked = CC_CWND_MAX;

	/* 4.3 Reno-friendly region: W_est += alpha * segments_acked / cwnd
	 * (in segments), alpha_cubic until W_est reaches cwnd_prior, then 1. */
	if ((c->w_est >> 10) >= c->cwnd_prior)
		an = ad = 1;
	c->w_est += ((((uint64_t)acked * c->mss) << 10) * an) / (ad * cwnd);
	if (c->w_est > (uint64_t)CC_CWND_MAX << 10)
		c->w_est = (uint64_t)CC_CWND_MAX << 10;
	est = c->w_est >> 10;
	if (tcp_cubic_w(c, t) < est) {
		/* cwnd = W_est; never lowered here, where the cubic branch
		 * below may have taken it past W_est already. */
		if (est > cwnd)
			c->cwnd = clamp_cwnd(est);
		c->bytes_acked = 0;
		return;
	}

	/* 4.4 concave and 4.5 convex regions: target = W_cubic(t + RTT)
	 * bounded to [cwnd, 1.5 cwnd]; cwnd += (target - cwnd) / cwnd per
	 * SMSS acknowledged, i.e. (target - cwnd) * acked / cwnd bytes, the
	 * division's remainder carried in bytes_acked. */
	target = tcp_cubic_w(c, t + srtt);
	if (target < cwnd)
		target = cwnd;
	else if (target > cwnd + cwnd / 2)
		target = cwnd + cwnd / 2;
	inc = (target - cwnd) * acked + c->bytes_acked;
	c->cwnd = clamp_cwnd(cwnd + inc / cwnd);
	c->bytes_acked = (uint32_t)(inc % cwnd);
}

static void cubic_on_ack(struct tcp_cc *c, uint32_t acked, uint32_t flight, xs_time_t now,
			 xs_time_t srtt)
{
	if (!acked)
		return;
	c->rto_repeat = 0;
	/* RFC 9438 4.10: below ssthresh, slow start as Reno does. */
	if (c->cwnd < c->ssthresh) {
		acked = slow_start(c, acked);
		if (!acked)
			return;
	}
	cubic_ca(c, acked, now, srtt);
}

/* RFC 9438 4.6: ssthresh = max(flight_size * beta_cubic, 2 segments). */
static uint32_t cubic_ssthresh(const struct tcp_cc *c, uint32_t flight)
{
	uint64_t ss = (uint64_t)flight * CUBIC_BETA_NUM / CUBIC_BETA_DEN;

	return ss > 2 * c->mss ? (uint32_t)ss : 2 * c->mss;
}

static void cubic_on_loss(struct tcp_cc *c, uint32_t flight, xs_time_t now)
{
	/* RFC 9438 4.7 fast convergence, before the reduction: a window
	 * below the last W_max means competition; release some bandwidth by
	 * aiming lower. w_last_max keeps the W_max this replaced. */
	c->w_last_max = c->w_max;
	if (c->cwnd < c->w_max)
		c->w_max = (uint32_t)((uint64_t)c->cwnd * CUBIC_FC_NUM / CUBIC_FC_DEN);
	else
		c->w_max = c->cwnd;
	/* 4.6: cwnd_prior = cwnd; cwnd = ssthresh (at least 2 segments). The
	 * epoch ends; the next one begins with congestion avoidance. */
	c->cwnd_prior = c->cwnd;
	c->ssthresh = cubic_ssthresh(c, flight);
	c->cwnd = c->ssthresh;
	c->epoch_start = 0;
	c->bytes_acked = 0;
	c->after_rto = 0;
}

static void cubic_on_rto(struct tcp_cc *c, uint32_t flight, xs_time_t now)
{
	/* RFC 9438 4.8: Reno's loss window, ssthresh as in 4.6 (held on a
	 * repeated timeout as RFC 5681 3.1 says); the first congestion
	 * avoidance stage afterwards uses K = 0 and W_max = its cwnd_epoch,
	 * which clearing w_max arranges in cubic_epoch_begin. */
	if (!c->rto_repeat) {
		c->cwnd_prior = c->cwnd;
		c->ssthresh = cubic_ssthresh(c, flight);
		c->w_last_max = c->w_max;
		c->w_max = 0;
	}
	c->cwnd = c->mss;
	c->epoch_start = 0;
	c->bytes_acked = 0;
	c->after_rto = 1;
	c->rto_repeat = 1;
}

static void cubic_on_idle(struct tcp_cc *c, xs_time_t now)
{
	cc_restart_window(c);
	c->epoch_start = 0;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_loss = cubic_on_loss,
    .on_rto = cubic_on_rto,
    .on_recovery_exit = cc_recovery_exit,
    .on_idle = cubic_on_idle,
};

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, tcp_cc_newreno.name))
		return &tcp_cc_newreno;
	if (!strcmp(name, tcp_cc_cubic.name))
		return &tcp_cc_cubic;
	return NULL;
}
