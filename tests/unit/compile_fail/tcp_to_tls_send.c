/* A TCP handle where a TLS session is expected must not compile: the bytes
 * would go out in the clear.
 * EXPECT: incompatible type for argument 2 of .xs_tls_send.|passing 'struct xs_tcp' to parameter of incompatible type 'struct xs_tls' */
#include <xdpstack/tls.h>

ssize_t use(struct xs_stack *st, struct xs_tcp h, struct xs_tls t);

ssize_t use(struct xs_stack *st, struct xs_tcp h, struct xs_tls t)
{
#ifdef COMPILE_OK
	(void)h;
	return xs_tls_send(st, t, "x", 1);
#else
	(void)t;
	return xs_tls_send(st, h, "x", 1);
#endif
}
