/* A TCP handle where a UDP handle is expected must not compile.
 * EXPECT: incompatible type for argument 2 of .xs_udp_recvfrom.|passing 'struct xs_tcp' to parameter of incompatible type 'struct xs_udp' */
#include <xdpstack/stack.h>

ssize_t use(struct xs_stack *st, struct xs_udp u, struct xs_tcp t);

ssize_t use(struct xs_stack *st, struct xs_udp u, struct xs_tcp t)
{
	char buf[16];

#ifdef COMPILE_OK
	(void)t;
	return xs_udp_recvfrom(st, u, buf, sizeof(buf), NULL, NULL);
#else
	(void)u;
	return xs_udp_recvfrom(st, t, buf, sizeof(buf), NULL, NULL);
#endif
}
