/* The ping handle API: struct xs_ping in, checked (number and generation),
 * then net/icmp.c's echo client; and the delivery of ping results. */
#include <errno.h>

#include "api/api.h"
#include "core/stack.h"
#include "net/icmp.h"

static int ping_num(const struct xs_stack *st, struct xs_ping h)
{
	if (h.id < 0 || h.id >= ICMP_MAX_PINGS || !st->icmp.ping[h.id].used ||
	    st->icmp.ping[h.id].gen != h.gen)
		return -EBADF;
	return h.id;
}

struct xs_ping xs_ping_open(struct xs_stack *st, xs_ping_cb cb, void *ctx)
{
	struct xs_ping h = {0};

	h.id = ping_open(st, cb, ctx, &h.gen);
	if (h.id < 0)
		h.gen = 0;
	return h;
}

int xs_ping_send(struct xs_stack *st, struct xs_ping h, uint32_t dst, uint16_t seq, size_t data_len)
{
	int n = ping_num(st, h);

	return n < 0 ? n : ping_send(st, n, dst, seq, data_len);
}

int xs_ping_send_addr(struct xs_stack *st, struct xs_ping h, const struct xs_addr *dst,
		      uint16_t seq, size_t data_len)
{
	int n = ping_num(st, h);

	return n < 0 ? n : ping_send_addr(st, n, dst, seq, data_len);
}

int xs_ping_close(struct xs_stack *st, struct xs_ping h)
{
	int n = ping_num(st, h);

	return n < 0 ? n : ping_close(st, n);
}

int xs_ping_poll_events(const struct xs_stack *st, struct xs_ping h)
{
	int n = ping_num(st, h);

	return n < 0 ? n : ping_poll_events(st, n);
}

void api_ping_deliver(struct xs_stack *st)
{
	struct ping_event e;

	ping_deliver_begin(st);
	while (ping_deliver_next(st, &e) == 0) {
		const struct ping_sock *p = &st->icmp.ping[e.h];

		p->cb(st, (struct xs_ping){.id = e.h, .gen = e.gen}, &e.r, p->ctx);
	}
}
