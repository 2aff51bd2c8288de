/* Multi-queue inside the stack: whose a received packet is, the handoff to
 * its owner through a lock-free ring, ARP replication, and port/id partitions. */
#ifndef XS_CORE_MQ_H
#define XS_CORE_MQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/mq.h>

#include "wire/ip4.h"
#include "wire/ip6.h"

struct xs_stack;

/* A received packet as the owner checks see it: IPv4 (ip4) or IPv6 (ip6,
 * with its upper-layer header at l4_off, proto and whether it was sent to
 * multicast); pkt holds len bytes (the IPv4 total length, or the IPv6 header
 * and payload), reassembled if it was fragmented. */
struct mq_pkt {
	const struct ip4_repr *ip4;
	const struct ip6_repr *ip6;
	const uint8_t *pkt;
	uint32_t len;
	uint16_t l4_off;
	uint8_t proto;
	bool mcast;
};

/* The range every stack picks ephemeral ports from (TCP and UDP, Linux's
 * ip_local_port_range); in a group a stack picks those with port % n == index. */
#define XS_EPHEMERAL_LO 32768
#define XS_EPHEMERAL_HI 60999

/* ip/pkt (pkt holds ip->total_len bytes, reassembled if it was fragmented)
 * belongs to another stack of the group: copied into the ring to it with the
 * XDP program's verdict meta (or counted lost when full); true when the
 * caller is done with it. */
bool mq_handoff(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *pkt, uint64_t meta);
/* A TCP segment that is not a SYN and finds no connection here: its flow
 * may live on another queue's stack (the flow moved queues: a NIC whose
 * indirection table changed, a veth peer that rehashed after a timeout),
 * so it is passed on to the next stack, and the last of them answers (RST,
 * SYN cookie). true when passed on (or lost to a full ring). */
bool mq_search(struct xs_stack *st, const struct mq_pkt *p);
/* The IPv6 twin of mq_handoff: the owner is the same function of the ports
 * and ICMPv6 identifiers (over the header chain, after reassembly). */
bool mq_handoff6(struct xs_stack *st, const struct mq_pkt *p);
/* An ARP packet (after the Ethernet header) this stack received: a copy to
 * every other stack of the group, which learns from it without answering. */
void mq_replicate_arp(struct xs_stack *st, const uint8_t *b, size_t n);
/* Which stacks an IPv6 neighbor discovery packet is copied to (icmp6.c
 * decides): none, stack 0 alone (none when it is stack 0's own), or all. */
enum mq_nd_to { MQ_ND_NONE = 0, MQ_ND_OWNER, MQ_ND_ALL };
/* The same for an IPv6 neighbor discovery packet (b: the IPv6 header on, n
 * bytes), to the stacks `to` names: the others learn neighbours from it,
 * stack 0 also answers it and runs DAD and SLAAC on it (net6/mq6.c). */
void mq_replicate_nd(struct xs_stack *st, const uint8_t *b, size_t n, enum mq_nd_to to);
/* Stack 0's IPv6 configuration (n bytes, net6/mq6.c's format) to every
 * other stack of the group. */
void mq_push_ip6_follow(struct xs_stack *st, const void *b, size_t n);
/* Start of a poll: what the other stacks handed over, processed. */
void mq_poll(struct xs_stack *st);
/* End of a poll: wakes the stacks this one handed something to. */
void mq_flush(struct xs_stack *st);
/* Work waits in a ring to this stack (the loop must not sleep). */
bool mq_pending(const struct xs_stack *st);
/* xs_stack_free: out of the group. */
void mq_detach(struct xs_stack *st);

/* The ephemeral ports this stack may pick: mq_port_count of them, the j-th
 * being mq_port_nth (the whole range without a group). */
unsigned mq_port_count(const struct xs_stack *st);
uint16_t mq_port_nth(const struct xs_stack *st, unsigned j);
/* Traffic to local port p comes to this stack (not another's share, not
 * pinned elsewhere). Always true without a group. */
bool mq_port_mine(const struct xs_stack *st, uint16_t p);
/* With the NIC's RSS known: a TCP reply from rip:rport to our lport hashes
 * to this stack's queue. true when unknown (the ring covers it). */
bool mq_port_rss_ok(const struct xs_stack *st, uint16_t lport, uint32_t rip, uint16_t rport);
/* An ICMP echo identifier whose replies come to this stack, from r. */
uint16_t mq_ping_id(const struct xs_stack *st, uint64_t r);

#endif
