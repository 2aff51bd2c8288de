/* The UDP handle API: struct xs_udp in, checked (number and generation), then
 * net/udp.c's socket calls; and the delivery of UDP readiness callbacks. */
#include <errno.h>

#include "api/api.h"
#include "core/stack.h"
#include "net/udp.h"

/* The socket number behind h, or -EBADF (closed, never opened, reused). */
static int udp_num(const struct xs_stack *st, struct xs_udp h)
{
	const struct udp_sock *s = udp_sock_get(st, h.id);

	return s && s->gen == h.gen ? h.id : -EBADF;
}

struct xs_udp xs_udp_open(struct xs_stack *st)
{
	struct xs_udp h = {0};

	h.id = udp_open(st, &h.gen);
	if (h.id < 0)
		h.gen = 0;
	return h;
}

int xs_udp_bind(struct xs_stack *st, struct xs_udp h, uint16_t port)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_bind(st, n, port);
}

int xs_udp_connect(struct xs_stack *st, struct xs_udp h, uint32_t ip, uint16_t port)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_connect(st, n, ip, port);
}

ssize_t xs_udp_send(struct xs_stack *st, struct xs_udp h, const void *buf, size_t len)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_send(st, n, buf, len);
}

ssize_t xs_udp_sendto(struct xs_stack *st, struct xs_udp h, const void *buf, size_t len,
		      uint32_t ip, uint16_t port)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_sendto(st, n, buf, len, ip, port);
}

ssize_t xs_udp_recvfrom(struct xs_stack *st, struct xs_udp h, void *buf, size_t cap, uint32_t *ip,
			uint16_t *port)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_recvfrom(st, n, buf, cap, ip, port);
}

ssize_t xs_udp_sendto_addr(struct xs_stack *st, struct xs_udp h, const void *buf, size_t len,
			   const struct xs_addr *dst, uint16_t port)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_sendto_addr(st, n, buf, len, dst, port);
}

ssize_t xs_udp_recvfrom_addr(struct xs_stack *st, struct xs_udp h, void *buf, size_t cap,
			     struct xs_addr *from, uint16_t *port)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_recvfrom_addr(st, n, buf, cap, from, port);
}

int xs_udp_connect_addr(struct xs_stack *st, struct xs_udp h, const struct xs_addr *dst,
			uint16_t port)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_connect_addr(st, n, dst, port);
}

ssize_t xs_udp_recv_peek(struct xs_stack *st, struct xs_udp h, const void **p, uint32_t *ip,
			 uint16_t *port)
{
	int n = udp_num(st, h);

	if (n < 0) {
		*p = NULL;
		return n;
	}
	return udp_recv_peek(st, n, p, ip, port);
}

int xs_udp_recv_consume(struct xs_stack *st, struct xs_udp h)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_recv_consume(st, n);
}

int xs_udp_set_event_cb(struct xs_stack *st, struct xs_udp h, xs_udp_cb cb, void *ctx)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_set_cb(st, n, cb, ctx);
}

int xs_udp_close(struct xs_stack *st, struct xs_udp h)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_close(st, n);
}

int xs_udp_setopt(struct xs_stack *st, struct xs_udp h, enum xs_udp_opt opt, int value)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_setopt(st, n, opt, value);
}

int xs_udp_getopt(const struct xs_stack *st, struct xs_udp h, enum xs_udp_opt opt, int *value)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_getopt(st, n, opt, value);
}

int xs_udp_local_port(const struct xs_stack *st, struct xs_udp h)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_local_port(st, n);
}

int xs_udp_poll_events(const struct xs_stack *st, struct xs_udp h)
{
	int n = udp_num(st, h);

	return n < 0 ? n : udp_poll_events(st, n);
}

void api_udp_deliver(struct xs_stack *st)
{
	unsigned ev;
	int n;

	udp_deliver_begin(st);
	while ((n = udp_deliver_next(st, &ev)) >= 0) {
		const struct udp_sock *s = &st->udp.s[n];

		s->cb(st, (struct xs_udp){.id = n, .gen = s->gen}, ev, s->ctx);
	}
}
