/* ICMPv4 messages (RFC 792): parse with checksum, emit with checksum.
 * The 4 bytes after the checksum are kept raw (id/seq for echo). */
#ifndef XS_WIRE_ICMP_H
#define XS_WIRE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#define ICMP_HDR_LEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11

struct icmp_repr {
	uint8_t type;
	uint8_t code;
	uint32_t rest;        /* id << 16 | seq for echo */
	const uint8_t *data;  /* body after the 8-byte header */
	size_t data_len;
};

enum xs_drop icmp_parse(const uint8_t *b, size_t n, struct icmp_repr *out);
/* Writes header + data; returns bytes written, or 0 if cap is too small. */
size_t icmp_emit(const struct icmp_repr *r, uint8_t *b, size_t cap);

#endif
