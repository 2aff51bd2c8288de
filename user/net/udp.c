/* UDP (RFC 768, RFC 1122 4.1): sockets by number, the port map, receive queues
 * and readiness; user/api/udp.c turns typed handles into these calls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/mq.h"
#include "core/stack.h"
#include "net/icmp.h"
#include "net/ip4.h"
#include "net/udp.h"
#include "wire/icmp.h"
#include "wire/udp.h"

int udp_table_init(struct udp_table *t)
{
	memset(t, 0, sizeof(*t));
	t->port_map = calloc(65536, sizeof(*t->port_map));
	if (!t->port_map)
		return -ENOMEM;
	t->ready_head = -1;
	t->delivering = -1;
	return 0;
}

static void udp_sock_purge(struct udp_sock *s)
{
	while (s->head) {
		struct udp_dgram *d = s->head;

		s->head = d->next;
		free(d);
	}
	s->tail = NULL;
	s->qbytes = s->qlen = 0;
}

void udp_table_fini(struct udp_table *t)
{
	int i;

	for (i = 0; i < UDP_MAX_SOCKS; i++)
		udp_sock_purge(&t->s[i]);
	free(t->port_map);
	t->port_map = NULL;
}

struct udp_sock *udp_sock_get(const struct xs_stack *st, int h)
{
	if (h < 0 || h >= UDP_MAX_SOCKS || !st->udp.s[h].used)
		return NULL;
	return (struct udp_sock *)&st->udp.s[h];
}

void udp_mark_ready(struct xs_stack *st, int h)
{
	struct udp_table *t = &st->udp;
	struct udp_sock *s = &t->s[h];

	if (s->ev_pending || !s->cb)
		return;
	s->ev_pending = 1;
	s->next_ready = t->ready_head;
	t->ready_head = (int16_t)h;
	xs_stack_kick(st);
}

void udp_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *pkt)
{
	const uint8_t *b = pkt + ip->hdr_len;
	size_t n = ip4_payload_len(ip);
	struct udp_repr u;
	struct udp_sock *s;
	enum xs_drop why;
	int h;

	why = udp_parse(b, n, ip->src, ip->dst, &u);
	if (why)
		goto drop;
	st->stats.udp_rx++;
	h = st->udp.port_map[u.dport] - 1;
	s = h >= 0 ? &st->udp.s[h] : NULL;
	/* A connected socket hears only its peer (RFC 1122 4.1.3.4 leaves this
	 * to the API; it is what BSD and Linux do). */
	if (!s || (s->rport && (s->rfam != XS_AF_INET4 || s->rip != ip->src ||
				s->rport != u.sport))) {
		/* RFC 1122 4.1.3.1: port unreachable, unless the datagram was a
		 * broadcast (icmp_send_error checks that and the other rules). */
		icmp_send_error(st, ICMP_DEST_UNREACH, 3, 0, pkt, ip->total_len);
		why = XS_DROP_UDP_NO_PORT;
		goto drop;
	}
	{
		struct udp_dgram hdr = { .ip = ip->src, .family = XS_AF_INET4, .port = u.sport,
					 .len = (uint16_t)u.payload_len };

		udp_enqueue(st, h, &hdr, u.payload);
	}
	return;
drop:
	xs_drop(st, why);
}

int udp_enqueue(struct xs_stack *st, int h, const struct udp_dgram *hdr, const uint8_t *data)
{
	struct udp_sock *s = &st->udp.s[h];
	struct udp_dgram *d;

	if (s->qlen >= UDP_RCVBUF_DGRAMS || s->qbytes + hdr->len > s->rcvbuf ||
	    !(d = malloc(sizeof(*d) + hdr->len))) {
		xs_drop(st, XS_DROP_UDP_RCVBUF);
		return -ENOBUFS;
	}
	*d = *hdr;
	d->next = NULL;
	memcpy(d->data, data, hdr->len);
	if (s->tail)
		s->tail->next = d;
	else
		s->head = d;
	s->tail = d;
	s->qlen++;
	s->qbytes += d->len;
	udp_mark_ready(st, h);
	return 0;
}

int udp_deliver_next(struct xs_stack *st, unsigned *events)
{
	struct udp_table *t = &st->udp;

	while (t->delivering >= 0) {
		int h = t->delivering;
		struct udp_sock *s = &t->s[h];
		unsigned ev = (s->head ? XS_EV_READABLE : 0) | (s->err ? XS_EV_ERROR : 0) |
			      (s->ev_wr ? XS_EV_WRITABLE : 0);

		t->delivering = s->next_ready;
		s->ev_pending = 0;
		s->ev_wr = 0;
		if (s->used && s->cb && ev) {
			*events = ev;
			return h;
		}
	}
	return -1;
}

/* The device gives a tx frame again: every socket a send turned away with
 * -ENOBUFS hears XS_EV_WRITABLE. */
static void udp_tx_space(struct xs_stack *st)
{
	struct udp_table *t = &st->udp;
	struct xs_frame f;
	int h;

	if (xs_dev_tx_alloc(st->dev, &f) != 0)
		return;
	xs_dev_tx_abort(st->dev, &f);
	for (h = 0; h < UDP_MAX_SOCKS && t->nblocked; h++) {
		struct udp_sock *s = &t->s[h];

		if (!s->tx_blocked)
			continue;
		s->tx_blocked = 0;
		t->nblocked--;
		s->ev_wr = 1;
		udp_mark_ready(st, h);
	}
	t->nblocked = 0;
}

void udp_deliver_begin(struct xs_stack *st)
{
	struct udp_table *t = &st->udp;

	if (t->nblocked)
		udp_tx_space(st);
	/* Take the whole list: a callback that marks a socket again (by
	 * re-arming) lands on a fresh list, delivered at the next poll. */
	t->delivering = t->ready_head;
	t->ready_head = -1;
}

int udp_open(struct xs_stack *st, uint32_t *gen)
{
	int h;

	/* A closed socket still linked on a ready list is skipped until the
	 * delivery unlinks it. */
	for (h = 0; h < UDP_MAX_SOCKS; h++) {
		struct udp_sock *s = &st->udp.s[h];

		if (!s->used && !s->ev_pending) {
			uint32_t g = s->gen + 1;

			memset(s, 0, sizeof(*s));
			s->gen = g ? g : 1;
			s->used = 1;
			s->next_ready = -1;
			s->rcvbuf = UDP_RCVBUF_BYTES;
			*gen = s->gen;
			return h;
		}
	}
	return -EMFILE;
}

static int udp_bind_port(struct xs_stack *st, int h, uint16_t port)
{
	st->udp.port_map[port] = (uint16_t)(h + 1);
	st->udp.s[h].lport = port;
	return 0;
}

/* An unused port from the ephemeral range (this stack's share of it in a
 * multi-queue group, core/mq.h), starting at a random point. */
int udp_bind_ephemeral(struct xs_stack *st, int h)
{
	unsigned span = mq_port_count(st), i;
	unsigned start = span ? (unsigned)(xs_random(st) % span) : 0;

	for (i = 0; i < span; i++) {
		uint16_t p = mq_port_nth(st, (start + i) % span);

		if (!st->udp.port_map[p] && mq_port_mine(st, p))
			return udp_bind_port(st, h, p);
	}
	return -EADDRINUSE;
}

int udp_bind(struct xs_stack *st, int h, uint16_t port)
{
	struct udp_sock *s = udp_sock_get(st, h);

	if (!s)
		return -EBADF;
	if (s->lport)
		return -EINVAL;
	if (port == 0)
		return udp_bind_ephemeral(st, h);
	if (st->udp.port_map[port])
		return -EADDRINUSE;
	return udp_bind_port(st, h, port);
}

static ssize_t udp_xmit(struct xs_stack *st, struct udp_sock *s, const void *buf, size_t len,
			uint32_t ip, uint16_t port)
{
	struct udp_repr u = { .sport = s->lport, .dport = port, .payload = buf,
			      .payload_len = len };
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, n;
	int err;

	if (len > 65507)
		return -EMSGSIZE;
	if (UDP_HDR_LEN + len + IP4_HDR_LEN <= st->mtu) {
		/* The common case: built straight into one tx frame. */
		l4 = ip4_tx_begin(st, &f, &cap);
		if (!l4) {
			if (!s->tx_blocked) {
				s->tx_blocked = 1;
				st->udp.nblocked++;
			}
			return -ENOBUFS;
		}
		n = udp_emit(&u, st->ip, ip, l4, cap);
		err = ip4_tx_finish(st, &f, ip, IP4_PROTO_UDP, 0, n);
	} else {
		/* The checksum covers the whole datagram: build it, then fragment. */
		n = udp_emit(&u, st->ip, ip, st->scratch, XS_SCRATCH_LEN);
		err = ip4_send(st, ip, IP4_PROTO_UDP, 0, st->scratch, n);
	}
	if (err == -ENOBUFS && !s->tx_blocked) {
		s->tx_blocked = 1;
		st->udp.nblocked++;
	}
	if (err)
		return err;
	st->stats.udp_tx++;
	return (ssize_t)len;
}

/* A pending ICMP error is reported once, by the next call. */
static int udp_take_err(struct udp_sock *s)
{
	int err = s->err;

	s->err = 0;
	return err;
}

ssize_t udp_sendto(struct xs_stack *st, int h, const void *buf, size_t len, uint32_t ip,
		   uint16_t port)
{
	struct udp_sock *s = udp_sock_get(st, h);
	int err;

	if (!s)
		return -EBADF;
	if (port == 0 || ip == 0)
		return -EINVAL;
	if (!s->lport && (err = udp_bind_ephemeral(st, h)) != 0)
		return err;
	return udp_xmit(st, s, buf, len, ip, port);
}

ssize_t udp_send(struct xs_stack *st, int h, const void *buf, size_t len)
{
	struct udp_sock *s = udp_sock_get(st, h);
	int err;

	if (!s)
		return -EBADF;
	if (!s->rport)
		return -EDESTADDRREQ;
	if ((err = udp_take_err(s)) != 0)
		return err;
	if (s->rfam == XS_AF_INET6) {
		struct xs_addr a;

		xs_addr_from_ip6(&a, s->rip6);
		return udp_sendto_addr(st, h, buf, len, &a, s->rport);
	}
	return udp_xmit(st, s, buf, len, s->rip, s->rport);
}

int udp_connect(struct xs_stack *st, int h, uint32_t ip, uint16_t port)
{
	struct udp_sock *s = udp_sock_get(st, h);
	int err;

	if (!s)
		return -EBADF;
	if (!ip || !port)
		return -EINVAL;
	if (!s->lport && (err = udp_bind_ephemeral(st, h)) != 0)
		return err;
	s->rip = ip;
	s->rfam = XS_AF_INET4;
	s->rport = port;
	s->err = 0;
	return 0;
}

int udp_local_port(const struct xs_stack *st, int h)
{
	const struct udp_sock *s = udp_sock_get(st, h);

	return s ? s->lport : -EBADF;
}

int udp_poll_events(const struct xs_stack *st, int h)
{
	const struct udp_sock *s = udp_sock_get(st, h);

	if (!s)
		return -EBADF;
	return (s->head ? XS_EV_READABLE : 0) | (s->err ? XS_EV_ERROR : 0) |
	       (s->tx_blocked ? 0 : XS_EV_WRITABLE);
}

int udp_setopt(struct xs_stack *st, int h, enum xs_udp_opt opt, int value)
{
	struct udp_sock *s = udp_sock_get(st, h);

	if (!s)
		return -EBADF;
	switch (opt) {
	case XS_UDP_RCVBUF:
		if (value < XS_UDP_RCVBUF_MIN || value > XS_UDP_RCVBUF_MAX)
			return -EINVAL;
		/* What is queued stays; new datagrams see the new bound. */
		s->rcvbuf = (uint32_t)value;
		return 0;
	}
	return -ENOPROTOOPT;
}

int udp_getopt(const struct xs_stack *st, int h, enum xs_udp_opt opt, int *value)
{
	const struct udp_sock *s = udp_sock_get(st, h);

	if (!s)
		return -EBADF;
	switch (opt) {
	case XS_UDP_RCVBUF:
		*value = (int)s->rcvbuf;
		return 0;
	}
	return -ENOPROTOOPT;
}

int udp_icmp_error(struct xs_stack *st, uint32_t dst, uint16_t sport, uint16_t dport, int err)
{
	int h = st->udp.port_map[sport] - 1;
	struct udp_sock *s = h >= 0 ? &st->udp.s[h] : NULL;

	/* Like Linux without IP_RECVERR: only a connected socket hears errors,
	 * and only those about its peer. */
	if (!s || !s->rport || s->rfam != XS_AF_INET4 || s->rip != dst || s->rport != dport)
		return -ENOENT;
	s->err = err;
	udp_mark_ready(st, h);
	return 0;
}

/* Frees the head datagram. */
static void udp_dgram_pop(struct udp_sock *s)
{
	struct udp_dgram *d = s->head;

	s->head = d->next;
	if (!s->head)
		s->tail = NULL;
	s->qlen--;
	s->qbytes -= d->len;
	free(d);
}

ssize_t udp_recv(struct xs_stack *st, int h, void *buf, size_t cap, struct udp_dgram *meta)
{
	struct udp_sock *s = udp_sock_get(st, h);
	struct udp_dgram *d;
	size_t n;

	if (!s)
		return -EBADF;
	if (s->lent)
		return -EBUSY; /* the head is lent until consumed */
	if (s->err)
		return udp_take_err(s);
	d = s->head;
	if (!d)
		return -EAGAIN;
	n = d->len < cap ? d->len : cap; /* like recvfrom: the rest is discarded */
	memcpy(buf, d->data, n);
	*meta = *d;
	meta->next = NULL;
	udp_dgram_pop(s);
	return (ssize_t)n;
}

ssize_t udp_recvfrom(struct xs_stack *st, int h, void *buf, size_t cap, uint32_t *ip,
		     uint16_t *port)
{
	struct udp_dgram m;
	ssize_t n = udp_recv(st, h, buf, cap, &m);

	if (n < 0)
		return n;
	if (ip)
		*ip = m.family == XS_AF_INET4 ? m.ip : 0; /* IPv6: xs_udp_recvfrom_addr */
	if (port)
		*port = m.port;
	return n;
}
/* The head datagram where udp_input put it: it stays first in the queue
 * (new ones go to the tail) and is freed only by consume or close. Asked
 * again before the consume, the same datagram. */
ssize_t udp_recv_peek(struct xs_stack *st, int h, const void **p, uint32_t *ip, uint16_t *port)
{
	struct udp_sock *s = udp_sock_get(st, h);
	struct udp_dgram *d;

	*p = NULL;
	if (!s)
		return -EBADF;
	if (!s->lent && s->err)
		return udp_take_err(s);
	d = s->head;
	if (!d)
		return -EAGAIN;
	*p = d->data;
	if (ip)
		*ip = d->family == XS_AF_INET4 ? d->ip : 0;
	if (port)
		*port = d->port;
	s->lent = 1;
	return d->len;
}

int udp_recv_consume(struct xs_stack *st, int h)
{
	struct udp_sock *s = udp_sock_get(st, h);

	if (!s)
		return -EBADF;
	if (!s->lent)
		return -EINVAL; /* nothing was peeked */
	s->lent = 0;
	udp_dgram_pop(s);
	return 0;
}

int udp_set_cb(struct xs_stack *st, int h, xs_udp_cb cb, void *ctx)
{
	struct udp_sock *s = udp_sock_get(st, h);

	if (!s)
		return -EBADF;
	s->cb = cb;
	s->ctx = ctx;
	if (s->head || s->err)
		udp_mark_ready(st, h);
	return 0;
}

int udp_close(struct xs_stack *st, int h)
{
	struct udp_sock *s = udp_sock_get(st, h);

	if (!s)
		return -EBADF;
	if (s->lport)
		st->udp.port_map[s->lport] = 0;
	udp_sock_purge(s);
	s->lent = 0;
	if (s->tx_blocked) {
		s->tx_blocked = 0;
		st->udp.nblocked--;
	}
	s->ev_wr = 0;
	s->used = 0;
	s->cb = NULL;
	s->rip = s->rport = 0;
	s->rfam = 0;
	s->err = 0;
	s->lport = 0;
	return 0;
}
