/* A TCP handle where a UDP handle is expected must not compile, zero-copy
 * receive included.
 * EXPECT: incompatible type for argument 2 of .xs_udp_recv_peek.|passing 'struct xs_tcp' to parameter of incompatible type 'struct xs_udp' */
#include <xdpstack/stack.h>

ssize_t use(struct xs_stack *st, struct xs_udp u, struct xs_tcp t);

ssize_t use(struct xs_stack *st, struct xs_udp u, struct xs_tcp t)
{
	const void *p;

#ifdef COMPILE_OK
	(void)t;
	return xs_udp_recv_peek(st, u, &p, NULL, NULL);
#else
	(void)u;
	return xs_udp_recv_peek(st, t, &p, NULL, NULL);
#endif
}
