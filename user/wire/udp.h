/* UDP header (RFC 768): parse with length and pseudo-header checksum checks,
 * emit with checksum. Needs the addresses of the IPv4 header around it. */
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

#endif
