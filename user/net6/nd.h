/* The neighbor cache (RFC 4861 7.3): entries in the five states, Neighbor
 * Solicitations and Advertisements in and out, packets waiting for resolution. */
#ifndef XS_NET6_ND_H
#define XS_NET6_ND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "net/pending.h"
#include "wire/ip6.h"
#include "wire/ndp.h"

#define ND_CACHE_SIZE XS_ND_CACHE_SIZE
#define ND_BUCKETS 256			       /* keyed (SipHash-1-3): about one entry a chain */
#define ND_PENDING_SLOTS 128		       /* packets waiting for resolution, all entries */
#define ND_PENDING_PER_ENTRY PENDING_PER_ENTRY /* net/pending.h: 64 */

/* RFC 4861 10, protocol constants. */
#define ND_MAX_MULTICAST_SOLICIT 3
#define ND_MAX_UNICAST_SOLICIT 3
#define ND_DELAY_FIRST_PROBE XS_SEC(5)
#define ND_NEVER UINT64_MAX

enum nd_state { ND_FREE = 0, ND_INCOMPLETE, ND_REACHABLE, ND_STALE, ND_DELAY, ND_PROBE };

struct nd_entry {
	struct ip6_addr ip;
	uint8_t mac[6];
	uint8_t state;		  /* enum nd_state */
	uint8_t probes;		  /* solicitations sent in this INCOMPLETE or PROBE episode */
	uint8_t router;		  /* IsRouter (RFC 4861 7.3.1) */
	uint8_t used;		  /* we sent through it since it was made */
	int16_t next;		  /* hash chain, or the free list */
	struct pending_q pending; /* packets waiting for it */
	xs_time_t timer;	  /* INCOMPLETE, PROBE: next solicitation; REACHABLE: its
				   * end; DELAY: the first probe; STALE: ND_NEVER */
};

struct nd_cache {
	struct nd_entry e[ND_CACHE_SIZE];
	int16_t bucket[ND_BUCKETS];
	uint16_t chain_len[ND_BUCKETS];
	int16_t free_entry;
	struct pending_pool pending;
};

struct xs_stack;
struct ip6_repr;

int nd_cache_init(struct nd_cache *c);
void nd_cache_fini(struct xs_stack *st);
/* Received Neighbor Solicitation / Advertisement (validated by ndp_parse). */
/* replica: a copy another stack of a multi-queue group took (net6/mq6.c):
 * learned from, not counted again. In a group stack 0 alone answers
 * solicitations and runs DAD, on what it hears and on the copies. */
void nd_ns_input(struct xs_stack *st, const struct ip6_repr *ip, const struct ndp_repr *m,
		 bool replica);
void nd_na_input(struct xs_stack *st, const struct ip6_repr *ip, const struct ndp_repr *m,
		 bool replica);
/* A neighbour announced its link-layer address unasked (RFC 4861 7.2.3,
 * 6.3.4: an NS, RS or RA with a source link-layer option); router: it is
 * one (an RA). Creates a STALE entry if that evicts nothing in use. */
/* replica: a multi-queue copy (mq6.c); a refusal is counted where the
 * packet landed, not again by each copy. */
void nd_learn(struct xs_stack *st, const struct ip6_addr *ip, const uint8_t mac[6], bool router,
	      bool replica);
/* Sends the tx frame f of len bytes (Ethernet source and type written) to
 * next hop nh, resolving it first if needed: then a copy waits and f goes
 * back to the device at once. f is consumed. 0 or -errno. */
int nd_output(struct xs_stack *st, const struct ip6_addr *nh, struct xs_frame *f, size_t len);
/* Retransmissions and state timers (RFC 4861 7.3.3), every stack tick. */
void nd_tick(struct xs_stack *st);
/* A Neighbor Solicitation for target: from src (NULL: chosen for target;
 * unspecified for DAD, then without the source link-layer option), to dst
 * (NULL: target's solicited-node group; a unicast dst goes to the MAC its
 * entry holds). 0 or -errno. */
int nd_send_ns(struct xs_stack *st, const struct ip6_addr *src, const struct ip6_addr *target,
	       const struct ip6_addr *dst);
/* Removes the entry for ip (if any), e.g. a router that left. */
void nd_forget(struct xs_stack *st, const struct ip6_addr *ip);
void nd_flush(struct xs_stack *st);

#endif
