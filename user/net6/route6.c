/* The IPv6 route table: on-link prefixes (of our addresses and of RAs),
 * static routes, and the default routers RAs announce (RFC 4861 6.3.4, 5.2). */
#include <string.h>

#include "core/stack.h"
#include "net6/ip6.h"

void route6_init(struct xs_stack *st)
{
	st->ip6->nrt = 0;
}

static void route6_remove(struct xs_stack *st, unsigned i)
{
	struct ip6_state *s = st->ip6;

	memmove(&s->rt[i], &s->rt[i + 1], (s->nrt - i - 1) * sizeof(s->rt[0]));
	s->nrt--;
}

/* RA-learned routes and prefixes live as long as the RA said. */
void route6_tick(struct xs_stack *st)
{
	unsigned i = 0;

	while (i < st->ip6->nrt) {
		if (st->ip6->rt[i].expires <= st->now)
			route6_remove(st, i);
		else
			i++;
	}
}

bool route6_is_router(const struct xs_stack *st, const struct ip6_addr *a)
{
	unsigned i;

	for (i = 0; i < st->ip6->nrt; i++)
		if (ip6_eq(&st->ip6->rt[i].gw, a))
			return true;
	return false;
}
