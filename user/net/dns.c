/* DNS stub resolver (RFC 1035 7, RFC 5452, RFC 2308): each query on its own UDP
 * handle with a random ID and port, TCP on truncation, CNAMEs, a TTL cache. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/mq.h"
#include "core/stack.h"
#include "net/dns.h"
#include "wire/bytes.h"

static struct dns_state *D(const struct xs_stack *st)
{
	return st->dns;
}

int dns_init(struct xs_stack *st)
{
	struct dns_state *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->q = calloc(st->cfg.dns_max_queries, sizeof(*d->q));
	d->cache = calloc(st->cfg.dns_cache_size, sizeof(*d->cache));
	if (!d->q || !d->cache) {
		free(d->q);
		free(d->cache);
		free(d);
		return -ENOMEM;
	}
	d->next_deadline = UINT64_MAX;
	st->dns = d;
	return 0;
}

/* A query's timeout from now; the earliest any query has stays known, so
 * a poll with nothing due walks no slots. */
static void dns_arm(struct xs_stack *st, struct dns_query *q)
{
	struct dns_state *d = D(st);

	q->deadline = st->now + XS_MS(st->cfg.dns_timeout_ms);
	if (q->deadline < d->next_deadline)
		d->next_deadline = q->deadline;
}

void dns_fini(struct xs_stack *st)
{
	struct dns_state *d = D(st);

	if (!d)
		return;
	for (unsigned i = 0; i < st->cfg.dns_max_queries; i++)
		free(d->q[i].tbuf);
	free(d->q);
	free(d->cache);
	free(d);
	st->dns = NULL;
}

/* RFC 5452 9.2: the ID and the port are what an off-path forger must guess,
 * so they come from the kernel's generator, not the stack's xorshift. */
static uint32_t dns_random(struct xs_stack *st)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint32_t)xs_random(st);
	return v;
}

static void dns_close_handles(struct xs_stack *st, struct dns_query *q)
{
	if (q->udp.id >= 0)
		xs_udp_close(st, q->udp);
	if (q->tcp.id >= 0)
		xs_tcp_close(st, q->tcp);
	q->udp = (struct xs_udp)XS_NO_HANDLE;
	q->tcp = (struct xs_tcp)XS_NO_HANDLE;
	free(q->tbuf);
	q->tbuf = NULL;
	q->tlen = 0;
}

/* Ends a query: its result waits for the delivery (dns_deliver_next). */
static void dns_finish(struct xs_stack *st, struct dns_query *q, int err)
{
	dns_close_handles(st, q);
	q->r.error = err;
	if (err)
		q->r.naddrs = 0;
	q->state = DNS_Q_DONE;
	q->fresh = D(st)->delivering;
	D(st)->ndone++;
}

static struct dns_cache_entry *dns_cache_find(struct xs_stack *st, const struct dns_name *n)
{
	struct dns_state *d = D(st);

	for (unsigned i = 0; i < st->cfg.dns_cache_size; i++) {
		struct dns_cache_entry *e = &d->cache[i];

		if (!e->used)
			continue;
		if (e->expires <= st->now) {
			e->used = false;
			st->stats.dns_cache_entries--;
			continue;
		}
		if (dns_name_eq(&e->name, n))
			return e;
	}
	return NULL;
}

/* Keeps r for ttl seconds; at the entry budget the entry nearest its
 * expiry gives way (an expired one first). */
static void dns_cache_put(struct xs_stack *st, const struct dns_name *n,
			  const struct xs_dns_result *r, uint32_t ttl)
{
	struct dns_state *d = D(st);
	struct dns_cache_entry *e = dns_cache_find(st, n), *victim = NULL;

	if (!ttl)
		return;
	if (!e) {
		for (unsigned i = 0; i < st->cfg.dns_cache_size; i++) {
			struct dns_cache_entry *c = &d->cache[i];

			if (!c->used) {
				victim = c;
				break;
			}
			if (!victim || c->expires < victim->expires)
				victim = c;
		}
		if (victim->used)
			st->stats.dns_cache_evictions++;
		else
			st->stats.dns_cache_entries++;
		e = victim;
	}
	e->used = true;
	e->name = *n;
	e->added = st->now;
	e->expires = st->now + XS_SEC(ttl);
	e->r = *r;
	e->r.from_cache = 0;
}

void xs_dns_cache_flush(struct xs_stack *st)
{
	for (unsigned i = 0; i < st->cfg.dns_cache_size; i++)
		D(st)->cache[i].used = false;
	st->stats.dns_cache_entries = 0;
}

static void dns_udp_event(struct xs_stack *st, struct xs_udp h, unsigned ev, void *ctx);
static void dns_tcp_event(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx);

static int dns_slot(struct xs_stack *st, const struct dns_query *q)
{
	return (int)(q - D(st)->q);
}

/* One message to the current server from a fresh random port. */
static int dns_send_udp(struct xs_stack *st, struct dns_query *q)
{
	const struct dns_server *srv = &D(st)->servers[q->server];
	uint8_t msg[DNS_HDR_LEN + DNS_NAME_MAX + 4];
	size_t len;
	ssize_t sent;
	struct xs_udp h;
	int err = -EADDRINUSE;

	dns_close_handles(st, q);
	h = xs_udp_open(st);
	if (h.id < 0)
		return h.id;
	for (int i = 0; i < 16 && err == -EADDRINUSE; i++)
		err = xs_udp_bind(st, h, mq_port_nth(st, (unsigned)(dns_random(st) %
								     mq_port_count(st))));
	if (!err)
		err = xs_udp_set_event_cb(st, h, dns_udp_event, (void *)(uintptr_t)dns_slot(st, q));
	if (err) {
		xs_udp_close(st, h);
		return err;
	}
	q->udp = h;
	q->r.tcp = 0;
	q->id = (uint16_t)dns_random(st);
	len = dns_query_emit(q->id, &q->cur, DNS_TYPE_A, msg, sizeof(msg));
	sent = xs_udp_sendto(st, h, msg, len, srv->ip, srv->port);
	q->tries++;
	dns_arm(st, q);
	q->state = DNS_Q_UDP;
	if (sent >= 0)
		st->stats.dns_tx++;
	/* A send that failed (no ARP yet...) is simply waited out. */
	return 0;
}

/* The next server in turn (RFC 1035 7.2), or the end after dns_attempts
 * rounds; err is what the query ends with then. */
static void dns_next_try(struct xs_stack *st, struct dns_query *q, int err)
{
	struct dns_state *d = D(st);
	int e;

	if (q->tries >= d->nservers * st->cfg.dns_attempts) {
		dns_finish(st, q, err);
		return;
	}
	q->server = (q->server + 1) % d->nservers;
	e = dns_send_udp(st, q);
	if (e)
		dns_finish(st, q, e);
}

static void dns_start_tcp(struct xs_stack *st, struct dns_query *q)
{
	const struct dns_server *srv = &D(st)->servers[q->server];
	struct xs_tcp h = {.id = -ENOMEM};

	dns_close_handles(st, q);
	st->stats.dns_tcp_fallback++;
	q->tbuf = malloc(DNS_TCP_BUF);
	if (q->tbuf)
		h = xs_tcp_connect(st, srv->ip, srv->port);
	if (h.id < 0) {
		dns_next_try(st, q, h.id);
		return;
	}
	xs_tcp_set_event_cb(st, h, dns_tcp_event, (void *)(uintptr_t)dns_slot(st, q));
	q->tcp = h;
	q->tlen = 0;
	q->id = (uint16_t)dns_random(st);
	dns_arm(st, q);
	q->state = DNS_Q_TCP;
}

static uint32_t dns_min(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* RFC 2308 5: a negative answer is cached for min(SOA TTL, SOA MINIMUM),
 * and not at all without an SOA. */
static void dns_negative(struct xs_stack *st, struct dns_query *q, const struct dns_msg *m, int err)
{
	uint32_t ttl = 0;

	q->r.error = err;
	q->r.naddrs = 0;
	if (m->has_soa)
		ttl = dns_min(dns_min(m->soa_ttl, m->soa_minimum),
			      dns_min(st->cfg.dns_ttl_max, DNS_NEG_TTL_MAX));
	q->r.ttl = ttl;
	dns_cache_put(st, &q->asked, &q->r, ttl);
	dns_finish(st, q, err);
}

/* A reply that matched: RFC 1035 7.3, and the CNAME chain of RFC 1034 3.6.2
 * followed from the name asked through the answer section. */
static void dns_answer(struct xs_stack *st, struct dns_query *q, const struct dns_msg *m)
{
	struct dns_name name = q->cur;
	uint32_t ttl = q->min_ttl;
	unsigned i;

	if (m->rcode == DNS_RCODE_NXDOMAIN) {
		dns_negative(st, q, m, -ENOENT);
		return;
	}
	if (m->rcode != DNS_RCODE_NOERROR) {
		/* SERVFAIL, REFUSED, NOTIMP...: another server may do better. */
		dns_next_try(st, q, m->rcode == DNS_RCODE_SERVFAIL ? -EAGAIN : -EPROTO);
		return;
	}
	for (;;) {
		const struct dns_rr *cname = NULL;

		q->r.naddrs = 0;
		for (i = 0; i < m->an_n; i++) {
			const struct dns_rr *rr = &m->an[i];

			if (!dns_name_eq(&rr->owner, &name))
				continue;
			if (rr->type == DNS_TYPE_CNAME && !cname) {
				cname = rr;
			} else if (rr->type == DNS_TYPE_A && q->r.naddrs < XS_DNS_MAX_ADDRS) {
				q->r.addrs[q->r.naddrs++] = rr->a;
				ttl = dns_min(ttl, rr->ttl);
			}
		}
		if (q->r.naddrs || !cname)
			break;
		if (++q->r.cnames > XS_DNS_MAX_CNAMES) {
			dns_finish(st, q, -ELOOP);
			return;
		}
		ttl = dns_min(ttl, cname->ttl);
		name = cname->target;
	}
	dns_name_to_text(&name, q->r.canon, sizeof(q->r.canon));
	if (q->r.naddrs) {
		q->r.ttl = dns_min(ttl, st->cfg.dns_ttl_max);
		dns_cache_put(st, &q->asked, &q->r, q->r.ttl);
		dns_finish(st, q, 0);
		return;
	}
	if (!dns_name_eq(&name, &q->cur)) {
		/* The chain stops at a name the server gave no address for:
		 * ask for that name (the links count against the bound). */
		int e;

		q->cur = name;
		q->min_ttl = ttl;
		q->tries = 0;
		e = dns_send_udp(st, q);
		if (e)
			dns_finish(st, q, e);
		return;
	}
	dns_negative(st, q, m, -ENODATA);
}

/* RFC 5452 4: a reply is ours only with the ID and the question we sent;
 * the address and port were checked by the caller. */
static enum xs_drop dns_match(struct xs_stack *st, struct dns_query *q, const uint8_t *b, size_t n)
{
	struct dns_msg *m = &D(st)->msg;
	enum xs_drop why = dns_parse(b, n, m);

	if (why)
		return why;
	if (!m->qr || m->opcode)
		return XS_DROP_DNS_NOT_REPLY;
	if (m->id != q->id)
		return XS_DROP_DNS_ID;
	if (!dns_name_eq(&m->qname, &q->cur) || m->qtype != DNS_TYPE_A || m->qclass != DNS_CLASS_IN)
		return XS_DROP_DNS_QUESTION;
	return XS_DROP_NONE;
}

static struct dns_query *dns_query_of(struct xs_stack *st, void *ctx)
{
	uintptr_t i = (uintptr_t)ctx;

	return i < st->cfg.dns_max_queries ? &D(st)->q[i] : NULL;
}

static void dns_udp_event(struct xs_stack *st, struct xs_udp h, unsigned ev, void *ctx)
{
	struct dns_state *d = D(st);
	struct dns_query *q = dns_query_of(st, ctx);
	uint32_t ip;
	uint16_t port;
	ssize_t n;

	while (q && q->state == DNS_Q_UDP && q->udp.id == h.id && q->udp.gen == h.gen) {
		const struct dns_server *srv = &d->servers[q->server];
		enum xs_drop why;

		n = xs_udp_recvfrom(st, h, d->buf, sizeof(d->buf), &ip, &port);
		if (n == -EAGAIN || n == -EBADF)
			return;
		if (n < 0) /* an ICMP error: the timeout moves on */
			continue;
		if (ip != srv->ip || port != srv->port) {
			xs_drop(st, XS_DROP_DNS_SRC);
			continue;
		}
		why = dns_match(st, q, d->buf, (size_t)n);
		if (why) {
			xs_drop(st, why);
			continue;
		}
		st->stats.dns_rx++;
		if (d->msg.tc) {
			dns_start_tcp(st, q);
			return;
		}
		dns_answer(st, q, &d->msg);
		return;
	}
}

static void dns_tcp_event(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	struct dns_state *d = D(st);
	struct dns_query *q = dns_query_of(st, ctx);
	enum xs_drop why;
	uint32_t need;
	ssize_t n;

	if (!q || q->state != DNS_Q_TCP || q->tcp.id != h.id || q->tcp.gen != h.gen)
		return;
	if (ev & XS_EV_WRITABLE && q->tlen == 0 && !q->r.tcp) {
		uint8_t msg[2 + DNS_HDR_LEN + DNS_NAME_MAX + 4];
		size_t len = dns_query_emit(q->id, &q->cur, DNS_TYPE_A, msg + 2, sizeof(msg) - 2);

		/* RFC 1035 4.2.2: a two-byte length before the message. */
		st_be16(msg, (uint16_t)len);
		if (xs_tcp_send(st, h, msg, len + 2) != (ssize_t)(len + 2)) {
			dns_next_try(st, q, -EPROTO);
			return;
		}
		st->stats.dns_tx++;
		q->r.tcp = 1; /* the query is out */
	}
	for (;;) {
		n = xs_tcp_recv(st, h, q->tbuf + q->tlen, DNS_TCP_BUF - q->tlen);
		if (n == -EAGAIN)
			break;
		if (n <= 0) { /* closed or failed before the whole reply */
			q->r.tcp = 0;
			dns_next_try(st, q, n ? (int)n : -ECONNRESET);
			return;
		}
		q->tlen += (uint32_t)n;
		if (q->tlen < 2)
			continue;
		need = 2u + ld_be16(q->tbuf);
		if (need < 2 + DNS_HDR_LEN) {
			xs_drop(st, XS_DROP_DNS_TCP_LEN);
			q->r.tcp = 0;
			dns_next_try(st, q, -EPROTO);
			return;
		}
		if (q->tlen < need)
			continue;
		why = dns_match(st, q, q->tbuf + 2, need - 2);
		if (why) {
			/* Over a connection to the server only it can answer:
			 * a bad reply ends this try. */
			xs_drop(st, why);
			q->r.tcp = 0;
			dns_next_try(st, q, -EPROTO);
			return;
		}
		st->stats.dns_rx++;
		dns_answer(st, q, &d->msg);
		return;
	}
	if (ev & (XS_EV_ERROR | XS_EV_HUP)) {
		q->r.tcp = 0;
		dns_next_try(st, q, xs_tcp_error(st, h) ? xs_tcp_error(st, h) : -ECONNRESET);
	}
}

int xs_dns_add_server(struct xs_stack *st, uint32_t ip, uint16_t port)
{
	struct dns_state *d = D(st);

	if (!ip || !port)
		return -EINVAL;
	for (unsigned i = 0; i < d->nservers; i++)
		if (d->servers[i].ip == ip && d->servers[i].port == port)
			return 0; /* already there (DHCP renewals add them again) */
	if (d->nservers == XS_DNS_MAX_SERVERS)
		return -ENOSPC;
	d->servers[d->nservers].ip = ip;
	d->servers[d->nservers].port = port;
	d->nservers++;
	return 0;
}

/* RFC 1123 2.1 (RFC 3696 2): a host name's top label is not all digits, so
 * "1.2.3" is a mistyped address, not a name to ask about. */
static bool dns_numeric_tld(const struct dns_name *n)
{
	size_t p = 0, last = 0;

	while (n->b[p]) {
		last = p;
		p += 1 + (size_t)n->b[p];
	}
	for (size_t i = 1; i <= n->b[last]; i++)
		if (n->b[last + i] < '0' || n->b[last + i] > '9')
			return false;
	return true;
}

int dns_resolve(struct xs_stack *st, const char *name, xs_dns_cb cb, void *ctx, uint32_t *gen)
{
	struct dns_state *d = D(st);
	struct dns_cache_entry *e;
	struct dns_query *q = NULL;
	struct dns_name n;
	uint32_t g;
	int err;

	if (!cb || !name || dns_name_from_text(name, &n) || n.len <= 1 || dns_numeric_tld(&n))
		return -EINVAL;
	for (unsigned i = 0; i < st->cfg.dns_max_queries; i++) {
		if (d->q[i].state == DNS_Q_FREE) {
			q = &d->q[i];
			break;
		}
	}
	if (!q) {
		st->stats.dns_busy++;
		return -EBUSY;
	}
	e = dns_cache_find(st, &n);
	if (!e && !d->nservers)
		return -EDESTADDRREQ;
	st->stats.dns_queries++;
	g = q->gen + 1;
	memset(q, 0, sizeof(*q));
	q->gen = g ? g : 1;
	*gen = q->gen;
	q->udp = (struct xs_udp)XS_NO_HANDLE;
	q->tcp = (struct xs_tcp)XS_NO_HANDLE;
	q->cb = cb;
	q->ctx = ctx;
	q->asked = q->cur = n;
	q->min_ttl = UINT32_MAX;
	st->stats.dns_inflight++;
	if (e) {
		q->r = e->r;
		q->r.from_cache = 1;
		q->r.ttl = (uint32_t)((e->expires - st->now + XS_SEC(1) - 1) / XS_SEC(1));
		if (e->r.error)
			st->stats.dns_cache_neg_hits++;
		else
			st->stats.dns_cache_hits++;
		dns_finish(st, q, e->r.error);
		return dns_slot(st, q);
	}
	q->server = 0;
	err = dns_send_udp(st, q);
	if (err) {
		q->state = DNS_Q_FREE;
		st->stats.dns_inflight--;
		return err;
	}
	return dns_slot(st, q);
}

int dns_cancel(struct xs_stack *st, int h, uint32_t gen)
{
	struct dns_state *d = D(st);
	struct dns_query *q;

	if (h < 0 || (unsigned)h >= st->cfg.dns_max_queries)
		return -EBADF;
	q = &d->q[h];
	if (q->state == DNS_Q_FREE || q->gen != gen)
		return -EBADF;
	if (q->state == DNS_Q_DONE)
		d->ndone--;
	dns_close_handles(st, q);
	q->state = DNS_Q_FREE;
	st->stats.dns_inflight--;
	return 0;
}

/* Only when the earliest deadline has come are the slots walked, and the
 * walk makes it exact again (queries that ended meanwhile leave it early,
 * never late: one walk more). */
void dns_timers_run(struct xs_stack *st)
{
	struct dns_state *d = D(st);

	if (st->stats.dns_inflight == d->ndone || st->now < d->next_deadline)
		return;
	d->next_deadline = UINT64_MAX;
	for (unsigned i = 0; i < st->cfg.dns_max_queries; i++) {
		struct dns_query *q = &d->q[i];

		if (q->state != DNS_Q_UDP && q->state != DNS_Q_TCP)
			continue;
		if (q->deadline > st->now) {
			if (q->deadline < d->next_deadline)
				d->next_deadline = q->deadline;
			continue;
		}
		st->stats.dns_timeouts++;
		q->r.tcp = 0;
		dns_next_try(st, q, -ETIMEDOUT);
	}
}

xs_time_t dns_next_timer(const struct xs_stack *st)
{
	const struct dns_state *d = D(st);

	return st->stats.dns_inflight == d->ndone ? UINT64_MAX : d->next_deadline;
}

bool dns_events_pending(const struct xs_stack *st)
{
	return D(st)->ndone != 0;
}

void dns_deliver_begin(struct xs_stack *st)
{
	struct dns_state *d = D(st);

	d->dleft = d->ndone;
	d->dnext = 0;
	d->delivering = d->dleft != 0;
}

int dns_deliver_next(struct xs_stack *st, struct dns_delivery *out)
{
	struct dns_state *d = D(st);

	/* Only the results finished before dns_deliver_begin: a callback's new
	 * resolve answered from the cache waits for the next poll. */
	while (d->dleft && d->dnext < st->cfg.dns_max_queries) {
		unsigned i = d->dnext++;
		struct dns_query *q = &d->q[i];

		if (q->state != DNS_Q_DONE || q->fresh)
			continue;
		q->state = DNS_Q_FREE;
		d->ndone--;
		st->stats.dns_inflight--;
		d->dleft--;
		out->r = q->r;
		out->cb = q->cb;
		out->ctx = q->ctx;
		out->gen = q->gen;
		return (int)i;
	}
	if (d->delivering) {
		d->delivering = false;
		for (unsigned i = 0; i < st->cfg.dns_max_queries; i++)
			d->q[i].fresh = 0;
	}
	return -1;
}
