/* Route lookup for a host (RFC 1122 3.3.1): destinations on the connected
 * subnet are on-link, the rest go to the gateway of the longest matching route. */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "net/route.h"

static int route_find(const struct route_table *t, uint32_t dst, uint8_t plen)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (t->r[i].dst == dst && t->r[i].prefix_len == plen)
			return (int)i;
	return -1;
}

static int route_insert(struct xs_stack *st, uint32_t dst, uint8_t plen, uint32_t gw,
			uint8_t connected)
{
	struct route_table *t = &st->routes;
	unsigned i;

	if (plen > 32 || (dst & ~route_mask(plen)))
		return -EINVAL;
	if (route_find(t, dst, plen) >= 0)
		return -EEXIST;
	if (t->n == XS_MAX_ROUTES)
		return -ENOSPC;
	/* Keep the table sorted by prefix length, longest first. */
	for (i = t->n; i > 0 && t->r[i - 1].prefix_len < plen; i--)
		t->r[i] = t->r[i - 1];
	t->r[i] = (struct xs_route){ .dst = dst, .prefix_len = plen, .gateway = gw,
				     .connected = connected };
	t->n++;
	if (gw)
		arp_mark_gateways(st);
	return 0;
}

int route_table_init(struct xs_stack *st)
{
	int err;

	st->routes.n = 0;
	err = route_insert(st, st->ip & st->netmask, st->cfg.prefix_len, 0, 1);
	if (!err && st->cfg.gateway)
		err = xs_route_add(st, 0, 0, st->cfg.gateway);
	return err;
}

int xs_route_add(struct xs_stack *st, uint32_t dst, uint8_t prefix_len, uint32_t gateway)
{
	/* A host reaches gateways on-link only (no recursive routes). */
	if (gateway && ((gateway & st->netmask) != (st->ip & st->netmask) || gateway == st->ip))
		return -ENETUNREACH;
	return route_insert(st, dst, prefix_len, gateway, 0);
}

int xs_route_del(struct xs_stack *st, uint32_t dst, uint8_t prefix_len)
{
	struct route_table *t = &st->routes;
	int i = route_find(t, dst, prefix_len);

	if (i < 0)
		return -ESRCH;
	if (t->r[i].connected)
		return -EPERM;
	memmove(&t->r[i], &t->r[i + 1], (t->n - (unsigned)i - 1) * sizeof(t->r[0]));
	t->n--;
	arp_mark_gateways(st);
	return 0;
}

size_t xs_route_list(const struct xs_stack *st, struct xs_route *out, size_t max)
{
	size_t n = st->routes.n < max ? st->routes.n : max;

	memcpy(out, st->routes.r, n * sizeof(*out));
	return n;
}

int xs_route_lookup(const struct xs_stack *st, uint32_t dst, uint32_t *next_hop)
{
	const struct route_table *t = &st->routes;
	unsigned i;

	for (i = 0; i < t->n; i++) {
		if ((dst & route_mask(t->r[i].prefix_len)) == t->r[i].dst) {
			*next_hop = t->r[i].gateway ? t->r[i].gateway : dst;
			return 0;
		}
	}
	return -EHOSTUNREACH;
}
