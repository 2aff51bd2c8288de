/* TCP socket options, get and set (Nagle, keepalive, buffers, RTO floor, TOS,
 * congestion control), and the read-side shutdown (shutdown(2)'s SHUT_RD). */
#include <errno.h>

#include "core/stack.h"
#include "tcp/tcp.h"

int tcp_setopt(struct xs_stack *st, struct tcp_conn *c, enum xs_tcp_opt opt, int value)
{
	struct tcp_ring nr;

	switch (opt) {
	case XS_TCP_NODELAY:
		c->nodelay = value != 0;
		if (c->nodelay)
			tcp_output(st, c);
		return 0;
	case XS_TCP_KEEPALIVE:
		c->keepalive = value != 0;
		tcp_arm_keepalive(st, c);
		return 0;
	case XS_TCP_KEEPIDLE:
	case XS_TCP_KEEPINTVL:
	case XS_TCP_KEEPCNT:
		if (value < 1 || value > 32767)
			return -EINVAL;
		if (opt == XS_TCP_KEEPIDLE)
			c->keep_idle_s = (uint32_t)value;
		else if (opt == XS_TCP_KEEPINTVL)
			c->keep_intvl_s = (uint32_t)value;
		else
			c->keep_cnt = (uint32_t)value;
		tcp_arm_keepalive(st, c);
		return 0;
	case XS_TCP_USER_TIMEOUT:
		if (value < 0)
			return -EINVAL;
		c->user_timeout = value ? XS_MS(value) : TCP_DEFAULT_USER_TIMEOUT;
		return 0;
	case XS_TCP_SNDBUF:
	case XS_TCP_RCVBUF:
		if (value < TCP_MIN_BUF || value > TCP_MAX_BUF)
			return -EINVAL;
		/* A ring lent to the application (a reset connection still
		 * holds its rings) is not replaced under it. */
		if (opt == XS_TCP_SNDBUF ? c->snd_lent : c->rcv_lent)
			return -EBUSY;
		/* Buffers are sized before the connection carries data. */
		if (c->state != XS_TCP_LISTEN && c->state != XS_TCP_CLOSED &&
		    (c->sndbuf.len || c->rcvbuf.len || c->state != XS_TCP_SYN_SENT))
			return -EISCONN;
		/* Sized at establishment. */
		nr = (struct tcp_ring){.cap = (uint32_t)value};
		if (opt == XS_TCP_SNDBUF) {
			tcp_ring_free(&st->tcp->rings, &c->sndbuf);
			c->sndbuf = nr;
		} else {
			tcp_ring_free(&st->tcp->rings, &c->rcvbuf);
			c->rcvbuf = nr;
			/* The scale is announced in the SYN: a listener's
			 * children take the new one; a connection whose SYN
			 * left keeps what it announced (the window is then
			 * capped at 65535 << that scale). To size the buffer
			 * before the SYN use xs_tcp_connect_ex. */
			if (c->state == XS_TCP_LISTEN)
				c->rcv_wscale = tcp_wscale_for(nr.cap);
		}
		tcp_mem_sync(st, c);
		return 0;
	case XS_TCP_RTO_MIN:
		if (value < 1 || value > 1000)
			return -EINVAL;
		c->rtt.rto_min = XS_MS(value);
		if (c->rtt.have_sample && c->rtt.rto < c->rtt.rto_min)
			c->rtt.rto = c->rtt.rto_min;
		return 0;
	case XS_TCP_TOS:
		/* RFC 9293 3.9.1.9 (MUST-48): the application sets the
		 * Differentiated Services field; ECN's two bits are not its. */
		if (value < 0 || value > 255)
			return -EINVAL;
		c->tos = (uint8_t)(value & 0xfc);
		return 0;
	case XS_TCP_CC_CUBIC:
		c->cc_ops = value ? &tcp_cc_cubic : &tcp_cc_newreno;
		if (c->state != XS_TCP_LISTEN)
			c->cc_ops->init(&c->cc, c->mss);
		return 0;
	}
	return -ENOPROTOOPT;
}

int tcp_getopt(const struct tcp_conn *c, enum xs_tcp_opt opt, int *value)
{
	int v;

	switch (opt) {
	case XS_TCP_NODELAY:
		v = c->nodelay;
		break;
	case XS_TCP_KEEPALIVE:
		v = c->keepalive;
		break;
	case XS_TCP_KEEPIDLE:
		v = (int)c->keep_idle_s;
		break;
	case XS_TCP_KEEPINTVL:
		v = (int)c->keep_intvl_s;
		break;
	case XS_TCP_KEEPCNT:
		v = (int)c->keep_cnt;
		break;
	case XS_TCP_USER_TIMEOUT:
		v = c->user_timeout == TCP_DEFAULT_USER_TIMEOUT
			? 0
			: (int)(c->user_timeout / XS_NSEC_PER_MS);
		break;
	case XS_TCP_SNDBUF:
		v = (int)c->sndbuf.cap;
		break;
	case XS_TCP_RCVBUF:
		v = (int)c->rcvbuf.cap;
		break;
	case XS_TCP_CC_CUBIC:
		v = c->cc_ops == &tcp_cc_cubic;
		break;
	case XS_TCP_RTO_MIN:
		v = (int)(c->rtt.rto_min / XS_NSEC_PER_MS);
		break;
	case XS_TCP_TOS:
		v = c->tos;
		break;
	default:
		return -ENOPROTOOPT;
	}
	*value = v;
	return 0;
}

int tcp_shutdown_how(struct xs_stack *st, struct tcp_conn *c, int how)
{
	int err;

	if (!how || (how & ~XS_SHUT_RDWR))
		return -EINVAL;
	if (c->state == XS_TCP_LISTEN)
		return -ENOTCONN;
	/* Nothing is done while a part of it would pull a lent region away
	 * (the unread bytes discarded, a FIN before reserved bytes). */
	if (((how & XS_SHUT_RD) && c->rcv_lent) || ((how & XS_SHUT_WR) && c->snd_lent))
		return -EBUSY;
	if (how & XS_SHUT_WR) {
		err = tcp_shutdown(st, c);
		if (err)
			return err;
	}
	if ((how & XS_SHUT_RD) && !c->rd_shut) {
		/* What is unread is thrown away, and so is what comes later
		 * (acknowledged: the peer is not told); recv says end of stream. */
		c->rd_shut = true;
		if (c->rcvbuf.len) {
			tcp_ring_consume(&c->rcvbuf, c->rcvbuf.len);
			if (c->state != XS_TCP_CLOSED) {
				c->ack_now = true; /* the window opened */
				tcp_output(st, c);
			}
		}
		c->urg_pending = false;
	}
	return 0;
}
