/* ARP for IPv4 over Ethernet (RFC 826): parse to a repr, emit back.
 * Anything but htype 1 / ptype 0x0800 / hlen 6 / plen 4 is a format drop. */
#ifndef XS_WIRE_ARP_H
#define XS_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_repr {
	uint16_t op;
	uint8_t sha[6];
	uint32_t spa; /* host order */
	uint8_t tha[6];
	uint32_t tpa; /* host order */
};

enum xs_drop arp_parse(const uint8_t *b, size_t n, struct arp_repr *out);
/* Returns ARP_LEN, or 0 if cap is too small. */
size_t arp_emit(const struct arp_repr *r, uint8_t *b, size_t cap);

#endif
