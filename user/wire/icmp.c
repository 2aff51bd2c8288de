/* ICMPv4 parse/emit (RFC 792). The checksum covers the whole message;
 * which messages get an answer is net/icmp.c's business. */
#include <string.h>

#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/ip4.h"

enum xs_drop icmp_parse(const uint8_t *b, size_t n, struct icmp_repr *out)
{
	if (n < ICMP_HDR_LEN)
		return XS_DROP_ICMP_SHORT;
	if (csum_fold(csum_add(0, b, n)) != 0)
		return XS_DROP_ICMP_CSUM;
	out->type = b[0];
	out->code = b[1];
	out->rest = ld_be32(b + 4);
	out->data = b + ICMP_HDR_LEN;
	out->data_len = n - ICMP_HDR_LEN;
	return XS_DROP_NONE;
}

size_t icmp_emit(const struct icmp_repr *r, uint8_t *b, size_t cap)
{
	size_t n = ICMP_HDR_LEN + r->data_len;

	if (cap < n)
		return 0;
	b[0] = r->type;
	b[1] = r->code;
	st_be16(b + 2, 0);
	st_be32(b + 4, r->rest);
	if (r->data_len)
		memmove(b + ICMP_HDR_LEN, r->data, r->data_len);
	st_be16(b + 2, csum_fold(csum_add(0, b, n)));
	return n;
}

enum xs_drop icmp_quote_parse(const uint8_t *b, size_t n, struct icmp_quote *out)
{
	unsigned ihl;

	if (n < IP4_HDR_LEN || b[0] >> 4 != 4)
		return XS_DROP_ICMP_ERR_BAD;
	ihl = (b[0] & 0x0f) * 4u;
	if (ihl < IP4_HDR_LEN || n < ihl + 8)
		return XS_DROP_ICMP_ERR_BAD;
	out->hdr_len = (uint8_t)ihl;
	out->proto = b[9];
	out->src = ld_be32(b + 12);
	out->dst = ld_be32(b + 16);
	out->l4 = b + ihl;
	return XS_DROP_NONE;
}
