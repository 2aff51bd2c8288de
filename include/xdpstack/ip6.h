/* libxdpstack: IPv6 beside IPv4 on the same stack (dual stack). Addresses,
 * DAD and SLAAC, the neighbor cache, routes, and the address-family-aware calls. */
#ifndef XDPSTACK_IP6_H
#define XDPSTACK_IP6_H

/* <xdpstack/stack.h> includes this at its end; included alone, this takes
 * stack.h in first (its guard stops the loop). */
#include <xdpstack/addr.h>
#include <xdpstack/stack.h>

/* --- turning IPv6 on ------------------------------------------------------
 * IPv6 is off until xs_ip6_enable. It then holds a link-local address whose
 * interface identifier is RFC 7217's stable, semantically opaque one (never
 * the EUI-64 of the MAC: the kernel on the same interface has that one), the
 * static addresses given, and with slaac the addresses Router Advertisements
 * offer (RFC 4862). Every address is tentative until duplicate address
 * detection (RFC 4862 5.4) has sent dad_transmits Neighbor Solicitations,
 * retrans_ms apart, without an answer; a duplicate is never used
 * (XS_IP6_EV_DUPLICATE). Budgets are in docs/LIMITS.md. */
#define XS_IP6_MAX_ADDRS 8   /* addresses of the stack, link-local and SLAAC included */
#define XS_IP6_MAX_STATIC 4  /* static ones given at enable */
#define XS_ND_CACHE_SIZE 256 /* neighbor cache entries */
#define XS_IP6_NO_DAD 0xffu  /* dad_transmits: use addresses at once */
#define XS_IP6_NO_MLD 0xffu  /* mld_robustness: send no MLD reports */

struct xs_ip6_prefix {
	uint8_t addr[16]; /* network order */
	uint8_t plen;	  /* 1..128 */
};

struct xs_ip6_config {
	struct xs_ip6_prefix addrs[XS_IP6_MAX_STATIC]; /* static addresses */
	unsigned naddrs;
	int slaac;	       /* take addresses, prefixes and default routers from RAs */
	uint8_t dad_transmits; /* Neighbor Solicitations per DAD (0: 1, RFC 4862's
				* DupAddrDetectTransmits), or XS_IP6_NO_DAD */
	uint8_t hop_limit;     /* of what the stack sends (0: 64; an RA may change it) */
	uint8_t secret[16];    /* RFC 7217's secret key for interface identifiers
				* (all zero: a random one, new at each start) */
	uint8_t mld_robustness; /* MLDv2 reports of the solicited-node groups
				 * (RFC 3810): each state change sent this many
				 * times (0: 2, its Robustness Variable), or
				 * XS_IP6_NO_MLD for none */
};
/* 0, -EINVAL (a bad address or prefix: multicast, unspecified, loopback,
 * v4-mapped, a second enable), -ENOMEM.
 * In a multi-queue group (xdpstack/mq.h) every stack turns IPv6 on, with
 * the same config, before the first poll; stack 0 alone holds the
 * configuration (addresses, DAD, SLAAC, routes, xs_route6_add) and its
 * events drive the steering; the others follow it, taking a copy at its
 * next tick after each change (what they configured themselves is dropped). */
int xs_ip6_enable(struct xs_stack *st, const struct xs_ip6_config *cfg);

/* Events since the last call, taken and cleared (as xs_dhcp_events). */
#define XS_IP6_EV_ADDR (1u << 0)      /* an address became usable, or went */
#define XS_IP6_EV_DUPLICATE (1u << 1) /* DAD found an address in use on the link */
#define XS_IP6_EV_STEER                                                                            \
	(1u << 2) /* what the XDP program must steer changed                                       \
		   * (xs_ip6_steer_info) */
unsigned xs_ip6_events(struct xs_stack *st);

/* At exit: tells MLD-snooping switches the stack leaves its solicited-node
 * groups (RFC 3810 6.1: a TO_IN {} report, sent mld_robustness times at
 * once), so they need not wait out the listener interval; the frames leave
 * at the next poll. IPv6 stays on, but the groups are not reported again.
 * The number of reports queued (0: none to leave, IPv6 off, MLD off, or
 * a follower of a multi-queue group, whose stack 0 reports), or -errno. */
int xs_ip6_mld_leave(struct xs_stack *st);

/* What the steering program must take (bpf/steer.h): every address the stack
 * holds, tentative ones included (DAD hears Neighbor Solicitations and
 * Advertisements for them), and whether Router Advertisements are wanted
 * (SLAAC waiting for one, or a prefix or router about to expire). */
#define XS_IP6_STEER_ADDRS XS_IP6_MAX_ADDRS
struct xs_ip6_steer {
	unsigned naddrs;
	uint8_t addrs[XS_IP6_STEER_ADDRS][16];
	int want_ra;
};
void xs_ip6_steer_info(const struct xs_stack *st, struct xs_ip6_steer *out);

struct xs_ip6_addr_info {
	uint8_t addr[16];
	uint8_t plen;
	const char *state;		/* "tentative", "preferred", "deprecated", "duplicate" */
	const char *origin;		/* "link-local", "static", "slaac" */
	int64_t preferred_ms, valid_ms; /* left from now; -1: for ever */
};
size_t xs_ip6_addr_list(const struct xs_stack *st, xs_time_t now, struct xs_ip6_addr_info *out,
			size_t max);

/* The neighbor cache (RFC 4861 7.3.2), read-only view for tools. */
struct xs_nd_entry_info {
	uint8_t addr[16];
	uint8_t mac[6];
	const char *state; /* "incomplete", "reachable", "stale", "delay", "probe" */
	uint8_t router;	   /* IsRouter */
	int64_t timer_ms;  /* to the next state change or probe, -1: none */
};
size_t xs_ip6_nd_list(const struct xs_stack *st, xs_time_t now, struct xs_nd_entry_info *out,
		      size_t max);
/* Empties the neighbor cache; packets waiting for resolution are dropped. */
void xs_ip6_nd_flush(struct xs_stack *st);

/* Routes (RFC 4861 5.2, RFC 5942): the on-link prefixes of the static
 * addresses ("connected"), routes added here ("static"), and what Router
 * Advertisements teach under SLAAC: on-link prefixes ("ra-prefix") and
 * default routers, ::/0 via each ("ra-router"), for their lifetimes. Longest
 * prefix wins; nothing else is on-link. At most XS_IP6_MAX_ROUTES. */
#define XS_IP6_MAX_ROUTES 16
struct xs_route6 {
	uint8_t dst[16];
	uint8_t prefix_len;
	uint8_t gateway[16]; /* all zero: on-link */
	const char *origin;  /* "connected", "static", "ra-prefix", "ra-router" */
	int64_t expires_ms;  /* -1: never */
};
/* gw NULL or :: for an on-link prefix; else a neighbour (link-local, or in
 * an on-link prefix). 0, -EINVAL (host bits set, multicast), -EEXIST,
 * -ENOSPC, -ENETUNREACH (gateway not on-link), -EADDRNOTAVAIL (no IPv6). */
int xs_route6_add(struct xs_stack *st, const uint8_t dst[16], uint8_t plen, const uint8_t gw[16]);
/* 0, -ESRCH, -EPERM (a connected prefix). */
int xs_route6_del(struct xs_stack *st, const uint8_t dst[16], uint8_t plen);
size_t xs_route6_list(const struct xs_stack *st, xs_time_t now, struct xs_route6 *out, size_t max);

/* Path MTU of a destination (RFC 8201), the link's when none was learned. */
unsigned xs_ip6_pmtu(const struct xs_stack *st, const uint8_t dst[16]);

/* --- ping over either family --------------------------------------------
 * xs_ping_send to an xs_addr; an IPv6 result carries the replier in
 * r->from_addr (and r->from 0). 0 or -errno (-EADDRNOTAVAIL: no usable
 * IPv6 source address yet; -EINVAL: unspecified, loopback, v4-mapped, or
 * one of the stack's own addresses, as it has no loopback). */
int xs_ping_send_addr(struct xs_stack *st, struct xs_ping h, const struct xs_addr *dst,
		      uint16_t seq, size_t data_len);

/* --- UDP over either family ---------------------------------------------
 * A UDP socket serves both families on its port (as Linux's with
 * IPV6_V6ONLY off). xs_udp_recvfrom gives 0 as the sender of an IPv6
 * datagram: these give its address. IPv4 addresses here go the IPv4 way. */
ssize_t xs_udp_sendto_addr(struct xs_stack *st, struct xs_udp h, const void *buf, size_t len,
			   const struct xs_addr *dst, uint16_t port);
ssize_t xs_udp_recvfrom_addr(struct xs_stack *st, struct xs_udp h, void *buf, size_t cap,
			     struct xs_addr *from, uint16_t *port);
/* Fixes the peer (either family); xs_udp_send then sends to it. */
int xs_udp_connect_addr(struct xs_stack *st, struct xs_udp h, const struct xs_addr *dst,
			uint16_t port);

/* --- TCP over either family ---------------------------------------------
 * Listeners take both families on their port; xs_tcp_accept gives 0 as the
 * address of an IPv6 peer, xs_tcp_accept_addr its address; xs_tcp_info has
 * laddr/raddr for either. The MSS follows the family (IPv6: the path MTU
 * less 60) and a Packet Too Big shrinks a connection's segments. */
/* The handle, or id -errno as xs_tcp_connect_ex (also -EADDRNOTAVAIL: no
 * usable IPv6 source address yet). */
struct xs_tcp xs_tcp_connect_addr(struct xs_stack *st, const struct xs_addr *dst, uint16_t port,
				  const struct xs_tcp_connect_opts *o);
/* As xs_tcp_accept, the peer's address of either family into *from. */
struct xs_tcp xs_tcp_accept_addr(struct xs_stack *st, struct xs_tcp l, struct xs_addr *from,
				 uint16_t *port);

#endif
