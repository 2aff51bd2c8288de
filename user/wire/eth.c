/* Ethernet II parse/emit. A tagged frame (802.1Q or 802.1ad, two tags at most)
 * reports its innermost VLAN id; policy on VLANs lives in net/iface.c. */
#include <string.h>

#include "wire/bytes.h"
#include "wire/eth.h"

const uint8_t eth_broadcast[ETH_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

enum xs_drop eth_parse(const uint8_t *b, size_t n, struct eth_repr *out)
{
	size_t off = 12;
	uint16_t type;

	if (n < ETH_HDR_LEN)
		return XS_DROP_ETH_SHORT;
	memcpy(out->dst, b, ETH_ADDR_LEN);
	memcpy(out->src, b + 6, ETH_ADDR_LEN);
	out->vlan = 0;
	out->ntags = 0;
	type = ld_be16(b + off);
	while (type == ETH_TYPE_VLAN || type == ETH_TYPE_QINQ) {
		if (out->ntags == 2)
			return XS_DROP_ETH_VLAN;
		if (n < off + 4 + 2)
			return XS_DROP_ETH_SHORT;
		out->vlan = ld_be16(b + off + 2) & 0x0fff;
		out->ntags++;
		off += 4;
		type = ld_be16(b + off);
	}
	out->type = type;
	out->hdr_len = (uint8_t)(off + 2);
	return XS_DROP_NONE;
}

size_t eth_emit(const struct eth_repr *r, uint8_t *b, size_t cap)
{
	if (cap < ETH_HDR_LEN)
		return 0;
	memcpy(b, r->dst, ETH_ADDR_LEN);
	memcpy(b + 6, r->src, ETH_ADDR_LEN);
	st_be16(b + 12, r->type);
	return ETH_HDR_LEN;
}
