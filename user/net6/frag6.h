/* IPv6 reassembly (RFC 8200 4.5) in IPv4's table (net/frag.c), so under the
 * same bounds: datagrams, bytes, fragments per datagram, time (its frag_tick
 * times IPv6 datagrams out too); overlaps drop the datagram (RFC 5722). */
#ifndef XS_NET6_FRAG6_H
#define XS_NET6_FRAG6_H

#include <stddef.h>
#include <stdint.h>

#include "wire/ip6.h"

struct xs_stack;

/* One fragment: pkt (len bytes) with the walk that stopped at its Fragment
 * header. When it completes a datagram, returns the whole packet (the
 * unfragmentable part, then the payload; the Fragment header gone) with *ip
 * and *w describing it anew, valid until the next frag6_input or tick; else
 * NULL (kept, or dropped and counted). */
const uint8_t *frag6_input(struct xs_stack *st, struct ip6_repr *ip, const uint8_t *pkt, size_t len,
			   struct ip6_walk *w);

#endif
