/* Unit tests of the daemon's adaptive busy polling (user/app/busypoll.c) on a
 * virtual clock: when the loop spins, when it sleeps, and what it counts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The daemon's modules are not in libxdpstack: compiled in here. */
#include "app/busypoll.c"

#define T0 XS_SEC(1000)
#define FAR XS_SEC(10000) /* no timer due */

static void test_off_never_spins(void **state)
{
	struct busy_poll bp;

	busy_poll_init(&bp, 0, T0);
	assert_false(busy_poll_spin(&bp, T0, 64, FAR));
	assert_false(busy_poll_spin(&bp, T0 + 1, 0, T0 + 1));
	assert_int_equal(bp.spins, 0);
	assert_int_equal(bp.sleeps, 0);
	assert_int_equal(bp.wakes, 0);
}

/* Spins from the start for the idle period, then sleeps once. */
static void test_idle_period_then_sleep(void **state)
{
	struct busy_poll bp;
	xs_time_t t;

	busy_poll_init(&bp, 500, T0); /* 500 us */
	for (t = T0; t < T0 + 500000; t += 100000)
		assert_true(busy_poll_spin(&bp, t, 0, FAR));
	assert_int_equal(bp.spins, 5);
	assert_false(busy_poll_spin(&bp, T0 + 500000, 0, FAR));
	assert_int_equal(bp.sleeps, 1);
	/* Still asleep: no more sleeps counted for the same idle stretch. */
	assert_false(busy_poll_spin(&bp, T0 + XS_MS(100), 0, FAR));
	assert_int_equal(bp.sleeps, 1);
	assert_int_equal(bp.wakes, 0);
}

/* Each received frame restarts the period; a frame after a sleep is a wake. */
static void test_frames_extend_and_wake(void **state)
{
	struct busy_poll bp;

	busy_poll_init(&bp, 1000, T0); /* 1 ms */
	assert_true(busy_poll_spin(&bp, T0 + 900000, 1, FAR));
	assert_true(busy_poll_spin(&bp, T0 + 1800000, 0, FAR)); /* 0.9 ms after the frame */
	assert_false(busy_poll_spin(&bp, T0 + 1900000, 0, FAR));
	assert_int_equal(bp.sleeps, 1);
	/* poll() returned with a frame ready: spinning resumes. */
	assert_true(busy_poll_spin(&bp, T0 + XS_SEC(5), 3, FAR));
	assert_int_equal(bp.wakes, 1);
	assert_true(busy_poll_spin(&bp, T0 + XS_SEC(5) + 999999, 0, FAR));
	assert_false(busy_poll_spin(&bp, T0 + XS_SEC(5) + 1000000, 0, FAR));
	assert_int_equal(bp.sleeps, 2);
}

/* A timer within BUSY_POLL_TIMER_NS keeps it spinning past the period; the
 * stack's periodic timers do not restart the period. */
static void test_timers(void **state)
{
	struct busy_poll bp;
	xs_time_t t = T0 + XS_MS(10);

	busy_poll_init(&bp, 1000, T0);
	assert_true(busy_poll_spin(&bp, t, 0, t + BUSY_POLL_TIMER_NS));
	assert_true(busy_poll_spin(&bp, t, 0, 0)); /* events pending: due now */
	assert_false(busy_poll_spin(&bp, t, 0, t + BUSY_POLL_TIMER_NS + 1));
	assert_int_equal(bp.sleeps, 1);
	/* Woken by a timer (no frame): it runs, then back to sleep. */
	assert_false(busy_poll_spin(&bp, t + XS_MS(100), 0, t + XS_MS(200)));
	assert_int_equal(bp.wakes, 0);
	assert_int_equal(bp.sleeps, 1);
	/* A frame that lands while it spins for a timer after the period is
	 * still the first after an idle period: a wake. */
	assert_true(busy_poll_spin(&bp, t + XS_MS(200), 0, t + XS_MS(200)));
	assert_true(busy_poll_spin(&bp, t + XS_MS(200) + 10, 1, FAR));
	assert_int_equal(bp.wakes, 1);
}

static void test_fds_every_ms(void **state)
{
	struct busy_poll bp;

	busy_poll_init(&bp, 1000, T0);
	assert_true(busy_poll_fds_due(&bp, T0));
	assert_false(busy_poll_fds_due(&bp, T0 + 1));
	assert_false(busy_poll_fds_due(&bp, T0 + BUSY_POLL_FD_NS - 1));
	assert_true(busy_poll_fds_due(&bp, T0 + BUSY_POLL_FD_NS));
	assert_false(busy_poll_fds_due(&bp, T0 + BUSY_POLL_FD_NS + 10));
	assert_true(busy_poll_fds_due(&bp, T0 + XS_SEC(3)));
}

static void test_max_period_no_overflow(void **state)
{
	struct busy_poll bp;

	busy_poll_init(&bp, BUSY_POLL_MAX_US, T0);
	assert_int_equal(bp.idle_ns, (xs_time_t)BUSY_POLL_MAX_US * 1000);
	assert_true(busy_poll_spin(&bp, T0 + XS_SEC(59), 0, FAR));
	assert_false(busy_poll_spin(&bp, T0 + XS_SEC(60), 0, FAR));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_off_never_spins),
	    cmocka_unit_test(test_idle_period_then_sleep),
	    cmocka_unit_test(test_frames_extend_and_wake),
	    cmocka_unit_test(test_timers),
	    cmocka_unit_test(test_fds_every_ms),
	    cmocka_unit_test(test_max_period_no_overflow),
	};

	return cmocka_run_group_tests_name("busypoll", tests, NULL, NULL);
}
