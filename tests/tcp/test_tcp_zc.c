/* Scripted TCP conversations through the zero-copy calls: the segments are
 * those of xs_tcp_send / xs_tcp_recv call for call, and a lent ring is never
 * freed or shrunk under the application (idle release, memory pressure). */
#include "tcp_fixture.h"

#include "core/stack.h"
#include "tcp/tcp.h"

#define IDLE_MS 100
#define TRACE_MAX 256

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

/* The application sends n bytes of its pattern in place: reserve, write,
 * commit, as often as the ring's end makes it. */
static void zc_send(struct tfx *t, size_t n)
{
	size_t done = 0;

	assert_true(t->sent + n <= PAT_LEN);
	while (done < n) {
		void *p;
		ssize_t room = xs_tcp_send_reserve(t->fx.st, t->h, &p);
		size_t k;

		assert_true(room > 0);
		k = (size_t)room < n - done ? (size_t)room : n - done;
		memcpy(p, t->out + t->sent + done, k);
		assert_int_equal(xs_tcp_send_commit(t->fx.st, t->h, k), 0);
		done += k;
	}
	t->sent += n;
	tfx_poll(t);
}

/* The application reads exactly n bytes in place, the peer's from off. */
static void zc_recv(struct tfx *t, size_t off, size_t n)
{
	size_t done = 0;

	while (done < n) {
		const void *p;
		ssize_t got = xs_tcp_recv_peek(t->fx.st, t->h, &p);
		size_t k;

		assert_true(got > 0);
		k = (size_t)got < n - done ? (size_t)got : n - done;
		assert_memory_equal(p, t->in + off + done, k);
		assert_int_equal(xs_tcp_recv_consume(t->fx.st, t->h, k), 0);
		done += k;
	}
	tfx_poll(t);
}

/* --- the same segments as by copy ------------------------------------------------ */

struct trace {
	unsigned n;
	struct {
		uint64_t at_ms;
		uint8_t flags;
		uint32_t seq, ack; /* relative to the ISS / the peer's ISS */
		uint16_t wnd;
		size_t len;
	} s[TRACE_MAX];
};

/* Takes what the stack sent into the trace; returns the highest sequence
 * sent (relative), so the peer can ACK it. */
static uint32_t trace_take(struct tfx *t, struct trace *tr, uint32_t *hi)
{
	while (take_seg(t)) {
		uint32_t end = t->s.seq - t->iss + (uint32_t)t->s.len;

		assert_true(tr->n < TRACE_MAX);
		tr->s[tr->n].at_ms = t->fx.now / XS_NSEC_PER_MS;
		tr->s[tr->n].flags = t->s.flags;
		tr->s[tr->n].seq = t->s.seq - t->iss;
		tr->s[tr->n].ack = t->s.ack - t->irs;
		tr->s[tr->n].wnd = t->s.wnd;
		tr->s[tr->n].len = t->s.len;
		tr->n++;
		if ((int32_t)(end - *hi) > 0)
			*hi = end;
	}
	return *hi;
}

/* One conversation: Nagle holding a short tail, a window the peer fills,
 * reads that open it (window updates), delayed ACKs. zc: by the zero-copy
 * calls, with the same sizes call for call (no ring wraps here: rings of
 * 64 KiB, under 64 KiB each way). */
static void conversation(struct tfx *t, bool zc, struct trace *tr)
{
	static const size_t sends[] = {100, 3000, 1, 1448, 5000, 700};
	static const size_t reads[] = {1000, 7000, 1, 20000, 4768};
	void (*send)(struct tfx *, size_t) = zc ? zc_send : app_send;
	void (*recv)(struct tfx *, size_t, size_t) = zc ? zc_recv : app_recv;
	size_t i, poff = 0, roff = 0;
	uint32_t hi = 1; /* after the SYN */

	tfx_restart(t, 1500);
	memset(tr, 0, sizeof(*tr));
	tfx_listen(t, 16);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_RCVBUF, 65536), 0);
	assert_int_equal(xs_tcp_setopt(t->fx.st, t->lh, XS_TCP_SNDBUF, 65536), 0);
	t->pwnd = 65535;
	tfx_passive_open(t, NULL);
	for (i = 0; i < sizeof(sends) / sizeof(sends[0]); i++) {
		send(t, sends[i]);
		trace_take(t, tr, &hi);
		/* The peer ACKs every other step: Nagle holds in between. */
		if (i % 2) {
			psend(t, F_ACK, P(poff), t->iss + trace_take(t, tr, &hi), NULL, 0);
			trace_take(t, tr, &hi);
		}
	}
	psend(t, F_ACK, P(poff), t->iss + hi, NULL, 0);
	trace_take(t, tr, &hi);
	/* The peer sends 32 KiB + 1 in MSS segments; the application reads
	 * it in pieces, each read maybe opening the window. */
	for (; poff < 32769; poff += 1448) {
		size_t k = 32769 - poff < 1448 ? 32769 - poff : 1448;

		pdata(t, poff, k, t->iss + hi);
		trace_take(t, tr, &hi);
	}
	for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		recv(t, roff, reads[i]);
		roff += reads[i];
		trace_take(t, tr, &hi);
	}
	assert_int_equal(roff, 32769);
	tfx_run(t, XS_MS(300)); /* delayed ACKs, nothing else */
	trace_take(t, tr, &hi);
	assert_int_equal(conn_info(t).snd_queue, 0);
	assert_int_equal(conn_info(t).rcv_queue, 0);
}

static void test_zc_segments_as_copies(void **state)
{
	struct tfx *t = *state;
	static struct trace copy, zc;
	unsigned i;

	conversation(t, false, &copy);
	conversation(t, true, &zc);
	assert_true(copy.n > 20);
	for (i = 0; i < copy.n && i < zc.n; i++)
		if (memcmp(&copy.s[i], &zc.s[i], sizeof(copy.s[i])))
			fail_msg(
			    "segment %u: copy t=%llu [%#x] seq %u ack %u wnd %u len %zu, zero-copy "
			    "t=%llu [%#x] seq %u ack %u wnd %u len %zu",
			    i, (unsigned long long)copy.s[i].at_ms, copy.s[i].flags, copy.s[i].seq,
			    copy.s[i].ack, copy.s[i].wnd, copy.s[i].len,
			    (unsigned long long)zc.s[i].at_ms, zc.s[i].flags, zc.s[i].seq,
			    zc.s[i].ack, zc.s[i].wnd, zc.s[i].len);
	assert_int_equal(copy.n, zc.n);
}

/* --- a lent ring stays --------------------------------------------------------- */

static void restart_idle(struct tfx *t, unsigned idle_ms)
{
	struct xs_config cfg = tfx_config();

	cfg.tcp_buf_idle_ms = idle_ms;
	tfx_restart_cfg(t, 1500, &cfg);
}

/* A send ring emptied by ACKs would go after tcp_buf_idle_ms; reserved, it
 * stays (its empty space is the application's), however long, and what is
 * written there leaves byte-exact at the commit. Given back, it goes. */
static void test_zc_reserved_send_ring_pinned(void **state)
{
	struct tfx *t = *state;
	struct tcp_conn *c;
	uint8_t *ring;
	void *p;
	ssize_t room;

	restart_idle(t, IDLE_MS);
	tfx_passive_open(t, NULL);
	c = conn(t);
	app_send(t, 1000);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 1000, WND_ANY);
	psend(t, F_ACK, P(0), S(1000), NULL, 0);
	/* Empty now: reserved before the idle time passes. */
	ring = c->sndbuf.data;
	assert_non_null(ring);
	room = xs_tcp_send_reserve(t->fx.st, t->h, &p);
	assert_true(room >= 2000);
	assert_ptr_equal(p, ring + 1000);
	tfx_run(t, XS_MS(3 * IDLE_MS));
	tfx_run(t, XS_SEC(5));
	assert_int_equal(stats(t)->tcp_buf_released, 0);
	assert_ptr_equal(c->sndbuf.data, ring);
	memcpy(p, t->out + t->sent, 2000); /* ASan: still the ring's memory */
	t->sent += 2000;
	assert_int_equal(xs_tcp_send_commit(t->fx.st, t->h, 2000), 0);
	tfx_poll(t);
	expect_seg(t, F_ACK, S(1000), P(0), 1448, WND_ANY);
	expect_nothing(t); /* Nagle holds the short rest, as for a send */
	psend(t, F_ACK, P(0), S(2448), NULL, 0);
	expect_seg(t, F_ACK | F_PSH, S(2448), P(0), 552, WND_ANY);
	psend(t, F_ACK, P(0), S(3000), NULL, 0);
	tfx_run(t, XS_MS(2 * IDLE_MS));
	assert_int_equal(stats(t)->tcp_buf_released, 1);
	assert_null(c->sndbuf.data);

	/* A reserve allocates the ring; a reservation given back unused
	 * (commit 0) lets it go once idle. */
	room = xs_tcp_send_reserve(t->fx.st, t->h, &p);
	assert_true(room > 0);
	assert_non_null(c->sndbuf.data);
	tfx_run(t, XS_MS(3 * IDLE_MS));
	assert_non_null(c->sndbuf.data);
	assert_int_equal(xs_tcp_send_commit(t->fx.st, t->h, 0), 0);
	tfx_run(t, XS_MS(2 * IDLE_MS));
	assert_null(c->sndbuf.data);
	assert_int_equal(stats(t)->tcp_buf_released, 2);
	expect_nothing(t);
}

/* Peeked bytes are unread bytes: the ring holding them stays (and the
 * window stays shut by them) until they are consumed; then it goes. */
static void test_zc_peeked_recv_ring_pinned(void **state)
{
	struct tfx *t = *state;
	struct tcp_conn *c;
	const void *p;

	restart_idle(t, IDLE_MS);
	tfx_passive_open(t, NULL);
	c = conn(t);
	pdata(t, 0, 1000, S(0));
	assert_int_equal(xs_tcp_recv_peek(t->fx.st, t->h, &p), 1000);
	assert_ptr_equal(p, c->rcvbuf.data);
	tfx_run(t, XS_MS(3 * IDLE_MS));
	while (take_seg(t)) /* the delayed ACK */
		assert_int_equal(t->s.len, 0);
	assert_int_equal(stats(t)->tcp_buf_released, 0);
	assert_memory_equal(p, t->in, 1000);
	assert_int_equal(xs_tcp_recv_consume(t->fx.st, t->h, 1000), 0);
	tfx_poll(t);
	while (take_seg(t)) /* a window update, maybe */
		assert_int_equal(t->s.len, 0);
	tfx_run(t, XS_MS(2 * IDLE_MS));
	assert_int_equal(stats(t)->tcp_buf_released, 1);
	assert_null(c->rcvbuf.data);
}

/* Under memory pressure an empty send ring shrinks at the next tick; a
 * reserved one does not, until it is given back. */
static void test_zc_reserved_ring_not_shrunk(void **state)
{
	struct tfx *t = *state;
	struct xs_config cfg = tfx_config();
	struct tcp_conn *c;
	uint8_t *ring;
	void *p;

	cfg.tcp_buf_idle_ms = 60000; /* pressure acts first */
	tfx_restart_cfg(t, 1500, &cfg);
	tfx_passive_open(t, NULL);
	c = conn(t);
	app_send(t, 1000);
	expect_seg(t, F_ACK | F_PSH, S(0), P(0), 1000, WND_ANY);
	psend(t, F_ACK, P(0), S(1000), NULL, 0);
	assert_true(xs_tcp_send_reserve(t->fx.st, t->h, &p) > 0);
	ring = c->sndbuf.data;
	assert_true(c->sndbuf.cap > TCP_PRESSURE_BUF);
	/* Pressure from here on: any byte held is above the mark. */
	t->fx.st->cfg.tcp_mem[0] = 1;
	t->fx.st->cfg.tcp_mem[1] = 2;
	tcp_mem_sync(t->fx.st, c);
	assert_int_equal(stats(t)->tcp_mem_pressure, 1);
	tfx_run(t, XS_MS(500)); /* ticks */
	assert_int_equal(stats(t)->tcp_mem_shrunk, 0);
	assert_ptr_equal(c->sndbuf.data, ring);
	memset(p, 0, 100);
	assert_int_equal(xs_tcp_send_commit(t->fx.st, t->h, 0), 0);
	tfx_run(t, XS_MS(500));
	assert_int_equal(stats(t)->tcp_mem_shrunk, 1);
	assert_int_equal(c->sndbuf.cap, TCP_PRESSURE_BUF);
	expect_nothing(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_zc_segments_as_copies, tfx_setup, tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_zc_reserved_send_ring_pinned, tfx_setup,
					    tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_zc_peeked_recv_ring_pinned, tfx_setup,
					    tfx_teardown),
	    cmocka_unit_test_setup_teardown(test_zc_reserved_ring_not_shrunk, tfx_setup,
					    tfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
