/* The DHCP client inside a stack (RFC 2131 4.4): its messages over UDP 68/67 with
 * source 0.0.0.0 until bound, its ARP probes, and the lease applied to the stack. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/stack.h"
#include "net/dhcp.h"
#include "net/dhcp_stack.h"
#include "net/ip4.h"
#include "wire/bytes.h"
#include "wire/udp.h"

int dhcp_stack_init(struct xs_stack *st)
{
	uint64_t seed;

	if (!st->cfg.dhcp)
		return 0;
	st->dhcp = calloc(1, sizeof(*st->dhcp));
	if (!st->dhcp)
		return -ENOMEM;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = xs_random(st);
	dhcp_client_init(st->dhcp, st->mac, seed);
	dhcp_client_start(st->dhcp, 0); /* the first poll sends DISCOVER */
	return 0;
}

void dhcp_stack_fini(struct xs_stack *st)
{
	free(st->dhcp);
	st->dhcp = NULL;
}

static uint8_t mask_len(uint32_t m)
{
	uint8_t n = 0;

	while (n < 32 && (m & (0x80000000u >> n)))
		n++;
	return n;
}

/* The stack's address, connected route and default route (user routes go:
 * they were relative to the old subnet). ip 0: unbound, nothing routed. */
static void dhcp_set_addr(struct xs_stack *st, const struct dhcp_lease *l)
{
	uint8_t plen = 32;

	st->ip = l ? l->ip : 0;
	if (l && l->mask) {
		plen = mask_len(l->mask);
		if (plen == 0 || route_mask(plen) != l->mask)
			plen = 24; /* not a contiguous mask: RFC 950's usual */
	} else if (l) {
		plen = 24;
	}
	st->cfg.prefix_len = plen;
	st->netmask = route_mask(plen);
	st->bcast = st->ip | ~st->netmask;
	arp_cache_flush(st);
	st->routes.n = 0;
	if (!st->ip) {
		st->garp_left = 0;
		return;
	}
	route_table_init(st); /* connected; cfg.gateway is 0 with DHCP */
	if (l->router && l->router != l->ip && (l->router & st->netmask) == (l->ip & st->netmask))
		xs_route_add(st, 0, 0, l->router);
	for (unsigned i = 0; i < l->dns_n; i++)
		if (dhcp_addr_usable(l->dns[i]))
			xs_dns_add_server(st, l->dns[i], 53);
	/* RFC 5227 2.3: announce the address (the stack's gratuitous ARPs) */
	st->garp_left = st->cfg.gratuitous_arps;
	st->garp_next = st->now;
}

static void dhcp_send(struct xs_stack *st, const struct dhcp_out *o)
{
	struct udp_repr u = {.sport = DHCP_CLIENT_PORT,
			     .dport = DHCP_SERVER_PORT,
			     .payload = o->b,
			     .payload_len = o->len};
	size_t n;

	if (o->kind != DHCP_OUT_MSG) {
		/* RFC 5227 2.1.1: sender 0.0.0.0, target the address */
		if (o->kind == DHCP_OUT_PROBE)
			arp_send_request(st, o->ip, NULL);
		return;
	}
	n = udp_emit(&u, st->ip, o->dst, st->scratch, XS_SCRATCH_LEN);
	if (n && ip4_send(st, o->dst, IP4_PROTO_UDP, 0, st->scratch, n) == 0)
		st->stats.udp_tx++;
}

/* Events from the state machine: the address follows the lease. */
static void dhcp_apply(struct xs_stack *st)
{
	struct dhcp_client *c = st->dhcp;
	uint32_t want = dhcp_client_addr(c);

	if (want != st->ip || (c->ev & DHCP_EV_BOUND))
		dhcp_set_addr(st, want ? &c->lease : NULL);
	st->dhcp_ev |= c->ev;
	c->ev = 0;
}

void dhcp_stack_timers(struct xs_stack *st)
{
	struct dhcp_out o;
	int guard = 8;

	/* Stopped (released): the address stays until the stack is freed, so
	 * that the RELEASE, maybe waiting on ARP, can still go out. */
	if (!st->dhcp || st->dhcp->state == DHCP_STOPPED)
		return;
	while (guard-- && dhcp_client_poll(st->dhcp, st->now, &o) == 1) {
		/* an announce is the end of the probe: bound from now */
		dhcp_apply(st);
		dhcp_send(st, &o);
	}
	dhcp_apply(st);
}

xs_time_t dhcp_stack_next(const struct xs_stack *st)
{
	return st->dhcp ? dhcp_client_next(st->dhcp) : UINT64_MAX;
}

bool dhcp_stack_wants(const struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *pkt)
{
	const uint8_t *b = pkt + ip->hdr_len;
	size_t n = ip4_payload_len(ip);

	if (!st->dhcp || ip->proto != IP4_PROTO_UDP || ip4_is_fragment(ip) || n < UDP_HDR_LEN ||
	    ld_be16(b) != DHCP_SERVER_PORT || ld_be16(b + 2) != DHCP_CLIENT_PORT)
		return false;
	/* Bound, only what is for our address or broadcast (RFC 1122 3.2.1.3);
	 * unbound, what reached our MAC (a server may unicast to yiaddr). */
	return !st->ip || ip->dst == st->ip || ip4_is_broadcast(st, ip->dst);
}

bool dhcp_stack_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *pkt)
{
	const uint8_t *b = pkt + ip->hdr_len;
	size_t n = ip4_payload_len(ip);
	struct udp_repr u;
	enum xs_drop why;

	if (!dhcp_stack_wants(st, ip, pkt))
		return false;
	why = udp_parse(b, n, ip->src, ip->dst, &u);
	if (!why) {
		st->stats.udp_rx++;
		why = dhcp_client_input(st->dhcp, u.payload, u.payload_len, st->now);
	}
	if (why)
		xs_drop(st, why);
	/* an OFFER/ACK moves the machine: run it now, not at the next timer */
	dhcp_stack_timers(st);
	return true;
}

void dhcp_stack_arp(struct xs_stack *st, const struct arp_repr *a)
{
	if (!st->dhcp)
		return;
	dhcp_client_arp(st->dhcp, a->spa, a->tpa, a->sha, st->now);
	dhcp_stack_timers(st); /* a conflict DECLINEs at once */
}

unsigned xs_dhcp_events(struct xs_stack *st)
{
	unsigned ev = st->dhcp_ev;

	st->dhcp_ev = 0;
	return ev;
}

static int64_t left_ms(xs_time_t at, xs_time_t now)
{
	if (at == UINT64_MAX)
		return -1;
	return at > now ? (int64_t)((at - now) / 1000000) : 0;
}

int xs_dhcp_info(const struct xs_stack *st, xs_time_t now, struct xs_dhcp_info *out)
{
	const struct dhcp_client *c = st->dhcp;
	bool bound;

	if (!c)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	bound = dhcp_client_addr(c) != 0;
	out->state = dhcp_state_name(c->state);
	out->t1_ms = out->t2_ms = out->expiry_ms = -1;
	if (bound) {
		out->ip = c->lease.ip;
		out->prefix_len = st->cfg.prefix_len;
		out->router = c->lease.router;
		out->server = c->lease.server;
		out->lease_s = c->lease.lease_s;
		if (c->state == DHCP_BOUND)
			out->t1_ms = left_ms(c->t1_at, now);
		if (c->state != DHCP_REBINDING)
			out->t2_ms = left_ms(c->t2_at, now);
		out->expiry_ms = left_ms(c->expire_at, now);
	}
	out->offers = c->offers;
	out->acks = c->acks;
	out->naks = c->naks;
	out->declines = c->declines;
	out->expiries = c->expiries;
	return 0;
}

void xs_dhcp_release(struct xs_stack *st)
{
	struct dhcp_out o;

	if (!st->dhcp)
		return;
	if (dhcp_client_release(st->dhcp, &o))
		dhcp_send(st, &o);
	xs_dev_flush(st->dev);
	st->dhcp_ev |= st->dhcp->ev;
	st->dhcp->ev = 0;
}
