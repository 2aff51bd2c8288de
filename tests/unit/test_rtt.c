/* Unit tests of RFC 6298 round-trip estimation (user/tcp/rtt.c): hand-computed
 * SRTT/RTTVAR/RTO on sample sequences, clamps, backoff, the lost-SYN rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcp/rtt.h"

#define US(x) ((xs_time_t)(x)*1000)

static void test_initial(void **state)
{
	struct tcp_rtt r;

	rtt_init(&r, 0);
	/* RFC 6298 2.1: 1 s before any sample. */
	assert_int_equal(r.have_sample, 0);
	assert_int_equal(r.rto, XS_SEC(1));
	assert_int_equal(rtt_rto(&r), XS_SEC(1));
}

/* Samples 100, 120, 80, 200 ms, worked by hand (integer ns, truncating):
 *   R=100: SRTT=100       RTTVAR=50                         RTO=100+200
 *   R=120: RTTVAR=(3*50+20)/4=42.5       SRTT=(7*100+120)/8=102.5
 *          RTO=102.5+170=272.5
 *   R=80:  RTTVAR=(3*42.5+22.5)/4=37.5   SRTT=(7*102.5+80)/8=99.6875
 *          RTO=99.6875+150=249.6875
 *   R=200: RTTVAR=(3*37.5+100.3125)/4=53.203125
 *          SRTT=(7*99.6875+200)/8=112.2265625 -> 112226562 ns
 *          RTO=112226562+212812500=325039062 ns */
static void test_sample_sequence(void **state)
{
	struct tcp_rtt r;

	rtt_init(&r, 0);
	rtt_sample(&r, XS_MS(100));
	assert_int_equal(r.have_sample, 1);
	assert_int_equal(r.srtt, XS_MS(100));
	assert_int_equal(r.rttvar, XS_MS(50));
	assert_int_equal(r.rto, XS_MS(300));

	rtt_sample(&r, XS_MS(120));
	assert_int_equal(r.rttvar, US(42500));
	assert_int_equal(r.srtt, US(102500));
	assert_int_equal(r.rto, US(272500));

	rtt_sample(&r, XS_MS(80));
	assert_int_equal(r.rttvar, US(37500));
	assert_int_equal(r.srtt, 99687500);
	assert_int_equal(r.rto, 249687500);

	rtt_sample(&r, XS_MS(200));
	assert_int_equal(r.rttvar, 53203125);
	assert_int_equal(r.srtt, 112226562);
	assert_int_equal(r.rto, 325039062);
	assert_int_equal(rtt_rto(&r), 325039062);
}

/* RTTVAR is updated from the SRTT before the sample (2.3's order): a
 * sample equal to the new SRTT would otherwise shrink RTTVAR further. */
static void test_update_order(void **state)
{
	struct tcp_rtt r;

	rtt_init(&r, 0);
	rtt_sample(&r, XS_MS(400)); /* SRTT 400, RTTVAR 200 */
	rtt_sample(&r, XS_MS(800)); /* |400-800| = 400: RTTVAR (600+400)/4 */
	assert_int_equal(r.rttvar, XS_MS(250));
	assert_int_equal(r.srtt, XS_MS(450));
	assert_int_equal(r.rto, XS_MS(1450));
}

static void test_clamps_and_granularity(void **state)
{
	struct tcp_rtt r;
	int i;

	/* 1 ms path: 1 + 4 * 0.5 = 3 ms, raised to the 200 ms floor. */
	rtt_init(&r, 0);
	rtt_sample(&r, XS_MS(1));
	assert_int_equal(r.srtt, XS_MS(1));
	assert_int_equal(r.rto, TCP_RTO_MIN);

	/* 30 s: 30 + 4 * 15 = 90 s, lowered to the 60 s ceiling (2.5). */
	rtt_init(&r, 0);
	rtt_sample(&r, XS_SEC(30));
	assert_int_equal(r.rto, TCP_RTO_MAX);

	/* A steady 500 ms path: RTTVAR decays by 3/4 per sample until 4 *
	 * RTTVAR drops below G (1 ms) at the 26th sample; then RTO = SRTT + G. */
	rtt_init(&r, 0);
	for (i = 0; i < 24; i++)
		rtt_sample(&r, XS_MS(500));
	assert_true(r.rto > XS_MS(501));
	for (; i < 60; i++)
		rtt_sample(&r, XS_MS(500));
	assert_int_equal(r.srtt, XS_MS(500));
	assert_true(4 * r.rttvar < TCP_RTO_GRANULARITY);
	assert_int_equal(r.rto, XS_MS(500) + TCP_RTO_GRANULARITY);

	/* A zero sample (same-host peer) is fine. */
	rtt_init(&r, 0);
	rtt_sample(&r, 0);
	assert_int_equal(r.rto, TCP_RTO_MIN);

	/* An absurd sample does not overflow the arithmetic. */
	rtt_init(&r, 0);
	rtt_sample(&r, UINT64_MAX);
	rtt_sample(&r, UINT64_MAX);
	assert_int_equal(r.rto, TCP_RTO_MAX);
	rtt_sample(&r, XS_MS(10));
	assert_true(r.srtt < XS_SEC(3600));
}

static void test_backoff(void **state)
{
	static const xs_time_t seq[] = {
	    XS_SEC(1),	XS_SEC(2),  XS_SEC(4),	XS_SEC(8),  XS_SEC(16),
	    XS_SEC(32), XS_SEC(60), XS_SEC(60), XS_SEC(60),
	};
	struct tcp_rtt r;
	unsigned i;

	/* RFC 6298 5.5 from the initial 1 s: doubling up to the 60 s cap. */
	rtt_init(&r, 0);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		assert_int_equal(rtt_rto(&r), seq[i]);
		rtt_backoff(&r);
	}
	/* The count saturates, the RTO stays at the ceiling. */
	for (i = 0; i < 300; i++)
		rtt_backoff(&r);
	assert_int_equal(r.backoff, 255);
	assert_int_equal(rtt_rto(&r), TCP_RTO_MAX);
	/* The base RTO is untouched; a new ACK resets the backoff. */
	assert_int_equal(r.rto, XS_SEC(1));
	rtt_reset_backoff(&r);
	assert_int_equal(rtt_rto(&r), XS_SEC(1));

	/* From a measured 300 ms: 300, 600, 1200 ... 38400, then 60 s. */
	rtt_init(&r, 0);
	rtt_sample(&r, XS_MS(100));
	for (i = 0; i < 8; i++) {
		assert_int_equal(rtt_rto(&r), XS_MS(300) << i);
		rtt_backoff(&r);
	}
	assert_int_equal(rtt_rto(&r), TCP_RTO_MAX);
	/* A sample during backoff updates the base; the backoff stays until
	 * the caller resets it (Karn: samples only from new data anyway). */
	rtt_sample(&r, XS_MS(100));
	assert_int_equal(rtt_rto(&r), TCP_RTO_MAX);
	rtt_reset_backoff(&r);
	assert_true(rtt_rto(&r) < XS_MS(300));
}

static void test_syn_lost(void **state)
{
	struct tcp_rtt r;

	/* SYN lost twice (1 s, then 2 s), established without a sample:
	 * RTO 3 s, the handshake's backoff gone (RFC 6298 5.7). */
	rtt_init(&r, 0);
	rtt_backoff(&r);
	rtt_backoff(&r);
	assert_int_equal(rtt_rto(&r), XS_SEC(4));
	rtt_syn_lost(&r);
	assert_int_equal(rtt_rto(&r), XS_SEC(3));
	assert_int_equal(r.rto, TCP_RTO_SYN_FALLBACK);
	/* Timeouts after that double from 3 s. */
	rtt_backoff(&r);
	assert_int_equal(rtt_rto(&r), XS_SEC(6));
	/* The first sample replaces it (2.2). */
	rtt_sample(&r, XS_MS(100));
	assert_int_equal(r.rto, XS_MS(300));

	/* With a sample already, the rule does not apply. */
	rtt_init(&r, 0);
	rtt_sample(&r, XS_MS(100));
	rtt_syn_lost(&r);
	assert_int_equal(rtt_rto(&r), XS_MS(300));
}

/* A configured floor (XS_TCP_RTO_MIN, --tcp-rto-min) replaces RFC 6298
 * 2.4's: 100 us samples on a 5 ms floor give 5 ms, not 200 ms; backoff
 * doubles from there; 0 keeps the default. */
static void test_configured_floor(void **state)
{
	struct tcp_rtt r;

	(void)state;
	rtt_init(&r, XS_MS(5));
	assert_int_equal(r.rto, XS_SEC(1)); /* 2.1 until a sample */
	rtt_sample(&r, US(100));
	/* SRTT 100 us + 4*RTTVAR 200 us = 300 us, below the floor. */
	assert_int_equal(r.rto, XS_MS(5));
	rtt_backoff(&r);
	assert_int_equal(rtt_rto(&r), XS_MS(10));
	rtt_sample(&r, XS_MS(40)); /* above the floor: the estimate stands */
	assert_true(r.rto > XS_MS(40));
	rtt_init(&r, 0);
	rtt_sample(&r, US(100));
	assert_int_equal(r.rto, XS_MS(200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_initial),	 cmocka_unit_test(test_sample_sequence),
	    cmocka_unit_test(test_update_order), cmocka_unit_test(test_clamps_and_granularity),
	    cmocka_unit_test(test_backoff),	 cmocka_unit_test(test_syn_lost),
	    cmocka_unit_test(test_configured_floor),
	};

	return cmocka_run_group_tests_name("rtt", tests, NULL, NULL);
}
