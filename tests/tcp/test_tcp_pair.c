/* Two stacks talking TCP over linked mem devices, each wrapped in a seeded
 * fault device, on one virtual clock: bulk transfers under loss, duplication,
 * reordering and corruption, many connections at once, and close/abort torture.
 *
 * Stack A is 10.0.0.1, stack B 10.0.0.2 (/24). Both are polled at the same
 * virtual time, which moves STEP per round while frames are on the way and
 * jumps to the earliest timer of either stack (or of the test's own plan) when
 * nothing is. Data is a seeded pattern: every byte received is compared with
 * what was sent at that offset, and both ends keep an FNV-1a hash. At the end
 * each test runs virtual time past TIME-WAIT and proves both stacks hold no
 * connection and every device frame came home. Fault seeds are fixed; ISNs
 * and ports come from getrandom(), so runs differ only in sequence numbers. */
#include "pair_fixture.h"

/* --- bulk transfer ---------------------------------------------------------- */

struct bulk_case {
	const char *name;
	struct xs_fault_dir tx;  /* applied to what both stacks send */
	struct xs_fault_dir rx;  /* and to what they receive */
	uint64_t bytes;          /* each way */
	xs_time_t limit;         /* virtual time to finish both directions */
	bool expect_recovery;    /* retransmissions and fast/SACK recovery */
	bool expect_rto;
};

static uint64_t stat_sum(const struct pair *p, size_t off)
{
	const struct xs_stats *a = xs_stack_stats(p->st[0]), *b = xs_stack_stats(p->st[1]);

	return *(const uint64_t *)((const char *)a + off) + *(const uint64_t *)((const char *)b + off);
}

#define STAT(p, field) stat_sum(p, offsetof(struct xs_stats, field))

/* idle_ms: tcp_buf_idle_ms (0: default); XS_TCP_BUF_IDLE_NOW frees every
 * buffer at the end of each poll that emptied it, and the run must show
 * they were freed and allocated again. */
static void bulk_idle(const struct bulk_case *bc, int cubic, uint64_t seed, unsigned idle_ms)
{
	struct run *r = calloc(1, sizeof(*r));
	struct xs_fault_config fc[2] = {
	    {.seed = seed, .ipv4_only = 1, .tx = bc->tx, .rx = bc->rx},
	    {.seed = seed ^ 0x5555, .ipv4_only = 1, .tx = bc->tx, .rx = bc->rx},
	};
	const struct xs_fault_stats *fs[2];
	xs_time_t t0;
	uint64_t csum_drops;

	assert_non_null(r);
	pair_start_idle(&r->p, fc, idle_ms);
	r->n = 1;
	conn_init(&r->c[0], seed, bc->bytes, bc->bytes);
	r->c[0].plan[0] = r->c[0].plan[1] = PLAN_GRACEFUL;
	run_open(r, PORT_BULK, cubic);
	t0 = r->p.now;
	run_drive(r, t0 + bc->limit);
	expect_intact(&r->c[0], 0);
	fs[0] = xs_fault_dev_stats(r->p.dev[0]);
	fs[1] = xs_fault_dev_stats(r->p.dev[1]);
	print_message("%s %s: %.3f s virtual, %llu rounds, retransmits %llu, fast %llu, "
		      "sack %llu, rto %llu; faults lost %llu dup %llu corrupt %llu reorder %llu\n",
		      bc->name, cubic ? "cubic" : "newreno", (r->p.now - t0) / 1e9,
		      (unsigned long long)r->p.rounds, (unsigned long long)STAT(&r->p, tcp_retransmits),
		      (unsigned long long)STAT(&r->p, tcp_fast_recovery),
		      (unsigned long long)STAT(&r->p, tcp_sack_recovery),
		      (unsigned long long)STAT(&r->p, tcp_rto_expired),
		      (unsigned long long)(fs[0]->tx_lost + fs[1]->tx_lost + fs[0]->rx_lost +
					   fs[1]->rx_lost),
		      (unsigned long long)(fs[0]->tx_duplicated + fs[1]->tx_duplicated +
					   fs[0]->rx_duplicated + fs[1]->rx_duplicated),
		      (unsigned long long)(fs[0]->tx_corrupted + fs[1]->tx_corrupted +
					   fs[0]->rx_corrupted + fs[1]->rx_corrupted),
		      (unsigned long long)(fs[0]->tx_reordered + fs[1]->tx_reordered +
					   fs[0]->rx_reordered + fs[1]->rx_reordered));
	/* The faults really happened. */
	if (bc->tx.loss)
		assert_true(fs[0]->tx_lost && fs[1]->tx_lost);
	if (bc->tx.dup)
		assert_true(fs[0]->tx_duplicated && fs[1]->tx_duplicated);
	if (bc->tx.reorder)
		assert_true(fs[0]->tx_reordered && fs[1]->tx_reordered);
	csum_drops = 0;
	for (int s = 0; s < 2; s++) {
		const struct xs_stats *st = xs_stack_stats(r->p.st[s]);

		csum_drops += st->drop[XS_DROP_IP_CSUM] + st->drop[XS_DROP_TCP_CSUM];
	}
	if (bc->rx.loss)
		assert_true(fs[0]->rx_lost && fs[1]->rx_lost);
	if (bc->rx.reorder)
		assert_true(fs[0]->rx_reordered && fs[1]->rx_reordered);
	if (bc->rx.dup)
		assert_true(fs[0]->rx_duplicated && fs[1]->rx_duplicated);
	if (bc->tx.corrupt) {
		/* Bit flips in the IP and TCP bytes are all caught (flips in
		 * the Ethernet header fail the MAC or type checks instead). */
		assert_true(fs[0]->tx_corrupted && fs[1]->tx_corrupted);
		assert_true(csum_drops > 0);
	} else {
		assert_int_equal(csum_drops, 0);
	}
	if (bc->expect_recovery) {
		assert_true(STAT(&r->p, tcp_retransmits) > 0);
		assert_true(STAT(&r->p, tcp_fast_recovery) + STAT(&r->p, tcp_sack_recovery) > 0);
	}
	if (bc->expect_rto)
		assert_true(STAT(&r->p, tcp_rto_expired) > 0);
	if (idle_ms == XS_TCP_BUF_IDLE_NOW) {
		print_message("  buffers: %llu allocated, %llu released, %llu ooo sets, %llu "
			      "RACK releases\n",
			      (unsigned long long)STAT(&r->p, tcp_buf_alloc),
			      (unsigned long long)STAT(&r->p, tcp_buf_released),
			      (unsigned long long)STAT(&r->p, tcp_ooo_alloc),
			      (unsigned long long)STAT(&r->p, tcp_rack_released));
		/* 4 rings at first use; more means some came back. */
		assert_true(STAT(&r->p, tcp_buf_released) > 0);
		assert_true(STAT(&r->p, tcp_buf_alloc) > 4);
		assert_int_equal(STAT(&r->p, drop[XS_DROP_TCP_BUF_ALLOC]), 0);
	}
	if (!bc->tx.loss && !bc->tx.corrupt && !bc->tx.dup && !bc->tx.reorder && !bc->rx.loss &&
	    !bc->rx.dup && !bc->rx.reorder && !bc->rx.corrupt) {
		/* A clean link: nothing to repair. */
		assert_int_equal(STAT(&r->p, tcp_retransmits), 0);
		assert_int_equal(STAT(&r->p, tcp_rto_expired), 0);
	}
	run_close_listener(r);
	pair_stop(&r->p);
	free(r);
}

static void bulk(const struct bulk_case *bc, int cubic, uint64_t seed)
{
	bulk_idle(bc, cubic, seed, 0);
}

static const struct bulk_case clean_4m = {"clean 4 MiB", {0}, {0}, 4u << 20, XS_SEC(2), false,
					  false};
static const struct bulk_case loss1 = {"loss 1%", {.loss = 10}, {0}, 1u << 20, XS_SEC(10), true,
				       false};
static const struct bulk_case loss5 = {"loss 5%", {.loss = 50}, {0}, 1u << 20, XS_SEC(30), true,
				       false};
static const struct bulk_case loss20 = {"loss 20%", {.loss = 200}, {0}, 1u << 20, XS_SEC(300),
					true, true};
static const struct bulk_case dup5 = {"dup 5%", {.dup = 50}, {0}, 1u << 20, XS_SEC(5), false,
				      false};
static const struct bulk_case reorder2 = {"reorder 2%", {.reorder = 20}, {0}, 1u << 20,
					  XS_SEC(10), false, false};
static const struct bulk_case corrupt1 = {"corrupt 1%", {.corrupt = 10}, {0}, 1u << 20,
					  XS_SEC(10), true, false};
/* Faults on both sides of each device: received frames lost, reordered
 * (deeper) and duplicated, sent frames corrupted and duplicated. */
static const struct bulk_case mixed = {"mixed rx+tx", {.dup = 10, .corrupt = 5},
				       {.loss = 20, .reorder = 20, .reorder_depth = 6, .dup = 10},
				       1u << 20, XS_SEC(30), true, false};

static void test_clean_4m_newreno(void **state)
{
	(void)state;
	bulk(&clean_4m, 0, 1);
}

static void test_clean_4m_cubic(void **state)
{
	(void)state;
	bulk(&clean_4m, 1, 2);
}

static unsigned extra_seeds(void);

static void bulk_seeds(const struct bulk_case *bc, int cubic, uint64_t seed)
{
	unsigned i;

	bulk(bc, cubic, seed);
	for (i = 0; i < extra_seeds(); i++)
		bulk(bc, cubic, seed * 1000 + i);
}

#define BULK_TEST(name, kase, seed)                                                              \
	static void test_##name##_newreno(void **state)                                          \
	{                                                                                        \
		(void)state;                                                                     \
		bulk_seeds(&kase, 0, seed);                                                      \
	}                                                                                        \
	static void test_##name##_cubic(void **state)                                            \
	{                                                                                        \
		(void)state;                                                                     \
		bulk_seeds(&kase, 1, seed + 100);                                                \
	}

BULK_TEST(loss1, loss1, 11)
BULK_TEST(loss5, loss5, 12)
BULK_TEST(loss20, loss20, 13)
BULK_TEST(dup5, dup5, 14)
BULK_TEST(reorder2, reorder2, 15)
BULK_TEST(corrupt1, corrupt1, 16)
BULK_TEST(mixed, mixed, 17)

/* The same faults with every buffer freed as soon as a poll leaves it empty
 * (the application read all, all was acknowledged) and allocated again by
 * the next byte: data still intact. */
#define BULK_IDLE_TEST(name, kase, seed)                                                         \
	static void test_##name##_idle(void **state)                                             \
	{                                                                                        \
		(void)state;                                                                     \
		bulk_idle(&kase, 1, seed, XS_TCP_BUF_IDLE_NOW);                                                 \
	}

BULK_IDLE_TEST(loss5, loss5, 41)
BULK_IDLE_TEST(dup5, dup5, 42)
BULK_IDLE_TEST(reorder2, reorder2, 43)
BULK_IDLE_TEST(mixed, mixed, 44)

/* --- windows after the handshake ------------------------------------------------ */

/* Each side offers its whole buffer after the handshake and learns the
 * other's offer. Once the active opener's advertised edge stayed at 0 from
 * calloc: when 0 lay "after" RCV.NXT (half of all peer ISNs) the offered
 * window was taken as 0 - RCV.NXT and announced truncated to 16 bits, and
 * transfers stalled. 64 connections make missing such a bug 2^-64 likely. */
static void test_windows_after_handshake(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	struct xs_fault_config fc[2] = {{.seed = 41, .ipv4_only = 1}, {.seed = 42, .ipv4_only = 1}};
	struct xs_tcp_info ia, ib;
	int i, s, bad = 0;

	(void)state;
	assert_non_null(r);
	pair_start(&r->p, fc);
	r->n = 64;
	for (i = 0; i < r->n; i++)
		conn_init(&r->c[i], (uint64_t)i, 0, 0);
	run_open(r, PORT_MANY, 1);
	while (r->accepted < r->n && r->p.now < XS_SEC(5)) {
		pair_poll(&r->p);
		run_accept(r);
		pair_advance(&r->p);
	}
	assert_int_equal(r->accepted, r->n);
	/* Let the last ACKs land. */
	for (i = 0; i < 4; i++) {
		pair_poll(&r->p);
		r->p.now += STEP;
	}
	for (i = 0; i < r->n; i++) {
		assert_int_equal(xs_tcp_get_info(r->p.st[0], r->c[i].h[0], &ia), 0);
		assert_int_equal(xs_tcp_get_info(r->p.st[1], r->c[i].h[1], &ib), 0);
		assert_int_equal(ia.state, XS_TCP_ESTABLISHED);
		assert_int_equal(ib.state, XS_TCP_ESTABLISHED);
		/* Both offer their whole (256 KiB) buffer and each learned the
		 * other's offer: nothing is buffered yet. */
		if (ia.rcv_wnd > 262144 || ib.rcv_wnd > 262144 || ia.snd_wnd < 65535 ||
		    ib.snd_wnd < 65535) {
			if (!bad++)
				print_message("conn %d: A rcv_wnd %u snd_wnd %u, B rcv_wnd %u "
					      "snd_wnd %u\n",
					      i, ia.rcv_wnd, ia.snd_wnd, ib.rcv_wnd, ib.snd_wnd);
		}
	}
	if (bad)
		fail_msg("%d of %d connections announce a wrong window", bad, r->n);
	for (i = 0; i < r->n; i++)
		for (s = 0; s < 2; s++)
			conn_release(&r->p, &r->c[i], s, false);
	run_close_listener(r);
	pair_stop(&r->p);
	free(r);
}

/* --- the passive side closes last ----------------------------------------------- */

/* The ACK of our FIN in LAST-ACK, once the application has closed, ends the
 * connection inside ACK processing; nothing may touch the TCB after that (a
 * heap-use-after-free here once, caught by make SAN=1). Every connection whose
 * application closes after reading EOF ends this way. */
static void test_close_after_eof(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	struct xs_fault_config fc[2] = {{.seed = 61, .ipv4_only = 1}, {.seed = 62, .ipv4_only = 1}};
	int i;

	(void)state;
	assert_non_null(r);
	pair_start(&r->p, fc);
	r->n = 8;
	for (i = 0; i < r->n; i++) {
		/* A sends a little and closes first; B reads to EOF, then closes:
		 * B's connection waits in LAST-ACK with no handle. */
		conn_init(&r->c[i], (uint64_t)i, 100, 0);
		r->c[i].plan[0] = PLAN_GRACEFUL;
		r->c[i].plan[1] = PLAN_IDLE_CLOSE;
		r->c[i].at[1] = r->p.now + XS_MS(50);
	}
	run_open(r, PORT_MANY, 0);
	run_drive(r, r->p.now + XS_SEC(5));
	for (i = 0; i < r->n; i++)
		expect_intact(&r->c[i], i);
	run_close_listener(r);
	pair_stop(&r->p);
	free(r);
}

/* --- freeing a stack that still has connections ------------------------------ */

/* A stack freed with connections, handles and a listener still open (a daemon
 * exiting with clients connected) frees each TCB once: tcp_fini once read the
 * handle table after freeing its connections (a use-after-free under make
 * SAN=1, "double free" in the plain build). */
static void test_free_with_open_connections(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	struct xs_fault_config fc[2] = {{.seed = 51, .ipv4_only = 1}, {.seed = 52, .ipv4_only = 1}};
	int i;

	(void)state;
	assert_non_null(r);
	pair_start(&r->p, fc);
	r->n = 4;
	for (i = 0; i < r->n; i++)
		conn_init(&r->c[i], (uint64_t)i, 5000, 5000);
	run_open(r, PORT_MANY, 1);
	while (r->accepted < r->n && r->p.now < XS_SEC(5)) {
		pair_poll(&r->p);
		run_accept(r);
		pair_advance(&r->p);
	}
	assert_int_equal(r->accepted, r->n);
	/* Some data in flight and in buffers, one side half closed. */
	for (i = 0; i < r->n; i++) {
		conn_send(&r->p, &r->c[i], 0, 5000);
		conn_send(&r->p, &r->c[i], 1, 5000);
	}
	assert_int_equal(xs_tcp_shutdown(r->p.st[0], r->c[0].h[0]), 0);
	pair_poll(&r->p);
	/* Handles, listener and all: the stacks free everything. */
	for (i = 0; i < 2; i++)
		xs_stack_free(r->p.st[i]);
	for (i = 0; i < 2; i++)
		xs_dev_free(r->p.dev[i]);
	free(r);
}

/* --- many connections at once ----------------------------------------------- */

static void many_connections(unsigned idle_ms)
{
	struct run *r = calloc(1, sizeof(*r));
	struct xs_fault_config fc[2] = {{.seed = 21, .ipv4_only = 1}, {.seed = 22, .ipv4_only = 1}};
	uint64_t seed = 0x100;
	int i;

	assert_non_null(r);
	pair_start_idle(&r->p, fc, idle_ms);
	r->n = 100;
	for (i = 0; i < r->n; i++) {
		conn_init(&r->c[i], seed + (uint64_t)i, 1 + mix64(seed + 2 * i) % 32768,
			  1 + mix64(seed + 2 * i + 1) % 32768);
		r->c[i].plan[0] = r->c[i].plan[1] = PLAN_GRACEFUL;
	}
	run_open(r, PORT_MANY, 1);
	run_drive(r, r->p.now + XS_SEC(5));
	assert_int_equal(r->accepted, r->n);
	for (i = 0; i < r->n; i++)
		expect_intact(&r->c[i], i);
	dump_drops(&r->p);
	assert_int_equal(STAT(&r->p, tcp_retransmits), 0);
	assert_int_equal(xs_stack_stats(r->p.st[0])->tcp_active_opens, 100);
	assert_int_equal(xs_stack_stats(r->p.st[1])->tcp_passive_opens, 100);
	if (idle_ms == XS_TCP_BUF_IDLE_NOW) {
		assert_true(STAT(&r->p, tcp_buf_released) > 0);
		assert_true(STAT(&r->p, tcp_buf_alloc) > 200);
	}
	run_close_listener(r);
	pair_stop(&r->p);
	free(r);
}

static void test_100_connections(void **state)
{
	(void)state;
	many_connections(0);
}

static void test_100_connections_idle(void **state)
{
	(void)state;
	many_connections(XS_TCP_BUF_IDLE_NOW);
}

/* --- close / abort / shutdown torture ------------------------------------------- */

static void torture_idle(uint64_t seed, const struct xs_fault_dir *faults, int nconns,
			 xs_time_t close_listener_after, unsigned idle_ms)
{
	struct run *r = calloc(1, sizeof(*r));
	struct xs_fault_config fc[2] = {
	    {.seed = seed, .ipv4_only = 1, .tx = *faults},
	    {.seed = seed + 1, .ipv4_only = 1, .tx = *faults},
	};
	unsigned plans[PLAN_MAX][PLAN_MAX] = {{0}};
	int i, s, complete = 0, timeouts = 0;

	assert_non_null(r);
	pair_start_idle(&r->p, fc, idle_ms);
	r->n = nconns;
	for (i = 0; i < r->n; i++) {
		uint64_t z = mix64(seed * 1000 + (uint64_t)i);
		struct conn *c = &r->c[i];

		conn_init(c, z, z % 3 ? (z >> 8) % 40000 : 0, (z >> 24) % 3 ? (z >> 32) % 40000 : 0);
		for (s = 0; s < 2; s++) {
			uint64_t y = mix64(z + (uint64_t)s + 7);

			c->plan[s] = (enum plan)(y % PLAN_MAX);
			c->cut[s] = c->f[s].len ? (y >> 8) % (c->f[s].len + 1) : 0;
			/* The final action within 0..200 ms of the start. */
			c->at[s] = r->p.now + ((y >> 32) % 2000) * STEP;
		}
		c->deadline = r->p.now + XS_SEC(60);
		plans[c->plan[0]][c->plan[1]]++;
	}
	run_open(r, PORT_TORTURE, (int)(seed & 1));
	if (close_listener_after)
		r->close_listener_at = r->p.now + close_listener_after;
	run_drive(r, r->p.now + XS_SEC(600));
	for (i = 0; i < r->n; i++) {
		struct conn *c = &r->c[i];

		/* Whatever arrived is what was sent, in order. */
		for (s = 0; s < 2; s++) {
			if (c->f[s].bad_at)
				fail_msg("conn %d (plans %d/%d), %c->%c: byte %llu differs", i,
					 c->plan[0], c->plan[1], 'A' + s, 'B' - s,
					 (unsigned long long)c->f[s].bad_at - 1);
			assert_true(c->f[s].rcvd <= c->f[s].sent);
		}
		for (s = 0; s < 2; s++) {
			/* End of stream means the peer's FIN, which follows
			 * every byte the peer queued before it. */
			if (c->eof[s] && c->f[!s].rcvd != c->f[!s].sent)
				fail_msg("conn %d (plans %d/%d): %c saw EOF after %llu of %llu bytes",
					 i, c->plan[0], c->plan[1], 'A' + s,
					 (unsigned long long)c->f[!s].rcvd,
					 (unsigned long long)c->f[!s].sent);
			/* The errors a peer's abort or a dead link can cause. */
			if (c->err[s] && c->err[s] != -ECONNRESET && c->err[s] != -EPIPE &&
			    c->err[s] != -ETIMEDOUT &&
			    !(c->err[s] == -ECONNREFUSED && close_listener_after && s == 0))
				fail_msg("conn %d (plans %d/%d): %c error %d", i, c->plan[0],
					 c->plan[1], 'A' + s, c->err[s]);
		}
		timeouts += c->timed_out[0] + c->timed_out[1];
		if (c->plan[0] == PLAN_GRACEFUL && c->plan[1] == PLAN_GRACEFUL &&
		    !c->never_accepted && !close_listener_after) {
			expect_intact(c, i);
			complete++;
		}
	}
	print_message("torture seed %llu: %d connections (%d both graceful), %d application "
		      "timeouts, %.3f s virtual\n",
		      (unsigned long long)seed, r->n, complete, timeouts, r->p.now / 1e9);
	if (!faults->loss)
		assert_int_equal(timeouts, 0);
	/* Every plan met every other (fixed seeds: a property of the seed). */
	for (i = 0; i < PLAN_MAX; i++)
		for (s = 0; s < PLAN_MAX; s++)
			if (!plans[i][s])
				print_message("torture seed %llu: plans %d/%d never paired\n",
					      (unsigned long long)seed, i, s);
	run_close_listener(r);
	pair_stop(&r->p);
	free(r);
}

static void torture(uint64_t seed, const struct xs_fault_dir *faults, int nconns,
		    xs_time_t close_listener_after)
{
	torture_idle(seed, faults, nconns, close_listener_after, 0);
}

/* XS_PAIR_SEEDS=N in the environment runs N more seeds (a longer hunt). */
static unsigned extra_seeds(void)
{
	const char *e = getenv("XS_PAIR_SEEDS");

	return e ? (unsigned)strtoul(e, NULL, 10) : 0;
}

static void test_torture_clean(void **state)
{
	static const struct xs_fault_dir none;
	unsigned i;

	(void)state;
	torture(31, &none, 120, 0);
	for (i = 0; i < extra_seeds(); i++)
		torture(1000 + 2 * i, &none, 120, 0);
}

static void test_torture_lossy(void **state)
{
	static const struct xs_fault_dir lossy = {.loss = 30, .dup = 10, .reorder = 10};
	unsigned i;

	(void)state;
	torture(32, &lossy, 120, 0);
	for (i = 0; i < extra_seeds(); i++)
		torture(1001 + 2 * i, &lossy, 120, 0);
}

/* Lossy torture with every buffer freed as soon as a poll leaves it empty. */
static void test_torture_lossy_idle(void **state)
{
	static const struct xs_fault_dir lossy = {.loss = 30, .dup = 10, .reorder = 10};

	(void)state;
	torture_idle(34, &lossy, 120, 0, XS_TCP_BUF_IDLE_NOW);
}

/* B closes its listener while connections are still arriving: the queued
 * ones are reset, the rest are refused; nothing may be left behind. */
static void test_torture_listener_closes(void **state)
{
	static const struct xs_fault_dir lossy = {.loss = 20};
	unsigned i;

	(void)state;
	torture(33, &lossy, 120, XS_MS(1) / 2);
	for (i = 0; i < extra_seeds(); i++)
		torture(5001 + i, &lossy, 120, XS_MS(1) / 10 * (1 + i % 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_4m_newreno),
	    cmocka_unit_test(test_clean_4m_cubic),
	    cmocka_unit_test(test_loss1_newreno),
	    cmocka_unit_test(test_loss1_cubic),
	    cmocka_unit_test(test_loss5_newreno),
	    cmocka_unit_test(test_loss5_cubic),
	    cmocka_unit_test(test_loss20_newreno),
	    cmocka_unit_test(test_loss20_cubic),
	    cmocka_unit_test(test_dup5_newreno),
	    cmocka_unit_test(test_dup5_cubic),
	    cmocka_unit_test(test_reorder2_newreno),
	    cmocka_unit_test(test_reorder2_cubic),
	    cmocka_unit_test(test_corrupt1_newreno),
	    cmocka_unit_test(test_corrupt1_cubic),
	    cmocka_unit_test(test_mixed_newreno),
	    cmocka_unit_test(test_mixed_cubic),
	    cmocka_unit_test(test_loss5_idle),
	    cmocka_unit_test(test_dup5_idle),
	    cmocka_unit_test(test_reorder2_idle),
	    cmocka_unit_test(test_mixed_idle),
	    cmocka_unit_test(test_windows_after_handshake),
	    cmocka_unit_test(test_close_after_eof),
	    cmocka_unit_test(test_100_connections),
	    cmocka_unit_test(test_100_connections_idle),
	    cmocka_unit_test(test_torture_clean),
	    cmocka_unit_test(test_torture_lossy),
	    cmocka_unit_test(test_torture_lossy_idle),
	    cmocka_unit_test(test_torture_listener_closes),
	    /* Last: a use-after-free here would end the whole run under ASan. */
	    cmocka_unit_test(test_free_with_open_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
