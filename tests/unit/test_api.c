/* The public API's contracts over two stacks on linked mem devices: readiness
 * after each kind of event, close from a callback, use after close, the loop. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

#define A_IP 0x0a000001u
#define B_IP 0x0a000002u

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};

struct two {
	struct xs_dev *da, *db;
	struct xs_stack *a, *b;
	xs_time_t now;
};

/* Everything a callback saw, per handle. */
struct seen {
	unsigned ev[16];
	unsigned calls[16];
	int close_self;      /* 1: the callback closes its own TCP handle */
	int close_other;     /* >= 0: ... and this TCP handle too */
	int stop;            /* 1: the callback calls xs_stop */
};

static void tcp_seen(struct xs_stack *st, int h, unsigned ev, void *ctx)
{
	struct seen *s = ctx;

	if (h < 16) {
		s->ev[h] |= ev;
		s->calls[h]++;
	}
	if (s->close_other >= 0) {
		assert_int_equal(xs_tcp_close(st, s->close_other), 0);
		s->close_other = -1;
	}
	if (s->close_self)
		assert_int_equal(xs_tcp_close(st, h), 0);
	if (s->stop)
		xs_stop(st);
	/* Re-entering the poll from a callback is refused. */
	assert_int_equal(xs_stack_poll(st, 0), -EBUSY);
}

static void udp_seen(struct xs_stack *st, int h, unsigned ev, void *ctx)
{
	struct seen *s = ctx;

	s->ev[h] |= ev;
	s->calls[h]++;
	if (s->close_self)
		assert_int_equal(xs_udp_close(st, h), 0);
	if (s->stop)
		xs_stop(st);
	assert_int_equal(xs_run(st, NULL), -EBUSY);
}

static void poll_both(struct two *t, int rounds)
{
	while (rounds--) {
		t->now += XS_MS(1);
		assert_true(xs_stack_poll(t->a, t->now) >= 0);
		assert_true(xs_stack_poll(t->b, t->now) >= 0);
	}
}

static void ping_nop(struct xs_stack *st, int h, const struct xs_ping_result *r, void *ctx)
{
	(*(int *)ctx)++;
}

/* Each side resolves the other (a ping each way), so tests start with no
 * ARP exchange in the way. */
static void warm_arp(struct two *t)
{
	int got = 0, pa = xs_ping_open(t->a, ping_nop, &got), pb = xs_ping_open(t->b, ping_nop, &got);

	assert_int_equal(xs_ping_send(t->a, pa, B_IP, 1, 8), 0);
	assert_int_equal(xs_ping_send(t->b, pb, A_IP, 1, 8), 0);
	poll_both(t, 10);
	assert_int_equal(got, 2);
	assert_int_equal(xs_ping_close(t->a, pa), 0);
	assert_int_equal(xs_ping_close(t->b, pb), 0);
}

static int setup(void **state)
{
	struct two *t = calloc(1, sizeof(*t));
	struct xs_config ca = {.ip = A_IP}, cb = {.ip = B_IP};

	assert_non_null(t);
	t->da = xs_mem_dev_new(mac_a, 1500, 512);
	t->db = xs_mem_dev_new(mac_b, 1500, 512);
	assert_non_null(t->da);
	assert_non_null(t->db);
	xs_mem_dev_link(t->da, t->db);
	t->a = xs_stack_new(&ca, t->da);
	t->b = xs_stack_new(&cb, t->db);
	assert_non_null(t->a);
	assert_non_null(t->b);
	poll_both(t, 5);
	warm_arp(t);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct two *t = *state;

	xs_stack_free(t->a);
	xs_stack_free(t->b);
	xs_dev_free(t->da);
	xs_dev_free(t->db);
	free(t);
	return 0;
}

/* Readable within 0 ms? */
static int fd_ready(int epfd)
{
	struct epoll_event ev;

	return epoll_wait(epfd, &ev, 1, 0);
}

/* A TCP connection a -> b:port, accepted; handles out. */
static void tcp_pair(struct two *t, uint16_t port, struct seen *sa, struct seen *sb, int *ha,
		     int *hb)
{
	int lh = xs_tcp_listen(t->b, port, 8);

	assert_true(lh >= 0);
	assert_int_equal(xs_tcp_poll_events(t->b, lh), 0);
	if (sb)
		assert_int_equal(xs_tcp_set_event_cb(t->b, lh, tcp_seen, sb), 0);
	*ha = xs_tcp_connect(t->a, B_IP, port);
	assert_true(*ha >= 0);
	/* Opening: neither readable nor writable. */
	assert_int_equal(xs_tcp_poll_events(t->a, *ha), 0);
	if (sa)
		assert_int_equal(xs_tcp_set_event_cb(t->a, *ha, tcp_seen, sa), 0);
	poll_both(t, 10);
	assert_int_equal(xs_tcp_poll_events(t->b, lh), XS_EV_READABLE);
	if (sb)
		assert_true(sb->ev[lh] & XS_EV_READABLE);
	*hb = xs_tcp_accept(t->b, lh, NULL, NULL);
	assert_true(*hb >= 0);
	assert_int_equal(xs_tcp_poll_events(t->b, lh), 0);
	assert_int_equal(xs_tcp_close(t->b, lh), 0);
	if (sa)
		assert_true(sa->ev[*ha] & XS_EV_WRITABLE);
	assert_int_equal(xs_tcp_poll_events(t->a, *ha), XS_EV_WRITABLE);
	assert_int_equal(xs_tcp_poll_events(t->b, *hb), XS_EV_WRITABLE);
}

static void test_udp_readiness(void **state)
{
	struct two *t = *state;
	struct seen sb = {.close_other = -1};
	uint8_t buf[64];
	uint32_t ip;
	uint16_t port;
	int ha = xs_udp_open(t->a), hb = xs_udp_open(t->b);

	assert_true(ha >= 0 && hb >= 0);
	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_poll_events(t->b, hb), XS_EV_WRITABLE);
	assert_int_equal(xs_udp_set_event_cb(t->b, hb, udp_seen, &sb), 0);
	assert_int_equal(xs_udp_sendto(t->a, ha, "hello", 5, B_IP, 7), 5);
	poll_both(t, 3);
	assert_int_equal(sb.ev[hb], XS_EV_READABLE);
	assert_int_equal(sb.calls[hb], 1);
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
	assert_int_equal(xs_udp_poll_events(t->b, -1), -EBADF);
	assert_int_equal(xs_udp_poll_events(t->b, 100000), -EBADF);
}

/* UDP: a socket closed by its own callback gets nothing more, even with
 * another datagram already queued for it in the same poll. */
static void test_udp_close_in_callback(void **state)
{
	struct two *t = *state;
	struct seen sb = {.close_self = 1, .close_other = -1};
	int ha = xs_udp_open(t->a), hb = xs_udp_open(t->b);

	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_set_event_cb(t->b, hb, udp_seen, &sb), 0);
	assert_int_equal(xs_udp_sendto(t->a, ha, "1", 1, B_IP, 7), 1);
	assert_int_equal(xs_udp_sendto(t->a, ha, "2", 1, B_IP, 7), 1);
	poll_both(t, 5);
	assert_int_equal(sb.calls[hb], 1);
	assert_int_equal(xs_udp_poll_events(t->b, hb), -EBADF);
	/* The port is free again: the next datagram is refused (counted). */
	assert_int_equal(xs_udp_sendto(t->a, ha, "3", 1, B_IP, 7), 1);
	poll_both(t, 3);
	assert_int_equal(sb.calls[hb], 1);
	assert_true(xs_stack_stats(t->b)->drop[XS_DROP_UDP_NO_PORT] >= 1);
}

static void test_tcp_readiness(void **state)
{
	struct two *t = *state;
	struct seen sa = {.close_other = -1}, sb = {.close_other = -1};
	uint8_t big[8192], buf[8192];
	ssize_t n;
	int ha, hb;

	memset(big, 0x5a, sizeof(big));
	tcp_pair(t, 80, &sa, &sb, &ha, &hb);
	/* Data: readable. */
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb, tcp_seen, &sb), 0);
	poll_both(t, 1);
	memset(sb.ev, 0, sizeof(sb.ev));
	assert_int_equal(xs_tcp_send(t->a, ha, "ping", 4), 4);
	poll_both(t, 5);
	assert_true(sb.ev[hb] & XS_EV_READABLE);
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
	for (int i = 0; i < 2000 && !(sa.ev[ha] & XS_EV_WRITABLE); i++) {
		poll_both(t, 1);
		while (xs_tcp_recv(t->b, hb, buf, sizeof(buf)) > 0)
			;
	}
	assert_true(sa.ev[ha] & XS_EV_WRITABLE);
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
	assert_true(sb.ev[hb] & XS_EV_HUP);
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
	struct seen sa = {.close_other = -1};
	int ha, hb;

	tcp_pair(t, 81, &sa, NULL, &ha, &hb);
	memset(sa.ev, 0, sizeof(sa.ev));
	assert_int_equal(xs_tcp_abort(t->b, hb), 0);
	poll_both(t, 5);
	assert_int_equal(sa.ev[ha], XS_EV_READABLE | XS_EV_ERROR | XS_EV_HUP);
	assert_int_equal(xs_tcp_poll_events(t->a, ha),
			 XS_EV_READABLE | XS_EV_WRITABLE | XS_EV_ERROR | XS_EV_HUP);
	assert_int_equal(xs_tcp_error(t->a, ha), -ECONNRESET);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	/* A refused connect: the same. */
	ha = xs_tcp_connect(t->a, B_IP, 99);
	assert_int_equal(xs_tcp_set_event_cb(t->a, ha, tcp_seen, &sa), 0);
	poll_both(t, 5);
	assert_true(sa.ev[ha] & XS_EV_ERROR);
	assert_int_equal(xs_tcp_error(t->a, ha), -ECONNREFUSED);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
}

/* Close from inside a callback: each of two connections with data in the
 * same batch closes itself; each is called once, then its handle is gone. */
static void test_tcp_close_in_callback(void **state)
{
	struct two *t = *state;
	struct seen sb;
	int ha1, hb1, ha2, hb2;

	tcp_pair(t, 82, NULL, NULL, &ha1, &hb1);
	tcp_pair(t, 83, NULL, NULL, &ha2, &hb2);
	memset(&sb, 0, sizeof(sb));
	sb.close_other = -1;
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb1, tcp_seen, &sb), 0);
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb2, tcp_seen, &sb), 0);
	poll_both(t, 2);
	memset(&sb, 0, sizeof(sb));
	sb.close_self = 1;
	sb.close_other = -1;
	assert_int_equal(xs_tcp_send(t->a, ha1, "a", 1), 1);
	assert_int_equal(xs_tcp_send(t->a, ha2, "b", 1), 1);
	t->now += XS_MS(1);
	assert_true(xs_stack_poll(t->a, t->now) >= 0);
	assert_true(xs_stack_poll(t->b, t->now) >= 0);
	assert_int_equal(sb.calls[hb1], 1);
	assert_int_equal(sb.calls[hb2], 1);
	assert_int_equal(xs_tcp_poll_events(t->b, hb1), -EBADF);
	assert_int_equal(xs_tcp_poll_events(t->b, hb2), -EBADF);
	/* Closed with unread data: reset (RFC 2525 2.17). */
	poll_both(t, 5);
	assert_int_equal(xs_tcp_error(t->a, ha1), -ECONNRESET);
	assert_int_equal(xs_tcp_error(t->a, ha2), -ECONNRESET);
	assert_int_equal(xs_tcp_close(t->a, ha1), 0);
	assert_int_equal(xs_tcp_close(t->a, ha2), 0);
}

static void tcp_close_peer(struct xs_stack *st, int h, unsigned ev, void *ctx)
{
	struct seen *s = ctx;
	int other = h == (int)s->ev[14] ? (int)s->ev[15] : (int)s->ev[14];

	s->calls[h]++;
	assert_int_equal(xs_tcp_close(st, other), 0);
}

/* One callback closes the other connection, whose event is queued in the
 * same poll: the closed one is never called. */
static void test_tcp_close_other_in_callback(void **state)
{
	struct two *t = *state;
	struct seen sb;
	int ha1, hb1, ha2, hb2, live;

	tcp_pair(t, 84, NULL, NULL, &ha1, &hb1);
	tcp_pair(t, 85, NULL, NULL, &ha2, &hb2);
	memset(&sb, 0, sizeof(sb));
	sb.ev[14] = (unsigned)hb1;
	sb.ev[15] = (unsigned)hb2;
	assert_int_equal(xs_tcp_send(t->a, ha1, "a", 1), 1);
	assert_int_equal(xs_tcp_send(t->a, ha2, "b", 1), 1);
	t->now += XS_MS(1);
	assert_true(xs_stack_poll(t->a, t->now) >= 0);
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb1, tcp_close_peer, &sb), 0);
	assert_int_equal(xs_tcp_set_event_cb(t->b, hb2, tcp_close_peer, &sb), 0);
	assert_true(xs_stack_poll(t->b, t->now) >= 0);
	assert_int_equal(sb.calls[hb1] + sb.calls[hb2], 1);
	live = sb.calls[hb1] ? hb1 : hb2;
	assert_int_equal(xs_tcp_poll_events(t->b, live == hb1 ? hb2 : hb1), -EBADF);
	assert_true(xs_tcp_poll_events(t->b, live) & XS_EV_READABLE);
	assert_int_equal(xs_tcp_close(t->b, live), 0);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_close(t->a, ha1), 0);
	assert_int_equal(xs_tcp_close(t->a, ha2), 0);
}

static void ping_seen(struct xs_stack *st, int h, const struct xs_ping_result *r, void *ctx)
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
	int got = 0, h = xs_ping_open(t->a, ping_seen, &got);

	assert_true(h >= 0);
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
	int fa = xs_stack_fd(t->a), fb = xs_stack_fd(t->b), ha, hb;

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
	struct seen sb = {.stop = 1, .close_other = -1};
	int ha = xs_udp_open(t->a), hb = xs_udp_open(t->b);
	uint8_t buf[8];

	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_set_event_cb(t->b, hb, udp_seen, &sb), 0);
	/* Sent from a and flushed into b's device before b runs. */
	assert_int_equal(xs_udp_sendto(t->a, ha, "go", 2, B_IP, 7), 2);
	assert_true(xs_stack_poll(t->a, xs_clock_now()) >= 0);
	assert_int_equal(xs_run(t->b, &(struct xs_run_opts){.max_wait_ms = 10}), 0);
	assert_int_equal(sb.calls[hb], 1);
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
	struct seen s = {.close_other = -1};
	struct xs_stack *st;
	uint8_t f[2048];
	ssize_t n;
	int h, i;

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
	assert_int_equal(s.calls[h], 0); /* still no frame free */
	assert_int_equal(xs_udp_poll_events(st, h), 0);
	assert_true(xs_mem_dev_take(d, f, sizeof(f)) > 0);
	assert_true(xs_stack_poll(st, XS_MS(2)) >= 0);
	assert_int_equal(s.calls[h], 1);
	assert_int_equal(s.ev[h], XS_EV_WRITABLE);
	assert_int_equal(xs_udp_poll_events(st, h), XS_EV_WRITABLE);
	assert_int_equal(xs_udp_sendto(st, h, "x", 1, 0x0a0000ffu, 9), 1);
	assert_int_equal(xs_udp_close(st, h), 0);
	xs_stack_free(st);
	xs_dev_free(d);
}

/* --- creation from a config struct -------------------------------------------- */

static void test_create_mem_routes(void **state)
{
	struct xs_route routes[] = {{.dst = 0x0a010000u, .prefix_len = 16, .gateway = 0x0a0000feu}};
	struct xs_stack_opts o = {.cfg = {.ip = A_IP, .prefix_len = 24},
				  .routes = routes, .nroutes = 1};
	struct xs_route got[8];
	uint8_t f[2048];
	char err[256];
	struct xs_stack *st;
	uint32_t nh;
	size_t n;

	(void)state;
	assert_int_equal(xs_stack_opts_dev(&o, "mem", err, sizeof(err)), 0);
	st = xs_stack_create(&o, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(xs_route_list(st, got, 8), 2);
	assert_int_equal(xs_route_lookup(st, 0x0a010203u, &nh), 0);
	assert_int_equal(nh, 0x0a0000feu);
	/* The device is the stack's: the start-up announcement goes out on it. */
	assert_true(xs_stack_poll(st, 0) >= 0);
	n = xs_mem_dev_take(xs_stack_dev(st), f, sizeof(f));
	assert_int_equal(n, 60);
	assert_int_equal(f[12] << 8 | f[13], 0x0806);
	xs_stack_free(st); /* frees the device too (ASan would see a leak) */

	/* A route the stack refuses: one line, nothing left made. */
	routes[0].gateway = 0x0b000001u; /* not on the connected subnet */
	err[0] = 0;
	assert_null(xs_stack_create(&o, err, sizeof(err)));
	assert_int_equal(errno, ENETUNREACH);
	assert_non_null(strstr(err, "route 10.1.0.0/16 via 11.0.0.1"));
	/* No address; no device kind. */
	o.cfg.ip = 0;
	assert_null(xs_stack_create(&o, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	memset(&o, 0, sizeof(o));
	o.cfg.ip = A_IP;
	assert_null(xs_stack_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "no device kind"));
}

static void test_opts_dev_specs(void **state)
{
	struct xs_stack_opts o;
	char err[256];

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(xs_stack_opts_dev(&o, "afxdp:veth0@3", err, sizeof(err)), 0);
	assert_int_equal(o.dev_kind, XS_DEV_AFXDP);
	assert_string_equal(o.ifname, "veth0");
	assert_int_equal(o.queue, 3);
	assert_int_equal(xs_stack_opts_dev(&o, "afxdp:eth1", err, sizeof(err)), 0);
	assert_string_equal(o.ifname, "eth1");
	assert_int_equal(o.queue, 0);
	assert_int_equal(xs_stack_opts_dev(&o, "tap:xs0", err, sizeof(err)), 0);
	assert_int_equal(o.dev_kind, XS_DEV_TAP);
	assert_string_equal(o.ifname, "xs0");
	static const char *bad[] = {"", "afxdp:", "afxdp:@1", "afxdp:eth0@", "afxdp:eth0@x",
				    "afxdp:eth0@99999", "tap:", "tun:x", "memx",
				    "tap:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(xs_stack_opts_dev(&o, bad[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "bad device"));
	}
}

/* An embedder's own device, written against the public ops table only: a
 * four-buffer device that keeps what is sent and lends what is queued. */
struct toy {
	struct xs_dev dev;
	uint8_t buf[4][1600];
	int used[4];
	int rx[4], nrx;            /* buffers queued for the stack */
	int sent, rx_out, tx_out, destroyed;
	uint8_t last[1600];
	uint32_t last_len;
};

static int toy_rx_burst(struct xs_dev *d, struct xs_frame *f, int max)
{
	struct toy *t = d->priv;
	int n = 0;

	while (n < max && t->nrx) {
		int i = t->rx[--t->nrx];

		f[n].data = t->buf[i];
		f[n].len = 60;
		f[n].cap = sizeof(t->buf[i]);
		f[n].handle = (uint64_t)i;
		t->rx_out++;
		n++;
	}
	return n;
}

static void toy_rx_release(struct xs_dev *d, const struct xs_frame *f, int n)
{
	struct toy *t = d->priv;

	for (int i = 0; i < n; i++) {
		t->used[f[i].handle] = 0;
		t->rx_out--;
	}
}

static int toy_tx_alloc(struct xs_dev *d, struct xs_frame *f)
{
	struct toy *t = d->priv;

	for (int i = 0; i < 4; i++) {
		if (!t->used[i]) {
			t->used[i] = 1;
			f->data = t->buf[i];
			f->len = 0;
			f->cap = sizeof(t->buf[i]);
			f->handle = (uint64_t)i;
			t->tx_out++;
			return 0;
		}
	}
	return -ENOBUFS;
}

static void toy_tx_submit(struct xs_dev *d, const struct xs_frame *f, uint32_t len)
{
	struct toy *t = d->priv;

	memcpy(t->last, f->data, len);
	t->last_len = len;
	t->sent++;
	t->used[f->handle] = 0;
	t->tx_out--;
}

static void toy_tx_abort(struct xs_dev *d, const struct xs_frame *f)
{
	struct toy *t = d->priv;

	t->used[f->handle] = 0;
	t->tx_out--;
}

static int toy_flush(struct xs_dev *d)
{
	return 0;
}

static void toy_frames(const struct xs_dev *d, struct xs_dev_frames *out)
{
	const struct toy *t = d->priv;

	memset(out, 0, sizeof(*out));
	out->total = 4;
	out->rx_borrowed = (uint32_t)t->rx_out;
	out->tx_borrowed = (uint32_t)t->tx_out;
}

static void toy_destroy(struct xs_dev *d)
{
	struct toy *t = d->priv;

	t->destroyed++;
}

static const struct xs_dev_ops toy_ops = {
	.rx_burst = toy_rx_burst, .rx_release = toy_rx_release, .tx_alloc = toy_tx_alloc,
	.tx_submit = toy_tx_submit, .tx_abort = toy_tx_abort, .flush = toy_flush,
	.frames = toy_frames, .destroy = toy_destroy,
};

static void test_custom_device(void **state)
{
	static struct toy t;
	struct xs_stack_opts o = {.cfg = {.ip = A_IP}, .dev_kind = XS_DEV_CUSTOM, .dev = &t.dev};
	static const uint8_t mac[6] = {0x02, 1, 2, 3, 4, 5};
	struct xs_stack *st;
	char err[128];
	uint8_t *a;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.dev.ops = &toy_ops;
	memcpy(t.dev.mac, mac, 6);
	t.dev.mtu = 1500;
	t.dev.fd = -1;
	t.dev.priv = &t;
	st = xs_stack_create(&o, err, sizeof(err));
	assert_non_null(st);
	assert_true(xs_stack_poll(st, 0) >= 0);
	/* The gratuitous ARP left through the embedder's tx_submit. */
	assert_int_equal(t.sent, 1);
	assert_int_equal(t.last_len, 60);
	assert_memory_equal(t.last + 6, mac, 6);
	/* An ARP request for our address, lent by rx_burst: answered, and the
	 * buffer given back in the same poll. */
	t.used[0] = 1;
	a = t.buf[0];
	memset(a, 0xff, 6);
	memcpy(a + 6, mac_b, 6);
	a[12] = 0x08, a[13] = 0x06;
	memcpy(a + 14, (uint8_t[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
	memcpy(a + 22, mac_b, 6);
	memcpy(a + 28, (uint8_t[]){10, 0, 0, 2}, 4);
	memset(a + 32, 0, 6);
	memcpy(a + 38, (uint8_t[]){10, 0, 0, 1}, 4);
	t.rx[t.nrx++] = 0;
	assert_int_equal(xs_stack_poll(st, XS_MS(1)), 1);
	assert_int_equal(t.rx_out, 0);
	assert_int_equal(t.used[0], 0);
	assert_int_equal(t.sent, 2);
	assert_int_equal(t.last[21], 2); /* ARP reply */
	assert_memory_equal(t.last, mac_b, 6);
	assert_int_equal(t.tx_out, 0);
	/* The stack owns it now: freed (destroy called) with the stack. */
	xs_stack_free(st);
	assert_int_equal(t.destroyed, 1);
}

/* --- socket options ------------------------------------------------------------ */

static void test_tcp_opts_get_set(void **state)
{
	struct two *t = *state;
	int ha, hb, v;

	tcp_pair(t, 90, NULL, NULL, &ha, &hb);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_NODELAY, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(xs_tcp_setopt(t->a, ha, XS_TCP_NODELAY, 1), 0);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_NODELAY, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(xs_tcp_setopt(t->a, ha, XS_TCP_KEEPIDLE, 30), 0);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_KEEPIDLE, &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_USER_TIMEOUT, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(xs_tcp_setopt(t->a, ha, XS_TCP_USER_TIMEOUT, 1500), 0);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_USER_TIMEOUT, &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(xs_tcp_setopt(t->a, ha, XS_TCP_TOS, 0xbb), 0);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_TOS, &v), 0);
	assert_int_equal(v, 0xb8); /* ECN bits are the stack's */
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_RTO_MIN, &v), 0);
	assert_int_equal(v, 200);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_SNDBUF, &v), 0);
	assert_int_equal(v, 256 * 1024);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_CC_CUBIC, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(xs_tcp_getopt(t->a, ha, (enum xs_tcp_opt)99, &v), -ENOPROTOOPT);
	assert_int_equal(xs_tcp_getopt(t->a, 4000, XS_TCP_NODELAY, &v), -EBADF);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
}

static void test_tcp_connect_ex(void **state)
{
	struct two *t = *state;
	struct xs_tcp_connect_opts o = {.lport = 40000, .rcvbuf = 1 << 20, .sndbuf = 8192,
					.nodelay = 1};
	struct xs_tcp_info info;
	uint16_t port;
	int lh = xs_tcp_listen(t->b, 91, 4), la = xs_tcp_listen(t->a, 41000, 4), ha, hb, v;

	assert_true(lh >= 0 && la >= 0);
	/* A listener's port, an out-of-range buffer. */
	assert_int_equal(xs_tcp_connect_ex(t->a, B_IP, 91,
					   &(struct xs_tcp_connect_opts){.lport = 41000}),
			 -EADDRINUSE);
	assert_int_equal(xs_tcp_connect_ex(t->a, B_IP, 91,
					   &(struct xs_tcp_connect_opts){.sndbuf = 100}),
			 -EINVAL);
	ha = xs_tcp_connect_ex(t->a, B_IP, 91, &o);
	assert_true(ha >= 0);
	/* The same 4-tuple again. */
	assert_int_equal(xs_tcp_connect_ex(t->a, B_IP, 91, &o), -EADDRINUSE);
	poll_both(t, 10);
	hb = xs_tcp_accept(t->b, lh, NULL, &port);
	assert_true(hb >= 0);
	assert_int_equal(port, 40000);
	assert_int_equal(xs_tcp_get_info(t->a, ha, &info), 0);
	assert_int_equal(info.lport, 40000);
	assert_int_equal(info.rcv_wscale, 5); /* 1 MiB announced in the SYN */
	assert_int_equal(xs_tcp_get_info(t->b, hb, &info), 0);
	assert_int_equal(info.snd_wscale, 5);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_SNDBUF, &v), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(xs_tcp_getopt(t->a, ha, XS_TCP_NODELAY, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
	assert_int_equal(xs_tcp_close(t->b, lh), 0);
	assert_int_equal(xs_tcp_close(t->a, la), 0);
}

static void test_tcp_shutdown_read(void **state)
{
	struct two *t = *state;
	struct xs_tcp_info info;
	uint8_t buf[64];
	int ha, hb;

	tcp_pair(t, 92, NULL, NULL, &ha, &hb);
	assert_int_equal(xs_tcp_send(t->a, ha, "unread", 6), 6);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, 0), -EINVAL);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, 4), -EINVAL);
	assert_int_equal(xs_tcp_shutdown_how(t->b, hb, XS_SHUT_RD), 0);
	/* End of stream at once, readable, still writable. */
	assert_int_equal(xs_tcp_recv(t->b, hb, buf, sizeof(buf)), 0);
	assert_int_equal(xs_tcp_poll_events(t->b, hb), XS_EV_READABLE | XS_EV_WRITABLE);
	/* Later data is acknowledged and dropped. */
	assert_int_equal(xs_tcp_send(t->a, ha, "more", 4), 4);
	poll_both(t, 60); /* past the delayed ACK */
	assert_int_equal(xs_tcp_get_info(t->a, ha, &info), 0);
	assert_int_equal(info.snd_queue, 0);
	assert_int_equal(xs_tcp_get_info(t->b, hb, &info), 0);
	assert_int_equal(info.rcv_queue, 0);
	assert_int_equal(xs_tcp_recv(t->b, hb, buf, sizeof(buf)), 0);
	/* The write side still works, and closing is graceful (no RST: nothing
	 * unread is held). */
	assert_int_equal(xs_tcp_send(t->b, hb, "reply", 5), 5);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 5);
	assert_int_equal(xs_tcp_close(t->b, hb), 0);
	poll_both(t, 5);
	assert_int_equal(xs_tcp_recv(t->a, ha, buf, sizeof(buf)), 0);
	assert_int_equal(xs_tcp_error(t->a, ha), 0);
	assert_int_equal(xs_tcp_shutdown_how(t->a, ha, XS_SHUT_RDWR), 0);
	poll_both(t, 5);
	assert_true(xs_tcp_poll_events(t->a, ha) & XS_EV_HUP);
	assert_int_equal(xs_tcp_close(t->a, ha), 0);
	assert_int_equal(xs_tcp_shutdown_how(t->a, ha, XS_SHUT_RD), -EBADF);
}

/* XS_UDP_RCVBUF bounds the bytes queued unread; past it, counted drops. */
static void test_udp_rcvbuf(void **state)
{
	struct two *t = *state;
	uint8_t d[1000] = {0};
	uint64_t before;
	int ha = xs_udp_open(t->a), hb = xs_udp_open(t->b), v;

	assert_int_equal(xs_udp_bind(t->b, hb, 7), 0);
	assert_int_equal(xs_udp_getopt(t->b, hb, XS_UDP_RCVBUF, &v), 0);
	assert_int_equal(v, 262144);
	assert_int_equal(xs_udp_setopt(t->b, hb, XS_UDP_RCVBUF, 2047), -EINVAL);
	assert_int_equal(xs_udp_setopt(t->b, hb, XS_UDP_RCVBUF, (16 << 20) + 1), -EINVAL);
	assert_int_equal(xs_udp_setopt(t->b, hb, XS_UDP_RCVBUF, 2500), 0);
	assert_int_equal(xs_udp_getopt(t->b, hb, XS_UDP_RCVBUF, &v), 0);
	assert_int_equal(v, 2500);
	before = xs_stack_stats(t->b)->drop[XS_DROP_UDP_RCVBUF];
	for (int i = 0; i < 3; i++)
		assert_int_equal(xs_udp_sendto(t->a, ha, d, sizeof(d), B_IP, 7), 1000);
	poll_both(t, 3);
	assert_int_equal(xs_stack_stats(t->b)->drop[XS_DROP_UDP_RCVBUF] - before, 1);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, d, sizeof(d), NULL, NULL), 1000);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, d, sizeof(d), NULL, NULL), 1000);
	assert_int_equal(xs_udp_recvfrom(t->b, hb, d, sizeof(d), NULL, NULL), -EAGAIN);
	assert_int_equal(xs_udp_setopt(t->b, 200, XS_UDP_RCVBUF, 4096), -EBADF);
	assert_int_equal(xs_udp_getopt(t->b, hb, (enum xs_udp_opt)7, &v), -ENOPROTOOPT);
}

/* --- embedding: the application's own epoll loop, public API only --------------- */

struct bulk {
	struct xs_stack *st;
	int h;
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

static void bulk_cb(struct xs_stack *st, int h, unsigned ev, void *ctx)
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
	int ep = epoll_create1(0), lh, i;
	xs_time_t start = xs_clock_now();

	assert_true(ep >= 0);
	for (i = 0; i < 2; i++) {
		ev.data.u32 = (uint32_t)i;
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, xs_stack_fd(sts[i]), &ev), 0);
	}
	lh = xs_tcp_listen(t->b, 5000, 4);
	ba.h = xs_tcp_connect(t->a, B_IP, 5000);
	assert_true(ba.h >= 0);
	assert_int_equal(xs_tcp_set_event_cb(t->a, ba.h, bulk_cb, &ba), 0);
	bb.h = -1;
	while (!bb.eof) {
		xs_time_t now = xs_clock_now(), next = ~0ull;
		int n, wait;

		assert_true(now - start < XS_SEC(60));
		for (i = 0; i < 2; i++) {
			assert_true(xs_stack_poll(sts[i], now) >= 0);
			if (xs_stack_next_timer(sts[i]) < next)
				next = xs_stack_next_timer(sts[i]);
		}
		if (bb.h < 0 && (bb.h = xs_tcp_accept(t->b, lh, NULL, NULL)) >= 0)
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
		cmocka_unit_test_setup_teardown(test_ping_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stack_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_stops_from_signal, setup, teardown),
		cmocka_unit_test(test_udp_writable_after_enobufs),
		cmocka_unit_test(test_create_mem_routes),
		cmocka_unit_test(test_opts_dev_specs),
		cmocka_unit_test(test_custom_device),
		cmocka_unit_test_setup_teardown(test_tcp_opts_get_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_connect_ex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_shutdown_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_rcvbuf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_embedded_epoll_loop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
