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
	uint32_t rest;	     /* id << 16 | seq for echo */
	const uint8_t *data; /* body after the 8-byte header */
	size_t data_len;
};

enum xs_drop icmp_parse(const uint8_t *b, size_t n, struct icmp_repr *out);
/* Writes header + data; returns bytes written, or 0 if cap is too small. */
size_t icmp_emit(const struct icmp_repr *r, uint8_t *b, size_t cap);

/* What an ICMP error's body quotes (RFC 792; RFC 1122 3.2.2: the IPv4
 * header, options included, and at least 8 bytes of its data). */
struct icmp_quote {
	uint8_t hdr_len; /* quoted IHL in bytes, 20..60 */
	uint8_t proto;
	uint32_t src, dst; /* host order */
	const uint8_t *l4; /* the first 8 bytes after the quoted header */
};

/* b/n is an error's data (icmp_repr.data). Checks version 4, IHL at least 20
 * and header + 8 bytes within n (the quoted lengths and checksum are not
 * checked: a router may quote a header it changed). XS_DROP_ICMP_ERR_BAD if not. */
enum xs_drop icmp_quote_parse(const uint8_t *b, size_t n, struct icmp_quote *out);

#endif
