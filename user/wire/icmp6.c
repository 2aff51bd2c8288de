/* ICMPv6 parse/emit (RFC 4443 2.1, 2.3): the checksum covers the IPv6 pseudo
 * header; which messages get an answer is net6/icmp6.c's business. */
#include <string.h>

#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/icmp6.h"

static uint16_t icmp6_csum(const uint8_t *b, size_t n, const struct ip6_addr *src,
			   const struct ip6_addr *dst)
{
	return csum_fold(csum_add(csum_pseudo6(src->b, dst->b, IP6_NH_ICMP6, (uint32_t)n), b, n));
}

enum xs_drop icmp6_parse(const uint8_t *b, size_t n, const struct ip6_addr *src,
			 const struct ip6_addr *dst, struct icmp6_repr *out)
{
	if (n < ICMP6_HDR_LEN)
		return XS_DROP_ICMP6_SHORT;
	if (icmp6_csum(b, n, src, dst) != 0)
		return XS_DROP_ICMP6_CSUM;
	out->type = b[0];
	out->code = b[1];
	out->rest = ld_be32(b + 4);
	out->data = b + ICMP6_HDR_LEN;
	out->data_len = n - ICMP6_HDR_LEN;
	return XS_DROP_NONE;
}

void icmp6_set_csum(uint8_t *b, size_t n, const struct ip6_addr *src, const struct ip6_addr *dst)
{
	st_be16(b + 2, 0);
	st_be16(b + 2, icmp6_csum(b, n, src, dst));
}

size_t icmp6_emit(const struct icmp6_repr *r, const struct ip6_addr *src,
		  const struct ip6_addr *dst, uint8_t *b, size_t cap)
{
	size_t n = ICMP6_HDR_LEN + r->data_len;

	if (cap < n)
		return 0;
	if (r->data_len)
		memmove(b + ICMP6_HDR_LEN, r->data, r->data_len);
	b[0] = r->type;
	b[1] = r->code;
	st_be32(b + 4, r->rest);
	icmp6_set_csum(b, n, src, dst);
	return n;
}

enum xs_drop icmp6_quote_parse(const uint8_t *b, size_t n, struct icmp6_quote *out)
{
	size_t off = IP6_HDR_LEN, hlen;
	unsigned i;
	uint8_t nh;

	if (n < IP6_HDR_LEN || b[0] >> 4 != 6)
		return XS_DROP_ICMP6_ERR_BAD;
	memcpy(out->src.b, b + 8, IP6_ADDR_LEN);
	memcpy(out->dst.b, b + 24, IP6_ADDR_LEN);
	nh = b[6];
	for (i = 0; i <= IP6_EXT_MAX; i++) {
		if (nh != IP6_NH_HOPOPTS && nh != IP6_NH_DSTOPTS && nh != IP6_NH_ROUTING &&
		    nh != IP6_NH_FRAGMENT) {
			if (off + 8 > n)
				return XS_DROP_ICMP6_ERR_BAD;
			out->proto = nh;
			out->l4 = b + off;
			out->l4_len = n - off;
			return XS_DROP_NONE;
		}
		if (i == IP6_EXT_MAX || off + 8 > n)
			return XS_DROP_ICMP6_ERR_BAD;
		if (nh == IP6_NH_FRAGMENT) {
			/* Only a first fragment holds the transport header. */
			if (ld_be16(b + off + 2) & 0xfff8)
				return XS_DROP_ICMP6_ERR_BAD;
			hlen = IP6_FRAG_HDR_LEN;
		} else {
			hlen = (b[off + 1] + 1u) * 8u;
		}
		nh = b[off];
		off += hlen;
		if (off - IP6_HDR_LEN > IP6_EXT_BYTES_MAX)
			return XS_DROP_ICMP6_ERR_BAD;
	}
	return XS_DROP_ICMP6_ERR_BAD;
}
