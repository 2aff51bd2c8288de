/* The TCP handle API: struct xs_tcp in, checked (number and generation), then
 * tcp/'s user calls on the connection; and the delivery of TCP events. */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "core/stack.h"
#include "tcp/tcp.h"

/* The connection behind h, or NULL (closed, never opened, number reused). */
static struct tcp_conn *conn_of(const struct xs_stack *st, struct xs_tcp h)
{
	struct tcp_conn *c = tcp_get(st, h.id);

	return c && c->hgen == h.gen ? c : NULL;
}

/* A handle number (or -errno) from tcp/ made typed. */
static struct xs_tcp handle_of(struct xs_stack *st, int n)
{
	struct xs_tcp h = {.id = n};

	if (n >= 0)
		h.gen = tcp_get(st, n)->hgen;
	return h;
}

struct xs_tcp xs_tcp_listen(struct xs_stack *st, uint16_t port, int backlog)
{
	return handle_of(st, tcp_listen(st, port, backlog));
}

struct xs_tcp xs_tcp_accept(struct xs_stack *st, struct xs_tcp l, uint32_t *ip, uint16_t *port)
{
	struct tcp_conn *c = conn_of(st, l);

	return handle_of(st, c ? tcp_accept(st, c, ip, port) : -EBADF);
}

struct xs_tcp xs_tcp_connect(struct xs_stack *st, uint32_t ip, uint16_t port)
{
	return handle_of(st, tcp_connect(st, ip, port, NULL));
}

struct xs_tcp xs_tcp_connect_ex(struct xs_stack *st, uint32_t ip, uint16_t port,
				const struct xs_tcp_connect_opts *o)
{
	return handle_of(st, tcp_connect(st, ip, port, o));
}

struct xs_tcp xs_tcp_accept_addr(struct xs_stack *st, struct xs_tcp l, struct xs_addr *from,
				 uint16_t *port)
{
	struct tcp_conn *c = conn_of(st, l);

	return handle_of(st, c ? tcp_accept_addr(st, c, from, port) : -EBADF);
}

struct xs_tcp xs_tcp_connect_addr(struct xs_stack *st, const struct xs_addr *dst, uint16_t port,
				  const struct xs_tcp_connect_opts *o)
{
	struct ip6_addr r;

	if (!dst || (dst->family != XS_AF_INET4 && dst->family != XS_AF_INET6))
		return handle_of(st, -EINVAL);
	memcpy(r.b, dst->a, 16);
	if (dst->family == XS_AF_INET4 ? !tcp_addr_is4(&r) : tcp_addr_is4(&r))
		return handle_of(st, -EINVAL);
	return handle_of(st, tcp_connect_addr(st, &r, port, o));
}

ssize_t xs_tcp_send(struct xs_stack *st, struct xs_tcp h, const void *buf, size_t len)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_send(st, c, buf, len, false) : -EBADF;
}

ssize_t xs_tcp_send_urgent(struct xs_stack *st, struct xs_tcp h, const void *buf, size_t len)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_send(st, c, buf, len, true) : -EBADF;
}

ssize_t xs_tcp_recv(struct xs_stack *st, struct xs_tcp h, void *buf, size_t cap)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_recv(st, c, buf, cap) : -EBADF;
}

ssize_t xs_tcp_recv_peek(struct xs_stack *st, struct xs_tcp h, const void **p)
{
	struct tcp_conn *c = conn_of(st, h);

	if (!c) {
		*p = NULL;
		return -EBADF;
	}
	return tcp_recv_peek(st, c, p);
}

int xs_tcp_recv_consume(struct xs_stack *st, struct xs_tcp h, size_t n)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_recv_consume(st, c, n) : -EBADF;
}

ssize_t xs_tcp_send_reserve(struct xs_stack *st, struct xs_tcp h, void **p)
{
	struct tcp_conn *c = conn_of(st, h);

	if (!c) {
		*p = NULL;
		return -EBADF;
	}
	return tcp_send_reserve(st, c, p);
}

int xs_tcp_send_commit(struct xs_stack *st, struct xs_tcp h, size_t n)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_send_commit(st, c, n) : -EBADF;
}

int xs_tcp_shutdown(struct xs_stack *st, struct xs_tcp h)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_shutdown(st, c) : -EBADF;
}

int xs_tcp_shutdown_how(struct xs_stack *st, struct xs_tcp h, int how)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_shutdown_how(st, c, how) : -EBADF;
}

int xs_tcp_close(struct xs_stack *st, struct xs_tcp h)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_close(st, c) : -EBADF;
}

int xs_tcp_abort(struct xs_stack *st, struct xs_tcp h)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_abort(st, c) : -EBADF;
}

int xs_tcp_set_event_cb(struct xs_stack *st, struct xs_tcp h, xs_tcp_cb cb, void *ctx)
{
	struct tcp_conn *c = conn_of(st, h);

	if (!c)
		return -EBADF;
	tcp_set_cb(st, c, cb, ctx);
	return 0;
}

int xs_tcp_error(const struct xs_stack *st, struct xs_tcp h)
{
	const struct tcp_conn *c = conn_of(st, h);

	return c ? c->error : -EBADF;
}

int xs_tcp_urgent(const struct xs_stack *st, struct xs_tcp h)
{
	const struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_urgent(c) : -EBADF;
}

int xs_tcp_soft_error(const struct xs_stack *st, struct xs_tcp h)
{
	const struct tcp_conn *c = conn_of(st, h);

	return c ? c->soft_error : -EBADF;
}

int xs_tcp_poll_events(const struct xs_stack *st, struct xs_tcp h)
{
	const struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_poll_events(c) : -EBADF;
}

int xs_tcp_setopt(struct xs_stack *st, struct xs_tcp h, enum xs_tcp_opt opt, int value)
{
	struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_setopt(st, c, opt, value) : -EBADF;
}

int xs_tcp_getopt(const struct xs_stack *st, struct xs_tcp h, enum xs_tcp_opt opt, int *value)
{
	const struct tcp_conn *c = conn_of(st, h);

	return c ? tcp_getopt(c, opt, value) : -EBADF;
}

int xs_tcp_get_info(const struct xs_stack *st, struct xs_tcp h, struct xs_tcp_info *out)
{
	const struct tcp_conn *c = conn_of(st, h);

	if (!c)
		return -EBADF;
	tcp_info(c, out);
	return 0;
}

size_t xs_tcp_list(const struct xs_stack *st, struct xs_tcp_info *out, size_t max)
{
	return tcp_list(st, out, max);
}

void api_tcp_deliver(struct xs_stack *st)
{
	struct tcp_conn *c;
	unsigned ev;

	tcp_deliver_begin(st);
	while ((c = tcp_deliver_next(st, &ev)) != NULL)
		c->cb(st, (struct xs_tcp){.id = c->handle, .gen = c->hgen}, ev, c->ctx);
}
