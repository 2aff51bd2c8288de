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
	struct tcp_conn *c;
	int h;

	if (!port)
		return -EINVAL;
	if (tcp_listener(st, port))
		return -EADDRINUSE;
	h = tcp_conn_new_held(st, 0, port, 0, &c);
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

int tcp_accept(struct xs_stack *st, struct tcp_conn *l, uint32_t *ip, uint16_t *port)
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
	if (ip)
		*ip = c->rip;
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
	/* Multi-queue: only this stack's share of the range, so that replies
	 * come back to it (core/mq.h); first a port whose reply the NIC's RSS
	 * sends to this very queue, where the RSS is known. */
	unsigned span = mq_port_count(st), start = span ? (unsigned)(xs_random(st) % span) : 0, i;
	struct tcp_conn *c;
	uint32_t nh;
	uint16_t lport = 0;
	int h;

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
	if (o && ((o->sndbuf && (o->sndbuf < TCP_MIN_BUF || o->sndbuf > TCP_MAX_BUF)) ||
		  (o->rcvbuf && (o->rcvbuf < TCP_MIN_BUF || o->rcvbuf > TCP_MAX_BUF))))
		return -EINVAL;
	if (o && o->lport) {
		/* A port chosen by the application: free for this 4-tuple and
		 * not a listener's (no SO_REUSEADDR). */
		if (tcp_lookup(st, st->ip, o->lport, ip, port) || tcp_listener(st, o->lport))
			return -EADDRINUSE;
		/* Another queue's port: the replies would go to its stack. */
		if (!mq_port_mine(st, o->lport))
			return -EADDRNOTAVAIL;
		span = 0;
		lport = o->lport;
	}
	for (i = 0; i < 2 * span && !lport; i++) {
		uint16_t p = mq_port_nth(st, (start + i) % span);

		if (i < span && !mq_port_rss_ok(st, p, ip, port))
			continue;
		if (mq_port_mine(st, p) && !tcp_lookup(st, st->ip, p, ip, port) &&
		    !tcp_listener(st, p))
			lport = p;
	}
	if (!lport)
		return -EADDRNOTAVAIL;
	h = tcp_conn_new_held(st, ip, lport, port, &c);
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
	c->iss = tcp_isn(st, c->lip, c->lport, c->rip, c->rport);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->state = XS_TCP_SYN_SENT;
	tcp_conn_hash(st, c);
	tcp_send_ctl(st, c, TCP_SYN, c->iss);
	st->stats.tcp_active_opens++;
	tcp_arm_rto(st, c);
	return h;
}

ssize_t tcp_send(struct xs_stack *st, struct tcp_conn *c, const void *buf, size_t len, bool urgent)
{
	uint32_t room, n;

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

ssize_t tcp_recv(struct xs_stack *st, struct tcp_conn *c, void *buf, size_t cap)
{
	uint32_t n;

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

int tcp_abort(struct xs_stack *st, struct tcp_conn *c)
{
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
	o->lip = c->lip;
	o->rip = c->rip;
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
