/* UDP and TCP over IPv6: the upper layers' IPv6 entry points (the sockets
 * and connections themselves are user/net/udp.c and user/tcp/, shared). */
#ifndef XS_NET6_UP6_H
#define XS_NET6_UP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/icmp6.h"
#include "wire/ip6.h"
#include "wire/ndp.h"

struct xs_stack;

/* pkt: the whole IPv6 packet (len bytes), the UDP or TCP header at l4_off. */
void up6_input(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt, size_t l4_off,
	       size_t len, uint8_t proto, bool mcast);
/* An ICMPv6 error quoting a UDP or TCP packet of ours: 0 if a socket or
 * connection took it, -ENOENT. */
int up6_icmp_error(struct xs_stack *st, const struct icmp6_quote *q, uint8_t type, int err);

/* udp6.c */
void udp6_input(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt, size_t l4_off,
		size_t len, bool mcast);
int udp6_icmp_error(struct xs_stack *st, const struct ip6_addr *dst, uint16_t sport, uint16_t dport,
		    int err);

/* slaac.c: a Router Advertisement (validated by ndp_parse). */
void slaac_ra_input(struct xs_stack *st, const struct ip6_repr *ip, const struct ndp_repr *ra,
		    bool replica);
void slaac_tick(struct xs_stack *st);

#endif
