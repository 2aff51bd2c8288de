/* Sets of disjoint ranges in TCP sequence space, bounded in count: the
 * receiver's out-of-order assembler and the SACK blocks it sends (RFC 2018).
 * (The sender's view of what was SACKed lives in RACK's records, rack.h.) */
#ifndef XS_TCP_SEQSET_H
#define XS_TCP_SEQSET_H

#include <stdint.h>

#include "wire/tcp.h"

#define SEQSET_MAX 32

struct seq_range {
	uint32_t left, right;    /* [left, right), non-empty */
};

/* Ranges kept sorted by left edge (in sequence order relative to each
 * other; all lie within 2^31 of each other) and merged when they touch.
 * rank[i] is r[i]'s place in the recency order (0: touched most recently;
 * always a permutation of 0..n-1), kept for the SACK block order. */
struct seqset {
	struct seq_range r[SEQSET_MAX];
	unsigned n;
	int last;                /* index of the range touched last, -1 if none
				  * (or if that range has since been removed) */
	uint8_t rank[SEQSET_MAX];
};

void seqset_init(struct seqset *s);
/* Adds [left, right), merging with touching or overlapping ranges.
 * Returns 0, or -ENOSPC if it would need more than SEQSET_MAX ranges (the
 * set is then unchanged). Records the resulting range as the last touched.
 * -EINVAL (set unchanged) for an empty or inverted range, or one that would
 * make the set span 2^31 or more, where sequence order stops being defined. */
int seqset_add(struct seqset *s, uint32_t left, uint32_t right);
/* Forgets everything before seq (ranges are cut at seq). */
void seqset_trim_below(struct seqset *s, uint32_t seq);
/* If a range starts at or before seq and ends after it, removes it and
 * returns its right edge; otherwise returns seq. (The assembler's "how far
 * is now contiguous from rcv_nxt".) */
uint32_t seqset_pop_contiguous(struct seqset *s, uint32_t seq);
/* 1 if [left, right) lies entirely inside one range (0 if it is empty). */
int seqset_covers(const struct seqset *s, uint32_t left, uint32_t right);
/* Bytes in all ranges. */
uint32_t seqset_bytes(const struct seqset *s);
/* SACK blocks to send (RFC 2018 4): the last touched range first, then the
 * others, most recently touched first where known, up to max. Returns n. */
unsigned seqset_sack_blocks(const struct seqset *s, struct tcp_sack_block *out, unsigned max);

#endif
