/* Queue threads of the daemon: CPU pinning, start and stop, and the park
 * handshake that lets the control socket reach another queue's stack safely. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "app/log.h"
#include "app/queues.h"

#define PARK_WAIT_NS (10 * 1000 * 1000) /* a futex wait, then the flags again */

static void futex_wait(atomic_int *addr, int val)
{
	const struct timespec ts = {0, PARK_WAIT_NS};

	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static void futex_wake(atomic_int *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void wake(struct queue *q)
{
	uint64_t one = 1;

	if (q->wake_fd >= 0 && write(q->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: saturated, readable anyway */
	}
}

int queues_init(struct queues *qs, unsigned n)
{
	unsigned i;

	memset(qs, 0, sizeof(*qs));
	qs->q = calloc(n, sizeof(*qs->q));
	if (!qs->q)
		return -ENOMEM;
	qs->n = n;
	for (i = 0; i < n; i++) {
		struct queue *q = &qs->q[i];

		q->all = qs;
		q->index = i;
		q->cpu = -1;
		q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q->wake_fd < 0) {
			queues_fini(qs);
			return -errno;
		}
	}
	if (n > 1) {
		qs->mq = xs_mq_new(n, 0);
		if (!qs->mq) {
			int err = -errno;

			queues_fini(qs);
			return err;
		}
	}
	return 0;
}

void queues_fini(struct queues *qs)
{
	unsigned i;

	for (i = 0; qs->q && i < qs->n; i++)
		if (qs->q[i].wake_fd >= 0)
			close(qs->q[i].wake_fd);
	xs_mq_free(qs->mq);
	free(qs->q);
	memset(qs, 0, sizeof(*qs));
}

void queues_assign_cpus(struct queues *qs)
{
	cpu_set_t set;
	int cpus[CPU_SETSIZE], ncpu = 0, c;
	unsigned i;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[ncpu++] = c;
	if (!ncpu)
		return;
	qs->ncpus = (unsigned)ncpu;
	qs->shared_cpus = qs->n > (unsigned)ncpu;
	for (i = 0; i < qs->n; i++)
		qs->q[i].cpu = cpus[i % (unsigned)ncpu];
}

static int pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(t, sizeof(set), &set);
}

struct start_arg {
	struct queue *q;
	int (*body)(struct queue *q);
};

static void *thread_main(void *p)
{
	struct start_arg a = *(struct start_arg *)p;

	free(p);
	a.q->rc = a.body(a.q);
	atomic_store(&a.q->exited, 1);
	futex_wake(&a.q->parked); /* a park waiting for it gives up */
	return NULL;
}

int queues_start(struct queues *qs, int (*body)(struct queue *q))
{
	sigset_t all, old;
	unsigned i;
	int err = 0;

	if (qs->n > 1 && pin(pthread_self(), qs->q[0].cpu))
		log_msg(LOG_WARNING,
			"cannot pin queue 0 to CPU %d; it runs where the kernel puts it",
			qs->q[0].cpu);
	/* The main thread alone takes SIGINT, SIGTERM and SIGUSR1. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 1; i < qs->n && !err; i++) {
		struct start_arg *a = malloc(sizeof(*a));
		pthread_attr_t attr;
		cpu_set_t set;

		if (!a) {
			err = -ENOMEM;
			break;
		}
		a->q = &qs->q[i];
		a->body = body;
		pthread_attr_init(&attr);
		if (qs->q[i].cpu >= 0) {
			CPU_ZERO(&set);
			CPU_SET(qs->q[i].cpu, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		err = -pthread_create(&qs->q[i].thread, &attr, thread_main, a);
		pthread_attr_destroy(&attr);
		if (err)
			free(a);
		else
			qs->q[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		queues_stop(qs);
	return err;
}

void queues_stop(struct queues *qs)
{
	unsigned i;

	atomic_store(&qs->stop, 1);
	for (i = 1; i < qs->n; i++) {
		struct queue *q = &qs->q[i];

		if (!q->started)
			continue;
		wake(q);
		pthread_join(q->thread, NULL);
		q->started = false;
	}
}

void queue_wake_drain(struct queue *q)
{
	uint64_t v;

	if (read(q->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing written */
	}
}

void queue_park_wait(struct queue *q)
{
	atomic_store_explicit(&q->parked, 1, memory_order_release);
	futex_wake(&q->parked);
	while (atomic_load_explicit(&q->park_req, memory_order_acquire))
		futex_wait(&q->park_req, 1);
	atomic_store_explicit(&q->parked, 0, memory_order_release);
	futex_wake(&q->parked);
}

void queue_park(struct queue *q)
{
	if (!q->started)
		return; /* not running (or queue 0): nothing to stop */
	atomic_store_explicit(&q->park_req, 1, memory_order_seq_cst);
	wake(q);
	/* A thread that left its loop touches its stack no more. */
	while (!atomic_load_explicit(&q->parked, memory_order_acquire) &&
	       !atomic_load_explicit(&q->exited, memory_order_acquire))
		futex_wait(&q->parked, 0);
}

void queue_unpark(struct queue *q)
{
	if (!q->started)
		return;
	atomic_store_explicit(&q->park_req, 0, memory_order_release);
	futex_wake(&q->park_req);
	/* Until it has seen the release: a second park right after must not
	 * take the old `parked` for a new one. */
	while (atomic_load_explicit(&q->parked, memory_order_acquire) &&
	       !atomic_load_explicit(&q->exited, memory_order_acquire))
		futex_wait(&q->parked, 1);
}
