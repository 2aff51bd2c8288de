/* Reassembly of IPv4 (RFC 791, RFC 815) and IPv6 (RFC 8200 4.5) datagrams in
 * one bounded table: datagrams in progress, bytes held, fragments per
 * datagram, and a timeout, whatever the family. */
#ifndef XS_NET_FRAG_H
#define XS_NET_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "wire/ip4.h"
#include "wire/ip6.h"

#define FRAG_MAX_PER_DGRAM 512   /* fragments one datagram may be cut into */
/* The first fragment's header sits before the payload: IPv4's (60 at
 * most), or IPv6's unfragmentable part with its Fragment header. */
#define FRAG_HDR_ROOM (IP6_HDR_LEN + IP6_EXT_BYTES_MAX + IP6_FRAG_HDR_LEN)

/* A datagram's identity: family 4 (source, destination, protocol, id; the
 * addresses in the first 4 bytes) or 6 (source, destination, id; proto 0:
 * the next header may differ between fragments, RFC 8200 4.5). Hashed
 * whole: zero it first. */
struct frag_key {
	uint8_t family;
	uint8_t proto;
	uint16_t pad;
	uint32_t id;
	uint8_t src[16], dst[16];
};

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
/* One IPv6 fragment (checked by net6/frag6.c): pkt from its IPv6 header, its
 * Fragment header at frag_off, named by the byte at nh_off; off/len/mf/id/
 * proto its fields and payload. The assembled packet (Fragment header taken
 * out, payload length of the whole, *out_len bytes), valid as frag_input's;
 * or NULL. */
const uint8_t *frag_input6(struct xs_stack *st, const uint8_t *pkt, size_t frag_off,
			   size_t nh_off, uint32_t off, uint32_t len, int mf, uint32_t id,
			   uint8_t proto, size_t *out_len);
/* Expires datagrams past cfg.frag_timeout_ms: ICMP time exceeded (code 1)
 * when the first fragment had arrived (RFC 792, RFC 1122 3.3.2). */
void frag_tick(struct xs_stack *st);

#endif
