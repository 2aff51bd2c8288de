/* Readiness as of now, queried rather than delivered: the same bits the
 * event callbacks carry (include/xdpstack/stack.h, "Events"), per handle. */
#include <errno.h>

#include "core/stack.h"
#include "net/icmp.h"
#include "net/udp.h"
#include "tcp/tcp.h"

int xs_udp_poll_events(const struct xs_stack *st, int h)
{
	const struct udp_sock *s;

	if (h < 0 || h >= UDP_MAX_SOCKS || !st->udp.s[h].used)
		return -EBADF;
	s = &st->udp.s[h];
	return (s->head ? XS_EV_READABLE : 0) | (s->err ? XS_EV_ERROR : 0) |
	       (s->tx_blocked ? 0 : XS_EV_WRITABLE);
}

int xs_tcp_poll_events(const struct xs_stack *st, int h)
{
	const struct tcp_conn *c = tcp_get(st, h);
	unsigned ev = 0;

	if (!c)
		return -EBADF;
	if (c->state == XS_TCP_LISTEN)
		return c->ls && c->ls->accept_head ? XS_EV_READABLE : 0;
	/* Readable: data, end of stream (FIN, read side shut, closed) or an
	 * error, i.e. whenever xs_tcp_recv would not say -EAGAIN. */
	if (c->rcvbuf.len || c->fin_rcvd || c->rd_shut || c->error || c->state == XS_TCP_CLOSED)
		ev |= XS_EV_READABLE;
	/* Writable: xs_tcp_send takes bytes, or fails at once (an error, a
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
	if (xs_tcp_urgent(st, h) > 0)
		ev |= XS_EV_URGENT;
	return (int)ev;
}

int xs_ping_poll_events(const struct xs_stack *st, int h)
{
	const struct icmp_state *s = &st->icmp;
	unsigned i;

	if (h < 0 || h >= ICMP_MAX_PINGS || !s->ping[h].used)
		return -EBADF;
	/* Results wait in the queue for the next poll's callbacks. */
	for (i = 0; i < s->pq_len; i++) {
		const struct ping_event *e = &s->pq[(s->pq_head + i) % ICMP_PING_QUEUE];

		if (e->h == h && e->gen == s->ping[h].gen)
			return XS_EV_READABLE | XS_EV_WRITABLE;
	}
	return XS_EV_WRITABLE;
}
