/* A plain int (what handles were before they were typed) must not compile
 * where a handle is expected.
 * EXPECT: incompatible type for argument 2 of .xs_tcp_recv.|passing 'int' to parameter of incompatible type 'struct xs_tcp' */
#include <xdpstack/stack.h>

ssize_t use(struct xs_stack *st, int n, struct xs_tcp t);

ssize_t use(struct xs_stack *st, int n, struct xs_tcp t)
{
	char buf[16];

#ifdef COMPILE_OK
	(void)n;
	return xs_tcp_recv(st, t, buf, sizeof(buf));
#else
	(void)t;
	return xs_tcp_recv(st, n, buf, sizeof(buf));
#endif
}
