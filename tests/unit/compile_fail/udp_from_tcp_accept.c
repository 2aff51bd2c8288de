/* A constructor's handle kept in a variable of another kind must not compile.
 * EXPECT: incompatible types when assigning to type .struct xs_udp. from type .struct xs_tcp.|assigning to 'struct xs_udp' from incompatible type 'struct xs_tcp' */
#include <xdpstack/stack.h>

int use(struct xs_stack *st, struct xs_tcp l);

int use(struct xs_stack *st, struct xs_tcp l)
{
	struct xs_udp u;
	struct xs_tcp t;

#ifdef COMPILE_OK
	t = xs_tcp_accept(st, l, NULL, NULL);
	u = xs_udp_open(st);
#else
	t = l;
	u = xs_tcp_accept(st, l, NULL, NULL);
#endif
	return u.id + t.id;
}
