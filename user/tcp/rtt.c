/* Round-trip estimation (RFC 6298): SRTT and RTTVAR in ns with alpha 1/8,
 * beta 1/4, K 4; the RTO clamped to [rto_min, TCP_RTO_MAX], then backed off. */
#include <stdint.h>

#include "tcp/rtt.h"

/* Samples are capped so that 7 * SRTT and 4 * RTTVAR cannot overflow; an
 * hour is far beyond any RTO the estimate could produce (TCP_RTO_MAX). */
#define RTT_SAMPLE_MAX XS_SEC(3600)

void rtt_init(struct tcp_rtt *r, xs_time_t rto_min)
{
	r->rto_min = rto_min ? rto_min : TCP_RTO_MIN;
	r->srtt = 0;
	r->rttvar = 0;
	r->rto = TCP_RTO_INITIAL; /* RFC 6298 2.1 */
	r->have_sample = 0;
	r->backoff = 0;
}

void rtt_sample(struct tcp_rtt *r, xs_time_t m)
{
	xs_time_t var4, rto;

	if (m > RTT_SAMPLE_MAX)
		m = RTT_SAMPLE_MAX;
	if (!r->have_sample) {
		/* RFC 6298 2.2: the first measurement R. */
		r->srtt = m;
		r->rttvar = m / 2;
		r->have_sample = 1;
	} else {
		/* RFC 6298 2.3: RTTVAR first, from the SRTT before this sample. */
		xs_time_t diff = r->srtt > m ? r->srtt - m : m - r->srtt;

		r->rttvar = (3 * r->rttvar + diff) / 4;
		r->srtt = (7 * r->srtt + m) / 8;
	}
	/* RTO = SRTT + max(G, K * RTTVAR), then RFC 6298 2.4 (the floor, here
	 * Linux's 200 ms unless configured) and 2.5 (the ceiling). */
	var4 = 4 * r->rttvar;
	if (var4 < TCP_RTO_GRANULARITY)
		var4 = TCP_RTO_GRANULARITY;
	rto = r->srtt + var4;
	if (rto < r->rto_min)
		rto = r->rto_min;
	if (rto > TCP_RTO_MAX)
		rto = TCP_RTO_MAX;
	r->rto = rto;
}

xs_time_t rtt_rto(const struct tcp_rtt *r)
{
	/* rto << backoff > MAX exactly when rto > MAX >> backoff. */
	if (r->backoff >= 63 || r->rto > (TCP_RTO_MAX >> r->backoff))
		return TCP_RTO_MAX;
	return r->rto << r->backoff;
}

void rtt_backoff(struct tcp_rtt *r)
{
	/* RFC 6298 5.5: RTO <- RTO * 2, bounded by 2.5's ceiling in rtt_rto. */
	if (r->backoff < UINT8_MAX)
		r->backoff++;
}

void rtt_reset_backoff(struct tcp_rtt *r)
{
	r->backoff = 0;
}

void rtt_syn_lost(struct tcp_rtt *r)
{
	/* RFC 6298 5.7: a lost SYN with an RTO under 3 s: re-initialize the
	 * RTO to 3 s when data transmission begins. A sample (e.g. from
	 * timestamps) supersedes the rule. */
	if (r->have_sample)
		return;
	if (r->rto < TCP_RTO_SYN_FALLBACK)
		r->rto = TCP_RTO_SYN_FALLBACK;
	r->backoff = 0;
}
