/* The packet filter's rule table and its user-space enforcement: rules in
 * order, a default policy per direction, per-rule counters and token buckets. */
#ifndef XS_NET_FILTER_H
#define XS_NET_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#include "wire/filter_rule.h"

struct xs_stack;
struct ip4_repr;

/* Rules per table (both directions together). The XDP program walks the
 * inbound ones in a bounded loop of this many steps (docs/DESIGN.md). */
#define FILTER_MAX_RULES 64

struct filter_counter {
	uint64_t pkts;
	uint64_t bytes;
};

/* A token bucket counted in packets x 1e9 so that any rate up to
 * FILTER_RATE_MAX refills exactly per nanosecond. */
struct filter_bucket {
	uint64_t tokens;
	xs_time_t last;
};

struct filter_table {
	struct filter_rule rule[FILTER_MAX_RULES];
	struct filter_counter cnt[FILTER_MAX_RULES];	 /* taken in user space */
	struct filter_counter xdp_cnt[FILTER_MAX_RULES]; /* dropped by the XDP program */
	struct filter_bucket bucket[FILTER_MAX_RULES];
	/* Matched, but the rule's bucket had no token (the packet went on to
	 * the next rule): in the stack, and in the XDP program's buckets. */
	uint64_t limited[FILTER_MAX_RULES];
	uint64_t xdp_limited[FILTER_MAX_RULES];
	uint32_t id[FILTER_MAX_RULES]; /* never reused: the XDP loader carries buckets by it */
	uint32_t next_id;
	unsigned n;
	uint8_t policy[2];		      /* [0] in, [1] out: FILTER_ACCEPT or FILTER_DROP */
	struct filter_counter policy_cnt[2];  /* packets the policy decided */
	struct filter_counter xdp_policy_cnt; /* inbound policy drops in XDP */
	/* Bumped on every change; starts random. The XDP table compiled from
	 * this one carries it as its tag, and a verdict the program stamps
	 * on a frame is trusted only while the tags agree. */
	uint32_t gen;
};

/* What a rule looks at, in host order. has_l4: ports and flags are known (not
 * a fragment past the first, header complete); a rule that names ports or
 * flags never matches a packet without them (as iptables does). */
struct filter_pkt {
	uint8_t dir; /* FILTER_DIR_IN or FILTER_DIR_OUT */
	uint8_t proto;
	bool has_l4;
	uint8_t tcp_flags;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t len; /* IP total length, for the byte counters */
};

void filter_table_init(struct filter_table *t);
/* Inserts r before position pos (0-based; pos == n appends).
 * -ENOSPC when full, -ERANGE for a bad position. */
int filter_table_insert(struct filter_table *t, unsigned pos, const struct filter_rule *r);
int filter_table_del(struct filter_table *t, unsigned pos);
void filter_table_flush(struct filter_table *t);
/* dir is FILTER_DIR_IN or FILTER_DIR_OUT, a FILTER_ACCEPT or FILTER_DROP. */
int filter_table_set_policy(struct filter_table *t, unsigned dir, enum filter_action a);
/* Parses a whole rule file (one rule a line, # comments) into t, which is
 * written only if every line parses and the rules fit: otherwise -EINVAL
 * with *err naming the line (or -ENOSPC with err->line the first rule past
 * the limit). Policies are kept. */
int filter_table_load(struct filter_table *t, const char *text, size_t len, struct filter_err *err);
/* True if rule r matches p (the rate condition aside). */
bool filter_rule_match(const struct filter_rule *r, const struct filter_pkt *p);
/* Evaluates p against the rules in order at time now: the first rule that
 * matches and, if it has a rate, still has a token decides; else the policy.
 * Counts the packet on that rule (or the policy); *idx is the rule's index
 * or -1 for the policy. Returns a FILTER_* action. */
enum filter_action filter_table_eval(struct filter_table *t, const struct filter_pkt *p,
				     xs_time_t now, int *idx);
/* Fills p from an IPv4 packet: ip its header, l4/l4len what follows it
 * (whatever the frame holds of it). */
void filter_pkt_from_ip(struct filter_pkt *p, unsigned dir, const struct ip4_repr *ip,
			const uint8_t *l4, size_t l4len);

struct xs_steer_table;
struct xs_steer_rule_cnt;
/* The inbound rules the XDP program can decide, in order (bpf/steer.h): a
 * drop rule drops there (a rate one while its per-CPU bucket has tokens); an
 * accept or reject rule that matches, or the accept policy, ends the walk
 * and the frame goes to the stack with that verdict (filter_input). */
void filter_table_compile_xdp(const struct filter_table *t, struct xs_steer_table *out);

/* The stack's enforcement. Input: after reassembly, b the whole datagram;
 * meta the XDP program's verdict on the frame (xs_frame.meta; 0: none, and
 * never for a fragment): carried out when its tag is the table's, else the
 * stack judges itself. Returns true if the filter took the packet (dropped,
 * or rejected with a TCP RST or an ICMP port unreachable, rate-limited as
 * ICMP errors are). */
bool filter_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *b, uint64_t meta);
/* Output: the packet about to be sent (l4 its transport header and data);
 * 0 to send, -EPERM if a rule or the policy drops it (counted). */
int filter_output(struct xs_stack *st, uint32_t dst, uint8_t proto, const uint8_t *l4,
		  size_t l4len);

#endif
