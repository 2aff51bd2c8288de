/* Scripted TCP conversations: xs_stack_free with connections left in every
 * state (orphans and open handles): all memory freed (LeakSanitizer), all frames home. */
#include "tcp_fixture.h"

/* Orphans (handles released) in FIN-WAIT-1 with data unacknowledged,
 * TIME-WAIT and LAST-ACK, plus an unaccepted connection in a listener's
 * queue and a half-open one: xs_stack_free frees them all. */
static void test_free_with_orphans(void **state)
{
	struct tfx *t = *state;
	struct popts o;

	/* FIN-WAIT-1 with 5000 bytes unacknowledged. */
	tfx_active_open(t, NULL);
	app_send(t, 5000);
	while (take_seg(t))
		;
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 0;
	tfx_poll(t);
	while (take_seg(t))
		;
	expect_state(t, XS_TCP_FIN_WAIT_1);

	/* TIME-WAIT. */
	t->pport = PPORT + 1;
	tfx_active_open(t, NULL);
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 0;
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(0), 0, WND_ANY);
	psend(t, F_FIN | F_ACK, P(0), S(1), NULL, 0);
	expect_ack(t, S(1), P(1));
	expect_state(t, XS_TCP_TIME_WAIT);

	/* LAST-ACK, its FIN unacknowledged. */
	t->pport = PPORT + 2;
	tfx_active_open(t, NULL);
	psend(t, F_FIN | F_ACK, P(0), S(0), NULL, 0);
	expect_ack(t, S(0), P(1));
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	t->nhandles = 0;
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(0), P(1), 0, WND_ANY);
	expect_state(t, XS_TCP_LAST_ACK);

	/* A listener with one unaccepted connection and one half-open; the
	 * listener is aborted last (by the fixture), the others are left. */
	t->pport = PPORT + 3;
	t->lport = LPORT;
	tfx_listen(t, 4);
	o = popts_syn_full(t);
	psyn(t, &o);
	assert_true(take_seg(t));
	t->iss = t->s.seq;
	t->ts = t->ts_on = t->sack = true;
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	pdata(t, 0, 100, S(0));
	expect_state(t, XS_TCP_ESTABLISHED);
	t->pport = PPORT + 4;
	o = popts_syn_full(t);
	psyn(t, &o);
	assert_true(take_seg(t));
	expect_state(t, XS_TCP_SYN_RECEIVED);
	/* Freed with the listener handle released first (see the next test). */
	t->nhandles = 0;
	assert_int_equal(xs_tcp_abort(t->fx.st, t->lh), 0);
	fx_stop(&t->fx);
	tfx_start(t, 1500);
}

/* xs_stack_free must free connections that handles still hold (the daemon
 * exits with its services' listeners and connections open). */
static void test_free_with_open_handles(void **state)
{
	struct tfx *t = *state;

	tfx_passive_open(t, NULL);
	app_send(t, 10);
	/* tcp_fini (user/tcp/tcp_conn.c) frees the connections held only by
	 * handles first, and freeing a connection clears its handle slot, so
	 * no handle is read after its connection is freed. A regression test:
	 * before 04de67a it read every handle's state after freeing the hashed
	 * connections (heap-use-after-free under ASan, "double free or
	 * corruption" without it) at every daemon exit with services running. */
	t->nhandles = 0; /* free with the handles open */
	fx_stop(&t->fx);
	tfx_start(t, 1500);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_free_with_orphans),
	    T(test_free_with_open_handles),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_teardown", tests, NULL, NULL);
}
