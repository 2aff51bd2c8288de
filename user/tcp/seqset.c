/* Disjoint ranges in TCP sequence space (modulo 2^32): the receiver's
 * out-of-order map and SACK blocks, the sender's RFC 6675 scoreboard. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tcp/seqset.h"

#define SB_DUPTHRESH 3 /* RFC 6675 2: DupThresh */

/* The set's ranges satisfy, for i < n - 1 (all comparisons modulo 2^32):
 *   r[i].left < r[i].right < r[i + 1].left      (disjoint, never touching)
 *   r[n - 1].right - r[0].left < 2^31            (so seq_lt is a total order)
 * seqset_add refuses anything that would break the second line, so a peer's
 * garbage cannot corrupt the order. */

void seqset_init(struct seqset *s)
{
	s->n = 0;
	s->last = -1;
}

/* --- recency order ------------------------------------------------------ */

/* r[i] becomes the most recently touched range. */
static void seqset_touch(struct seqset *s, unsigned i)
{
	uint8_t old = s->rank[i];
	unsigned j;

	for (j = 0; j < s->n; j++)
		if (s->rank[j] < old)
			s->rank[j]++;
	s->rank[i] = 0;
	s->last = (int)i;
}

/* Opens slot i for rg (n < SEQSET_MAX) and makes it the most recent. */
static void seqset_insert_at(struct seqset *s, unsigned i, uint32_t left, uint32_t right)
{
	memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(s->r[0]));
	memmove(&s->rank[i + 1], &s->rank[i], (s->n - i) * sizeof(s->rank[0]));
	s->r[i].left = left;
	s->r[i].right = right;
	s->rank[i] = (uint8_t)s->n; /* least recent for now: ranks stay 0..n */
	s->n++;
	seqset_touch(s, i);
}

static void seqset_remove_at(struct seqset *s, unsigned i)
{
	uint8_t old = s->rank[i];
	unsigned j;

	memmove(&s->r[i], &s->r[i + 1], (s->n - i - 1) * sizeof(s->r[0]));
	memmove(&s->rank[i], &s->rank[i + 1], (s->n - i - 1) * sizeof(s->rank[0]));
	s->n--;
	for (j = 0; j < s->n; j++)
		if (s->rank[j] > old)
			s->rank[j]--;
	if (s->last == (int)i)
		s->last = -1;
	else if (s->last > (int)i)
		s->last--;
}

/* --- the set ------------------------------------------------------------ */

/* Would adding [left, right) keep every edge within one arc shorter than
 * 2^31? Measured as offsets from lo, the lower of the two left edges. The
 * other left edge is within 2^31 above lo (that is how lo was chosen) and
 * each right edge within 2^31 above its own left edge, so the offsets keep
 * their order; only the two right edges' offsets need bounding. */
static int seqset_span_ok(const struct seqset *s, uint32_t left, uint32_t right)
{
	uint32_t lo0, hi0, lo;

	if (right - left >= 0x80000000u)
		return 0;
	if (!s->n)
		return 1;
	lo0 = s->r[0].left;
	hi0 = s->r[s->n - 1].right;
	lo = seq_lt(left, lo0) ? left : lo0;
	return right - lo < 0x80000000u && hi0 - lo < 0x80000000u;
}

int seqset_add(struct seqset *s, uint32_t left, uint32_t right)
{
	unsigned i, j, k;

	if (!seq_lt(left, right) || !seqset_span_ok(s, left, right))
		return -EINVAL;
	/* i: first range ending at or after left (touching counts). */
	for (i = 0; i < s->n && seq_lt(s->r[i].right, left); i++)
		;
	/* j: first range from i on starting strictly after right. */
	for (j = i; j < s->n && seq_le(s->r[j].left, right); j++)
		;
	if (i == j) {
		if (s->n == SEQSET_MAX)
			return -ENOSPC;
		seqset_insert_at(s, i, left, right);
		return 0;
	}
	/* r[i..j-1] touch or overlap [left, right): fold them into r[i]. */
	if (seq_lt(left, s->r[i].left))
		s->r[i].left = left;
	s->r[i].right = seq_gt(right, s->r[j - 1].right) ? right : s->r[j - 1].right;
	for (k = i + 1; k < j; k++)
		seqset_remove_at(s, i + 1);
	seqset_touch(s, i);
	return 0;
}

void seqset_trim_below(struct seqset *s, uint32_t seq)
{
	while (s->n && seq_le(s->r[0].right, seq))
		seqset_remove_at(s, 0);
	if (s->n && seq_lt(s->r[0].left, seq))
		s->r[0].left = seq;
}

uint32_t seqset_pop_contiguous(struct seqset *s, uint32_t seq)
{
	unsigned i;

	for (i = 0; i < s->n; i++) {
		if (seq_gt(s->r[i].left, seq))
			break;
		if (seq_lt(seq, s->r[i].right)) {
			uint32_t right = s->r[i].right;

			seqset_remove_at(s, i);
			return right;
		}
	}
	return seq;
}

int seqset_covers(const struct seqset *s, uint32_t left, uint32_t right)
{
	unsigned i;

	if (!seq_lt(left, right))
		return 0;
	for (i = 0; i < s->n; i++) {
		if (seq_gt(s->r[i].left, left))
			break;
		if (seq_le(right, s->r[i].right))
			return 1;
	}
	return 0;
}

uint32_t seqset_bytes(const struct seqset *s)
{
	uint32_t sum = 0;
	unsigned i;

	for (i = 0; i < s->n; i++)
		sum += s->r[i].right - s->r[i].left;
	return sum;
}

/* RFC 2018 4: "The first SACK block ... MUST specify the contiguous block of
 * data containing the segment which triggered this ACK", and the rest repeat
 * "the most recently reported SACK blocks (based on first SACK blocks in
 * previous SACK options) that are not subsets of a SACK block already
 * included". The receiver ACKs every out-of-order segment at once (RFC 5681
 * 4.2), so the first block of each earlier ACK is the range that segment
 * touched: the recency order of touches is the order of first reports, and
 * a range swallowed by a merge (a subset now) has left the order. */
unsigned seqset_sack_blocks(const struct seqset *s, struct tcp_sack_block *out, unsigned max)
{
	unsigned k, i, cnt = 0;

	for (k = 0; k < s->n && cnt < max; k++) {
		for (i = 0; i < s->n && s->rank[i] != k; i++)
			;
		if (i == s->n) /* cannot happen: ranks are a permutation */
			break;
		out[cnt].left = s->r[i].left;
		out[cnt].right = s->r[i].right;
		cnt++;
	}
	return cnt;
}

/* --- sender scoreboard (RFC 6675) ---------------------------------------- */

/* Octets are named as sequence numbers; RFC 6675's HighACK + 1 is snd_una,
 * HighData + 1 is snd_max and HighRxt + 1 is high_rxt, so its "S <= HighRxt"
 * is seq_lt(S, high_rxt) here. */

void sb_init(struct scoreboard *sb, uint32_t snd_una)
{
	seqset_init(&sb->sacked);
	sb->high_rxt = snd_una;
	sb->high_sacked = snd_una;
}

unsigned sb_update(struct scoreboard *sb, const struct tcp_sack_block *b, unsigned n,
		   uint32_t snd_una, uint32_t snd_max)
{
	unsigned i, ok = 0;

	for (i = 0; i < n; i++) {
		uint32_t l = b[i].left, r = b[i].right;

		/* Empty or inverted; below or straddling snd_una (a D-SACK,
		 * RFC 2883 4, or a reneging receiver); beyond what we sent. */
		if (!seq_lt(l, r) || seq_lt(l, snd_una) || seq_gt(r, snd_max))
			continue;
		if (seqset_add(&sb->sacked, l, r))
			continue;
		if (seq_gt(r, sb->high_sacked))
			sb->high_sacked = r;
		ok++;
	}
	return ok;
}

void sb_ack(struct scoreboard *sb, uint32_t snd_una)
{
	seqset_trim_below(&sb->sacked, snd_una);
	if (seq_lt(sb->high_rxt, snd_una))
		sb->high_rxt = snd_una;
	if (seq_lt(sb->high_sacked, snd_una))
		sb->high_sacked = snd_una;
}

/* Segments of at most mss a SACKed run of b octets must have held. */
static uint32_t sb_segs(uint32_t b, uint32_t mss)
{
	return (uint32_t)(((uint64_t)b + mss - 1) / mss);
}

/* IsLost's test, given the SACKed octets and segments above a sequence. The
 * segment count alone would do (sum of ceil(b / mss) >= ceil(sum b / mss),
 * which is 3 once the bytes exceed 2 * mss), but this reads like the RFC. */
static int sb_lost(uint32_t bytes, uint32_t segs, uint32_t mss)
{
	return segs >= SB_DUPTHRESH || bytes > (uint64_t)(SB_DUPTHRESH - 1) * mss;
}

/* RFC 6675 4 IsLost: true when "DupThresh discontiguous SACKed sequences
 * have arrived above 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with
 * sequence numbers greater than 'SeqNum' have been SACKed". The receiver's
 * segment boundaries are gone; a run of b SACKed octets held at least
 * ceil(b / SMSS) segments, so that is what it counts for (a lower bound:
 * never declares a loss the RFC would not). */
int sb_is_lost(const struct scoreboard *sb, uint32_t seq, uint32_t mss)
{
	const struct seqset *s = &sb->sacked;
	uint32_t bytes = 0, segs = 0;
	unsigned i;

	if (!mss)
		mss = 1;
	for (i = s->n; i-- > 0;) {
		uint32_t lo = s->r[i].left;

		if (seq_le(s->r[i].right, seq + 1)) /* nothing above seq */
			break;
		if (seq_le(lo, seq))
			lo = seq + 1;
		bytes += s->r[i].right - lo;
		segs += sb_segs(s->r[i].right - lo, mss);
		if (sb_lost(bytes, segs, mss))
			return 1;
	}
	return 0;
}

/* SetPipe's per-octet terms for the unSACKed octets [h0, h1): RFC 6675 4
 * (a) one if not lost, (b) one more if at or below HighRxt. */
static uint32_t sb_hole_pipe(const struct scoreboard *sb, uint32_t h0, uint32_t h1, int lost)
{
	uint32_t p = 0;

	if (!seq_lt(h0, h1))
		return 0;
	if (!lost)
		p += h1 - h0;
	if (seq_gt(sb->high_rxt, h0))
		p += (seq_lt(sb->high_rxt, h1) ? sb->high_rxt : h1) - h0;
	return p;
}

/* RFC 6675 4 SetPipe, octet by octet over [snd_una, snd_max), computed per
 * hole. Equivalent because IsLost(S1) depends only on the SACKed octets
 * above S1, and for every octet of one hole (a maximal unSACKed run) those
 * are the same: all of every SACKed range above the hole. So IsLost is one
 * value per hole, found by walking the ranges from the top down while
 * summing what lies above, the same sums sb_is_lost makes. O(ranges). */
uint32_t sb_pipe(const struct scoreboard *sb, uint32_t snd_una, uint32_t snd_max, uint32_t mss)
{
	const struct seqset *s = &sb->sacked;
	uint32_t pipe = 0, top = snd_max, bytes = 0, segs = 0;
	unsigned i;

	if (!mss)
		mss = 1;
	for (i = s->n; i-- > 0;) {
		uint32_t l = s->r[i].left, r = s->r[i].right;
		int lost = sb_lost(bytes, segs, mss);

		if (seq_le(r, snd_una))
			break;
		if (seq_lt(r, top)) /* the hole [r, top) above this range */
			pipe += sb_hole_pipe(sb, r, top, lost);
		if (seq_lt(l, top))
			top = l;
		bytes += r - l;
		segs += sb_segs(r - l, mss);
	}
	if (seq_lt(snd_una, top))
		pipe += sb_hole_pipe(sb, snd_una, top, sb_lost(bytes, segs, mss));
	return pipe;
}

/* RFC 6675 4 NextSeg (1): the smallest unSACKed S2 with (1.a) S2 > HighRxt,
 * (1.b) S2 below the highest SACKed octet, (1.c) IsLost(S2). (1.c) implies
 * (1.b). IsLost can only turn false as S2 rises (less is SACKed above it),
 * so only the first unSACKed octet at or after max(high_rxt, snd_una) needs
 * asking: if that one is not lost, no later one is. */
int sb_next_seg(const struct scoreboard *sb, uint32_t snd_una, uint32_t snd_max, uint32_t mss,
		uint32_t *seq, uint32_t *len)
{
	const struct seqset *s = &sb->sacked;
	uint32_t s2 = seq_gt(sb->high_rxt, snd_una) ? sb->high_rxt : snd_una;
	uint32_t end;
	unsigned i;

	if (!mss)
		mss = 1;
	for (i = 0; i < s->n; i++) {
		if (seq_le(s->r[i].right, s2))
			continue;
		if (seq_gt(s->r[i].left, s2))
			break;
		s2 = s->r[i].right; /* s2 was SACKed: skip the range */
	}
	if (!seq_lt(s2, snd_max) || !sb_is_lost(sb, s2, mss))
		return 0;
	/* One segment of up to SMSS octets, not running into SACKed data. */
	end = snd_max;
	if (i < s->n && seq_lt(s->r[i].left, end))
		end = s->r[i].left;
	*seq = s2;
	*len = end - s2 < mss ? end - s2 : mss;
	return 1;
}
