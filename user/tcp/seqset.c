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
