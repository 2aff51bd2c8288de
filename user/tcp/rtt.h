/* Round-trip estimation and the retransmission timeout (RFC 6298): SRTT,
 * RTTVAR, Karn's rule left to the caller, exponential backoff with a ceiling. */
#ifndef XS_TCP_RTT_H
#define XS_TCP_RTT_H

#include <stdint.h>

#include <xdpstack/stack.h>

#define TCP_RTO_INITIAL XS_SEC(1)      /* RFC 6298 2.1 */
#define TCP_RTO_SYN_FALLBACK XS_SEC(3) /* RFC 6298 5.7: after a lost SYN */
#define TCP_RTO_MIN XS_MS(200)          /* Linux's floor; RFC 6298 2.4 allows it */
#define TCP_RTO_MAX XS_SEC(60)          /* RFC 6298 2.5 */
#define TCP_RTO_GRANULARITY XS_MS(1)    /* G: the timer wheel tick */

struct tcp_rtt {
	xs_time_t srtt;
	xs_time_t rttvar;
	xs_time_t rto;        /* before backoff */
	xs_time_t rto_min;    /* the floor (RFC 6298 2.4), TCP_RTO_MIN unless set */
	uint8_t have_sample;
	uint8_t backoff;      /* doublings since the last new ACK */
};

/* rto_min: the floor (0: TCP_RTO_MIN). */
void rtt_init(struct tcp_rtt *r, xs_time_t rto_min);
/* One measurement (never of a retransmitted segment: Karn). RFC 6298 2.2/2.3
 * with alpha 1/8, beta 1/4, K 4; RTO clamped to [rto_min, TCP_RTO_MAX]. */
void rtt_sample(struct tcp_rtt *r, xs_time_t m);
/* The RTO to arm now: rto << backoff, at most TCP_RTO_MAX. */
xs_time_t rtt_rto(const struct tcp_rtt *r);
/* RFC 6298 5.5: double on expiry (saturating at TCP_RTO_MAX). backoff keeps
 * counting (up to 255) after the RTO has reached the ceiling. */
void rtt_backoff(struct tcp_rtt *r);
/* A new ACK after backoff: the next RTO starts from the estimate again. */
void rtt_reset_backoff(struct tcp_rtt *r);
/* RFC 6298 5.7: the SYN (or SYN-ACK) was lost and no sample exists yet:
 * once established, RTO is 3 s. Call it when the connection is established
 * ("when data transmission begins"): it also clears the handshake's backoff.
 * No effect once a sample exists. */
void rtt_syn_lost(struct tcp_rtt *r);

#endif
