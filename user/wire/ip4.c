/* IPv4 header parse/emit (RFC 791). The parser trusts no length field:
 * IHL and total length are both checked against the bytes really received. */
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip4.h"

enum xs_drop ip4_parse(const uint8_t *b, size_t n, struct ip4_repr *out)
{
	unsigned ihl;

	if (n < IP4_HDR_LEN)
		return XS_DROP_IP_SHORT;
	if (b[0] >> 4 != 4)
		return XS_DROP_IP_VERSION;
	ihl = (b[0] & 0x0f) * 4u;
	if (ihl < IP4_HDR_LEN || ihl > n)
		return XS_DROP_IP_HDR_LEN;
	out->hdr_len = (uint8_t)ihl;
	out->total_len = ld_be16(b + 2);
	if (out->total_len < ihl || out->total_len > n)
		return XS_DROP_IP_TOTAL_LEN;
	if (csum_fold(csum_add(0, b, ihl)) != 0)
		return XS_DROP_IP_CSUM;
	out->tos = b[1];
	out->id = ld_be16(b + 4);
	out->frag = ld_be16(b + 6);
	out->ttl = b[8];
	out->proto = b[9];
	out->src = ld_be32(b + 12);
	out->dst = ld_be32(b + 16);
	return XS_DROP_NONE;
}

size_t ip4_emit(const struct ip4_repr *r, uint8_t *b, size_t cap)
{
	if (cap < IP4_HDR_LEN)
		return 0;
	b[0] = 0x45;
	b[1] = r->tos;
	st_be16(b + 2, r->total_len);
	st_be16(b + 4, r->id);
	st_be16(b + 6, r->frag);
	b[8] = r->ttl;
	b[9] = r->proto;
	st_be16(b + 10, 0);
	st_be32(b + 12, r->src);
	st_be32(b + 16, r->dst);
	st_be16(b + 10, csum_fold(csum_add(0, b, IP4_HDR_LEN)));
	return IP4_HDR_LEN;
}
