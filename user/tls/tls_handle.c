/* TLS session handles: numbers with a generation in the stack's table, the
 * ready list user/api/events.c delivers from, and the end of a stack's sessions. */
#include <errno.h>
#include <stdlib.h>

#include "core/stack.h"
#include "tls/tls.h"

static struct tls_table *table(const struct xs_stack *st)
{
	return st->tls;
}

struct tls_sess *tls_get(const struct xs_stack *st, int h, uint32_t gen)
{
	const struct tls_table *tb = table(st);
	struct tls_sess *t;

	if (!tb || h < 0 || (uint32_t)h >= tb->hnext_unused)
		return NULL;
	t = tb->handle[h];
	return t && t->hgen == gen ? t : NULL;
}

/* A free number, O(1): one given back, else the next never used; the table
 * doubles when full (a session holds a TCP handle: never more sessions than
 * TCP connections, tcp_max_conns). */
int tls_handle_alloc(struct xs_stack *st, struct tls_sess *t)
{
	struct tls_table *tb = table(st);
	uint32_t h;

	if (!tb) {
		tb = calloc(1, sizeof(*tb));
		if (!tb)
			return -ENOMEM;
		st->tls = tb;
	}
	if (tb->nfree) {
		h = tb->hfree[--tb->nfree];
	} else {
		if (tb->hnext_unused == tb->nhandles) {
			uint32_t n = tb->nhandles ? tb->nhandles * 2 : 16;
			struct tls_sess **nh;
			uint32_t *nf;

			nh = realloc(tb->handle, n * sizeof(*nh));
			if (!nh)
				return -ENOMEM;
			tb->handle = nh;
			nf = realloc(tb->hfree, n * sizeof(*nf));
			if (!nf)
				return -ENOMEM;
			tb->hfree = nf;
			tb->nhandles = n;
		}
		h = tb->hnext_unused++;
	}
	tb->handle[h] = t;
	t->handle = (int)h;
	/* Which opening of the number: a stale handle does not match. */
	if (!++tb->hgen)
		tb->hgen = 1;
	t->hgen = tb->hgen;
	t->st_prev = NULL;
	t->st_next = tb->all;
	if (tb->all)
		tb->all->st_prev = t;
	tb->all = t;
	return (int)h;
}

static void unready(struct tls_sess *t)
{
	struct tls_table *tb = table(t->st);
	struct tls_sess **pp;

	if (!t->ev_pending)
		return;
	for (pp = &tb->ready; *pp; pp = &(*pp)->ready_next) {
		if (*pp == t) {
			*pp = t->ready_next;
			t->ev_pending = 0;
			return;
		}
	}
	for (pp = &tb->delivering; *pp; pp = &(*pp)->ready_next) {
		if (*pp == t) {
			*pp = t->ready_next;
			break;
		}
	}
	t->ev_pending = 0;
}

void tls_handle_release(struct tls_sess *t)
{
	struct tls_table *tb = table(t->st);

	unready(t);
	if (t->handle < 0)
		return;
	tb->handle[t->handle] = NULL;
	tb->hfree[tb->nfree++] = (uint32_t)t->handle;
	t->handle = -1;
}

void tls_unlink(struct tls_sess *t)
{
	struct tls_table *tb = table(t->st);

	tls_handle_release(t);
	if (t->st_prev)
		t->st_prev->st_next = t->st_next;
	else
		tb->all = t->st_next;
	if (t->st_next)
		t->st_next->st_prev = t->st_prev;
	t->st_prev = t->st_next = NULL;
}

void tls_raise(struct tls_sess *t, unsigned events)
{
	struct tls_table *tb = table(t->st);

	if (t->handle < 0 || !t->cb || !events)
		return;
	if (!t->ev_pending) {
		t->ready_next = tb->ready;
		tb->ready = t;
	}
	t->ev_pending |= events;
	xs_stack_kick(t->st);
}

void tls_deliver_begin(struct xs_stack *st)
{
	struct tls_table *tb = table(st);

	/* Take the whole list: events raised by callbacks go out next poll;
	 * a session closed meanwhile is unlinked from what is left. */
	if (!tb)
		return;
	tb->delivering = tb->ready;
	tb->ready = NULL;
}

struct tls_sess *tls_deliver_next(struct xs_stack *st, unsigned *events)
{
	struct tls_table *tb = table(st);

	while (tb && tb->delivering) {
		struct tls_sess *t = tb->delivering;
		unsigned ev = t->ev_pending;

		tb->delivering = t->ready_next;
		t->ev_pending = 0;
		if (t->handle >= 0 && t->cb) {
			*events = ev;
			return t;
		}
	}
	return NULL;
}

bool tls_events_pending(const struct xs_stack *st)
{
	return st->tls && st->tls->ready;
}

void tls_fini(struct xs_stack *st)
{
	struct tls_table *tb = table(st);

	if (!tb)
		return;
	while (tb->all)
		tls_abort(tb->all);
	free(tb->handle);
	free(tb->hfree);
	free(tb);
	st->tls = NULL;
}
