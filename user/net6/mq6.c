/* IPv6 across the stacks of a multi-queue group: stack 0's addresses, routes
 * and link parameters copied to the others, neighbor discovery copies taken. */
#include <stdlib.h>
#include <string.h>

#include "core/mq.h"
#include "core/stack.h"
#include "net6/ip6.h"
#include "net6/mq6.h"

/* What a follower takes from stack 0: everything RFC 4861 and 4862 make a
 * host learn or decide about its link (the neighbor cache and path MTUs
 * stay each stack's own). Built zeroed, so two equal ones compare equal. */
struct ip6_follow {
	struct ip6_ifaddr addr[IP6_MAX_ADDRS];
	struct route6 rt[IP6_MAX_ROUTES];
	uint32_t nrt;
	uint32_t base_reachable_ms, retrans_ms;
	uint16_t link_mtu;
	uint8_t hop_limit;
	uint8_t want_ra;
};

bool ip6_follower(const struct xs_stack *st)
{
	return st->mq && st->mq_index;
}

static void follow_take(const struct xs_stack *st, struct ip6_follow *f)
{
	const struct ip6_state *s6 = st->ip6;
	unsigned i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < IP6_MAX_ADDRS; i++) {
		const struct ip6_ifaddr *x = &s6->addr[i];

		if (x->state == IP6A_FREE)
			continue;
		f->addr[i].a = x->a;
		f->addr[i].plen = x->plen;
		f->addr[i].state = x->state;
		f->addr[i].origin = x->origin;
		f->addr[i].dad_counter = x->dad_counter;
		f->addr[i].preferred_until = x->preferred_until;
		f->addr[i].valid_until = x->valid_until;
	}
	for (i = 0; i < s6->nrt && i < IP6_MAX_ROUTES; i++) {
		f->rt[i].dst = s6->rt[i].dst;
		f->rt[i].plen = s6->rt[i].plen;
		f->rt[i].origin = s6->rt[i].origin;
		f->rt[i].gw = s6->rt[i].gw;
		f->rt[i].expires = s6->rt[i].expires;
	}
	f->nrt = i;
	f->base_reachable_ms = s6->base_reachable_ms;
	f->retrans_ms = s6->retrans_ms;
	f->link_mtu = s6->link_mtu;
	f->hop_limit = s6->hop_limit;
	f->want_ra = s6->want_ra;
}

void ip6_mq_tick(struct xs_stack *st)
{
	struct ip6_state *s6 = st->ip6;
	struct ip6_follow now;
	uint64_t lost;

	if (!st->mq || st->mq_index)
		return;
	follow_take(st, &now);
	if (s6->follow_sent && !memcmp(&now, s6->follow_sent, sizeof(now)))
		return;
	if (!s6->follow_sent && !(s6->follow_sent = malloc(sizeof(now))))
		return;
	/* A copy a full ring lost is sent again at the next tick. */
	lost = st->stats.drop[XS_DROP_MQ_RING_FULL];
	mq_push_ip6_follow(st, &now, sizeof(now));
	if (st->stats.drop[XS_DROP_MQ_RING_FULL] == lost)
		memcpy(s6->follow_sent, &now, sizeof(now));
	else
		memset(s6->follow_sent, 0xff, sizeof(now));
}

void ip6_mq_follow(struct xs_stack *st, const uint8_t *b, size_t n)
{
	struct ip6_state *s6 = st->ip6;
	struct ip6_follow f;
	unsigned ev = 0, i;

	if (!s6 || !ip6_follower(st) || n != sizeof(f))
		return;
	memcpy(&f, b, sizeof(f));
	if (f.nrt > IP6_MAX_ROUTES || !f.hop_limit || f.link_mtu < IP6_MIN_MTU ||
	    f.link_mtu > st->mtu || !f.base_reachable_ms || !f.retrans_ms)
		return;
	for (i = 0; i < IP6_MAX_ADDRS; i++)
		if (f.addr[i].state != s6->addr[i].state || !ip6_eq(&f.addr[i].a, &s6->addr[i].a))
			ev |= XS_IP6_EV_ADDR | XS_IP6_EV_STEER;
	memcpy(s6->addr, f.addr, sizeof(s6->addr));
	memcpy(s6->rt, f.rt, sizeof(s6->rt));
	s6->nrt = f.nrt;
	if (f.base_reachable_ms != s6->base_reachable_ms) {
		/* RFC 4861 6.3.2: a new base, a new random ReachableTime. */
		s6->base_reachable_ms = f.base_reachable_ms;
		s6->reachable_ms =
		    f.base_reachable_ms / 2 + (uint32_t)(xs_random(st) % f.base_reachable_ms);
	}
	s6->retrans_ms = f.retrans_ms;
	s6->link_mtu = f.link_mtu;
	s6->hop_limit = f.hop_limit;
	if (s6->want_ra != !!f.want_ra)
		ev |= XS_IP6_EV_STEER;
	s6->want_ra = f.want_ra;
	if (ev)
		ip6_raise(st, ev);
}

void ip6_mq_attach(struct xs_stack *st)
{
	struct ip6_state *s6 = st->ip6;

	free(s6->follow_sent);
	s6->follow_sent = NULL;
	if (!ip6_follower(st))
		return;
	memset(s6->addr, 0, sizeof(s6->addr));
	memset(s6->rt, 0, sizeof(s6->rt));
	s6->nrt = 0;
	s6->rs_left = 0;
	s6->want_ra = false;
	ip6_raise(st, XS_IP6_EV_ADDR | XS_IP6_EV_STEER);
}

void ip6_input_replica(struct xs_stack *st, const uint8_t *b, size_t n)
{
	struct ip6_repr ip;
	struct ip6_walk w;
	size_t len;

	/* The receiver checked it all; read again, silently. */
	if (!st->ip6 || ip6_parse(b, n, &ip) != XS_DROP_NONE)
		return;
	len = IP6_HDR_LEN + (size_t)ip.payload_len;
	if (ip6_walk(b, len, ip6_is_multicast(&ip.dst), &w) != XS_DROP_NONE ||
	    w.proto != IP6_NH_ICMP6)
		return;
	icmp6_nd_replica(st, &ip, b, w.l4_off, len);
}
