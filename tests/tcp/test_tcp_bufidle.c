/* Scripted TCP conversations against per-connection memory: rings, the
 * out-of-order set and RACK's records freed when idle and back on use, the
 * window kept honest across a release, tcp_max_conns, growing tables. */
#include "tcp_fixture.h"

#include "core/stack.h"
#include "tcp/tcp.h"

#define IDLE_MS 100

static const struct xs_stats *stats(struct tfx *t)
{
	return xs_stack_stats(t->fx.st);
}

static struct tcp_conn *conn(struct tfx *t)
{
	struct tcp_conn *c = tcp_lookup4(t->fx.st, OUR_IP, t->lport, PEER_IP, t->pport);

	assert_non_null(c);
	return c;
}

static void restart_idle(struct tfx *t, unsigned idle_ms)
{
	struct xs_config cfg = tfx_config();

	cfg.tcp_buf_idle_ms = idle_ms;
	tfx_restart_cfg(t, 1500, &cfg);
}

/* Takes the stack's data segments up to n bytes from offset off of what the
 * application sent, checking every byte, ACKing each round. */
static void take_data(struct tfx *t, size_t off, size_t n, uint32_t pseq)
{
	size_t got = 0;

	while (got < n) {
		bool any = false;

		while (take_seg(t)) {
			if (!t->s.len)
				continue;
			assert_int_equal(t->s.seq, S(off + got));
			assert_memory_equal(t->s.data, t->out + off + got, t->s.len);
			got += t->s.len;
			any = true;
		}
		assert_true(any);
		psend(t, F_ACK, pseq, S(off + got), NULL, 0);
	}
	assert_int_equal(got, n);
}

/* Throws away whatever the stack sent, from any port. */
static void drain(struct tfx *t)
{
	uint8_t f[FRAME_MAX];

	while (take(&t->fx, f))
		;
}

/* The peer sends n bytes from off in MSS segments, all within the window. */
static void pdata_mss(struct tfx *t, size_t off, size_t n, uint32_t ack)
{
	for (size_t k = 0; k < n; k += 1448)
		pdata(t, off + k, n - k < 1448 ? n - k : 1448, ack);
}

/* An idle connection holds its TCB only; the first byte each way allocates
 * a ring, which goes once empty for tcp_buf_idle_ms, and the next bytes
 * bring it back with everything intact. */
static void test_idle_release_realloc(void **state)
{
	struct tfx *t = *state;
	size_t tcb = sizeof(struct tcp_conn), ls = sizeof(struct tcp_listen);
	struct tcp_conn *c;
	uint32_t edge;

	restart_idle(t, IDLE_MS);
	tfx_passive_open(t, NULL);
	c = conn(t);
	/* The listener (TCB and queues) and the connection: nothing else. */
	assert_int_equal(stats(t)->tcp_mem_bytes, 2 * tcb + ls);
	assert_null(c->sndbuf.data);
	assert_null(c->rcvbuf.data);

	pdata(t, 0, 1000, S(0));
	assert_int_equal(stats(t)->tcp_buf_alloc, 1);
	assert_non_null(c->rcvbuf.data);
	assert_int_equal(stats(t)->tcp_mem_bytes, 2 * tcb + ls + c->rcvbuf.size);
	app_recv(t, 0, 1000);
	while (take_seg(t)) /* a window update */
		;
	edge = c->rcv_adv;
	tfx_run(t, XS_MS(IDLE_MS / 2));
	while (take_seg(t)) /* the delayed ACK, if any */
		;
	assert_int_equal(stats(t)->tcp_buf_released, 0);
	assert_non_null(c->rcvbuf.data);
	tfx_run(t, XS_MS(IDLE_MS));
	assert_int_equal(stats(t)->tcp_buf_released, 1);
	assert_null(c->rcvbuf.data);
	assert_int_equal(stats(t)->tcp_mem_bytes, 2 * tcb + ls);
	/* Released, the window offered stands: the ring is the same size, and
	 * the peer may fill what it was offered. */
	assert_int_equal(c->rcv_adv, edge);
	assert_true(c->rcvbuf.cap >= edge - c->rcv_nxt);

	pdata_mss(t, 1000, 30000, S(0));
	assert_int_equal(stats(t)->tcp_buf_alloc, 2);
	assert_int_equal(conn_info(t).rcv_queue, 30000);
	app_recv(t, 1000, 30000);
	while (take_seg(t))
		;

	/* The send side: allocated by the first send, freed once all is
	 * acknowledged and idle. */
	app_send(t, 5000);
	assert_int_equal(stats(t)->tcp_buf_alloc, 3);
	take_data(t, 0, 5000, P(31000));
	assert_non_null(c->sndbuf.data);
	/* Both rings, and RACK's records of what was sent (kept, empty,
	 * until idle too). */
	assert_non_null(c->rcvbuf.data);
	assert_true(rack_bytes(&c->rack) > 0);
	assert_int_equal(stats(t)->tcp_mem_bytes,
			 2 * tcb + ls + c->sndbuf.size + c->rcvbuf.size + rack_bytes(&c->rack));
	tfx_run(t, XS_MS(IDLE_MS + 10));
	while (take_seg(t))
		;
	assert_null(c->sndbuf.data);
	assert_null(c->rcvbuf.data);
	assert_int_equal(stats(t)->tcp_buf_released, 3);
	assert_int_equal(rack_bytes(&c->rack), 0);
	assert_int_equal(stats(t)->tcp_mem_bytes, 2 * tcb + ls);
	app_send(t, 3000);
	take_data(t, 5000, 3000, P(31000));
	assert_int_equal(stats(t)->tcp_buf_alloc, 4);
	assert_int_equal(stats(t)->tcp_mem_bytes,
			 2 * tcb + ls + c->sndbuf.size + rack_bytes(&c->rack));
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_BUF_ALLOC], 0);
}

/* The release is a deadline the event loop is told of (xs_stack_next_timer),
 * so a loop that sleeps until it frees the ring on time; a poll before
 * it frees nothing. */
static void test_release_deadline_reported(void **state)
{
	struct tfx *t = *state;
	struct tcp_conn *c;
	xs_time_t emptied;

	restart_idle(t, 30);
	tfx_passive_open(t, NULL);
	c = conn(t);
	pdata(t, 0, 1000, S(0));
	tfx_run(t, XS_MS(40)); /* the delayed ACK */
	while (take_seg(t))
		;
	app_recv(t, 0, 1000);
	emptied = t->fx.now;
	while (take_seg(t))
		;
	assert_true(xs_stack_next_timer(t->fx.st) <= emptied + XS_MS(30));
	tfx_at(t, emptied + XS_MS(29));
	assert_non_null(c->rcvbuf.data);
	tfx_at(t, emptied + XS_MS(30));
	assert_null(c->rcvbuf.data);
	assert_int_equal(stats(t)->tcp_buf_released, 1);
}

/* A ring in use is never released, however long: unread data stays. */
static void test_busy_ring_stays(void **state)
{
	struct tfx *t = *state;
	struct tcp_conn *c;

	restart_idle(t, 1);
	tfx_passive_open(t, NULL);
	c = conn(t);
	pdata(t, 0, 500, S(0));
	tfx_run(t, XS_SEC(5));
	while (take_seg(t))
		;
	assert_non_null(c->rcvbuf.data);
	assert_int_equal(stats(t)->tcp_buf_released, 0);
	app_recv(t, 0, 500);
	tfx_run(t, XS_MS(5));
	assert_null(c->rcvbuf.data);
	assert_int_equal(stats(t)->tcp_buf_released, 1);
}

/* The out-of-order set exists while a hole is open; RACK's records while
 * data is in flight; both go once idle. */
static void test_ooo_and_rack_released(void **state)
{
	struct tfx *t = *state;
	struct tcp_conn *c;
	uint64_t before;

	restart_idle(t, IDLE_MS);
	tfx_passive_open(t, NULL);
	c = conn(t);
	assert_true(t->sack);
	assert_null(c->ooo);
	before = stats(t)->tcp_mem_bytes;
	pdata(t, 1000, 1000, S(0)); /* a hole at [0, 1000) */
	expect_seg(t, F_ACK, S(0), P(0), 0, WND_ANY);
	assert_int_equal(t->s.nsack, 1);
	assert_non_null(c->ooo);
	assert_int_equal(stats(t)->tcp_ooo_alloc, 1);
	assert_int_equal(stats(t)->tcp_mem_bytes, before + c->rcvbuf.size + sizeof(struct seqset));
	pdata(t, 0, 1000, S(0));
	expect_ack(t, S(0), P(2000));
	app_recv(t, 0, 2000);
	while (take_seg(t))
		;
	app_send(t, 20000);
	take_data(t, 0, 20000, P(2000));
	assert_non_null(c->rack.ch);
	assert_non_null(c->ooo);
	assert_int_equal(stats(t)->tcp_mem_bytes, before + c->rcvbuf.size + sizeof(struct seqset) +
						      c->sndbuf.size + rack_bytes(&c->rack));
	tfx_run(t, XS_MS(IDLE_MS + 10));
	while (take_seg(t))
		;
	assert_null(c->ooo);
	assert_null(c->rack.ch);
	assert_null(c->rack.tq);
	assert_int_equal(stats(t)->tcp_rack_released, 1);
	assert_int_equal(stats(t)->tcp_mem_bytes, before);
	/* Both work again: a new hole, new data in flight. */
	pdata(t, 3000, 500, S(20000));
	expect_seg(t, F_ACK, S(20000), P(2000), 0, WND_ANY);
	assert_int_equal(stats(t)->tcp_ooo_alloc, 2);
	pdata(t, 2000, 1000, S(20000));
	expect_ack(t, S(20000), P(3500));
	app_recv(t, 2000, 1500);
	app_send(t, 3000);
	while (take_seg(t) && !t->s.len)
		;
	assert_int_equal(t->s.seq, S(20000));
	assert_memory_equal(t->s.data, t->out + 20000, t->s.len);
	assert_non_null(c->rack.ch);
}

/* RACK's records are charged to tcp_mem: a large flight shows in
 * tcp_mem_bytes, exactly; once all is ACKed and idle the connection costs
 * its TCB again, and nothing once closed. */
static void test_rack_storage_charged(void **state)
{
	struct tfx *t = *state;
	size_t tcb = sizeof(struct tcp_conn), ls = sizeof(struct tcp_listen);
	uint32_t most = 0, hi = 0;
	size_t peak = 0;
	struct tcp_conn *c;
	size_t n;

	restart_idle(t, IDLE_MS);
	tfx_passive_open(t, NULL);
	c = conn(t);
	assert_true(t->sack);
	assert_int_equal(rack_bytes(&c->rack), 0);
	assert_int_equal(stats(t)->tcp_mem_bytes, 2 * tcb + ls);
	n = c->sndbuf.cap < PAT_LEN ? c->sndbuf.cap : PAT_LEN;
	app_send(t, n);
	/* Slow start: each round the peer takes all and ACKs every segment,
	 * and the next flight doubles. With a flight out, the charge is
	 * exact. */
	for (;;) {
		static uint32_t ends[1024];
		unsigned k, nseg = 0;

		while (take_seg(t)) {
			if (!t->s.len)
				continue;
			assert_int_equal(t->s.seq, S(hi));
			assert_true(nseg < 1024);
			hi += t->s.len;
			ends[nseg++] = hi;
		}
		if (!nseg)
			break;
		if (c->rack.n > most)
			most = c->rack.n;
		if (rack_bytes(&c->rack) > peak)
			peak = rack_bytes(&c->rack);
		assert_int_equal(rack_bytes(&c->rack) == 0, c->rack.n == 0);
		assert_null(c->rcvbuf.data);
		assert_int_equal(stats(t)->tcp_mem_bytes,
				 2 * tcb + ls + c->sndbuf.size + rack_bytes(&c->rack));
		for (k = 0; k < nseg; k++)
			psend(t, F_ACK, P(0), S(ends[k]), NULL, 0);
	}
	assert_int_equal(hi, n);
	/* A flight of more than one chunk of records. */
	print_message("    largest flight: %u records, %zu bytes of RACK storage\n", most, peak);
	assert_true(most > RACK_CHUNK);
	assert_true(peak >= 2 * sizeof(struct rack_chunk));
	assert_true(c->rack.nch == 0 && c->rack.n == 0);
	tfx_run(t, XS_MS(IDLE_MS + 10));
	while (take_seg(t))
		;
	assert_null(c->sndbuf.data);
	assert_null(c->rack.spare);
	assert_int_equal(rack_bytes(&c->rack), 0);
	assert_int_equal(stats(t)->tcp_mem_bytes, 2 * tcb + ls);
	/* Close: FIN both ways, TIME-WAIT, gone; then the listener. */
	assert_int_equal(xs_tcp_close(t->fx.st, t->h), 0);
	tfx_poll(t);
	expect_seg(t, F_FIN | F_ACK, S(n), P(0), 0, WND_ANY);
	psend(t, F_FIN | F_ACK, P(0), S(n + 1), NULL, 0);
	expect_ack(t, S(n + 1), P(1));
	expect_state(t, XS_TCP_TIME_WAIT);
	tfx_run(t, XS_SEC(61));
	assert_int_equal(conn_state(t), -1);
	assert_int_equal(stats(t)->tcp_mem_bytes, tcb + ls);
	xs_tcp_abort(t->fx.st, t->lh);
	tfx_poll(t);
	assert_int_equal(stats(t)->tcp_mem_bytes, 0);
}

/* Under memory pressure a freed receive ring comes back smaller, but never
 * below the window it offered (RFC 9293 3.8.6.2.2): the peer fills the
 * whole offer and nothing is dropped. */
static void test_release_keeps_offered_window(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	struct tcp_conn *c;
	uint32_t offered, iss;

	cfg.tcp_buf_idle_ms = IDLE_MS;
	cfg.tcp_mem[0] = 100 << 10;
	cfg.tcp_mem[1] = 200 << 10;
	cfg.tcp_mem[2] = 64 << 20;
	tfx_restart_cfg(t, 1500, &cfg);
	tfx_passive_open(t, NULL);
	c = conn(t);
	iss = t->iss;
	pdata(t, 0, 1000, S(0));
	app_recv(t, 0, 1000); /* the window update offers the whole ring */
	while (take_seg(t))
		;
	offered = c->rcv_adv - c->rcv_nxt;
	assert_true(offered > 64 << 10);
	tfx_run(t, XS_MS(IDLE_MS + 10));
	while (take_seg(t))
		;
	assert_null(c->rcvbuf.data);
	/* Another connection holds data: pressure. */
	t->pport = PPORT + 1;
	tfx_passive_open(t, NULL);
	pdata(t, 0, 1000, S(0));
	while (take_seg(t))
		;
	tfx_run(t, XS_MS(150));
	while (take_seg(t))
		;
	assert_true(t->fx.st->tcp->pressure);
	assert_true(c->rcvbuf.cap >= offered);
	/* The first peer fills its offer. */
	t->pport = PPORT;
	t->h = t->handles[1];
	t->irs = PEER_ISS;
	t->iss = iss;
	t->ts_known = false;
	pdata_mss(t, 1000, offered, S(0));
	drain(t);
	assert_int_equal(conn_info(t).rcv_queue, offered);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_SEQ], 0);
	app_recv(t, 1000, offered);
}

/* A ring that pressure makes smaller as it is allocated again (pressure
 * began after the last tick) bounds the segment that allocated it: bytes
 * past it must be cut, not wrapped onto the ring's start, where the
 * in-order bytes land later (the queue would claim more than the ring
 * holds, and deliver other bytes in their place). */
static void test_realloc_smaller_cuts_segment(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	struct tcp_conn *c;
	uint32_t offered, iss, cap;
	size_t queued;

	cfg.tcp_buf_idle_ms = IDLE_MS;
	cfg.tcp_mem[0] = 100 << 10;
	cfg.tcp_mem[1] = 200 << 10;
	cfg.tcp_mem[2] = 64 << 20;
	tfx_restart_cfg(t, 1500, &cfg);
	tfx_passive_open(t, NULL);
	c = conn(t);
	iss = t->iss;
	cap = c->rcvbuf.cap;
	offered = c->rcv_adv - c->rcv_nxt; /* the SYN-ACK's, unscaled */
	assert_null(c->rcvbuf.data);
	assert_true(offered + 2 * 1448 < cap);
	/* Another connection holds data: pressure, at the same instant (no
	 * tick has shrunk the first one's ring yet). */
	t->pport = PPORT + 1;
	tfx_passive_open(t, NULL);
	pdata(t, 0, 1000, S(0));
	drain(t);
	assert_true(t->fx.st->tcp->pressure);
	assert_int_equal(c->rcvbuf.cap, cap);
	t->pport = PPORT;
	t->h = t->handles[1];
	t->irs = PEER_ISS;
	t->iss = iss;
	t->ts_known = false;
	/* Acceptable (it starts inside the offer), mostly beyond it. */
	pdata(t, offered - 1, 1448, S(0));
	drain(t);
	assert_non_null(c->rcvbuf.data);
	assert_true(c->rcvbuf.cap < cap);
	assert_true(c->rcvbuf.cap >= offered);
	/* The hole before it fills. */
	pdata_mss(t, 0, offered - 1, S(0));
	drain(t);
	queued = conn_info(t).rcv_queue;
	assert_true(queued >= offered);
	assert_true(queued <= c->rcvbuf.size);
	app_recv(t, 0, queued);
}

/* tcp_max_conns: listeners, half-open and established connections count;
 * at the cap a SYN is dropped (counted) and connect fails with -EMFILE. */
static void test_max_conns(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	struct popts o;
	unsigned i;

	cfg.tcp_max_conns = 16;
	tfx_restart_cfg(t, 1500, &cfg);
	for (i = 0; i < 15; i++) {
		t->pport = (uint16_t)(PPORT + i);
		tfx_passive_open(t, NULL);
	}
	assert_int_equal(stats(t)->tcp_conns, 16);
	t->pport = PPORT + 15;
	o = popts_syn_full(t);
	psyn(t, &o);
	expect_nothing(t);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_MAX_CONNS], 1);
	assert_int_equal(xs_tcp_connect(t->fx.st, PEER_IP, 5000).id, -EMFILE);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_MAX_CONNS], 2);
	/* One goes: there is room again. */
	assert_int_equal(xs_tcp_abort(t->fx.st, t->handles[15]), 0);
	t->nhandles--;
	tfx_poll(t);
	drain(t);
	assert_int_equal(stats(t)->tcp_conns, 15);
	o = popts_syn_full(t);
	psyn(t, &o);
	assert_true(take_seg(t));
	assert_int_equal(t->s.flags, F_SYN | F_ACK);
	assert_int_equal(stats(t)->drop[XS_DROP_TCP_MAX_CONNS], 2);
}

/* Past the first hash size and handle array: both grow, every connection
 * is still found, chains stay short, freed handles are reused. */
#define MANY 5000
static void test_tables_grow(void **state)
{
	struct tfx *t = *state;
	static struct xs_tcp hs[MANY];
	struct tcp_table *tab;
	unsigned i;
	struct xs_tcp h;

	tfx_listen(t, 4096);
	for (i = 0; i < MANY; i++) {
		struct popts o = popts_syn_full(t);

		t->pport = (uint16_t)(10000 + i);
		psyn(t, &o);
		assert_true(take_seg(t));
		assert_int_equal(t->s.flags, F_SYN | F_ACK);
		t->iss = t->s.seq;
		t->ts = t->ts_on = true;
		psend(t, F_ACK, P(0), S(0), NULL, 0);
		hs[i] = xs_tcp_accept(t->fx.st, t->lh, NULL, NULL);
		assert_true(hs[i].id > 0);
	}
	tab = t->fx.st->tcp;
	assert_true(tab->nbuckets >= MANY);
	assert_true(stats(t)->tcp_hash_chain_max <= 12);
	assert_int_equal(stats(t)->tcp_conns, MANY + 1);
	for (i = 0; i < MANY; i++) {
		struct xs_tcp_info info;

		assert_non_null(
		    tcp_lookup4(t->fx.st, OUR_IP, LPORT, PEER_IP, (uint16_t)(10000 + i)));
		assert_int_equal(xs_tcp_get_info(t->fx.st, hs[i], &info), 0);
		assert_int_equal(info.rport, 10000 + i);
	}
	/* Handles are unique and come back. */
	for (i = 0; i < MANY; i++)
		assert_int_equal(xs_tcp_abort(t->fx.st, hs[i]), 0);
	tfx_poll(t);
	drain(t);
	assert_int_equal(stats(t)->tcp_conns, 1);
	h = xs_tcp_connect(t->fx.st, PEER_IP, 5000);
	assert_true(h.id > 0 && h.id <= MANY);
	assert_int_equal(xs_tcp_abort(t->fx.st, h), 0);
	tfx_poll(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_idle_release_realloc, tfx_setup, tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_busy_ring_stays, tfx_setup, tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_release_deadline_reported, tfx_setup,
					    tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_ooo_and_rack_released, tfx_setup, tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_rack_storage_charged, tfx_setup, tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_release_keeps_offered_window, tfx_setup,
					    tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_realloc_smaller_cuts_segment, tfx_setup,
					    tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_max_conns, tfx_setup, tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_tables_grow, tfx_setup, tfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
