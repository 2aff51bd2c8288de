/* Hashed timing wheel: 1 ms ticks, 1024 slots, absolute expiries; timers more
 * than a revolution away wait in their slot and are passed over until due. */
#include <stddef.h>
#include <stdint.h>

#include "core/timer.h"

#define SLOT_MASK (TIMER_WHEEL_SLOTS - 1)

_Static_assert((TIMER_WHEEL_SLOTS & SLOT_MASK) == 0, "TIMER_WHEEL_SLOTS is a power of two");

static inline uint64_t tick_of(xs_time_t t)
{
	return t / TIMER_TICK_NS;
}

static void unlink_timer(struct xs_timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

/* The slot whose list t heads, or -1 when t is not first in a wheel slot
 * (further down a list, or on timer_run's private list of due timers). */
static int slot_headed(const struct xs_timer_wheel *w, const struct xs_timer *t)
{
	uintptr_t p = (uintptr_t)t->pprev, base = (uintptr_t)w->slot;

	if (p < base || p >= base + sizeof(w->slot))
		return -1;
	return (int)((p - base) / sizeof(w->slot[0]));
}

void timer_wheel_init(struct xs_timer_wheel *w, xs_time_t now)
{
	unsigned i;

	for (i = 0; i < TIMER_WHEEL_SLOTS; i++) {
		w->slot[i] = NULL;
		w->slot_min[i] = XS_TIME_NEVER;
	}
	w->now = tick_of(now) * TIMER_TICK_NS;
	w->armed = 0;
	w->firing = false;
	w->earliest = XS_TIME_NEVER;
}

void timer_cancel(struct xs_timer_wheel *w, struct xs_timer *t)
{
	int i;

	if (!t->pprev)
		return;
	/* Only the last timer of a slot can leave it empty; an empty slot's
	 * bound goes back to NEVER so that it stops attracting wakeups. */
	i = t->next ? -1 : slot_headed(w, t);
	unlink_timer(t);
	w->armed--;
	if (i >= 0)
		w->slot_min[i] = XS_TIME_NEVER;
	if (!w->armed)
		w->earliest = XS_TIME_NEVER;
}

/* Files t (not on any list) into the slot of its expiry. */
static void file_timer(struct xs_timer_wheel *w, struct xs_timer *t)
{
	uint64_t tick = tick_of(t->expires), cur = tick_of(w->now);
	unsigned i;

	/* A tick the wheel has passed would not be visited for a revolution:
	 * past expiries go to the current tick, which the next run visits. */
	if (tick < cur)
		tick = cur;
	i = tick & SLOT_MASK;
	t->next = w->slot[i];
	if (t->next)
		t->next->pprev = &t->next;
	w->slot[i] = t;
	t->pprev = &w->slot[i];
	if (t->expires < w->slot_min[i])
		w->slot_min[i] = t->expires;
	if (t->expires < w->earliest)
		w->earliest = t->expires;
}

void timer_arm(struct xs_timer_wheel *w, struct xs_timer *t, xs_time_t expires)
{
	/* Pushed later (a retransmission timer restarted by each ACK, a probe
	 * timer by each transmission): only the expiry changes. The timer stays
	 * in its slot, whose bound (and the wheel's earliest) stays a lower
	 * bound; when the slot comes round, timer_run finds it not due and
	 * files it where it now belongs. Not while timer_run fires: a timer on
	 * its list of due ones must go back onto the wheel. */
	if (t->pprev && !w->firing && expires >= t->expires) {
		t->expires = expires;
		return;
	}
	if (t->pprev)
		timer_cancel(w, t);
	t->expires = expires;
	file_timer(w, t);
	w->armed++;
}

/* Moves slot i's timers with expires <= now to the head of *due (so one
 * slot's timers end up oldest-armed first), files those that were pushed
 * later (timer_arm) into the slot of their expiry, and makes slot_min[i]
 * exact. now is past this slot's tick, so a timer not due expires in a
 * later tick: its own slot is visited by this run (tick end) or later. */
static void collect_slot(struct xs_timer_wheel *w, unsigned i, xs_time_t now, struct xs_timer **due)
{
	struct xs_timer *t, *next;
	xs_time_t m = XS_TIME_NEVER;

	for (t = w->slot[i]; t; t = next) {
		next = t->next;
		if (t->expires > now) {
			if ((tick_of(t->expires) & SLOT_MASK) != i) {
				unlink_timer(t);
				file_timer(w, t);
			} else if (t->expires < m) {
				m = t->expires;
			}
			continue;
		}
		unlink_timer(t);
		t->next = *due;
		*due = t;
	}
	w->slot_min[i] = m;
}

/* Stable merge of two lists sorted by expiry; a holds the earlier input. */
static struct xs_timer *merge(struct xs_timer *a, struct xs_timer *b)
{
	struct xs_timer *head = NULL, **tail = &head;

	while (a && b) {
		if (b->expires < a->expires) {
			*tail = b;
			b = b->next;
		} else {
			*tail = a;
			a = a->next;
		}
		tail = &(*tail)->next;
	}
	*tail = a ? a : b;
	return head;
}

/* Bottom-up merge sort of a singly linked list by expiry, stable, no
 * allocation: bin[i] holds a sorted run of 2^i timers from earlier input. */
static struct xs_timer *sort_by_expiry(struct xs_timer *list)
{
	struct xs_timer *bin[64] = {NULL}, *carry;
	unsigned i, top = 0;

	while (list) {
		carry = list;
		list = list->next;
		carry->next = NULL;
		for (i = 0; i < 63 && bin[i]; i++) {
			carry = merge(bin[i], carry);
			bin[i] = NULL;
		}
		bin[i] = carry;
		if (i >= top)
			top = i + 1;
	}
	carry = NULL;
	for (i = 0; i < top; i++)
		if (bin[i])
			carry = merge(bin[i], carry);
	return carry;
}

/* The next deadline from the slot bounds, scanning forward from the current
 * tick. Every timer in the slot of tick T (cur <= T < cur + SLOTS) expires at
 * or after T (later revolutions only later), except past-due ones, which sit
 * in the current slot; so once the minimum so far lies in a tick already
 * scanned, no later slot can beat it. O(slots) at worst, no timer touched. */
static xs_time_t wheel_scan(const struct xs_timer_wheel *w)
{
	uint64_t cur = tick_of(w->now), tk;
	xs_time_t m = XS_TIME_NEVER;

	if (!w->armed)
		return XS_TIME_NEVER;
	for (tk = cur; tk < cur + TIMER_WHEEL_SLOTS; tk++) {
		xs_time_t s = w->slot_min[tk & SLOT_MASK];

		if (s < m)
			m = s;
		if (tick_of(m) <= tk)
			break;
	}
	return m;
}

unsigned timer_run(struct xs_timer_wheel *w, xs_time_t now, void *ctx)
{
	uint64_t cur = tick_of(w->now), end, n, tk;
	struct xs_timer *due = NULL, *t;
	unsigned fired = 0;

	if (now < w->now)
		now = w->now;
	end = tick_of(now);
	/* Nothing can be due: move the hand without visiting the slots it
	 * passes (their timers all expire after now, hence in a later
	 * revolution of those slots or in the current tick). */
	if (now < w->earliest) {
		w->now = end * TIMER_TICK_NS;
		return 0;
	}
	/* From the last run's tick (inclusive: it may hold timers due later in
	 * that tick) to now's; one sweep covers any longer absence. */
	n = end - cur + 1;
	if (n > TIMER_WHEEL_SLOTS)
		n = TIMER_WHEEL_SLOTS;
	for (tk = cur; tk < cur + n; tk++) {
		unsigned i = tk & SLOT_MASK;

		if (w->slot_min[i] <= now)
			collect_slot(w, i, now, &due);
	}
	w->now = end * TIMER_TICK_NS;

	/* Fire in expiry order from a private doubly linked list: a callback
	 * may cancel or re-arm any timer on it (unlinking through pprev works
	 * with the local head), and whatever it arms goes onto the wheel, past
	 * the ticks collected, to fire at a later run. w->earliest is left as
	 * it was (<= now) while callbacks run: still a lower bound. */
	w->firing = true;
	due = sort_by_expiry(due);
	if (due)
		due->pprev = &due;
	for (t = due; t && t->next; t = t->next)
		t->next->pprev = &t->next;
	while ((t = due)) {
		due = t->next;
		if (due)
			due->pprev = &due;
		t->next = NULL;
		t->pprev = NULL;
		w->armed--;
		fired++;
		t->fn(ctx, t);
	}
	w->firing = false;
	w->earliest = wheel_scan(w);
	return fired;
}

xs_time_t timer_next(const struct xs_timer_wheel *w)
{
	return w->armed ? w->earliest : XS_TIME_NEVER;
}
