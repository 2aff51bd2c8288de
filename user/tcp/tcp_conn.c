/* TCP connection table, lifecycle, ISNs (RFC 6528) and libxdpstack's TCP
 * handle API. Connections outlive their handles until the protocol is done. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "core/stack.h"
#include "net/ip4.h"
#include "net/route.h"
#include "tcp/tcp.h"

#define TCP_EPHEMERAL_LO 32768
#define TCP_EPHEMERAL_HI 60999

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

/* The bucket of a 4-tuple: SipHash-1-3 of all of it under a per-stack key,
 * so no choice of addresses and ports lands in one bucket more often than
 * chance would (a linear mix with the key XORed in does not: tuples equal
 * before the XOR collide whatever the key). */
static unsigned tcp_hash(const struct xs_stack *st, const struct ip6_addr *laddr, uint16_t lport,
			 const struct ip6_addr *raddr, uint16_t rport)
{
	uint8_t m[36];

	memcpy(m, laddr->b, 16);
	memcpy(m + 16, raddr->b, 16);
	memcpy(m + 32, &lport, 2);
	memcpy(m + 34, &rport, 2);
	return (unsigned)siphash13(st->keys.tcp, m, sizeof(m)) & (st->tcp->nbuckets - 1);
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
	struct tcp_conn *c = T(st)->bucket[tcp_hash(st, laddr, lport, raddr, rport)];

	for (; c; c = c->hnext)
		if (c->lport == lport && c->rport == rport && ip6_eq(&c->raddr, raddr) &&
		    ip6_eq(&c->laddr, laddr))
			return c;
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

static void tcp_conn_unhash(struct xs_stack *st, struct tcp_conn *c)
{
	struct tcp_table *t = T(st);
	struct tcp_conn **pp;
	unsigned h = 0;

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
	tcp_ring_free(&c->sndbuf);
	tcp_ring_free(&c->rcvbuf);
	free(c->ooo);
	c->ooo = NULL;
	free(c->ls);
	c->ls = NULL;
	rack_free(&c->rack);
	tcp_mem_release(st, c);
	T(st)->nconns--;
	st->stats.tcp_conns = T(st)->nconns;
	free(c);
}

uint32_t tcp_isn(struct xs_stack *st, const struct ip6_addr *laddr, uint16_t lport,
		 const struct ip6_addr *raddr, uint16_t rport)
{
	uint8_t m[36];

	memcpy(m, laddr->b, 16);
	memcpy(m + 16, raddr->b, 16);
	memcpy(m + 32, &lport, 2);
	memcpy(m + 34, &rport, 2);
	/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 microsecond clock. */
	return (uint32_t)(st->now / 4000) + (uint32_t)siphash24(st->keys.isn, m, sizeof(m));
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
	struct tcp_conn *c = calloc(1, sizeof(*c));
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
	timer_wheel_init(&t->wheel, st->now);
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
	tcp_mem_idle_run(st);
}

void tcp_deliver_events(struct xs_stack *st)
{
	struct tcp_table *t = T(st);

	/* Take the whole list: events raised by callbacks go out next poll.
	 * The rest of the taken list stays reachable (t->delivering) so that
	 * freeing a connection from a callback unlinks it there too. */
	t->delivering = t->ready;
	t->ready = NULL;
	while (t->delivering) {
		struct tcp_conn *c = t->delivering;
		unsigned ev = c->ev_pending;

		t->delivering = c->ready_next;
		c->ev_pending = 0;
		if (c->handle >= 0 && c->cb)
			c->cb(st, c->handle, ev, c->ctx);
	}
}

/* --- handles -------------------------------------------------------------- */

/* A free handle, O(1): one given back, else the next never used; the
 * table doubles when full (a handle holds a connection, so there are never
 * more than tcp_max_conns). */
static int tcp_handle_alloc(struct xs_stack *st, struct tcp_conn *c)
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
	return (int)h;
}

/* A new connection the application holds: its handle, or -errno. */
static int tcp_conn_new_held(struct xs_stack *st, const struct ip6_addr *laddr,
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

/* The connection behind an application's handle, or NULL. */
struct tcp_conn *tcp_get(const struct xs_stack *st, int h)
{
	if (h < 0 || (uint32_t)h >= T(st)->hnext_unused)
		return NULL;
	return T(st)->handle[h];
}

static void tcp_handle_release(struct xs_stack *st, struct tcp_conn *c)
{
	tcp_handle_put(st, c->handle);
	c->handle = -1;
	c->cb = NULL;
	tcp_unready(st, c);
	if (c->state == XS_TCP_CLOSED)
		tcp_conn_free(st, c);
}

int xs_tcp_listen(struct xs_stack *st, uint16_t port, int backlog)
{
	struct tcp_conn *c;
	int h;

	if (!port)
		return -EINVAL;
	if (tcp_listener(st, port))
		return -EADDRINUSE;
	{
		/* Both families, any of our addresses: a listener is found by its
		 * port alone; it shows the IPv4 address, as before IPv6. */
		static const struct ip6_addr any;
		struct ip6_addr l4;

		tcp_addr_from4(&l4, st->ip);
		h = tcp_conn_new_held(st, &l4, &any, port, 0, &c);
	}
	if (h < 0)
		return h;
	c->ls = calloc(1, sizeof(*c->ls));
	if (!c->ls) {
		tcp_handle_release(st, c); /* CLOSED: freed */
		return -ENOMEM;
	}
	c->state = XS_TCP_LISTEN;
	c->ls->backlog = backlog > 0 ? backlog : 128;
	tcp_mem_sync(st, c);
	tcp_conn_hash(st, c);
	return h;
}

int xs_tcp_accept(struct xs_stack *st, int lh, uint32_t *ip, uint16_t *port)
{
	struct tcp_conn *l = tcp_get(st, lh), *c;
	int h;

	if (!l)
		return -EBADF;
	if (l->state != XS_TCP_LISTEN)
		return -EINVAL;
	c = l->ls->accept_head;
	if (!c)
		return -EAGAIN;
	h = tcp_handle_alloc(st, c);
	if (h < 0)
		return h;
	l->ls->accept_head = c->lnext;
	if (!l->ls->accept_head)
		l->ls->accept_tail = NULL;
	l->ls->naccept--;
	c->lnext = NULL;
	c->listener = NULL;
	if (ip) /* an IPv6 peer: xs_tcp_accept_addr */
		*ip = tcp_addr_is4(&c->raddr) ? tcp_addr4(&c->raddr) : 0;
	if (port)
		*port = c->rport;
	return h;
}

int xs_tcp_connect(struct xs_stack *st, uint32_t ip, uint16_t port)
{
	return tcp_connect(st, ip, port, NULL);
}

/* A buffer size from connect options (checked): 0 keeps the default. */
static void tcp_connect_buf(struct tcp_ring *r, int v)
{
	if (v)
		r->cap = (uint32_t)v;
}

int tcp_connect(struct xs_stack *st, uint32_t ip, uint16_t port,
		const struct xs_tcp_connect_opts *o)
{
	struct ip6_addr l, r;
	uint32_t nh;

	/* RFC 9293 3.9.1.1 (MUST-46): a broadcast or multicast remote address
	 * (or any other that is never a unicast host: 0/8, 127/8, class E) is
	 * an error, as is our own. */
	if (!port || ip == st->ip || ip4_is_martian_src(ip) || ip4_is_broadcast(st, ip))
		return -EINVAL;
	if (tcp_mem_over_high(st)) {
		xs_drop(st, XS_DROP_TCP_MEM);
		return -ENOBUFS;
	}
	if (xs_route_lookup(st, ip, &nh) != 0)
		return -ENETUNREACH;
	tcp_addr_from4(&l, st->ip);
	tcp_addr_from4(&r, ip);
	return tcp_connect_common(st, &l, &r, port, o);
}

int tcp_connect_common(struct xs_stack *st, const struct ip6_addr *laddr,
		       const struct ip6_addr *raddr, uint16_t port,
		       const struct xs_tcp_connect_opts *o)
{
	unsigned span = TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1;
	unsigned start = (unsigned)(xs_random(st) % span), i;
	struct tcp_conn *c;
	uint16_t lport = 0;
	int h;

	if (o && ((o->sndbuf && (o->sndbuf < TCP_MIN_BUF || o->sndbuf > TCP_MAX_BUF)) ||
		  (o->rcvbuf && (o->rcvbuf < TCP_MIN_BUF || o->rcvbuf > TCP_MAX_BUF))))
		return -EINVAL;
	if (o && o->lport) {
		/* A port chosen by the application: free for this 4-tuple and
		 * not a listener's (no SO_REUSEADDR). */
		if (tcp_lookup(st, laddr, o->lport, raddr, port) || tcp_listener(st, o->lport))
			return -EADDRINUSE;
		span = 0;
		lport = o->lport;
	}
	for (i = 0; i < span; i++) {
		uint16_t p = (uint16_t)(TCP_EPHEMERAL_LO + (start + i) % span);

		if (!tcp_lookup(st, laddr, p, raddr, port) && !tcp_listener(st, p)) {
			lport = p;
			break;
		}
	}
	if (!lport)
		return -EADDRNOTAVAIL;
	h = tcp_conn_new_held(st, laddr, raddr, lport, port, &c);
	if (h < 0)
		return h;
	if (o) {
		/* Sized before the SYN: it announces the window scale. */
		tcp_connect_buf(&c->sndbuf, o->sndbuf);
		tcp_connect_buf(&c->rcvbuf, o->rcvbuf);
		c->rcv_wscale = tcp_wscale_for(c->rcvbuf.cap);
		c->nodelay = o->nodelay != 0;
		tcp_mem_sync(st, c);
	}
	/* RFC 9293 3.10.1: SYN-SENT with ISS chosen, SYN on its way. */
	c->iss = tcp_isn(st, &c->laddr, c->lport, &c->raddr, c->rport);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->state = XS_TCP_SYN_SENT;
	tcp_conn_hash(st, c);
	tcp_send_ctl(st, c, TCP_SYN, c->iss);
	st->stats.tcp_active_opens++;
	tcp_arm_rto(st, c);
	return h;
}

static ssize_t tcp_send(struct xs_stack *st, int h, const void *buf, size_t len, bool urgent)
{
	struct tcp_conn *c = tcp_get(st, h);
	uint32_t room, n;

	if (!c)
		return -EBADF;
	if (c->error)
		return c->error;
	switch (c->state) {
	case XS_TCP_ESTABLISHED:
	case XS_TCP_CLOSE_WAIT:
		break;
	case XS_TCP_SYN_SENT:
	case XS_TCP_SYN_RECEIVED:
		return -EAGAIN;
	case XS_TCP_LISTEN:
	case XS_TCP_CLOSED:
		return -ENOTCONN;
	default:
		return -EPIPE;
	}
	if (c->fin_queued)
		return -EPIPE;
	room = c->sndbuf.cap - c->sndbuf.len;
	if (!room) {
		c->snd_nospace = true;
		return -EAGAIN;
	}
	n = len < room ? (uint32_t)len : room;
	if (n) {
		int err = tcp_sndbuf_get(st, c);

		if (err)
			return err;
		/* Under pressure it came back smaller. */
		room = c->sndbuf.cap - c->sndbuf.len;
		n = len < room ? (uint32_t)len : room;
	}
	if (n == room)
		c->snd_nospace = true;
	tcp_ring_write(&c->sndbuf, c->sndbuf.len, buf, n);
	c->sndbuf.len += n;
	/* RFC 9293 3.10.2: SND.UP <- the end of what is queued. */
	if (urgent && n) {
		c->snd_up = c->snd_una + c->sndbuf.len;
		c->urg_send = true;
	}
	tcp_output(st, c);
	return n;
}

ssize_t xs_tcp_send(struct xs_stack *st, int h, const void *buf, size_t len)
{
	return tcp_send(st, h, buf, len, false);
}

ssize_t xs_tcp_send_urgent(struct xs_stack *st, int h, const void *buf, size_t len)
{
	return tcp_send(st, h, buf, len, true);
}

/* RFC 9293 3.8.6.2.2: after a read, announce a window that grew by at least
 * min(half the buffer, one MSS). */
static void tcp_maybe_window_update(struct xs_stack *st, struct tcp_conn *c)
{
	uint32_t adv = c->rcv_adv - c->rcv_nxt, now = tcp_rcv_window(c);
	uint32_t step = c->rcvbuf.cap / 2 < c->rcv_mss ? c->rcvbuf.cap / 2 : c->rcv_mss;

	if (now >= adv + step) {
		c->ack_now = true;
		tcp_output(st, c);
	}
}

ssize_t xs_tcp_recv(struct xs_stack *st, int h, void *buf, size_t cap)
{
	struct tcp_conn *c = tcp_get(st, h);
	uint32_t n;

	if (!c)
		return -EBADF;
	if (c->state == XS_TCP_LISTEN)
		return -ENOTCONN;
	if (c->rd_shut)
		return 0; /* xs_tcp_shutdown_how(XS_SHUT_RD) */
	n = cap < c->rcvbuf.len ? (uint32_t)cap : c->rcvbuf.len;
	if (n) {
		tcp_ring_peek(&c->rcvbuf, 0, buf, n);
		tcp_ring_consume(&c->rcvbuf, n);
		if (c->state != XS_TCP_CLOSED)
			tcp_maybe_window_update(st, c);
		if (!c->rcvbuf.len)
			tcp_mem_idle(st, c);
		return n;
	}
	if (c->error)
		return c->error;
	if (c->fin_rcvd || c->state == XS_TCP_CLOSED)
		return 0;
	if (c->state == XS_TCP_SYN_SENT || c->state == XS_TCP_SYN_RECEIVED ||
	    c->state == XS_TCP_ESTABLISHED || c->state == XS_TCP_FIN_WAIT_1 ||
	    c->state == XS_TCP_FIN_WAIT_2)
		return -EAGAIN;
	return 0;
}

/* The sequence number of the next byte xs_tcp_recv returns. */
uint32_t tcp_read_seq(const struct tcp_conn *c)
{
	return c->rcv_nxt - (c->fin_rcvd ? 1 : 0) - c->rcvbuf.len;
}

int xs_tcp_urgent(const struct xs_stack *st, int h)
{
	const struct tcp_conn *c = tcp_get(st, h);
	uint32_t read;

	if (!c)
		return -EBADF;
	read = tcp_read_seq(c);
	if (!c->urg_pending || !seq_gt(c->rcv_up, read))
		return 0;
	return (int)(c->rcv_up - read);
}

int xs_tcp_soft_error(const struct xs_stack *st, int h)
{
	const struct tcp_conn *c = tcp_get(st, h);

	return c ? c->soft_error : -EBADF;
}

int xs_tcp_shutdown(struct xs_stack *st, int h)
{
	struct tcp_conn *c = tcp_get(st, h);

	if (!c)
		return -EBADF;
	switch (c->state) {
	case XS_TCP_ESTABLISHED:
		c->state = XS_TCP_FIN_WAIT_1;
		break;
	case XS_TCP_CLOSE_WAIT:
		c->state = XS_TCP_LAST_ACK;
		break;
	case XS_TCP_SYN_SENT:
		/* RFC 9293 3.10.4: nothing was sent yet; delete. */
		tcp_conn_done(st, c, 0);
		return 0;
	case XS_TCP_SYN_RECEIVED:
		/* RFC 9293 3.10.4: the FIN waits until the handshake is done
		 * (tcp_established goes to FIN-WAIT-1 then). */
		c->fin_queued = true;
		return 0;
	case XS_TCP_LISTEN:
	case XS_TCP_CLOSED:
		return -ENOTCONN;
	default:
		return 0; /* already closing */
	}
	c->fin_queued = true;
	tcp_output(st, c);
	return 0;
}

int xs_tcp_abort(struct xs_stack *st, int h)
{
	struct tcp_conn *c = tcp_get(st, h);

	if (!c)
		return -EBADF;
	if (c->state == XS_TCP_LISTEN) {
		unsigned i;

		while (c->ls->accept_head) {
			struct tcp_conn *a = c->ls->accept_head;

			tcp_send_ctl(st, a, TCP_RST | TCP_ACK, a->snd_nxt);
			tcp_conn_done(st, a, -ECONNABORTED);
		}
		/* Half-open children point at the listener: reset them too. */
		for (i = 0; i < T(st)->nbuckets && c->ls->nsyn; i++) {
			struct tcp_conn *a = T(st)->bucket[i], *next;

			for (; a; a = next) {
				next = a->hnext;
				if (a->listener == c) {
					tcp_send_ctl(st, a, TCP_RST | TCP_ACK, a->snd_nxt);
					tcp_conn_done(st, a, -ECONNABORTED);
				}
			}
		}
		tcp_conn_unhash(st, c);
		c->state = XS_TCP_CLOSED;
	} else if (c->state != XS_TCP_CLOSED && c->state != XS_TCP_TIME_WAIT &&
		   c->state != XS_TCP_SYN_SENT) {
		/* RFC 9293 3.10.5: RST, then forget. */
		tcp_send_ctl(st, c, TCP_RST | TCP_ACK, c->snd_nxt);
		tcp_conn_done(st, c, -ECONNABORTED);
	} else if (c->state != XS_TCP_CLOSED) {
		tcp_conn_done(st, c, -ECONNABORTED);
	}
	tcp_handle_release(st, c);
	return 0;
}

int xs_tcp_close(struct xs_stack *st, int h)
{
	struct tcp_conn *c = tcp_get(st, h);
	enum xs_tcp_state s;

	if (!c)
		return -EBADF;
	/* Unread data, or a listener: reset instead (RFC 2525 2.17, Linux). */
	if (c->state == XS_TCP_LISTEN || (c->rcvbuf.len && c->state != XS_TCP_CLOSED))
		return xs_tcp_abort(st, h);
	if (c->state != XS_TCP_CLOSED)
		xs_tcp_shutdown(st, h);
	/* Released, a closed connection is freed: decide before. */
	s = c->state;
	tcp_handle_release(st, c);
	if (s == XS_TCP_TIME_WAIT)
		tcp_mem_trim(st, c);
	if (s != XS_TCP_FIN_WAIT_1 && s != XS_TCP_FIN_WAIT_2 && s != XS_TCP_CLOSING &&
	    s != XS_TCP_LAST_ACK)
		return 0;
	/* An orphan now: within the caps, or reset (Linux's tcp_check_oom). */
	if (tcp_orphan_adopt(st, c) != 0) {
		tcp_send_ctl(st, c, TCP_RST | TCP_ACK, c->snd_nxt);
		tcp_conn_done(st, c, -ENOBUFS);
		return 0;
	}
	/* An orphan in FIN-WAIT-2 must not wait forever for the peer. */
	if (s == XS_TCP_FIN_WAIT_2)
		tcp_arm_keepalive(st, c);
	return 0;
}

int xs_tcp_set_event_cb(struct xs_stack *st, int h, xs_event_cb cb, void *ctx)
{
	struct tcp_conn *c = tcp_get(st, h);

	if (!c)
		return -EBADF;
	c->cb = cb;
	c->ctx = ctx;
	/* Whatever is already true is reported once. */
	if (c->rcvbuf.len || c->fin_rcvd || (c->ls && c->ls->accept_head))
		tcp_wake(st, c, XS_EV_READABLE);
	if (c->state == XS_TCP_ESTABLISHED || c->state == XS_TCP_CLOSE_WAIT)
		tcp_wake(st, c, XS_EV_WRITABLE);
	if (c->error || c->state == XS_TCP_CLOSED)
		tcp_wake(st, c, XS_EV_HUP | (c->error ? XS_EV_ERROR : 0));
	return 0;
}

int xs_tcp_error(const struct xs_stack *st, int h)
{
	const struct tcp_conn *c = tcp_get(st, h);

	return c ? c->error : -EBADF;
}

static void tcp_fill_info(const struct tcp_conn *c, struct xs_tcp_info *o)
{
	memset(o, 0, sizeof(*o));
	o->handle = c->handle;
	o->state = c->state;
	/* lip/rip: IPv4 only (0 for IPv6); laddr/raddr either family. */
	if (tcp_addr_is4(&c->raddr) || ip6_is_unspecified(&c->raddr)) { /* listeners too */
		o->lip = tcp_addr4(&c->laddr);
		o->rip = tcp_addr4(&c->raddr);
		xs_addr_from_ip4(&o->laddr, o->lip);
		xs_addr_from_ip4(&o->raddr, o->rip);
	} else {
		xs_addr_from_ip6(&o->laddr, c->laddr.b);
		xs_addr_from_ip6(&o->raddr, c->raddr.b);
	}
	o->lport = c->lport;
	o->rport = c->rport;
	o->snd_queue = c->sndbuf.len;
	o->rcv_queue = c->rcvbuf.len;
	o->rtt_us = (uint32_t)(c->rtt.srtt / 1000);
	o->rttvar_us = (uint32_t)(c->rtt.rttvar / 1000);
	o->rto_ms = (uint32_t)(rtt_rto(&c->rtt) / XS_NSEC_PER_MS);
	o->cwnd = c->cc.cwnd;
	o->ssthresh = c->cc.ssthresh;
	o->mss = c->mss;
	o->snd_wnd = c->snd_wnd;
	o->rcv_wnd = c->rcv_adv - c->rcv_nxt;
	o->retransmits = c->retransmits;
	o->bytes_acked = c->bytes_acked;
	o->bytes_received = c->bytes_received;
	o->snd_wscale = c->ws_ok ? c->snd_wscale : 0;
	o->rcv_wscale = c->ws_ok ? c->rcv_wscale : 0;
	o->sack = c->sack_ok;
	o->timestamps = c->ts_ok;
	o->cc = c->cc_ops->name;
}

int xs_tcp_get_info(const struct xs_stack *st, int h, struct xs_tcp_info *out)
{
	const struct tcp_conn *c = tcp_get(st, h);

	if (!c)
		return -EBADF;
	tcp_fill_info(c, out);
	return 0;
}

size_t xs_tcp_list(const struct xs_stack *st, struct xs_tcp_info *out, size_t max)
{
	const struct tcp_table *t = T(st);
	size_t n = 0;
	unsigned i;

	for (i = 0; i < 65536 / 64 && n < max; i++)
		for (const struct tcp_conn *c = t->listeners[i]; c && n < max; c = c->hnext)
			tcp_fill_info(c, &out[n++]);
	for (i = 0; i < t->nbuckets && n < max; i++)
		for (const struct tcp_conn *c = t->bucket[i]; c && n < max; c = c->hnext)
			tcp_fill_info(c, &out[n++]);
	return n;
}
