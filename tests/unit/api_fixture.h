/* The API tests' fixture: two stacks on linked mem devices, built and driven
 * through the public headers only, and callbacks that record what they saw. */
#ifndef XS_TEST_API_FIXTURE_H
#define XS_TEST_API_FIXTURE_H

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
	struct xs_tcp close_other; /* id >= 0: ... and this TCP handle too */
	int stop;            /* 1: the callback calls xs_stop */
	struct xs_tcp pair[2]; /* tcp_close_peer: each closes the other */
};

static inline void tcp_seen(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	struct seen *s = ctx;

	if (h.id < 16) {
		s->ev[h.id] |= ev;
		s->calls[h.id]++;
	}
	if (s->close_other.id >= 0) {
		assert_int_equal(xs_tcp_close(st, s->close_other), 0);
		s->close_other = (struct xs_tcp)XS_NO_HANDLE;
	}
	if (s->close_self)
		assert_int_equal(xs_tcp_close(st, h), 0);
	if (s->stop)
		xs_stop(st);
	/* Re-entering the poll from a callback is refused. */
	assert_int_equal(xs_stack_poll(st, 0), -EBUSY);
}

static inline void udp_seen(struct xs_stack *st, struct xs_udp h, unsigned ev, void *ctx)
{
	struct seen *s = ctx;

	s->ev[h.id] |= ev;
	s->calls[h.id]++;
	if (s->close_self)
		assert_int_equal(xs_udp_close(st, h), 0);
	if (s->stop)
		xs_stop(st);
	assert_int_equal(xs_run(st, NULL), -EBUSY);
}

static inline void poll_both(struct two *t, int rounds)
{
	while (rounds--) {
		t->now += XS_MS(1);
		assert_true(xs_stack_poll(t->a, t->now) >= 0);
		assert_true(xs_stack_poll(t->b, t->now) >= 0);
	}
}

static inline void ping_nop(struct xs_stack *st, struct xs_ping h, const struct xs_ping_result *r, void *ctx)
{
	(*(int *)ctx)++;
}

/* Each side resolves the other (a ping each way), so tests start with no
 * ARP exchange in the way. */
static inline void warm_arp(struct two *t)
{
	int got = 0;
	struct xs_ping pa = xs_ping_open(t->a, ping_nop, &got), pb = xs_ping_open(t->b, ping_nop, &got);

	assert_int_equal(xs_ping_send(t->a, pa, B_IP, 1, 8), 0);
	assert_int_equal(xs_ping_send(t->b, pb, A_IP, 1, 8), 0);
	poll_both(t, 10);
	assert_int_equal(got, 2);
	assert_int_equal(xs_ping_close(t->a, pa), 0);
	assert_int_equal(xs_ping_close(t->b, pb), 0);
}

static inline int setup(void **state)
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

static inline int teardown(void **state)
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
static inline int fd_ready(int epfd)
{
	struct epoll_event ev;

	return epoll_wait(epfd, &ev, 1, 0);
}

/* A TCP connection a -> b:port, accepted; handles out. */
static inline void tcp_pair(struct two *t, uint16_t port, struct seen *sa, struct seen *sb,
			    struct xs_tcp *ha, struct xs_tcp *hb)
{
	struct xs_tcp lh = xs_tcp_listen(t->b, port, 8);

	assert_true(lh.id >= 0);
	assert_int_equal(xs_tcp_poll_events(t->b, lh), 0);
	if (sb)
		assert_int_equal(xs_tcp_set_event_cb(t->b, lh, tcp_seen, sb), 0);
	*ha = xs_tcp_connect(t->a, B_IP, port);
	assert_true(ha->id >= 0);
	/* Opening: neither readable nor writable. */
	assert_int_equal(xs_tcp_poll_events(t->a, *ha), 0);
	if (sa)
		assert_int_equal(xs_tcp_set_event_cb(t->a, *ha, tcp_seen, sa), 0);
	poll_both(t, 10);
	assert_int_equal(xs_tcp_poll_events(t->b, lh), XS_EV_READABLE);
	if (sb)
		assert_true(sb->ev[lh.id] & XS_EV_READABLE);
	*hb = xs_tcp_accept(t->b, lh, NULL, NULL);
	assert_true(hb->id >= 0);
	assert_int_equal(xs_tcp_poll_events(t->b, lh), 0);
	assert_int_equal(xs_tcp_close(t->b, lh), 0);
	if (sa)
		assert_true(sa->ev[ha->id] & XS_EV_WRITABLE);
	assert_int_equal(xs_tcp_poll_events(t->a, *ha), XS_EV_WRITABLE);
	assert_int_equal(xs_tcp_poll_events(t->b, *hb), XS_EV_WRITABLE);
}


#endif
