/* Where TLS sessions meet TCP handles, and nowhere else: the handle calls,
 * the TCP callback that drives a session, and its timer on TCP's wheel. */
#include <errno.h>
#include <stddef.h>

#include "core/stack.h"
#include "tcp/tcp.h"
#include "tls/tls.h"

/* The connection behind the session's handle, or NULL (released, or the
 * handle is not open). */
static struct tcp_conn *conn_of(const struct tls_sess *t)
{
	struct tcp_conn *c = t->tcp.id < 0 ? NULL : tcp_get(t->st, t->tcp.id);

	return c && c->hgen == t->tcp.gen ? c : NULL;
}

static void on_tcp(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx)
{
	struct tls_sess *t = ctx;

	(void)st;
	if (t->tcp.id == h.id && t->tcp.gen == h.gen)
		tls_tcp_event(t, events);
}

static void on_timer(void *ctx, struct xs_timer *tm)
{
	(void)ctx;
	tls_timer_fired((struct tls_sess *)((char *)tm - offsetof(struct tls_sess, timer)));
}

/* The handle must be a connection (not a listener, not released). */
int tls_tcp_attach(struct tls_sess *t, struct xs_tcp tcp)
{
	const struct tcp_conn *c;

	t->tcp = tcp;
	c = conn_of(t);
	if (!c || c->state == XS_TCP_LISTEN) {
		t->tcp = (struct xs_tcp)XS_NO_HANDLE;
		return -EBADF;
	}
	timer_init(&t->timer, on_timer);
	return 0;
}

/* From here the handle reports to the session; what is already true
 * (data, connected) comes as an event at the next poll. */
void tls_tcp_listen(struct tls_sess *t)
{
	xs_tcp_set_event_cb(t->st, t->tcp, on_tcp, t);
}

ssize_t tls_tcp_send(struct tls_sess *t, const void *buf, size_t len)
{
	return t->tcp.id < 0 ? -EPIPE : xs_tcp_send(t->st, t->tcp, buf, len);
}

ssize_t tls_tcp_recv(struct tls_sess *t, void *buf, size_t cap)
{
	return t->tcp.id < 0 ? -ENOTCONN : xs_tcp_recv(t->st, t->tcp, buf, cap);
}

void tls_tcp_shutdown(struct tls_sess *t)
{
	if (t->tcp.id >= 0)
		xs_tcp_shutdown(t->st, t->tcp);
}

/* Gives the handle back to TCP: a graceful close (FIN after what is
 * queued) or a reset. */
void tls_tcp_release(struct tls_sess *t, bool abort)
{
	if (t->tcp.id < 0)
		return;
	xs_tcp_set_event_cb(t->st, t->tcp, NULL, NULL);
	if (abort)
		xs_tcp_abort(t->st, t->tcp);
	else
		xs_tcp_close(t->st, t->tcp);
	t->tcp = (struct xs_tcp)XS_NO_HANDLE;
}

int tls_tcp_error(const struct tls_sess *t)
{
	return t->tcp.id < 0 ? 0 : xs_tcp_error(t->st, t->tcp);
}

int tls_tcp_events(const struct tls_sess *t)
{
	return t->tcp.id < 0 ? XS_EV_HUP : xs_tcp_poll_events(t->st, t->tcp);
}

int tls_tcp_peer(const struct tls_sess *t, struct xs_addr *addr, uint16_t *port)
{
	struct xs_tcp_info in;
	int rc = t->tcp.id < 0 ? -EBADF : xs_tcp_get_info(t->st, t->tcp, &in);

	if (rc)
		return rc;
	*addr = in.raddr;
	*port = in.rport;
	return 0;
}

void tls_timer_arm(struct tls_sess *t, xs_time_t when)
{
	timer_arm(&t->st->tcp->wheel, &t->timer, when);
}

void tls_timer_cancel(struct tls_sess *t)
{
	if (timer_pending(&t->timer))
		timer_cancel(&t->st->tcp->wheel, &t->timer);
}

xs_time_t tls_now(const struct tls_sess *t)
{
	return t->st->now;
}

bool tls_in_poll(const struct tls_sess *t)
{
	return t->st->in_poll;
}
