/* The route table: the connected subnet, a default gateway and added routes,
 * longest prefix first. Small and linear: a host has few routes. */
#ifndef XS_NET_ROUTE_H
#define XS_NET_ROUTE_H

#include <xdpstack/stack.h>

struct route_table {
	struct xs_route r[XS_MAX_ROUTES];
	unsigned n;
};

static inline uint32_t route_mask(uint8_t plen)
{
	return plen ? ~(uint32_t)0 << (32 - plen) : 0;
}

/* Installs the connected route and, if cfg has one, the default gateway. */
int route_table_init(struct xs_stack *st);

#endif
