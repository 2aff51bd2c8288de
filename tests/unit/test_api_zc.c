/* The zero-copy calls over two stacks on linked mem devices, public API only:
 * byte-exact transfers through the rings in place (wrap included), the lend
 * contract (-EBUSY, -EINVAL, close and reset with a lend out), UDP in place. */
#include <stdbool.h>

#include "api_fixture.h"

/* --- helpers -------------------------------------------------------------------- */

/* Byte i of the stream from side s. */
static uint8_t pat(int s, uint64_t i)
{
	uint64_t z = (i >> 3) * 0x9e3779b97f4a7c15ull + (uint64_t)s * 0xbf58476d1ce4e5b9ull;

	z ^= z >> 29;
	return (uint8_t)((z * 0x94d049bb133111ebull) >> (8 * (i & 7)));
}

static uint32_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 16);
}

/* A connection a -> b:port with the rings sized (both sides: send sb bytes,
 * receive rb bytes), accepted; handles out. */
static void sized_pair(struct two *t, uint16_t port, int sb, int rb, struct xs_tcp *ha,
		       struct xs_tcp *hb)
{
	struct xs_tcp_connect_opts o = {.sndbuf = sb, .rcvbuf = rb};
	struct xs_tcp lh = xs_tcp_listen(t->b, port, 8);
	int i;

	assert_true(lh.id >= 0);
	assert_int_equal(xs_tcp_setopt(t->b, lh, XS_TCP_SNDBUF, sb), 0);
	assert_int_equal(xs_tcp_setopt(t->b, lh, XS_TCP_RCVBUF, rb), 0);
	*ha = xs_tcp_connect_ex(t->a, B_IP, port, &o);
	assert_true(ha->id >= 0);
	*hb = (struct xs_tcp)XS_NO_HANDLE;
	for (i = 0; i < 20 && hb->id < 0; i++) {
		poll_both(t, 1);
		*hb = xs_tcp_accept(t->b, lh, NULL, NULL);
	}
	assert_true(hb->id >= 0);
	assert_int_equal(xs_tcp_close(t->b, lh), 0);
	assert_int_equal(xs_tcp_poll_events(t->a, *ha), XS_EV_WRITABLE);
}

static struct xs_tcp_info info_of(struct xs_stack *st, struct xs_tcp h)
{
	struct xs_tcp_info i;

	assert_int_equal(xs_tcp_get_info(st, h, &i), 0);
	return i;
}

/* One side of a transfer: what it sent, what it received and checked. */
struct end {
	struct xs_stack *st;
	struct xs_tcp h;
	int side;
	uint64_t sent, rcvd, total;
	bool shut, eof;
	unsigned rcv_wraps; /* a peek that gave less than what was queued */
	unsigned snd_wraps; /* a reserve that gave less than the free space */
	unsigned zc_ops, copy_ops;
	uint64_t rng;
};

/* Sends what it can: zero-copy (reserve, fill part or all, commit) or, when
 * mixed, sometimes by copy. */
static void end_send(struct end *e, bool mixed)
{
	uint8_t buf[3000];

	while (e->sent < e->total) {
		uint64_t left = e->total - e->sent;
		size_t k, i;

		if (mixed && rnd(&e->rng) % 3 == 0) {
			ssize_t n;

			k = 1 + rnd(&e->rng) % sizeof(buf);
			k = k < left ? k : (size_t)left;
			for (i = 0; i < k; i++)
				buf[i] = pat(e->side, e->sent + i);
			n = xs_tcp_send(e->st, e->h, buf, k);
			if (n == -EAGAIN)
				return;
			assert_true(n > 0);
			e->sent += (uint64_t)n;
			e->copy_ops++;
		} else {
			struct xs_tcp_info in = info_of(e->st, e->h);
			void *p;
			void *p2;
			ssize_t room = xs_tcp_send_reserve(e->st, e->h, &p), again;
			int sndbuf;

			if (room == -EAGAIN) {
				assert_null(p);
				return;
			}
			assert_true(room > 0);
			assert_non_null(p);
			assert_int_equal(xs_tcp_getopt(e->st, e->h, XS_TCP_SNDBUF, &sndbuf), 0);
			if ((uint64_t)room < (uint64_t)sndbuf - in.snd_queue)
				e->snd_wraps++;
			/* Asked again: the same place, no shorter. */
			again = xs_tcp_send_reserve(e->st, e->h, &p2);
			assert_ptr_equal(p2, p);
			assert_true(again >= room);
			/* Some of it or all, never more than the stream's end. */
			k = rnd(&e->rng) % 4 == 0 ? 1 + rnd(&e->rng) % (size_t)room : (size_t)room;
			k = k < left ? k : (size_t)left;
			for (i = 0; i < k; i++)
				((uint8_t *)p)[i] = pat(e->side, e->sent + i);
			assert_int_equal(xs_tcp_send_commit(e->st, e->h, k), 0);
			e->sent += k;
			e->zc_ops++;
		}
	}
	if (!e->shut) {
		assert_int_equal(xs_tcp_shutdown(e->st, e->h), 0);
		e->shut = true;
	}
}

static void check_bytes(struct end *e, const uint8_t *b, size_t n, int from)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != pat(from, e->rcvd + i))
			fail_msg("side %d: byte %llu is %#x, sent %#x", e->side,
				 (unsigned long long)(e->rcvd + i), b[i], pat(from, e->rcvd + i));
}

static void end_recv(struct end *e, bool mixed)
{
	uint8_t buf[3000];

	while (!e->eof) {
		if (mixed && rnd(&e->rng) % 3 == 0) {
			ssize_t n = xs_tcp_recv(e->st, e->h, buf, 1 + rnd(&e->rng) % sizeof(buf));

			if (n == -EAGAIN)
				return;
			assert_true(n >= 0);
			if (!n) {
				e->eof = true;
				return;
			}
			check_bytes(e, buf, (size_t)n, !e->side);
			e->rcvd += (uint64_t)n;
			e->copy_ops++;
		} else {
			struct xs_tcp_info in = info_of(e->st, e->h);
			const void *p, *p2;
			ssize_t n = xs_tcp_recv_peek(e->st, e->h, &p), again;
			size_t k;

			if (n == -EAGAIN) {
				assert_null(p);
				return;
			}
			assert_true(n >= 0);
			if (!n) {
				assert_null(p);
				e->eof = true;
				return;
			}
			if ((uint64_t)n < in.rcv_queue)
				e->rcv_wraps++;
			again = xs_tcp_recv_peek(e->st, e->h, &p2);
			assert_ptr_equal(p2, p);
			assert_true(again >= n);
			k = rnd(&e->rng) % 4 == 0 ? 1 + rnd(&e->rng) % (size_t)n : (size_t)n;
			check_bytes(e, p, k, !e->side);
			assert_int_equal(xs_tcp_recv_consume(e->st, e->h, k), 0);
			e->rcvd += k;
			e->zc_ops++;
		}
	}
}

/* total bytes each way between rings of sb/rb bytes; mixed: copies too. */
static void transfer(struct two *t, uint16_t port, int sb, int rb, uint64_t total, bool mixed,
		     struct end e[2])
{
	struct xs_tcp ha, hb;
	int rounds = 0, s;

	sized_pair(t, port, sb, rb, &ha, &hb);
	e[0] = (struct end){.st = t->a, .h = ha, .side = 0, .total = total, .rng = 7};
	e[1] = (struct end){.st = t->b, .h = hb, .side = 1, .total = total, .rng = 11};
	while (!e[0].eof || !e[1].eof) {
		if (++rounds > 200000)
			fail_msg("stuck: a sent %llu rcvd %llu, b sent %llu rcvd %llu",
				 (unsigned long long)e[0].sent, (unsigned long long)e[0].rcvd,
				 (unsigned long long)e[1].sent, (unsigned long long)e[1].rcvd);
		for (s = 0; s < 2; s++) {
			end_send(&e[s], mixed);
			end_recv(&e[s], mixed);
		}
		poll_both(t, 1);
	}
	for (s = 0; s < 2; s++) {
		assert_int_equal(e[s].sent, total);
		assert_int_equal(e[s].rcvd, total);
		assert_int_equal(xs_tcp_error(e[s].st, e[s].h), 0);
		assert_int_equal(xs_tcp_close(e[s].st, e[s].h), 0);
	}
	poll_both(t, 10);
}

/* --- TCP ------------------------------------------------------------------------ */

/* 300 KB each way at once through 6000- and 7000-byte rings, only peek /
 * consume and reserve / commit, partial uses included: every byte arrives,
 * and both rings wrapped (a peek or reserve shorter than what was there). */
static void test_tcp_zc_transfer_both_ways(void **state)
{
	struct two *t = *state;
	struct end e[2];
	int s;

	transfer(t, 80, 6000, 7000, 300000, false, e);
	for (s = 0; s < 2; s++) {
		assert_int_equal(e[s].copy_ops, 0);
		assert_true(e[s].rcv_wraps > 0);
		assert_true(e[s].snd_wraps > 0);
	}
}

/* The same with plain xs_tcp_send / xs_tcp_recv between the zero-copy calls:
 * one stream, whichever way each piece went in or out. */
static void test_tcp_zc_mixed_with_copies(void **state)
{
	struct two *t = *state;
	struct end e[2];
	int s;

	transfer(t, 81, 4096, 5000, 200000, true, e);
	for (s = 0; s < 2; s++) {
		assert_true(e[s].zc_ops > 0 && e[s].copy_ops > 0);
		assert_true(e[s].rcv_wraps > 0);
	}
}

/* What a lend blocks, what it does not, and -EINVAL for more than was lent. */
static void test_tcp_zc_contract(void **state)
{
	struct two *t = *state;
	const void *in, *in2;
	void *out, *out2;
	uint8_t buf[64];
	ssize_t room;
	struct xs_tcp ha, hb;

	tcp_pair(t, 82, NULL, NULL, &ha, &hb);
	/* Nothing yet; nothing lent. */
	in = buf;
	assert_int_equal(xs_tcp_recv_peek(t->b, hb, &in), -EAGAIN);
	assert_null(in);
	assert_int_equal(xs_tcp_recv_consume(t->b, hb, 1), -EINVAL);
	assert_int_equal(xs_tcp_recv_consume(t->b, hb, 0), 0);
	assert_int_equal(xs_tcp_send_commit(t->b, hb, 1), -EINVAL);
	assert_int_equal(xs_tcp_send_commit(t->b, hb, 0), 0);

	/* Receive: the bytes in place; again, the same. */
	assert_int_equal(xs_tcp_send(t->a, ha, "hello world", 11), 11);
	poll_both(t, 3);
	assert_int_equal(xs_tcp_recv_peek(t->b, hb, &in), 11);
	assert_memory_equal(in, "hello world", 11);
	assert_int_equal(xs_tcp_recv_peek(t->b, hb, &in2), 11);
	assert_ptr_equal(in, in2);
	/* Blocked while the head is lent: nothing done. */
	assert_int_equal(xs_tcp_recv(t->b, hb, buf, sizeof(buf)), -EBUSY);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, XS_SHUT_RD), -EBUSY);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, XS_SHUT_RDWR), -EBUSY);
	assert_int_equal(xs_tcp_setopt(t->b, hb, XS_TCP_RCVBUF, 8192), -EBUSY);
	assert_int_equal(info_of(t->b, hb).rcv_queue, 11);
	/* More than lent: refused, the borrow stands. */
	assert_int_equal(xs_tcp_recv_consume(t->b, hb, 12), -EINVAL);
	assert_int_equal(xs_tcp_recv_peek(t->b, hb, &in2), 11);
	assert_ptr_equal(in, in2);
	/* The other direction is free meanwhile, by copy or in place. */
	assert_int_equal(xs_tcp_send(t->b, hb, "ok", 2), 2);
	assert_int_equal(xs_tcp_poll_events(t->b, hb), XS_EV_READABLE | XS_EV_WRITABLE);
	/* Part of it: the rest is read as usual. */
	assert_int_equal(xs_tcp_recv_consume(t->b, hb, 6), 0);
	assert_int_equal(xs_tcp_recv_consume(t->b, hb, 1), -EINVAL); /* over */
	assert_int_equal(xs_tcp_recv(t->b, hb, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "world", 5);
	assert_int_equal(xs_tcp_recv_peek(t->b, hb, &in), -EAGAIN);
	poll_both(t, 3);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 2);
	poll_both(t, 60); /* acknowledged: b's send ring is empty */

	/* Send: a reservation blocks the other send calls. */
	room = xs_tcp_send_reserve(t->b, hb, &out);
	assert_true(room > 100);
	assert_non_null(out);
	assert_int_equal(xs_tcp_send(t->b, hb, "x", 1), -EBUSY);
	assert_int_equal(xs_tcp_send_urgent(t->b, hb, "x", 1), -EBUSY);
	assert_int_equal(xs_tcp_shutdown(t->b, hb), -EBUSY);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, XS_SHUT_WR), -EBUSY);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, XS_SHUT_RDWR), -EBUSY);
	assert_int_equal(xs_tcp_setopt(t->b, hb, XS_TCP_SNDBUF, 8192), -EBUSY);
	/* ... but not receiving, nor XS_SHUT_RD. */
	assert_int_equal(xs_tcp_recv(t->b, hb, buf, sizeof(buf)), -EAGAIN);
	/* Nothing reserved leaves before the commit, polls or not. */
	memcpy(out, "abcdef", 6);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), -EAGAIN);
	assert_int_equal(info_of(t->b, hb).snd_queue, 0);
	assert_int_equal(xs_tcp_send_commit(t->b, hb, (size_t)room + 1), -EINVAL);
	assert_int_equal(xs_tcp_send_reserve(t->b, hb, &out2), room);
	assert_ptr_equal(out, out2);
	assert_int_equal(xs_tcp_send_commit(t->b, hb, 3), 0);
	assert_int_equal(xs_tcp_send_commit(t->b, hb, 1), -EINVAL); /* over */
	assert_int_equal(info_of(t->b, hb).snd_queue, 3);
	poll_both(t, 3);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	/* Commit 0 gives the reservation back: sending works again. */
	assert_true(xs_tcp_send_reserve(t->b, hb, &out) > 0);
	assert_int_equal(xs_tcp_send_commit(t->b, hb, 0), 0);
	assert_int_equal(xs_tcp_send(t->b, hb, "z", 1), 1);
	assert_int_equal(xs_tcp_shutdown(t->b, hb), 0);
	/* After the FIN: no reservation (as xs_tcp_send, -EPIPE). */
	out = buf;
	assert_int_equal(xs_tcp_send_reserve(t->b, hb, &out), -EPIPE);
	assert_null(out);
	poll_both(t, 3);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 1);
	assert_int_equal(xs_tcp_recv_peek(t->a, ha, &in), 0); /* end of stream */
	assert_null(in);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
}

/* Listeners and connections still opening lend nothing. */
static void test_tcp_zc_not_connected(void **state)
{
	struct two *t = *state;
	struct xs_tcp lh = xs_tcp_listen(t->b, 83, 4), ha;
	const void *in;
	void *out;

	assert_int_equal(xs_tcp_recv_peek(t->b, lh, &in), -ENOTCONN);
	assert_int_equal(xs_tcp_send_reserve(t->b, lh, &out), -ENOTCONN);
	ha = xs_tcp_connect(t->a, B_IP, 83);
	assert_int_equal(xs_tcp_send_reserve(t->a, ha, &out), -EAGAIN);
	assert_null(out);
	assert_int_equal(xs_tcp_recv_peek(t->a, ha, &in), -EAGAIN);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_close(t->b, lh), 0);
}

/* The window opens as bytes are consumed, not when they are peeked: a peer
 * that filled it waits (2 s of probes included) while a borrow stands, and
 * sends the rest once it is consumed. */
static void test_tcp_zc_window(void **state)
{
	struct two *t = *state;
	uint8_t big[20000];
	const void *in, *in2;
	ssize_t n, n2;
	uint64_t got = 0;
	struct xs_tcp ha, hb;

	memset(big, 0x33, sizeof(big));
	sized_pair(t, 84, 16384, 4096, &ha, &hb);
	assert_int_equal(xs_tcp_send(t->a, ha, big, sizeof(big)), 16384);
	poll_both(t, 50);
	n = xs_tcp_recv_peek(t->b, hb, &in);
	assert_true(n > 0);
	poll_both(t, 2000);
	assert_true(info_of(t->b, hb).rcv_queue <= 4096);
	assert_true(info_of(t->a, ha).snd_queue >= 16384 - 4096);
	n2 = xs_tcp_recv_peek(t->b, hb, &in2);
	assert_ptr_equal(in, in2);
	assert_true(n2 >= n);
	for (int rounds = 0; got < 16384; rounds++) {
		assert_true(rounds < 10000);
		n = xs_tcp_recv_peek(t->b, hb, &in);
		if (n == -EAGAIN) {
			poll_both(t, 1);
			continue;
		}
		assert_true(n > 0);
		assert_true(memchr(in, 0x33, (size_t)n) == in);
		assert_int_equal(xs_tcp_recv_consume(t->b, hb, (size_t)n), 0);
		got += (uint64_t)n;
		poll_both(t, 1);
	}
	assert_int_equal(got, 16384);
	poll_both(t, 50);
	assert_int_equal(info_of(t->a, ha).snd_queue, 0);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
}

/* Closing with lends out: peeked-not-consumed is unread (close resets);
 * reserved-not-committed is never sent (close is graceful). After close the
 * handle answers -EBADF, also once its number is reused. */
static void test_tcp_zc_close_with_lend(void **state)
{
	struct two *t = *state;
	const void *in;
	void *out;
	uint8_t buf[64];
	ssize_t room;
	struct xs_tcp ha, hb, hc, hd;

	tcp_pair(t, 85, NULL, NULL, &ha, &hb);
	/* b reserves and writes, commits 4, writes more, closes. */
	room = xs_tcp_send_reserve(t->b, hb, &out);
	assert_true(room >= 10);
	memcpy(out, "keepdrop!!", 10);
	assert_int_equal(xs_tcp_send_commit(t->b, hb, 4), 0);
	assert_true(xs_tcp_send_reserve(t->b, hb, &out) > 0);
	memcpy(out, "never", 5);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
	poll_both(t, 10);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "keep", 4);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 0); /* FIN, no RST */
	assert_int_equal(xs_tcp_error(t->a, ha), 0);
	/* The closed handle: -EBADF from every zero-copy call, *p NULL. */
	out = buf;
	in = buf;
	assert_int_equal(xs_tcp_send_reserve(t->b, hb, &out), -EBADF);
	assert_null(out);
	assert_int_equal(xs_tcp_recv_peek(t->b, hb, &in), -EBADF);
	assert_null(in);
	assert_int_equal(xs_tcp_send_commit(t->b, hb, 0), -EBADF);
	assert_int_equal(xs_tcp_recv_consume(t->b, hb, 0), -EBADF);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	poll_both(t, 10);

	/* Peeked and not consumed at close: unread, so the peer is reset. */
	tcp_pair(t, 86, NULL, NULL, &hc, &hd);
	assert_int_equal(xs_tcp_send(t->a, hc, "unread", 6), 6);
	poll_both(t, 3);
	assert_int_equal(xs_tcp_recv_peek(t->b, hd, &in), 6);
	assert_int_equal(xs_tcp_close(t->b, hd), 0);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_error(t->a, hc), -ECONNRESET);
	assert_int_equal(xs_tcp_recv_consume(t->b, hd, 6), -EBADF);
	assert_int_equal(xs_tcp_recv_peek(t->b, hd, &in), -EBADF);
	/* A new connection on b may take the same number: the old handle
	 * still names nothing. */
	assert_int_equal(xs_tcp_close(t->a, hc), 0);
	tcp_pair(t, 87, NULL, NULL, &ha, &hb);
	assert_int_equal(xs_tcp_send(t->a, ha, "new", 3), 3);
	poll_both(t, 3);
	if (hb.id == hd.id)
		assert_int_not_equal(hb.gen, hd.gen);
	assert_int_equal(xs_tcp_recv_peek(t->b, hd, &in), -EBADF);
	assert_int_equal(xs_tcp_recv_consume(t->b, hd, 0), -EBADF);
	assert_int_equal(xs_tcp_recv_peek(t->b, hb, &in), 3);
	assert_int_equal(xs_tcp_recv_consume(t->b, hb, 3), 0);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
	poll_both(t, 5);
}

/* The peer resets while both lends are out: what had arrived stays readable
 * in place, the error comes after it; the commit fails, nothing is queued. */
static void test_tcp_zc_reset_during_lend(void **state)
{
	struct two *t = *state;
	const void *in;
	void *out;
	struct xs_tcp ha, hb;

	tcp_pair(t, 88, NULL, NULL, &ha, &hb);
	assert_int_equal(xs_tcp_send(t->b, hb, "last words", 10), 10);
	poll_both(t, 3);
	assert_int_equal(xs_tcp_recv_peek(t->a, ha, &in), 10);
	assert_true(xs_tcp_send_reserve(t->a, ha, &out) > 0);
	memcpy(out, "lost", 4);
	assert_int_equal(xs_tcp_abort(t->b, hb), 0);
	poll_both(t, 5);
	assert_true(xs_tcp_poll_events(t->a, ha) & XS_EV_ERROR);
	/* The borrowed bytes are still there, in place. */
	assert_memory_equal(in, "last words", 10);
	assert_int_equal(xs_tcp_send_commit(t->a, ha, 4), -ECONNRESET);
	assert_int_equal(xs_tcp_send_commit(t->a, ha, 4), -EINVAL); /* over */
	assert_int_equal(xs_tcp_send_reserve(t->a, ha, &out), -ECONNRESET);
	assert_int_equal(xs_tcp_recv_consume(t->a, ha, 10), 0);
	assert_int_equal(xs_tcp_recv_peek(t->a, ha, &in), -ECONNRESET);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
}

/* --- UDP ------------------------------------------------------------------------ */

static void test_udp_zc(void **state)
{
	struct two *t = *state;
	struct xs_udp ha = xs_udp_open(t->a), hb = xs_udp_open(t->b);
	const void *p, *p2;
	uint8_t buf[64], big[1200];
	uint32_t ip = 0;
	uint16_t port = 0;
	uint64_t drops;

	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_bind(t->a, ha, 1234), 0);
	assert_int_equal(xs_udp_recv_peek(t->b, hb, &p, NULL, NULL), -EAGAIN);
	assert_null(p);
	assert_int_equal(xs_udp_recv_consume(t->b, hb), -EINVAL);
	assert_int_equal(xs_udp_sendto(t->a, ha, "first", 5, B_IP, 7), 5);
	assert_int_equal(xs_udp_sendto(t->a, ha, "", 0, B_IP, 7), 0);
	assert_int_equal(xs_udp_sendto(t->a, ha, "third", 5, B_IP, 7), 5);
	poll_both(t, 3);
	/* The first datagram in place, with its source; again, the same. */
	assert_int_equal(xs_udp_recv_peek(t->b, hb, &p, &ip, &port), 5);
	assert_memory_equal(p, "first", 5);
	assert_int_equal(ip, A_IP);
	assert_int_equal(port, 1234);
	assert_int_equal(xs_udp_recv_peek(t->b, hb, &p2, NULL, NULL), 5);
	assert_ptr_equal(p, p2);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, buf, sizeof(buf), NULL, NULL), -EBUSY);
	/* It stays across polls. */
	poll_both(t, 5);
	assert_memory_equal(p, "first", 5);
	assert_int_equal(xs_udp_poll_events(t->b, hb), XS_EV_READABLE | XS_EV_WRITABLE);
	assert_int_equal(xs_udp_recv_consume(t->b, hb), 0);
	assert_int_equal(xs_udp_recv_consume(t->b, hb), -EINVAL);
	/* The empty datagram: length 0, and still a datagram to consume. */
	assert_int_equal(xs_udp_recv_peek(t->b, hb, &p, NULL, NULL), 0);
	assert_non_null(p);
	assert_int_equal(xs_udp_recv_consume(t->b, hb), 0);
	/* Mixed with recvfrom once given back. */
	assert_int_equal(xs_udp_recvfrom(t->b, hb, buf, sizeof(buf), NULL, NULL), 5);
	assert_memory_equal(buf, "third", 5);
	assert_int_equal(xs_udp_recv_peek(t->b, hb, &p, NULL, NULL), -EAGAIN);
	/* A borrowed datagram still counts against XS_UDP_RCVBUF until it is
	 * consumed: the next one past the budget is dropped (counted). */
	assert_int_equal(xs_udp_setopt(t->b, hb, XS_UDP_RCVBUF, 2048), 0);
	memset(big, 0x44, sizeof(big));
	assert_int_equal(xs_udp_sendto(t->a, ha, big, sizeof(big), B_IP, 7), 1200);
	poll_both(t, 3);
	assert_int_equal(xs_udp_recv_peek(t->b, hb, &p, NULL, NULL), 1200);
	drops = xs_stack_stats(t->b)->drop[XS_DROP_UDP_RCVBUF];
	assert_int_equal(xs_udp_sendto(t->a, ha, big, sizeof(big), B_IP, 7), 1200);
	poll_both(t, 3);
	assert_int_equal(xs_stack_stats(t->b)->drop[XS_DROP_UDP_RCVBUF], drops + 1);
	assert_int_equal(xs_udp_recv_consume(t->b, hb), 0);
	assert_int_equal(xs_udp_sendto(t->a, ha, big, sizeof(big), B_IP, 7), 1200);
	poll_both(t, 3);
	assert_int_equal(xs_stack_stats(t->b)->drop[XS_DROP_UDP_RCVBUF], drops + 1);
	assert_int_equal(xs_udp_recv_peek(t->b, hb, &p, NULL, NULL), 1200);
	assert_memory_equal(p, big, 1200);
	assert_int_equal(xs_udp_recv_consume(t->b, hb), 0);
	/* Closed with a borrow out: freed (ASan/LSan would see otherwise);
	 * the handle answers -EBADF. */
	assert_int_equal(xs_udp_sendto(t->a, ha, "gone", 4, B_IP, 7), 4);
	poll_both(t, 3);
	assert_int_equal(xs_udp_recv_peek(t->b, hb, &p, NULL, NULL), 4);
	assert_int_equal(xs_udp_close(t->b, hb), 0);
	p = buf;
	assert_int_equal(xs_udp_recv_peek(t->b, hb, &p, NULL, NULL), -EBADF);
	assert_null(p);
	assert_int_equal(xs_udp_recv_consume(t->b, hb), -EBADF);
	/* A new socket on the number starts with nothing lent. */
	hb = xs_udp_open(t->b);
	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_recv_consume(t->b, hb), -EINVAL);
	/* A connected socket's pending ICMP error comes first, once. */
	assert_int_equal(xs_udp_connect(t->a, ha, B_IP, 9), 0);
	assert_int_equal(xs_udp_send(t->a, ha, "x", 1), 1);
	poll_both(t, 3);
	assert_int_equal(xs_udp_recv_peek(t->a, ha, &p, NULL, NULL), -ECONNREFUSED);
	assert_null(p);
	assert_int_equal(xs_udp_recv_peek(t->a, ha, &p, NULL, NULL), -EAGAIN);
	assert_int_equal(xs_udp_close(t->a, ha), 0);
	assert_int_equal(xs_udp_close(t->b, hb), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tcp_zc_transfer_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_zc_mixed_with_copies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_zc_contract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_zc_not_connected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_zc_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_zc_close_with_lend, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_zc_reset_during_lend, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_zc, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
