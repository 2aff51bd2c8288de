/* A ping handle where a TCP handle is expected must not compile.
 * EXPECT: incompatible type for argument 2 of .xs_tcp_close.|passing 'struct xs_ping' to parameter of incompatible type 'struct xs_tcp' */
#include <xdpstack/stack.h>

int use(struct xs_stack *st, struct xs_ping p, struct xs_tcp t);

int use(struct xs_stack *st, struct xs_ping p, struct xs_tcp t)
{
#ifdef COMPILE_OK
	(void)p;
	return xs_tcp_close(st, t);
#else
	(void)t;
	return xs_tcp_close(st, p);
#endif
}
