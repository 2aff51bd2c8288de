/* ARP (RFC 826) for the stack's one address: answer requests for it, learn and
 * age neighbours, resolve next hops with retries while packets wait, bounded.
 * Unsolicited traffic never creates entries off-link nor evicts one in use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/mq.h"
#include "core/siphash.h"
#include "core/stack.h"
#include "net/arp.h"
#include "net/dhcp_stack.h"
#include "net/iface.h"
#include "net/icmp.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ip4.h"

static const uint8_t zero_mac[ETH_ADDR_LEN];

/* Keyed, so a neighbour choosing its (spoofed) addresses cannot pile them
 * into one chain. */
static unsigned arp_hash(const struct xs_stack *st, uint32_t ip)
{
	return (unsigned)siphash13(st->keys.arp, &ip, sizeof(ip)) & (ARP_BUCKETS - 1);
}

int arp_cache_init(struct arp_cache *c)
{
	int i;
	int err;

	memset(c, 0, sizeof(*c));
	err = pending_init(&c->pending, ARP_PENDING_SLOTS);
	if (err)
		return err;
	for (i = 0; i < ARP_BUCKETS; i++)
		c->bucket[i] = -1;
	for (i = 0; i < ARP_CACHE_SIZE; i++)
		c->e[i].next = (int16_t)(i + 1 < ARP_CACHE_SIZE ? i + 1 : -1);
	c->free_entry = 0;
	c->last_tx = -1;
	return 0;
}

void arp_cache_fini(struct arp_cache *c)
{
	pending_fini(&c->pending);
}

static int arp_find(const struct xs_stack *st, uint32_t ip)
{
	const struct arp_cache *c = &st->arp;
	int i;

	for (i = c->bucket[arp_hash(st, ip)]; i >= 0; i = c->e[i].next)
		if (c->e[i].ip == ip)
			return i;
	return -1;
}

/* RFC 1122 2.3.2.2: the sender of a packet that waited in vain hears host
 * unreachable. A waiting packet is always ours, a whole IP packet after the
 * Ethernet header; only a first fragment (or none) is quoted. */
static void arp_unreachable(struct xs_stack *st, const uint8_t *frame, size_t len)
{
	if (len > ETH_HDR_LEN + IP4_HDR_LEN && !(ld_be16(frame + ETH_HDR_LEN + 6) & IP4_OFF_MASK))
		icmp_local_error(st, ICMP_DEST_UNREACH, 1, frame + ETH_HDR_LEN, len - ETH_HDR_LEN);
}

/* Frees the packets waiting on entry e, counting each as reason. */
static void arp_drop_pending(struct xs_stack *st, struct arp_entry *e, enum xs_drop reason)
{
	pending_drop(st, &st->arp.pending, &e->pending, reason,
		     reason == XS_DROP_ARP_UNRESOLVED ? arp_unreachable : NULL);
}

static void arp_remove(struct xs_stack *st, int i, enum xs_drop reason)
{
	struct arp_cache *c = &st->arp;
	unsigned h = arp_hash(st, c->e[i].ip);
	int16_t *pp = &c->bucket[h];

	while (*pp != i)
		pp = &c->e[*pp].next;
	*pp = c->e[i].next;
	c->chain_len[h]--;
	arp_drop_pending(st, &c->e[i], reason);
	c->e[i].state = ARP_FREE;
	c->e[i].next = c->free_entry;
	c->free_entry = (int16_t)i;
}

static bool arp_is_gateway(const struct xs_stack *st, uint32_t ip)
{
	unsigned i;

	for (i = 0; i < st->routes.n; i++)
		if (st->routes.r[i].gateway == ip)
			return true;
	return false;
}

void arp_mark_gateways(struct xs_stack *st)
{
	int i;

	for (i = 0; i < ARP_CACHE_SIZE; i++)
		if (st->arp.e[i].state != ARP_FREE)
			st->arp.e[i].gw = arp_is_gateway(st, st->arp.e[i].ip);
}

/* In use: a gateway, an entry being resolved (packets may wait on it), or
 * one we sent through. Unsolicited traffic never evicts these. */
static bool arp_in_use(const struct arp_entry *e)
{
	return e->gw || e->used || e->state != ARP_REACHABLE || e->pending.n;
}

/* Which entry makes room when the cache is full: for our own resolution
 * (solicited) the least valuable one, resolved and unused entries first,
 * then in use, then being resolved, nearest expiry first within each; for
 * unsolicited learning only a resolved entry not in use, or none (-1). */
static int arp_victim(const struct arp_cache *c, bool unsolicited)
{
	int i, victim = -1, rank, best = 3;

	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		const struct arp_entry *e = &c->e[i];

		rank = e->state != ARP_REACHABLE ? 2 : arp_in_use(e) ? 1 : 0;
		if (unsolicited && rank)
			continue;
		if (rank < best || (rank == best && e->expires < c->e[victim].expires)) {
			victim = i;
			best = rank;
		}
	}
	return victim;
}

/* A free entry for ip, or -1 when the cache is full and nothing may make
 * room for it (unsolicited learning, everything in use). */
static int arp_alloc(struct xs_stack *st, uint32_t ip, bool unsolicited)
{
	struct arp_cache *c = &st->arp;
	int i;
	unsigned h;

	if (c->free_entry < 0) {
		i = arp_victim(c, unsolicited);
		if (i < 0)
			return -1;
		arp_remove(st, i, XS_DROP_ARP_QUEUE_FULL);
	}
	i = c->free_entry;
	c->free_entry = c->e[i].next;
	h = arp_hash(st, ip);
	memset(&c->e[i], 0, sizeof(c->e[i]));
	c->e[i].ip = ip;
	pending_q_init(&c->e[i].pending);
	c->e[i].gw = arp_is_gateway(st, ip);
	c->e[i].next = c->bucket[h];
	c->bucket[h] = (int16_t)i;
	if (++c->chain_len[h] > st->stats.arp_chain_max)
		st->stats.arp_chain_max = c->chain_len[h];
	return i;
}

static void arp_resolved(struct xs_stack *st, int i, const uint8_t mac[6])
{
	struct arp_entry *e = &st->arp.e[i];

	if (e->state == ARP_INCOMPLETE)
		e->used = 1; /* we asked because we send to it */
	memcpy(e->mac, mac, ETH_ADDR_LEN);
	e->state = ARP_REACHABLE;
	e->looked_up = 0;
	e->expires = st->now + XS_MS(st->cfg.arp_lifetime_ms);
	pending_send(st, &st->arp.pending, &e->pending, e->mac); /* what waited */
}

static int arp_send(struct xs_stack *st, uint16_t op, const uint8_t *eth_dst,
		    const uint8_t *tha, uint32_t tpa)
{
	struct arp_repr a = { .op = op, .spa = st->ip, .tpa = tpa };
	struct xs_frame f;
	size_t len;

	if (iface_tx_alloc(st, &f) != 0)
		return -ENOBUFS;
	memcpy(a.sha, st->mac, ETH_ADDR_LEN);
	memcpy(a.tha, tha, ETH_ADDR_LEN);
	len = iface_eth_header(st, f.data, eth_dst, ETH_TYPE_ARP);
	len += arp_emit(&a, f.data + len, f.cap - len);
	iface_tx_submit(st, &f, len);
	if (op == ARP_OP_REQUEST)
		st->stats.arp_tx_request++;
	else
		st->stats.arp_tx_reply++;
	return 0;
}

int arp_send_request(struct xs_stack *st, uint32_t ip, const uint8_t *dst_mac)
{
	return arp_send(st, ARP_OP_REQUEST, dst_mac ? dst_mac : eth_broadcast, zero_mac, ip);
}

/* The receiving stack answers and counts; a replica (a copy another queue's
 * stack received, multi-queue) only learns, by the same rules. */
static void arp_receive(struct xs_stack *st, const uint8_t *b, size_t n, bool replica)
{
	struct arp_repr a;
	enum xs_drop why;
	int i, merged = 0;

	why = arp_parse(b, n, &a);
	if (why)
		goto drop;
	if (!replica && a.op == ARP_OP_REQUEST)
		st->stats.arp_rx_request++;
	else if (!replica)
		st->stats.arp_rx_reply++;
	if (eth_is_multicast(a.sha) || !memcmp(a.sha, zero_mac, ETH_ADDR_LEN)) {
		why = XS_DROP_ARP_SRC;
		goto drop;
	}
	/* RFC 5227 2.1.1: DHCP's probe of an offered address hears everything */
	dhcp_stack_arp(st, &a);
	if (!st->ip) {
		/* no address yet (DHCP): nothing to answer, nothing to learn */
		why = XS_DROP_ARP_NOT_OURS;
		goto drop;
	}
	if (a.spa == st->ip) {
		/* Someone else claims our address (or a looped copy of our own). */
		why = memcmp(a.sha, st->mac, ETH_ADDR_LEN) ? XS_DROP_ARP_CONFLICT : XS_DROP_ARP_SRC;
		goto drop;
	}
	/* RFC 5227 probe (sender 0.0.0.0): answer if it is for us, learn nothing. */
	if (a.spa != 0 && ip4_is_martian_src(a.spa)) {
		why = XS_DROP_ARP_SRC;
		goto drop;
	}
	/* RFC 826 merge: refresh a sender we already know, whoever the target. */
	if (a.spa != 0) {
		i = arp_find(st, a.spa);
		if (i >= 0) {
			arp_resolved(st, i, a.sha);
			merged = 1;
		}
	}
	if (a.tpa != st->ip) {
		if (!merged && !replica)
			xs_drop(st, XS_DROP_ARP_NOT_OURS);
		return;
	}
	if (!merged && a.spa != 0) {
		/* New entries only from a request for us (as Linux with
		 * arp_accept=0): a reply we did not ask for teaches nothing. */
		if (a.op != ARP_OP_REQUEST) {
			if (!replica)
				xs_drop(st, XS_DROP_ARP_UNSOLICITED);
			return;
		}
		/* The request is answered either way; the sender is learned only
		 * when on the connected subnet (only those are next hops) and
		 * when that evicts nothing in use. */
		if ((a.spa & st->netmask) != (st->ip & st->netmask))
			st->stats.arp_refused_offlink += !replica;
		else if ((i = arp_alloc(st, a.spa, true)) < 0)
			st->stats.arp_refused_in_use += !replica;
		else
			arp_resolved(st, i, a.sha);
	}
	if (a.op == ARP_OP_REQUEST && !replica)
		arp_send(st, ARP_OP_REPLY, a.sha, a.sha, a.spa);
	return;
drop:
	if (!replica)
		xs_drop(st, why);
}

void arp_input(struct xs_stack *st, const struct eth_repr *eth, const uint8_t *b, size_t n)
{
	(void)eth;
	arp_receive(st, b, n, false);
	/* Multi-queue: every stack learns what any of them hears. */
	if (st->mq)
		mq_replicate_arp(st, b, n);
}

void arp_input_replica(struct xs_stack *st, const uint8_t *b, size_t n)
{
	arp_receive(st, b, n, true);
}

int arp_cache_lookup(struct xs_stack *st, uint32_t ip, uint8_t mac[6])
{
	int i = st->arp.last_tx;

	/* The next hop of the previous packet sent, most often this one's
	 * too: no hash. An entry freed or reused since fails the test. */
	if (i < 0 || st->arp.e[i].ip != ip || st->arp.e[i].state == ARP_FREE)
		i = arp_find(st, ip);
	st->arp.last_tx = (int16_t)i;

	if (i < 0 || st->arp.e[i].state == ARP_INCOMPLETE)
		return 0;
	st->arp.e[i].used = 1;
	st->arp.e[i].looked_up = 1;
	memcpy(mac, st->arp.e[i].mac, ETH_ADDR_LEN);
	return 1;
}

void arp_queue_frame(struct xs_stack *st, uint32_t next_hop, const uint8_t *frame, size_t len)
{
	struct arp_cache *c = &st->arp;
	int i;

	i = arp_find(st, next_hop);
	if (i < 0) {
		i = arp_alloc(st, next_hop, false);
		c->e[i].state = ARP_INCOMPLETE;
		c->e[i].retries_left = (uint8_t)(st->cfg.arp_retries - 1);
		c->e[i].expires = st->now + XS_MS(st->cfg.arp_retry_ms);
		arp_send_request(st, next_hop, NULL);
	}
	if (pending_add(&c->pending, &c->e[i].pending, frame, len))
		xs_drop(st, XS_DROP_ARP_QUEUE_FULL);
}

void arp_tick(struct xs_stack *st)
{
	struct arp_cache *c = &st->arp;
	int i;

	for (i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &c->e[i];

		if (e->state == ARP_FREE || e->expires > st->now)
			continue;
		/* RFC 1122 2.3.2.1 (2): an entry in use is not dropped at the end
		 * of its life (every packet to it would wait, or be lost, while it
		 * is resolved anew); it is kept and polled by unicast, as Linux
		 * does (NUD_PROBE). An entry nobody used just goes. */
		if (e->state == ARP_REACHABLE && e->looked_up) {
			e->state = ARP_PROBE;
			e->retries_left = (uint8_t)st->cfg.arp_retries;
		}
		if (e->state != ARP_REACHABLE && e->retries_left > 0) {
			e->retries_left--;
			e->expires = st->now + XS_MS(st->cfg.arp_retry_ms);
			arp_send_request(st, e->ip, e->state == ARP_PROBE ? e->mac : NULL);
			continue;
		}
		/* Lifetime over unused, or the next hop never answered. */
		arp_remove(st, i, XS_DROP_ARP_UNRESOLVED);
	}
}

void arp_cache_flush(struct xs_stack *st)
{
	int i;

	for (i = 0; i < ARP_CACHE_SIZE; i++)
		if (st->arp.e[i].state != ARP_FREE)
			arp_remove(st, i, XS_DROP_ARP_UNRESOLVED);
}

size_t xs_stack_arp_list(const struct xs_stack *st, xs_time_t now,
			 struct xs_arp_entry_info *out, size_t max)
{
	size_t n = 0;
	int i;

	for (i = 0; i < ARP_CACHE_SIZE && n < max; i++) {
		const struct arp_entry *e = &st->arp.e[i];

		if (e->state == ARP_FREE)
			continue;
		out[n].ip = e->ip;
		memcpy(out[n].mac, e->mac, ETH_ADDR_LEN);
		out[n].resolved = e->state == ARP_REACHABLE || e->state == ARP_PROBE;
		out[n].expires_ms = e->expires > now ? (uint32_t)((e->expires - now) / XS_NSEC_PER_MS) : 0;
		n++;
	}
	return n;
}
