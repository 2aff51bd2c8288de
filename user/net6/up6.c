/* UDP and TCP over IPv6: the entry points from ip6_input and icmp6.c, handed
 * to net6/udp6.c and the shared TCP of user/tcp/. */
#include <errno.h>

#include "core/stack.h"
#include "net6/ip6.h"
#include "net6/up6.h"
#include "tcp/tcp.h"
#include "wire/bytes.h"

void up6_input(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt, size_t l4_off,
	       size_t len, uint8_t proto, bool mcast)
{
	if (proto == IP6_NH_UDP) {
		udp6_input(st, ip, pkt, l4_off, len, mcast);
		return;
	}
	tcp6_input(st, ip, pkt, l4_off, len);
}

int up6_icmp_error(struct xs_stack *st, const struct icmp6_quote *q, uint8_t type, int err)
{
	if (q->proto == IP6_NH_UDP)
		return udp6_icmp_error(st, &q->dst, ld_be16(q->l4), ld_be16(q->l4 + 2), err);
	return tcp6_icmp_error(st, &q->src, &q->dst, ld_be16(q->l4), ld_be16(q->l4 + 2),
			       ld_be32(q->l4 + 4), type == ICMP6_PKT_TOO_BIG, err);
}
