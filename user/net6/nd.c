/* Neighbor Discovery address resolution and unreachability detection (RFC
 * 4861 7): a keyed, bounded cache in five states; unsolicited input never
 * creates an entry for an advertisement, nor evicts an entry in use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "core/stack.h"
#include "net/iface.h"
#include "net6/ip6.h"
#include "net6/mq6.h"
#include "net6/nd.h"
#include "wire/bytes.h"
#include "wire/eth.h"

#define IP6S(st) ((st)->ip6)

static unsigned nd_hash(const struct xs_stack *st, const struct ip6_addr *a)
{
	return (unsigned)siphash13(st->keys.nd, a->b, IP6_ADDR_LEN) & (ND_BUCKETS - 1);
}

int nd_cache_init(struct nd_cache *c)
{
	int i, err;

	memset(c, 0, sizeof(*c));
	err = pending_init(&c->pending, ND_PENDING_SLOTS);
	if (err)
		return err;
	for (i = 0; i < ND_BUCKETS; i++)
		c->bucket[i] = -1;
	for (i = 0; i < ND_CACHE_SIZE; i++)
		c->e[i].next = (int16_t)(i + 1 < ND_CACHE_SIZE ? i + 1 : -1);
	return 0;
}

static int nd_find(const struct xs_stack *st, const struct ip6_addr *a)
{
	const struct nd_cache *c = &IP6S(st)->nd;
	int i;

	for (i = c->bucket[nd_hash(st, a)]; i >= 0; i = c->e[i].next)
		if (ip6_eq(&c->e[i].ip, a))
			return i;
	return -1;
}

/* A packet that waited in vain: its sender hears address unreachable (RFC
 * 4861 7.2.2, RFC 4443 3.1 code 3). */
static void nd_unreachable(struct xs_stack *st, const uint8_t *frame, size_t len)
{
	if (len > ETH_HDR_LEN + IP6_HDR_LEN)
		icmp6_local_error(st, ICMP6_DST_UNREACH, 3, frame + ETH_HDR_LEN, len - ETH_HDR_LEN);
}

/* Frees the packets waiting on e, counted as reason. */
static void nd_drop_pending(struct xs_stack *st, struct nd_entry *e, enum xs_drop reason)
{
	pending_drop(st, &IP6S(st)->nd.pending, &e->pending, reason,
		     reason == XS_DROP_ND_UNRESOLVED ? nd_unreachable : NULL);
}

static void nd_remove(struct xs_stack *st, int i, enum xs_drop reason)
{
	struct nd_cache *c = &IP6S(st)->nd;
	unsigned h = nd_hash(st, &c->e[i].ip);
	int16_t *pp = &c->bucket[h];

	while (*pp != i)
		pp = &c->e[*pp].next;
	*pp = c->e[i].next;
	c->chain_len[h]--;
	nd_drop_pending(st, &c->e[i], reason);
	c->e[i].state = ND_FREE;
	c->e[i].next = c->free_entry;
	c->free_entry = (int16_t)i;
}

void nd_cache_fini(struct xs_stack *st)
{
	struct nd_cache *c = &IP6S(st)->nd;

	pending_fini(&c->pending);
}

/* In use: being resolved or probed, packets waiting, a router we route
 * through, or sent through since it was made. Unsolicited input never
 * evicts these. */
static bool nd_in_use(const struct xs_stack *st, const struct nd_entry *e)
{
	return e->used || e->pending.n || (e->state != ND_REACHABLE && e->state != ND_STALE) ||
	       route6_is_router(st, &e->ip);
}

/* The entry that makes room in a full cache: for our own resolution the
 * least valuable (unused, then in use, then being resolved; the nearest
 * timer first within each), for unsolicited learning only one not in use. */
static int nd_victim(const struct xs_stack *st, bool unsolicited)
{
	const struct nd_cache *c = &IP6S(st)->nd;
	int i, victim = -1, rank, best = 3;

	for (i = 0; i < ND_CACHE_SIZE; i++) {
		const struct nd_entry *e = &c->e[i];

		rank = e->state == ND_INCOMPLETE ? 2 : nd_in_use(st, e) ? 1 : 0;
		if (unsolicited && rank)
			continue;
		if (rank < best || (rank == best && e->timer < c->e[victim].timer)) {
			victim = i;
			best = rank;
		}
	}
	return victim;
}

static int nd_alloc(struct xs_stack *st, const struct ip6_addr *a, bool unsolicited)
{
	struct nd_cache *c = &IP6S(st)->nd;
	unsigned h;
	int i;

	if (c->free_entry < 0) {
		i = nd_victim(st, unsolicited);
		if (i < 0)
			return -1;
		nd_remove(st, i, XS_DROP_ND_QUEUE_FULL);
	}
	i = c->free_entry;
	c->free_entry = c->e[i].next;
	h = nd_hash(st, a);
	memset(&c->e[i], 0, sizeof(c->e[i]));
	c->e[i].ip = *a;
	pending_q_init(&c->e[i].pending);
	c->e[i].timer = ND_NEVER;
	c->e[i].next = c->bucket[h];
	c->bucket[h] = (int16_t)i;
	if (++c->chain_len[h] > st->stats.nd_chain_max)
		st->stats.nd_chain_max = c->chain_len[h];
	return i;
}

/* Sends what waited for e's address, now known. */
static void nd_flush_pending(struct xs_stack *st, struct nd_entry *e)
{
	pending_send(st, &IP6S(st)->nd.pending, &e->pending, e->mac);
}

/* RFC 4861 6.3.2: ReachableTime, refreshed whenever an entry becomes REACHABLE. */
static void nd_reachable(struct xs_stack *st, struct nd_entry *e)
{
	e->state = ND_REACHABLE;
	e->probes = 0;
	e->timer = st->now + XS_MS(IP6S(st)->reachable_ms);
}

static void nd_stale(struct nd_entry *e)
{
	e->state = ND_STALE;
	e->probes = 0;
	e->timer = ND_NEVER;
}

int nd_send_ns(struct xs_stack *st, const struct ip6_addr *src, const struct ip6_addr *target,
	       const struct ip6_addr *dst)
{
	struct ndp_repr r = {.type = ICMP6_ND_NS, .target = *target};
	struct ip6_addr sn, s;
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, n;
	int err;

	if (!dst) {
		ip6_solicited_node(target, &sn);
		dst = &sn;
	}
	if (src) {
		s = *src;
	} else if (ip6_select_src(st, target, &s) != 0) {
		return -EADDRNOTAVAIL;
	}
	/* RFC 4861 7.2.2: our link-layer address, except from :: (DAD, 4862 5.4.2). */
	if (!ip6_is_unspecified(&s)) {
		r.has_sll = true;
		memcpy(r.sll, st->mac, ETH_ADDR_LEN);
	}
	l4 = ip6_tx_begin(st, dst, &f, &cap);
	if (!l4)
		return -ENOBUFS;
	n = ndp_emit(&r, &s, dst, l4, cap);
	/* The neighbour is the next hop (a unicast probe goes to its cached MAC). */
	err = ip6_tx_finish(st, &f, &s, dst, dst, IP6_NH_ICMP6, 0, NDP_HOP_LIMIT, n);
	if (!err) {
		st->stats.icmp6_tx++;
		st->stats.nd_ns_tx++;
	}
	return err;
}

/* INCOMPLETE asks the solicited-node group, PROBE the neighbour itself. */
static void nd_probe(struct xs_stack *st, struct nd_entry *e)
{
	struct ip6_addr ip = e->ip;

	nd_send_ns(st, NULL, &ip, e->state == ND_PROBE ? &ip : NULL);
	e->probes++;
	e->timer = st->now + XS_MS(IP6S(st)->retrans_ms);
}

/* RFC 4861 7.2.4: a Neighbor Advertisement for target, to dst: to dst_mac
 * when the solicitation gave its sender's address (so a flood of
 * solicitations costs the cache nothing in use, learned or not), else
 * through the neighbor cache. */
static void nd_send_na(struct xs_stack *st, const struct ip6_addr *target,
		       const struct ip6_addr *dst, const uint8_t *dst_mac, uint8_t flags)
{
	struct ndp_repr r = {
	    .type = ICMP6_ND_NA, .target = *target, .flags = flags, .has_tll = true};
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, n;

	memcpy(r.tll, st->mac, ETH_ADDR_LEN);
	l4 = ip6_tx_begin(st, dst, &f, &cap);
	if (!l4)
		return;
	n = ndp_emit(&r, target, dst, l4, cap);
	/* On-link by definition: the solicitation came with hop limit 255. */
	if ((dst_mac
		 ? ip6_tx_finish_mac(st, &f, target, dst, dst_mac, IP6_NH_ICMP6, NDP_HOP_LIMIT, n)
		 : ip6_tx_finish(st, &f, target, dst, dst, IP6_NH_ICMP6, 0, NDP_HOP_LIMIT, n)) ==
	    0) {
		st->stats.icmp6_tx++;
		st->stats.nd_na_tx++;
	}
}

/* count: the refusal is this stack's to count (not a replica's). */
static void nd_learn_from(struct xs_stack *st, const struct ip6_addr *ip, const uint8_t mac[6],
			  bool router, bool count)
{
	struct nd_cache *c = &IP6S(st)->nd;
	struct nd_entry *e;
	int i = nd_find(st, ip);

	if (i < 0) {
		i = nd_alloc(st, ip, true);
		if (i < 0) {
			st->stats.nd_refused_in_use += count;
			return;
		}
		e = &c->e[i];
		memcpy(e->mac, mac, ETH_ADDR_LEN);
		nd_stale(e);
		e->router = router;
		return;
	}
	e = &c->e[i];
	if (router)
		e->router = 1;
	/* RFC 4861 7.2.3: a new address makes it STALE; INCOMPLETE learns it
	 * and sends what waited. The same address changes nothing. */
	if (e->state != ND_INCOMPLETE && !memcmp(e->mac, mac, ETH_ADDR_LEN))
		return;
	memcpy(e->mac, mac, ETH_ADDR_LEN);
	nd_stale(e);
	nd_flush_pending(st, e);
}

void nd_learn(struct xs_stack *st, const struct ip6_addr *ip, const uint8_t mac[6], bool router,
	      bool replica)
{
	nd_learn_from(st, ip, mac, router, !replica);
}

/* Drops counted by the stack that received the packet, not by its copies. */
static void nd_drop(struct xs_stack *st, enum xs_drop why, bool replica)
{
	if (!replica)
		xs_drop(st, why);
}

void nd_ns_input(struct xs_stack *st, const struct ip6_repr *ip, const struct ndp_repr *m,
		 bool replica)
{
	struct ip6_state *s6 = IP6S(st);
	int i = ip6_addr_find(st, &m->target);
	bool unspec = ip6_is_unspecified(&ip->src);
	/* In a multi-queue group stack 0 owns the addresses: it answers the
	 * solicitations any stack hears (from the copies), so no answer ever
	 * comes from a follower whose copy of the addresses is a tick old. */
	bool owner = !ip6_follower(st);

	st->stats.nd_ns_rx += !replica;
	if (i < 0) {
		nd_drop(st, XS_DROP_ND_NOT_OURS, replica);
		return;
	}
	if (s6->addr[i].state == IP6A_TENTATIVE) {
		/* RFC 4862 5.4.3: another node's DAD for the same address makes
		 * ours a duplicate (in a group, stack 0's decision: it runs DAD);
		 * a resolution of a tentative address goes unanswered. */
		if (unspec && owner)
			ip6_dad_failed(st, i);
		else if (!unspec)
			nd_drop(st, XS_DROP_IP6_DST, replica);
		return;
	}
	if (s6->addr[i].state == IP6A_DUPLICATE) {
		nd_drop(st, XS_DROP_IP6_DST, replica);
		return;
	}
	if (unspec) {
		/* Someone's DAD for our address: defend it (RFC 4861 7.2.4). */
		if (owner)
			nd_send_na(st, &m->target, &ip6_all_nodes, NULL, NDP_NA_OVERRIDE);
		return;
	}
	if (m->has_sll)
		nd_learn_from(st, &ip->src, m->sll, false, !replica);
	if (owner)
		nd_send_na(st, &m->target, &ip->src, m->has_sll ? m->sll : NULL,
			   NDP_NA_SOLICITED | NDP_NA_OVERRIDE);
}

void nd_na_input(struct xs_stack *st, const struct ip6_repr *ip, const struct ndp_repr *m,
		 bool replica)
{
	struct ip6_state *s6 = IP6S(st);
	struct nd_entry *e;
	bool changed;
	int i;

	st->stats.nd_na_rx += !replica;
	i = ip6_addr_find(st, &m->target);
	if (i >= 0) {
		/* RFC 4862 5.4.4: an answer to our DAD (stack 0's, in a group);
		 * for an address already in use, a conflict DAD missed (counted,
		 * the address kept). */
		if (s6->addr[i].state == IP6A_TENTATIVE) {
			if (!ip6_follower(st))
				ip6_dad_failed(st, i);
		} else {
			nd_drop(st, XS_DROP_ND_CONFLICT, replica);
		}
		return;
	}
	i = nd_find(st, &m->target);
	if (i < 0) {
		/* RFC 4861 7.2.5: nothing asked, nothing learned. */
		nd_drop(st, XS_DROP_ND_UNSOLICITED, replica);
		return;
	}
	e = &s6->nd.e[i];
	if (e->state == ND_INCOMPLETE) {
		if (!m->has_tll) {
			nd_drop(st, XS_DROP_ND_BAD, replica);
			return;
		}
		memcpy(e->mac, m->tll, ETH_ADDR_LEN);
		if (m->flags & NDP_NA_SOLICITED)
			nd_reachable(st, e);
		else
			nd_stale(e);
		e->router = !!(m->flags & NDP_NA_ROUTER);
		nd_flush_pending(st, e);
		return;
	}
	changed = m->has_tll && memcmp(m->tll, e->mac, ETH_ADDR_LEN);
	if (!(m->flags & NDP_NA_OVERRIDE) && changed) {
		/* Not an override: keep the address, but doubt it. */
		if (e->state == ND_REACHABLE)
			nd_stale(e);
		return;
	}
	if (m->has_tll)
		memcpy(e->mac, m->tll, ETH_ADDR_LEN);
	if (m->flags & NDP_NA_SOLICITED)
		nd_reachable(st, e);
	else if (changed)
		nd_stale(e);
	e->router = !!(m->flags & NDP_NA_ROUTER);
}

int nd_output(struct xs_stack *st, const struct ip6_addr *nh, struct xs_frame *f, size_t len)
{
	struct nd_cache *c = &IP6S(st)->nd;
	struct nd_entry *e;
	int i = nd_find(st, nh), err;

	if (i >= 0 && c->e[i].state != ND_INCOMPLETE) {
		e = &c->e[i];
		e->used = 1;
		/* RFC 4861 7.3.3: a STALE entry is used, and checked shortly. */
		if (e->state == ND_STALE) {
			e->state = ND_DELAY;
			e->timer = st->now + ND_DELAY_FIRST_PROBE;
		}
		memcpy(f->data, e->mac, ETH_ADDR_LEN);
		iface_tx_submit(st, f, len);
		return 0;
	}
	if (i < 0) {
		i = nd_alloc(st, nh, false);
		e = &c->e[i];
		e->state = ND_INCOMPLETE;
		e->used = 1;
		nd_probe(st, e);
	}
	/* A copy waits (in the order sent); the frame goes back at once. */
	err = pending_add(&c->pending, &c->e[i].pending, f->data, len);
	xs_dev_tx_abort(st->dev, f);
	if (err)
		xs_drop(st, XS_DROP_ND_QUEUE_FULL);
	return err;
}

void nd_tick(struct xs_stack *st)
{
	struct nd_cache *c = &IP6S(st)->nd;
	int i;

	for (i = 0; i < ND_CACHE_SIZE; i++) {
		struct nd_entry *e = &c->e[i];

		if (e->state == ND_FREE || e->timer > st->now)
			continue;
		switch (e->state) {
		case ND_INCOMPLETE:
			if (e->probes < ND_MAX_MULTICAST_SOLICIT)
				nd_probe(st, e);
			else
				nd_remove(st, i, XS_DROP_ND_UNRESOLVED);
			break;
		case ND_REACHABLE:
			nd_stale(e);
			break;
		case ND_DELAY:
			e->state = ND_PROBE;
			e->probes = 0;
			nd_probe(st, e);
			break;
		case ND_PROBE:
			if (e->probes < ND_MAX_UNICAST_SOLICIT)
				nd_probe(st, e);
			else
				nd_remove(st, i, XS_DROP_ND_UNRESOLVED);
			break;
		default:
			e->timer = ND_NEVER;
			break;
		}
	}
}

void nd_forget(struct xs_stack *st, const struct ip6_addr *ip)
{
	int i = nd_find(st, ip);

	if (i >= 0)
		nd_remove(st, i, XS_DROP_ND_UNRESOLVED);
}

void nd_flush(struct xs_stack *st)
{
	int i;

	for (i = 0; i < ND_CACHE_SIZE; i++)
		if (IP6S(st)->nd.e[i].state != ND_FREE)
			nd_remove(st, i, XS_DROP_ND_UNRESOLVED);
}

static const char *nd_state_name(uint8_t s)
{
	static const char *const names[] = {"free",  "incomplete", "reachable",
					    "stale", "delay",	   "probe"};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

size_t xs_ip6_nd_list(const struct xs_stack *st, xs_time_t now, struct xs_nd_entry_info *out,
		      size_t max)
{
	size_t n = 0;
	int i;

	if (!st->ip6)
		return 0;
	for (i = 0; i < ND_CACHE_SIZE && n < max; i++) {
		const struct nd_entry *e = &IP6S(st)->nd.e[i];

		if (e->state == ND_FREE)
			continue;
		memcpy(out[n].addr, e->ip.b, IP6_ADDR_LEN);
		memcpy(out[n].mac, e->mac, ETH_ADDR_LEN);
		out[n].state = nd_state_name(e->state);
		out[n].router = e->router;
		out[n].timer_ms = e->timer == ND_NEVER ? -1
				  : e->timer > now ? (int64_t)((e->timer - now) / XS_NSEC_PER_MS)
						   : 0;
		n++;
	}
	return n;
}

void xs_ip6_nd_flush(struct xs_stack *st)
{
	if (st->ip6)
		nd_flush(st);
}
