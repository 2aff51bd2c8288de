/* The stack's cache of freed rings (tcp_ring.c): reuse by exact size, its
 * bound, what a kept ring still holds, and a whole connection's rings reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/stack.h"
#include "tcp/tcp.h"

#define BIG (256 * 1024) /* the default ring: of the cached (mmap) class */

static void test_reused_by_size(void **state)
{
	struct tcp_ring_cache rc = {0};
	struct tcp_ring a = {0}, b = {0}, c = {0};
	uint8_t *p;

	(void)state;
	assert_int_equal(tcp_ring_alloc(&rc, &a, BIG, 0), 0);
	p = a.data;
	tcp_ring_write(&a, 0, "x", 1);
	a.len = 1;
	tcp_ring_free(&rc, &a);
	assert_null(a.data);
	assert_int_equal(a.len, 0);
	assert_int_equal(rc.n, 1);
	/* Another size does not take it; its own size does, empty. */
	assert_int_equal(tcp_ring_alloc(&rc, &b, BIG, 7), 0);
	assert_ptr_not_equal(b.data, p);
	assert_int_equal(rc.n, 1);
	assert_int_equal(tcp_ring_alloc(&rc, &c, BIG, 0), 0);
	assert_ptr_equal(c.data, p);
	assert_int_equal(rc.n, 0);
	assert_int_equal(c.len, 0);
	assert_int_equal(c.head, 0);
	assert_int_equal(c.hi, 0);
	assert_int_equal(c.size, BIG);
	tcp_ring_free(&rc, &b);
	tcp_ring_free(&rc, &c);
	assert_int_equal(rc.n, 2);
	tcp_ring_cache_fini(&rc);
	assert_int_equal(rc.n, 0);
}

/* Small rings are malloc's: never kept. */
static void test_small_not_kept(void **state)
{
	struct tcp_ring_cache rc = {0};
	struct tcp_ring r = {0};

	(void)state;
	assert_int_equal(tcp_ring_alloc(&rc, &r, 16 * 1024, 0), 0);
	tcp_ring_free(&rc, &r);
	assert_int_equal(rc.n, 0);
}

/* At most TCP_RING_CACHE are kept; the rest are given back. */
static void test_bounded(void **state)
{
	static struct tcp_ring r[TCP_RING_CACHE + 8];
	struct tcp_ring_cache rc = {0};
	unsigned i;

	(void)state;
	for (i = 0; i < TCP_RING_CACHE + 8; i++)
		assert_int_equal(tcp_ring_alloc(&rc, &r[i], BIG, 0), 0);
	for (i = 0; i < TCP_RING_CACHE + 8; i++) {
		tcp_ring_free(&rc, &r[i]);
		assert_true(rc.n <= TCP_RING_CACHE);
	}
	assert_int_equal(rc.n, TCP_RING_CACHE);
	tcp_ring_cache_fini(&rc);
	assert_int_equal(rc.n, 0);
}

/* hi follows every write, wrapped ones too. */
static void test_hi_mark(void **state)
{
	struct tcp_ring_cache rc = {0};
	struct tcp_ring r = {0};
	static uint8_t buf[BIG];

	(void)state;
	assert_int_equal(tcp_ring_alloc(&rc, &r, BIG, 0), 0);
	tcp_ring_write(&r, 100, buf, 50);
	assert_int_equal(r.hi, 150);
	tcp_ring_write(&r, 10, buf, 10);
	assert_int_equal(r.hi, 150);
	r.head = BIG - 10;
	tcp_ring_write_csum(&r, 0, buf, 20); /* wraps: touched to the end */
	assert_int_equal(r.hi, BIG);
	tcp_ring_free(&rc, &r);
	tcp_ring_cache_fini(&rc);
}

/* A ring kept after a bulk transfer keeps only its first
 * TCP_RING_CACHE_KEEP bytes in memory: the rest reads as fresh pages. */
static void test_kept_ring_trimmed(void **state)
{
	struct tcp_ring_cache rc = {0};
	struct tcp_ring r = {0};
	static uint8_t buf[BIG];

	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip(); /* rings are malloc's under ASan: nothing is given back */
#endif
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(tcp_ring_alloc(&rc, &r, BIG, 0), 0);
	tcp_ring_write(&r, 0, buf, BIG);
	tcp_ring_free(&rc, &r);
	assert_int_equal(tcp_ring_alloc(&rc, &r, BIG, 0), 0);
	assert_int_equal(r.data[0], 0xa5);
	assert_int_equal(r.data[TCP_RING_CACHE_KEEP - 1], 0xa5);
	assert_int_equal(r.data[TCP_RING_CACHE_KEEP], 0);
	assert_int_equal(r.data[BIG - 1], 0);
	tcp_ring_free(&rc, &r);
	tcp_ring_cache_fini(&rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reused_by_size), cmocka_unit_test(test_small_not_kept),
	    cmocka_unit_test(test_bounded),	   cmocka_unit_test(test_hi_mark),
	    cmocka_unit_test(test_kept_ring_trimmed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
