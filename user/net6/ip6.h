/* IPv6 host (RFC 8200, 4861, 4862, 4443, 8201) inside one stack: its state,
 * input and output, addresses and DAD, ICMPv6, routes and path MTUs. */
#ifndef XS_NET6_IP6_H
#define XS_NET6_IP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "dev/dev.h"
#include "net6/mld.h"
#include "net6/nd.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"

#define IP6_MAX_ADDRS XS_IP6_MAX_ADDRS
#define IP6_DEFAULT_HOP_LIMIT 64
#define IP6_BASE_REACHABLE_MS 30000	 /* RFC 4861 10: REACHABLE_TIME */
#define IP6_RETRANS_MS 1000		 /* RFC 4861 10: RETRANS_TIMER */
#define IP6_IDGEN_RETRIES 3		 /* RFC 7217 6: new identifiers after a duplicate */
#define IP6_MAX_ROUTES XS_IP6_MAX_ROUTES /* routes, default routers, on-link prefixes */
#define IP6_PMTU_SIZE 256		 /* destinations with a learned path MTU */
#define IP6_PMTU_BUCKETS 256
#define IP6_PMTU_LIFE XS_SEC(600)   /* RFC 8201 4: try the link MTU again after 10 min */
#define IP6_MAX_RTR_SOLICITATIONS 3 /* RFC 4861 10 */
#define IP6_RTR_SOLICITATION_INTERVAL XS_SEC(4)
#define IP6_MAX_RTR_SOLICITATION_DELAY_MS 1000

enum ip6_addr_state {
	IP6A_FREE = 0,
	IP6A_TENTATIVE,
	IP6A_PREFERRED,
	IP6A_DEPRECATED,
	IP6A_DUPLICATE
};
enum ip6_addr_origin { IP6O_LINKLOCAL = 0, IP6O_STATIC, IP6O_SLAAC };

struct ip6_ifaddr {
	struct ip6_addr a;
	uint8_t plen;
	uint8_t state;				/* enum ip6_addr_state */
	uint8_t origin;				/* enum ip6_addr_origin */
	uint8_t dad_left;			/* solicitations still to send */
	uint8_t dad_counter;			/* RFC 7217 DAD_Counter of its identifier */
	xs_time_t dad_next;			/* next solicitation, or the end of DAD */
	xs_time_t preferred_until, valid_until; /* ND_NEVER: for ever */
};

enum route6_origin { RT6_CONNECTED = 0, RT6_STATIC, RT6_RA_PREFIX, RT6_RA_ROUTER };

/* A prefix on-link (gw unspecified) or through a router; the default
 * routers of RAs are ::/0 entries (RFC 4861 6.3.4 Default Router List). */
struct route6 {
	struct ip6_addr dst;
	uint8_t plen;
	uint8_t origin;	    /* enum route6_origin */
	struct ip6_addr gw; /* unspecified: on-link */
	xs_time_t expires;  /* ND_NEVER unless learned from an RA */
};

struct pmtu_entry {
	struct ip6_addr dst;
	uint16_t mtu;
	uint8_t used;
	int16_t next;
	xs_time_t expires;
};

struct ip6_state {
	struct xs_ip6_config cfg;
	struct ip6_ifaddr addr[IP6_MAX_ADDRS];
	uint8_t hop_limit;
	uint16_t link_mtu; /* the device's, or less if an RA says so */
	uint32_t base_reachable_ms, reachable_ms, retrans_ms;
	unsigned events; /* XS_IP6_EV_* not yet taken */
	bool want_ra;	 /* what xs_ip6_steer_info says */
	bool unpolled;	 /* enabled before the stack's first poll (now 0) */
	/* Router solicitation (SLAAC) */
	uint8_t rs_left;
	xs_time_t rs_next;
	xs_time_t ra_seen;    /* last RA taken, 0: none */
	xs_time_t ra_refresh; /* RAs wanted again (half the shortest lifetime taken) */
	/* the ICMPv6 error bucket, as ICMPv4's (net/icmp.c) */
	uint64_t tokens;
	xs_time_t refilled;
	struct route6 rt[IP6_MAX_ROUTES];
	unsigned nrt;
	struct pmtu_entry pmtu[IP6_PMTU_SIZE];
	int16_t pmtu_bucket[IP6_PMTU_BUCKETS];
	uint16_t pmtu_chain[IP6_PMTU_BUCKETS];
	unsigned npmtu;
	struct nd_cache nd;
	struct ip6_follow *follow_sent; /* stack 0 of a group: what the others have (mq6.c) */
	struct mld_state mld;
};

struct xs_stack;
struct eth_repr;
struct ip6_follow;

/* ip6.c: input and output. */
void ip6_input(struct xs_stack *st, const struct eth_repr *eth, const uint8_t *b, size_t n);
/* Borrows a tx frame; returns where the upper-layer header goes and the room
 * there (the path MTU to dst bounds it); NULL if no frame is free. */
uint8_t *ip6_tx_begin(struct xs_stack *st, const struct ip6_addr *dst, struct xs_frame *f,
		      size_t *cap);
/* Writes the IPv6 and Ethernet headers around l4len bytes of f and sends it
 * (or queues it for neighbor discovery) through next hop nh (NULL: the
 * route's; a multicast dst goes to its Ethernet group). hop_limit 0: the
 * stack's. f is consumed. 0 or -errno. */
int ip6_tx_finish(struct xs_stack *st, struct xs_frame *f, const struct ip6_addr *src,
		  const struct ip6_addr *dst, const struct ip6_addr *nh, uint8_t proto,
		  uint8_t tclass, uint8_t hop_limit, size_t l4len);
/* The same, straight to the Ethernet address mac: no route, no neighbor
 * cache (an answer to a solicitation that named its sender's address). */
int ip6_tx_finish_mac(struct xs_stack *st, struct xs_frame *f, const struct ip6_addr *src,
		      const struct ip6_addr *dst, const uint8_t mac[6], uint8_t proto,
		      uint8_t hop_limit, size_t l4len);
/* Sends len bytes of upper-layer data, fragmenting (RFC 8200 4.5) past the
 * path MTU. hop_limit 0: the stack's. 0 or -errno. */
int ip6_send(struct xs_stack *st, const struct ip6_addr *src, const struct ip6_addr *dst,
	     uint8_t proto, uint8_t tclass, uint8_t hop_limit, const uint8_t *buf, size_t len);
/* RFC 6724 in short: a preferred address of dst's scope with the longest
 * prefix in common with it. 0, or -EADDRNOTAVAIL. */
int ip6_select_src(const struct xs_stack *st, const struct ip6_addr *dst, struct ip6_addr *src);
/* The next hop for dst: 0 and *nh, or -ENETUNREACH (counted). */
int ip6_route(struct xs_stack *st, const struct ip6_addr *dst, struct ip6_addr *nh);
/* The upper-layer room of one unfragmented packet to dst (path MTU - 40). */
size_t ip6_mtu_room(const struct xs_stack *st, const struct ip6_addr *dst);

/* addr6.c: the stack's addresses, DAD, link-local identifiers. */
/* Index of our address a in any state, or -1. */
int ip6_addr_find(const struct xs_stack *st, const struct ip6_addr *a);
/* A usable (preferred or deprecated) address of ours. */
bool ip6_addr_usable(const struct xs_stack *st, const struct ip6_addr *a);
/* RFC 7217: the interface identifier for the /64 prefix in a->b[0..7] and
 * DAD_Counter *counter (bumped past identifiers RFC 5453 reserves). */
void ip6_stable_iid(const struct xs_stack *st, struct ip6_addr *a, uint8_t *counter);
/* DAD saw the address at index i elsewhere on the link (RFC 4862 5.4.5). */
void ip6_dad_failed(struct xs_stack *st, int i);
/* Adds an address (tentative unless DAD is off); index, or -errno. */
int ip6_addr_add(struct xs_stack *st, const struct ip6_addr *a, uint8_t plen, uint8_t origin,
		 uint32_t valid_s, uint32_t preferred_s);
void ip6_addr_tick(struct xs_stack *st);
void ip6_raise(struct xs_stack *st, unsigned ev);

/* icmp6.c */
void icmp6_input(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt, size_t l4_off,
		 size_t len);
/* An ICMPv6 error about pkt (pkt_len bytes really received, from its IPv6
 * header), under RFC 4443 2.4 (e) and the rate limit (f). mcast_ok: the
 * error is one RFC 4443 2.4 (e.3) allows about a packet sent to multicast
 * (Packet Too Big, Parameter Problem code 2). */
void icmp6_send_error(struct xs_stack *st, uint8_t type, uint8_t code, uint32_t param,
		      const uint8_t *pkt, size_t pkt_len, bool mcast_ok);
/* A copy of a neighbor discovery message another stack of the group took
 * (net6/mq6.c): parsed again, learned from, never answered or counted. */
void icmp6_nd_replica(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt,
		      size_t l4_off, size_t len);
/* An error about a packet of ours made here (neighbor discovery gave up). */
void icmp6_local_error(struct xs_stack *st, uint8_t type, uint8_t code, const uint8_t *pkt,
		       size_t pkt_len);

/* pmtu.c: per-destination path MTU (RFC 8201). */
unsigned pmtu_get(const struct xs_stack *st, const struct ip6_addr *dst);
/* A Packet Too Big for dst: lowers its path MTU (never below 1280, RFC 8201
 * 4). True if it changed. */
bool pmtu_update(struct xs_stack *st, const struct ip6_addr *dst, uint32_t mtu);
void pmtu_tick(struct xs_stack *st);

/* route6.c */
void route6_init(struct xs_stack *st);
void route6_tick(struct xs_stack *st);
bool route6_is_router(const struct xs_stack *st, const struct ip6_addr *a);
/* Adds or refreshes a route (gw unspecified: on-link); a default route
 * (plen 0) is one per router. 0, -EEXIST (an RA over a configured one),
 * -ENOSPC. */
int route6_set(struct xs_stack *st, const struct ip6_addr *dst, uint8_t plen,
	       const struct ip6_addr *gw, uint8_t origin, xs_time_t expires);
/* Removes that route if it has that origin (gw NULL: any gateway). */
void route6_unset(struct xs_stack *st, const struct ip6_addr *dst, uint8_t plen,
		  const struct ip6_addr *gw, uint8_t origin);

/* The stack's lifecycle (core/stack.c). */
void ip6_fini(struct xs_stack *st);
void ip6_tick(struct xs_stack *st);

#endif
