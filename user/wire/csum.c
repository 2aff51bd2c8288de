/* The Internet checksum (RFC 1071): 16-bit one's complement sums, folded late.
 * Pure functions over byte buffers; no alignment assumptions. */
#include <string.h>

#include "wire/csum.h"

uint32_t csum_add(uint32_t sum, const void *p, size_t n)
{
	/* RFC 1071 2(B): the sum does not depend on byte order, so words are
	 * added in native order, 8 bytes at a time, and the folded result is
	 * swapped to network order once at the end. */
	const uint8_t *b = p;
	uint64_t s = 0, w;
	uint32_t w32;
	uint16_t w16;

	while (n >= 32) {
		uint64_t x[4];

		memcpy(x, b, 32);
		s += (x[0] & 0xffffffffu) + (x[0] >> 32) + (x[1] & 0xffffffffu) + (x[1] >> 32);
		s += (x[2] & 0xffffffffu) + (x[2] >> 32) + (x[3] & 0xffffffffu) + (x[3] >> 32);
		b += 32;
		n -= 32;
	}
	while (n >= 8) {
		memcpy(&w, b, 8);
		s += (w & 0xffffffffu) + (w >> 32);
		b += 8;
		n -= 8;
	}
	if (n >= 4) {
		memcpy(&w32, b, 4);
		s += w32;
		b += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&w16, b, 2);
		s += w16;
		b += 2;
		n -= 2;
	}
	if (n) {
		/* The odd last byte is the high half of a network-order word. */
		uint8_t tail[2] = { b[0], 0 };

		memcpy(&w16, tail, 2);
		s += w16;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = ((s & 0xff) << 8) | (s >> 8);
#endif
	s += sum;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint32_t s = 0;

	s += src >> 16;
	s += src & 0xffff;
	s += dst >> 16;
	s += dst & 0xffff;
	s += proto;
	s += len;
	return s;
}

uint32_t csum_pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len)
{
	uint32_t s = csum_add(0, src, 16);

	s = csum_add(s, dst, 16);
	s += len >> 16;
	s += len & 0xffff;
	s += proto;
	return s;
}
