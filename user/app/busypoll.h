/* Adaptive busy polling for the daemon's event loop: spin on the rings while
 * frames arrive, sleep in poll() once nothing has come for an idle period. */
#ifndef XS_APP_BUSYPOLL_H
#define XS_APP_BUSYPOLL_H

#include <stdbool.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#define BUSY_POLL_DEFAULT_US 200000u /* the idle period: the TCP RTO floor */
#define BUSY_POLL_MAX_US 60000000u   /* one minute */
/* A timer this close keeps the loop spinning: poll()'s millisecond timeout
 * would fire it late, and sleeping that briefly costs a wake-up anyway. */
#define BUSY_POLL_TIMER_NS XS_MS(1)
/* While spinning, the control fds are polled (zero timeout) this often. */
#define BUSY_POLL_FD_NS XS_MS(1)
/* What the kernel is asked for on the socket when it can busy-poll
 * (SO_BUSY_POLL, SO_BUSY_POLL_BUDGET): one pass per recvfrom, a batch. */
#define BUSY_POLL_KERNEL_US 20u
#define BUSY_POLL_KERNEL_BUDGET XS_POLL_BATCH

struct busy_poll {
	xs_time_t idle_ns;  /* 0: busy polling off */
	xs_time_t last_rx;  /* the last turn that received frames */
	xs_time_t next_fds; /* next zero-timeout poll of the control fds */
	bool spinning;
	int kernel;	 /* the socket options: 0 set, -errno refused */
	uint64_t spins;	 /* loop turns that did not sleep in poll() */
	uint64_t sleeps; /* times the idle period ran out: back to poll() */
	uint64_t wakes;	 /* first frames after an idle period */
};

/* idle_us 0: off (every call below then says "sleep"). */
void busy_poll_init(struct busy_poll *bp, uint32_t idle_us, xs_time_t now);
/* After a loop turn that received frames frames, with the earliest deadline
 * next: true to spin (go round without a blocking poll), false to sleep in
 * poll() until a frame, a control request or next. */
bool busy_poll_spin(struct busy_poll *bp, xs_time_t now, int frames, xs_time_t next);
/* While spinning: true when this turn should look at the control fds
 * (a zero-timeout poll), at most every BUSY_POLL_FD_NS. */
bool busy_poll_fds_due(struct busy_poll *bp, xs_time_t now);

#endif
