/* The checksum's fast paths against a byte-at-a-time reference: copy-and-sum,
 * both vector loops, pieces at odd offsets, and the TCP/UDP emitters that use them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The module itself, so that its static loops can be called one by one
 * (whatever this CPU would pick); nothing else here comes from it twice. */
#include "../../user/wire/csum.c"

#include "tcp/tcp.h"
#include "wire/ip4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

/* RFC 1071, the obvious way: big-endian 16-bit words, the odd byte padded. */
static uint16_t ref_sum(const uint8_t *b, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 16);
}

static void fill(uint8_t *b, size_t n, uint64_t *x)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd(x);
}

/* A partial sum folded: equal partial sums fold to the same checksum. */
static uint16_t folded(uint32_t s)
{
	return (uint16_t)~csum_fold(s);
}

/* csum_copy over random lengths (the vector rounds, the tails, both) at
 * random source and destination alignments: the sum is the reference's,
 * the copy exact, and nothing around the destination is touched. */
static void test_csum_copy_matches_reference(void **state)
{
	static uint8_t src[5000], dst[5200];
	uint64_t x = 0x1234567887654321ull;
	unsigned i;

	(void)state;
	fill(src, sizeof(src), &x);
	for (i = 0; i < 4000; i++) {
		size_t n = i < 300 ? i : rnd(&x) % 4800;
		size_t so = rnd(&x) % 64, d0 = rnd(&x) % 64;
		uint32_t seed = rnd(&x) & 0xffff;

		if (so + n > sizeof(src))
			n = sizeof(src) - so;
		memset(dst, 0xa5, sizeof(dst));
		/* A seed sum goes through as csum_add's does. */
		assert_int_equal(folded(csum_copy(dst + 64 + d0, src + so, n, seed)),
				 folded(csum_add(seed, src + so, n)));
		if (folded(csum_copy(dst + 64 + d0, src + so, n, 0)) != ref_sum(src + so, n))
			fail_msg("len %zu src align %zu dst align %zu", n, so, d0);
		assert_memory_equal(dst + 64 + d0, src + so, n);
		for (size_t k = 0; k < 64 + d0; k++)
			assert_int_equal(dst[k], 0xa5);
		for (size_t k = 64 + d0 + n; k < sizeof(dst); k++)
			assert_int_equal(dst[k], 0xa5);
	}
}

/* csum_add at every alignment and over lengths around the 64-byte rounds. */
static void test_csum_add_matches_reference(void **state)
{
	static uint8_t buf[3000];
	uint64_t x = 77;

	(void)state;
	fill(buf, sizeof(buf), &x);
	for (size_t a = 0; a < 64; a++)
		for (size_t n = 0; n <= 2900; n += (n < 260 ? 1 : 61))
			if (folded(csum_add(0, buf + a, n)) != ref_sum(buf + a, n))
				fail_msg("align %zu len %zu", a, n);
}

/* Each vector loop on its own (whichever the CPU would take), on all-ones
 * data (the largest lane values) longer than one run of CSUM_ROUNDS, and on
 * random data: the partial sum the tail then finishes is the reference's. */
static void test_csum_vector_loops(void **state)
{
	const size_t n = (size_t)CSUM_ROUNDS * 64 * 2 + 64 * 3;
	uint8_t *b = malloc(n + 64), *d = malloc(n + 64);
	uint64_t x = 99;
	size_t done;

	(void)state;
	assert_non_null(b);
	assert_non_null(d);
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			fill(b, n + 64, &x);
		else
			memset(b, 0xff, n + 64);
		for (size_t a = 0; a < 64; a += 21) {
			uint16_t want = ref_sum(b + a, n);

			assert_int_equal(folded(csum_finish(csum_rounds_v4(NULL, b + a, n, &done), 0)),
					 want);
			assert_int_equal(done, n);
			memset(d, 0, n);
			assert_int_equal(folded(csum_finish(csum_rounds_v4(d, b + a, n, &done), 0)),
					 want);
			assert_memory_equal(d, b + a, n);
#ifdef CSUM_HAVE_AVX2
			if (csum_avx2()) {
				assert_int_equal(
				    folded(csum_finish(csum_rounds_avx2(NULL, b + a, n, &done), 0)),
				    want);
				memset(d, 0, n);
				assert_int_equal(
				    folded(csum_finish(csum_rounds_avx2(d, b + a, n, &done), 0)), want);
				assert_memory_equal(d, b + a, n);
			}
#endif
		}
	}
	free(b);
	free(d);
}

/* A buffer cut in pieces of random lengths (so pieces start at odd
 * offsets), each summed from zero, alone or while copied, and combined
 * with csum_block_add at its offset: the sum of the whole. */
static void test_csum_block_add_pieces(void **state)
{
	static uint8_t buf[3100], out[3100];
	uint64_t x = 4242;

	(void)state;
	for (unsigned i = 0; i < 2000; i++) {
		size_t n = rnd(&x) % 3000, off = 0;
		uint32_t s = 0;

		fill(buf, n, &x);
		while (off < n) {
			size_t k = 1 + rnd(&x) % (i & 1 ? 9 : 700);

			if (k > n - off)
				k = n - off;
			s = csum_block_add(s,
					   i & 2 ? csum_copy(out + off, buf + off, k, 0)
						 : csum_add(0, buf + off, k),
					   off);
			off += k;
		}
		if (folded(s) != ref_sum(buf, n))
			fail_msg("round %u len %zu", i, n);
	}
}

/* A ring whose wrap can fall anywhere, odd positions included: the sum of
 * what tcp_ring_peek_csum copies is the reference's over the bytes it must
 * have copied, and the copy is tcp_ring_peek's. */
static void test_ring_peek_csum_wraps(void **state)
{
	static uint8_t data[1001], a[1001], b[1001];
	struct tcp_ring r = {.data = data, .cap = 1001, .size = 1001};
	uint64_t x = 5;

	(void)state;
	fill(data, sizeof(data), &x);
	for (unsigned i = 0; i < 3000; i++) {
		uint32_t off, n;

		r.head = rnd(&x) % r.size;
		r.len = rnd(&x) % (r.size + 1);
		off = r.len ? rnd(&x) % r.len : 0;
		n = r.len - off ? rnd(&x) % (r.len - off + 1) : 0;
		tcp_ring_peek(&r, off, a, n);
		if (folded(tcp_ring_peek_csum(&r, off, b, n)) != ref_sum(a, n))
			fail_msg("head %u off %u len %u", r.head, off, n);
		assert_memory_equal(a, b, n);
	}
}

/* tcp_ring_write_csum likewise: what lands in the ring is what
 * tcp_ring_write would have put there (wrapping anywhere), and the sum is
 * the reference's over the source. */
static void test_ring_write_csum_wraps(void **state)
{
	static uint8_t src[1001], a[1001], b[1001];
	struct tcp_ring ra = {.data = a, .cap = 1001, .size = 1001};
	struct tcp_ring rb = {.data = b, .cap = 1001, .size = 1001};
	uint64_t x = 6;

	(void)state;
	for (unsigned i = 0; i < 3000; i++) {
		uint32_t off, n;

		fill(src, sizeof(src), &x);
		ra.head = rb.head = rnd(&x) % ra.size;
		ra.len = rb.len = rnd(&x) % (ra.size + 1);
		off = rnd(&x) % (ra.size + 1 - ra.len);
		n = rnd(&x) % (ra.size - ra.len - off + 1);
		off += ra.len;
		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		tcp_ring_write(&ra, off, src, n);
		if (folded(tcp_ring_write_csum(&rb, off, src, n)) != ref_sum(src, n))
			fail_msg("head %u off %u len %u", ra.head, off, n);
		assert_memory_equal(a, b, sizeof(a));
	}
}

/* A segment emitted with its payload summed while copied into place is
 * byte for byte the one tcp_emit writes, checksum included, and parses. */
static void test_tcp_emit_summed_equals_emit(void **state)
{
	static uint8_t pay[1460], fa[1600], fb[1600];
	uint64_t x = 31;
	struct tcp_repr r = {.sport = 80, .dport = 40000, .seq = 7, .ack = 9,
			     .flags = 0x18, .wnd = 512};
	struct tcp_repr back;

	(void)state;
	r.opt.ts_ok = 1;
	r.opt.tsval = 1234;
	r.opt.tsecr = 5678;
	for (size_t n = 0; n <= sizeof(pay); n += 37) {
		size_t hlen = TCP_HDR_LEN + tcp_opts_len(&r), la, lb;
		uint32_t psum;

		fill(pay, n, &x);
		r.payload = pay;
		r.payload_len = n;
		la = tcp_emit(&r, 0x0a000001, 0x0a000002, fa, sizeof(fa));
		psum = csum_copy(fb + hlen, pay, n, 0);
		r.payload = fb + hlen;
		lb = tcp_emit_summed(&r, 0x0a000001, 0x0a000002, fb, sizeof(fb), psum);
		assert_int_equal(la, hlen + n);
		assert_int_equal(lb, la);
		assert_memory_equal(fa, fb, la);
		assert_int_equal(tcp_parse(fb, lb, 0x0a000001, 0x0a000002, &back), XS_DROP_NONE);
		assert_int_equal(back.payload_len, n);
	}
}

/* UDP: a payload apart from the frame (summed while copied), one already in
 * place and one overlapping where it goes (moved first) all give datagrams
 * whose checksum verifies, with the payload where it belongs. */
static void test_udp_emit_payload_placements(void **state)
{
	static uint8_t pay[1472], f[1600], want[1472];
	uint64_t x = 8;
	struct udp_repr r = {.sport = 5353, .dport = 7}, back;

	(void)state;
	for (size_t n = 0; n <= sizeof(pay); n += 53) {
		fill(pay, n, &x);
		memcpy(want, pay, n);
		r.payload = pay;
		r.payload_len = n;
		assert_int_equal(udp_emit(&r, 1, 2, f, sizeof(f)), UDP_HDR_LEN + n);
		assert_int_equal(udp_parse(f, UDP_HDR_LEN + n, 1, 2, &back), XS_DROP_NONE);
		assert_memory_equal(f + UDP_HDR_LEN, want, n);
		/* In place. */
		r.payload = f + UDP_HDR_LEN;
		assert_int_equal(udp_emit(&r, 1, 2, f, sizeof(f)), UDP_HDR_LEN + n);
		assert_int_equal(udp_parse(f, UDP_HDR_LEN + n, 1, 2, &back), XS_DROP_NONE);
		assert_memory_equal(f + UDP_HDR_LEN, want, n);
		/* Overlapping: the payload starts 3 bytes into the frame. */
		memmove(f + 3, f + UDP_HDR_LEN, n);
		r.payload = f + 3;
		assert_int_equal(udp_emit(&r, 1, 2, f, sizeof(f)), UDP_HDR_LEN + n);
		assert_int_equal(udp_parse(f, UDP_HDR_LEN + n, 1, 2, &back), XS_DROP_NONE);
		assert_memory_equal(f + UDP_HDR_LEN, want, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csum_copy_matches_reference),
	    cmocka_unit_test(test_csum_add_matches_reference),
	    cmocka_unit_test(test_csum_vector_loops),
	    cmocka_unit_test(test_csum_block_add_pieces),
	    cmocka_unit_test(test_ring_peek_csum_wraps),
	    cmocka_unit_test(test_ring_write_csum_wraps),
	    cmocka_unit_test(test_tcp_emit_summed_equals_emit),
	    cmocka_unit_test(test_udp_emit_payload_placements),
	};

	return cmocka_run_group_tests_name("csum", tests, NULL, NULL);
}
