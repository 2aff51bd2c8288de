/* A TCP callback installed on a UDP handle must not compile. C makes this a
 * diagnostic that GCC 14 turns into an error by default and older ones into
 * a warning: the check compiles with -Werror=incompatible-pointer-types.
 * EXPECT: incompatible pointer type|incompatible-(function-)?pointer-types */
#include <xdpstack/stack.h>

void on_tcp(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx);
void on_udp(struct xs_stack *st, struct xs_udp h, unsigned ev, void *ctx);
int use(struct xs_stack *st, struct xs_udp u);

int use(struct xs_stack *st, struct xs_udp u)
{
#ifdef COMPILE_OK
	return xs_udp_set_event_cb(st, u, on_udp, NULL);
#else
	return xs_udp_set_event_cb(st, u, on_tcp, NULL);
#endif
}
