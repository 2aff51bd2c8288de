/* The TLS session handle API: struct xs_tls in, checked (number and
 * generation), then tls/'s session calls; and the delivery of TLS events. */
#include <errno.h>

#include <xdpstack/tls.h>

#include "api/api.h"
#include "core/stack.h"
#include "tls/tls.h"

/* The session behind t, or NULL (closed, never opened, number reused). */
static struct tls_sess *sess_of(const struct xs_stack *st, struct xs_tls t)
{
	return tls_get(st, t.id, t.gen);
}

/* A number (or -errno) from tls/ made typed. */
static struct xs_tls handle_of(int n, uint32_t gen)
{
	return (struct xs_tls){.id = n, .gen = n >= 0 ? gen : 0};
}

struct xs_tls xs_tls_server(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp tcp,
			    xs_tls_cb cb, void *ctx)
{
	uint32_t gen = 0;
	int n = tls_server(st, c, tcp, cb, ctx, &gen);

	return handle_of(n, gen);
}

struct xs_tls xs_tls_client(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp tcp,
			    const char *name, xs_tls_cb cb, void *ctx)
{
	uint32_t gen = 0;
	int n = tls_client(st, c, tcp, name, cb, ctx, &gen);

	return handle_of(n, gen);
}

ssize_t xs_tls_send(struct xs_stack *st, struct xs_tls t, const void *buf, size_t len)
{
	struct tls_sess *s = sess_of(st, t);

	return s ? tls_send(s, buf, len) : -EBADF;
}

ssize_t xs_tls_recv(struct xs_stack *st, struct xs_tls t, void *buf, size_t cap)
{
	struct tls_sess *s = sess_of(st, t);

	return s ? tls_recv(s, buf, cap) : -EBADF;
}

int xs_tls_shutdown(struct xs_stack *st, struct xs_tls t)
{
	struct tls_sess *s = sess_of(st, t);

	return s ? tls_shutdown(s) : -EBADF;
}

int xs_tls_close(struct xs_stack *st, struct xs_tls t)
{
	struct tls_sess *s = sess_of(st, t);

	if (!s)
		return -EBADF;
	tls_close(s);
	return 0;
}

int xs_tls_abort(struct xs_stack *st, struct xs_tls t)
{
	struct tls_sess *s = sess_of(st, t);

	if (!s)
		return -EBADF;
	tls_abort(s);
	return 0;
}

int xs_tls_poll_events(const struct xs_stack *st, struct xs_tls t)
{
	const struct tls_sess *s = sess_of(st, t);

	return s ? tls_poll_events(s) : -EBADF;
}

int xs_tls_error(const struct xs_stack *st, struct xs_tls t)
{
	const struct tls_sess *s = sess_of(st, t);

	return s ? s->err : -EBADF;
}

const char *xs_tls_strerror(const struct xs_stack *st, struct xs_tls t)
{
	const struct tls_sess *s = sess_of(st, t);

	if (!s)
		return "not an open TLS session";
	return s->err ? s->errtext : "";
}

int xs_tls_get_info(const struct xs_stack *st, struct xs_tls t, struct xs_tls_info *out)
{
	const struct tls_sess *s = sess_of(st, t);

	if (!s)
		return -EBADF;
	tls_info(s, out);
	return 0;
}

struct xs_tcp xs_tls_tcp(const struct xs_stack *st, struct xs_tls t)
{
	const struct tls_sess *s = sess_of(st, t);

	return s ? s->tcp : (struct xs_tcp){.id = -EBADF};
}

void api_tls_deliver(struct xs_stack *st)
{
	struct tls_sess *s;
	unsigned ev;

	tls_deliver_begin(st);
	while ((s = tls_deliver_next(st, &ev)) != NULL)
		s->cb(st, (struct xs_tls){.id = s->handle, .gen = s->hgen}, ev, s->arg);
}
