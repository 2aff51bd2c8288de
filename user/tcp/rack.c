/* Transmission records and RACK loss detection (RFC 8985 6). See rack.h.
 *
 * The records sit in chunks of RACK_CHUNK, in sequence order, reached
 * through a directory of chunk pointers (a one-level B-tree). The
 * cumulative ACK retires records from the front chunk (O(1) each; an
 * emptied chunk leaves the directory, a shift of at most RACK_MAX_CHUNKS
 * pointers per RACK_CHUNK / 2 records or more); new data is appended to the
 * last; a record is found by binary search over the chunks, then within
 * one. A split, when our own resend covers part of a record, moves at most
 * one chunk's worth of records (a full chunk is cut in two, one pointer
 * inserted in the directory): bounded, whatever the window. (Linux keeps
 * its retransmit queue in an rbtree of skbs; chunks give the same bounds
 * without an allocation per segment, and keep records contiguous.)
 *
 * A SACK block never splits a record. Each record is one segment as sent
 * (at most an MSS; bigger only when joined at the record limit), so a
 * receiver that reports only part of one is resegmenting or lying: the
 * record is left unSACKed and counted (tcp_sack_unaligned), as Linux's
 * tcp_match_skb_to_sack refuses to fragment below an MSS. A peer that SACKs
 * tiny holes thus cannot multiply the records.
 *
 * RACK's scan (step 5) walks the transmissions in the order they left
 * (tq), not the records: those sent before the newest delivered one are a
 * prefix of it, and since they left in time order, the ones whose
 * RACK.rtt + reo_wnd has passed are a prefix of that. The scan stops at the
 * first one still in flight that is not due yet (the reorder timer is armed
 * for it); entries whose records were since delivered, lost or resent are
 * dropped as the scan meets them. Every transmission is retired once, so the
 * scan costs O(log n) per record marked or entry retired. */
#include <stdlib.h>
#include <string.h>

#include "tcp/rack.h"
#include "wire/tcp.h"

#define RACK_MIN_RTT_WINDOW XS_SEC(10) /* RACK.min_RTT is a minimum over this */
#define RACK_DUPTHRESH 3
#define RACK_FIRST_XMITS 64
#define RACK_FIRST_DIR 4

/* A record's place: chunk c of the directory, slot i of that chunk. c ==
 * nch is the end (no record). */
struct rpos {
	uint32_t c, i;
};

static void work(struct tcp_rack *q, uint64_t n)
{
	*q->work += n;
}

static bool xno_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static struct tcp_txrec *at_pos(const struct tcp_rack *q, struct rpos p)
{
	return &q->ch[p.c]->r[p.i];
}

static bool pos_ok(const struct tcp_rack *q, struct rpos p)
{
	return p.c < q->nch;
}

static struct rpos pos_first(const struct tcp_rack *q)
{
	struct rpos p = { q->nch, 0 };

	if (q->nch) {
		p.c = 0;
		p.i = q->ch[0]->lo;
	}
	return p;
}

static void pos_next(const struct tcp_rack *q, struct rpos *p)
{
	if (++p->i < q->ch[p->c]->hi)
		return;
	if (++p->c < q->nch)
		p->i = q->ch[p->c]->lo;
}

static struct tcp_txrec *last_rec(const struct tcp_rack *q)
{
	const struct rack_chunk *k = q->ch[q->nch - 1];

	return (struct tcp_txrec *)&k->r[k->hi - 1];
}

/* Adds (d = 1) or removes (d = -1) a record's share of the counts. */
static void acct(struct tcp_rack *q, const struct tcp_txrec *r, int d)
{
	if (r->flags & TXREC_SACKED)
		q->nsacked += (uint32_t)d;
	if (r->flags & TXREC_LOST)
		q->nlost += (uint32_t)d;
	if (r->flags & TXREC_RETRANS)
		q->nrtx += (uint32_t)d;
	if (!(r->flags & (TXREC_SACKED | TXREC_LOST)))
		q->pipe += (uint32_t)d * (r->end - r->seq);
}

static void set_flags(struct tcp_rack *q, struct tcp_txrec *r, uint8_t flags)
{
	acct(q, r, -1);
	r->flags = flags;
	acct(q, r, 1);
	if ((flags & TXREC_LOST) && (q->nlost == 1 || seq_lt(r->seq, q->lost_hint)))
		q->lost_hint = r->seq;
}

void rack_init(struct tcp_rack *q)
{
	memset(q, 0, sizeof(*q));
	q->work = &q->work_own;
}

void rack_free(struct tcp_rack *q)
{
	for (uint32_t c = 0; c < q->nch; c++)
		free(q->ch[c]);
	free(q->ch);
	free(q->spare);
	free(q->tq);
	rack_init(q);
}

int rack_release(struct tcp_rack *q)
{
	if (q->n || (!q->nch && !q->ch && !q->spare && !q->tq))
		return 0;
	for (uint32_t c = 0; c < q->nch; c++)
		free(q->ch[c]);
	free(q->ch);
	free(q->spare);
	free(q->tq);
	q->ch = NULL;
	q->nch = q->chcap = 0;
	q->spare = NULL;
	q->tq = NULL;
	q->tqcap = q->tqhead = q->tqn = 0;
	return 1;
}

/* --- chunks ----------------------------------------------------------- */

static struct rack_chunk *chunk_new(struct tcp_rack *q)
{
	struct rack_chunk *k = q->spare;

	if (k)
		q->spare = NULL;
	else if (!(k = malloc(sizeof(*k))))
		return NULL;
	k->lo = k->hi = 0;
	return k;
}

/* Puts k into the directory at slot c (the ones from c move up). */
static int dir_insert(struct tcp_rack *q, uint32_t c, struct rack_chunk *k)
{
	if (q->nch == q->chcap) {
		uint32_t ncap = q->chcap ? q->chcap * 2 : RACK_FIRST_DIR;
		struct rack_chunk **nd = realloc(q->ch, ncap * sizeof(*nd));

		if (!nd)
			return -1;
		q->ch = nd;
		q->chcap = ncap;
	}
	memmove(&q->ch[c + 1], &q->ch[c], (q->nch - c) * sizeof(*q->ch));
	work(q, q->nch - c);
	q->ch[c] = k;
	q->nch++;
	return 0;
}

/* Drops the empty first chunk (kept as the spare if there is none). */
static void dir_pop_front(struct tcp_rack *q)
{
	struct rack_chunk *k = q->ch[0];

	memmove(&q->ch[0], &q->ch[1], (q->nch - 1) * sizeof(*q->ch));
	work(q, q->nch - 1);
	q->nch--;
	if (!q->spare)
		q->spare = k;
	else
		free(k);
}

/* A free slot at the end for a new last record: NULL at the limit or
 * without memory (handled the same way). */
static struct tcp_txrec *append_slot(struct tcp_rack *q)
{
	struct rack_chunk *k;

	if (q->n >= RACK_MAX_RECORDS)
		return NULL;
	if (q->nch && q->ch[q->nch - 1]->hi < RACK_CHUNK) {
		k = q->ch[q->nch - 1];
	} else {
		k = chunk_new(q);
		if (!k)
			return NULL;
		if (dir_insert(q, q->nch, k)) {
			q->spare = k;
			return NULL;
		}
	}
	q->n++;
	return &k->r[k->hi++];
}

/* Opens a slot right after the record at *p, a copy of it; *p is updated to
 * where that record now is. Returns the new slot's position, or a position
 * at the end (c == nch) if no record can be added. At most one chunk's
 * records and the directory's pointers move. */
static struct rpos insert_after(struct tcp_rack *q, struct rpos *p)
{
	struct rpos np = { q->nch, 0 };
	struct rack_chunk *k, *h;
	uint32_t half = RACK_CHUNK / 2;

	if (q->n >= RACK_MAX_RECORDS)
		return np;
	k = q->ch[p->c];
	if (k->hi == RACK_CHUNK && k->lo == 0) {
		/* Full: the upper half moves to a new chunk after it. */
		h = chunk_new(q);
		if (!h)
			return np;
		if (dir_insert(q, p->c + 1, h)) {
			q->spare = h;
			return np;
		}
		memcpy(h->r, &k->r[half], half * sizeof(k->r[0]));
		work(q, half);
		h->hi = half;
		k->hi = half;
		if (p->i >= half) {
			p->c++;
			p->i -= half;
			k = h;
		}
	}
	if (k->hi < RACK_CHUNK) {
		memmove(&k->r[p->i + 2], &k->r[p->i + 1], (k->hi - p->i - 1) * sizeof(k->r[0]));
		work(q, k->hi - p->i - 1);
		k->hi++;
	} else {
		/* Room only at the front of the chunk. */
		memmove(&k->r[k->lo - 1], &k->r[k->lo], (p->i - k->lo + 1) * sizeof(k->r[0]));
		work(q, p->i - k->lo + 1);
		k->lo--;
		p->i--;
	}
	k->r[p->i + 1] = k->r[p->i];
	q->n++;
	np.c = p->c;
	np.i = p->i + 1;
	return np;
}

/* Position of the first record that ends after seq (the end if none):
 * binary search over the chunks, then within one. */
static struct rpos find(struct tcp_rack *q, uint32_t seq)
{
	uint32_t lo = 0, hi = q->nch, steps = 0;
	struct rpos p = { q->nch, 0 };
	const struct rack_chunk *k;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		k = q->ch[mid];
		steps++;
		if (seq_le(k->r[k->hi - 1].end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == q->nch) {
		work(q, steps);
		return p;
	}
	k = q->ch[lo];
	p.c = lo;
	hi = k->hi;
	lo = k->lo;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		steps++;
		if (seq_le(k->r[mid].end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	p.i = lo;
	work(q, steps);
	return p;
}

const struct tcp_txrec *rack_at(const struct tcp_rack *q, uint32_t i)
{
	for (uint32_t c = 0; c < q->nch; c++) {
		const struct rack_chunk *k = q->ch[c];

		if (i < k->hi - k->lo)
			return &k->r[k->lo + i];
		i -= k->hi - k->lo;
	}
	return NULL;
}

/* Cuts the record at p at `at` (strictly inside it): it keeps [seq, at), a
 * new record after it takes [at, end) with the same time and flags. At the
 * limit (or without memory) the record stays whole. */
static void split(struct tcp_rack *q, struct rpos p, uint32_t at)
{
	struct rpos np = insert_after(q, &p);

	if (!pos_ok(q, np))
		return;
	at_pos(q, p)->end = at;
	at_pos(q, np)->seq = at;
	/* Both pieces have the flags; the octets (pipe) are unchanged. */
	acct(q, &(struct tcp_txrec){ .flags = at_pos(q, np)->flags }, 1);
}

/* Splits so that a record boundary falls at seq, if a record spans it. */
static void cut_at(struct tcp_rack *q, uint32_t seq)
{
	struct rpos p = find(q, seq);

	if (pos_ok(q, p) && seq_lt(at_pos(q, p)->seq, seq))
		split(q, p, seq);
}

/* --- transmissions in time order -------------------------------------- */

static struct rack_xmit *tq_at(const struct tcp_rack *q, uint32_t i)
{
	return &q->tq[(q->tqhead + i) & (q->tqcap - 1)];
}

static void tq_pop(struct tcp_rack *q)
{
	q->tqhead = (q->tqhead + 1) & (q->tqcap - 1);
	q->tqn--;
}

/* The first record of x still carrying its transmission and in flight
 * (neither SACKed nor lost), or NULL: then x is stale. */
static struct tcp_txrec *xmit_live(struct tcp_rack *q, const struct rack_xmit *x, struct rpos *pp)
{
	struct rpos p = find(q, x->seq);

	for (; pos_ok(q, p); pos_next(q, &p)) {
		struct tcp_txrec *r = at_pos(q, p);

		work(q, 1);
		if (!seq_lt(r->seq, x->end))
			break;
		if (r->xno == x->xno && !(r->flags & (TXREC_SACKED | TXREC_LOST))) {
			if (pp)
				*pp = p;
			return r;
		}
	}
	return NULL;
}

/* Copies the ring into a new array of ncap, oldest first, keeping only the
 * live entries if live_only. */
static int tq_rebuild(struct tcp_rack *q, uint32_t ncap, bool live_only)
{
	struct rack_xmit *nt = malloc(ncap * sizeof(*nt));
	uint32_t i, n = 0;

	if (!nt)
		return -1;
	for (i = 0; i < q->tqn; i++) {
		const struct rack_xmit *x = tq_at(q, i);

		work(q, 1);
		if (!live_only || xmit_live(q, x, NULL))
			nt[n++] = *x;
	}
	free(q->tq);
	q->tq = nt;
	q->tqcap = ncap;
	q->tqhead = 0;
	q->tqn = n;
	return 0;
}

/* Remembers a transmission. A full queue at its limit holds at least half
 * stale entries (live ones each own a record): they are dropped. Without
 * memory the oldest entry goes (its records are then found lost only by
 * the RTO or by later ACKs' scans of other entries). */
static void tq_push(struct tcp_rack *q, uint32_t seq, uint32_t end, uint32_t xno)
{
	if (q->tqn == q->tqcap) {
		int err;

		if (q->tqcap < RACK_MAX_XMITS)
			err = tq_rebuild(q, q->tqcap ? q->tqcap * 2 : RACK_FIRST_XMITS, false);
		else
			err = tq_rebuild(q, q->tqcap, true);
		if (err && !q->tqn)
			return;
		if (err || q->tqn == q->tqcap)
			tq_pop(q);
	}
	*tq_at(q, q->tqn) = (struct rack_xmit){ .seq = seq, .end = end, .xno = xno };
	q->tqn++;
}

/* --- RACK ------------------------------------------------------------- */

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
	/* The newest delivered: by transmission order (RACK_sent_after's
	 * time and sequence tie-break, exactly). */
	if (!q->have || xno_before(q->xno, r->xno)) {
		q->xmit_ts = r->sent;
		q->end_seq = r->end;
		q->xno = r->xno;
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
	uint32_t xno = q->next_xno++, xseq = seq, xend = end;
	struct tcp_txrec *r;
	struct rpos p;

	if (!seq_lt(seq, end))
		return;
	/* The part already sent once: retransmitted. */
	if (seq_lt(seq, snd_max) && q->n) {
		uint32_t rend = seq_lt(end, snd_max) ? end : snd_max;

		cut_at(q, seq);
		cut_at(q, rend);
		for (p = find(q, seq); pos_ok(q, p); pos_next(q, &p)) {
			r = at_pos(q, p);
			work(q, 1);
			if (!seq_lt(r->seq, rend))
				break;
			/* At the limit a record may reach past the resend (not
			 * cut): the entry covers all of it. */
			if (seq_lt(r->seq, xseq))
				xseq = r->seq;
			if (seq_gt(r->end, xend))
				xend = r->end;
			set_flags(q, r, (uint8_t)((r->flags & ~TXREC_LOST) | TXREC_RETRANS));
			r->sent = now;
			r->xno = xno;
		}
	}
	/* The part beyond snd_max: new data. */
	if (seq_lt(seq, snd_max))
		seq = snd_max;
	if (seq_lt(seq, end)) {
		r = append_slot(q);
		if (r) {
			*r = (struct tcp_txrec){ .seq = seq, .end = end, .sent = now, .xno = xno };
			acct(q, r, 1);
		} else if (q->n) {
			/* At the limit: the last record grows, a new segment as
			 * far as RACK can tell (what of it was SACKed or lost is
			 * forgotten). Without memory at all (no record), RTO and
			 * TLP still recover. */
			r = last_rec(q);
			acct(q, r, -1);
			if (seq_gt(end, r->end))
				r->end = end;
			r->flags &= (uint8_t)~(TXREC_SACKED | TXREC_LOST);
			acct(q, r, 1);
			r->sent = now;
			r->xno = xno;
			if (seq_lt(r->seq, xseq))
				xseq = r->seq;
		}
	}
	/* One entry for the whole transmission, in the order it left. */
	tq_push(q, xseq, xend, xno);
}

void rack_on_ack(struct tcp_rack *q, uint32_t una, xs_time_t now)
{
	while (q->n) {
		struct rack_chunk *k = q->ch[0];
		struct tcp_txrec *r = &k->r[k->lo];

		work(q, 1);
		if (seq_gt(r->end, una)) {
			/* Partly acknowledged: the rest stays. */
			if (seq_lt(r->seq, una)) {
				acct(q, r, -1);
				r->seq = una;
				acct(q, r, 1);
			}
			break;
		}
		if (!(r->flags & TXREC_SACKED))
			delivered(q, r, now);
		acct(q, r, -1);
		q->n--;
		if (++k->lo == k->hi)
			dir_pop_front(q);
	}
	/* The hint stays inside the window (sequence order is only defined
	 * within 2^31 of it). */
	if (q->nlost && seq_lt(q->lost_hint, una))
		q->lost_hint = una;
	/* Transmissions wholly acknowledged are forgotten too. */
	while (q->tqn && seq_le(tq_at(q, 0)->end, una)) {
		work(q, 1);
		tq_pop(q);
	}
}

int rack_on_sack(struct tcp_rack *q, uint32_t left, uint32_t right, xs_time_t now)
{
	int unaligned = 0;
	struct rpos p;

	if (!seq_lt(left, right) || !q->n)
		return 0;
	p = find(q, left);
	if (pos_ok(q, p) && seq_lt(at_pos(q, p)->seq, left)) {
		unaligned = 1; /* the block starts inside this record */
		pos_next(q, &p);
	}
	for (; pos_ok(q, p); pos_next(q, &p)) {
		struct tcp_txrec *r = at_pos(q, p);

		work(q, 1);
		if (!seq_le(r->end, right)) {
			if (seq_lt(r->seq, right))
				unaligned = 1; /* ends inside this one */
			break;
		}
		if (r->flags & TXREC_SACKED)
			continue;
		delivered(q, r, now);
		set_flags(q, r, (uint8_t)((r->flags & ~TXREC_LOST) | TXREC_SACKED));
	}
	return unaligned;
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
	xs_time_t reo;
	unsigned lost = 0;

	*reo_timeout = 0;
	/* Without SACKed or resent records, everything outstanding was sent
	 * after whatever the cumulative ACK delivered. */
	if (!q->have || (!q->nsacked && !q->nrtx))
		return 0;
	reo = reo_wnd(q, srtt, in_recovery);
	while (q->tqn) {
		struct rack_xmit *x = tq_at(q, 0);
		struct tcp_txrec *r;
		struct rpos p;
		xs_time_t deadline;

		work(q, 1);
		/* Sent after (or is) the newest delivered: so is the rest. */
		if (!xno_before(x->xno, q->xno))
			break;
		r = xmit_live(q, x, &p);
		if (!r) {
			tq_pop(q); /* delivered, marked lost or resent since */
			continue;
		}
		/* Step 5: lost once RACK.rtt + reo_wnd has passed since it
		 * left; the later entries left no earlier, so wait for this. */
		deadline = r->sent + q->rtt + reo;
		if (deadline > now) {
			*reo_timeout = deadline - now;
			break;
		}
		for (; pos_ok(q, p); pos_next(q, &p)) {
			r = at_pos(q, p);
			work(q, 1);
			if (!seq_lt(r->seq, x->end))
				break;
			if (r->xno == x->xno && !(r->flags & (TXREC_SACKED | TXREC_LOST))) {
				set_flags(q, r, r->flags | TXREC_LOST);
				lost++;
			}
		}
		tq_pop(q);
	}
	return lost;
}

void rack_mark_all_lost(struct tcp_rack *q)
{
	struct rpos p;

	for (p = pos_first(q); pos_ok(q, p); pos_next(q, &p)) {
		struct tcp_txrec *r = at_pos(q, p);

		work(q, 1);
		if (!(r->flags & (TXREC_SACKED | TXREC_LOST)))
			set_flags(q, r, r->flags | TXREC_LOST);
	}
}

uint32_t rack_pipe(const struct tcp_rack *q)
{
	return q->pipe;
}

int rack_next_lost(struct tcp_rack *q, uint32_t *seq, uint32_t *end)
{
	struct rpos p;

	if (!q->nlost)
		return 0;
	/* From the lowest place a lost record can start; a lost record marked
	 * below it moves it back (set_flags). */
	for (p = find(q, q->lost_hint); pos_ok(q, p); pos_next(q, &p)) {
		const struct tcp_txrec *r = at_pos(q, p);

		work(q, 1);
		if (r->flags & TXREC_LOST) {
			q->lost_hint = r->seq;
			*seq = r->seq;
			*end = r->end;
			return 1;
		}
	}
	return 0;
}
