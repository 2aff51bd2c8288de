/* The DNS query handle API: struct xs_dns_query in and out of net/dns.c's
 * resolver, and the delivery of its results. */
#include <errno.h>

#include "api/api.h"
#include "core/stack.h"
#include "net/dns.h"

struct xs_dns_query xs_dns_resolve(struct xs_stack *st, const char *name, xs_dns_cb cb, void *ctx)
{
	struct xs_dns_query q = {0};

	q.id = dns_resolve(st, name, cb, ctx, &q.gen);
	if (q.id < 0)
		q.gen = 0;
	return q;
}

int xs_dns_cancel(struct xs_stack *st, struct xs_dns_query q)
{
	return dns_cancel(st, q.id, q.gen);
}

void api_dns_deliver(struct xs_stack *st)
{
	struct dns_delivery d;
	int n;

	dns_deliver_begin(st);
	while ((n = dns_deliver_next(st, &d)) >= 0)
		d.cb(st, (struct xs_dns_query){.id = n, .gen = d.gen}, &d.r, d.ctx);
}
