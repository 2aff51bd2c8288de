/* TCP over either family: addresses kept as IPv6 (IPv4 as ::ffff:a.b.c.d), so
 * the TCB, the table and the state machine have one code path; here the
 * network layer each family needs and the active open to either family. */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "net/ip4.h"
#include "net6/ip6.h"
#include "tcp/tcp.h"
#include "wire/csum.h"

void tcp_addr_from4(struct ip6_addr *a, uint32_t ip)
{
	memset(a->b, 0, 10);
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	a->b[12] = (uint8_t)(ip >> 24);
	a->b[13] = (uint8_t)(ip >> 16);
	a->b[14] = (uint8_t)(ip >> 8);
	a->b[15] = (uint8_t)ip;
}

uint8_t *tcp_tx_begin(struct xs_stack *st, const struct ip6_addr *dst, struct xs_frame *f,
		      size_t *cap)
{
	if (tcp_addr_is4(dst))
		return ip4_tx_begin(st, f, cap);
	return ip6_tx_begin(st, dst, f, cap);
}

int tcp_tx_finish(struct xs_stack *st, struct xs_frame *f, const struct ip6_addr *src,
		  const struct ip6_addr *dst, uint8_t tos, size_t n)
{
	if (tcp_addr_is4(dst))
		return ip4_tx_finish(st, f, tcp_addr4(dst), IP4_PROTO_TCP, tos, n);
	/* RFC 8200 7: the traffic class plays the TOS's part. */
	return ip6_tx_finish(st, f, src, dst, NULL, IP6_NH_TCP, tos, 0, n);
}

uint32_t tcp_pseudo(const struct ip6_addr *src, const struct ip6_addr *dst)
{
	if (tcp_addr_is4(dst))
		return csum_pseudo4(tcp_addr4(src), tcp_addr4(dst), IP4_PROTO_TCP, 0);
	return csum_pseudo6(src->b, dst->b, IP6_NH_TCP, 0);
}

uint32_t tcp_mtu_room(const struct xs_stack *st, const struct ip6_addr *dst)
{
	/* RFC 8201 5.2 / RFC 9293 3.7.1: IPv6's MSS follows the path MTU. */
	if (!tcp_addr_is4(dst) && st->ip6)
		return (uint32_t)ip6_mtu_room(st, dst);
	return (uint32_t)st->mtu - IP4_HDR_LEN;
}

/* An ICMPv6 error quoting one of our segments (laddr -> raddr). A Packet
 * Too Big (RFC 8201 5.2) has lowered the path MTU already: the connection's
 * segments shrink to it and the first one unacknowledged goes again. */
int tcp6_icmp_error(struct xs_stack *st, const struct ip6_addr *laddr, const struct ip6_addr *raddr,
		    uint16_t sport, uint16_t dport, uint32_t seq, bool too_big, int err)
{
	struct tcp_conn *c;
	uint32_t room;

	if (!too_big)
		return tcp_icmp_error_addr(st, laddr, raddr, sport, dport, seq, err);
	c = tcp_lookup(st, laddr, sport, raddr, dport);
	/* RFC 5927 4.1, as for the other errors: a sequence number in flight. */
	if (!c || seq_lt(seq, c->snd_una) || seq_gt(seq, c->snd_max))
		return -ENOENT;
	room = tcp_mtu_room(st, raddr) - TCP_HDR_LEN;
	if (room < c->mss) {
		c->mss = (uint16_t)room;
		if (tcp_flight(c) && c->state != XS_TCP_SYN_SENT && c->state != XS_TCP_SYN_RECEIVED)
			tcp_retransmit_head(st, c);
	}
	return 0;
}

int tcp_connect_addr(struct xs_stack *st, const struct ip6_addr *raddr, uint16_t port,
		     const struct xs_tcp_connect_opts *o)
{
	struct ip6_addr l, nh;

	if (tcp_addr_is4(raddr))
		return tcp_connect(st, tcp_addr4(raddr), port, o);
	/* The same rule for IPv6: a unicast host, not ours. */
	if (!port || !st->ip6 || ip6_is_multicast(raddr) || ip6_is_unspecified(raddr) ||
	    ip6_is_loopback(raddr) || ip6_addr_find(st, raddr) >= 0)
		return -EINVAL;
	if (tcp_mem_over_high(st)) {
		xs_drop(st, XS_DROP_TCP_MEM);
		return -ENOBUFS;
	}
	/* MUST-43: the application's local address, if it gave one and it is
	 * one of ours, past DAD; else RFC 6724's choice (MUST-44). */
	if (o && o->laddr.family == XS_AF_INET4)
		return -EINVAL;
	if (o && o->laddr.family) {
		memcpy(l.b, o->laddr.a, 16);
		if (!ip6_addr_usable(st, &l))
			return -EADDRNOTAVAIL;
	} else if (ip6_select_src(st, raddr, &l) != 0) {
		return -EADDRNOTAVAIL;
	}
	if (ip6_route(st, raddr, &nh) != 0)
		return -ENETUNREACH;
	return tcp_connect_common(st, &l, raddr, port, o);
}
