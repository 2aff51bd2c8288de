/* A TLS session where a TCP handle is expected must not compile: the session
 * owns its TCP handle and closes it itself (xs_tls_close).
 * EXPECT: incompatible type for argument 2 of .xs_tcp_close.|passing 'struct xs_tls' to parameter of incompatible type 'struct xs_tcp' */
#include <xdpstack/tls.h>

int use(struct xs_stack *st, struct xs_tls t, struct xs_tcp h);

int use(struct xs_stack *st, struct xs_tls t, struct xs_tcp h)
{
#ifdef COMPILE_OK
	(void)h;
	return xs_tls_close(st, t);
#else
	(void)h;
	return xs_tcp_close(st, t);
#endif
}
