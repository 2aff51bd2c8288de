/* A hashed timing wheel owned by one stack: O(1) arm and cancel, firing cost
 * proportional to the ticks elapsed and the timers due. No threads, no clock. */
#ifndef XS_CORE_TIMER_H
#define XS_CORE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stack.h>

#define TIMER_WHEEL_SLOTS 1024     /* a power of two */
#define TIMER_TICK_NS XS_MS(1)     /* wheel granularity */

struct xs_timer;
/* ctx is what timer_run was given (the stack). */
typedef void (*xs_timer_fn)(void *ctx, struct xs_timer *t);

struct xs_timer {
	struct xs_timer *next;
	struct xs_timer **pprev;   /* NULL when not armed */
	xs_time_t expires;
	xs_timer_fn fn;
};

struct xs_timer_wheel {
	struct xs_timer *slot[TIMER_WHEEL_SLOTS];
	xs_time_t now;             /* time of the last timer_run (tick-aligned) */
	unsigned armed;
	bool firing;               /* timer_run is calling the due timers */
	xs_time_t earliest;        /* lower bound of the earliest expiry */
	/* A lower bound of the expiries in each slot (XS_TIME_NEVER: empty):
	 * lowered by arm, made exact when timer_run visits the slot, reset when
	 * a cancel empties it. timer_run skips slots whose bound is in the
	 * future and finds the next deadline from these without touching timers. */
	xs_time_t slot_min[TIMER_WHEEL_SLOTS];
};

void timer_wheel_init(struct xs_timer_wheel *w, xs_time_t now);
static inline void timer_init(struct xs_timer *t, xs_timer_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
	t->fn = fn;
}
static inline int timer_pending(const struct xs_timer *t)
{
	return t->pprev != NULL;
}
/* (Re)arms t to fire at the first tick at or after expires (past times fire
 * at the next timer_run). Re-arming an armed timer moves it; moving it later
 * is O(1) without touching any list (the wheel files it when its old slot
 * comes round), so restarting a timer per segment costs a store. */
void timer_arm(struct xs_timer_wheel *w, struct xs_timer *t, xs_time_t expires);
void timer_cancel(struct xs_timer_wheel *w, struct xs_timer *t);
/* Fires every timer with expires <= now, in expiry order per tick; a callback
 * may arm or cancel any timer, itself included. Returns how many fired.
 * The timers fired are those due when the call began, in expiry order
 * (equal expiries in arming order); a timer a callback arms at or before now
 * fires at the next timer_run, so a callback re-arming itself in the past
 * cannot loop. Not reentrant: callbacks must not call timer_run. */
unsigned timer_run(struct xs_timer_wheel *w, xs_time_t now, void *ctx);
/* The earliest time a timer may be due (never later than the real one);
 * XS_TIME_NEVER if none is armed. */
#define XS_TIME_NEVER UINT64_MAX
xs_time_t timer_next(const struct xs_timer_wheel *w);

#endif
