/* Built-in services of the daemon, written against libxdpstack's public
 * handle API exactly as an embedding application would be. */
#include <errno.h>
#include <stdint.h>

#include "app/app.h"

/* Echoes every datagram back to its sender (RFC 862). */
static void udp_echo_ready(struct xs_stack *st, struct xs_udp h, unsigned events, void *ctx)
{
	uint8_t buf[65536];
	struct xs_addr from;
	uint16_t port;
	ssize_t n;

	/* Either family: the _addr calls carry IPv6 senders too. */
	while ((n = xs_udp_recvfrom_addr(st, h, buf, sizeof(buf), &from, &port)) >= 0)
		xs_udp_sendto_addr(st, h, buf, (size_t)n, &from, port);
}

int svc_udp_echo_start(struct xs_stack *st, uint16_t port)
{
	struct xs_udp h = xs_udp_open(st);
	int err;

	if (h.id < 0)
		return h.id;
	err = xs_udp_bind(st, h, port);
	if (!err)
		err = xs_udp_set_event_cb(st, h, udp_echo_ready, NULL);
	if (err)
		xs_udp_close(st, h);
	return err;
}
