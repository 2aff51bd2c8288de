/* MLDv2 listener (RFC 3810 6) for the groups the stack joins: the
 * solicited-node group of each of its addresses, reported to snooping switches. */
#ifndef XS_NET6_MLD_H
#define XS_NET6_MLD_H

#include <stdbool.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "wire/ip6.h"

#define MLD_ROBUSTNESS 2	   /* RFC 3810 9.1 */
#define MLD_UNSOLICITED_MS 1000	   /* RFC 3810 9.11: Unsolicited Report Interval */
#define MLD_REFRESH XS_SEC(60)	   /* current-state reports unasked: well inside the */
#define MLD_REFRESH_JITTER_MS 5000 /* Multicast Listener Interval (260 s, 9.4) */
#define MLD_MAX_RESP_MS 10000	   /* a query's delay is capped at RFC 3810 9.3's default */
/* Groups held: one per address at most, and as many again leaving. */
#define MLD_MAX_GROUPS (2 * XS_IP6_MAX_ADDRS)

enum mld_gstate { MLD_G_FREE = 0, MLD_G_JOINED, MLD_G_LEAVING };

struct mld_group {
	struct ip6_addr g;
	uint8_t state;	  /* enum mld_gstate */
	uint8_t left;	  /* state-change reports still to send (6.1) */
	xs_time_t next;	  /* the next of them */
	xs_time_t answer; /* a current-state record due (a query, or the refresh) */
};

struct mld_state {
	struct mld_group g[MLD_MAX_GROUPS];
	uint8_t robustness; /* 0: no reports */
	bool dirty;	    /* the addresses changed: groups to join or leave */
	xs_time_t refresh;  /* the next unasked current-state report */
};

struct xs_stack;
struct ip6_repr;
struct icmp6_repr;

void mld_init(struct xs_stack *st, uint8_t robustness);
/* Joins and leaves for the addresses as they are, then every report due
 * (RFC 3810 6.1: each change robustness times, 0-1 s apart; the refresh;
 * query answers). Every IPv6 tick, before DAD's tick: a new address's
 * report leaves before its first solicitation (RFC 4862 5.4.2). */
void mld_tick(struct xs_stack *st);
/* A Multicast Listener Query that reached the stack (a unicast one: the
 * XDP program passes multicast MLD to the kernel). */
void mld_query_input(struct xs_stack *st, const struct ip6_repr *ip, const struct icmp6_repr *m);
/* Leaves every group at once (xs_ip6_mld_leave). */
int mld_leave_all(struct xs_stack *st);

#endif
