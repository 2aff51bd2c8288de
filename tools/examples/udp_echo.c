/* Example: a UDP echo server on libxdpstack, xs_run as its loop; every
 * datagram goes back to its sender. Written against the public headers only. */
#include "example.h"

static struct xs_stack *g_st; /* for the signal handler only */

static void on_signal(int sig)
{
	(void)sig;
	xs_stop(g_st); /* async-signal-safe */
}

static void on_udp(struct xs_stack *st, struct xs_udp h, unsigned events, void *ctx)
{
	unsigned long *echoed = ctx;
	uint8_t buf[65536];
	uint32_t ip;
	uint16_t port;
	ssize_t n;

	/* Readable: drain the queue; a datagram the device cannot take now
	 * (-ENOBUFS) is dropped, as a full socket buffer would. */
	while ((n = xs_udp_recvfrom(st, h, buf, sizeof(buf), &ip, &port)) >= 0) {
		if (xs_udp_sendto(st, h, buf, (size_t)n, ip, port) == n)
			(*echoed)++;
	}
}

int main(int argc, char **argv)
{
	struct example ex;
	unsigned long echoed = 0;
	struct xs_udp h;
	int rc;

	ex_parse(&ex, argc, argv, "[--port N (7)]");
	ex_create(&ex, argv[0]);
	h = xs_udp_open(ex.st);
	if (h.id < 0 || (rc = xs_udp_bind(ex.st, h, ex.port ? ex.port : 7)) != 0) {
		fprintf(stderr, "%s: cannot bind port %u: %s\n", argv[0], ex.port ? ex.port : 7,
			strerror(h.id < 0 ? -h.id : -rc));
		return 1;
	}
	xs_udp_set_event_cb(ex.st, h, on_udp, &echoed);
	g_st = ex.st;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("udp_echo: ready on port %u\n", ex.port ? ex.port : 7);
	fflush(stdout);
	rc = xs_run(ex.st, NULL);
	printf("udp_echo: %lu datagrams echoed\n", echoed);
	xs_stack_free(ex.st);
	if (rc) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-rc));
		return 1;
	}
	return 0;
}
