/* ICMPv6 messages (RFC 4443): parse with the pseudo-header checksum, emit with
 * it, and read the packet an error quotes. Neighbor Discovery is wire/ndp.h. */
#ifndef XS_WIRE_ICMP6_H
#define XS_WIRE_ICMP6_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#include "wire/ip6.h"

#define ICMP6_HDR_LEN 8
#define ICMP6_DST_UNREACH 1
#define ICMP6_PKT_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROB 4
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_ND_RS 133
#define ICMP6_ND_RA 134
#define ICMP6_ND_NS 135
#define ICMP6_ND_NA 136
#define ICMP6_ND_REDIRECT 137

/* An error's quote stays within the minimum MTU (RFC 4443 2.4 (c)). */
#define ICMP6_QUOTE_MAX (IP6_MIN_MTU - IP6_HDR_LEN - ICMP6_HDR_LEN)

/* Types 0-127 are errors (RFC 4443 2.1). */
static inline int icmp6_is_error(uint8_t type)
{
	return type < 128;
}

struct icmp6_repr {
	uint8_t type;
	uint8_t code;
	uint32_t rest;	     /* the 4 bytes after the checksum: id << 16 | seq for echo,
			      * the MTU of Packet Too Big, the pointer of Parameter Problem */
	const uint8_t *data; /* body after the 8-byte header */
	size_t data_len;
};

/* b/n is the whole ICMPv6 message; src/dst the IPv6 addresses around it. */
enum xs_drop icmp6_parse(const uint8_t *b, size_t n, const struct ip6_addr *src,
			 const struct ip6_addr *dst, struct icmp6_repr *out);
/* Writes header + data with the checksum; bytes written, 0 if cap is too small.
 * data may overlap b (memmove). */
size_t icmp6_emit(const struct icmp6_repr *r, const struct ip6_addr *src,
		  const struct ip6_addr *dst, uint8_t *b, size_t cap);
/* Writes the checksum of the n-byte message at b (built by other means). */
void icmp6_set_csum(uint8_t *b, size_t n, const struct ip6_addr *src, const struct ip6_addr *dst);

/* What an error quotes: the offending packet from its IPv6 header (RFC 4443 3). */
struct icmp6_quote {
	struct ip6_addr src, dst;
	uint8_t proto;	   /* the upper layer the walk reached */
	const uint8_t *l4; /* its first bytes, at least 8 of them */
	size_t l4_len;	   /* quoted bytes from l4 on */
};

/* b/n is an error's data. Checks version 6 and walks the quoted extension
 * headers (bounded as ip6_walk, the quote may be cut short) to an upper-layer
 * header with 8 bytes present; a non-first fragment has none to find.
 * XS_DROP_ICMP6_ERR_BAD if not. */
enum xs_drop icmp6_quote_parse(const uint8_t *b, size_t n, struct icmp6_quote *out);

#endif
