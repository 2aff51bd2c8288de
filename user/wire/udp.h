/* UDP header (RFC 768): parse with length and pseudo-header checksum checks,
 * emit with checksum. Needs the addresses of the IPv4 or IPv6 header around it. */
#ifndef XS_WIRE_UDP_H
#define XS_WIRE_UDP_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#define UDP_HDR_LEN 8

struct udp_repr {
	uint16_t sport;
	uint16_t dport;
	const uint8_t *payload;
	size_t payload_len;
};

/* b/n is the IP payload; src/dst the IPv4 addresses (host order).
 * A zero checksum means none was sent (allowed on IPv4). */
enum xs_drop udp_parse(const uint8_t *b, size_t n, uint32_t src, uint32_t dst,
		       struct udp_repr *out);
/* Writes header + payload with checksum; returns bytes written or 0. */
size_t udp_emit(const struct udp_repr *r, uint32_t src, uint32_t dst, uint8_t *b, size_t cap);
/* The same over IPv6 (addresses as on the wire, 16 bytes each): the
 * checksum is mandatory there (RFC 8200 8.1), a zero one is XS_DROP_UDP_CSUM. */
enum xs_drop udp_parse6(const uint8_t *b, size_t n, const uint8_t *src, const uint8_t *dst,
			struct udp_repr *out);
size_t udp_emit6(const struct udp_repr *r, const uint8_t *src, const uint8_t *dst, uint8_t *b,
		 size_t cap);

#endif
