/* ARP cache with aging, resolution requests with retries, and a bounded queue
 * of packets waiting for a next hop's MAC (RFC 826, RFC 1122 2.3.2). */
#ifndef XS_NET_ARP_H
#define XS_NET_ARP_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "net/pending.h"

#define ARP_CACHE_SIZE XS_ARP_CACHE_SIZE /* entries; the oldest is evicted when full */
#define ARP_BUCKETS 256        /* keyed (SipHash-1-3): about one entry a chain */
#define ARP_PENDING_SLOTS 256   /* packets waiting for resolution, all entries */
#define ARP_PENDING_PER_ENTRY PENDING_PER_ENTRY /* net/pending.h: 64 */

/* PROBE: the lifetime ran out while the entry was in use; it is still used
 * while unicast requests ask the neighbour (RFC 1122 2.3.2.1 (2), Linux's
 * NUD_PROBE), and removed when none is answered. */
enum arp_state { ARP_FREE = 0, ARP_INCOMPLETE, ARP_REACHABLE, ARP_PROBE };

struct arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;
	uint8_t retries_left;
	uint8_t looked_up;     /* looked up since it was last confirmed */
	xs_time_t expires;     /* REACHABLE: end of life; INCOMPLETE, PROBE: next retry */
	int16_t next;          /* hash chain */
	struct pending_q pending; /* packets waiting for it */
	uint8_t used;          /* we sent through it since it was created */
	uint8_t gw;            /* the gateway of a route */
};

struct arp_cache {
	struct arp_entry e[ARP_CACHE_SIZE];
	int16_t bucket[ARP_BUCKETS];
	uint16_t chain_len[ARP_BUCKETS];
	int16_t free_entry;    /* free list through .next */
	int16_t last_tx;       /* arp_cache_lookup's last entry, -1: none */
	struct pending_pool pending;
};

struct xs_stack;
struct eth_repr;

int arp_cache_init(struct arp_cache *c);
void arp_cache_fini(struct arp_cache *c);

/* Handles one received ARP packet (b/n after the Ethernet header). */
void arp_input(struct xs_stack *st, const struct eth_repr *eth, const uint8_t *b, size_t n);
/* The same packet as another queue's stack received it: learned from by the
 * same rules, never answered nor counted (multi-queue replication). */
void arp_input_replica(struct xs_stack *st, const uint8_t *b, size_t n);
/* Looks up a resolved MAC; returns 1 and fills mac, or 0. */
int arp_cache_lookup(struct xs_stack *st, uint32_t ip, uint8_t mac[6]);
/* Queues a finished frame (Ethernet source and type already written, the
 * destination MAC to be filled) until next_hop resolves; starts resolution. */
void arp_queue_frame(struct xs_stack *st, uint32_t next_hop, const uint8_t *frame, size_t len);
/* Retries, expiries and failures; called on every stack tick. */
void arp_tick(struct xs_stack *st);
/* Sends an ARP request for ip (gratuitous when ip is our own). */
int arp_send_request(struct xs_stack *st, uint32_t ip, const uint8_t *dst_mac);
/* Marks the entries that are gateways of a route (after a route change). */
void arp_mark_gateways(struct xs_stack *st);
/* Empties the cache (entries and waiting packets). */
void arp_cache_flush(struct xs_stack *st);

#endif
