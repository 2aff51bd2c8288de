/* The sender's record of every segment in flight, and RACK's time-based
 * loss detection on it (RFC 8985 6): a segment is lost when one sent after
 * it has been delivered and a reordering window has passed since.
 *
 * Records are kept in sequence order, one per transmitted segment, with the
 * time of its latest transmission and whether it is SACKed, marked lost or
 * was sent more than once. The queue holds [snd_una, snd_max) minus the
 * handshake; a FIN counts as one octet of the record that carries it.
 *
 * A peer chooses what it acknowledges and SACKs, so no ACK may cost work
 * proportional to the window (the SACK Panic / SegmentSmack class). Costs,
 * in records visited or moved (counted in *work):
 *   cumulative ACK retiring k records   O(k)
 *   finding the record of a sequence    O(log n)
 *   a SACK block                        O(log n + records it covers); it
 *                                       never splits a record (see rack.c)
 *   a split (our own partial resend)    O(RACK_CHUNK + n / RACK_CHUNK)
 *   loss detection                      O(log n) per record marked or
 *                                       transmission retired, plus one
 *   pipe                                O(1); next lost record amortised */
#ifndef XS_TCP_RACK_H
#define XS_TCP_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#define TXREC_SACKED 0x01  /* the receiver holds it (SACK) */
#define TXREC_LOST 0x02    /* presumed lost, not retransmitted since */
#define TXREC_RETRANS 0x04 /* sent more than once */

/* Records a connection may hold at most; beyond that, new data joins the
 * last record (it is then handled as one larger segment, which only makes
 * loss detection for it later, never earlier). */
#define RACK_MAX_RECORDS 4096
/* Records live in chunks of RACK_CHUNK, in sequence order; every chunk but
 * the first and the last is at least half full, so a connection holds at
 * most RACK_MAX_CHUNKS of them (about 2 x 96 KiB at the record limit). */
#define RACK_CHUNK 64
#define RACK_MAX_CHUNKS (2 * RACK_MAX_RECORDS / RACK_CHUNK + 2)
/* Transmissions remembered in time order (RACK's scan): twice the records,
 * so that a queue found full always holds at least half stale entries. */
#define RACK_MAX_XMITS (2 * RACK_MAX_RECORDS)

struct tcp_txrec {
	uint32_t seq, end;       /* [seq, end) */
	xs_time_t sent;          /* latest transmission */
	uint32_t xno;            /* its number, in transmission order */
	uint8_t flags;
};

struct rack_chunk {
	uint32_t lo, hi;         /* r[lo .. hi) in use, in sequence order */
	struct tcp_txrec r[RACK_CHUNK];
};

/* One transmission: the records of [seq, end) that still carry xno. */
struct rack_xmit {
	uint32_t seq, end, xno;
};

struct tcp_rack {
	struct rack_chunk **ch;  /* ch[0 .. nch) in sequence order */
	uint32_t nch, chcap;
	struct rack_chunk *spare; /* one empty chunk kept for reuse */
	uint32_t n;              /* records */
	uint32_t nsacked, nlost, nrtx; /* records with each flag */
	uint32_t pipe;           /* octets of records neither SACKed nor lost */
	uint32_t lost_hint;      /* no lost record starts below it (nlost > 0) */

	/* Transmissions in the order they left (ring tq[tqhead .. +tqn)),
	 * retired lazily once none of their records is in flight. */
	struct rack_xmit *tq;
	uint32_t tqcap, tqhead, tqn;
	uint32_t next_xno;

	uint64_t *work;          /* records visited or moved: &work_own, or a
				  * stack counter (tcp_rack_work) */
	uint64_t work_own;

	/* RFC 8985 6.1: the most recently sent segment known delivered. */
	xs_time_t xmit_ts;
	uint32_t end_seq;
	uint32_t xno;            /* its transmission number */
	xs_time_t rtt;           /* RACK.rtt: its round trip */
	bool have;               /* xmit_ts, end_seq, xno and rtt are set */
	xs_time_t min_rtt;       /* RACK.min_RTT (a windowed minimum) */
	xs_time_t min_rtt_at;
	uint32_t fack;           /* highest end delivered (RACK.fack) */
	bool reordering_seen;    /* RFC 8985 6.2 step 3 */
};

/* Empty queue; no memory until the first record. Work is counted in the
 * queue's own work_own until the caller points work elsewhere. */
void rack_init(struct tcp_rack *q);
void rack_free(struct tcp_rack *q);
/* With no record held: frees the chunks, the directory and the
 * transmission queue (RACK's state stays; memory comes back with the next
 * record). Returns 1 if anything was freed. */
int rack_release(struct tcp_rack *q);

/* Transmission of [seq, end) at now: records past the last one are new
 * (new data); those already held are retransmitted (their time moves to
 * now, RETRANS set, LOST cleared). snd_max is the highest sequence sent
 * before this transmission. */
void rack_on_xmit(struct tcp_rack *q, uint32_t seq, uint32_t end, uint32_t snd_max,
		  xs_time_t now);
/* Cumulative ACK up to una: records below it are delivered (RACK's
 * step 2 sees them) and forgotten. */
void rack_on_ack(struct tcp_rack *q, uint32_t una, xs_time_t now);
/* A SACK block [left, right): the records wholly inside it are delivered.
 * A record only partly inside is left as it was; returns 1 if an edge fell
 * inside a record that way (the caller counts it), else 0. */
int rack_on_sack(struct tcp_rack *q, uint32_t left, uint32_t right, xs_time_t now);
/* RFC 8985 6.2 steps 4-5: marks lost the records sent before the newest
 * delivered one by more than its RTT plus the reordering window. Returns
 * how many records were newly marked; *reo_timeout is how long until the
 * next record could be marked (the reorder timer), 0 if none. srtt is the
 * RFC 6298 estimate (bounds the window); in_recovery per step 4. */
unsigned rack_detect_loss(struct tcp_rack *q, xs_time_t now, xs_time_t srtt, bool in_recovery,
			  xs_time_t *reo_timeout);
/* After a retransmission timeout: every record not SACKed is lost. */
void rack_mark_all_lost(struct tcp_rack *q);
/* Octets in flight (RFC 6675's pipe, Linux's in_flight): records neither
 * SACKed nor lost; a lost record retransmitted counts again. */
uint32_t rack_pipe(const struct tcp_rack *q);
/* The first lost record: 1 with [*seq, *end), else 0. */
int rack_next_lost(struct tcp_rack *q, uint32_t *seq, uint32_t *end);
/* The i-th record in sequence order (i < n), for tests: O(chunks). */
const struct tcp_txrec *rack_at(const struct tcp_rack *q, uint32_t i);

#endif
