/* user/api/'s internal face: the one call the core makes into it (delivering
 * the events protocol modules raised), and the typed-handle checks it shares. */
#ifndef XS_API_API_H
#define XS_API_API_H

#include <xdpstack/stack.h>

struct xs_stack;

/* End of each xs_stack_poll, after the batch and the timers: runs the
 * callbacks of UDP sockets, then ping results, then TCP connections, then
 * DNS results (include/xdpstack/stack.h, "Events"). */
void api_deliver_events(struct xs_stack *st);

void api_udp_deliver(struct xs_stack *st);
void api_ping_deliver(struct xs_stack *st);
void api_tcp_deliver(struct xs_stack *st);
void api_dns_deliver(struct xs_stack *st);

#endif
