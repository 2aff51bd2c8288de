/* libxdpstack multi-queue: one stack per NIC queue and thread, sharing nothing
 * on the fast path; a group hands frames that belong to another queue over to it. */
#ifndef XDPSTACK_MQ_H
#define XDPSTACK_MQ_H

#include <stddef.h>
#include <stdint.h>

struct xs_stack;

/* --- how a group works ------------------------------------------------------
 * N stacks share one address, each polling its own device (an AF_XDP socket
 * on one NIC queue) from its own thread. The NIC's RSS (or, on veth, the
 * sender's transmit queue) picks the queue a frame arrives on; the stack
 * that receives a connection's first segment owns it. Replies to what a
 * stack sent itself may land on another queue, so each stack checks, per
 * packet, whose it is:
 *  - TCP and UDP to a port in the ephemeral range (32768-60999): port % N.
 *    A stack picks its own ephemeral ports only from its share (port % N ==
 *    its index), so its active opens, DNS queries and UDP clients get their
 *    replies whatever queue those land on;
 *  - a port pinned to one stack (xs_mq_pin_port: a service that must see all
 *    of a client's connections, the DHCP client);
 *  - ICMP echo replies by identifier % N (ping ids are picked the same way),
 *    ICMP errors by the port or identifier of the packet they quote;
 *  - the same rules for IPv6 (ICMPv6 echo and errors), read over the
 *    header chain after reassembly;
 *  - anything else (passive connections to a listener, echo requests,
 *    datagrams to a service port) stays on the queue it arrived on.
 * A packet that belongs to another stack is copied (after reassembly) into a
 * ring from this stack to that one, a single-producer single-consumer ring
 * per ordered pair (no locks); the owner takes it at its next poll as if it
 * had received it. ARP is replicated: every stack learns from every ARP
 * packet any stack receives (only the receiver answers), so each keeps its
 * own cache; so is IPv6 neighbor discovery, whose copies also bring DAD
 * answers and Router Advertisements to stack 0 (see docs/DESIGN.md,
 * Multi-queue).
 * Where the NIC tells its Toeplitz key and indirection table (xs_nic_rss),
 * active opens also choose a port whose hash brings the reply to the opening
 * queue itself, so the ring is a fallback, not the path. */

#define XS_MQ_MAX 64		      /* stacks in a group (bpf/steer.h's XSKMAP size) */
#define XS_MQ_RING_BYTES (256u << 10) /* per ordered pair of stacks: a 64 KiB datagram fits */

struct xs_mq;

/* A group of n stacks (2..XS_MQ_MAX; 1 is allowed and does nothing).
 * ring_bytes: each ring's size, a power of two of 256 KiB to 64 MiB (0: the
 * default); the n * n rings are mapped at once, their pages touched only by
 * the pairs that talk. NULL + errno on failure. */
struct xs_mq *xs_mq_new(unsigned n, uint32_t ring_bytes);
/* Frees the group; every stack must have been freed (or never attached). */
void xs_mq_free(struct xs_mq *g);
/* Makes st the group's stack index (0..n-1), before its first poll and
 * before any other stack of the group polls. The stack then hands packets
 * over and takes them at each xs_stack_poll; xs_stack_free leaves the group.
 * The stack at index 0 keeps the gratuitous ARP announcements and the DHCP
 * client, and with IPv6 the addresses, DAD, SLAAC and routes; the others
 * follow it (xs_mq_sync_addr; IPv6 by itself, xdpstack/ip6.h). 0 or
 * -EINVAL/-EBUSY. */
int xs_mq_attach(struct xs_mq *g, unsigned index, struct xs_stack *st);
/* An eventfd that becomes readable when another stack handed index work:
 * wait on it beside the device's fd (xs_stack_fd includes it). */
int xs_mq_fd(const struct xs_mq *g, unsigned index);
/* Every TCP and UDP packet to port goes to stack index (before any poll). */
int xs_mq_pin_port(struct xs_mq *g, uint16_t port, unsigned index);

/* The stacks count what they hand over in their struct xs_stats:
 * mq_handoff_tx (packets given to another stack), mq_handoff_rx (taken from
 * another: handed packets and ARP copies), mq_arp_replicas (ARP packets
 * copied to the others), mq_nd_replicas (IPv6 neighbor discovery copied to
 * the others), mq_ip6_follow (stack 0's IPv6 configuration sent to them)
 * and drop MQ_RING_FULL (lost: the ring was full). */

/* Copies src's address, prefix, routes and DNS servers to dst (a stack of the
 * same group following index 0's DHCP lease). Both must be quiescent (dst's
 * thread stopped): the caller serialises. 0 or -EINVAL. */
int xs_mq_sync_addr(struct xs_stack *dst, const struct xs_stack *src);

/* --- RSS (Toeplitz), for choosing ports whose replies come home ------------ */

#define XS_RSS_KEY_MAX 64
#define XS_RSS_INDIR_MAX 4096

struct xs_rss {
	uint8_t key[XS_RSS_KEY_MAX];
	uint32_t key_len;
	uint32_t indir[XS_RSS_INDIR_MAX]; /* hash % indir_len -> NIC rx queue */
	uint32_t indir_len;
	int tcp4_ports; /* TCP/IPv4 hashes the ports too (else ports cannot steer) */
};

/* The Toeplitz hash of n bytes of input under key (Microsoft RSS): for TCP
 * over IPv4 the input is source address, destination address, source port,
 * destination port, each in network order, as the packet arrives. */
uint32_t xs_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n);
/* Gives the group the NIC's RSS and which NIC queue each stack serves
 * (nic_queue[index]); TCP active opens then pick ports whose replies hash to
 * their own queue. Copied; before any poll. 0 or -EINVAL. */
int xs_mq_set_rss(struct xs_mq *g, const struct xs_rss *rss, const uint32_t *nic_queue);

/* NIC queries (user/dev/nic.c): the interface's rx queues (ETHTOOL_GCHANNELS
 * combined, else rx; else the count of /sys/class/net/IF/queues/rx-*): > 0
 * or -errno. */
int xs_nic_rx_queues(const char *ifname);
/* The NIC's Toeplitz key and indirection table (ETHTOOL_GRSSH) and whether it
 * hashes TCP ports (ETHTOOL_GRXFH): 0, -EOPNOTSUPP when it has none or hashes
 * otherwise (veth), or -errno. */
int xs_nic_rss(const char *ifname, struct xs_rss *out);

#endif
