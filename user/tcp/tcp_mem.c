/* TCP memory budgets: what every connection holds against tcp_mem (low,
 * pressure, high, as Linux's net.ipv4.tcp_mem), and the orphan caps. */
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
	size_t now = sizeof(*c) + ring_bytes(&c->sndbuf) + ring_bytes(&c->rcvbuf);

	t->mem = t->mem - c->mem + now;
	if (c->orphan)
		t->orphan_mem = t->orphan_mem - c->mem + now;
	c->mem = now;
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
static int ring_shrink(struct tcp_ring *r, uint32_t cap, uint32_t slack)
{
	struct tcp_ring nr;

	if (!r->data || r->len || cap >= r->cap)
		return -1;
	if (tcp_ring_alloc(&nr, cap, slack))
		return -1;
	tcp_ring_free(r);
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
	for (i = 0; i < TCP_HASH_BUCKETS; i++) {
		for (struct tcp_conn *c = t->bucket[i]; c; c = c->hnext) {
			bool shrunk = false;

			if (c->done)
				continue;
			if (c->snd_una == c->snd_max &&
			    ring_shrink(&c->sndbuf, TCP_PRESSURE_BUF, 0) == 0)
				shrunk = true;
			if (!c->ooo.n && ring_shrink(&c->rcvbuf, rcv_shrink_cap(c),
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

	if (c->state == XS_TCP_TIME_WAIT && c->sndbuf.data && !c->sndbuf.len) {
		tcp_ring_drop(&c->sndbuf);
		changed = true;
	}
	/* Nobody reads any more, and nothing more can come. */
	if (c->handle < 0 && c->rcvbuf.data && !c->rcvbuf.len &&
	    (c->fin_rcvd || c->state == XS_TCP_TIME_WAIT)) {
		tcp_ring_drop(&c->rcvbuf);
		seqset_init(&c->ooo);
		changed = true;
	}
	if (changed)
		tcp_mem_sync(st, c);
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
