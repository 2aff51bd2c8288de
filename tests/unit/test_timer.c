/* Unit tests of the timing wheel (user/core/timer.c): arm/cancel, ordering, far
 * timers, callbacks that re-arm and cancel, jumps of time, a seeded random model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/timer.h"

#define US(x) ((xs_time_t)(x)*1000)

/* --- a log of firings, the ctx every test hands timer_run -------------- */

#define LOG_MAX 256

struct tt {
	struct xs_timer t;
	int id;
	xs_time_t fired_at; /* run time at the last firing, 0 if none */
	unsigned fired;	    /* times fired */
	xs_time_t period;   /* re-arm at expires + period when set */
	struct tt *victim;  /* cancelled by this timer's callback */
	struct tt *mover;   /* re-armed to mover_to by this callback */
	xs_time_t mover_to;
	int rearm_past; /* re-arm itself at expires - 1 ms, once */
};

struct ctx {
	struct xs_timer_wheel *w;
	xs_time_t now; /* the now given to timer_run */
	int log[LOG_MAX];
	xs_time_t log_exp[LOG_MAX];
	unsigned n;
};

#define TT(p) ((struct tt *)((char *)(p)-offsetof(struct tt, t)))

static void cb(void *vctx, struct xs_timer *t)
{
	struct ctx *c = vctx;
	struct tt *x = TT(t);

	assert_false(timer_pending(t));
	assert_true(t->expires <= c->now);
	if (c->n < LOG_MAX) {
		c->log[c->n] = x->id;
		c->log_exp[c->n] = t->expires;
	}
	c->n++;
	x->fired++;
	x->fired_at = c->now;
	if (x->victim)
		timer_cancel(c->w, &x->victim->t);
	if (x->mover)
		timer_arm(c->w, &x->mover->t, x->mover_to);
	if (x->period)
		timer_arm(c->w, t, t->expires + x->period);
	if (x->rearm_past) {
		x->rearm_past = 0;
		timer_arm(c->w, t, t->expires - XS_MS(1));
	}
}

static void tt_init(struct tt *x, int id)
{
	memset(x, 0, sizeof(*x));
	timer_init(&x->t, cb);
	x->id = id;
}

static unsigned run(struct ctx *c, xs_time_t now)
{
	c->now = now;
	return timer_run(c->w, now, c);
}

static struct xs_timer_wheel *wheel_new(xs_time_t now)
{
	struct xs_timer_wheel *w = malloc(sizeof(*w));

	assert_non_null(w);
	timer_wheel_init(w, now);
	return w;
}

/* --- basics ------------------------------------------------------------ */

static void test_arm_cancel_rearm(void **state)
{
	struct xs_timer_wheel *w = wheel_new(0);
	struct ctx c = {.w = w};
	struct tt a, b;

	tt_init(&a, 1);
	tt_init(&b, 2);
	assert_int_equal(timer_next(w), XS_TIME_NEVER);
	assert_false(timer_pending(&a.t));

	timer_arm(w, &a.t, XS_MS(10));
	assert_true(timer_pending(&a.t));
	assert_int_equal(w->armed, 1);
	assert_true(timer_next(w) <= XS_MS(10));

	/* Cancelling twice is harmless; the wheel is empty again. */
	timer_cancel(w, &a.t);
	timer_cancel(w, &a.t);
	assert_false(timer_pending(&a.t));
	assert_int_equal(w->armed, 0);
	assert_int_equal(timer_next(w), XS_TIME_NEVER);
	assert_int_equal(run(&c, XS_MS(20)), 0);
	assert_int_equal(a.fired, 0);

	/* Re-arming an armed timer moves it, earlier and later. */
	timer_arm(w, &a.t, XS_MS(50));
	timer_arm(w, &a.t, XS_MS(30));
	timer_arm(w, &b.t, XS_MS(40));
	timer_arm(w, &b.t, XS_MS(60));
	assert_int_equal(w->armed, 2);
	assert_int_equal(run(&c, XS_MS(29)), 0);
	assert_int_equal(run(&c, XS_MS(30)), 1);
	assert_int_equal(a.fired_at, XS_MS(30));
	assert_int_equal(run(&c, XS_MS(59)), 0);
	assert_int_equal(run(&c, XS_MS(60)), 1);
	assert_int_equal(b.fired_at, XS_MS(60));
	assert_int_equal(w->armed, 0);
	assert_int_equal(timer_next(w), XS_TIME_NEVER);

	/* A fired timer can be armed again. */
	timer_arm(w, &a.t, XS_MS(61));
	assert_int_equal(run(&c, XS_MS(61)), 1);
	assert_int_equal(a.fired, 2);
	free(w);
}

static void test_sub_tick_and_past(void **state)
{
	struct xs_timer_wheel *w = wheel_new(XS_MS(100));
	struct ctx c = {.w = w};
	struct tt a, p;

	tt_init(&a, 1);
	tt_init(&p, 2);
	/* Expiry in the middle of a tick: not before it, and at the first
	 * run at or after it, even inside the same tick. */
	timer_arm(w, &a.t, XS_MS(105) + US(500));
	assert_int_equal(timer_next(w), XS_MS(105) + US(500));
	assert_int_equal(run(&c, XS_MS(105) + US(200)), 0);
	assert_int_equal(w->now, XS_MS(105));
	assert_int_equal(run(&c, XS_MS(105) + US(499)), 0);
	assert_int_equal(run(&c, XS_MS(105) + US(500)), 1);

	/* An expiry in the past fires at the next run, whatever its now. */
	timer_arm(w, &p.t, XS_MS(3));
	assert_true(timer_next(w) <= XS_MS(3));
	assert_int_equal(run(&c, XS_MS(105) + US(500)), 1);
	assert_int_equal(p.fired, 1);

	/* Time going backwards is taken as no time passing. */
	timer_arm(w, &p.t, XS_MS(107));
	assert_int_equal(run(&c, XS_MS(50)), 0);
	assert_int_equal(w->now, XS_MS(105));
	assert_int_equal(run(&c, XS_MS(107)), 1);
	free(w);
}

static void test_ordering(void **state)
{
	struct xs_timer_wheel *w = wheel_new(0);
	struct ctx c = {.w = w};
	struct tt t[7];
	/* id -> expiry; ids 2 and 3 share one, armed 2 then 3. */
	static const xs_time_t exp[7] = {
	    XS_MS(5) + US(300), XS_MS(3),    XS_MS(5) + US(100), XS_MS(5) + US(100),
	    XS_MS(5) + US(700), XS_MS(1029), XS_MS(2) + US(999),
	};
	static const int order[7] = {6, 1, 2, 3, 0, 4, 5};
	unsigned i;

	for (i = 0; i < 7; i++) {
		tt_init(&t[i], (int)i);
		timer_arm(w, &t[i].t, exp[i]);
	}
	assert_int_equal(timer_next(w), XS_MS(2) + US(999));
	/* One run over more than a revolution: all fire, by expiry. */
	assert_int_equal(run(&c, XS_MS(1100)), 7);
	for (i = 0; i < 7; i++)
		assert_int_equal(c.log[i], order[i]);
	free(w);
}

static xs_time_t min_pending(struct tt *a, struct tt *b, struct tt *c, struct tt *d)
{
	struct tt *all[4] = {a, b, c, d};
	xs_time_t m = XS_TIME_NEVER;
	unsigned i;

	for (i = 0; i < 4; i++)
		if (timer_pending(&all[i]->t) && all[i]->t.expires < m)
			m = all[i]->t.expires;
	return m;
}

/* Timers 5 s and 75 s ahead share slots with nearer ticks on every
 * revolution; they must fire exactly when due, not at an earlier pass. */
static void test_beyond_revolution(void **state)
{
	struct xs_timer_wheel *w = wheel_new(0);
	struct ctx c = {.w = w};
	struct tt a, b, near, alias;
	xs_time_t now;

	tt_init(&a, 1);
	tt_init(&b, 2);
	tt_init(&near, 3);
	tt_init(&alias, 4);
	timer_arm(w, &a.t, XS_SEC(5));
	timer_arm(w, &b.t, XS_SEC(75));
	/* Same slot as a (5000 = 904 + 4 * 1024) but four revolutions earlier. */
	timer_arm(w, &near.t, XS_MS(904));
	/* Same slot as b in the revolution before b's. */
	timer_arm(w, &alias.t, XS_SEC(75) - XS_MS(1024));

	for (now = XS_MS(1); now <= XS_SEC(80); now += XS_MS(1)) {
		run(&c, now);
		assert_true(a.fired == (now >= XS_SEC(5)));
		assert_true(b.fired == (now >= XS_SEC(75)));
		assert_true(timer_next(w) <= min_pending(&a, &b, &near, &alias));
	}
	assert_int_equal(a.fired_at, XS_SEC(5));
	assert_int_equal(b.fired_at, XS_SEC(75));
	assert_int_equal(near.fired_at, XS_MS(904));
	assert_int_equal(alias.fired_at, XS_SEC(75) - XS_MS(1024));
	assert_int_equal(c.n, 4);

	/* The same with coarse steps (7 ms, never landing on the expiry):
	 * each fires at the first run at or after its time. */
	timer_wheel_init(w, 0);
	memset(&c, 0, sizeof(c));
	c.w = w;
	tt_init(&a, 1);
	tt_init(&b, 2);
	timer_arm(w, &a.t, XS_SEC(5));
	timer_arm(w, &b.t, XS_SEC(75));
	for (now = XS_MS(7); now <= XS_SEC(80); now += XS_MS(7)) {
		run(&c, now);
		assert_true(a.fired == (now >= XS_SEC(5)));
		assert_true(b.fired == (now >= XS_SEC(75)));
	}
	assert_int_equal(a.fired_at, XS_MS(5005));
	assert_int_equal(b.fired_at, XS_MS(75005));
	free(w);
}

/* A periodic timer re-arms itself; on its third firing it cancels a timer
 * due in the same tick (already collected for this run) and moves another
 * one of that tick to later. */
static void test_callbacks_rearm_cancel(void **state)
{
	struct xs_timer_wheel *w = wheel_new(0);
	struct ctx c = {.w = w};
	struct tt per, victim, moved, self_cancel;
	xs_time_t now;

	tt_init(&per, 1);
	tt_init(&victim, 2);
	tt_init(&moved, 3);
	tt_init(&self_cancel, 4);
	per.period = XS_MS(10);
	timer_arm(w, &per.t, XS_MS(10));
	timer_arm(w, &victim.t, XS_MS(30) + US(500));
	timer_arm(w, &moved.t, XS_MS(30) + US(600));

	/* Run with 1 ms steps up to 29 ms: the periodic one fires twice. */
	for (now = XS_MS(1); now < XS_MS(30); now += XS_MS(1))
		run(&c, now);
	assert_int_equal(per.fired, 2);
	/* Arm the third firing's side effects, then run once at 31 ms where
	 * all three are due: per (30.0) fires first and cancels the victim
	 * (30.5) and moves the other (30.6) to 40.5 ms. */
	per.victim = &victim;
	per.mover = &moved;
	per.mover_to = XS_MS(40) + US(500);
	assert_int_equal(run(&c, XS_MS(31)), 1);
	assert_int_equal(per.fired, 3);
	assert_int_equal(victim.fired, 0);
	assert_false(timer_pending(&victim.t));
	assert_true(timer_pending(&moved.t));
	assert_int_equal(moved.fired, 0);
	per.victim = NULL;
	per.mover = NULL;

	/* A callback cancelling itself (already unlinked) is harmless. */
	self_cancel.victim = &self_cancel;
	timer_arm(w, &self_cancel.t, XS_MS(35));
	run(&c, XS_MS(35));
	assert_int_equal(self_cancel.fired, 1);
	assert_false(timer_pending(&self_cancel.t));

	/* per at 40, moved at 40.5, per again at 50. */
	run(&c, XS_MS(41));
	assert_int_equal(per.fired, 4);
	assert_int_equal(moved.fired, 1);
	assert_int_equal(moved.fired_at, XS_MS(41));
	run(&c, XS_MS(50));
	assert_int_equal(per.fired, 5);
	assert_int_equal(w->armed, 1);

	/* Periodic catch-up after a jump: one firing per run, never a loop. */
	assert_int_equal(run(&c, XS_MS(100)), 1); /* the 60 ms firing */
	assert_int_equal(per.t.expires, XS_MS(70));
	assert_true(timer_next(w) <= XS_MS(70));
	assert_int_equal(run(&c, XS_MS(100)), 1);
	assert_int_equal(run(&c, XS_MS(100)), 1);
	assert_int_equal(run(&c, XS_MS(100)), 1); /* 90 */
	assert_int_equal(run(&c, XS_MS(100)), 1); /* 100 */
	assert_int_equal(run(&c, XS_MS(100)), 0);
	assert_int_equal(per.t.expires, XS_MS(110));
	free(w);
}

static void test_rearm_in_past_from_callback(void **state)
{
	struct xs_timer_wheel *w = wheel_new(0);
	struct ctx c = {.w = w};
	struct tt a;

	tt_init(&a, 1);
	a.rearm_past = 1;
	timer_arm(w, &a.t, XS_MS(20));
	assert_int_equal(run(&c, XS_MS(20)), 1);
	/* Re-armed at 19 ms: pending, reported as due, fires next run. */
	assert_true(timer_pending(&a.t));
	assert_true(timer_next(w) <= XS_MS(20));
	assert_int_equal(run(&c, XS_MS(20)), 1);
	assert_int_equal(a.fired, 2);
	assert_int_equal(timer_next(w), XS_TIME_NEVER);
	free(w);
}

static void test_large_jumps(void **state)
{
	struct xs_timer_wheel *w = wheel_new(XS_SEC(1000));
	struct ctx c = {.w = w};
	struct tt t[6];
	static const xs_time_t rel[6] = {
	    XS_MS(1), XS_MS(500), XS_MS(1500), XS_SEC(10), XS_SEC(100), XS_SEC(3000),
	};
	unsigned i;

	for (i = 0; i < 6; i++) {
		tt_init(&t[i], (int)i);
		timer_arm(w, &t[i].t, XS_SEC(1000) + rel[i]);
	}
	/* 2000 s in one step: five due, in order; the 3000 s one is not. */
	assert_int_equal(run(&c, XS_SEC(3000)), 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(c.log[i], (int)i);
	assert_true(timer_pending(&t[5].t));
	assert_true(timer_next(w) <= XS_SEC(4000));
	assert_true(timer_next(w) > XS_SEC(3000));
	assert_int_equal(run(&c, XS_SEC(4000) - 1), 0);
	assert_int_equal(run(&c, XS_SEC(4000)), 1);

	/* Timers armed after the jump behave normally. */
	timer_arm(w, &t[0].t, XS_SEC(4000) + XS_MS(3));
	assert_int_equal(run(&c, XS_SEC(4000) + XS_MS(2)), 0);
	assert_int_equal(run(&c, XS_SEC(4000) + XS_MS(3)), 1);
	free(w);
}

/* timer_next tracks the earliest expiry as timers come and go, never late. */
static void test_next_lower_bound(void **state)
{
	struct xs_timer_wheel *w = wheel_new(0);
	struct ctx c = {.w = w};
	struct tt a, b, far;

	tt_init(&a, 1);
	tt_init(&b, 2);
	tt_init(&far, 3);
	timer_arm(w, &far.t, XS_SEC(75));
	assert_int_equal(timer_next(w), XS_SEC(75));
	timer_arm(w, &a.t, XS_MS(10));
	timer_arm(w, &b.t, XS_MS(20));
	assert_int_equal(timer_next(w), XS_MS(10));
	/* Cancelling the earliest may leave a stale (earlier) bound; the next
	 * run at that time finds nothing due and tightens it. */
	timer_cancel(w, &a.t);
	assert_true(timer_next(w) <= XS_MS(20));
	assert_int_equal(run(&c, timer_next(w)), 0);
	assert_int_equal(timer_next(w), XS_MS(20));
	assert_int_equal(run(&c, XS_MS(20)), 1);
	/* Only the 75 s timer, many revolutions away, is left. */
	assert_int_equal(timer_next(w), XS_SEC(75));
	/* The 75 s timer sits in slot 248, ahead of slot 500 in the scan from
	 * tick 25: the deadline found after a firing is still 500 ms. */
	timer_arm(w, &a.t, XS_MS(500));
	timer_arm(w, &b.t, XS_MS(25));
	assert_int_equal(run(&c, XS_MS(25)), 1);
	assert_int_equal(timer_next(w), XS_MS(500));
	assert_int_equal(run(&c, XS_MS(500)), 1);
	assert_int_equal(timer_next(w), XS_SEC(75));
	/* Moving the hand without firing keeps the bound right. */
	assert_int_equal(run(&c, XS_SEC(30)), 0);
	assert_int_equal(timer_next(w), XS_SEC(75));
	timer_cancel(w, &far.t);
	assert_int_equal(timer_next(w), XS_TIME_NEVER);
	free(w);
}

/* A timer pushed later again and again (a retransmission timer restarted by
 * every ACK) stays where it was filed until its old slot comes round, then
 * moves: it never fires early, fires once, at the first run at or after its
 * last expiry, whether that lies in the same tick, a later one, or beyond a
 * revolution; the lists it left are not touched meanwhile. */
static void test_pushed_later(void **state)
{
	struct xs_timer_wheel *w = wheel_new(0);
	struct ctx c = {.w = w};
	struct tt a, b;
	xs_time_t exp = XS_MS(10), now = 0;

	tt_init(&a, 1);
	tt_init(&b, 2);
	timer_arm(w, &a.t, exp);
	timer_arm(w, &b.t, XS_MS(12));
	for (int i = 0; i < 300; i++) {
		struct xs_timer **pprev = a.t.pprev;

		now += US(100);
		exp = now + XS_MS(10) + US(i % 7);
		timer_arm(w, &a.t, exp);
		/* Later: the expiry moved, not the timer. */
		assert_ptr_equal(a.t.pprev, pprev);
		assert_int_equal(a.t.expires, exp);
		assert_true(timer_next(w) <= exp);
		run(&c, now);
		assert_int_equal(a.fired, 0);
	}
	assert_int_equal(b.fired, 1);
	assert_int_equal(b.fired_at, XS_MS(12));
	assert_int_equal(w->armed, 1);
	run(&c, exp - 1);
	assert_int_equal(a.fired, 0);
	run(&c, exp);
	assert_int_equal(a.fired, 1);
	assert_int_equal(a.fired_at, exp);

	/* Pushed beyond a revolution, from a slot about to come round. */
	timer_arm(w, &a.t, exp + XS_MS(5));
	timer_arm(w, &a.t, exp + XS_SEC(3) + US(1));
	assert_int_equal(run(&c, exp + XS_MS(5)), 0);
	assert_int_equal(run(&c, exp + XS_SEC(2)), 0);
	assert_int_equal(run(&c, exp + XS_SEC(3)), 0);
	assert_int_equal(run(&c, exp + XS_SEC(3) + US(1)), 1);
	assert_int_equal(a.fired, 2);
	/* Pushed later within its tick, then earlier (moved at once). */
	now = exp + XS_SEC(4);
	timer_arm(w, &a.t, now + US(100));
	timer_arm(w, &a.t, now + US(900));
	timer_arm(w, &a.t, now + US(50));
	assert_int_equal(run(&c, now + US(49)), 0);
	assert_int_equal(run(&c, now + US(50)), 1);
	assert_int_equal(w->armed, 0);
	assert_int_equal(timer_next(w), XS_TIME_NEVER);
	free(w);
}

/* --- the random model -------------------------------------------------- */

#define NT 10000

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*, seeded: the same sequence on every run. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

struct model {
	struct ctx c;
	struct tt *t;
	xs_time_t prev_run; /* now of the previous run */
	xs_time_t last_exp; /* expiry of the last firing in this run */
	unsigned fired_this_run;
};

static void model_cb(void *vctx, struct xs_timer *t)
{
	struct model *m = vctx;
	struct tt *x = TT(t);

	/* Due now, was not due at the previous run, fired in expiry order. */
	assert_true(t->expires <= m->c.now);
	assert_true(t->expires > m->prev_run);
	assert_true(t->expires >= m->last_exp);
	m->last_exp = t->expires;
	x->fired++;
	x->fired_at = m->c.now;
	m->fired_this_run++;
}

static void check_next(struct model *m, struct xs_timer_wheel *w)
{
	xs_time_t min = XS_TIME_NEVER;
	unsigned i, armed = 0;

	for (i = 0; i < NT; i++) {
		if (!timer_pending(&m->t[i].t))
			continue;
		armed++;
		if (m->t[i].t.expires < min)
			min = m->t[i].t.expires;
	}
	assert_int_equal(armed, w->armed);
	assert_true(timer_next(w) <= min);
	if (!armed)
		assert_int_equal(timer_next(w), XS_TIME_NEVER);
}

static void test_random_model(void **state)
{
	struct xs_timer_wheel *w = wheel_new(0);
	struct model *m = calloc(1, sizeof(*m));
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	xs_time_t now = 0, horizon = XS_SEC(200);
	unsigned i, runs = 0, total = 0, stale_wakeups = 0;

	assert_non_null(m);
	m->t = calloc(NT, sizeof(*m->t));
	assert_non_null(m->t);
	m->c.w = w;
	for (i = 0; i < NT; i++) {
		tt_init(&m->t[i], (int)i);
		m->t[i].t.fn = model_cb;
		/* Mostly within 2 s, some up to 200 s (many revolutions), at
		 * any ns within a tick. */
		timer_arm(w, &m->t[i].t,
			  1 + (rng_next(&seed) % 4 ? rng_next(&seed) % XS_SEC(2)
						   : rng_next(&seed) % horizon));
	}
	check_next(m, w);

	while (w->armed) {
		uint64_t r = rng_next(&seed) % 100;
		xs_time_t next = timer_next(w);
		unsigned due = 0;

		/* Steps: sub-tick, a few ticks, to the reported deadline,
		 * or a jump of seconds (sometimes beyond a revolution). */
		if (r < 30)
			now += rng_next(&seed) % XS_MS(1);
		else if (r < 70)
			now += rng_next(&seed) % XS_MS(20);
		else if (r < 95)
			now = next != XS_TIME_NEVER && next > now ? next : now + XS_MS(1);
		else
			now += rng_next(&seed) % XS_SEC(3);

		/* Churn: cancel or re-arm a few random timers between runs,
		 * for the first half of the horizon. */
		for (i = 0; i < 5 && now < horizon / 2; i++) {
			struct tt *x = &m->t[rng_next(&seed) % NT];

			if (rng_next(&seed) % 3 == 0)
				timer_cancel(w, &x->t);
			else if (rng_next(&seed) % 2 && timer_pending(&x->t))
				timer_arm(w, &x->t, x->t.expires + rng_next(&seed) % XS_SEC(3));
			else
				timer_arm(w, &x->t, now + rng_next(&seed) % XS_SEC(90));
		}
		check_next(m, w);

		for (i = 0; i < NT; i++)
			if (timer_pending(&m->t[i].t) && m->t[i].t.expires <= now)
				due++;
		m->c.now = now;
		m->last_exp = 0;
		m->fired_this_run = 0;
		assert_int_equal(timer_run(w, now, m), due);
		assert_int_equal(m->fired_this_run, due);
		if (!due && next <= now)
			stale_wakeups++;
		/* Everything due is gone; everything else still pending. */
		for (i = 0; i < NT; i++)
			if (timer_pending(&m->t[i].t))
				assert_true(m->t[i].t.expires > now);
		check_next(m, w);
		m->prev_run = now;
		total += due;
		runs++;
	}
	assert_int_equal(w->armed, 0);
	assert_int_equal(timer_next(w), XS_TIME_NEVER);
	assert_true(total >= NT);
	print_message("random model: %u runs, %u firings, %u wakeups for nothing\n", runs, total,
		      stale_wakeups);
	free(m->t);
	free(m);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arm_cancel_rearm),
	    cmocka_unit_test(test_sub_tick_and_past),
	    cmocka_unit_test(test_ordering),
	    cmocka_unit_test(test_beyond_revolution),
	    cmocka_unit_test(test_callbacks_rearm_cancel),
	    cmocka_unit_test(test_rearm_in_past_from_callback),
	    cmocka_unit_test(test_large_jumps),
	    cmocka_unit_test(test_next_lower_bound),
	    cmocka_unit_test(test_pushed_later),
	    cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests_name("timer", tests, NULL, NULL);
}
