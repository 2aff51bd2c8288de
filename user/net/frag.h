/* IPv4 reassembly (RFC 791, RFC 815) with bounded resources: datagrams in
 * progress, bytes held, fragments per datagram, and a timeout. */
#ifndef XS_NET_FRAG_H
#define XS_NET_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "wire/ip4.h"

#define FRAG_MAX_PER_DGRAM 512   /* fragments one datagram may be cut into */
#define FRAG_HDR_ROOM 60         /* the first fragment's header sits before the payload */

struct frag_dgram;

struct frag_table {
	struct frag_dgram *d;    /* cfg.frag_max_datagrams slots */
	unsigned nslots;
	unsigned nused;
	int32_t *bucket;         /* keyed hash of (src, dst, proto, id): first slot */
	uint32_t *chain_len;
	unsigned nbuckets;       /* a power of two, at least 2 * nslots */
	int32_t free_slot;       /* free slots chained through .next, -1: none */
	size_t bytes_held;       /* fragment payload bytes held, all datagrams */
	uint8_t *done;           /* the last completed datagram, until the next call */
};

struct xs_stack;

int frag_table_init(struct xs_stack *st);
void frag_table_fini(struct xs_stack *st);
/* Takes one fragment: *ip is its parsed header, b the whole IP packet
 * (ip->total_len bytes). When it completes a datagram, returns a contiguous
 * IP packet (the first fragment's header, then the whole payload) with *ip
 * updated (total_len = header + payload, frag = 0); valid until the next
 * frag_input or frag_tick. Otherwise NULL (fragment kept, or dropped and counted). */
const uint8_t *frag_input(struct xs_stack *st, struct ip4_repr *ip, const uint8_t *b);
/* Expires datagrams past cfg.frag_timeout_ms: ICMP time exceeded (code 1)
 * when the first fragment had arrived (RFC 792, RFC 1122 3.3.2). */
void frag_tick(struct xs_stack *st);

#endif
