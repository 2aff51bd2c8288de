/* The Internet checksum (RFC 1071): 16-bit one's complement sums, folded late.
 * Pure functions over byte buffers; no alignment assumptions. */
#include "wire/csum.h"

uint32_t csum_add(uint32_t sum, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t s = sum;

	while (n >= 8) {
		s += (uint32_t)b[0] << 8 | b[1];
		s += (uint32_t)b[2] << 8 | b[3];
		s += (uint32_t)b[4] << 8 | b[5];
		s += (uint32_t)b[6] << 8 | b[7];
		b += 8;
		n -= 8;
	}
	while (n >= 2) {
		s += (uint32_t)b[0] << 8 | b[1];
		b += 2;
		n -= 2;
	}
	if (n)
		s += (uint32_t)b[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	/* Keep headroom for further additions by folding to 17 bits. */
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
