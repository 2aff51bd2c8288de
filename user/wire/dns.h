/* DNS messages (RFC 1035 4.1): a strict reply parser into a bounded repr and
 * the query emitter of a stub resolver. Names are kept in wire form, lowercase. */
#ifndef XS_WIRE_DNS_H
#define XS_WIRE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#define DNS_HDR_LEN 12
#define DNS_LABEL_MAX 63 /* RFC 1035 2.3.4 */
#define DNS_NAME_MAX 255 /* octets in wire form, the root label included */
#define DNS_UDP_MAX 512	 /* RFC 1035 4.2.1: without EDNS */
#define DNS_MAX_RRS 16	 /* answer records of type A or CNAME kept */

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA 6
#define DNS_CLASS_IN 1

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

/* A name in wire form (labels, then the root's zero), lowercased. */
struct dns_name {
	uint8_t len;
	uint8_t b[DNS_NAME_MAX];
};

struct dns_rr {
	struct dns_name owner;
	uint16_t type; /* DNS_TYPE_A or DNS_TYPE_CNAME */
	uint32_t ttl;
	uint32_t a;		/* A: the address, host order */
	struct dns_name target; /* CNAME: the canonical name */
};

struct dns_msg {
	uint16_t id;
	bool qr, tc, aa, rd, ra;
	uint8_t opcode, rcode;
	struct dns_name qname;
	uint16_t qtype, qclass;
	struct dns_rr an[DNS_MAX_RRS];
	unsigned an_n;	     /* kept in an[] */
	unsigned an_ignored; /* A/CNAME of class IN past DNS_MAX_RRS, other types */
	bool has_soa;	     /* an SOA in the authority section (RFC 2308 3) */
	uint32_t soa_ttl, soa_minimum;
	size_t len; /* bytes the sections took (bytes after are ignored) */
};

/* Parses a whole message (b/n: the UDP payload or the TCP message without
 * its length prefix). Structure only: XS_DROP_NONE, or the DNS_* reason.
 * Every section is walked whole: counts beyond the records present, names
 * that break RFC 1035 4.1.4 or 3.1, and RDLENGTHs past the end are refused
 * even in records not kept. Policy (ID, question, QR) is the caller's. */
enum xs_drop dns_parse(const uint8_t *b, size_t n, struct dns_msg *m);

/* Writes a standard query (RD set, one question) for name; bytes or 0. */
size_t dns_query_emit(uint16_t id, const struct dns_name *name, uint16_t qtype, uint8_t *b,
		      size_t cap);

/* "www.example.com" or with a trailing dot -> wire form, lowercased.
 * -EINVAL for an empty label, a label over 63, a name over 255 octets or a
 * byte that is not a letter, digit, '-' or '_'. */
int dns_name_from_text(const char *s, struct dns_name *out);
/* Dotted text without the trailing dot ("." for the root); the length, or
 * 0 if cap is too small. Bytes other than those from_text accepts become '?'. */
size_t dns_name_to_text(const struct dns_name *n, char *out, size_t cap);
static inline bool dns_name_eq(const struct dns_name *a, const struct dns_name *b)
{
	return a->len == b->len && __builtin_memcmp(a->b, b->b, a->len) == 0;
}

#endif
