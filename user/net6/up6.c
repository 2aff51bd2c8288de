/* UDP and TCP over IPv6, entry points from ip6_input and icmp6.c. Until the
 * sockets speak IPv6, UDP is answered port unreachable and TCP dropped. */
#include <errno.h>

#include "core/stack.h"
#include "net6/ip6.h"
#include "net6/up6.h"

void up6_input(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt, size_t l4_off,
	       size_t len, uint8_t proto, bool mcast)
{
	(void)ip;
	(void)l4_off;
	if (proto == IP6_NH_UDP) {
		icmp6_send_error(st, ICMP6_DST_UNREACH, 4, 0, pkt, len, false);
		xs_drop(st, XS_DROP_UDP_NO_PORT);
		return;
	}
	(void)mcast;
	xs_drop(st, XS_DROP_TCP_NO_CONN);
}

int up6_icmp_error(struct xs_stack *st, const struct icmp6_quote *q, uint8_t type, int err)
{
	(void)st;
	(void)q;
	(void)type;
	(void)err;
	return -ENOENT;
}
