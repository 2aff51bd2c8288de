/* Adaptive busy polling: decides, turn by turn, whether the event loop spins
 * on the AF_XDP rings or sleeps in poll(); the clock is the caller's. */
#include "app/busypoll.h"

void busy_poll_init(struct busy_poll *bp, uint32_t idle_us, xs_time_t now)
{
	*bp = (struct busy_poll){0};
	bp->idle_ns = (xs_time_t)idle_us * 1000u;
	/* Spin from the start: the first peer usually comes right away. */
	bp->last_rx = now;
	bp->next_fds = now;
	bp->spinning = idle_us != 0;
}

bool busy_poll_spin(struct busy_poll *bp, xs_time_t now, int frames, xs_time_t next)
{
	bool spin;

	if (!bp->idle_ns)
		return false;
	if (frames > 0) {
		/* The first frame after an idle period, whether the loop slept
		 * in poll() or was spinning for a timer just then. */
		if (now - bp->last_rx >= bp->idle_ns)
			bp->wakes++;
		bp->last_rx = now;
	}
	/* Only received frames extend the period: the stack's own timers
	 * (a 100 ms tick) would otherwise keep an idle daemon spinning. */
	spin = now - bp->last_rx < bp->idle_ns || next <= now + BUSY_POLL_TIMER_NS;
	if (spin)
		bp->spins++;
	else if (bp->spinning)
		bp->sleeps++;
	bp->spinning = spin;
	return spin;
}

bool busy_poll_fds_due(struct busy_poll *bp, xs_time_t now)
{
	if (now < bp->next_fds)
		return false;
	bp->next_fds = now + BUSY_POLL_FD_NS;
	return true;
}
