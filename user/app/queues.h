/* The daemon's queues: one stack, device, set of services and thread per NIC
 * queue, pinned to a CPU; queue 0 runs on the main thread with the control socket. */
#ifndef XS_APP_QUEUES_H
#define XS_APP_QUEUES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <xdpstack/dev.h>
#include <xdpstack/mq.h>
#include <xdpstack/stack.h>

#include "app/busypoll.h"

struct svc_tcp;
struct svc_iperf3;
struct svc_sockperf;
struct svc_http;
struct queues;

struct queue {
	struct queues *all;
	unsigned index;	    /* 0..n-1: the stack's index in the group */
	unsigned nic_queue; /* the NIC rx queue it serves */
	int cpu;	    /* the CPU its thread is pinned to, -1: not pinned */
	struct xs_stack *st;
	struct xs_dev *hw;  /* the AF_XDP device */
	struct xs_dev *dev; /* hw, or the capture wrapper that owns it */
	struct svc_tcp *svc;
	struct svc_iperf3 *ip3; /* queue 0 only: its port is pinned there */
	struct svc_sockperf *sp;
	struct svc_http *http;
	struct busy_poll bp;

	/* Parking (the control socket, on queue 0's thread, reaches this
	 * queue's stack only while its thread waits at the top of its loop):
	 * a flag checked once per loop turn, no lock on the fast path. */
	_Alignas(64) atomic_int park_req;
	atomic_int parked;
	atomic_int exited; /* the thread left its loop: nothing to wait for */
	int wake_fd;	   /* eventfd in the thread's poll set: park requests, stop */
	pthread_t thread;
	bool started;
	int rc; /* the loop's exit status */
};

struct queues {
	unsigned n;
	struct queue *q;
	struct xs_mq *mq; /* NULL with one queue */
	atomic_int stop;
	unsigned ncpus;	  /* CPUs the process may run on */
	bool shared_cpus; /* more queues than CPUs: some share one */
};

/* n queues with their eventfds (and the group when n > 1); 0 or -errno. */
int queues_init(struct queues *qs, unsigned n);
void queues_fini(struct queues *qs);
/* Picks each queue's CPU from the process's affinity mask (queue i: the
 * i-th allowed CPU, round robin when there are fewer CPUs than queues). */
void queues_assign_cpus(struct queues *qs);
/* Pins the calling thread as queue 0 and starts queues 1..n-1, each running
 * body(q); their signals are blocked (the main thread takes them). 0 or
 * -errno (the ones started are stopped again). */
int queues_start(struct queues *qs, int (*body)(struct queue *q));
/* Asks every thread to leave its loop, wakes it, joins it. */
void queues_stop(struct queues *qs);
static inline bool queues_stopping(struct queues *qs)
{
	return atomic_load_explicit(&qs->stop, memory_order_relaxed) != 0;
}

/* At the top of a queue thread's loop: waits while the control socket holds
 * its stack. One relaxed load when nobody asks. */
void queue_park_wait(struct queue *q);
static inline void queue_park_point(struct queue *q)
{
	if (atomic_load_explicit(&q->park_req, memory_order_relaxed))
		queue_park_wait(q);
}
/* From queue 0's thread: stops q's thread at its park point (or finds it
 * gone) so that its stack, device and services may be read and changed;
 * queue_unpark lets it go on. Queue 0 itself needs neither. */
void queue_park(struct queue *q);
void queue_unpark(struct queue *q);
/* Reads the wake eventfd back to zero (after poll() says it is readable). */
void queue_wake_drain(struct queue *q);

#endif
