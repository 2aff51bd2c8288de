/* The stack's IPv6 addresses: RFC 7217 stable link-local identifiers,
 * duplicate address detection (RFC 4862 5.4), lifetimes, and the view the
 * XDP program and the tools get. Also IPv6's place in the stack's life. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/siphash.h"
#include "core/stack.h"
#include "net6/ip6.h"
#include "net6/mq6.h"
#include "net6/mld.h"
#include "net6/nd.h"
#include "net6/up6.h"
#include "wire/bytes.h"

static const struct ip6_addr ip6_unspec;

void ip6_raise(struct xs_stack *st, unsigned ev)
{
	st->ip6->events |= ev;
	/* The addresses changed: so may the groups MLD reports. */
	if (ev & XS_IP6_EV_STEER)
		st->ip6->mld.dirty = true;
}

int ip6_addr_find(const struct xs_stack *st, const struct ip6_addr *a)
{
	int i;

	if (!st->ip6)
		return -1;
	for (i = 0; i < IP6_MAX_ADDRS; i++)
		if (st->ip6->addr[i].state != IP6A_FREE && ip6_eq(&st->ip6->addr[i].a, a))
			return i;
	return -1;
}

bool ip6_addr_usable(const struct xs_stack *st, const struct ip6_addr *a)
{
	int i = ip6_addr_find(st, a);

	return i >= 0 && (st->ip6->addr[i].state == IP6A_PREFERRED ||
			  st->ip6->addr[i].state == IP6A_DEPRECATED);
}

/* RFC 7217 5: RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter,
 * secret_key), F being SipHash-2-4 under the configured secret, Net_Iface the
 * MAC; an identifier RFC 5453 reserves is skipped by counting on. */
void ip6_stable_iid(const struct xs_stack *st, struct ip6_addr *a, uint8_t *counter)
{
	uint8_t m[IP6_ADDR_LEN / 2 + 6 + 1];
	uint64_t rid;

	for (;; (*counter)++) {
		memcpy(m, a->b, 8);
		memcpy(m + 8, st->mac, 6);
		m[14] = *counter;
		rid = siphash24(st->ip6->cfg.secret, m, sizeof(m));
		st_be32(a->b + 8, (uint32_t)(rid >> 32));
		st_be32(a->b + 12, (uint32_t)rid);
		/* RFC 5453: 0 (subnet-router anycast) and fdff:ffff:ffff:ff80-ff. */
		if (rid != 0 && (rid >> 7) != (0xfdffffffffffff80ull >> 7))
			return;
	}
}

static xs_time_t ip6_life(const struct xs_stack *st, uint32_t s)
{
	return s == NDP_INFINITE ? ND_NEVER : st->now + XS_SEC(s);
}

/* RFC 4862 5.4.2: a random delay of up to a second before the first
 * solicitation, so hosts started together do not collide. */
static void ip6_dad_start(struct xs_stack *st, struct ip6_ifaddr *x)
{
	if (st->ip6->cfg.dad_transmits == XS_IP6_NO_DAD) {
		x->state = IP6A_PREFERRED;
		return;
	}
	x->state = IP6A_TENTATIVE;
	x->dad_left = st->ip6->cfg.dad_transmits;
	x->dad_next = st->now + xs_random(st) % XS_MS(IP6_MAX_RTR_SOLICITATION_DELAY_MS);
}

static void ip6_addr_ready(struct xs_stack *st, struct ip6_ifaddr *x);

int ip6_addr_add(struct xs_stack *st, const struct ip6_addr *a, uint8_t plen, uint8_t origin,
		 uint32_t valid_s, uint32_t preferred_s)
{
	struct ip6_ifaddr *x = NULL;
	int i;

	if (ip6_addr_find(st, a) >= 0)
		return -EEXIST;
	for (i = 0; i < IP6_MAX_ADDRS && !x; i++)
		if (st->ip6->addr[i].state == IP6A_FREE)
			x = &st->ip6->addr[i];
	if (!x)
		return -ENOSPC;
	memset(x, 0, sizeof(*x));
	x->a = *a;
	x->plen = plen;
	x->origin = origin;
	x->valid_until = ip6_life(st, valid_s);
	x->preferred_until = ip6_life(st, preferred_s);
	ip6_dad_start(st, x);
	if (x->state == IP6A_PREFERRED)
		ip6_addr_ready(st, x);
	ip6_raise(st, XS_IP6_EV_STEER);
	return (int)(x - st->ip6->addr);
}

/* The address is usable. A static one's prefix is on-link (RFC 4862 5.4
 * leaves that to the address's configuration; a /128 says nothing about
 * neighbours); a SLAAC one's on-link prefix is what the RA's L flag said. */
static void ip6_addr_ready(struct xs_stack *st, struct ip6_ifaddr *x)
{
	static const struct ip6_addr onlink;

	if (x->origin == IP6O_STATIC && x->plen < 128)
		route6_set(st, &x->a, x->plen, &onlink, RT6_CONNECTED, ND_NEVER);
	ip6_raise(st, XS_IP6_EV_ADDR);
}

void ip6_dad_failed(struct xs_stack *st, int i)
{
	struct ip6_ifaddr *x = &st->ip6->addr[i];

	st->stats.nd_dad_conflicts++;
	ip6_raise(st, XS_IP6_EV_DUPLICATE | XS_IP6_EV_ADDR | XS_IP6_EV_STEER);
	/* RFC 7217 6: an identifier of ours collided: the next DAD_Counter
	 * makes another, IDGEN_RETRIES times. A static address is refused. */
	if (x->origin != IP6O_STATIC && x->dad_counter < IP6_IDGEN_RETRIES) {
		x->dad_counter++;
		ip6_stable_iid(st, &x->a, &x->dad_counter);
		ip6_dad_start(st, x);
		if (x->state == IP6A_PREFERRED)
			ip6_addr_ready(st, x);
		return;
	}
	x->state = IP6A_DUPLICATE;
}

void ip6_addr_tick(struct xs_stack *st)
{
	int i;

	for (i = 0; i < IP6_MAX_ADDRS; i++) {
		struct ip6_ifaddr *x = &st->ip6->addr[i];

		if (x->state == IP6A_TENTATIVE && x->dad_next <= st->now) {
			if (x->dad_left) {
				/* RFC 4862 5.4.2: from ::, to the solicited-node group. */
				if (nd_send_ns(st, &ip6_unspec, &x->a, NULL) == 0)
					x->dad_left--;
				x->dad_next = st->now + XS_MS(st->ip6->retrans_ms);
			} else {
				x->state = IP6A_PREFERRED;
				ip6_addr_ready(st, x);
			}
		}
		if ((x->state == IP6A_PREFERRED || x->state == IP6A_DEPRECATED) &&
		    x->valid_until <= st->now) {
			/* RFC 4862 5.5.4: invalid, gone. */
			x->state = IP6A_FREE;
			ip6_raise(st, XS_IP6_EV_ADDR | XS_IP6_EV_STEER);
		} else if (x->state == IP6A_PREFERRED && x->preferred_until <= st->now) {
			x->state = IP6A_DEPRECATED;
			ip6_raise(st, XS_IP6_EV_ADDR);
		}
	}
}

static bool ip6_config_ok(const struct xs_ip6_config *c)
{
	unsigned i, j;

	if (c->naddrs > XS_IP6_MAX_STATIC)
		return false;
	for (i = 0; i < c->naddrs; i++) {
		struct ip6_addr a;

		memcpy(a.b, c->addrs[i].addr, IP6_ADDR_LEN);
		if (!c->addrs[i].plen || c->addrs[i].plen > 128 || ip6_is_multicast(&a) ||
		    ip6_is_unspecified(&a) || ip6_is_loopback(&a) || ip6_is_v4mapped(&a))
			return false;
		for (j = 0; j < i; j++)
			if (!memcmp(c->addrs[j].addr, a.b, IP6_ADDR_LEN))
				return false;
	}
	return true;
}

int xs_ip6_enable(struct xs_stack *st, const struct xs_ip6_config *cfg)
{
	static const uint8_t zero[16];
	struct ip6_addr ll = {.b = {0xfe, 0x80}};
	struct ip6_state *s;
	uint8_t ctr;
	unsigned i;
	int err;

	if (!cfg || st->ip6 || !ip6_config_ok(cfg))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = nd_cache_init(&s->nd);
	if (err) {
		free(s);
		return err;
	}
	s->cfg = *cfg;
	if (!s->cfg.dad_transmits)
		s->cfg.dad_transmits = 1;
	if (!memcmp(s->cfg.secret, zero, sizeof(zero)) &&
	    getrandom(s->cfg.secret, sizeof(s->cfg.secret), 0) != sizeof(s->cfg.secret))
		memcpy(s->cfg.secret, st->keys.nd, sizeof(s->cfg.secret));
	s->hop_limit = cfg->hop_limit ? cfg->hop_limit : IP6_DEFAULT_HOP_LIMIT;
	s->link_mtu = st->mtu;
	s->base_reachable_ms = IP6_BASE_REACHABLE_MS;
	/* RFC 4861 6.3.2: uniformly in [0.5, 1.5] x BaseReachableTime. */
	s->reachable_ms =
	    s->base_reachable_ms / 2 + (uint32_t)(xs_random(st) % s->base_reachable_ms);
	s->retrans_ms = IP6_RETRANS_MS;
	s->tokens = (uint64_t)st->cfg.icmp_burst * ICMP_TOKEN;
	s->refilled = st->now;
	for (i = 0; i < IP6_PMTU_BUCKETS; i++)
		s->pmtu_bucket[i] = -1;
	st->ip6 = s;
	s->unpolled = st->now == 0;
	mld_init(st, cfg->mld_robustness);
	/* The link-local address, never the MAC's EUI-64 (the kernel's own). */
	ctr = 0;
	ip6_stable_iid(st, &ll, &ctr);
	i = (unsigned)ip6_addr_add(st, &ll, 64, IP6O_LINKLOCAL, NDP_INFINITE, NDP_INFINITE);
	s->addr[i].dad_counter = ctr;
	for (i = 0; i < cfg->naddrs; i++) {
		struct ip6_addr a;

		memcpy(a.b, cfg->addrs[i].addr, IP6_ADDR_LEN);
		err = ip6_addr_add(st, &a, cfg->addrs[i].plen, IP6O_STATIC, NDP_INFINITE,
				   NDP_INFINITE);
		if (err < 0) {
			ip6_fini(st);
			return err;
		}
	}
	if (cfg->slaac) {
		s->rs_left = IP6_MAX_RTR_SOLICITATIONS;
		s->want_ra = true;
	}
	ip6_raise(st, XS_IP6_EV_STEER);
	if (st->mq)
		ip6_mq_attach(st); /* a follower takes stack 0's addresses instead */
	return 0;
}

void ip6_fini(struct xs_stack *st)
{
	if (!st->ip6)
		return;
	nd_cache_fini(st);
	free(st->ip6->follow_sent);
	free(st->ip6);
	st->ip6 = NULL;
}

void ip6_tick(struct xs_stack *st)
{
	/* In a multi-queue group stack 0 alone runs DAD, lifetimes, SLAAC,
	 * route expiry and MLD, and sends the result to the others (mq6.c). */
	bool follower = ip6_follower(st);
	int i;

	/* Enabled before the first poll (the daemon does), DAD's random delays
	 * (RFC 4862 5.4.2) were drawn from a clock at 0: they count from now. */
	if (st->ip6->unpolled) {
		st->ip6->unpolled = false;
		for (i = 0; i < IP6_MAX_ADDRS; i++)
			if (st->ip6->addr[i].state == IP6A_TENTATIVE)
				st->ip6->addr[i].dad_next += st->now;
	}
	if (!follower) {
		mld_tick(st); /* first: a join's report precedes DAD's solicitation */
		ip6_addr_tick(st);
	}
	nd_tick(st);
	if (!follower)
		route6_tick(st);
	pmtu_tick(st);
	if (!follower)
		slaac_tick(st);
	if (st->mq && !follower)
		ip6_mq_tick(st);
}

unsigned xs_ip6_events(struct xs_stack *st)
{
	unsigned ev;

	if (!st->ip6)
		return 0;
	ev = st->ip6->events;
	st->ip6->events = 0;
	return ev;
}

void xs_ip6_steer_info(const struct xs_stack *st, struct xs_ip6_steer *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	if (!st->ip6)
		return;
	for (i = 0; i < IP6_MAX_ADDRS; i++) {
		const struct ip6_ifaddr *x = &st->ip6->addr[i];

		if (x->state == IP6A_FREE || x->state == IP6A_DUPLICATE)
			continue;
		memcpy(out->addrs[out->naddrs++], x->a.b, IP6_ADDR_LEN);
	}
	out->want_ra = st->ip6->want_ra;
}

static int64_t ms_left(xs_time_t until, xs_time_t now)
{
	if (until == ND_NEVER)
		return -1;
	return until > now ? (int64_t)((until - now) / XS_NSEC_PER_MS) : 0;
}

size_t xs_ip6_addr_list(const struct xs_stack *st, xs_time_t now, struct xs_ip6_addr_info *out,
			size_t max)
{
	static const char *const states[] = {"free", "tentative", "preferred", "deprecated",
					     "duplicate"};
	static const char *const origins[] = {"link-local", "static", "slaac"};
	size_t n = 0;
	int i;

	if (!st->ip6)
		return 0;
	for (i = 0; i < IP6_MAX_ADDRS && n < max; i++) {
		const struct ip6_ifaddr *x = &st->ip6->addr[i];

		if (x->state == IP6A_FREE)
			continue;
		memcpy(out[n].addr, x->a.b, IP6_ADDR_LEN);
		out[n].plen = x->plen;
		out[n].state = states[x->state];
		out[n].origin = origins[x->origin];
		out[n].preferred_ms = ms_left(x->preferred_until, now);
		out[n].valid_ms = ms_left(x->valid_until, now);
		n++;
	}
	return n;
}
