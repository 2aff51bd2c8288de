/* The zero-copy calls are typed too: a UDP handle where a TCP handle is
 * expected must not compile.
 * EXPECT: incompatible type for argument 2 of .xs_tcp_send_commit.|passing 'struct xs_udp' to parameter of incompatible type 'struct xs_tcp' */
#include <xdpstack/stack.h>

int use(struct xs_stack *st, struct xs_udp u, struct xs_tcp t);

int use(struct xs_stack *st, struct xs_udp u, struct xs_tcp t)
{
#ifdef COMPILE_OK
	(void)u;
	return xs_tcp_send_commit(st, t, 1);
#else
	(void)t;
	return xs_tcp_send_commit(st, u, 1);
#endif
}
