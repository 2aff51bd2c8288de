/* UDP parse/emit (RFC 768). The length field must fit the IP payload exactly
 * or within it (trailing bytes are ignored, as Linux does). */
#include <string.h>

#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/ip4.h"
#include "wire/udp.h"

enum xs_drop udp_parse(const uint8_t *b, size_t n, uint32_t src, uint32_t dst,
		       struct udp_repr *out)
{
	uint16_t len;

	if (n < UDP_HDR_LEN)
		return XS_DROP_UDP_SHORT;
	len = ld_be16(b + 4);
	if (len < UDP_HDR_LEN || len > n)
		return XS_DROP_UDP_LEN;
	if (ld_be16(b + 6) != 0) {
		uint32_t s = csum_pseudo4(src, dst, IP4_PROTO_UDP, len);

		if (csum_fold(csum_add(s, b, len)) != 0)
			return XS_DROP_UDP_CSUM;
	}
	out->sport = ld_be16(b);
	out->dport = ld_be16(b + 2);
	out->payload = b + UDP_HDR_LEN;
	out->payload_len = len - UDP_HDR_LEN;
	return XS_DROP_NONE;
}

size_t udp_emit(const struct udp_repr *r, uint32_t src, uint32_t dst, uint8_t *b, size_t cap)
{
	size_t n = UDP_HDR_LEN + r->payload_len;
	uint8_t *p = b + UDP_HDR_LEN;
	uint32_t sum;
	uint16_t c;

	if (cap < n || n > 0xffff)
		return 0;
	/* The payload summed as it is copied (one pass), unless it overlaps
	 * where it goes: then moved, then summed. */
	if (!r->payload_len)
		sum = 0;
	else if (r->payload == p)
		sum = csum_add(0, p, r->payload_len);
	else if ((uintptr_t)r->payload + r->payload_len <= (uintptr_t)b ||
		 (uintptr_t)r->payload >= (uintptr_t)p + r->payload_len)
		sum = csum_copy(p, r->payload, r->payload_len, 0);
	else
		sum = csum_add(0, memmove(p, r->payload, r->payload_len), r->payload_len);
	st_be16(b, r->sport);
	st_be16(b + 2, r->dport);
	st_be16(b + 4, (uint16_t)n);
	st_be16(b + 6, 0);
	sum = csum_add(csum_pseudo4(src, dst, IP4_PROTO_UDP, (uint16_t)n), b, UDP_HDR_LEN) + sum;
	c = csum_fold(sum);
	/* RFC 768: a computed zero is sent as all ones. */
	st_be16(b + 6, c ? c : 0xffff);
	return n;
}

enum xs_drop udp_parse6(const uint8_t *b, size_t n, const uint8_t *src, const uint8_t *dst,
			struct udp_repr *out)
{
	uint16_t len;

	if (n < UDP_HDR_LEN)
		return XS_DROP_UDP_SHORT;
	len = ld_be16(b + 4);
	if (len < UDP_HDR_LEN || len > n)
		return XS_DROP_UDP_LEN;
	if (ld_be16(b + 6) == 0 ||
	    csum_fold(csum_add(csum_pseudo6(src, dst, IP4_PROTO_UDP, len), b, len)) != 0)
		return XS_DROP_UDP_CSUM;
	out->sport = ld_be16(b);
	out->dport = ld_be16(b + 2);
	out->payload = b + UDP_HDR_LEN;
	out->payload_len = len - UDP_HDR_LEN;
	return XS_DROP_NONE;
}

size_t udp_emit6(const struct udp_repr *r, const uint8_t *src, const uint8_t *dst, uint8_t *b,
		 size_t cap)
{
	size_t n = UDP_HDR_LEN + r->payload_len;
	uint16_t c;

	if (cap < n || n > 0xffff)
		return 0;
	st_be16(b, r->sport);
	st_be16(b + 2, r->dport);
	st_be16(b + 4, (uint16_t)n);
	st_be16(b + 6, 0);
	if (r->payload_len)
		memmove(b + UDP_HDR_LEN, r->payload, r->payload_len);
	c = csum_fold(csum_add(csum_pseudo6(src, dst, IP4_PROTO_UDP, (uint32_t)n), b, n));
	st_be16(b + 6, c ? c : 0xffff);
	return n;
}
