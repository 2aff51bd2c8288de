/* UDP over IPv6 (RFC 768, RFC 8200 8.1): the IPv6 half of the sockets of
 * net/udp.c (one port space, one socket serves both families) and the
 * address-family-aware calls behind include/xdpstack/ip6.h (user/api/udp.c). */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "net/udp.h"
#include "net6/ip6.h"
#include "net6/up6.h"
#include "wire/udp.h"

void udp6_input(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt, size_t l4_off,
		size_t len, bool mcast)
{
	struct udp_dgram hdr = {.family = XS_AF_INET6};
	struct udp_sock *s;
	struct udp_repr u;
	enum xs_drop why;
	int h;

	why = udp_parse6(pkt + l4_off, len - l4_off, ip->src.b, ip->dst.b, &u);
	if (why)
		goto drop;
	st->stats.udp_rx++;
	h = st->udp.port_map[u.dport] - 1;
	s = h >= 0 ? &st->udp.s[h] : NULL;
	/* A connected socket hears only its peer. */
	if (!s || (s->rport && (s->rfam != XS_AF_INET6 || memcmp(s->rip6, ip->src.b, 16) ||
				s->rport != u.sport))) {
		/* RFC 4443 3.1: port unreachable (code 4), never to multicast. */
		if (!mcast)
			icmp6_send_error(st, ICMP6_DST_UNREACH, 4, 0, pkt, len, false);
		why = XS_DROP_UDP_NO_PORT;
		goto drop;
	}
	memcpy(hdr.ip6, ip->src.b, 16);
	hdr.port = u.sport;
	hdr.len = (uint16_t)u.payload_len;
	udp_enqueue(st, h, &hdr, u.payload);
	return;
drop:
	xs_drop(st, why);
}

int udp6_icmp_error(struct xs_stack *st, const struct ip6_addr *dst, uint16_t sport, uint16_t dport,
		    int err)
{
	int h = st->udp.port_map[sport] - 1;
	struct udp_sock *s = h >= 0 ? &st->udp.s[h] : NULL;

	/* As for IPv4: only a connected socket, only about its peer. */
	if (!s || !s->rport || s->rfam != XS_AF_INET6 || memcmp(s->rip6, dst->b, 16) ||
	    s->rport != dport)
		return -ENOENT;
	s->err = err;
	udp_mark_ready(st, h);
	return 0;
}

static void udp6_blocked(struct xs_stack *st, struct udp_sock *s)
{
	if (!s->tx_blocked) {
		s->tx_blocked = 1;
		st->udp.nblocked++;
	}
}

static ssize_t udp6_send(struct xs_stack *st, struct udp_sock *s, const void *buf, size_t len,
			 const struct ip6_addr *dst, uint16_t port)
{
	struct udp_repr u = {.sport = s->lport, .dport = port, .payload = buf, .payload_len = len};
	struct ip6_addr src;
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, n;
	int err;

	if (len > 0xffff - UDP_HDR_LEN - IP6_FRAG_HDR_LEN)
		return -EMSGSIZE;
	if (ip6_select_src(st, dst, &src) != 0)
		return -EADDRNOTAVAIL;
	if (UDP_HDR_LEN + len <= ip6_mtu_room(st, dst)) {
		l4 = ip6_tx_begin(st, dst, &f, &cap);
		if (!l4) {
			udp6_blocked(st, s);
			return -ENOBUFS;
		}
		n = udp_emit6(&u, src.b, dst->b, l4, cap);
		err = ip6_tx_finish(st, &f, &src, dst, NULL, IP6_NH_UDP, 0, 0, n);
	} else {
		/* The checksum covers the whole datagram: build it, then fragment. */
		n = udp_emit6(&u, src.b, dst->b, st->scratch, XS_SCRATCH_LEN);
		err = ip6_send(st, &src, dst, IP6_NH_UDP, 0, 0, st->scratch, n);
	}
	if (err == -ENOBUFS)
		udp6_blocked(st, s);
	if (err)
		return err;
	st->stats.udp_tx++;
	return (ssize_t)len;
}

/* An IPv6 destination we can send to: not ::, multicast, v4-mapped. */
static int udp6_dst(const struct xs_addr *a, struct ip6_addr *d)
{
	memcpy(d->b, a->a, 16);
	if (a->family != XS_AF_INET6 || ip6_is_unspecified(d) || ip6_is_multicast(d) ||
	    ip6_is_v4mapped(d))
		return -EINVAL;
	return 0;
}

ssize_t udp_sendto_addr(struct xs_stack *st, int h, const void *buf, size_t len,
			const struct xs_addr *dst, uint16_t port)
{
	struct udp_sock *s = udp_sock_get(st, h);
	struct ip6_addr d;
	int err;

	if (!s)
		return -EBADF;
	if (!dst || port == 0)
		return -EINVAL;
	if (dst->family == XS_AF_INET4)
		return udp_sendto(st, h, buf, len, xs_addr_ip4(dst), port);
	if (udp6_dst(dst, &d))
		return -EINVAL;
	if (!st->ip6)
		return -EADDRNOTAVAIL;
	if (!s->lport && (err = udp_bind_ephemeral(st, h)) != 0)
		return err;
	return udp6_send(st, s, buf, len, &d, port);
}

ssize_t udp_recvfrom_addr(struct xs_stack *st, int h, void *buf, size_t cap, struct xs_addr *from,
			  uint16_t *port)
{
	struct udp_dgram m;
	ssize_t n = udp_recv(st, h, buf, cap, &m);

	if (n < 0)
		return n;
	if (from) {
		if (m.family == XS_AF_INET6)
			xs_addr_from_ip6(from, m.ip6);
		else
			xs_addr_from_ip4(from, m.ip);
	}
	if (port)
		*port = m.port;
	return n;
}

int udp_connect_addr(struct xs_stack *st, int h, const struct xs_addr *dst, uint16_t port)
{
	struct udp_sock *s = udp_sock_get(st, h);
	struct ip6_addr d;
	int err;

	if (!s)
		return -EBADF;
	if (!dst || !port)
		return -EINVAL;
	if (dst->family == XS_AF_INET4)
		return udp_connect(st, h, xs_addr_ip4(dst), port);
	if (udp6_dst(dst, &d))
		return -EINVAL;
	if (!s->lport && (err = udp_bind_ephemeral(st, h)) != 0)
		return err;
	memcpy(s->rip6, d.b, 16);
	s->rip = 0;
	s->rfam = XS_AF_INET6;
	s->rport = port;
	s->err = 0;
	return 0;
}
