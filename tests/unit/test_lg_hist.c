/* Unit tests of the load generator's latency histogram (tools/bench/lg_hist.c):
 * exact small values, bounded relative error, ordered percentiles, merging. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* A tool, not part of libxdpstack: compiled in here. */
#include "tools/bench/lg_hist.c"

static struct lg_hist *hist_new(void)
{
	struct lg_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	lg_hist_init(h);
	return h;
}

/* Below 64 us every value has its own bucket: percentiles are exact. */
static void test_small_values_exact(void **state)
{
	struct lg_hist *h = hist_new();

	for (uint64_t v = 1; v <= 50; v++)
		lg_hist_add(h, v);
	assert_int_equal(h->n, 50);
	assert_int_equal(h->min, 1);
	assert_int_equal(h->max, 50);
	assert_int_equal(h->sum, 50 * 51 / 2);
	assert_int_equal(lg_hist_pct(h, 500), 25); /* 25 of 50 are <= 25 */
	assert_int_equal(lg_hist_pct(h, 900), 45);
	assert_int_equal(lg_hist_pct(h, 990), 50);
	assert_int_equal(lg_hist_pct(h, 999), 50);
	free(h);
}

/* 1..100000 us: each percentile is within one bucket (< 1/64) above the
 * true value, never below it, and never above the maximum. */
static void test_relative_error_bounded(void **state)
{
	static const unsigned pm[] = {500, 900, 990, 999};
	struct lg_hist *h = hist_new();

	for (uint64_t v = 1; v <= 100000; v++)
		lg_hist_add(h, v);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t want = 100000ull * pm[i] / 1000, got = lg_hist_pct(h, pm[i]);

		assert_true(got >= want);
		assert_true(got <= want + want / 64 + 1);
	}
	assert_int_equal(lg_hist_pct(h, 1000), 100000);
	free(h);
}

/* Every value lands in a bucket whose upper bound is >= it and whose
 * width keeps the error under 1/64, across the whole range. */
static void test_buckets_cover_range(void **state)
{
	for (uint64_t v = 0; v < (1ull << 32); v = v * 3 / 2 + 1) {
		unsigned i = hist_index(v);

		assert_true(i < HIST_BUCKETS);
		assert_true(hist_upper(i) >= v);
		assert_true(hist_upper(i) - v <= v / 64);
		if (i)
			assert_true(hist_upper(i - 1) < v);
	}
	assert_int_equal(hist_index(UINT32_MAX), HIST_BUCKETS - 1);
}

/* A few slow outliers: p50 stays with the bulk, p99.9 and max see them. */
static void test_outliers(void **state)
{
	struct lg_hist *h = hist_new();

	for (int i = 0; i < 9990; i++)
		lg_hist_add(h, 100);
	for (int i = 0; i < 10; i++)
		lg_hist_add(h, 1000000);
	assert_int_equal(lg_hist_pct(h, 500), 100);
	assert_int_equal(lg_hist_pct(h, 990), 100);
	assert_int_equal(lg_hist_pct(h, 999), 100); /* 9990 of 10000 are <= 100 */
	lg_hist_add(h, 1000000);
	assert_true(lg_hist_pct(h, 999) >= 1000000);
	assert_int_equal(h->max, 1000000);
	free(h);
}

/* Values past 2^32-1 us are clamped, not lost or overflowing a bucket. */
static void test_clamp(void **state)
{
	struct lg_hist *h = hist_new();

	lg_hist_add(h, UINT64_MAX);
	lg_hist_add(h, 1ull << 40);
	assert_int_equal(h->n, 2);
	assert_int_equal(h->max, UINT32_MAX);
	assert_int_equal(lg_hist_pct(h, 500), UINT32_MAX);
	free(h);
}

/* Two processes' histograms add up to the one of all samples. */
static void test_merge(void **state)
{
	struct lg_hist *a = hist_new(), *b = hist_new(), *all = hist_new();

	for (uint64_t v = 1; v <= 5000; v++) {
		lg_hist_add(v % 2 ? a : b, v * 7);
		lg_hist_add(all, v * 7);
	}
	lg_hist_merge(a, b);
	assert_memory_equal(a, all, sizeof(*a));
	free(a);
	free(b);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_values_exact),
	    cmocka_unit_test(test_relative_error_bounded),
	    cmocka_unit_test(test_buckets_cover_range),
	    cmocka_unit_test(test_outliers),
	    cmocka_unit_test(test_clamp),
	    cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
