/* The Internet checksum (RFC 1071): 16-bit one's complement sums, folded late,
 * alone or while copying. Pure functions over byte buffers; no alignment assumed. */
#include <stdbool.h>
#include <string.h>

#include "wire/csum.h"

/* RFC 1071 2(B): the sum does not depend on byte order, so 16-bit words are
 * added in native order and the folded result is swapped to network order
 * once at the end. The bulk goes through vectors of 32-bit lanes, each lane's
 * low and high halves summed apart (a 32-bit lane takes 2^16 additions of a
 * 16-bit half before it can overflow; a round adds 4 to each, so rounds are
 * capped at CSUM_ROUNDS). GCC and clang lower these vector types to SSE2 or
 * NEON; where the CPU has AVX2 the same loop runs on 256-bit vectors. */
typedef uint32_t csum_v4 __attribute__((vector_size(16)));
typedef uint32_t csum_v8 __attribute__((vector_size(32)));

#define CSUM_ROUNDS 8192 /* 64-byte rounds per partial sum: 4 * 8192 * 0xffff < 2^32 */

static uint64_t csum_v4_hsum(csum_v4 lo, csum_v4 hi)
{
	uint64_t s = 0;
	unsigned i;

	for (i = 0; i < 4; i++)
		s += (uint64_t)lo[i] + ((uint64_t)hi[i] << 16);
	return s;
}

/* 64-byte rounds of src (copied to dst when dst is set): their sum, and
 * *done the bytes taken (a multiple of 64). */
static inline __attribute__((always_inline)) uint64_t
csum_rounds_v4(uint8_t *dst, const uint8_t *src, size_t n, size_t *done)
{
	const csum_v4 m = {0xffff, 0xffff, 0xffff, 0xffff};
	uint64_t s = 0;
	size_t off = 0;

	while (n - off >= 64) {
		csum_v4 lo = {0}, hi = {0};
		unsigned k;

		for (k = 0; k < CSUM_ROUNDS && n - off >= 64; k++, off += 64) {
			csum_v4 x0, x1, x2, x3;

			memcpy(&x0, src + off, 16);
			memcpy(&x1, src + off + 16, 16);
			memcpy(&x2, src + off + 32, 16);
			memcpy(&x3, src + off + 48, 16);
			if (dst) {
				memcpy(dst + off, &x0, 16);
				memcpy(dst + off + 16, &x1, 16);
				memcpy(dst + off + 32, &x2, 16);
				memcpy(dst + off + 48, &x3, 16);
			}
			lo += (x0 & m) + (x1 & m) + (x2 & m) + (x3 & m);
			hi += (x0 >> 16) + (x1 >> 16) + (x2 >> 16) + (x3 >> 16);
		}
		s += csum_v4_hsum(lo, hi);
	}
	*done = off;
	return s;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CSUM_HAVE_AVX2 1

__attribute__((target("avx2"))) static uint64_t csum_rounds_avx2(uint8_t *dst, const uint8_t *src,
								 size_t n, size_t *done)
{
	const csum_v8 m = {0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff};
	uint64_t s = 0;
	size_t off = 0;
	unsigned i;

	while (n - off >= 64) {
		csum_v8 lo = {0}, hi = {0};
		unsigned k;

		for (k = 0; k < CSUM_ROUNDS && n - off >= 64; k++, off += 64) {
			csum_v8 x0, x1;

			memcpy(&x0, src + off, 32);
			memcpy(&x1, src + off + 32, 32);
			if (dst) {
				memcpy(dst + off, &x0, 32);
				memcpy(dst + off + 32, &x1, 32);
			}
			lo += (x0 & m) + (x1 & m);
			hi += (x0 >> 16) + (x1 >> 16);
		}
		for (i = 0; i < 8; i++)
			s += (uint64_t)lo[i] + ((uint64_t)hi[i] << 16);
	}
	*done = off;
	return s;
}

static bool csum_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}
#endif

static uint64_t csum_rounds(uint8_t *dst, const uint8_t *src, size_t n, size_t *done)
{
#ifdef CSUM_HAVE_AVX2
	if (csum_avx2())
		return csum_rounds_avx2(dst, src, n, done);
#endif
	return csum_rounds_v4(dst, src, n, done);
}

/* The rest after the vector rounds: under 64 bytes, 8 at a time. */
static uint64_t csum_tail(uint64_t s, const uint8_t *b, size_t n)
{
	uint64_t w;
	uint32_t w32;
	uint16_t w16;

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
		uint8_t tail[2] = {b[0], 0};

		memcpy(&w16, tail, 2);
		s += w16;
	}
	return s;
}

/* A native-order 64-bit sum folded, swapped to network order and added to
 * the caller's partial sum. */
static uint32_t csum_finish(uint64_t s, uint32_t sum)
{
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

uint32_t csum_add(uint32_t sum, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t done = 0;
	uint64_t s = n >= 64 ? csum_rounds(NULL, b, n, &done) : 0;

	return csum_finish(csum_tail(s, b + done, n - done), sum);
}

/* csum_tail that also copies b to d: fixed-size moves the compiler inlines,
 * where a memcpy of a variable length under 64 bytes is a library call. */
static uint64_t csum_tail_copy(uint64_t s, uint8_t *d, const uint8_t *b, size_t n)
{
	uint64_t w;
	uint32_t w32;
	uint16_t w16;

	while (n >= 8) {
		memcpy(&w, b, 8);
		memcpy(d, &w, 8);
		s += (w & 0xffffffffu) + (w >> 32);
		b += 8;
		d += 8;
		n -= 8;
	}
	if (n >= 4) {
		memcpy(&w32, b, 4);
		memcpy(d, &w32, 4);
		s += w32;
		b += 4;
		d += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&w16, b, 2);
		memcpy(d, &w16, 2);
		s += w16;
		b += 2;
		d += 2;
		n -= 2;
	}
	if (n) {
		/* The odd last byte is the high half of a network-order word. */
		uint8_t tail[2] = {b[0], 0};

		d[0] = b[0];
		memcpy(&w16, tail, 2);
		s += w16;
	}
	return s;
}

uint32_t csum_copy(void *dst, const void *src, size_t n, uint32_t sum)
{
	const uint8_t *b = src;
	uint8_t *d = dst;
	size_t done = 0;
	uint64_t s = n >= 64 ? csum_rounds(d, b, n, &done) : 0;

	return csum_finish(csum_tail_copy(s, d + done, b + done, n - done), sum);
}

uint32_t csum_block_add(uint32_t sum, uint32_t block, size_t off)
{
	uint64_t s;

	/* RFC 1071 2(B): a block that starts at an odd offset has its bytes
	 * in the other halves of the words: its sum, byte-swapped. */
	while (block >> 16)
		block = (block & 0xffff) + (block >> 16);
	if (off & 1)
		block = ((block & 0xff) << 8) | (block >> 8);
	s = (uint64_t)sum + block;
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
