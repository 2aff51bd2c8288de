/* IPv6 header (RFC 8200 3) and its extension headers (RFC 8200 4): parse with
 * every length checked, a bounded walk of the header chain, emit. No state. */
#ifndef XS_WIRE_IP6_H
#define XS_WIRE_IP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xdpstack/stats.h>

#define IP6_HDR_LEN 40
#define IP6_ADDR_LEN 16
#define IP6_MIN_MTU 1280 /* RFC 8200 5: every link carries this much */
#define IP6_FRAG_HDR_LEN 8

/* Next Header values (IANA protocol numbers). */
#define IP6_NH_HOPOPTS 0
#define IP6_NH_TCP 6
#define IP6_NH_UDP 17
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_ESP 50
#define IP6_NH_AH 51
#define IP6_NH_ICMP6 58
#define IP6_NH_NONE 59
#define IP6_NH_DSTOPTS 60

/* Limits of the walk (docs/LIMITS.md): extension headers in one packet, their
 * bytes in all, and options other than padding in one options header. A chain
 * past these is dropped, counted XS_DROP_IP6_EXT_LIMIT (Linux: max_hbh_opts_cnt,
 * max_dst_opts_cnt 8). */
#define IP6_EXT_MAX 8
#define IP6_EXT_BYTES_MAX 512
#define IP6_OPTS_MAX 8
#define IP6_PAD_MAX 7 /* consecutive padding bytes (RFC 8200 4.2 pads at most 7) */

/* An address in network byte order: 16 bytes, compared with memcmp. */
struct ip6_addr {
	uint8_t b[IP6_ADDR_LEN];
};

struct ip6_repr {
	uint8_t tclass;
	uint32_t flow;	      /* 20 bits */
	uint16_t payload_len; /* bytes after the 40-byte header */
	uint8_t next_hdr;
	uint8_t hop_limit;
	struct ip6_addr src;
	struct ip6_addr dst;
};

/* Checks version 6 and the payload length against n (bytes after the
 * Ethernet header, padding included). A jumbogram's Jumbo Payload option
 * (RFC 2675) is not supported: the walk treats it as any unknown option. */
enum xs_drop ip6_parse(const uint8_t *b, size_t n, struct ip6_repr *out);
/* Writes the 40-byte header; returns 40, or 0 if cap is too small. */
size_t ip6_emit(const struct ip6_repr *r, uint8_t *b, size_t cap);

/* The Fragment header (RFC 8200 4.5). */
struct ip6_frag {
	uint8_t next_hdr;
	uint16_t offset; /* bytes, a multiple of 8 */
	bool more;
	uint32_t id;
};
void ip6_frag_read(const uint8_t *p, struct ip6_frag *out);
size_t ip6_frag_emit(const struct ip6_frag *f, uint8_t *b, size_t cap);

/* No ICMPv6 error is owed (icmp_code of a failed walk). */
#define IP6_NO_ICMP 0xff

/* The result of a header-chain walk over one packet. */
struct ip6_walk {
	uint8_t proto;	      /* upper-layer protocol where the walk stopped, or
			       * IP6_NH_FRAGMENT at a (non-atomic) fragment header */
	uint8_t nexts;	      /* extension headers passed */
	uint16_t l4_off;      /* offset of that header from the start of the IPv6 header */
	uint16_t nh_off;      /* offset of the Next Header byte that named proto */
	bool atomic;	      /* an atomic fragment header (RFC 6946) was skipped */
	struct ip6_frag frag; /* proto == IP6_NH_FRAGMENT: its fields */
	/* A failed walk: the ICMPv6 Parameter Problem the packet deserves
	 * (RFC 8200 4, 4.2), or IP6_NO_ICMP; icmp_ptr is the offset of the
	 * offending byte from the start of the IPv6 header. */
	uint8_t icmp_code;
	uint32_t icmp_ptr;
};

/* Walks the extension headers of pkt (len bytes from the IPv6 header, whose
 * payload length has been checked) until an upper-layer header, No Next
 * Header, or a non-atomic Fragment header. Rules (RFC 8200 4.1): Hop-by-Hop
 * only first, each header at most once except Destination Options twice,
 * IP6_EXT_MAX headers and IP6_EXT_BYTES_MAX bytes at most; options walked
 * with their action bits (4.2); a Routing header with Segments Left is
 * refused (4.4; a host forwards nothing). dst_mcast: the destination is a
 * multicast address (option action 11 then owes no ICMP). XS_DROP_NONE, or
 * the reason, with w->icmp_code/icmp_ptr set. */
enum xs_drop ip6_walk(const uint8_t *pkt, size_t len, bool dst_mcast, struct ip6_walk *w);

/* Address classes (RFC 4291 2.4). */
static inline bool ip6_is_unspecified(const struct ip6_addr *a)
{
	static const struct ip6_addr z;

	return !memcmp(a, &z, sizeof(z));
}

static inline bool ip6_is_multicast(const struct ip6_addr *a)
{
	return a->b[0] == 0xff;
}

static inline bool ip6_is_linklocal(const struct ip6_addr *a)
{
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

static inline bool ip6_is_loopback(const struct ip6_addr *a)
{
	static const struct ip6_addr lo = {.b = {[15] = 1}};

	return !memcmp(a, &lo, sizeof(lo));
}

/* ::ffff:0:0/96, an IPv4 address in IPv6 clothes (RFC 4291 2.5.5.2). */
static inline bool ip6_is_v4mapped(const struct ip6_addr *a)
{
	static const uint8_t pfx[12] = {[10] = 0xff, [11] = 0xff};

	return !memcmp(a->b, pfx, sizeof(pfx));
}

static inline bool ip6_eq(const struct ip6_addr *a, const struct ip6_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* True when the first plen bits of a and b agree. */
bool ip6_prefix_eq(const struct ip6_addr *a, const struct ip6_addr *b, unsigned plen);
/* Bits in common from the left (0..128). */
unsigned ip6_common_prefix(const struct ip6_addr *a, const struct ip6_addr *b);
/* Clears the bits past plen. */
void ip6_prefix_mask(struct ip6_addr *a, unsigned plen);

/* ff02::1:ffXX:XXXX, the solicited-node group of a (RFC 4291 2.7.1). */
void ip6_solicited_node(const struct ip6_addr *a, struct ip6_addr *out);
bool ip6_is_solicited_node(const struct ip6_addr *a);
/* 33:33 + the low 32 bits: the Ethernet group of a multicast address (RFC 2464 7). */
void ip6_mcast_mac(const struct ip6_addr *a, uint8_t mac[6]);

extern const struct ip6_addr ip6_all_nodes;   /* ff02::1 */
extern const struct ip6_addr ip6_all_routers; /* ff02::2 */

#endif
