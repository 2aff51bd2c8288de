/* IPv4 header (RFC 791): parse with every length checked against the buffer,
 * emit a 20-byte header with its checksum. Addresses in host byte order. */
#ifndef XS_WIRE_IP4_H
#define XS_WIRE_IP4_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#define IP4_HDR_LEN 20
#define IP4_PROTO_ICMP 1
#define IP4_PROTO_TCP 6
#define IP4_PROTO_UDP 17
#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_OFF_MASK 0x1fff

struct ip4_repr {
	uint8_t hdr_len;     /* bytes, 20..60 */
	uint8_t tos;
	uint16_t total_len;  /* header + payload */
	uint16_t id;
	uint16_t frag;       /* flags and offset field as on the wire */
	uint8_t ttl;
	uint8_t proto;
	uint32_t src;
	uint32_t dst;
};

/* Checks version, IHL, total length against n (bytes after the Ethernet
 * header, padding included) and the header checksum. */
enum xs_drop ip4_parse(const uint8_t *b, size_t n, struct ip4_repr *out);
/* Writes a 20-byte header (hdr_len is ignored) with checksum; returns 20 or 0. */
size_t ip4_emit(const struct ip4_repr *r, uint8_t *b, size_t cap);

static inline size_t ip4_payload_len(const struct ip4_repr *r)
{
	return (size_t)r->total_len - r->hdr_len;
}
static inline int ip4_is_fragment(const struct ip4_repr *r)
{
	return (r->frag & (IP4_FLAG_MF | IP4_OFF_MASK)) != 0;
}
/* Class D and E, limited broadcast, 0.0.0.0/8, 127/8: never a valid unicast source. */
static inline int ip4_is_martian_src(uint32_t a)
{
	return a >= 0xe0000000u || (a >> 24) == 0 || (a >> 24) == 127;
}

#endif
