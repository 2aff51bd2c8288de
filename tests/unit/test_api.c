/* The public API's contracts over two stacks on linked mem devices: readiness
 * after each kind of event, close from a callback, use after close, the loop. */
#include "api_fixture.h"

static void test_udp_readiness(void **state)
{
	struct two *t = *state;
	struct seen sb = {.close_other = XS_NO_HANDLE};
	uint8_t buf[64];
	uint32_t ip;
	uint16_t port;
	struct xs_udp ha = xs_udp_open(t->a), hb = xs_udp_open(t->b);

	assert_true(ha.id >= 0 && hb.id >= 0);
	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_poll_events(t->b, hb), XS_EV_WRITABLE);
	assert_int_equal(xs_udp_set_event_cb(t->b, hb, udp_seen, &sb), 0);
	assert_int_equal(xs_udp_sendto(t->a, ha, "hello", 5, B_IP, 7), 5);
	poll_both(t, 3);
	assert_int_equal(sb.ev[hb.id], XS_EV_READABLE);
	assert_int_equal(sb.calls[hb.id], 1);
	assert_int_equal(xs_udp_poll_events(t->b, hb), XS_EV_READABLE | XS_EV_WRITABLE);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, buf, sizeof(buf), &ip, &port), 5);
	assert_int_equal(ip, A_IP);
	assert_int_equal(xs_udp_poll_events(t->b, hb), XS_EV_WRITABLE);
	/* A closed port on b: a connected socket on a hears the ICMP error. */
	assert_int_equal(xs_udp_connect(t->a, ha, B_IP, 9), 0);
	assert_int_equal(xs_udp_send(t->a, ha, "x", 1), 1);
	poll_both(t, 3);
	assert_int_equal(xs_udp_poll_events(t->a, ha), XS_EV_ERROR | XS_EV_WRITABLE);
	assert_int_equal(xs_udp_recvfrom(t->a, ha, buf, sizeof(buf), NULL, NULL), -ECONNREFUSED);
	assert_int_equal(xs_udp_poll_events(t->a, ha), XS_EV_WRITABLE);
	/* Used after close. */
	assert_int_equal(xs_udp_close(t->b, hb), 0);
	assert_int_equal(xs_udp_poll_events(t->b, hb), -EBADF);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, buf, sizeof(buf), NULL, NULL), -EBADF);
	assert_int_equal(xs_udp_sendto(t->b, hb, "x", 1, A_IP, 7), -EBADF);
	assert_int_equal(xs_udp_close(t->b, hb), -EBADF);
	assert_int_equal(xs_udp_poll_events(t->b, (struct xs_udp)XS_NO_HANDLE), -EBADF);
	assert_int_equal(xs_udp_poll_events(t->b, (struct xs_udp){.id = 100000}), -EBADF);
}

/* UDP: a socket closed by its own callback gets nothing more, even with
 * another datagram already queued for it in the same poll. */
static void test_udp_close_in_callback(void **state)
{
	struct two *t = *state;
	struct seen sb = {.close_self = 1, .close_other = XS_NO_HANDLE};
	struct xs_udp ha = xs_udp_open(t->a), hb = xs_udp_open(t->b);

	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_set_event_cb(t->b, hb, udp_seen, &sb), 0);
	assert_int_equal(xs_udp_sendto(t->a, ha, "1", 1, B_IP, 7), 1);
	assert_int_equal(xs_udp_sendto(t->a, ha, "2", 1, B_IP, 7), 1);
	poll_both(t, 5);
	assert_int_equal(sb.calls[hb.id], 1);
	assert_int_equal(xs_udp_poll_events(t->b, hb), -EBADF);
	/* The port is free again: the next datagram is refused (counted). */
	assert_int_equal(xs_udp_sendto(t->a, ha, "3", 1, B_IP, 7), 1);
	poll_both(t, 3);
	assert_int_equal(sb.calls[hb.id], 1);
	assert_true(xs_stack_stats(t->b)->drop[XS_DROP_UDP_NO_PORT] >= 1);
}

static void test_tcp_readiness(void **state)
{
	struct two *t = *state;
	struct seen sa = {.close_other = XS_NO_HANDLE}, sb = {.close_other = XS_NO_HANDLE};
	uint8_t big[8192], buf[8192];
	ssize_t n;
	struct xs_tcp ha, hb;

	memset(big, 0x5a, sizeof(big));
	tcp_pair(t, 80, &sa, &sb, &ha, &hb);
	/* Data: readable. */
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb, tcp_seen, &sb), 0);
	poll_both(t, 1);
	memset(sb.ev, 0, sizeof(sb.ev));
	assert_int_equal(xs_tcp_send(t->a, ha, "ping", 4), 4);
	poll_both(t, 5);
	assert_true(sb.ev[hb.id] & XS_EV_READABLE);
	assert_int_equal(xs_tcp_poll_events(t->b, hb), XS_EV_READABLE | XS_EV_WRITABLE);
	assert_int_equal(xs_tcp_recv(t->b, hb, buf, sizeof(buf)), 4);
	assert_int_equal(xs_tcp_poll_events(t->b, hb), XS_EV_WRITABLE);
	/* Full send buffer: not writable; WRITABLE comes back once it drains. */
	assert_int_equal(xs_tcp_setopt(t->a, ha, XS_TCP_NODELAY, 1), 0);
	for (;;) {
		n = xs_tcp_send(t->a, ha, big, sizeof(big));
		if (n == -EAGAIN)
			break;
		assert_true(n > 0);
	}
	assert_int_equal(xs_tcp_poll_events(t->a, ha), 0);
	memset(sa.ev, 0, sizeof(sa.ev));
	for (int i = 0; i < 2000 && !(sa.ev[ha.id] & XS_EV_WRITABLE); i++) {
		poll_both(t, 1);
		while (xs_tcp_recv(t->b, hb, buf, sizeof(buf)) > 0)
			;
	}
	assert_true(sa.ev[ha.id] & XS_EV_WRITABLE);
	assert_true(xs_tcp_poll_events(t->a, ha) & XS_EV_WRITABLE);
	/* Peer's FIN: readable (EOF), still writable. */
	assert_int_equal(xs_tcp_shutdown(t->b, hb), 0);
	poll_both(t, 20);
	while (xs_tcp_recv(t->a, ha, buf, sizeof(buf)) > 0)
		;
	assert_int_equal(xs_tcp_poll_events(t->a, ha), XS_EV_READABLE | XS_EV_WRITABLE);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 0);
	/* Our FIN too: over (TIME-WAIT on a, CLOSED on b). */
	assert_int_equal(xs_tcp_shutdown(t->a, ha), 0);
	poll_both(t, 20);
	assert_true(xs_tcp_poll_events(t->a, ha) & XS_EV_HUP);
	assert_true(xs_tcp_poll_events(t->b, hb) & XS_EV_HUP);
	assert_true(sb.ev[hb.id] & XS_EV_HUP);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
	/* Used after close. */
	assert_int_equal(xs_tcp_poll_events(t->a, ha), -EBADF);
	assert_int_equal(xs_tcp_send(t->a, ha, "x", 1), -EBADF);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, 1), -EBADF);
	assert_int_equal(xs_tcp_close(t->a, ha), -EBADF);
	assert_int_equal(xs_tcp_set_event_cb(t->a, ha, tcp_seen, &sa), -EBADF);
}

/* Reset by the peer: readable, error and hangup together. */
static void test_tcp_error_readiness(void **state)
{
	struct two *t = *state;
	struct seen sa = {.close_other = XS_NO_HANDLE};
	struct xs_tcp ha, hb;

	tcp_pair(t, 81, &sa, NULL, &ha, &hb);
	memset(sa.ev, 0, sizeof(sa.ev));
	assert_int_equal(xs_tcp_abort(t->b, hb), 0);
	poll_both(t, 5);
	assert_int_equal(sa.ev[ha.id], XS_EV_READABLE | XS_EV_ERROR | XS_EV_HUP);
	assert_int_equal(xs_tcp_poll_events(t->a, ha),
			 XS_EV_READABLE | XS_EV_WRITABLE | XS_EV_ERROR | XS_EV_HUP);
	assert_int_equal(xs_tcp_error(t->a, ha), -ECONNRESET);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	/* A refused connect: the same. */
	ha = xs_tcp_connect(t->a, B_IP, 99);
	assert_int_equal(xs_tcp_set_event_cb(t->a, ha, tcp_seen, &sa), 0);
	poll_both(t, 5);
	assert_true(sa.ev[ha.id] & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->a, ha), -ECONNREFUSED);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
}

/* Close from inside a callback: each of two connections with data in the
 * same batch closes itself; each is called once, then its handle is gone. */
static void test_tcp_close_in_callback(void **state)
{
	struct two *t = *state;
	struct seen sb;
	struct xs_tcp ha1, hb1, ha2, hb2;

	tcp_pair(t, 82, NULL, NULL, &ha1, &hb1);
	tcp_pair(t, 83, NULL, NULL, &ha2, &hb2);
	memset(&sb, 0, sizeof(sb));
	sb.close_other = (struct xs_tcp)XS_NO_HANDLE;
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb1, tcp_seen, &sb), 0);
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb2, tcp_seen, &sb), 0);
	poll_both(t, 2);
	memset(&sb, 0, sizeof(sb));
	sb.close_self = 1;
	sb.close_other = (struct xs_tcp)XS_NO_HANDLE;
	assert_int_equal(xs_tcp_send(t->a, ha1, "a", 1), 1);
	assert_int_equal(xs_tcp_send(t->a, ha2, "b", 1), 1);
	t->now += XS_MS(1);
	assert_true(xs_stack_poll(t->a, t->now) >= 0);
	assert_true(xs_stack_poll(t->b, t->now) >= 0);
	assert_int_equal(sb.calls[hb1.id], 1);
	assert_int_equal(sb.calls[hb2.id], 1);
	assert_int_equal(xs_tcp_poll_events(t->b, hb1), -EBADF);
	assert_int_equal(xs_tcp_poll_events(t->b, hb2), -EBADF);
	/* Closed with unread data: reset (RFC 2525 2.17). */
	poll_both(t, 5);
	assert_int_equal(xs_tcp_error(t->a, ha1), -ECONNRESET);
	assert_int_equal(xs_tcp_error(t->a, ha2), -ECONNRESET);
	assert_int_equal(xs_tcp_close(t->a, ha1), 0);
	assert_int_equal(xs_tcp_close(t->a, ha2), 0);
}

static void tcp_close_peer(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	struct seen *s = ctx;
	struct xs_tcp *pair = s->pair;
	struct xs_tcp other = h.id == pair[0].id ? pair[1] : pair[0];

	s->calls[h.id]++;
	assert_int_equal(xs_tcp_close(st, other), 0);
}

/* One callback closes the other connection, whose event is queued in the
 * same poll: the closed one is never called. */
static void test_tcp_close_other_in_callback(void **state)
{
	struct two *t = *state;
	struct seen sb;
	struct xs_tcp ha1, hb1, ha2, hb2, live;

	tcp_pair(t, 84, NULL, NULL, &ha1, &hb1);
	tcp_pair(t, 85, NULL, NULL, &ha2, &hb2);
	memset(&sb, 0, sizeof(sb));
	sb.pair[0] = hb1;
	sb.pair[1] = hb2;
	assert_int_equal(xs_tcp_send(t->a, ha1, "a", 1), 1);
	assert_int_equal(xs_tcp_send(t->a, ha2, "b", 1), 1);
	t->now += XS_MS(1);
	assert_true(xs_stack_poll(t->a, t->now) >= 0);
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb1, tcp_close_peer, &sb), 0);
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb2, tcp_close_peer, &sb), 0);
	assert_true(xs_stack_poll(t->b, t->now) >= 0);
	assert_int_equal(sb.calls[hb1.id] + sb.calls[hb2.id], 1);
	live = sb.calls[hb1.id] ? hb1 : hb2;
	assert_int_equal(xs_tcp_poll_events(t->b, live.id == hb1.id ? hb2 : hb1), -EBADF);
	assert_true(xs_tcp_poll_events(t->b, live) & XS_EV_READABLE);
	assert_int_equal(xs_tcp_close(t->b, live), 0);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_close(t->a, ha1), 0);
	assert_int_equal(xs_tcp_close(t->a, ha2), 0);
}

/* Handles are {id, gen}: a number comes back after a close, the handle does
 * not. The kept one gets -EBADF from every call and never reaches the new
 * connection; the new one works. */
static void test_tcp_handle_reused_number(void **state)
{
	struct two *t = *state;
	struct seen sa = {.close_other = XS_NO_HANDLE};
	struct xs_tcp ha, hb, old, lh;
	uint8_t buf[16];

	tcp_pair(t, 86, NULL, NULL, &ha, &hb);
	old = ha;
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	lh = xs_tcp_listen(t->a, 87, 4); /* takes the freed number (LIFO) */
	assert_int_equal(lh.id, old.id);
	assert_int_not_equal(lh.gen, old.gen);
	assert_int_equal(xs_tcp_poll_events(t->a, old), -EBADF);
	assert_int_equal(xs_tcp_send(t->a, old, "x", 1), -EBADF);
	assert_int_equal(xs_tcp_recv(t->a, old, buf, sizeof(buf)), -EBADF);
	assert_int_equal(xs_tcp_set_event_cb(t->a, old, tcp_seen, &sa), -EBADF);
	assert_int_equal(xs_tcp_setopt(t->a, old, XS_TCP_NODELAY, 1), -EBADF);
	assert_int_equal(xs_tcp_accept(t->a, old, NULL, NULL).id, -EBADF);
	assert_int_equal(xs_tcp_close(t->a, old), -EBADF);
	/* The listener behind the number is untouched. */
	assert_int_equal(xs_tcp_poll_events(t->a, lh), 0);
	assert_int_equal(xs_tcp_accept(t->a, lh, NULL, NULL).id, -EAGAIN);
	assert_int_equal(xs_tcp_close(t->a, lh), 0);
	/* A handle of another kind cannot be passed at all (a compile error:
	 * tests/unit/compile_fail/); a forged one is just a stale handle. */
	assert_int_equal(xs_tcp_close(t->a, (struct xs_tcp){.id = lh.id, .gen = 0}), -EBADF);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
}

static void ping_seen(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r, void *ctx)
{
	int *got = ctx;

	(*got)++;
	assert_int_equal(r->error, 0);
	/* Closing its own handle from the callback is allowed. */
	assert_int_equal(xs_ping_close(st, h), 0);
}

static void test_ping_readiness(void **state)
{
	struct two *t = *state;
	int got = 0;
	struct xs_ping h = xs_ping_open(t->a, ping_seen, &got);

	assert_true(h.id >= 0);
	assert_int_equal(xs_ping_poll_events(t->a, h), XS_EV_WRITABLE);
	assert_int_equal(xs_ping_send(t->a, h, B_IP, 1, 16), 0);
	assert_int_equal(xs_ping_send(t->a, h, B_IP, 2, 16), 0);
	t->now += XS_MS(1);
	assert_true(xs_stack_poll(t->a, t->now) >= 0);
	assert_true(xs_stack_poll(t->b, t->now) >= 0);
	/* The replies wait in a's device; after the batch, the callback. */
	assert_int_equal(xs_ping_poll_events(t->a, h), XS_EV_WRITABLE);
	assert_true(xs_stack_poll(t->a, t->now) >= 0);
	/* The first result closed the handle; the second was dropped. */
	assert_int_equal(got, 1);
	assert_int_equal(xs_ping_poll_events(t->a, h), -EBADF);
	assert_int_equal(xs_ping_send(t->a, h, B_IP, 3, 16), -EBADF);
}

/* The stack's fd: readable when a frame arrives, when an API call outside a
 * poll queued frames, when events wait, after xs_stop; quiet otherwise. */
static void test_stack_fd(void **state)
{
	struct two *t = *state;
	struct xs_udp ha, hb;
	int fa = xs_stack_fd(t->a), fb = xs_stack_fd(t->b);

	assert_true(fa >= 0 && fb >= 0);
	assert_int_equal(xs_stack_fd(t->a), fa);
	poll_both(t, 2);
	assert_int_equal(fd_ready(fa), 0);
	assert_int_equal(fd_ready(fb), 0);
	ha = xs_udp_open(t->a);
	hb = xs_udp_open(t->b);
	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	/* A send outside a poll: a's fd wakes (the frame waits for a flush),
	 * and next_timer says now. */
	assert_int_equal(xs_udp_sendto(t->a, ha, "x", 1, B_IP, 7), 1);
	assert_int_equal(fd_ready(fa), 1);
	assert_int_equal(xs_stack_next_timer(t->a), 0);
	assert_int_equal(fd_ready(fb), 0);
	t->now += XS_MS(1);
	assert_true(xs_stack_poll(t->a, t->now) >= 0);
	assert_int_equal(fd_ready(fa), 0);
	assert_true(xs_stack_next_timer(t->a) > t->now);
	/* The frame reached b's device: b's fd is readable until polled. */
	assert_int_equal(fd_ready(fb), 1);
	assert_true(xs_stack_poll(t->b, t->now) >= 0);
	assert_int_equal(fd_ready(fb), 0);
	/* An event raised by an API call between polls. */
	assert_int_equal(xs_udp_set_event_cb(t->b, hb, udp_seen, &(struct seen){0}), 0);
	assert_int_equal(fd_ready(fb), 1);
	assert_int_equal(xs_stack_next_timer(t->b), 0);
	assert_true(xs_stack_poll(t->b, t->now) >= 0);
	assert_int_equal(fd_ready(fb), 0);
	/* A frame injected by hand. */
	{
		static const uint8_t junk[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

		assert_int_equal(xs_mem_dev_inject(t->db, junk, sizeof(junk)), 0);
		assert_int_equal(fd_ready(fb), 1);
		assert_true(xs_stack_poll(t->b, t->now) == 1);
		assert_int_equal(fd_ready(fb), 0);
	}
	xs_stop(t->b);
	assert_int_equal(fd_ready(fb), 1);
	assert_int_equal(xs_run(t->b, NULL), 0); /* stops at once, clears the flag */
	assert_int_equal(fd_ready(fb), 0);
}

/* xs_run returns on xs_stop called from a callback. */
static void test_run_stops(void **state)
{
	struct two *t = *state;
	struct seen sb = {.stop = 1, .close_other = XS_NO_HANDLE};
	struct xs_udp ha = xs_udp_open(t->a), hb = xs_udp_open(t->b);
	uint8_t buf[8];

	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_set_event_cb(t->b, hb, udp_seen, &sb), 0);
	/* Sent from a and flushed into b's device before b runs. */
	assert_int_equal(xs_udp_sendto(t->a, ha, "go", 2, B_IP, 7), 2);
	assert_true(xs_stack_poll(t->a, xs_clock_now()) >= 0);
	assert_int_equal(xs_run(t->b, &(struct xs_run_opts){.max_wait_ms = 10}), 0);
	assert_int_equal(sb.calls[hb.id], 1);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, buf, sizeof(buf), NULL, NULL), 2);
}

static struct xs_stack *alarm_stack;

static void on_alarm(int sig)
{
	(void)sig;
	xs_stop(alarm_stack);
}

/* ... and on xs_stop from a signal handler while it sleeps. */
static void test_run_stops_from_signal(void **state)
{
	struct two *t = *state;
	struct sigaction sa = {.sa_handler = on_alarm};
	struct itimerval it = {.it_value = {.tv_usec = 50000}};

	alarm_stack = t->b;
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(xs_run(t->b, &(struct xs_run_opts){.max_wait_ms = 60000}), 0);
	signal(SIGALRM, SIG_DFL);
}

/* UDP: a send the device cannot take (-ENOBUFS, no tx frame free) clears
 * WRITABLE; once a frame is free again the socket hears XS_EV_WRITABLE. */
static void test_udp_writable_after_enobufs(void **state)
{
	struct xs_config cfg = {.ip = A_IP};
	struct xs_dev *d = xs_mem_dev_new(mac_a, 1500, 4);
	struct seen s = {.close_other = XS_NO_HANDLE};
	struct xs_stack *st;
	uint8_t f[2048];
	ssize_t n;
	struct xs_udp h;
	int i;

	(void)state;
	assert_non_null(d);
	st = xs_stack_new(&cfg, d);
	assert_non_null(st);
	assert_true(xs_stack_poll(st, 0) >= 0);
	while (xs_mem_dev_take(d, f, sizeof(f)))
		;
	h = xs_udp_open(st);
	assert_int_equal(xs_udp_set_event_cb(st, h, udp_seen, &s), 0);
	/* Broadcast: no ARP in the way. Nobody takes the frames sent. */
	for (i = 0; i < 10; i++) {
		n = xs_udp_sendto(st, h, "x", 1, 0x0a0000ffu, 9);
		if (n == -ENOBUFS)
			break;
		assert_int_equal(n, 1);
	}
	assert_int_equal(n, -ENOBUFS);
	assert_int_equal(xs_udp_poll_events(st, h), 0);
	assert_true(xs_stack_poll(st, XS_MS(1)) >= 0);
	assert_int_equal(s.calls[h.id], 0); /* still no frame free */
	assert_int_equal(xs_udp_poll_events(st, h), 0);
	assert_true(xs_mem_dev_take(d, f, sizeof(f)) > 0);
	assert_true(xs_stack_poll(st, XS_MS(2)) >= 0);
	assert_int_equal(s.calls[h.id], 1);
	assert_int_equal(s.ev[h.id], XS_EV_WRITABLE);
	assert_int_equal(xs_udp_poll_events(st, h), XS_EV_WRITABLE);
	assert_int_equal(xs_udp_sendto(st, h, "x", 1, 0x0a0000ffu, 9), 1);
	assert_int_equal(xs_udp_close(st, h), 0);
	xs_stack_free(st);
	xs_dev_free(d);
}

/* --- embedding: the application's own epoll loop, public API only --------------- */

struct bulk {
	struct xs_stack *st;
	struct xs_tcp h;
	uint64_t sent, rcvd, total;
	uint32_t sum_tx, sum_rx;  /* running checksums of the bytes */
	int fin, eof, wakeups;
};

static uint8_t bulk_byte(uint64_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

static void bulk_pump(struct bulk *b)
{
	uint8_t buf[4096];
	ssize_t n;

	while (b->sent < b->total) {
		size_t want = b->total - b->sent < sizeof(buf) ? (size_t)(b->total - b->sent) :
								   sizeof(buf);

		for (size_t i = 0; i < want; i++)
			buf[i] = bulk_byte(b->sent + i);
		n = xs_tcp_send(b->st, b->h, buf, want);
		if (n == -EAGAIN)
			break;
		assert_true(n > 0);
		for (ssize_t i = 0; i < n; i++)
			b->sum_tx = b->sum_tx * 31 + buf[i];
		b->sent += (uint64_t)n;
	}
	if (b->sent == b->total && b->total && !b->fin) {
		assert_int_equal(xs_tcp_shutdown(b->st, b->h), 0);
		b->fin = 1;
	}
	while ((n = xs_tcp_recv(b->st, b->h, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			assert_int_equal(buf[i], bulk_byte(b->rcvd + (uint64_t)i));
			b->sum_rx = b->sum_rx * 31 + buf[i];
		}
		b->rcvd += (uint64_t)n;
	}
	if (n == 0)
		b->eof = 1;
}

static void bulk_cb(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	struct bulk *b = ctx;

	b->wakeups++;
	bulk_pump(b);
}

/* Two stacks, one epoll set of the application's, the wall clock: 4 MB go
 * from a to b through xs_stack_fd wake-ups and xs_stack_next_timer alone,
 * checked byte by byte; the loop sleeps whenever nothing is due. */
static void test_embedded_epoll_loop(void **state)
{
	struct two *t = *state;
	struct bulk ba = {.st = t->a, .total = 4u << 20}, bb = {.st = t->b};
	struct xs_stack *sts[2] = {t->a, t->b};
	struct epoll_event ev = {.events = EPOLLIN}, got[4];
	struct xs_tcp lh;
	int ep = epoll_create1(0), i;
	xs_time_t start = xs_clock_now();

	assert_true(ep >= 0);
	for (i = 0; i < 2; i++) {
		ev.data.u32 = (uint32_t)i;
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, xs_stack_fd(sts[i]), &ev), 0);
	}
	lh = xs_tcp_listen(t->b, 5000, 4);
	ba.h = xs_tcp_connect(t->a, B_IP, 5000);
	assert_true(ba.h.id >= 0);
	assert_int_equal(xs_tcp_set_event_cb(t->a, ba.h, bulk_cb, &ba), 0);
	bb.h = (struct xs_tcp)XS_NO_HANDLE;
	while (!bb.eof) {
		xs_time_t now = xs_clock_now(), next = ~0ull;
		int n, wait;

		assert_true(now - start < XS_SEC(60));
		for (i = 0; i < 2; i++) {
			assert_true(xs_stack_poll(sts[i], now) >= 0);
			if (xs_stack_next_timer(sts[i]) < next)
				next = xs_stack_next_timer(sts[i]);
		}
		if (bb.h.id < 0 && (bb.h = xs_tcp_accept(t->b, lh, NULL, NULL)).id >= 0)
			assert_int_equal(xs_tcp_set_event_cb(t->b, bb.h, bulk_cb, &bb), 0);
		now = xs_clock_now();
		wait = next <= now ? 0 : (int)((next - now) / XS_NSEC_PER_MS) + 1;
		n = epoll_wait(ep, got, 4, wait > 1000 ? 1000 : wait);
		assert_true(n >= 0);
	}
	assert_int_equal(bb.rcvd, ba.total);
	assert_int_equal(bb.sum_rx, ba.sum_tx);
	assert_true(ba.wakeups > 1);
	/* b answers with its own FIN; a sees the end too (the virtual clock
	 * goes on from the wall clock's now: time never runs backwards). */
	t->now = xs_clock_now();
	assert_int_equal(xs_tcp_shutdown(t->b, bb.h), 0);
	for (i = 0; i < 200 && !ba.eof; i++) {
		poll_both(t, 1);
		bulk_pump(&ba);
	}
	assert_true(ba.eof);
	assert_int_equal(xs_tcp_close(t->a, ba.h), 0);
	assert_int_equal(xs_tcp_close(t->b, bb.h), 0);
	assert_int_equal(xs_tcp_close(t->b, lh), 0);
	close(ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_close_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_error_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_close_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_close_other_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_handle_reused_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stack_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_stops_from_signal, setup, teardown),
		cmocka_unit_test(test_udp_writable_after_enobufs),
		cmocka_unit_test_setup_teardown(test_embedded_epoll_loop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
