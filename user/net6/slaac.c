/* Router Advertisements (RFC 4861 6.3.4) and stateless address
 * autoconfiguration (RFC 4862 5.5): default routers, prefixes, addresses. */
#include "core/stack.h"
#include "net6/ip6.h"
#include "net6/up6.h"

void slaac_ra_input(struct xs_stack *st, const struct ip6_repr *ip, const struct ndp_repr *ra)
{
	(void)ip;
	(void)ra;
	xs_drop(st, XS_DROP_ND_RA_IGNORED);
}

void slaac_tick(struct xs_stack *st)
{
	(void)st;
}
