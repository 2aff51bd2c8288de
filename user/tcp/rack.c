/* Transmission records and RACK loss detection (RFC 8985 6). See rack.h.
 *
 * The records are an array in sequence order: new data is appended, the
 * cumulative ACK pops from the front, and a retransmission or SACK block
 * that cuts a record splits it (a memmove of the tail: rare, and the queue
 * is bounded by RACK_MAX_RECORDS). Never-retransmitted records are also in
 * transmission-time order, which lets the loss scan stop early. */
#include <stdlib.h>
#include <string.h>

#include "tcp/rack.h"
#include "wire/tcp.h"

#define RACK_MIN_RTT_WINDOW XS_SEC(10) /* RACK.min_RTT is a minimum over this */
#define RACK_DUPTHRESH 3

static struct tcp_txrec *rec(const struct tcp_rack *q, uint32_t i)
{
	return &q->r[q->head + i];
}

static void count(struct tcp_rack *q, uint8_t flags, int d)
{
	if (flags & TXREC_SACKED)
		q->nsacked += (uint32_t)d;
	if (flags & TXREC_LOST)
		q->nlost += (uint32_t)d;
	if (flags & TXREC_RETRANS)
		q->nrtx += (uint32_t)d;
}

void rack_init(struct tcp_rack *q)
{
	memset(q, 0, sizeof(*q));
}

void rack_free(struct tcp_rack *q)
{
	free(q->r);
	rack_init(q);
}

/* Room for one more record at the end: 0, or -1 at the limit (or without
 * memory, which is handled the same way). */
static int reserve(struct tcp_rack *q)
{
	struct tcp_txrec *nr;
	uint32_t ncap;

	if (q->head + q->n < q->cap)
		return 0;
	/* Compact only when a quarter of the array is free at the front, so
	 * each move frees room for many appends (a queue that stays nearly
	 * full would otherwise move every record on every append); else grow. */
	if (q->head && (q->head >= q->cap / 4 || q->cap >= RACK_MAX_RECORDS)) {
		memmove(q->r, q->r + q->head, q->n * sizeof(*q->r));
		q->head = 0;
		return 0;
	}
	if (q->cap >= RACK_MAX_RECORDS)
		return -1;
	ncap = q->cap ? q->cap * 2 : RACK_FIRST_RECORDS;
	nr = realloc(q->r, ncap * sizeof(*nr));
	if (!nr)
		return -1;
	q->r = nr;
	q->cap = ncap;
	return 0;
}

/* Index of the first record that ends after seq (n if none). */
static uint32_t find(const struct tcp_rack *q, uint32_t seq)
{
	uint32_t lo = 0, hi = q->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (seq_le(rec(q, mid)->end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Cuts record i at `at` (strictly inside it): i keeps [seq, at), a new
 * record i+1 takes [at, end) with the same time and flags. Returns -1 if
 * no record can be added (the record then stays whole). */
static int split(struct tcp_rack *q, uint32_t i, uint32_t at)
{
	struct tcp_txrec *r;

	if (reserve(q))
		return -1;
	r = rec(q, i);
	memmove(r + 1, r, (q->n - i) * sizeof(*r));
	q->n++;
	r->end = at;
	(r + 1)->seq = at;
	count(q, r->flags, 1);
	return 0;
}

/* Splits so that a record boundary falls at seq, if a record spans it. */
static void cut_at(struct tcp_rack *q, uint32_t seq)
{
	uint32_t i = find(q, seq);

	if (i < q->n && seq_lt(rec(q, i)->seq, seq))
		split(q, i, seq);
}

static bool sent_after(xs_time_t t1, uint32_t seq1, xs_time_t t2, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && seq_gt(seq1, seq2));
}

/* RFC 8985 6.2 steps 1-3 for a record newly delivered (ACKed or SACKed). */
static void delivered(struct tcp_rack *q, const struct tcp_txrec *r, xs_time_t now)
{
	xs_time_t rtt = now - r->sent;

	/* Step 2: a retransmitted segment acknowledged sooner than the path
	 * allows was most likely delivered by its original transmission. */
	if ((r->flags & TXREC_RETRANS) && q->min_rtt && rtt < q->min_rtt)
		return;
	q->rtt = rtt;
	if (!q->min_rtt || rtt <= q->min_rtt || now - q->min_rtt_at > RACK_MIN_RTT_WINDOW) {
		q->min_rtt = rtt ? rtt : 1;
		q->min_rtt_at = now;
	}
	if (!q->have || sent_after(r->sent, r->end, q->xmit_ts, q->end_seq)) {
		q->xmit_ts = r->sent;
		q->end_seq = r->end;
		q->have = true;
	}
	/* Step 3: delivered below what was already delivered, and never
	 * resent: the network reordered it. */
	if (!(r->flags & TXREC_RETRANS) && q->fack && seq_lt(r->end, q->fack))
		q->reordering_seen = true;
	else if (!q->fack || seq_gt(r->end, q->fack))
		q->fack = r->end;
}

void rack_on_xmit(struct tcp_rack *q, uint32_t seq, uint32_t end, uint32_t snd_max,
		  xs_time_t now)
{
	struct tcp_txrec *r;
	uint32_t i;

	if (!seq_lt(seq, end))
		return;
	/* The part already sent once: retransmitted. */
	if (seq_lt(seq, snd_max) && q->n) {
		uint32_t rend = seq_lt(end, snd_max) ? end : snd_max;

		cut_at(q, seq);
		cut_at(q, rend);
		for (i = find(q, seq); i < q->n && seq_lt(rec(q, i)->seq, rend); i++) {
			r = rec(q, i);
			if (r->flags & TXREC_LOST) {
				r->flags &= (uint8_t)~TXREC_LOST;
				q->nlost--;
			}
			if (!(r->flags & TXREC_RETRANS)) {
				r->flags |= TXREC_RETRANS;
				q->nrtx++;
			}
			r->sent = now;
		}
	}
	/* The part beyond snd_max: new data. */
	if (seq_lt(seq, snd_max))
		seq = snd_max;
	if (!seq_lt(seq, end))
		return;
	if (q->n && !seq_lt(seq, rec(q, q->n - 1)->seq) && reserve(q)) {
		/* At the limit: the last record grows. */
		r = rec(q, q->n - 1);
		if (seq_gt(end, r->end))
			r->end = end;
		r->sent = now;
		return;
	}
	if (!q->n && reserve(q))
		return; /* no memory at all: RTO and TLP still recover */
	r = rec(q, q->n++);
	r->seq = seq;
	r->end = end;
	r->sent = now;
	r->flags = 0;
}

void rack_on_ack(struct tcp_rack *q, uint32_t una, xs_time_t now)
{
	while (q->n) {
		struct tcp_txrec *r = rec(q, 0);

		if (seq_gt(r->end, una)) {
			/* Partly acknowledged: the rest stays. */
			if (seq_lt(r->seq, una))
				r->seq = una;
			break;
		}
		if (!(r->flags & TXREC_SACKED))
			delivered(q, r, now);
		count(q, r->flags, -1);
		q->head++;
		q->n--;
	}
	if (!q->n)
		q->head = 0;
}

void rack_on_sack(struct tcp_rack *q, uint32_t left, uint32_t right, xs_time_t now)
{
	uint32_t i;

	if (!seq_lt(left, right) || !q->n)
		return;
	cut_at(q, left);
	cut_at(q, right);
	for (i = find(q, left); i < q->n; i++) {
		struct tcp_txrec *r = rec(q, i);

		if (!seq_le(r->end, right))
			break;
		if (seq_lt(r->seq, left) || (r->flags & TXREC_SACKED))
			continue;
		delivered(q, r, now);
		if (r->flags & TXREC_LOST) {
			r->flags &= (uint8_t)~TXREC_LOST;
			q->nlost--;
		}
		r->flags |= TXREC_SACKED;
		q->nsacked++;
	}
}

/* RFC 8985 6.2 step 4 (reo_wnd_mult fixed at 1: no D-SACK adaptation). */
static xs_time_t reo_wnd(const struct tcp_rack *q, xs_time_t srtt, bool in_recovery)
{
	xs_time_t w = q->min_rtt / 4;

	if (!q->reordering_seen && (in_recovery || q->nsacked >= RACK_DUPTHRESH))
		return 0;
	return srtt && srtt < w ? srtt : w;
}

unsigned rack_detect_loss(struct tcp_rack *q, xs_time_t now, xs_time_t srtt, bool in_recovery,
			  xs_time_t *reo_timeout)
{
	xs_time_t reo, wait = 0;
	unsigned lost = 0;
	uint32_t i;

	*reo_timeout = 0;
	/* Without SACKed or resent records, everything outstanding was sent
	 * after whatever the cumulative ACK delivered. */
	if (!q->have || (!q->nsacked && !q->nrtx))
		return 0;
	reo = reo_wnd(q, srtt, in_recovery);
	for (i = 0; i < q->n; i++) {
		struct tcp_txrec *r = rec(q, i);
		xs_time_t deadline;

		if (r->flags & (TXREC_SACKED | TXREC_LOST))
			continue;
		if (!sent_after(q->xmit_ts, q->end_seq, r->sent, r->end)) {
			/* Sent after the newest delivered segment; so is every
			 * later record unless some were resent. */
			if (!q->nrtx)
				break;
			continue;
		}
		/* Step 5: lost once RACK.rtt + reo_wnd has passed since it left. */
		deadline = r->sent + q->rtt + reo;
		if (deadline <= now) {
			r->flags |= TXREC_LOST;
			q->nlost++;
			lost++;
		} else if (deadline - now > wait) {
			wait = deadline - now;
		}
	}
	*reo_timeout = wait;
	return lost;
}

void rack_mark_all_lost(struct tcp_rack *q)
{
	uint32_t i;

	for (i = 0; i < q->n; i++) {
		struct tcp_txrec *r = rec(q, i);

		if (!(r->flags & (TXREC_SACKED | TXREC_LOST))) {
			r->flags |= TXREC_LOST;
			q->nlost++;
		}
	}
}

uint32_t rack_pipe(const struct tcp_rack *q)
{
	uint32_t i, pipe = 0;

	for (i = 0; i < q->n; i++) {
		const struct tcp_txrec *r = rec(q, i);

		if (!(r->flags & (TXREC_SACKED | TXREC_LOST)))
			pipe += r->end - r->seq;
	}
	return pipe;
}

int rack_next_lost(const struct tcp_rack *q, uint32_t *seq, uint32_t *end)
{
	uint32_t i;

	if (!q->nlost)
		return 0;
	for (i = 0; i < q->n; i++) {
		const struct tcp_txrec *r = rec(q, i);

		if (r->flags & TXREC_LOST) {
			*seq = r->seq;
			*end = r->end;
			return 1;
		}
	}
	return 0;
}
