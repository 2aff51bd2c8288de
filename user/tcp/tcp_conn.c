/* TCP connection table, lifecycle, ISNs (RFC 6528), the handle table and event
 * raising. Connections outlive their handles until the protocol is done. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "core/stack.h"
#include "net/ip4.h"
#include "net/route.h"
#include "tcp/tcp.h"

static const char *const state_names[] = {
	"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
};

const char *xs_tcp_state_name(enum xs_tcp_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

/* --- table ---------------------------------------------------------------- */

static struct tcp_table *T(const struct xs_stack *st)
{
	return st->tcp;
}

/* The message a 4-tuple is hashed as: the IPv4 addresses alone when both
 * are (12 bytes: two SipHash blocks instead of five), else all 36 bytes.
 * Returns its length. */
static size_t tcp_tuple_msg(uint8_t m[36], const struct ip6_addr *laddr, uint16_t lport,
			    const struct ip6_addr *raddr, uint16_t rport)
{
	size_t a = 16;

	if (tcp_addr_is4(laddr) && tcp_addr_is4(raddr))
		a = 4;
	memcpy(m, laddr->b + 16 - a, a);
	memcpy(m + a, raddr->b + 16 - a, a);
	memcpy(m + 2 * a, &lport, 2);
	memcpy(m + 2 * a + 2, &rport, 2);
	return 2 * a + 4;
}

/* The bucket of a 4-tuple: SipHash-1-3 of all of it under a per-stack key,
 * so no choice of addresses and ports lands in one bucket more often than
 * chance would (a linear mix with the key XORed in does not: tuples equal
 * before the XOR collide whatever the key). */
static unsigned tcp_hash(const struct xs_stack *st, const struct ip6_addr *laddr, uint16_t lport,
			 const struct ip6_addr *raddr, uint16_t rport)
{
	uint8_t m[36];
	size_t n = tcp_tuple_msg(m, laddr, lport, raddr, rport);

	return (unsigned)siphash13(st->keys.tcp, m, n) & (st->tcp->nbuckets - 1);
}

/* Buckets for n connections: the power of two at or above n (at least
 * TCP_HASH_MIN), so chains average at most one. */
static uint32_t tcp_hash_size_for(uint32_t n)
{
	uint32_t b = TCP_HASH_MIN;

	while (b < n && b < (1u << 30))
		b <<= 1;
	return b;
}

static int tcp_hash_alloc(struct tcp_table *t, uint32_t n)
{
	t->bucket = calloc(n, sizeof(*t->bucket));
	t->chain_len = calloc(n, sizeof(*t->chain_len));
	if (!t->bucket || !t->chain_len) {
		free(t->bucket);
		free(t->chain_len);
		return -ENOMEM;
	}
	t->nbuckets = n;
	return 0;
}

/* Doubles the buckets once the table holds more connections than buckets
 * (up to what tcp_max_conns needs): O(n) now and then, O(1) amortised.
 * Without memory it keeps the old table (longer chains, still correct). */
static void tcp_hash_grow(struct xs_stack *st)
{
	struct tcp_table *t = st->tcp, old = *t;
	uint32_t i;

	if (t->hashed <= t->nbuckets || t->nbuckets >= tcp_hash_size_for(st->cfg.tcp_max_conns))
		return;
	if (tcp_hash_alloc(t, old.nbuckets * 2)) {
		t->bucket = old.bucket;
		t->chain_len = old.chain_len;
		return;
	}
	for (i = 0; i < old.nbuckets; i++) {
		while (old.bucket[i]) {
			struct tcp_conn *c = old.bucket[i];
			unsigned h = tcp_hash(st, &c->laddr, c->lport, &c->raddr, c->rport);

			old.bucket[i] = c->hnext;
			c->hnext = t->bucket[h];
			t->bucket[h] = c;
			if (++t->chain_len[h] > st->stats.tcp_hash_chain_max)
				st->stats.tcp_hash_chain_max = t->chain_len[h];
		}
	}
	free(old.bucket);
	free(old.chain_len);
}

struct tcp_conn *tcp_lookup(struct xs_stack *st, const struct ip6_addr *laddr, uint16_t lport,
			    const struct ip6_addr *raddr, uint16_t rport)
{
	struct tcp_table *t = T(st);
	struct tcp_conn *c = t->last_found;

	/* The connection of the previous segment, most often this one's too
	 * (a batch of a bulk flow): a few compares instead of a SipHash. */
	if (c && c->lport == lport && c->rport == rport && ip6_eq(&c->raddr, raddr) &&
	    ip6_eq(&c->laddr, laddr))
		return c;
	for (c = t->bucket[tcp_hash(st, laddr, lport, raddr, rport)]; c; c = c->hnext) {
		if (c->lport == lport && c->rport == rport && ip6_eq(&c->raddr, raddr) &&
		    ip6_eq(&c->laddr, laddr)) {
			t->last_found = c;
			return c;
		}
	}
	return NULL;
}

struct tcp_conn *tcp_listener(struct xs_stack *st, uint16_t port)
{
	struct tcp_conn *c = T(st)->listeners[port / 64];

	for (; c; c = c->hnext)
		if (c->lport == port)
			return c;
	return NULL;
}

void tcp_conn_hash(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = T(st);
	struct tcp_conn **b;
	unsigned h;

	if (c->state == XS_TCP_LISTEN) {
		b = &t->listeners[c->lport / 64]; /* filled by our listens only */
	} else {
		t->hashed++;
		tcp_hash_grow(st);
		h = tcp_hash(st, &c->laddr, c->lport, &c->raddr, c->rport);
		b = &t->bucket[h];
		if (++t->chain_len[h] > st->stats.tcp_hash_chain_max)
			st->stats.tcp_hash_chain_max = t->chain_len[h];
	}
	c->hnext = *b;
	*b = c;
}

void tcp_conn_unhash(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = T(st);
	struct tcp_conn **pp;
	unsigned h = 0;

	if (t->last_found == c)
		t->last_found = NULL;
	if (c->state == XS_TCP_LISTEN) {
		pp = &t->listeners[c->lport / 64];
	} else {
		h = tcp_hash(st, &c->laddr, c->lport, &c->raddr, c->rport);
		pp = &t->bucket[h];
	}
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			c->hnext = NULL;
			if (c->state != XS_TCP_LISTEN) {
				t->chain_len[h]--;
				t->hashed--;
			}
			return;
		}
	}
}

static void tcp_unready(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_conn **pp;

	if (!c->ev_pending)
		return;
	for (pp = &T(st)->ready; *pp; pp = &(*pp)->ready_next) {
		if (*pp == c) {
			*pp = c->ready_next;
			c->ev_pending = 0;
			return;
		}
	}
	for (pp = &T(st)->delivering; *pp; pp = &(*pp)->ready_next) {
		if (*pp == c) {
			*pp = c->ready_next;
			break;
		}
	}
	c->ev_pending = 0;
}

/* Handle h is free again (reused last in, first out). */
static void tcp_handle_put(struct xs_stack *st, int h)
{
	struct tcp_table *t = T(st);

	t->handle[h] = NULL;
	t->hfree[t->nfree++] = (uint32_t)h;
}

static void tcp_conn_free(struct xs_stack *st, struct tcp_conn *c)
{
	if (c->handle >= 0)
		tcp_handle_put(st, c->handle);
	tcp_timers_cancel(st, c);
	tcp_unready(st, c);
	tcp_mem_idle_unlink(st, c);
	tcp_ack_unqueue(st, c);
	if (T(st)->last_found == c)
		T(st)->last_found = NULL;
	tcp_ring_free(&st->tcp->rings, &c->sndbuf);
	tcp_ring_free(&st->tcp->rings, &c->rcvbuf);
	free(c->ooo);
	c->ooo = NULL;
	free(c->ls);
	c->ls = NULL;
	rack_free(&c->rack);
	tcp_mem_release(st, c);
	T(st)->nconns--;
	st->stats.tcp_conns = T(st)->nconns;
	slab_free(&T(st)->tcbs, c);
}

uint32_t tcp_isn(struct xs_stack *st, const struct ip6_addr *laddr, uint16_t lport,
		 const struct ip6_addr *raddr, uint16_t rport)
{
	uint8_t m[36];
	size_t n = tcp_tuple_msg(m, laddr, lport, raddr, rport);

	/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 microsecond clock. */
	return (uint32_t)(st->now / 4000) + (uint32_t)siphash24(st->keys.isn, m, n);
}

uint8_t tcp_wscale_for(uint32_t cap)
{
	uint8_t s = 0;

	while (s < 14 && (cap >> s) > 65535)
		s++;
	return s;
}

bool tcp_conns_full(struct xs_stack *st)
{
	if (T(st)->nconns < st->cfg.tcp_max_conns)
		return false;
	xs_drop(st, XS_DROP_TCP_MAX_CONNS);
	return true;
}

struct tcp_conn *tcp_conn_new(struct xs_stack *st, const struct ip6_addr *laddr,
			      const struct ip6_addr *raddr, uint16_t lport, uint16_t rport,
			      const struct tcp_conn *parent)
{
	/* From the TCBs' own slabs (core/slab.h: packed, and apart from the
	 * buffers allocated and freed around them). */
	struct tcp_conn *c = slab_zalloc(&T(st)->tcbs);
	/* Under memory pressure a new connection gets small rings. */
	uint32_t sndcap = tcp_mem_buf_cap(st, parent ? parent->sndbuf.cap : TCP_DEFAULT_BUF);
	uint32_t rcvcap = tcp_mem_buf_cap(st, parent ? parent->rcvbuf.cap : TCP_DEFAULT_BUF);

	if (!c)
		return NULL;
	/* Buffers are sized now, and allocated when the first byte goes into
	 * them (tcp_mem.c), so half-open and idle connections cost only their
	 * TCB. */
	c->sndbuf.cap = sndcap;
	c->rcvbuf.cap = rcvcap;
	c->handle = -1;
	c->laddr = *laddr;
	c->raddr = *raddr;
	c->lport = lport;
	c->rport = rport;
	c->rcv_wscale = tcp_wscale_for(rcvcap);
	c->rcv_mss = (uint16_t)(tcp_mtu_room(st, raddr) - TCP_HDR_LEN);
	c->mss = TCP_DEFAULT_MSS;
	c->ts_offset = (uint32_t)xs_random(st);
	rack_init(&c->rack);
	c->rack.work = &st->stats.tcp_rack_work;
	rtt_init(&c->rtt, parent ? parent->rtt.rto_min : (xs_time_t)st->cfg.tcp_rto_min_us * 1000);
	c->cc_ops = parent ? parent->cc_ops : &tcp_cc_cubic;
	c->nodelay = parent ? parent->nodelay : false;
	c->tos = parent ? parent->tos : 0;
	c->keepalive = parent ? parent->keepalive : false;
	c->keep_idle_s = parent ? parent->keep_idle_s : 7200;
	c->keep_intvl_s = parent ? parent->keep_intvl_s : 75;
	c->keep_cnt = parent ? parent->keep_cnt : 9;
	c->user_timeout = parent ? parent->user_timeout : TCP_DEFAULT_USER_TIMEOUT;
	tcp_timers_init(c);
	T(st)->nconns++;
	st->stats.tcp_conns = T(st)->nconns;
	tcp_mem_sync(st, c);
	return c;
}

void tcp_wake(struct xs_stack *st, struct tcp_conn *c, unsigned events)
{
	if (c->handle < 0 || !c->cb)
		return;
	if (!c->ev_pending) {
		c->ready_next = T(st)->ready;
		T(st)->ready = c;
	}
	c->ev_pending |= (uint8_t)events;
	xs_stack_kick(st);
}

/* Removes an embryonic or unaccepted connection from its listener. */
static void tcp_listener_detach(struct tcp_conn *c)
{
	struct tcp_conn *l = c->listener, **pp;

	if (!l)
		return;
	if (c->state == XS_TCP_SYN_RECEIVED) {
		l->ls->nsyn--;
	} else {
		for (pp = &l->ls->accept_head; *pp; pp = &(*pp)->lnext) {
			if (*pp == c) {
				*pp = c->lnext;
				l->ls->naccept--;
				break;
			}
		}
		l->ls->accept_tail = NULL;
		for (pp = &l->ls->accept_head; *pp; pp = &(*pp)->lnext)
			l->ls->accept_tail = *pp;
	}
	c->listener = NULL;
}

void tcp_conn_done(struct xs_stack *st, struct tcp_conn *c, int err)
{
	if (c->done)
		return; /* already closed in this poll */
	c->done = true;
	tcp_orphan_end(st, c);
	tcp_listener_detach(c);
	tcp_conn_unhash(st, c);
	tcp_timers_cancel(st, c);
	c->state = XS_TCP_CLOSED;
	if (err && !c->error)
		c->error = err;
	if (c->handle < 0) {
		tcp_unready(st, c);
		c->hnext = T(st)->dead;
		T(st)->dead = c;
		return;
	}
	tcp_wake(st, c, XS_EV_HUP | (err ? XS_EV_ERROR : 0) | XS_EV_READABLE);
}

void tcp_listener_established(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_conn *l = c->listener;

	l->ls->nsyn--;
	c->lnext = NULL;
	if (l->ls->accept_tail)
		l->ls->accept_tail->lnext = c;
	else
		l->ls->accept_head = c;
	l->ls->accept_tail = c;
	l->ls->naccept++;
	tcp_wake(st, l, XS_EV_READABLE);
}

int tcp_init(struct xs_stack *st)
{
	struct tcp_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (tcp_hash_alloc(t, TCP_HASH_MIN)) {
		free(t);
		return -ENOMEM;
	}
	slab_cache_init(&t->tcbs, sizeof(struct tcp_conn), _Alignof(struct tcp_conn));
	timer_wheel_init(&t->wheel, st->now);
	t->idle_due = XS_TIME_NEVER;
	st->tcp = t;
	return 0;
}

void tcp_fini(struct xs_stack *st)
{
	struct tcp_table *t = st->tcp;
	unsigned i;

	if (!t)
		return;
	tcp_reap(st);
	/* Connections held only by handles (closed, unhashed) first; freeing
	 * clears the handle slot, so nothing is visited twice. */
	for (i = 0; i < t->hnext_unused; i++)
		if (t->handle[i] && t->handle[i]->state == XS_TCP_CLOSED)
			tcp_conn_free(st, t->handle[i]);
	for (i = 0; i < t->nbuckets; i++) {
		while (t->bucket[i]) {
			struct tcp_conn *c = t->bucket[i];

			t->bucket[i] = c->hnext;
			tcp_conn_free(st, c);
		}
	}
	for (i = 0; i < 65536 / 64; i++) {
		while (t->listeners[i]) {
			struct tcp_conn *c = t->listeners[i];

			t->listeners[i] = c->hnext;
			/* Accepted-but-unclaimed connections are in the hash
			 * table and were freed above. */
			tcp_conn_free(st, c);
		}
	}
	free(t->bucket);
	free(t->chain_len);
	free(t->handle);
	free(t->hfree);
	slab_cache_fini(&t->tcbs);
	tcp_ring_cache_fini(&t->rings);
	free(t);
	st->tcp = NULL;
}

bool tcp_events_pending(const struct xs_stack *st)
{
	return T(st)->ready != NULL;
}

void tcp_reap(struct xs_stack *st)
{
	struct tcp_table *t = T(st);

	while (t->dead) {
		struct tcp_conn *c = t->dead;

		t->dead = c->hnext;
		tcp_conn_free(st, c);
	}
	tcp_mem_idle_run(st, st->tcp, st->now);
}

void tcp_deliver_begin(struct xs_stack *st)
{
	struct tcp_table *t = T(st);

	/* Take the whole list: events raised by callbacks go out next poll.
	 * The rest of the taken list stays reachable (t->delivering) so that
	 * freeing a connection from a callback unlinks it there too. */
	t->delivering = t->ready;
	t->ready = NULL;
}

struct tcp_conn *tcp_deliver_next(struct xs_stack *st, unsigned *events)
{
	struct tcp_table *t = T(st);

	while (t->delivering) {
		struct tcp_conn *c = t->delivering;
		unsigned ev = c->ev_pending;

		t->delivering = c->ready_next;
		c->ev_pending = 0;
		if (c->handle >= 0 && c->cb) {
			*events = ev;
			return c;
		}
	}
	return NULL;
}

/* --- handles -------------------------------------------------------------- */

/* A free handle, O(1): one given back, else the next never used; the
 * table doubles when full (a handle holds a connection, so there are never
 * more than tcp_max_conns). */
int tcp_handle_alloc(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = T(st);
	uint32_t h;

	if (t->nfree) {
		h = t->hfree[--t->nfree];
	} else {
		if (t->hnext_unused == t->nhandles) {
			uint32_t n = t->nhandles ? t->nhandles * 2 : 64;
			struct tcp_conn **nh;
			uint32_t *nf;

			if (n > st->cfg.tcp_max_conns)
				n = st->cfg.tcp_max_conns;
			if (n <= t->nhandles)
				return -EMFILE;
			nh = realloc(t->handle, n * sizeof(*nh));
			if (!nh)
				return -ENOMEM;
			t->handle = nh;
			nf = realloc(t->hfree, n * sizeof(*nf));
			if (!nf)
				return -ENOMEM;
			t->hfree = nf;
			t->nhandles = n;
		}
		h = t->hnext_unused++;
	}
	t->handle[h] = c;
	c->handle = (int)h;
	/* Which opening of the number: a stale handle does not match. */
	if (!++t->hgen)
		t->hgen = 1;
	c->hgen = t->hgen;
	return (int)h;
}

int tcp_conn_new_held(struct xs_stack *st, const struct ip6_addr *laddr,
		      const struct ip6_addr *raddr, uint16_t lport, uint16_t rport,
		      struct tcp_conn **out)
{
	struct tcp_conn *c;
	int h;

	if (tcp_conns_full(st))
		return -EMFILE;
	c = tcp_conn_new(st, laddr, raddr, lport, rport, NULL);
	if (!c)
		return -ENOMEM;
	h = tcp_handle_alloc(st, c);
	if (h < 0) {
		tcp_conn_free(st, c);
		return h;
	}
	*out = c;
	return h;
}

struct tcp_conn *tcp_get(const struct xs_stack *st, int h)
{
	if (h < 0 || (uint32_t)h >= T(st)->hnext_unused)
		return NULL;
	return T(st)->handle[h];
}

void tcp_handle_release(struct xs_stack *st, struct tcp_conn *c)
{
	tcp_handle_put(st, c->handle);
	c->handle = -1;
	c->cb = NULL;
	tcp_unready(st, c);
	if (c->state == XS_TCP_CLOSED)
		tcp_conn_free(st, c);
}
