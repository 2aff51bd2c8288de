/* A TCP callback given to a TLS session must not compile (it would be called
 * with a TLS handle). As tcp_cb_to_udp.c, with -Werror=incompatible-pointer-types.
 * EXPECT: incompatible pointer type|incompatible-(function-)?pointer-types */
#include <xdpstack/tls.h>

void on_tcp(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx);
void on_tls(struct xs_stack *st, struct xs_tls t, unsigned ev, void *ctx);
struct xs_tls use(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp h);

struct xs_tls use(struct xs_stack *st, struct xs_tls_ctx *c, struct xs_tcp h)
{
#ifdef COMPILE_OK
	return xs_tls_server(st, c, h, on_tls, NULL);
#else
	return xs_tls_server(st, c, h, on_tcp, NULL);
#endif
}
