/* The IPv6 route table: on-link prefixes (of our static addresses and of
 * RAs), static routes, and the default routers RAs announce (RFC 4861 6.3.4,
 * 5.2; RFC 5942: nothing else is on-link). Small and linear, longest prefix. */
#include <errno.h>
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

static int route6_find(const struct xs_stack *st, const struct ip6_addr *dst, uint8_t plen,
		       const struct ip6_addr *gw)
{
	unsigned i;

	for (i = 0; i < st->ip6->nrt; i++) {
		const struct route6 *r = &st->ip6->rt[i];

		if (r->plen == plen && ip6_eq(&r->dst, dst) && (!gw || ip6_eq(&r->gw, gw)))
			return (int)i;
	}
	return -1;
}

int route6_set(struct xs_stack *st, const struct ip6_addr *dst, uint8_t plen,
	       const struct ip6_addr *gw, uint8_t origin, xs_time_t expires)
{
	struct ip6_state *s = st->ip6;
	struct ip6_addr d = *dst;
	int i;

	ip6_prefix_mask(&d, plen);
	/* A default router is one entry per router; anything else, one per prefix. */
	i = route6_find(st, &d, plen, plen == 0 ? gw : NULL);
	if (i >= 0) {
		/* An RA does not override what was configured (a static
		 * route, an address's prefix); configuration overrides an RA. */
		if ((origin == RT6_RA_PREFIX || origin == RT6_RA_ROUTER) &&
		    (s->rt[i].origin == RT6_STATIC || s->rt[i].origin == RT6_CONNECTED))
			return -EEXIST;
		s->rt[i].gw = *gw;
		s->rt[i].origin = origin;
		s->rt[i].expires = expires;
		return 0;
	}
	if (s->nrt == IP6_MAX_ROUTES)
		return -ENOSPC;
	s->rt[s->nrt++] = (struct route6){
	    .dst = d, .plen = plen, .gw = *gw, .origin = origin, .expires = expires};
	return 0;
}

void route6_unset(struct xs_stack *st, const struct ip6_addr *dst, uint8_t plen,
		  const struct ip6_addr *gw, uint8_t origin)
{
	int i = route6_find(st, dst, plen, gw);

	if (i >= 0 && st->ip6->rt[i].origin == origin)
		route6_remove(st, (unsigned)i);
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

/* A next hop must be a neighbour: link-local, or inside an on-link prefix
 * (or the prefix of a static address still in DAD). */
static bool route6_onlink(const struct xs_stack *st, const struct ip6_addr *a)
{
	unsigned i;

	if (ip6_is_linklocal(a))
		return true;
	for (i = 0; i < IP6_MAX_ADDRS; i++) {
		const struct ip6_ifaddr *x = &st->ip6->addr[i];

		if (x->origin == IP6O_STATIC && x->state != IP6A_FREE &&
		    x->state != IP6A_DUPLICATE && x->plen < 128 && ip6_prefix_eq(&x->a, a, x->plen))
			return true;
	}
	for (i = 0; i < st->ip6->nrt; i++) {
		const struct route6 *r = &st->ip6->rt[i];

		if (ip6_is_unspecified(&r->gw) && r->plen && ip6_prefix_eq(&r->dst, a, r->plen))
			return true;
	}
	return false;
}

int xs_route6_add(struct xs_stack *st, const uint8_t dst[16], uint8_t plen, const uint8_t gw[16])
{
	struct ip6_addr d, g;

	if (!st->ip6)
		return -EADDRNOTAVAIL;
	if (plen > 128)
		return -EINVAL;
	memcpy(d.b, dst, 16);
	memset(g.b, 0, 16);
	if (gw)
		memcpy(g.b, gw, 16);
	if (ip6_is_multicast(&d) || ip6_is_multicast(&g) || ip6_is_v4mapped(&g))
		return -EINVAL;
	{
		struct ip6_addr m = d;

		ip6_prefix_mask(&m, plen);
		if (!ip6_eq(&m, &d))
			return -EINVAL; /* host bits set */
	}
	if (!ip6_is_unspecified(&g) && !route6_onlink(st, &g))
		return -ENETUNREACH;
	if (route6_find(st, &d, plen, plen == 0 ? &g : NULL) >= 0)
		return -EEXIST;
	return route6_set(st, &d, plen, &g, RT6_STATIC, ND_NEVER);
}

int xs_route6_del(struct xs_stack *st, const uint8_t dst[16], uint8_t plen)
{
	struct ip6_addr d;
	int i;

	if (!st->ip6)
		return -ESRCH;
	memcpy(d.b, dst, 16);
	i = route6_find(st, &d, plen, NULL);
	if (i < 0)
		return -ESRCH;
	if (st->ip6->rt[i].origin == RT6_CONNECTED)
		return -EPERM;
	route6_remove(st, (unsigned)i);
	return 0;
}

size_t xs_route6_list(const struct xs_stack *st, xs_time_t now, struct xs_route6 *out, size_t max)
{
	static const char *const origins[] = {"connected", "static", "ra-prefix", "ra-router"};
	size_t n = 0;
	unsigned i;

	if (!st->ip6)
		return 0;
	for (i = 0; i < st->ip6->nrt && n < max; i++) {
		const struct route6 *r = &st->ip6->rt[i];

		memcpy(out[n].dst, r->dst.b, 16);
		out[n].prefix_len = r->plen;
		memcpy(out[n].gateway, r->gw.b, 16);
		out[n].origin = origins[r->origin];
		out[n].expires_ms = r->expires == ND_NEVER ? -1
				    : r->expires > now
					? (int64_t)((r->expires - now) / XS_NSEC_PER_MS)
					: 0;
		n++;
	}
	return n;
}
