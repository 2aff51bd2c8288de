/* Frames waiting for a neighbour's link-layer address (ARP, RFC 1122 2.3.2.2;
 * NDP, RFC 4861 7.2.2): a bounded pool of slots, a FIFO per cache entry. */
#ifndef XS_NET_PENDING_H
#define XS_NET_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#define PENDING_PER_ENTRY 64 /* frames one entry may hold: a 64 KiB datagram is 45 fragments */
#define PENDING_BUF 2048     /* bytes a slot holds: a whole frame, Ethernet header included */

struct xs_stack;

/* One entry's frames, oldest first. */
struct pending_q {
	int16_t head; /* first slot, -1: none */
	uint8_t n;    /* frames held, at most PENDING_PER_ENTRY */
};

struct pending_slot {
	int16_t next; /* next slot of the same entry, or of the free list */
	uint16_t len; /* the whole frame, Ethernet header included */
	uint8_t *buf;
};

struct pending_pool {
	struct pending_slot *slot;
	uint8_t *mem;
	int16_t free;	 /* free list through .next */
	uint16_t nslots; /* all entries together */
};

/* nslots slots of PENDING_BUF bytes. 0 or -ENOMEM. */
int pending_init(struct pending_pool *pp, unsigned nslots);
void pending_fini(struct pending_pool *pp);

static inline void pending_q_init(struct pending_q *q)
{
	q->head = -1;
	q->n = 0;
}

/* Appends a copy of the len-byte frame to q (so frames leave in the order
 * they were sent). 0, or -ENOBUFS (too long, q full, the pool empty) for the
 * caller to count under its own reason. */
int pending_add(struct pending_pool *pp, struct pending_q *q, const uint8_t *frame, size_t len);
/* Sends q's frames to mac (the Ethernet destination written in) and empties
 * it; a frame larger than a tx frame is XS_DROP_TX_TOO_BIG. */
void pending_send(struct xs_stack *st, struct pending_pool *pp, struct pending_q *q,
		  const uint8_t mac[6]);
/* Empties q counting each frame as reason; each (if not NULL) first hears
 * every frame (the resolution failed: its sender hears about it). */
void pending_drop(struct xs_stack *st, struct pending_pool *pp, struct pending_q *q,
		  enum xs_drop reason,
		  void (*each)(struct xs_stack *st, const uint8_t *frame, size_t len));

#endif
