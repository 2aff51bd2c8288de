/* Congestion control behind an ops table: NewReno (RFC 5681/6582) and CUBIC
 * (RFC 9438), selectable per connection. Windows are in bytes. */
#ifndef XS_TCP_CC_H
#define XS_TCP_CC_H

#include <stdint.h>

#include <xdpstack/stack.h>

struct tcp_cc {
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t mss;            /* SMSS */
	/* CUBIC (RFC 9438 4): */
	uint32_t w_max;          /* window before the last reduction, bytes */
	uint32_t w_last_max;     /* for fast convergence (4.7) */
	uint32_t cwnd_prior;
	xs_time_t epoch_start;   /* 0: no congestion-avoidance epoch yet */
	xs_time_t k;             /* time to reach w_max, ns */
	uint64_t w_est;          /* Reno-friendly estimate (4.3), bytes << 10 */
	uint32_t bytes_acked;    /* partial window counter (RFC 5681 3.1 / ABC);
				  * CUBIC: remainder of the per-ACK increase */
	uint8_t after_rto;       /* slow start after an RTO: ABC L = 1*SMSS
				  * (RFC 3465 2.3) until cwnd reaches ssthresh */
	uint8_t rto_repeat;      /* an RTO and no new ACK since: a further RTO
				  * holds ssthresh (RFC 5681 3.1, after eq. 4) */
};

struct tcp_cc_ops {
	const char *name;
	/* cwnd = initial window (RFC 6928: min(10*SMSS, max(2*SMSS, 14600))),
	 * ssthresh = "arbitrarily high" (RFC 5681 3.1). */
	void (*init)(struct tcp_cc *c, uint32_t mss);
	/* New data acknowledged outside recovery: slow start (with appropriate
	 * byte counting, at most 2*SMSS per ACK: RFC 3465) or congestion
	 * avoidance. srtt is the smoothed RTT (0 if none yet). */
	void (*on_ack)(struct tcp_cc *c, uint32_t acked, uint32_t flight, xs_time_t now,
		       xs_time_t srtt);
	/* Loss detected by duplicate ACKs or SACK (entering fast recovery):
	 * set ssthresh and cwnd (NewReno: ssthresh = max(flight/2, 2*SMSS),
	 * cwnd = ssthresh; CUBIC: beta 0.7, fast convergence). */
	void (*on_loss)(struct tcp_cc *c, uint32_t flight, xs_time_t now);
	/* Retransmission timeout (RFC 5681 3.1 eq. 4): ssthresh as on loss,
	 * cwnd = 1 SMSS (loss window); CUBIC resets its epoch. */
	void (*on_rto)(struct tcp_cc *c, uint32_t flight, xs_time_t now);
	/* Leaving fast recovery (RFC 6582 3.2 step 3): cwnd = ssthresh (or
	 * min(ssthresh, flight + SMSS)). */
	void (*on_recovery_exit)(struct tcp_cc *c, uint32_t flight, xs_time_t now);
	/* Sender idle longer than one RTO (RFC 5681 4.1): restart window
	 * cwnd = min(cwnd, initial window); CUBIC ends its epoch. */
	void (*on_idle)(struct tcp_cc *c, xs_time_t now);
};

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

/* "newreno" or "cubic"; NULL for any other name. */
const struct tcp_cc_ops *tcp_cc_find(const char *name);
uint32_t tcp_cc_initial_window(uint32_t mss);

/* CUBIC's curve, exposed for tests and diagnostics (RFC 9438 4.2):
 * K = cbrt((w_max - cwnd_epoch) / C) in ns (0 if cwnd_epoch >= w_max), and
 * W_cubic(t) = C (t - K)^3 + W_max in bytes from c->w_max, c->k and c->mss,
 * t being the time since the epoch began. Fixed point, 2^-10 s resolution. */
xs_time_t tcp_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss);
uint32_t tcp_cubic_w(const struct tcp_cc *c, xs_time_t t);

#endif
