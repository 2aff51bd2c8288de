/* IPv6 reassembly: fragments are not taken yet (dropped and counted). */
#include "core/stack.h"
#include "net6/frag6.h"

const uint8_t *frag6_input(struct xs_stack *st, struct ip6_repr *ip, const uint8_t *pkt, size_t len,
			   struct ip6_walk *w)
{
	(void)ip;
	(void)pkt;
	(void)len;
	(void)w;
	xs_drop(st, XS_DROP_IP6_FRAG);
	return NULL;
}

void frag6_tick(struct xs_stack *st)
{
	(void)st;
}

void frag6_fini(struct xs_stack *st)
{
	(void)st;
}
