/* Scripted TCP conversations against the resource budgets: zero-window orphans
 * (sockstress), tcp_max_orphans, the orphans' memory, tcp_mem pressure and its high limit. */
#include "tcp_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/stack.h"
#include "tcp/tcp.h"

#define ZW_DATA 20000 /* what the application leaves in the send buffer */

static const struct xs_stats *stats(struct tfx *t)
{
	return xs_stack_stats(t->fx.st);
}

/* A passive open on peer port pport; the peer then closes its window, the
 * application queues ZW_DATA bytes (nothing can leave), the peer sends its
 * FIN. If close_it, the application reads the EOF and closes: LAST-ACK, an
 * orphan holding its send buffer. */
static void zero_window_fin(struct tfx *t, uint16_t pport, bool close_it)
{
	char b[8];

	t->pport = pport;
	t->pwnd = 1024;
	tfx_passive_open(t, NULL);
	t->pwnd = 0;
	psend(t, F_ACK, P(0), S(0), NULL, 0);
	expect_nothing(t);
	assert_int_equal(conn_info(t).snd_wnd, 0);
	app_send(t, ZW_DATA);
	expect_nothing(t);
	psend(t, F_FIN | F_ACK, P(0), S(0), NULL, 0);
	expect_ack(t, S(0), P(1));
	expect_state(t, XS_TCP_CLOSE_WAIT);
	if (!close_it)
		return;
	assert_int_equal(xs_tcp_recv(t->fx.st, t->h, b, sizeof(b)), 0);
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	tfx_poll(t);
}

/* Runs the clock in 50 ms steps up to limit, the peer answering every
 * zero-window probe with a zero window (counted in probes). Returns the time
 * of the RST that ends it, or 0 if none came. */
static xs_time_t answer_probes(struct tfx *t, xs_time_t limit, unsigned *probes)
{
	*probes = 0;
	while (t->fx.now < limit) {
		tfx_run(t, XS_MS(50));
		while (take_seg(t)) {
			if (t->s.flags & F_RST)
				return t->fx.now;
			/* A probe: <SEQ=SND.UNA-1>, no data. */
			assert_int_equal(t->s.seq, S(0) - 1);
			assert_int_equal(t->s.len, 0);
			(*probes)++;
			psend(t, F_ACK, P(1), S(0), NULL, 0);
		}
	}
	return 0;
}

static xs_time_t answer_probes_until_rst(struct tfx *t, xs_time_t limit, unsigned *probes)
{
	xs_time_t rst = answer_probes(t, limit, probes);

	if (!rst)
		fail_msg("no RST within %llu ms", (unsigned long long)(limit / XS_NSEC_PER_MS));
	return rst;
}

/* The sockstress case: zero window, FIN, the application closes. Every
 * probe is answered (which once reset the probe count, keeping the orphan
 * in LAST-ACK for ever); the zero-window span ends it all the same. */
static void test_orphan_zero_window_span(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	xs_time_t t0, rst;
	unsigned probes;

	cfg.tcp_persist_span_ms = 10000;
	cfg.tcp_orphan_retries = 255; /* only the span acts here */
	tfx_restart_cfg(t, 1500, &cfg);
	zero_window_fin(t, PPORT, true);
	expect_state(t, XS_TCP_LAST_ACK);
	assert_int_equal(stats(t)->tcp_orphans, 1);
	t0 = t->fx.now;
	rst = answer_probes_until_rst(t, t0 + XS_SEC(120), &probes);
	/* Probes at 0.2, 0.6, 1.4, 3.0, 6.2 s, then 12.6 s: the first one past
	 * 10 s after the first probe is a RST instead. */
	assert_true(probes >= 5);
	assert_true(rst >= t0 + XS_MS(200) + XS_SEC(10));
	assert_true(rst <= t0 + XS_MS(12700));
	/* RST at SND.NXT: no byte ever left. */
	assert_int_equal(t->s.seq, S(0));
	assert_int_equal(conn_state(t), -1);
	assert_int_equal(stats(t)->tcp_persist_aborts, 1);
	assert_int_equal(stats(t)->tcp_orphans, 0);
	expect_nothing(t);
}

/* The same connection held by the application: RFC 9293 3.8.6.1 (MUST-37)
 * keeps it open while the peer answers the probes, span or not. */
static void test_held_zero_window_stays_open(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	unsigned probes;

	cfg.tcp_persist_span_ms = 5000;
	tfx_restart_cfg(t, 1500, &cfg);
	zero_window_fin(t, PPORT, false);
	assert_int_equal(answer_probes(t, t->fx.now + XS_SEC(60), &probes), 0);
	assert_true(probes >= 4);
	expect_state(t, XS_TCP_CLOSE_WAIT);
	assert_false(t->events & XS_EV_ERROR);
	assert_int_equal(stats(t)->tcp_persist_aborts, 0);
}

/* Under memory pressure the span applies to it too (RFC 6429: closing a
 * connection in the persist condition to manage resources), and the
 * application learns -ETIMEDOUT. */
static void test_held_zero_window_span_under_pressure(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	xs_time_t t0, rst;
	unsigned probes;

	cfg.tcp_persist_span_ms = 5000;
	cfg.tcp_mem[0] = 4096;
	cfg.tcp_mem[1] = 8192;
	cfg.tcp_mem[2] = 1ull << 30;
	tfx_restart_cfg(t, 1500, &cfg);
	zero_window_fin(t, PPORT, false);
	t0 = t->fx.now;
	rst = answer_probes_until_rst(t, t0 + XS_SEC(60), &probes);
	assert_true(stats(t)->tcp_mem_pressure >= 1);
	assert_true(probes >= 4);
	assert_true(rst >= t0 + XS_MS(5200));
	assert_true(t->events & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->fx.st, t->h), -ETIMEDOUT);
	assert_int_equal(stats(t)->tcp_persist_aborts, 1);
}

/* tcp_orphan_retries: an orphan gets that many probes without progress,
 * answered or not (Linux's tcp_orphan_retries, counted in tcp_orphan_timeouts). */
static void test_orphan_retries(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	xs_time_t t0, rst;
	unsigned probes;

	cfg.tcp_orphan_retries = 3;
	tfx_restart_cfg(t, 1500, &cfg);
	zero_window_fin(t, PPORT, true);
	t0 = t->fx.now;
	rst = answer_probes_until_rst(t, t0 + XS_SEC(120), &probes);
	/* Probes at 0.2, 0.6, 1.4 s; the fourth round (3.0 s) resets. */
	assert_int_equal(probes, 3);
	assert_true(rst >= t0 + XS_MS(3000) && rst < t0 + XS_MS(3100));
	assert_int_equal(stats(t)->tcp_orphan_timeouts, 1);
	assert_int_equal(stats(t)->tcp_persist_aborts, 0);
	assert_int_equal(conn_state(t), -1);
}

/* tcp_max_orphans: the third orphan is one too many; its close resets. */
static void test_orphan_count_cap(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	unsigned i;

	cfg.tcp_max_orphans = 2;
	tfx_restart_cfg(t, 1500, &cfg);
	for (i = 0; i < 2; i++) {
		zero_window_fin(t, (uint16_t)(PPORT + i), true);
		expect_nothing(t);
		expect_state(t, XS_TCP_LAST_ACK);
	}
	assert_int_equal(stats(t)->tcp_orphans, 2);
	zero_window_fin(t, PPORT + 2, true);
	expect_seg(t, F_RST | F_ACK, S(0), P(1), 0, WND_ANY);
	expect_nothing(t);
	assert_int_equal(conn_state(t), -1);
	assert_int_equal(stats(t)->tcp_orphan_overflow, 1);
	assert_int_equal(stats(t)->tcp_orphans, 2);
	/* The two orphans are still there. */
	t->pport = PPORT;
	expect_state(t, XS_TCP_LAST_ACK);
	t->pport = PPORT + 1;
	expect_state(t, XS_TCP_LAST_ACK);
}

/* tcp_orphan_mem: orphans may hold so many bytes in all. Each holds its
 * send ring (256 KiB); its receive ring is freed once the FIN came. */
static void test_orphan_mem_cap(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	uint64_t one;

	cfg.tcp_orphan_mem = 400 << 10;
	tfx_restart_cfg(t, 1500, &cfg);
	zero_window_fin(t, PPORT, true);
	expect_state(t, XS_TCP_LAST_ACK);
	/* The orphan holds its send ring and TCB, no receive ring. */
	one = stats(t)->tcp_mem_bytes;
	assert_true(one >= 256 << 10 && one < (256 << 10) + 8192);
	zero_window_fin(t, PPORT + 1, true);
	expect_seg(t, F_RST | F_ACK, S(0), P(1), 0, WND_ANY);
	assert_int_equal(stats(t)->tcp_orphan_mem_overflow, 1);
	assert_int_equal(stats(t)->tcp_orphans, 1);
	tfx_poll(t); /* the reset one is freed at the end of the poll */
	assert_int_equal(stats(t)->tcp_mem_bytes, one);
}

/* A connection whose application holds unread data: it cannot shrink. */
static void busy_conn(struct tfx *t, uint16_t pport)
{
	t->pport = pport;
	tfx_passive_open(t, NULL);
	pdata(t, 0, 1000, S(0));
	tfx_run(t, XS_MS(50)); /* the delayed ACK */
	expect_ack(t, S(0), P(1000));
}

/* A connection that used both rings, now empty (allocated until
 * tcp_buf_idle_ms passes): 1000 bytes each way, all ACKed and read. */
static void used_conn(struct tfx *t, uint16_t pport)
{
	t->pport = pport;
	tfx_passive_open(t, NULL);
	pdata(t, 0, 1000, S(0));
	app_recv(t, 0, 1000);
	while (take_seg(t)) /* a window update, maybe */
		assert_int_equal(t->s.len, 0);
	app_send(t, 1000); /* carries the ACK */
	expect_seg(t, F_ACK | F_PSH, S(0), P(1000), 1000, WND_ANY);
	psend(t, F_ACK, P(1000), S(1000), NULL, 0);
	expect_nothing(t);
}

/* tcp_mem pressure: above the pressure mark, empty rings shrink at the next
 * tick (send rings to 16 KiB; receive rings as far as the window they
 * offered allows) and new connections get
 * small ones; below the low mark the pressure ends. (Empty rings are freed
 * after tcp_buf_idle_ms anyway: a long one here, so pressure acts first.) */
static void test_mem_pressure(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	uint64_t before;

	cfg.tcp_mem[0] = 700 << 10;
	cfg.tcp_mem[1] = 1200 << 10;
	cfg.tcp_mem[2] = 64 << 20;
	cfg.tcp_buf_idle_ms = 60000;
	tfx_restart_cfg(t, 1500, &cfg);
	busy_conn(t, PPORT);
	busy_conn(t, PPORT + 1);
	used_conn(t, PPORT + 2);
	assert_int_equal(stats(t)->tcp_mem_pressure, 0);
	/* A fourth that used its rings: past 1200 KiB. */
	used_conn(t, PPORT + 3);
	assert_int_equal(stats(t)->tcp_mem_pressure, 1);
	before = stats(t)->tcp_mem_bytes;
	assert_true(before > 1200 << 10);
	tfx_run(t, XS_MS(200)); /* a tick */
	/* The third's send ring 256 -> 16 KiB (the fourth's came at 16 KiB:
	 * it was allocated under pressure). Receive rings that offered their
	 * whole window after the read stay. */
	assert_int_equal(stats(t)->tcp_mem_shrunk, 1);
	assert_true(stats(t)->tcp_mem_bytes <= before - (240 << 10));
	assert_true(stats(t)->tcp_mem_bytes > 700 << 10);
	/* Still above 700 KiB: under pressure, a new connection offers a
	 * window of TCP_PRESSURE_BUF (16 KiB) in its SYN-ACK, not 65535. */
	t->pport = PPORT + 4;
	tfx_passive_open(t, NULL);
	assert_int_equal(t->s.wnd, 16384);
	/* The shrunk connection still works: data both ways. */
	app_send(t, 2896);
	expect_seg(t, F_ACK, S(0), P(0), 1448, WND_ANY);
	expect_seg(t, F_ACK | F_PSH, S(1448), P(0), 1448, WND_ANY);
	psend(t, F_ACK, P(0), S(2896), NULL, 0);
	pdata(t, 0, 1000, S(2896));
	app_recv(t, 0, 1000);
	/* The busy ones offered their whole window: their receive rings stay.
	 * Their application aborts them: the pressure ends below 700 KiB. */
	tfx_run(t, XS_MS(200));
	while (take_seg(t)) /* the last connection's delayed ACK */
		;
	assert_int_equal(stats(t)->tcp_mem_shrunk, 1);
	assert_true(stats(t)->tcp_mem_bytes > 700 << 10);
	for (unsigned i = 0; i < 2; i++) {
		t->pport = (uint16_t)(PPORT + i);
		t->ts_known = false; /* its own TS offset */
		assert_int_equal(xs_tcp_abort(t->fx.st, t->handles[1 + i]), 0);
		tfx_poll(t);
		assert_true(take_seg(t));
		assert_int_equal(t->s.flags, F_RST | F_ACK);
	}
	assert_true(stats(t)->tcp_mem_bytes < 700 << 10);
	t->pport = PPORT + 5;
	tfx_passive_open(t, NULL);
	assert_int_equal(t->s.wnd, 65535);
	assert_int_equal(stats(t)->tcp_mem_pressure, 1);
}

/* Above the high mark new connections are refused: a SYN gets nothing (and
 * is counted), a connect fails with -ENOBUFS. A connection admitted before
 * still works: its receive ring is allocated (its window was offered), a
 * first send gets the smallest ring (counted). Once memory falls they work. */
static void test_mem_high_refuses(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	cfg.tcp_mem[0] = 100 << 10;
	cfg.tcp_mem[1] = 150 << 10;
	cfg.tcp_mem[2] = 200 << 10;
	tfx_restart_cfg(t, 1500, &cfg);
	busy_conn(t, PPORT);
	assert_true(stats(t)->tcp_mem_bytes > 200 << 10);
	assert_int_equal(xs_tcp_send(t->fx.st, t->h, t->out, 5000), 4096);
	t->sent = 4096;
	assert_int_equal(stats(t)->tcp_buf_clamped, 1);
	tfx_poll(t);
	assert_int_equal(peer_ack_all(t, P(1000)), S(4096));

	t->pport = PPORT + 1;
	{
		struct popts o = popts_syn_full(t);

		psyn(t, &o);
	}
	expect_nothing(t);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_MEM], 1);
	assert_int_equal(xs_tcp_connect(t->fx.st, PEER_IP, 5000).id, -ENOBUFS);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_MEM], 2);
	/* The busy connection is closed (it had unread data: a reset). */
	t->pport = PPORT;
	t->ts_known = false;
	assert_int_equal(xs_tcp_close(t->fx.st, t->handles[1]), 0);
	tfx_poll(t);
	expect_seg(t, F_RST | F_ACK, S(4096), P(1000), 0, WND_ANY);
	assert_true(stats(t)->tcp_mem_bytes < 100 << 10);
	t->pport = PPORT + 2;
	tfx_passive_open(t, NULL);
	expect_state(t, XS_TCP_ESTABLISHED);
}

/* Above the high mark orphans go (Linux's tcp_check_oom, counted in
 * tcp_mem_aborts): one already orphaned is reset at its next timer round
 * instead of probing, and a connection closed then is reset at once instead
 * of becoming one. The orphan caps themselves are far away here. */
static void test_mem_high_aborts_orphans(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	uint8_t f[FRAME_MAX];
	uint32_t a_iss, b_iss;
	struct tseg s, a_rst = {0};
	unsigned b_probes = 0;
	size_t n;
	char b[8];

	cfg.tcp_mem[0] = 300 << 10;
	cfg.tcp_mem[1] = 390 << 10;
	cfg.tcp_mem[2] = 400 << 10;
	tfx_restart_cfg(t, 1500, &cfg);
	/* A: an orphan in LAST-ACK holding its 256 KiB send ring, below every mark. */
	zero_window_fin(t, PPORT, true);
	expect_state(t, XS_TCP_LAST_ACK);
	a_iss = t->iss;
	assert_int_equal(stats(t)->tcp_orphans, 1);
	assert_int_equal(stats(t)->tcp_mem_pressure, 0);
	/* B: the same held by its application, its ring past the high mark. */
	zero_window_fin(t, PPORT + 1, false);
	b_iss = t->iss;
	assert_true(stats(t)->tcp_mem_bytes > cfg.tcp_mem[2]);
	/* The first persist round: A resets, B (not an orphan) probes. */
	while (!a_rst.flags && t->fx.now < XS_SEC(2)) {
		tfx_run(t, XS_MS(50));
		while ((n = take(&t->fx, f))) {
			parse_tcp_frame(f, n, &s);
			if (s.dport == PPORT) {
				assert_int_equal(a_rst.flags, 0);
				a_rst = s;
				continue;
			}
			assert_int_equal(s.dport, PPORT + 1);
			assert_int_equal(s.seq, b_iss); /* <SEQ=SND.UNA-1>, no data */
			assert_int_equal(s.len, 0);
			b_probes++;
		}
	}
	assert_int_equal(a_rst.flags, F_RST | F_ACK);
	assert_int_equal(a_rst.seq, a_iss + 1); /* SND.NXT: nothing left */
	assert_int_equal(a_rst.ack, P(1));
	assert_int_equal(b_probes, 1);
	assert_int_equal(stats(t)->tcp_mem_aborts, 1);
	assert_int_equal(stats(t)->tcp_orphan_timeouts, 0);
	assert_int_equal(stats(t)->tcp_persist_aborts, 0);
	assert_int_equal(stats(t)->tcp_orphans, 0);
	t->pport = PPORT;
	assert_int_equal(conn_state(t), -1);
	assert_true(stats(t)->tcp_mem_bytes < cfg.tcp_mem[0]);

	/* C receives: its receive ring takes TCP past the high mark again. */
	busy_conn(t, PPORT + 2);
	assert_true(stats(t)->tcp_mem_bytes > cfg.tcp_mem[2]);
	/* B's application reads the EOF and closes: reset, not orphaned. */
	t->pport = PPORT + 1;
	t->iss = b_iss;
	t->ts_known = false;
	assert_int_equal(xs_tcp_recv(t->fx.st, t->handles[2], b, sizeof(b)), 0);
	assert_int_equal(xs_tcp_close(t->fx.st, t->handles[2]), 0);
	tfx_poll(t);
	expect_seg(t, F_RST | F_ACK, S(0), P(1), 0, WND_ANY);
	expect_nothing(t);
	assert_int_equal(conn_state(t), -1);
	assert_int_equal(stats(t)->tcp_mem_aborts, 2);
	assert_int_equal(stats(t)->tcp_orphan_overflow, 0);
	assert_int_equal(stats(t)->tcp_orphan_mem_overflow, 0);
	assert_int_equal(stats(t)->tcp_orphans, 0);
}

/* An idle connection holds its TCB only; an orphan in TIME-WAIT holds no
 * buffers; the accounting returns to zero when everything is gone. */
static void test_mem_accounting_returns(void **state)
{
	struct tfx *t = *state;

	size_t tcb = sizeof(struct tcp_conn), ls = sizeof(struct tcp_listen);
	struct tcp_conn *c;

	tfx_passive_open(t, NULL);
	c = tcp_lookup4(t->fx.st, OUR_IP, t->lport, PEER_IP, t->pport);
	assert_non_null(c);
	/* The listener's TCB and queues, the connection's TCB. */
	assert_int_equal(stats(t)->tcp_mem_bytes, 2 * tcb + ls);
	app_send(t, 1000);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 1000, WND_ANY);
	/* The send ring and RACK's record of the segment. */
	assert_true(c->sndbuf.size >= 256 << 10);
	assert_true(rack_bytes(&c->rack) > 0);
	assert_int_equal(stats(t)->tcp_mem_bytes,
			 2 * tcb + ls + c->sndbuf.size + rack_bytes(&c->rack));
	psend(t, F_ACK, P(0), S(1000), NULL, 0);
	t->sent = 0;
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(1000), P(0), 0, WND_ANY);
	assert_int_equal(stats(t)->tcp_orphans, 1);
	psend(t, F_FIN | F_ACK, P(0), S(1001), NULL, 0);
	expect_ack(t, S(1001), P(1));
	expect_state(t, XS_TCP_TIME_WAIT);
	assert_int_equal(stats(t)->tcp_orphans, 0);
	/* No rings in TIME-WAIT; RACK's emptied storage until idle. */
	assert_null(c->sndbuf.data);
	assert_null(c->rcvbuf.data);
	assert_int_equal(stats(t)->tcp_mem_bytes, 2 * tcb + ls + rack_bytes(&c->rack));
	tfx_run(t, XS_SEC(61));
	assert_int_equal(conn_state(t), -1);
	assert_int_equal(stats(t)->tcp_mem_bytes, tcb + ls);
	xs_tcp_abort(t->fx.st, t->lh);
	tfx_poll(t);
	assert_int_equal(stats(t)->tcp_mem_bytes, 0);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* A send ring that cannot be allocated fails the send with ENOMEM and is
 * counted (tcp_sndbuf_alloc_fail), as the receive side counts its drop.
 * The failure is real: a child whose address space is capped just above
 * what it uses asks for a 16 MiB ring. */
static void test_sndbuf_alloc_fail_counted(void **state)
{
	struct tfx *t = *state;
	struct tcp_conn *c;
	int status;
	pid_t pid;

#ifdef UNDER_ASAN
	skip(); /* ASan reserves terabytes of address space: no RLIMIT_AS */
#endif
	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_SNDBUF, 16 << 20), 0);
	tfx_passive_open(t, NULL);
	c = tcp_lookup4(t->fx.st, OUR_IP, t->lport, PEER_IP, t->pport);
	assert_non_null(c);
	assert_int_equal(c->sndbuf.cap, 16 << 20);
	assert_null(c->sndbuf.data);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		struct rlimit rl;
		ssize_t r;

		if (!f || fscanf(f, "%lu", &pages) != 1)
			_exit(10);
		fclose(f);
		rl.rlim_cur = rl.rlim_max = pages * (rlim_t)sysconf(_SC_PAGESIZE) + (8 << 20);
		if (setrlimit(RLIMIT_AS, &rl))
			_exit(11);
		r = xs_tcp_send(t->fx.st, t->h, t->out, 1000);
		if (r != -ENOMEM)
			_exit(12);
		if (xs_stack_stats(t->fx.st)->tcp_sndbuf_alloc_fail != 1 || c->sndbuf.data)
			_exit(13);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Here, without the cap, the same send works and nothing is counted. */
	app_send(t, 1000);
	assert_non_null(c->sndbuf.data);
	assert_int_equal(stats(t)->tcp_sndbuf_alloc_fail, 0);
}

/* Bad budgets are refused by xs_stack_new. */
static void test_config_checked(void **state)
{
	struct xs_config cfg = tfx_config();
	struct fx fx;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.dev = xs_mem_dev_new(our_mac, 1500, 64);
	cfg.tcp_mem[0] = 3 << 20;
	cfg.tcp_mem[1] = 2 << 20;
	cfg.tcp_mem[2] = 4 << 20;
	assert_non_null(fx.dev);
	assert_null(xs_stack_new(&cfg, fx.dev));
	cfg.tcp_mem[0] = 1 << 20;
	cfg.tcp_persist_span_ms = 50;
	assert_null(xs_stack_new(&cfg, fx.dev));
	cfg.tcp_persist_span_ms = 0;
	cfg.tcp_orphan_retries = 256;
	assert_null(xs_stack_new(&cfg, fx.dev));
	xs_dev_free(fx.dev);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_orphan_zero_window_span),
	    T(test_held_zero_window_stays_open),
	    T(test_held_zero_window_span_under_pressure),
	    T(test_orphan_retries),
	    T(test_orphan_count_cap),
	    T(test_orphan_mem_cap),
	    T(test_mem_pressure),
	    T(test_mem_high_refuses),
	    T(test_mem_high_aborts_orphans),
	    T(test_mem_accounting_returns),
	    T(test_sndbuf_alloc_fail_counted),
	    T(test_config_checked),
	};
#undef T
	if (getenv("TFILTER"))
		cmocka_set_test_filter(getenv("TFILTER"));
	return cmocka_run_group_tests_name("tcp_mem", tests, NULL, NULL);
}
