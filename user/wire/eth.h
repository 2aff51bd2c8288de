/* Ethernet II header with up to two VLAN tags: parse to a host-order repr, emit back.
 * No state, no allocation; parse returns the drop reason or XS_DROP_NONE. */
#ifndef XS_WIRE_ETH_H
#define XS_WIRE_ETH_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#define ETH_HDR_LEN 14
#define ETH_ADDR_LEN 6
#define ETH_TYPE_IP4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_QINQ 0x88a8
#define ETH_TYPE_IP6 0x86dd

struct eth_repr {
	uint8_t dst[ETH_ADDR_LEN];
	uint8_t src[ETH_ADDR_LEN];
	uint16_t type;     /* EtherType after any VLAN tags */
	uint16_t vlan;     /* innermost VLAN id, 0 if untagged */
	uint8_t ntags;     /* VLAN tags seen (0..2) */
	uint8_t hdr_len;   /* bytes up to the payload */
};

enum xs_drop eth_parse(const uint8_t *b, size_t n, struct eth_repr *out);
/* Writes an untagged header; returns ETH_HDR_LEN, or 0 if cap is too small. */
size_t eth_emit(const struct eth_repr *r, uint8_t *b, size_t cap);

extern const uint8_t eth_broadcast[ETH_ADDR_LEN];

static inline int eth_is_multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

#endif
