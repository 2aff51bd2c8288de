/* The pending-frame pool that ARP and neighbor discovery share: slots on a
 * free list, each entry's frames linked in order, copies out at resolution. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "net/iface.h"
#include "net/pending.h"
#include "wire/eth.h"

int pending_init(struct pending_pool *pp, unsigned nslots)
{
	unsigned i;

	memset(pp, 0, sizeof(*pp));
	if (!nslots || nslots > INT16_MAX)
		return -EINVAL;
	pp->slot = calloc(nslots, sizeof(*pp->slot));
	pp->mem = malloc((size_t)nslots * PENDING_BUF);
	if (!pp->slot || !pp->mem) {
		pending_fini(pp);
		return -ENOMEM;
	}
	pp->nslots = (uint16_t)nslots;
	for (i = 0; i < nslots; i++) {
		pp->slot[i].next = (int16_t)(i + 1 < nslots ? (int)i + 1 : -1);
		pp->slot[i].buf = pp->mem + (size_t)i * PENDING_BUF;
	}
	pp->free = 0;
	return 0;
}

void pending_fini(struct pending_pool *pp)
{
	free(pp->slot);
	free(pp->mem);
	pp->slot = NULL;
	pp->mem = NULL;
	pp->free = -1;
}

int pending_add(struct pending_pool *pp, struct pending_q *q, const uint8_t *frame, size_t len)
{
	int16_t *link;
	int s;

	if (len > PENDING_BUF || q->n >= PENDING_PER_ENTRY || pp->free < 0)
		return -ENOBUFS;
	s = pp->free;
	pp->free = pp->slot[s].next;
	memcpy(pp->slot[s].buf, frame, len);
	pp->slot[s].len = (uint16_t)len;
	pp->slot[s].next = -1;
	link = &q->head;
	while (*link >= 0)
		link = &pp->slot[*link].next;
	*link = (int16_t)s;
	q->n++;
	return 0;
}

/* Takes q's first slot back to the free list; returns it. */
static struct pending_slot *pending_pop(struct pending_pool *pp, struct pending_q *q)
{
	int s = q->head;
	struct pending_slot *p = &pp->slot[s];

	q->head = p->next;
	p->next = pp->free;
	pp->free = (int16_t)s;
	return p;
}

void pending_send(struct xs_stack *st, struct pending_pool *pp, struct pending_q *q,
		  const uint8_t mac[6])
{
	struct xs_frame f;

	while (q->head >= 0) {
		struct pending_slot *p = pending_pop(pp, q);

		if (iface_tx_alloc(st, &f) != 0)
			continue;
		if (p->len > f.cap) {
			xs_dev_tx_abort(st->dev, &f);
			xs_drop(st, XS_DROP_TX_TOO_BIG);
			continue;
		}
		memcpy(f.data, p->buf, p->len);
		memcpy(f.data, mac, ETH_ADDR_LEN);
		iface_tx_submit(st, &f, p->len);
	}
	q->n = 0;
}

void pending_drop(struct xs_stack *st, struct pending_pool *pp, struct pending_q *q,
		  enum xs_drop reason,
		  void (*each)(struct xs_stack *st, const uint8_t *frame, size_t len))
{
	while (q->head >= 0) {
		const struct pending_slot *p = &pp->slot[q->head];

		/* Before the slot is free: each may queue a frame of its own. */
		if (each)
			each(st, p->buf, p->len);
		pending_pop(pp, q);
		xs_drop(st, reason);
	}
	q->n = 0;
}
