/* DNS stub resolver (RFC 1035 7, RFC 2308): queries on the stack's own UDP and
 * TCP handles, matching of replies, CNAME chains, a TTL cache and its budgets. */
#ifndef XS_NET_DNS_H
#define XS_NET_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "wire/dns.h"

#define DNS_NEG_TTL_MAX 10800	/* RFC 2308 5: negative answers, three hours at most */
#define DNS_TCP_BUF (2 + 65535) /* a length prefix and the largest message */
#define DNS_RECV_BUF 4096	/* UDP replies larger are cut and then refused */

struct dns_server {
	uint32_t ip;
	uint16_t port;
};

enum dns_qstate { DNS_Q_FREE = 0, DNS_Q_UDP, DNS_Q_TCP, DNS_Q_DONE };

struct dns_query {
	enum dns_qstate state;
	uint8_t fresh; /* finished during delivery: waits a poll */
	xs_dns_cb cb; /* stored for user/api/dns.c, never called here */
	void *ctx;
	struct dns_name asked; /* the name the user asked for (cache key) */
	struct dns_name cur;   /* the name now being asked (after CNAMEs) */
	uint32_t gen;	       /* bumped at each resolve: a query handle names it */
	uint16_t id;	       /* of the message in flight */
	struct xs_udp udp;     /* handle or id -1 */
	struct xs_tcp tcp;     /* handle or id -1 */
	unsigned server;       /* index into servers[] */
	unsigned tries;	       /* messages sent, over all servers */
	xs_time_t deadline;
	uint8_t *tbuf; /* TCP: the reply being gathered */
	uint32_t tlen;
	uint32_t min_ttl; /* over the CNAME links followed */
	struct xs_dns_result r;
};

struct dns_cache_entry {
	bool used;
	struct dns_name name;
	xs_time_t expires;
	xs_time_t added;
	struct xs_dns_result r; /* error 0 with addresses, or negative */
};

struct dns_state {
	struct dns_server servers[XS_DNS_MAX_SERVERS];
	unsigned nservers;
	struct dns_query *q;	       /* cfg.dns_max_queries slots */
	struct dns_cache_entry *cache; /* cfg.dns_cache_size entries */
	unsigned ndone;		       /* queries in DNS_Q_DONE, to deliver */
	xs_time_t next_deadline;       /* at or before the earliest query's timeout */
	bool delivering;
	unsigned dleft, dnext;	       /* the delivery in progress: left, next slot */
	struct dns_msg msg; /* parse area, one message at a time */
	uint8_t buf[DNS_RECV_BUF];
};

struct xs_stack;

int dns_init(struct xs_stack *st);
void dns_fini(struct xs_stack *st);
/* Per-query timeouts: the next server, or the end of the query. */
void dns_timers_run(struct xs_stack *st);
xs_time_t dns_next_timer(const struct xs_stack *st);
bool dns_events_pending(const struct xs_stack *st);

/* Delivery (user/api/events.c, end of each poll): begin fixes the queries
 * finished so far; next frees the next one and returns its slot with what
 * its callback needs, or -1 at the end (then queries finished meanwhile
 * become due at the next poll). */
struct dns_delivery {
	struct xs_dns_result r;
	xs_dns_cb cb;
	void *ctx;
	uint32_t gen;
};
void dns_deliver_begin(struct xs_stack *st);
int dns_deliver_next(struct xs_stack *st, struct dns_delivery *out);

/* The handle API's DNS half, by slot (user/api/dns.c): a slot and *gen, or
 * -errno; 0 or -EBADF. */
int dns_resolve(struct xs_stack *st, const char *name, xs_dns_cb cb, void *ctx, uint32_t *gen);
int dns_cancel(struct xs_stack *st, int h, uint32_t gen);

#endif
