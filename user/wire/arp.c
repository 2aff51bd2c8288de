/* ARP wire format (RFC 826), Ethernet/IPv4 only. Structure checks here;
 * who may be learned and what to answer lives in net/arp.c. */
#include <string.h>

#include "wire/arp.h"
#include "wire/bytes.h"

enum xs_drop arp_parse(const uint8_t *b, size_t n, struct arp_repr *out)
{
	if (n < 8)
		return XS_DROP_ARP_SHORT;
	if (ld_be16(b) != 1 || ld_be16(b + 2) != 0x0800 || b[4] != 6 || b[5] != 4)
		return XS_DROP_ARP_FORMAT;
	if (n < ARP_LEN)
		return XS_DROP_ARP_SHORT;
	out->op = ld_be16(b + 6);
	if (out->op != ARP_OP_REQUEST && out->op != ARP_OP_REPLY)
		return XS_DROP_ARP_OP;
	memcpy(out->sha, b + 8, 6);
	out->spa = ld_be32(b + 14);
	memcpy(out->tha, b + 18, 6);
	out->tpa = ld_be32(b + 24);
	return XS_DROP_NONE;
}

size_t arp_emit(const struct arp_repr *r, uint8_t *b, size_t cap)
{
	if (cap < ARP_LEN)
		return 0;
	st_be16(b, 1);
	st_be16(b + 2, 0x0800);
	b[4] = 6;
	b[5] = 4;
	st_be16(b + 6, r->op);
	memcpy(b + 8, r->sha, 6);
	st_be32(b + 14, r->spa);
	memcpy(b + 18, r->tha, 6);
	st_be32(b + 24, r->tpa);
	return ARP_LEN;
}
