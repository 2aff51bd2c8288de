/* TCP memory budgets: what every connection holds against tcp_mem (low,
 * pressure, high, as Linux's net.ipv4.tcp_mem), buffers allocated on first
 * use and freed once empty and idle, and the orphan caps. */
#include <errno.h>
#include <stdlib.h>

#include "core/stack.h"
#include "tcp/tcp.h"

static size_t ring_bytes(const struct tcp_ring *r)
{
	return r->data ? r->size : 0;
}

static void tcp_mem_gauges(struct xs_stack *st)
{
	st->stats.tcp_mem_bytes = st->tcp->mem;
	st->stats.tcp_orphans = st->tcp->norphans;
}

/* Pressure starts above tcp_mem[1] and lasts until below tcp_mem[0]. */
static void tcp_mem_check(struct xs_stack *st)
{
	struct tcp_table *t = st->tcp;

	if (!t->pressure && t->mem > st->cfg.tcp_mem[1]) {
		t->pressure = true;
		st->stats.tcp_mem_pressure++;
	} else if (t->pressure && t->mem < st->cfg.tcp_mem[0]) {
		t->pressure = false;
	}
	tcp_mem_gauges(st);
}

void tcp_mem_sync(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = st->tcp;
	size_t now = sizeof(*c) + ring_bytes(&c->sndbuf) + ring_bytes(&c->rcvbuf) +
		     (c->ooo ? sizeof(*c->ooo) : 0) + (c->ls ? sizeof(*c->ls) : 0) +
		     rack_bytes(&c->rack);

	t->mem = t->mem - c->mem + now;
	if (c->orphan)
		t->orphan_mem = t->orphan_mem - c->mem + now;
	c->mem = now;
	c->rack_mem = rack_bytes(&c->rack);
	tcp_mem_check(st);
}

void tcp_mem_release(struct xs_stack *st, struct tcp_conn *c)
{
	tcp_orphan_end(st, c);
	st->tcp->mem -= c->mem;
	c->mem = 0;
	tcp_mem_check(st);
}

bool tcp_mem_over_high(const struct xs_stack *st)
{
	return st->tcp->mem > st->cfg.tcp_mem[2];
}

uint32_t tcp_mem_buf_cap(const struct xs_stack *st, uint32_t cap)
{
	return st->tcp->pressure && cap > TCP_PRESSURE_BUF ? TCP_PRESSURE_BUF : cap;
}

/* Replaces an empty ring by a smaller one of cap bytes: 0 if it shrank. */
static int ring_shrink(struct tcp_ring_cache *rc, struct tcp_ring *r, uint32_t cap, uint32_t slack)
{
	struct tcp_ring nr;

	if (!r->data || r->len || cap >= r->cap)
		return -1;
	if (tcp_ring_alloc(rc, &nr, cap, slack))
		return -1;
	tcp_ring_free(rc, r);
	*r = nr;
	return 0;
}

/* What an empty receive ring can shrink to: TCP_PRESSURE_BUF, but never
 * below the window already offered (RFC 9293 3.8.6.2.2: the right edge does
 * not move back, and what was offered must fit), so a connection that
 * offered much shrinks only after the peer used the offer. */
static uint32_t rcv_shrink_cap(const struct tcp_conn *c)
{
	uint32_t unit = (uint32_t)1 << c->rcv_wscale;
	uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	offered = (offered + unit - 1) & ~(unit - 1);
	return offered > TCP_PRESSURE_BUF ? offered : TCP_PRESSURE_BUF;
}

/* Under pressure (Linux's tcp_mem[1]) sockets keep little beyond what they
 * hold: an empty send ring drops to TCP_PRESSURE_BUF, an empty receive ring
 * as far as its offered window allows. */
void tcp_mem_tick(struct xs_stack *st)
{
	struct tcp_table *t = st->tcp;
	unsigned i;

	if (!t || !t->pressure)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (struct tcp_conn *c = t->bucket[i]; c; c = c->hnext) {
			bool shrunk = false;

			if (c->done)
				continue;
			/* A ring not allocated holds nothing: it comes back
			 * at the smaller size. */
			if (!c->sndbuf.data && c->sndbuf.cap > TCP_PRESSURE_BUF)
				c->sndbuf.cap = c->sndbuf.size = TCP_PRESSURE_BUF;
			if (!c->rcvbuf.data && c->rcvbuf.cap > rcv_shrink_cap(c)) {
				c->rcvbuf.cap = rcv_shrink_cap(c);
				c->rcvbuf.size = c->rcvbuf.cap + ((uint32_t)1 << c->rcv_wscale) - 1;
			}
			/* A ring lent to the application stays as it is. */
			if (c->snd_una == c->snd_max && !c->snd_lent &&
			    ring_shrink(&t->rings, &c->sndbuf, TCP_PRESSURE_BUF, 0) == 0)
				shrunk = true;
			if (!tcp_ooo_n(c) && !c->rcv_lent &&
			    ring_shrink(&t->rings, &c->rcvbuf, rcv_shrink_cap(c),
					((uint32_t)1 << c->rcv_wscale) - 1) == 0)
				shrunk = true;
			if (shrunk) {
				st->stats.tcp_mem_shrunk++;
				tcp_mem_sync(st, c);
			}
		}
	}
}

void tcp_mem_trim(struct xs_stack *st, struct tcp_conn *c)
{
	bool changed = false;

	if (c->state == XS_TCP_TIME_WAIT && c->sndbuf.cap && !c->sndbuf.len && !c->snd_lent) {
		tcp_ring_drop(&st->tcp->rings, &c->sndbuf);
		changed = true;
	}
	/* Nobody reads any more, and nothing more can come. */
	if (c->handle < 0 && c->rcvbuf.cap && !c->rcvbuf.len && !c->rcv_lent &&
	    (c->fin_rcvd || c->state == XS_TCP_TIME_WAIT)) {
		tcp_ring_drop(&st->tcp->rings, &c->rcvbuf);
		free(c->ooo);
		c->ooo = NULL;
		changed = true;
	}
	if (changed)
		tcp_mem_sync(st, c);
}

/* --- buffers on demand ------------------------------------------------- */

int tcp_rcvbuf_get(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_ring *r = &c->rcvbuf;
	uint32_t slack = ((uint32_t)1 << c->rcv_wscale) - 1;

	if (r->data)
		return 0;
	/* Under pressure it comes back smaller, never below what was
	 * offered: the window is a promise (RFC 9293 3.8.6.2.2). Above the
	 * high limit too: refusing it would break that promise. */
	if (st->tcp->pressure && r->cap > rcv_shrink_cap(c))
		r->cap = rcv_shrink_cap(c);
	if (tcp_ring_alloc(&st->tcp->rings, r, r->cap, slack)) {
		r->size = r->cap + slack;
		xs_drop(st, XS_DROP_TCP_BUF_ALLOC);
		return -ENOMEM;
	}
	st->stats.tcp_buf_alloc++;
	tcp_mem_sync(st, c);
	return 0;
}

int tcp_sndbuf_get(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_ring *r = &c->sndbuf;

	uint32_t cap = tcp_mem_buf_cap(st, r->cap);

	if (r->data)
		return 0;
	/* Above the high limit a connection already admitted still gets a
	 * ring, the smallest (new connections are what the limit refuses):
	 * failing the send would leave it no event to retry on. */
	if (tcp_mem_over_high(st) && cap > TCP_MIN_BUF) {
		cap = TCP_MIN_BUF;
		st->stats.tcp_buf_clamped++;
	}
	if (tcp_ring_alloc(&st->tcp->rings, r, cap, 0)) {
		st->stats.tcp_sndbuf_alloc_fail++;
		return -ENOMEM;
	}
	st->stats.tcp_buf_alloc++;
	tcp_mem_sync(st, c);
	return 0;
}

struct seqset *tcp_ooo_get(struct xs_stack *st, struct tcp_conn *c)
{
	if (c->ooo)
		return c->ooo;
	c->ooo = malloc(sizeof(*c->ooo));
	if (!c->ooo)
		return NULL;
	seqset_init(c->ooo);
	st->stats.tcp_ooo_alloc++;
	tcp_mem_sync(st, c);
	return c->ooo;
}

/* An empty ring the application is not reading or writing in place (a
 * reserved send ring is empty and yet in use: a zero-copy lend pins it
 * until commit or close, which queue the connection again). */
static bool snd_free_ok(const struct tcp_conn *c)
{
	return c->sndbuf.data && !c->sndbuf.len && !c->snd_lent;
}

static bool rcv_free_ok(const struct tcp_conn *c)
{
	return c->rcvbuf.data && !c->rcvbuf.len && !tcp_ooo_n(c) && !c->rcv_lent;
}

/* Something c holds could be freed now: an empty ring, an empty
 * out-of-order set, RACK storage with no record. */
static bool buf_releasable(const struct tcp_conn *c)
{
	const struct tcp_rack *q = &c->rack;

	return snd_free_ok(c) || rcv_free_ok(c) || (c->ooo && !c->ooo->n) ||
	       (!q->n && (q->ch || q->spare || q->tq));
}

static xs_time_t tcp_buf_idle_wait(const struct xs_stack *st)
{
	return st->cfg.tcp_buf_idle_ms == XS_TCP_BUF_IDLE_NOW ? 0 : XS_MS(st->cfg.tcp_buf_idle_ms);
}

/* The list is in idle_at order: only its head can be due. t->idle_due is
 * when it is (kept as the head changes), so a poll with nothing to free
 * costs one comparison (tcp_mem_idle_run, inline), however many wait. */
static void tcp_idle_due_update(struct xs_stack *st)
{
	struct tcp_table *t = st->tcp;

	t->idle_due = t->idle_head ? t->idle_head->idle_at + tcp_buf_idle_wait(st) : XS_TIME_NEVER;
}

void tcp_mem_idle_unlink(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = st->tcp;

	if (!c->idle_queued)
		return;
	if (c->idle_prev) {
		c->idle_prev->idle_next = c->idle_next;
	} else {
		t->idle_head = c->idle_next;
		tcp_idle_due_update(st);
	}
	if (c->idle_next)
		c->idle_next->idle_prev = c->idle_prev;
	else
		t->idle_tail = c->idle_prev;
	c->idle_next = c->idle_prev = NULL;
	c->idle_queued = false;
}

/* The list is in idle_at order: a connection that goes idle again moves
 * to the tail, so the head is always the first due. O(1). */
void tcp_mem_idle(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = st->tcp;

	if (c->done || !buf_releasable(c))
		return;
	tcp_mem_idle_unlink(st, c);
	c->idle_at = st->now;
	c->idle_prev = t->idle_tail;
	if (t->idle_tail)
		t->idle_tail->idle_next = c;
	else
		t->idle_head = c;
	t->idle_tail = c;
	c->idle_queued = true;
	if (t->idle_head == c)
		tcp_idle_due_update(st);
}

/* Frees what c holds that is empty. A receive ring freed keeps its cap and
 * size: the window computed from them stays true, and the next segment
 * allocates the same ring again (tcp_rcvbuf_get). */
static void tcp_buf_release(struct xs_stack *st, struct tcp_conn *c)
{
	bool changed = false;

	if (snd_free_ok(c)) {
		tcp_ring_free(&st->tcp->rings, &c->sndbuf);
		st->stats.tcp_buf_released++;
		changed = true;
	}
	if (rcv_free_ok(c)) {
		tcp_ring_free(&st->tcp->rings, &c->rcvbuf);
		st->stats.tcp_buf_released++;
		changed = true;
	}
	if (c->ooo && !c->ooo->n) {
		free(c->ooo);
		c->ooo = NULL;
		changed = true;
	}
	if (rack_release(&c->rack)) {
		st->stats.tcp_rack_released++;
		changed = true;
	}
	if (changed)
		tcp_mem_sync(st, c);
}

void tcp_mem_idle_release(struct xs_stack *st)
{
	struct tcp_table *t = st->tcp;
	xs_time_t wait = tcp_buf_idle_wait(st);
	struct tcp_conn *c;

	while ((c = t->idle_head) && c->idle_at + wait <= st->now) {
		tcp_mem_idle_unlink(st, c);
		if (!c->done)
			tcp_buf_release(st, c);
	}
}


/* As Linux's tcp_close() with tcp_check_oom(): a connection that would be
 * one orphan too many, or whose data would pass the orphans' budget, is
 * reset at once instead of closing gracefully. */
int tcp_orphan_adopt(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = st->tcp;

	tcp_mem_trim(st, c);
	if (t->norphans >= st->cfg.tcp_max_orphans) {
		st->stats.tcp_orphan_overflow++;
		return -ENOBUFS;
	}
	if (t->orphan_mem + c->mem > st->cfg.tcp_orphan_mem) {
		st->stats.tcp_orphan_mem_overflow++;
		return -ENOBUFS;
	}
	if (tcp_mem_over_high(st)) {
		st->stats.tcp_mem_aborts++;
		return -ENOBUFS;
	}
	c->orphan = true;
	c->retries = 0; /* its own allowance starts now */
	t->norphans++;
	t->orphan_mem += c->mem;
	tcp_mem_gauges(st);
	return 0;
}

void tcp_orphan_end(struct xs_stack *st, struct tcp_conn *c)
{
	if (!c->orphan)
		return;
	c->orphan = false;
	st->tcp->norphans--;
	st->tcp->orphan_mem -= c->mem;
	tcp_mem_gauges(st);
}

/* Linux's tcp_out_of_resources() and tcp_orphan_retries: an orphan whose
 * peer makes no progress gets tcp_orphan_retries timer rounds in all
 * (retransmissions or zero-window probes, answered or not). */
bool tcp_orphan_give_up(struct xs_stack *st, struct tcp_conn *c)
{
	if (!c->orphan)
		return false;
	if (c->retries >= st->cfg.tcp_orphan_retries) {
		st->stats.tcp_orphan_timeouts++;
		return true;
	}
	if (tcp_mem_over_high(st)) {
		st->stats.tcp_mem_aborts++;
		return true;
	}
	return false;
}
