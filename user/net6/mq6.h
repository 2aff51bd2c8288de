/* IPv6 in a multi-queue group (core/mq.c): stack 0 owns the addresses, DAD,
 * SLAAC and routes and the others follow it; neighbor discovery is copied. */
#ifndef XS_NET6_MQ6_H
#define XS_NET6_MQ6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xs_stack;
struct ip6_repr;

/* ip6.c: a packet ip6_input validated (walked, reassembled), to its upper
 * layer; pkt holds len bytes from the IPv6 header, that layer's at l4_off.
 * Also where another queue's stack hands one over. */
void ip6_deliver(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt, size_t l4_off,
		 size_t len, uint8_t proto, bool mcast);
/* A neighbor discovery packet (b: n bytes from the IPv6 header) another
 * stack of the group received and took: learned from, not counted again;
 * stack 0 also answers it (solicitations) and runs DAD and SLAAC on it. */
void ip6_input_replica(struct xs_stack *st, const uint8_t *b, size_t n);
/* Stack 0's IPv6 configuration as ip6_mq_tick sent it (n bytes at b): a
 * follower takes it whole. */
void ip6_mq_follow(struct xs_stack *st, const uint8_t *b, size_t n);
/* The stack joined a group with IPv6 on, or turned IPv6 on in one: a
 * follower forgets the addresses and routes it made itself (stack 0's
 * come), stack 0 sends its own at its next tick. */
void ip6_mq_attach(struct xs_stack *st);
/* Stack 0 of a group, every tick: its configuration to the others, if it
 * changed since it was last sent whole. */
void ip6_mq_tick(struct xs_stack *st);
/* A stack of a group other than 0: it follows stack 0's addresses, routes
 * and link parameters, and runs no DAD, SLAAC or router solicitation. */
bool ip6_follower(const struct xs_stack *st);

#endif
