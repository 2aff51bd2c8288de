/* ICMPv4 host behaviour: echo replies, error messages sent under RFC 1122's
 * rules and a token bucket, errors received routed to their socket, ping sockets. */
#ifndef XS_NET_ICMP_H
#define XS_NET_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/addr.h>
#include <xdpstack/stack.h>

#include "wire/ip4.h"

#define ICMP_MAX_PINGS 16
#define ICMP_TOKEN 1000000000ull /* one token of the error bucket: 1 s of rate 1 */
#define ICMP_QUOTE_MAX 548 /* 576 minus the new IP and ICMP headers (RFC 1812 4.3.2.3) */

#define ICMP_PING_QUEUE 256 /* results waiting for the end of the batch */

struct ping_sock {
	uint8_t used;
	uint16_t id;
	uint32_t gen; /* bumped at each open: a handle and a queued result name it */
	xs_ping_cb cb; /* stored for user/api/ping.c, never called here */
	void *ctx;
};

/* A result raised during the batch, delivered after it. */
struct ping_event {
	uint8_t h;
	uint32_t gen;
	struct xs_ping_result r;
};

/* Takes one token from an error bucket (tokens in 1/ICMP_TOKEN of a token,
 * refilled: when it was last topped up) filled at cfg.icmp_rate a second,
 * cfg.icmp_burst deep; false when it is empty. ICMPv4 and ICMPv6 each own
 * one. */
bool icmp_bucket_take(const struct xs_stack *st, uint64_t *tokens, xs_time_t *refilled);

struct icmp_state {
	uint64_t tokens; /* in 1/ICMP_TOKEN of a token */
	xs_time_t refilled;
	struct ping_sock ping[ICMP_MAX_PINGS];
	struct ping_event pq[ICMP_PING_QUEUE]; /* ring */
	unsigned pq_head, pq_len;
	unsigned pq_deliver; /* results left to deliver in this poll */
};

struct xs_stack;

void icmp_init(struct xs_stack *st);
/* b/n is the ICMP message; pkt/pkt_len the whole IP packet it came in. */
void icmp_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *b, size_t n);
/* Sends an ICMP error about pkt, of which pkt_len bytes were really received
 * (IP header first). Silently does nothing where RFC 1122 3.2.2 forbids an
 * error, and counts XS_DROP_ICMP_RATE when the token bucket is empty. */
void icmp_send_error(struct xs_stack *st, uint8_t type, uint8_t code, uint32_t rest,
		     const uint8_t *pkt, size_t pkt_len);
/* Reports an error about a packet this stack sent (pkt: its IP packet) to the
 * socket that sent it, as if the error had come from the network. */
void icmp_local_error(struct xs_stack *st, uint8_t type, uint8_t code, const uint8_t *pkt,
		      size_t pkt_len);
/* The ping handle whose ICMP identifier is id (its number in *h), or NULL. */
struct ping_sock *icmp_ping_find(struct xs_stack *st, uint16_t id, int *h);
/* Queues a result for handle h's callback after the batch (either family:
 * an IPv4 one gets r->from as its from_addr). */
void icmp_ping_raise(struct xs_stack *st, int h, const struct xs_ping_result *r);
/* Delivery (user/api/events.c, end of each poll): begin fixes the results
 * queued so far (those a callback raises wait for the next poll); next takes
 * the next one whose handle is still open into out: 0, or -ENOENT at the end. */
void ping_deliver_begin(struct xs_stack *st);
int ping_deliver_next(struct xs_stack *st, struct ping_event *out);

/* The handle API's ping half, by number (user/api/ping.c checks the
 * generation first); the same returns as the xs_ping_* calls. */
int ping_open(struct xs_stack *st, xs_ping_cb cb, void *ctx, uint32_t *gen);
int ping_send(struct xs_stack *st, int h, uint32_t dst, uint16_t seq, size_t data_len);
/* Either family (net6/icmp6.c): an IPv4 address goes to ping_send. */
int ping_send_addr(struct xs_stack *st, int h, const struct xs_addr *dst, uint16_t seq,
		   size_t data_len);
int ping_close(struct xs_stack *st, int h);
int ping_poll_events(const struct xs_stack *st, int h);

#endif
