/* SipHash-2-4 and SipHash-1-3 over a byte message with a 128-bit key, as in
 * "SipHash: a fast short-input PRF" (2012); test vectors in tests/unit. */
#include <string.h>

#include "core/siphash.h"

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* One unaligned little-endian load (the byte loop it replaces was not
 * merged by the compiler: a fifth of the hash's time). */
static uint64_t ld_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

#define SIPROUND(v0, v1, v2, v3)                                              \
	do {                                                                  \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);    \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                        \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                        \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);     \
	} while (0)

static uint64_t siphash_cd(const uint8_t key[16], const void *msg, size_t len, int c, int d)
{
	const uint8_t *m = msg;
	uint64_t k0 = ld_le64(key), k1 = ld_le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	uint64_t b = (uint64_t)len << 56, w;
	size_t i, left = len & 7;
	int r;

	for (i = 0; i + 8 <= len; i += 8) {
		w = ld_le64(m + i);
		v3 ^= w;
		for (r = 0; r < c; r++)
			SIPROUND(v0, v1, v2, v3);
		v0 ^= w;
	}
	for (w = 0; left; left--)
		w |= (uint64_t)m[i + left - 1] << (8 * (left - 1));
	b |= w;
	v3 ^= b;
	for (r = 0; r < c; r++)
		SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (r = 0; r < d; r++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t siphash24(const uint8_t key[16], const void *msg, size_t len)
{
	return siphash_cd(key, msg, len, 2, 4);
}

uint64_t siphash13(const uint8_t key[16], const void *msg, size_t len)
{
	return siphash_cd(key, msg, len, 1, 3);
}
