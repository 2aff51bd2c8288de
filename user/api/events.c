/* Event delivery, the one place callbacks are called from: after each batch,
 * kind by kind, from the ready lists the protocol modules raised. */
#include "api/api.h"

void api_deliver_events(struct xs_stack *st)
{
	api_udp_deliver(st);
	api_ping_deliver(st);
	api_tcp_deliver(st);
	api_dns_deliver(st);
}
