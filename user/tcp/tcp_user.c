/* TCP's user calls (RFC 9293 3.10.1-3.10.5: OPEN, SEND, RECEIVE, CLOSE, ABORT,
 * STATUS) on connections; user/api/tcp.c turns typed handles into these. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/mq.h"
#include "core/stack.h"
#include "net/ip4.h"
#include "net/route.h"
#include "tcp/tcp.h"

int tcp_listen(struct xs_stack *st, uint16_t port, int backlog)
{
	/* Both families, any of our addresses: a listener is found by its port
	 * alone; it shows the IPv4 address, as before IPv6. */
	static const struct ip6_addr any;
	struct ip6_addr l4;
	struct tcp_conn *c;
	int h;

	if (!port)
		return -EINVAL;
	if (tcp_listener(st, port))
		return -EADDRINUSE;
	tcp_addr_from4(&l4, st->ip);
	h = tcp_conn_new_held(st, &l4, &any, port, 0, &c);
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

/* The next connection of the accept queue with a handle: its number (and
 * the connection in *out), or -errno. */
static int tcp_accept_conn(struct xs_stack *st, struct tcp_conn *l, struct tcp_conn **out)
{
	struct tcp_conn *c;
	int h;

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
	*out = c;
	return h;
}

int tcp_accept(struct xs_stack *st, struct tcp_conn *l, uint32_t *ip, uint16_t *port)
{
	struct tcp_conn *c;
	int h = tcp_accept_conn(st, l, &c);

	if (h < 0)
		return h;
	if (ip) /* an IPv6 peer: xs_tcp_accept_addr */
		*ip = tcp_addr_is4(&c->raddr) ? tcp_addr4(&c->raddr) : 0;
	if (port)
		*port = c->rport;
	return h;
}

int tcp_accept_addr(struct xs_stack *st, struct tcp_conn *l, struct xs_addr *from, uint16_t *port)
{
	struct tcp_conn *c;
	int h = tcp_accept_conn(st, l, &c);

	if (h < 0)
		return h;
	if (from) {
		if (tcp_addr_is4(&c->raddr))
			xs_addr_from_ip4(from, tcp_addr4(&c->raddr));
		else
			xs_addr_from_ip6(from, c->raddr.b);
	}
	if (port)
		*port = c->rport;
	return h;
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
	/* MUST-43: a local address given must be ours (IPv4 has one). */
	if (o && o->laddr.family == XS_AF_INET6)
		return -EINVAL;
	if (o && o->laddr.family && xs_addr_ip4(&o->laddr) != st->ip)
		return -EADDRNOTAVAIL;
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
	/* Multi-queue: only this stack's share of the range, so that replies
	 * come back to it (core/mq.h); first a port whose reply the NIC's RSS
	 * sends to this very queue, where the RSS is known (IPv4). */
	unsigned span = mq_port_count(st), start = span ? (unsigned)(xs_random(st) % span) : 0, i;
	bool v4 = tcp_addr_is4(raddr);
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
		/* Another queue's port: the replies would go to its stack. */
		if (!mq_port_mine(st, o->lport))
			return -EADDRNOTAVAIL;
		span = 0;
		lport = o->lport;
	}
	for (i = 0; i < 2 * span && !lport; i++) {
		uint16_t p = mq_port_nth(st, (start + i) % span);

		if (i < span && (!v4 || !mq_port_rss_ok(st, p, tcp_addr4(raddr), port)))
			continue;
		if (mq_port_mine(st, p) && !tcp_lookup(st, laddr, p, raddr, port) &&
		    !tcp_listener(st, p))
			lport = p;
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

/* RFC 9293 3.10.2 SEND: may the application queue data now? 0, or what
 * xs_tcp_send returns instead. */
static int tcp_send_allowed(const struct tcp_conn *c)
{
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
	return 0;
}

/* The send ring, allocated if needed, and its free space (0: full, and a
 * wake-up is asked for); -ENOMEM. want 0: none is needed. */
static int64_t tcp_send_room(struct xs_stack *st, struct tcp_conn *c, size_t want)
{
	uint32_t room = c->sndbuf.cap - c->sndbuf.len;

	if (!room) {
		c->snd_nospace = true;
		return 0;
	}
	if (want) {
		int err = tcp_sndbuf_get(st, c);

		if (err)
			return err;
		/* Under pressure it came back smaller. */
		room = c->sndbuf.cap - c->sndbuf.len;
	}
	return room;
}

/* n bytes just written at the ring's tail are queued: from here a send is
 * a send, by copy or in place (PSH, Nagle, cork: tcp_output decides). */
static void tcp_send_queued(struct xs_stack *st, struct tcp_conn *c, uint32_t n, bool urgent)
{
	c->sndbuf.len += n;
	if (c->sndbuf.len == c->sndbuf.cap)
		c->snd_nospace = true;
	/* RFC 9293 3.10.2: SND.UP <- the end of what is queued. */
	if (urgent && n) {
		c->snd_up = c->snd_una + c->sndbuf.len;
		c->urg_send = true;
	}
	tcp_output(st, c);
}

ssize_t tcp_send(struct xs_stack *st, struct tcp_conn *c, const void *buf, size_t len, bool urgent)
{
	int64_t room;
	uint32_t n;
	int err;

	if (c->snd_lent)
		return -EBUSY; /* the tail is the application's until commit */
	err = tcp_send_allowed(c);
	if (err)
		return err;
	room = tcp_send_room(st, c, len);
	if (room <= 0)
		return room ? (ssize_t)room : -EAGAIN;
	n = len < (uint64_t)room ? (uint32_t)len : (uint32_t)room;
	tcp_ring_write(&c->sndbuf, c->sndbuf.len, buf, n);
	tcp_send_queued(st, c, n, urgent);
	return n;
}

/* Zero-copy send: the free space at the ring's tail, contiguous (up to the
 * ring's end when it wraps there: commit, then reserve again for the rest).
 * Asked again before the commit it is the same place, maybe longer (ACKs
 * freed room meanwhile), never shorter: nothing else writes the tail and
 * the ring stays (tcp_mem.c does not free or shrink a lent ring). */
ssize_t tcp_send_reserve(struct xs_stack *st, struct tcp_conn *c, void **p)
{
	struct tcp_ring *r = &c->sndbuf;
	uint32_t tail, n;
	int64_t room;
	int err;

	*p = NULL;
	err = tcp_send_allowed(c);
	if (err) {
		c->snd_lent = 0; /* nothing can be committed now */
		return err;
	}
	room = tcp_send_room(st, c, 1);
	if (room <= 0)
		return room ? (ssize_t)room : -EAGAIN;
	tail = (r->head + r->len) % r->size;
	n = r->size - tail < (uint64_t)room ? r->size - tail : (uint32_t)room;
	*p = r->data + tail;
	if (tail + n > r->hi)
		r->hi = tail + n; /* the application writes there */
	c->snd_lent = n;
	return n;
}

int tcp_send_commit(struct xs_stack *st, struct tcp_conn *c, size_t n)
{
	int err;

	if (n > c->snd_lent)
		return -EINVAL; /* nothing changes: the reservation stands */
	c->snd_lent = 0;
	if (n) {
		/* The connection may have failed or been reset meanwhile. */
		err = tcp_send_allowed(c);
		if (err)
			return err;
		tcp_send_queued(st, c, (uint32_t)n, false);
	}
	/* A ring reserved and left empty (or all acknowledged meanwhile) may
	 * go once idle, as after any send. */
	if (!c->sndbuf.len)
		tcp_mem_idle(st, c);
	return 0;
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

/* n bytes at the head were read (copied out, or used in place). */
static void tcp_recv_done(struct xs_stack *st, struct tcp_conn *c, uint32_t n)
{
	tcp_ring_consume(&c->rcvbuf, n);
	if (c->state != XS_TCP_CLOSED)
		tcp_maybe_window_update(st, c);
	if (!c->rcvbuf.len)
		tcp_mem_idle(st, c);
}

/* RECEIVE with nothing buffered: end of stream (0), -EAGAIN or the error. */
static ssize_t tcp_recv_empty(const struct tcp_conn *c)
{
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

ssize_t tcp_recv(struct xs_stack *st, struct tcp_conn *c, void *buf, size_t cap)
{
	uint32_t n;

	if (c->state == XS_TCP_LISTEN)
		return -ENOTCONN;
	if (c->rcv_lent)
		return -EBUSY; /* the head is lent until consumed */
	if (c->rd_shut)
		return 0; /* xs_tcp_shutdown_how(XS_SHUT_RD) */
	n = cap < c->rcvbuf.len ? (uint32_t)cap : c->rcvbuf.len;
	if (n) {
		tcp_ring_peek(&c->rcvbuf, 0, buf, n);
		tcp_recv_done(st, c, n);
		return n;
	}
	return tcp_recv_empty(c);
}

/* Zero-copy receive: the readable bytes at the ring's head, in place, up to
 * the ring's end when they wrap there (consume, then peek again for the
 * rest). Asked again before the consume it is the same place, maybe longer
 * (more arrived), never shorter: input writes only beyond the readable
 * bytes, and a ring holding them is never freed. */
ssize_t tcp_recv_peek(struct xs_stack *st, struct tcp_conn *c, const void **p)
{
	struct tcp_ring *r = &c->rcvbuf;
	uint32_t n;

	(void)st;
	*p = NULL;
	if (c->state == XS_TCP_LISTEN)
		return -ENOTCONN;
	if (c->rd_shut)
		return 0;
	if (!r->len)
		return tcp_recv_empty(c);
	n = r->size - r->head < r->len ? r->size - r->head : r->len;
	*p = r->data + r->head;
	c->rcv_lent = n;
	return n;
}

int tcp_recv_consume(struct xs_stack *st, struct tcp_conn *c, size_t n)
{
	if (n > c->rcv_lent)
		return -EINVAL; /* nothing changes: the borrow stands */
	c->rcv_lent = 0;
	if (n)
		tcp_recv_done(st, c, (uint32_t)n);
	return 0;
}

/* The sequence number of the next byte xs_tcp_recv returns. */
uint32_t tcp_read_seq(const struct tcp_conn *c)
{
	return c->rcv_nxt - (c->fin_rcvd ? 1 : 0) - c->rcvbuf.len;
}

int tcp_urgent(const struct tcp_conn *c)
{
	uint32_t read;

	read = tcp_read_seq(c);
	if (!c->urg_pending || !seq_gt(c->rcv_up, read))
		return 0;
	return (int)(c->rcv_up - read);
}

int tcp_shutdown(struct xs_stack *st, struct tcp_conn *c)
{
	/* The FIN would go before bytes the application is still writing. */
	if (c->snd_lent)
		return -EBUSY;
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

/* The handle is going: whatever was lent is the stack's again. */
static void tcp_lends_end(struct xs_stack *st, struct tcp_conn *c)
{
	if (!c->rcv_lent && !c->snd_lent)
		return;
	c->rcv_lent = c->snd_lent = 0;
	tcp_mem_idle(st, c);
}

int tcp_abort(struct xs_stack *st, struct tcp_conn *c)
{
	tcp_lends_end(st, c);
	if (c->state == XS_TCP_LISTEN) {
		unsigned i;

		while (c->ls->accept_head) {
			struct tcp_conn *a = c->ls->accept_head;

			tcp_send_ctl(st, a, TCP_RST | TCP_ACK, a->snd_nxt);
			tcp_conn_done(st, a, -ECONNABORTED);
		}
		/* Half-open children point at the listener: reset them too. */
		for (i = 0; i < st->tcp->nbuckets && c->ls->nsyn; i++) {
			struct tcp_conn *a = st->tcp->bucket[i], *next;

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

int tcp_close(struct xs_stack *st, struct tcp_conn *c)
{
	enum xs_tcp_state s;

	/* Bytes peeked and not consumed are unread; bytes reserved and not
	 * committed were never sent. */
	tcp_lends_end(st, c);
	/* Unread data, or a listener: reset instead (RFC 2525 2.17, Linux). */
	if (c->state == XS_TCP_LISTEN || (c->rcvbuf.len && c->state != XS_TCP_CLOSED))
		return tcp_abort(st, c);
	if (c->state != XS_TCP_CLOSED)
		tcp_shutdown(st, c);
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

void tcp_set_cb(struct xs_stack *st, struct tcp_conn *c, xs_tcp_cb cb, void *ctx)
{
	c->cb = cb;
	c->ctx = ctx;
	/* Whatever is already true is reported once. */
	if (c->rcvbuf.len || c->fin_rcvd || (c->ls && c->ls->accept_head))
		tcp_wake(st, c, XS_EV_READABLE);
	if (c->state == XS_TCP_ESTABLISHED || c->state == XS_TCP_CLOSE_WAIT)
		tcp_wake(st, c, XS_EV_WRITABLE);
	if (c->error || c->state == XS_TCP_CLOSED)
		tcp_wake(st, c, XS_EV_HUP | (c->error ? XS_EV_ERROR : 0));
}

int tcp_poll_events(const struct tcp_conn *c)
{
	unsigned ev = 0;

	if (c->state == XS_TCP_LISTEN)
		return c->ls && c->ls->accept_head ? XS_EV_READABLE : 0;
	/* Readable: data, end of stream (FIN, read side shut, closed) or an
	 * error, i.e. whenever tcp_recv would not say -EAGAIN. */
	if (c->rcvbuf.len || c->fin_rcvd || c->rd_shut || c->error || c->state == XS_TCP_CLOSED)
		ev |= XS_EV_READABLE;
	/* Writable: tcp_send takes bytes, or fails at once (an error, a
	 * write side shut down); a connection still opening is neither. */
	if (c->error)
		ev |= XS_EV_ERROR | XS_EV_WRITABLE;
	else if ((c->state == XS_TCP_ESTABLISHED || c->state == XS_TCP_CLOSE_WAIT) &&
		 !c->fin_queued)
		ev |= tcp_send_space_ok(c) ? XS_EV_WRITABLE : 0;
	else if (c->state != XS_TCP_SYN_SENT && c->state != XS_TCP_SYN_RECEIVED)
		ev |= XS_EV_WRITABLE; /* -EPIPE / -ENOTCONN without waiting */
	/* Over: nothing more will come or go (both FINs done, or closed). */
	if (c->state == XS_TCP_CLOSED || c->state == XS_TCP_TIME_WAIT)
		ev |= XS_EV_HUP;
	if (tcp_urgent(c) > 0)
		ev |= XS_EV_URGENT;
	return (int)ev;
}

void tcp_info(const struct tcp_conn *c, struct xs_tcp_info *o)
{
	memset(o, 0, sizeof(*o));
	o->handle.id = c->handle;
	o->handle.gen = c->handle >= 0 ? c->hgen : 0;
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

size_t tcp_list(const struct xs_stack *st, struct xs_tcp_info *out, size_t max)
{
	const struct tcp_table *t = st->tcp;
	size_t n = 0;
	unsigned i;

	for (i = 0; i < 65536 / 64 && n < max; i++)
		for (const struct tcp_conn *c = t->listeners[i]; c && n < max; c = c->hnext)
			tcp_info(c, &out[n++]);
	for (i = 0; i < t->nbuckets && n < max; i++)
		for (const struct tcp_conn *c = t->bucket[i]; c && n < max; c = c->hnext)
			tcp_info(c, &out[n++]);
	return n;
}
