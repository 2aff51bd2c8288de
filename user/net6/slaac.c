/* Router Advertisements (RFC 4861 6.3.4) and stateless address
 * autoconfiguration (RFC 4862 5.5): router solicitations at start, default
 * routers, on-link prefixes and addresses with their lifetimes, and when the
 * XDP program should hand RAs to the stack rather than the kernel. */
#include <string.h>

#include "core/stack.h"
#include "net6/ip6.h"
#include "net6/mq6.h"
#include "net6/nd.h"
#include "net6/up6.h"
#include "wire/bytes.h"
#include "wire/ndp.h"

#define SLAAC_TWO_HOURS 7200u	    /* RFC 4862 5.5.3 (e) */
#define RA_RETRANS_MIN_MS 100	    /* an RA's RetransTimer is kept within these, so a */
#define RA_RETRANS_MAX_MS 60000	    /* hostile one cannot make us flood solicitations */
#define RA_REACHABLE_MAX_MS 3600000 /* RFC 4861 6.2.1 MAX_REACHABLE_TIME */

static xs_time_t life(const struct xs_stack *st, uint32_t s)
{
	return s == NDP_INFINITE ? ND_NEVER : st->now + XS_SEC(s);
}

/* The link-local address, once usable (RS come from it, RFC 4861 6.3.7). */
static const struct ip6_ifaddr *slaac_ll(const struct xs_stack *st)
{
	int i;

	for (i = 0; i < IP6_MAX_ADDRS; i++) {
		const struct ip6_ifaddr *x = &st->ip6->addr[i];

		if (x->origin == IP6O_LINKLOCAL &&
		    (x->state == IP6A_PREFERRED || x->state == IP6A_DEPRECATED))
			return x;
	}
	return NULL;
}

static void slaac_send_rs(struct xs_stack *st, const struct ip6_addr *src)
{
	struct ndp_repr r = {.type = ICMP6_ND_RS, .has_sll = true};
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, n;

	memcpy(r.sll, st->mac, 6);
	l4 = ip6_tx_begin(st, &ip6_all_routers, &f, &cap);
	if (!l4)
		return;
	n = ndp_emit(&r, src, &ip6_all_routers, l4, cap);
	if (ip6_tx_finish(st, &f, src, &ip6_all_routers, NULL, IP6_NH_ICMP6, 0, NDP_HOP_LIMIT, n) ==
	    0) {
		st->stats.icmp6_tx++;
		st->stats.nd_rs_tx++;
	}
}

/* RFC 4862 5.5.3: an autonomous prefix makes (or refreshes) an address of
 * ours: the prefix and an RFC 7217 identifier. */
static void slaac_prefix(struct xs_stack *st, const struct ndp_prefix *p)
{
	struct ip6_state *s6 = st->ip6;
	struct ip6_ifaddr *x = NULL;
	uint32_t left;
	int i;

	/* (a) not link-local, (c) preferred within valid, (d) a /64 for our
	 * 64-bit identifiers. */
	if (ip6_is_linklocal(&p->prefix) || p->preferred > p->valid || p->plen != 64)
		return;
	for (i = 0; i < IP6_MAX_ADDRS && !x; i++)
		if (s6->addr[i].state != IP6A_FREE && s6->addr[i].origin == IP6O_SLAAC &&
		    ip6_prefix_eq(&s6->addr[i].a, &p->prefix, 64))
			x = &s6->addr[i];
	if (!x) {
		struct ip6_addr a = p->prefix;
		uint8_t ctr = 0;

		if (!p->valid)
			return;
		ip6_stable_iid(st, &a, &ctr);
		i = ip6_addr_add(st, &a, 64, IP6O_SLAAC, p->valid, p->preferred);
		if (i >= 0)
			s6->addr[i].dad_counter = ctr;
		return;
	}
	if (x->state == IP6A_DUPLICATE)
		return;
	x->preferred_until = life(st, p->preferred);
	if (x->state == IP6A_DEPRECATED && p->preferred) {
		x->state = IP6A_PREFERRED;
		ip6_raise(st, XS_IP6_EV_ADDR);
	}
	/* (e): a short valid lifetime shortens the address only as far as two
	 * hours, so a spoofed RA cannot take it away at once. */
	left = x->valid_until == ND_NEVER ? NDP_INFINITE
	       : x->valid_until > st->now ? (uint32_t)((x->valid_until - st->now) / XS_SEC(1))
					  : 0;
	if (p->valid > SLAAC_TWO_HOURS || p->valid > left)
		x->valid_until = life(st, p->valid);
	else if (left > SLAAC_TWO_HOURS)
		x->valid_until = life(st, SLAAC_TWO_HOURS);
}

/* When RAs should be steered to the stack again: half the shortest
 * lifetime this one gave (router, prefixes), and at least every hour. */
static void slaac_refresh_at(struct xs_stack *st, const struct ndp_repr *ra)
{
	uint32_t m = 3600;
	unsigned i;

	if (ra->router_lifetime && ra->router_lifetime < m)
		m = ra->router_lifetime;
	for (i = 0; i < ra->nprefix; i++)
		if (ra->prefix[i].valid && ra->prefix[i].valid < m)
			m = ra->prefix[i].valid;
	st->ip6->ra_refresh = st->now + XS_SEC(m) / 2;
}

void slaac_ra_input(struct xs_stack *st, const struct ip6_repr *ip, const struct ndp_repr *ra,
		    bool replica)
{
	struct ip6_state *s6 = st->ip6;
	static const struct ip6_addr any, onlink;
	unsigned i;

	/* In a multi-queue group stack 0 takes RAs, its own and the copies of
	 * the others' (mq6.c); the others learn the router's link-layer
	 * address and follow stack 0's addresses and routes. */
	if (ip6_follower(st)) {
		if (ra->has_sll)
			nd_learn(st, &ip->src, ra->sll, true, replica);
		return;
	}
	/* Without SLAAC the stack is configured by hand (Linux's accept_ra=0). */
	if (!s6->cfg.slaac) {
		xs_drop(st, XS_DROP_ND_RA_IGNORED);
		return;
	}
	st->stats.nd_ra_used++;
	s6->ra_seen = st->now;
	/* RFC 4861 6.3.4: the link's parameters, when given. */
	if (ra->cur_hop_limit)
		s6->hop_limit = ra->cur_hop_limit;
	if (ra->reachable_ms && ra->reachable_ms <= RA_REACHABLE_MAX_MS &&
	    ra->reachable_ms != s6->base_reachable_ms) {
		s6->base_reachable_ms = ra->reachable_ms;
		s6->reachable_ms =
		    s6->base_reachable_ms / 2 + (uint32_t)(xs_random(st) % s6->base_reachable_ms);
	}
	if (ra->retrans_ms)
		s6->retrans_ms = ra->retrans_ms < RA_RETRANS_MIN_MS   ? RA_RETRANS_MIN_MS
				 : ra->retrans_ms > RA_RETRANS_MAX_MS ? RA_RETRANS_MAX_MS
								      : ra->retrans_ms;
	if (ra->has_mtu && ra->mtu >= IP6_MIN_MTU && ra->mtu <= st->mtu)
		s6->link_mtu = (uint16_t)ra->mtu;
	if (ra->has_sll)
		nd_learn(st, &ip->src, ra->sll, true, replica);
	/* The Default Router List: a lifetime of 0 takes the router off it. */
	if (ra->router_lifetime)
		route6_set(st, &any, 0, &ip->src, RT6_RA_ROUTER, life(st, ra->router_lifetime));
	else
		route6_unset(st, &any, 0, &ip->src, RT6_RA_ROUTER);
	for (i = 0; i < ra->nprefix; i++) {
		const struct ndp_prefix *p = &ra->prefix[i];

		if (ip6_is_linklocal(&p->prefix))
			continue;
		/* The Prefix List (on-link): valid 0 times it out at once. */
		if (p->flags & NDP_PFX_ONLINK) {
			if (p->valid)
				route6_set(st, &p->prefix, p->plen, &onlink, RT6_RA_PREFIX,
					   life(st, p->valid));
			else
				route6_unset(st, &p->prefix, p->plen, NULL, RT6_RA_PREFIX);
		}
		if (p->flags & NDP_PFX_AUTO)
			slaac_prefix(st, p);
	}
	slaac_refresh_at(st, ra);
	s6->rs_left = 0; /* answered: no more solicitations (RFC 4861 6.3.7) */
}

void slaac_tick(struct xs_stack *st)
{
	struct ip6_state *s6 = st->ip6;
	const struct ip6_ifaddr *ll;
	bool want;

	if (!s6->cfg.slaac)
		return;
	/* RFC 4861 6.3.7: up to 3 solicitations 4 s apart from the link-local
	 * address, the first after a random delay of up to a second. */
	ll = slaac_ll(st);
	if (ll && s6->rs_left) {
		if (!s6->rs_next) {
			s6->rs_next =
			    st->now + xs_random(st) % XS_MS(IP6_MAX_RTR_SOLICITATION_DELAY_MS) + 1;
		} else if (s6->rs_next <= st->now) {
			struct ip6_addr src = ll->a;

			slaac_send_rs(st, &src);
			s6->rs_left--;
			s6->rs_next = st->now + IP6_RTR_SOLICITATION_INTERVAL;
		}
	}
	/* RAs go to the stack until one was taken, and again from half its
	 * shortest lifetime on (with one solicitation to ask for it), so the
	 * kernel on the interface misses few of the periodic ones. */
	want = !s6->ra_seen || st->now >= s6->ra_refresh;
	if (want && s6->ra_seen && !s6->want_ra && ll) {
		s6->rs_left = 1;
		s6->rs_next = st->now;
	}
	if (want != s6->want_ra) {
		s6->want_ra = want;
		ip6_raise(st, XS_IP6_EV_STEER);
	}
}
