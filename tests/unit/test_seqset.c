/* Unit tests of user/tcp/seqset.c: range sets in sequence space (each test run
 * at several bases, across the 2^32 wrap), SACK order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/seqset.h"

/* Every table test runs at each of these bases; offsets in the tests go up
 * to ~70000, so all but the first put the 2^32 (or 2^31) wrap inside. */
static uint32_t base_low = 1000;
static uint32_t base_wrap = 0u - 3000;     /* wraps between offsets 2999 and 3000 */
static uint32_t base_wrap1 = 0u - 1;       /* wraps right after the first octet */
static uint32_t base_sign = 0x80000000u - 4096; /* int32 sign boundary at 4096 */

#define BASE(state) (*(const uint32_t *)*(state))

/* --- helpers ------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* Structural invariants the module promises. */
static void check_invariants(const struct seqset *s)
{
	uint8_t seen[SEQSET_MAX] = {0};
	unsigned i;

	assert_true(s->n <= SEQSET_MAX);
	for (i = 0; i < s->n; i++) {
		assert_true(seq_lt(s->r[i].left, s->r[i].right));
		if (i + 1 < s->n)
			assert_true(seq_lt(s->r[i].right, s->r[i + 1].left));
		assert_true(s->rank[i] < s->n);
		assert_false(seen[s->rank[i]]);
		seen[s->rank[i]] = 1;
	}
	if (s->n)
		assert_true(s->r[s->n - 1].right - s->r[0].left < 0x80000000u);
	assert_true(s->last >= -1 && s->last < (int)s->n);
	if (s->last >= 0)
		assert_int_equal(s->rank[s->last], 0);
}

/* The set is exactly pairs[0..2n) (offsets from base). */
static void expect_set(const struct seqset *s, uint32_t base, const uint32_t *pairs, unsigned n)
{
	unsigned i;

	check_invariants(s);
	assert_int_equal(s->n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(s->r[i].left, base + pairs[2 * i]);
		assert_int_equal(s->r[i].right, base + pairs[2 * i + 1]);
	}
}

#define EXPECT(s, base, ...)                                                                  \
	do {                                                                                  \
		static const uint32_t exp_[] = {__VA_ARGS__};                                 \
		expect_set(s, base, exp_, sizeof(exp_) / sizeof(exp_[0]) / 2);                \
	} while (0)

static void add_ok(struct seqset *s, uint32_t base, uint32_t l, uint32_t r)
{
	assert_int_equal(seqset_add(s, base + l, base + r), 0);
	check_invariants(s);
	/* The range just added is inside the last touched one. */
	assert_true(s->last >= 0);
	assert_true(seq_le(s->r[s->last].left, base + l));
	assert_true(seq_ge(s->r[s->last].right, base + r));
}

/* --- seqset: add and merge ---------------------------------------------- */

static void test_add_disjoint_orders(void **state)
{
	uint32_t b = BASE(state);
	static const uint32_t order[6][3] = {
		{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0},
	};
	static const uint32_t rl[3] = {100, 2900, 5000}, rr[3] = {200, 3100, 6000};
	struct seqset s;
	unsigned p, k;

	for (p = 0; p < 6; p++) {
		seqset_init(&s);
		check_invariants(&s);
		assert_int_equal(s.last, -1);
		for (k = 0; k < 3; k++)
			add_ok(&s, b, rl[order[p][k]], rr[order[p][k]]);
		EXPECT(&s, b, 100, 200, 2900, 3100, 5000, 6000);
		assert_int_equal(s.last, (int)order[p][2]);
		assert_int_equal(seqset_bytes(&s), 100 + 200 + 1000);
	}
}

static void test_add_merge(void **state)
{
	uint32_t b = BASE(state);
	struct seqset s;

	/* Before, not touching; touching on the left; overlapping the left. */
	seqset_init(&s);
	add_ok(&s, b, 3000, 4000);
	add_ok(&s, b, 1000, 2000);
	EXPECT(&s, b, 1000, 2000, 3000, 4000);
	add_ok(&s, b, 2500, 3000);
	EXPECT(&s, b, 1000, 2000, 2500, 4000);
	assert_int_equal(s.last, 1);
	add_ok(&s, b, 2200, 2600);
	EXPECT(&s, b, 1000, 2000, 2200, 4000);

	/* After: touching on the right, overlapping the right. */
	add_ok(&s, b, 4000, 4100);
	EXPECT(&s, b, 1000, 2000, 2200, 4100);
	add_ok(&s, b, 4050, 4500);
	EXPECT(&s, b, 1000, 2000, 2200, 4500);

	/* Inside, identical, covering exactly. */
	add_ok(&s, b, 1200, 1300);
	add_ok(&s, b, 1000, 2000);
	EXPECT(&s, b, 1000, 2000, 2200, 4500);
	assert_int_equal(s.last, 0);

	/* Bridging two ranges by touching both edges. */
	add_ok(&s, b, 2000, 2200);
	EXPECT(&s, b, 1000, 4500);
	assert_int_equal(s.last, 0);
	assert_int_equal(seqset_bytes(&s), 3500);
}

static void test_add_swallow_several(void **state)
{
	uint32_t b = BASE(state);
	struct seqset s;

	seqset_init(&s);
	add_ok(&s, b, 0, 10);
	add_ok(&s, b, 2000, 2100);
	add_ok(&s, b, 2500, 2600);
	add_ok(&s, b, 2900, 3100);
	add_ok(&s, b, 3500, 3600);
	add_ok(&s, b, 9000, 9100);
	/* Swallows the middle four, extending past both ends. */
	add_ok(&s, b, 1900, 3700);
	EXPECT(&s, b, 0, 10, 1900, 3700, 9000, 9100);
	assert_int_equal(s.last, 1);
	/* Starts inside one, ends inside another, swallowing all between. */
	add_ok(&s, b, 5, 9050);
	EXPECT(&s, b, 0, 9100);
	/* Everything into one from outside. */
	seqset_init(&s);
	add_ok(&s, b, 100, 200);
	add_ok(&s, b, 300, 400);
	add_ok(&s, b, 500, 600);
	add_ok(&s, b, 50, 650);
	EXPECT(&s, b, 50, 650);
	assert_int_equal(s.rank[0], 0);
}

static void test_add_invalid(void **state)
{
	uint32_t b = BASE(state);
	struct seqset s, copy;

	seqset_init(&s);
	add_ok(&s, b, 100, 200);
	memcpy(&copy, &s, sizeof(s));
	assert_int_equal(seqset_add(&s, b + 300, b + 300), -EINVAL);  /* empty */
	assert_int_equal(seqset_add(&s, b + 300, b + 250), -EINVAL);  /* inverted */
	/* 2^31 or more long: no longer "after" in sequence space. */
	assert_int_equal(seqset_add(&s, b + 300, b + 300 + 0x80000000u), -EINVAL);
	/* Each within 2^31 of the set's edges, but the set would span 2^31. */
	assert_int_equal(seqset_add(&s, b + 0x7fffff00u, b + 0x80000070u), -EINVAL);
	assert_int_equal(seqset_add(&s, b + 0x7fffffffu, b + 0xfffffffeu), -EINVAL);
	assert_int_equal(seqset_add(&s, b + 100 - 0x7fffffffu, b + 99 - 0x7ffffff0u), -EINVAL);
	assert_memory_equal(&s, &copy, sizeof(s));
	/* A long range that does fit. */
	add_ok(&s, b, 200, 0x7fffff00u);
	EXPECT(&s, b, 100, 0x7fffff00u);
}

static void test_capacity(void **state)
{
	uint32_t b = BASE(state);
	struct seqset s, copy;
	unsigned i;

	seqset_init(&s);
	for (i = 0; i < SEQSET_MAX; i++)
		add_ok(&s, b, 1000 * i + 100, 1000 * i + 200);
	assert_int_equal(s.n, SEQSET_MAX);
	memcpy(&copy, &s, sizeof(s));
	/* Disjoint ranges before, between and after: refused, unchanged. */
	assert_int_equal(seqset_add(&s, b + 0, b + 50), -ENOSPC);
	assert_int_equal(seqset_add(&s, b + 1500, b + 1600), -ENOSPC);
	assert_int_equal(seqset_add(&s, b + 1000 * SEQSET_MAX + 300, b + 1000 * SEQSET_MAX + 400),
			 -ENOSPC);
	assert_memory_equal(&s, &copy, sizeof(s));
	check_invariants(&s);
	/* Extending one still works; bridging two frees a slot. */
	add_ok(&s, b, 200, 300);
	assert_int_equal(s.n, SEQSET_MAX);
	assert_int_equal(s.last, 0);
	add_ok(&s, b, 2150, 3150);
	assert_int_equal(s.n, SEQSET_MAX - 1);
	assert_int_equal(s.r[2].left, b + 2100);
	assert_int_equal(s.r[2].right, b + 3200);
	add_ok(&s, b, 0, 50);
	assert_int_equal(s.n, SEQSET_MAX);
	assert_int_equal(seqset_add(&s, b + 1500, b + 1600), -ENOSPC);
}

/* --- seqset: trim, pop, covers, bytes ------------------------------------- */

static void test_trim_below(void **state)
{
	uint32_t b = BASE(state);
	struct seqset s;

	seqset_init(&s);
	add_ok(&s, b, 1000, 2000);
	add_ok(&s, b, 3000, 4000);
	add_ok(&s, b, 5000, 6000);
	seqset_trim_below(&s, b + 500);              /* below everything */
	EXPECT(&s, b, 1000, 2000, 3000, 4000, 5000, 6000);
	seqset_trim_below(&s, b + 1000);             /* at a left edge */
	EXPECT(&s, b, 1000, 2000, 3000, 4000, 5000, 6000);
	seqset_trim_below(&s, b + 1500);             /* inside */
	EXPECT(&s, b, 1500, 2000, 3000, 4000, 5000, 6000);
	assert_int_equal(seqset_bytes(&s), 2500);
	seqset_trim_below(&s, b + 2000);             /* at a right edge */
	EXPECT(&s, b, 3000, 4000, 5000, 6000);
	assert_int_equal(s.last, 1);                 /* still 5000-6000, moved */
	seqset_trim_below(&s, b + 5999);             /* several, then inside */
	EXPECT(&s, b, 5999, 6000);
	assert_int_equal(s.last, 0);
	seqset_trim_below(&s, b + 70000);            /* past everything */
	check_invariants(&s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.last, -1);
	assert_int_equal(seqset_bytes(&s), 0);
	add_ok(&s, b, 1, 2);
	EXPECT(&s, b, 1, 2);
}

static void test_pop_contiguous(void **state)
{
	uint32_t b = BASE(state);
	struct seqset s;

	seqset_init(&s);
	add_ok(&s, b, 1000, 2000);
	add_ok(&s, b, 3000, 4000);
	add_ok(&s, b, 5000, 6000);
	/* In a gap, just before a range, at a right edge: nothing. */
	assert_int_equal(seqset_pop_contiguous(&s, b + 500), b + 500);
	assert_int_equal(seqset_pop_contiguous(&s, b + 2999), b + 2999);
	assert_int_equal(seqset_pop_contiguous(&s, b + 2000), b + 2000);
	assert_int_equal(seqset_pop_contiguous(&s, b + 6000), b + 6000);
	EXPECT(&s, b, 1000, 2000, 3000, 4000, 5000, 6000);
	/* At the left edge (the assembler's case), then from inside. */
	assert_int_equal(seqset_pop_contiguous(&s, b + 3000), b + 4000);
	EXPECT(&s, b, 1000, 2000, 5000, 6000);
	assert_int_equal(s.last, 1);
	assert_int_equal(seqset_pop_contiguous(&s, b + 5999), b + 6000);
	EXPECT(&s, b, 1000, 2000);
	assert_int_equal(s.last, -1);                /* the last touched went */
	assert_int_equal(seqset_pop_contiguous(&s, b + 1000), b + 2000);
	assert_int_equal(s.n, 0);
	assert_int_equal(seqset_pop_contiguous(&s, b + 1000), b + 1000);

	/* The assembler's loop: in-order data to rcv_nxt, trim, pop. */
	seqset_init(&s);
	add_ok(&s, b, 2000, 3000);
	add_ok(&s, b, 4000, 5000);
	seqset_trim_below(&s, b + 2500);             /* in-order data overlapped */
	assert_int_equal(seqset_pop_contiguous(&s, b + 2500), b + 3000);
	EXPECT(&s, b, 4000, 5000);
}

static void test_covers(void **state)
{
	uint32_t b = BASE(state);
	struct seqset s;

	seqset_init(&s);
	assert_false(seqset_covers(&s, b + 0, b + 1));
	add_ok(&s, b, 1000, 2000);
	add_ok(&s, b, 3000, 4000);
	assert_true(seqset_covers(&s, b + 1000, b + 2000));
	assert_true(seqset_covers(&s, b + 1000, b + 1001));
	assert_true(seqset_covers(&s, b + 1999, b + 2000));
	assert_true(seqset_covers(&s, b + 3100, b + 3900));
	assert_false(seqset_covers(&s, b + 999, b + 1001));
	assert_false(seqset_covers(&s, b + 1999, b + 2001));
	assert_false(seqset_covers(&s, b + 1500, b + 3500)); /* spans a gap */
	assert_false(seqset_covers(&s, b + 2000, b + 3000)); /* the gap */
	assert_false(seqset_covers(&s, b + 4000, b + 4001));
	assert_false(seqset_covers(&s, b + 1500, b + 1500)); /* empty */
	assert_false(seqset_covers(&s, b + 1500, b + 1400)); /* inverted */
}

static void test_bytes(void **state)
{
	uint32_t b = BASE(state);
	struct seqset s;
	unsigned i;

	seqset_init(&s);
	assert_int_equal(seqset_bytes(&s), 0);
	for (i = 0; i < SEQSET_MAX; i++)
		add_ok(&s, b, 2000 * i, 2000 * i + i + 1);
	assert_int_equal(seqset_bytes(&s), SEQSET_MAX * (SEQSET_MAX + 1) / 2);
	add_ok(&s, b, 0, 2000 * SEQSET_MAX);
	assert_int_equal(seqset_bytes(&s), 2000 * SEQSET_MAX);
}

/* --- SACK blocks (RFC 2018 4) ------------------------------------------- */

static void expect_blocks(const struct seqset *s, uint32_t base, unsigned max, const uint32_t *pairs,
			  unsigned n)
{
	struct tcp_sack_block out[SEQSET_MAX + 1];
	unsigned i;

	memset(out, 0xa5, sizeof(out));
	assert_int_equal(seqset_sack_blocks(s, out, max), n);
	for (i = 0; i < n; i++) {
		assert_int_equal(out[i].left, base + pairs[2 * i]);
		assert_int_equal(out[i].right, base + pairs[2 * i + 1]);
	}
	assert_int_equal(out[n].left, 0xa5a5a5a5u); /* nothing past n written */
}

#define EXPECT_BLOCKS(s, base, max, ...)                                                      \
	do {                                                                                  \
		static const uint32_t exp_[] = {__VA_ARGS__};                                 \
		expect_blocks(s, base, max, exp_, sizeof(exp_) / sizeof(exp_[0]) / 2);        \
	} while (0)

/* RFC 2018 5, case 3: 500-byte segments from 5000, 2nd/4th/6th/8th lost. */
static void test_sack_rfc2018_example(void **state)
{
	uint32_t b = BASE(state);
	uint32_t rcv_nxt = b + 5500;
	struct seqset s;

	seqset_init(&s);
	add_ok(&s, b, 6000, 6500);
	EXPECT_BLOCKS(&s, b, 3, 6000, 6500);
	add_ok(&s, b, 7000, 7500);
	EXPECT_BLOCKS(&s, b, 3, 7000, 7500, 6000, 6500);
	add_ok(&s, b, 8000, 8500);
	EXPECT_BLOCKS(&s, b, 3, 8000, 8500, 7000, 7500, 6000, 6500);
	/* The 4th arrives out of order: two blocks left, its own first. */
	add_ok(&s, b, 6500, 7000);
	EXPECT_BLOCKS(&s, b, 3, 6000, 7500, 8000, 8500);
	/* The 2nd arrives: ACK 7500, one block. */
	rcv_nxt += 500;
	seqset_trim_below(&s, rcv_nxt);
	rcv_nxt = seqset_pop_contiguous(&s, rcv_nxt);
	assert_int_equal(rcv_nxt, b + 7500);
	EXPECT_BLOCKS(&s, b, 3, 8000, 8500);
}

static void test_sack_order(void **state)
{
	uint32_t b = BASE(state);
	struct seqset s;

	/* Out-of-order arrivals, not in sequence order: C, A, E, B, D, F. */
	seqset_init(&s);
	add_ok(&s, b, 3000, 3100); /* C */
	add_ok(&s, b, 1000, 1100); /* A */
	add_ok(&s, b, 5000, 5100); /* E */
	add_ok(&s, b, 2000, 2100); /* B */
	add_ok(&s, b, 4000, 4100); /* D */
	add_ok(&s, b, 6000, 6100); /* F */
	EXPECT_BLOCKS(&s, b, 4, 6000, 6100, 4000, 4100, 2000, 2100, 5000, 5100);
	EXPECT_BLOCKS(&s, b, 3, 6000, 6100, 4000, 4100, 2000, 2100);
	assert_int_equal(seqset_sack_blocks(&s, NULL, 0), 0);
	EXPECT_BLOCKS(&s, b, SEQSET_MAX, 6000, 6100, 4000, 4100, 2000, 2100, 5000, 5100, 1000, 1100,
		      3000, 3100);
	/* A duplicate inside A: A's block goes first (it holds the segment). */
	add_ok(&s, b, 1050, 1060);
	EXPECT_BLOCKS(&s, b, 4, 1000, 1100, 6000, 6100, 4000, 4100, 2000, 2100);
	/* C grows: first; the others keep their order. */
	add_ok(&s, b, 3100, 3200);
	EXPECT_BLOCKS(&s, b, 4, 3000, 3200, 1000, 1100, 6000, 6100, 4000, 4100);
	/* D and E merge: one block, first; the subsets are gone. */
	add_ok(&s, b, 4100, 5000);
	EXPECT_BLOCKS(&s, b, 4, 4000, 5100, 3000, 3200, 1000, 1100, 6000, 6100);
	EXPECT_BLOCKS(&s, b, 6, 4000, 5100, 3000, 3200, 1000, 1100, 6000, 6100, 2000, 2100);
	/* In-order data fills A's hole and reaches B: A popped, B not. */
	seqset_trim_below(&s, b + 1000);
	assert_int_equal(seqset_pop_contiguous(&s, b + 1000), b + 1100);
	assert_true(s.last >= 0);                    /* still the merged D-E */
	assert_int_equal(s.r[s.last].left, b + 4000);
	EXPECT_BLOCKS(&s, b, 4, 4000, 5100, 3000, 3200, 6000, 6100, 2000, 2100);
	/* Trimming keeps order for the cut range. */
	seqset_trim_below(&s, b + 2050);
	EXPECT_BLOCKS(&s, b, 4, 4000, 5100, 3000, 3200, 6000, 6100, 2050, 2100);
	/* A failed add changes nothing, order included. */
	assert_int_equal(seqset_add(&s, b + 1, b + 1), -EINVAL);
	EXPECT_BLOCKS(&s, b, 4, 4000, 5100, 3000, 3200, 6000, 6100, 2050, 2100);
}

/* --- randomized, against a bitmap over a 64 KiB window -------------------- */

#define WIN 65536u
#define WORDS (WIN / 64)

struct model {
	uint64_t bits[WORDS];
	uint32_t runs[SEQSET_MAX + WIN / 2][2]; /* [left, right) offsets */
	unsigned nruns;
	uint32_t pop;
};

static void bits_range(uint64_t *bits, uint32_t lo, uint32_t hi, int set)
{
	while (lo < hi) {
		uint32_t w = lo / 64, sh = lo % 64, cnt = hi - lo < 64 - sh ? hi - lo : 64 - sh;
		uint64_t m = (cnt == 64 ? ~0ull : ((1ull << cnt) - 1)) << sh;

		if (set)
			bits[w] |= m;
		else
			bits[w] &= ~m;
		lo += cnt;
	}
}

/* Next position >= p whose bit equals v, or WIN. */
static uint32_t bits_next(const uint64_t *bits, uint32_t p, int v)
{
	while (p < WIN) {
		uint64_t w = v ? bits[p / 64] : ~bits[p / 64];

		w &= ~0ull << (p % 64);
		if (w)
			return (p & ~63u) + (uint32_t)__builtin_ctzll(w);
		p = (p & ~63u) + 64;
	}
	return WIN;
}

static void model_runs(struct model *m)
{
	uint32_t p = 0;

	m->nruns = 0;
	m->pop = 0;
	while ((p = bits_next(m->bits, p, 1)) < WIN) {
		uint32_t e = bits_next(m->bits, p, 0);

		m->runs[m->nruns][0] = p;
		m->runs[m->nruns][1] = e;
		m->nruns++;
		m->pop += e - p;
		p = e;
	}
}

static void model_compare(const struct model *m, const struct seqset *s, uint32_t base)
{
	unsigned i;

	check_invariants(s);
	assert_int_equal(s->n, m->nruns);
	for (i = 0; i < s->n; i++) {
		assert_int_equal(s->r[i].left, base + m->runs[i][0]);
		assert_int_equal(s->r[i].right, base + m->runs[i][1]);
	}
	assert_int_equal(seqset_bytes(s), m->pop);
}

static void test_random_vs_bitmap(void **state)
{
	static struct model m;
	struct seqset s;
	uint32_t base = 0, lastl = 0, lastr = 0;
	unsigned op, nospc = 0, merges = 0, pops = 0;
	int have_last = 0;

	rng_state = 0x5eed5eedcafef00dull;
	for (op = 0; op < 100000; op++) {
		uint32_t c = rnd_below(100), lo, hi, len;

		if (op % 2000 == 0) {
			/* New epoch: the window straddles 2^32 at a random point. */
			base = 0u - rnd_below(WIN);
			memset(m.bits, 0, sizeof(m.bits));
			model_runs(&m);
			seqset_init(&s);
			have_last = 0;
		}
		lo = rnd_below(WIN - 1);
		len = 1 + rnd_below(rnd_below(4) ? 200 : 4000);
		hi = lo + len > WIN ? WIN : lo + len;
		if (c < 60) {
			unsigned touched = 0, i;
			int rc = seqset_add(&s, base + lo, base + hi);

			for (i = 0; i < m.nruns; i++)
				if (m.runs[i][1] >= lo && m.runs[i][0] <= hi)
					touched++;
			if (m.nruns - touched + 1 > SEQSET_MAX) {
				assert_int_equal(rc, -ENOSPC);
				nospc++;
			} else {
				assert_int_equal(rc, 0);
				merges += touched > 0;
				bits_range(m.bits, lo, hi, 1);
				model_runs(&m);
				have_last = 1;
				lastl = lo;
				lastr = hi;
				assert_true(seqset_covers(&s, base + lo, base + hi));
			}
		} else if (c < 63) {
			uint32_t k = rnd_below(WIN);

			seqset_trim_below(&s, base + k);
			bits_range(m.bits, 0, k, 0);
			model_runs(&m);
			if (have_last && lastl < k)
				lastl = k;
			if (lastl >= lastr)
				have_last = 0;
		} else if (c < 70) {
			/* Mostly at left edges, like the assembler. */
			uint32_t k = m.nruns && rnd_below(2) ? m.runs[rnd_below(m.nruns)][0] : lo;
			uint32_t want = base + k, got;
			unsigned i;

			for (i = 0; i < m.nruns; i++)
				if (m.runs[i][0] <= k && k < m.runs[i][1]) {
					want = base + m.runs[i][1];
					if (have_last && lastl >= m.runs[i][0] && lastr <= m.runs[i][1])
						have_last = 0;
					bits_range(m.bits, m.runs[i][0], m.runs[i][1], 0);
					pops++;
					break;
				}
			got = seqset_pop_contiguous(&s, base + k);
			assert_int_equal(got, want);
			model_runs(&m);
		} else if (c < 90) {
			int want = 0;
			unsigned i;

			for (i = 0; i < m.nruns; i++)
				if (m.runs[i][0] <= lo && hi <= m.runs[i][1])
					want = 1;
			assert_int_equal(seqset_covers(&s, base + lo, base + hi), want);
		} else {
			struct tcp_sack_block out[SEQSET_MAX];
			unsigned max = 1 + rnd_below(SEQSET_MAX), n, i, j;

			n = seqset_sack_blocks(&s, out, max);
			assert_int_equal(n, m.nruns < max ? m.nruns : max);
			for (i = 0; i < n; i++) {
				assert_true(seqset_covers(&s, out[i].left, out[i].right));
				assert_false(seqset_covers(&s, out[i].left - 1, out[i].right));
				assert_false(seqset_covers(&s, out[i].left, out[i].right + 1));
				for (j = 0; j < i; j++)
					assert_int_not_equal(out[i].left, out[j].left);
			}
			if (have_last) {
				assert_true(n > 0);
				assert_true(seq_le(out[0].left, base + lastl));
				assert_true(seq_ge(out[0].right, base + lastr));
			}
		}
		model_compare(&m, &s, base);
	}
	/* The run exercised what it was meant to. */
	assert_true(nospc > 1000);
	assert_true(merges > 1000);
	assert_true(pops > 1000);
	print_message("    %u adds refused for space, %u merges, %u pops\n", nospc, merges, pops);
}

#define AT_BASES(f)                                     \
	{ #f "@low", f, NULL, NULL, &base_low },        \
	{ #f "@wrap", f, NULL, NULL, &base_wrap },      \
	{ #f "@wrap1", f, NULL, NULL, &base_wrap1 },    \
	{ #f "@sign", f, NULL, NULL, &base_sign }

int main(void)
{
	const struct CMUnitTest tests[] = {
		AT_BASES(test_add_disjoint_orders),
		AT_BASES(test_add_merge),
		AT_BASES(test_add_swallow_several),
		AT_BASES(test_add_invalid),
		AT_BASES(test_capacity),
		AT_BASES(test_trim_below),
		AT_BASES(test_pop_contiguous),
		AT_BASES(test_covers),
		AT_BASES(test_bytes),
		AT_BASES(test_sack_rfc2018_example),
		AT_BASES(test_sack_order),
		cmocka_unit_test(test_random_vs_bitmap),
	};

	return cmocka_run_group_tests_name("seqset", tests, NULL, NULL);
}
