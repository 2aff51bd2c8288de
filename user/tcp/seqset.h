/* Sets of disjoint ranges in TCP sequence space, bounded in count: the
 * receiver's out-of-order assembler and SACK blocks (RFC 2018), and the
 * sender's SACK scoreboard with RFC 6675's loss recovery queries. */
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

/* --- Sender scoreboard (RFC 6675) ------------------------------------- */
struct scoreboard {
	struct seqset sacked;    /* SACKed ranges above snd_una */
	uint32_t high_rxt;       /* HighRxt + 1: octets below it count as
				  * retransmitted; the caller sets it to the end
				  * of each retransmission (RFC 6675 5 (4.3), (C.2)) */
	uint32_t high_sacked;    /* highest SACKed sequence + 1 */
};

void sb_init(struct scoreboard *sb, uint32_t snd_una);
/* Records blocks from one ACK; blocks outside (snd_una, snd_max] or
 * inverted are ignored (RFC 2883 D-SACK below snd_una is not an error).
 * Returns the number of blocks accepted. A block must lie wholly inside
 * [snd_una, snd_max]: one straddling snd_una is ignored too. A block that
 * does not fit (SEQSET_MAX ranges) is dropped and not counted, which only
 * makes the sender more conservative (those octets stay unSACKed). */
unsigned sb_update(struct scoreboard *sb, const struct tcp_sack_block *b, unsigned n,
		   uint32_t snd_una, uint32_t snd_max);
/* Cumulative ACK moved to snd_una. */
void sb_ack(struct scoreboard *sb, uint32_t snd_una);
/* RFC 6675 IsLost(seq): DupThresh (3) discontiguous SACKed sequences, or
 * more than (DupThresh-1)*SMSS bytes SACKed, above seq. A SACKed range of b
 * octets counts as ceil(b / mss) segments. mss 0 is taken as 1. */
int sb_is_lost(const struct scoreboard *sb, uint32_t seq, uint32_t mss);
/* RFC 6675 SetPipe: bytes in flight by the scoreboard, for [snd_una, snd_max). */
uint32_t sb_pipe(const struct scoreboard *sb, uint32_t snd_una, uint32_t snd_max, uint32_t mss);
/* RFC 6675 NextSeg rule 1: the first unSACKed, lost, not yet retransmitted
 * (at or above high_rxt and snd_una) sequence; returns 1 and *seq, *len
 * (<= mss, stops at the next SACKed range and at snd_max), or 0 if none.
 * Rules 2-4 (new data, rescue) are the caller's. */
int sb_next_seg(const struct scoreboard *sb, uint32_t snd_una, uint32_t snd_max, uint32_t mss,
		uint32_t *seq, uint32_t *len);

#endif
