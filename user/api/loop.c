/* The embeddable loop: one fd an application's epoll/poll can wait on
 * (the device's fd plus an eventfd for work raised between polls), and xs_run. */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/mq.h"
#include "core/stack.h"

static int loop_init(struct xs_stack *st)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int err;

	st->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (st->wake_fd < 0)
		return -errno;
	st->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (st->ep_fd < 0)
		goto err;
	if (epoll_ctl(st->ep_fd, EPOLL_CTL_ADD, st->wake_fd, &ev) != 0)
		goto err;
	if (st->dev->fd >= 0 && epoll_ctl(st->ep_fd, EPOLL_CTL_ADD, st->dev->fd, &ev) != 0)
		goto err;
	/* Multi-queue: work another queue's stack hands over wakes us too. */
	if (st->mq && epoll_ctl(st->ep_fd, EPOLL_CTL_ADD, xs_mq_fd(st->mq, st->mq_index), &ev) != 0)
		goto err;
	/* Whatever is pending already must show. */
	if (xs_stack_next_timer(st) == 0 || st->stop)
		xs_loop_kick(st);
	return 0;
err:
	err = -errno;
	xs_loop_fini(st);
	return err;
}

int xs_stack_fd(struct xs_stack *st)
{
	int err;

	if (st->ep_fd < 0 && (err = loop_init(st)) != 0)
		return err;
	return st->ep_fd;
}

void xs_loop_fini(struct xs_stack *st)
{
	if (st->ep_fd >= 0)
		close(st->ep_fd);
	if (st->wake_fd >= 0)
		close(st->wake_fd);
	st->ep_fd = st->wake_fd = -1;
	st->kicked = 0;
}

void xs_loop_kick(struct xs_stack *st)
{
	uint64_t one = 1;

	st->kicked = 1;
	if (write(st->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, readable anyway. */
	}
}

void xs_loop_drain(struct xs_stack *st)
{
	uint64_t v;

	st->kicked = 0;
	if (st->wake_fd >= 0 && read(st->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was written. */
	}
}

void xs_stop(struct xs_stack *st)
{
	uint64_t one = 1;
	int fd = st->wake_fd;

	/* Async-signal-safe: flags and write(2), nothing else. */
	st->stop = 1;
	st->kicked = 1;
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* Saturated: readable anyway. */
	}
}

xs_time_t xs_clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (xs_time_t)ts.tv_sec * XS_SEC(1) + (xs_time_t)ts.tv_nsec;
}

/* Milliseconds until next (rounded up so a timer is never polled early),
 * at most cap. */
static int loop_wait_ms(xs_time_t next, xs_time_t now, unsigned cap)
{
	xs_time_t d;

	if (next <= now)
		return 0;
	d = (next - now + XS_NSEC_PER_MS - 1) / XS_NSEC_PER_MS;
	return d < cap ? (int)d : (int)cap;
}

int xs_run(struct xs_stack *st, const struct xs_run_opts *opts)
{
	unsigned cap = opts && opts->max_wait_ms ? opts->max_wait_ms : 1000;
	int busy = opts ? opts->busy_poll : 0;
	struct epoll_event ev[4];
	int fd, n, rc = 0;

	if (st->in_poll)
		return -EBUSY; /* from a callback: the outer loop goes on */
	fd = xs_stack_fd(st);
	if (fd < 0)
		return fd;
	while (!st->stop) {
		xs_time_t now = xs_clock_now();
		int wait;

		n = xs_stack_poll(st, now);
		if (n < 0) {
			rc = n;
			break;
		}
		if (n == XS_POLL_BATCH || busy || st->stop)
			continue; /* more frames wait, or spinning */
		wait = loop_wait_ms(xs_stack_next_timer(st), xs_clock_now(), cap);
		if (wait && epoll_wait(fd, ev, 4, wait) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
	}
	st->stop = 0;
	/* xs_stop's wake-up is consumed; pending work keeps the fd readable. */
	if (st->kicked) {
		xs_loop_drain(st);
		if (xs_stack_next_timer(st) == 0)
			xs_loop_kick(st);
	}
	return rc;
}
