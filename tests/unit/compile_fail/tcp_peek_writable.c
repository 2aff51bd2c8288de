/* A receive borrow is read-only: xs_tcp_recv_peek lends const bytes, and a
 * plain void * to take them must not compile.
 * EXPECT: incompatible pointer type|discards qualifiers in nested pointer types */
#include <xdpstack/stack.h>

ssize_t use(struct xs_stack *st, struct xs_tcp t);

ssize_t use(struct xs_stack *st, struct xs_tcp t)
{
#ifdef COMPILE_OK
	const void *p;
#else
	void *p;
#endif
	return xs_tcp_recv_peek(st, t, &p);
}
