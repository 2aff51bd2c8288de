/* Packet-filter rule lines: parse one text rule into a host-order repr, with an
 * error naming the field and what was expected; format a repr back to text. */
#ifndef XS_WIRE_FILTER_RULE_H
#define XS_WIRE_FILTER_RULE_H

#include <stddef.h>
#include <stdint.h>

/* Longest rule line accepted (bytes, without the newline). */
#define FILTER_LINE_MAX 256
/* Bounds of `rate N/s [burst B]` (packets). */
#define FILTER_RATE_MAX 10000000u
#define FILTER_BURST_MAX 10000000u

enum filter_action {
	FILTER_ACCEPT = 0,
	FILTER_DROP = 1,
	FILTER_REJECT = 2,
};

/* Direction bits: a rule without `in`/`out` applies to both (reject: in only). */
#define FILTER_DIR_IN 1u
#define FILTER_DIR_OUT 2u

/* TCP flag bits as in the TCP header's flags byte (RFC 9293 3.1). */
#define FILTER_TCP_FIN 0x01u
#define FILTER_TCP_SYN 0x02u
#define FILTER_TCP_RST 0x04u
#define FILTER_TCP_PSH 0x08u
#define FILTER_TCP_ACK 0x10u
#define FILTER_TCP_URG 0x20u
#define FILTER_TCP_ECE 0x40u
#define FILTER_TCP_CWR 0x80u

struct filter_rule {
	uint8_t action;	 /* enum filter_action */
	uint8_t dirs;	 /* FILTER_DIR_* bits, never 0 */
	uint8_t proto;	 /* 0 any, 1 icmp, 6 tcp, 17 udp */
	uint8_t src_len; /* prefix length 0..32 (0: any) */
	uint8_t dst_len;
	uint8_t flags_mask; /* tcp-flags: bits looked at ... */
	uint8_t flags_set;  /* ... and the value they must have (subset of mask) */
	uint32_t src;	    /* host order, host bits zero */
	uint32_t dst;
	uint16_t sport_lo, sport_hi; /* 0..65535 when absent */
	uint16_t dport_lo, dport_hi;
	uint32_t rate;	/* packets per second, 0: no rate condition */
	uint32_t burst; /* bucket depth in packets (rate when not given) */
};

/* What went wrong with a line: the field (a keyword, or "rule"), what was
 * expected there, and the text found (cut to fit). line is set by the caller. */
struct filter_err {
	unsigned line;
	const char *field;
	const char *expected;
	char got[32];
};

/* Parses one line (no NUL needed; stops at len, a '#' starts a comment).
 * Returns 1 and fills *out for a rule, 0 for a blank or comment line, or
 * -EINVAL with *err filled (err->line untouched). */
int filter_rule_parse(const char *s, size_t len, struct filter_rule *out, struct filter_err *err);
/* The canonical text of a rule (parses back to the same repr); returns its
 * length as snprintf does. */
int filter_rule_format(const struct filter_rule *r, char *buf, size_t cap);
/* "line 3: dport: expected a port or range P-P (0-65535), got '70000'" */
int filter_err_format(const struct filter_err *e, char *buf, size_t cap);
/* A rule with every field "any" and the given action. */
void filter_rule_init(struct filter_rule *r, enum filter_action a);

static inline uint32_t filter_prefix_mask(uint8_t len)
{
	return len ? ~0u << (32 - len) : 0;
}

#endif
