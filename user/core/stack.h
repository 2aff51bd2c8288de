/* The private shape of one stack instance: everything it owns hangs off
 * struct xs_stack (share-nothing, one per queue). Modules see this; users don't. */
#ifndef XS_CORE_STACK_H
#define XS_CORE_STACK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "dev/dev.h"
#include "net/arp.h"
#include "net/filter.h"
#include "net/frag.h"
#include "net/icmp.h"
#include "net/route.h"
#include "net/udp.h"

struct tcp_table;
struct tls_table;
struct dns_state;
struct ip6_state;
struct dhcp_client;
struct xs_mq;

#define XS_RX_BATCH XS_POLL_BATCH
#define XS_TICK_NS XS_MS(100)

/* The stack's secrets, one place: drawn from getrandom() at creation, one
 * 128-bit key per use so no output of one helps guess another. */
struct xs_keys {
	uint8_t isn[16];  /* SipHash-2-4: RFC 6528 ISNs, SYN cookies (on the wire) */
	uint8_t tcp[16];  /* SipHash-1-3: TCP connection buckets (4-tuple) */
	uint8_t arp[16];  /* SipHash-1-3: ARP cache buckets */
	uint8_t frag[16]; /* SipHash-1-3: reassembly buckets */
	uint8_t nd[16];   /* SipHash-1-3: neighbor cache buckets (IPv6) */
	uint8_t pmtu[16]; /* SipHash-1-3: path MTU buckets (IPv6) */
};

struct xs_stack {
	struct xs_config cfg;
	struct xs_keys keys;
	struct xs_dev *dev;
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t ip;        /* host order */
	uint32_t netmask;
	uint32_t bcast;     /* directed broadcast of the connected subnet */
	xs_time_t now;      /* time of the poll in progress */
	uint64_t rx_meta;   /* xs_frame.meta of the frame being received, else 0 */
	xs_time_t next_tick;
	uint16_t ip_id;
	uint64_t rng;       /* xorshift state, seeded from getrandom() */
	unsigned garp_left;
	xs_time_t garp_next;
	struct xs_stats stats;
	struct arp_cache arp;
	struct route_table routes;
	struct filter_table filter;
	struct frag_table frag;
	struct icmp_state icmp;
	struct udp_table udp;
	struct tcp_table *tcp;
	struct tls_table *tls; /* TLS sessions (tls/), NULL until the first */
	struct dns_state *dns;
	struct dhcp_client *dhcp; /* cfg.dhcp: the client, else NULL */
	struct ip6_state *ip6;    /* xs_ip6_enable: IPv6 (user/net6/), else NULL */
	unsigned dhcp_ev;   /* XS_DHCP_EV_* not yet taken by xs_dhcp_events */
	/* Multi-queue (core/mq.c): the group, this stack's index in it. */
	struct xs_mq *mq;
	unsigned mq_index;
	uint8_t mq_hops;    /* the packet being handled was passed on this many times */
	uint8_t *scratch;   /* XS_SCRATCH_LEN bytes to build datagrams beyond one frame */

	/* The embeddable loop (user/api/loop.c). */
	bool owns_dev;      /* made by xs_stack_create: xs_stack_free frees it */
	bool in_poll;       /* inside xs_stack_poll (callbacks included) */
	bool tx_unflushed;  /* frames submitted from outside a poll wait for a flush */
	volatile sig_atomic_t kicked; /* the loop's eventfd was written, not yet drained */
	volatile sig_atomic_t stop; /* xs_stop: async-signal-safe */
	int wake_fd;        /* eventfd, -1 until xs_stack_fd (kicks, xs_stop) */
	int ep_fd;          /* epoll over the device fd and wake_fd, -1 until then */
};

/* Largest IP packet, plus room for link headers around it. */
#define XS_SCRATCH_LEN 65536

static inline void xs_drop(struct xs_stack *st, enum xs_drop reason)
{
	st->stats.drop[reason]++;
}

uint64_t xs_random(struct xs_stack *st);

/* loop.c: writes the wake eventfd (work raised between polls). */
void xs_loop_kick(struct xs_stack *st);
void xs_loop_fini(struct xs_stack *st);
/* Start of a poll: the eventfd is read back to zero. */
void xs_loop_drain(struct xs_stack *st);

/* Work raised outside xs_stack_poll (an API call from the application's own
 * loop) must wake whoever waits on xs_stack_fd; inside a poll it is handled
 * before the poll returns. Cheap on the fast path: two flag tests. */
static inline void xs_stack_kick(struct xs_stack *st)
{
	if (!st->in_poll && !st->kicked && st->wake_fd >= 0)
		xs_loop_kick(st);
}

#endif
