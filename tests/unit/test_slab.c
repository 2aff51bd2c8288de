/* Unit tests of the TCB slabs (user/core/slab.c): geometry, zeroed distinct
 * objects, freed slots reused, an emptied slab unmapped, a seeded random model. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/slab.h"
#include "tcp/tcp.h"

#define OBJ 808 /* a TCB's size when these tests were written; any would do */

static uintptr_t slab_base(const void *p)
{
	return (uintptr_t)p & ~(uintptr_t)(XS_SLAB_SIZE - 1);
}

/* Whether the page at p is mapped at all (mincore fails with ENOMEM on an
 * unmapped range). */
static int mapped(uintptr_t p)
{
	unsigned char v;

	return mincore((void *)p, 4096, &v) == 0 ? 1 : (errno == ENOMEM ? 0 : -1);
}

static void test_geometry(void **state)
{
	struct xs_slab_cache c;

	(void)state;
	slab_cache_init(&c, OBJ, 8);
	assert_int_equal(c.obj, OBJ);
	assert_true(c.first + (size_t)c.per * c.obj <= XS_SLAB_SIZE);
	assert_true(c.first + (size_t)(c.per + 1) * c.obj > XS_SLAB_SIZE);
	/* What a TCB costs in its slab: within 1% of its size. */
	assert_true((double)XS_SLAB_SIZE / c.per < OBJ * 1.01);
	/* Odd sizes are rounded to the alignment, which is at least a pointer's
	 * (the free list runs through the objects). */
	slab_cache_init(&c, 13, 1);
	assert_int_equal(c.obj, 16);
	slab_cache_init(&c, sizeof(struct tcp_conn), _Alignof(struct tcp_conn));
	assert_int_equal(c.obj % _Alignof(struct tcp_conn), 0);
	assert_true(c.per >= 64);
}

static void test_zeroed_distinct_reused(void **state)
{
	struct xs_slab_cache c;
	unsigned n, i, j;
	uint8_t **p;

	(void)state;
	slab_cache_init(&c, OBJ, 8);
	n = 3 * c.per + 1;
	p = calloc(n, sizeof(*p));
	for (i = 0; i < n; i++) {
		p[i] = slab_zalloc(&c);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 8, 0);
		for (j = 0; j < OBJ; j++)
			assert_int_equal(p[i][j], 0);
		memset(p[i], 0xa0 + (int)(i % 16), OBJ);
	}
	assert_int_equal(c.nobjs, n);
	/* No object overlaps another: each still holds its own pattern. */
	for (i = 0; i < n; i++)
		for (j = 0; j < OBJ; j++)
			assert_int_equal(p[i][j], 0xa0 + (int)(i % 16));
	if (XS_SLAB_MMAP) {
		assert_int_equal(c.nslabs, 4);
		for (i = 0; i < n; i++) {
			assert_true((uintptr_t)p[i] >= slab_base(p[i]) + c.first);
			assert_true((uintptr_t)p[i] + OBJ <= slab_base(p[i]) + XS_SLAB_SIZE);
		}
	}
	/* Freed slots come back zeroed, before any new slab is mapped. */
	for (i = 0; i < n; i += 3)
		slab_free(&c, p[i]);
	for (i = 0; i < n; i += 3) {
		p[i] = slab_zalloc(&c);
		for (j = 0; j < OBJ; j++)
			assert_int_equal(p[i][j], 0);
	}
	if (XS_SLAB_MMAP)
		assert_int_equal(c.nslabs, 4);
	for (i = 0; i < n; i++)
		slab_free(&c, p[i]);
	assert_int_equal(c.nobjs, 0);
	slab_free(&c, NULL);
	slab_cache_fini(&c);
	assert_int_equal(c.nslabs, 0);
	free(p);
}

/* A slab keeps its pages while any object is left in it; the first one
 * emptied is kept as the spare, every further one is unmapped at once. */
static void test_empty_slab_unmapped(void **state)
{
	struct xs_slab_cache c;
	unsigned i, s, n;
	void **p;
	uintptr_t base[4];

	(void)state;
	slab_cache_init(&c, OBJ, 8);
	if (!XS_SLAB_MMAP)
		skip(); /* objects from calloc: no slabs to see */
	n = 4 * c.per;
	p = calloc(n, sizeof(*p));
	for (i = 0; i < n; i++)
		p[i] = slab_zalloc(&c);
	assert_int_equal(c.nslabs, 4);
	for (s = 0; s < 4; s++) {
		base[s] = slab_base(p[s * c.per]);
		/* Filled one after the other. */
		for (i = 0; i < c.per; i++)
			assert_int_equal(slab_base(p[s * c.per + i]), base[s]);
		assert_int_equal(mapped(base[s]), 1);
	}
	/* One object left in each slab: nothing can go. */
	for (s = 0; s < 4; s++)
		for (i = 1; i < c.per; i++)
			slab_free(&c, p[s * c.per + i]);
	assert_int_equal(c.nslabs, 4);
	/* The room left is used before a slab is mapped (in whatever order:
	 * the objects are put back in p by their slab). */
	{
		unsigned fill[4] = {1, 1, 1, 1};
		void **q = calloc(n, sizeof(*q));

		for (s = 0; s < 4; s++)
			q[s * c.per] = p[s * c.per];
		for (i = 0; i < 4 * (c.per - 1); i++) {
			void *o = slab_zalloc(&c);

			for (s = 0; s < 4 && slab_base(o) != base[s]; s++)
				;
			assert_true(s < 4);
			assert_true(fill[s] < c.per);
			q[s * c.per + fill[s]++] = o;
		}
		memcpy(p, q, n * sizeof(*p));
		free(q);
	}
	assert_int_equal(c.nslabs, 4);
	/* Emptied: the first is the spare, the others are unmapped. */
	for (s = 0; s < 4; s++) {
		for (i = 0; i < c.per; i++)
			slab_free(&c, p[s * c.per + i]);
		assert_int_equal(c.nslabs, 4 - s > 1 ? 4 - s : 1);
		assert_int_equal(mapped(base[s]), s == 0 ? 1 : 0);
	}
	/* The spare serves the next allocation, then the next slab is new. */
	p[0] = slab_zalloc(&c);
	assert_int_equal(slab_base(p[0]), base[0]);
	assert_int_equal(c.nslabs, 1);
	slab_free(&c, p[0]);
	slab_cache_fini(&c);
	assert_int_equal(c.nslabs, 0);
	assert_int_equal(mapped(base[0]), 0);
	free(p);
}

/* Random allocations and frees against a model: every object zeroed when
 * given, none overwriting another, and never more slabs mapped than those
 * holding a live object plus the spare. */
static void test_random_model(void **state)
{
	enum { N = 4000, STEPS = 40000 };
	struct xs_slab_cache c;
	uint8_t **p = calloc(N, sizeof(*p));
	uintptr_t *bases = calloc(N, sizeof(*bases));
	unsigned live = 0, step, i, j;

	(void)state;
	srand(12345);
	slab_cache_init(&c, OBJ, 8);
	for (step = 0; step < STEPS; step++) {
		i = (unsigned)rand() % N;
		/* Phases of growth and of decline, as connections come and go. */
		bool grow = (step / 5000) % 2 == 0;

		if (!p[i] && (grow || rand() % 4 == 0)) {
			p[i] = slab_zalloc(&c);
			assert_non_null(p[i]);
			for (j = 0; j < OBJ; j += 101)
				assert_int_equal(p[i][j], 0);
			memset(p[i], (int)(i & 0xff), OBJ);
			live++;
		} else if (p[i] && (!grow || rand() % 4 == 0)) {
			for (j = 0; j < OBJ; j += 101)
				assert_int_equal(p[i][j], (uint8_t)i);
			slab_free(&c, p[i]);
			p[i] = NULL;
			live--;
		}
		assert_int_equal(c.nobjs, live);
		if (XS_SLAB_MMAP && step % 997 == 0) {
			unsigned nb = 0, k;

			for (k = 0; k < N; k++) {
				uintptr_t b;
				unsigned m;

				if (!p[k])
					continue;
				b = slab_base(p[k]);
				for (m = 0; m < nb && bases[m] != b; m++)
					;
				if (m == nb)
					bases[nb++] = b;
			}
			assert_true(c.nslabs <= nb + 1);
		}
	}
	for (i = 0; i < N; i++)
		slab_free(&c, p[i]);
	assert_int_equal(c.nobjs, 0);
	if (XS_SLAB_MMAP)
		assert_true(c.nslabs <= 1);
	slab_cache_fini(&c);
	assert_int_equal(c.nslabs, 0);
	free(p);
	free(bases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_geometry),
	    cmocka_unit_test(test_zeroed_distinct_reused),
	    cmocka_unit_test(test_empty_slab_unmapped),
	    cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests_name("slab", tests, NULL, NULL);
}
