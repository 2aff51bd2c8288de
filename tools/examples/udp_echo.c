/* Example: a UDP echo server on libxdpstack, written only against the
 * installed headers (pkg-config --cflags --libs libxdpstack). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static xs_time_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (xs_time_t)ts.tv_sec * 1000000000ull + (xs_time_t)ts.tv_nsec;
}

/* Readable: send every waiting datagram back where it came from. */
static void on_event(struct xs_stack *st, int h, unsigned events, void *ctx)
{
	unsigned long *echoed = ctx;
	char buf[2048];
	uint32_t ip;
	uint16_t port;
	ssize_t n;

	if (!(events & XS_EV_READABLE))
		return;
	while ((n = xs_udp_recvfrom(st, h, buf, sizeof(buf), &ip, &port)) >= 0)
		if (xs_udp_sendto(st, h, buf, (size_t)n, ip, port) == n)
			(*echoed)++;
}

int main(int argc, char **argv)
{
	struct xs_afxdp_config dcfg = {0};
	struct xs_config cfg = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	unsigned long echoed = 0;
	struct xs_stack *st;
	struct xs_dev *dev;
	struct in_addr a;
	char err[256];
	int h, rc = 1;

	if (argc != 5 || inet_pton(AF_INET, argv[2], &a) != 1) {
		fprintf(stderr, "usage: %s IFACE ADDR PREFIXLEN PORT\n", argv[0]);
		return 2;
	}
	dcfg.ifname = argv[1];
	dcfg.ip = ntohl(a.s_addr);
	dev = xs_afxdp_dev_new(&dcfg, err, sizeof(err));
	if (!dev) {
		fprintf(stderr, "udp_echo: %s\n", err);
		return 1;
	}
	cfg.ip = dcfg.ip;
	cfg.prefix_len = (uint8_t)atoi(argv[3]);
	st = xs_stack_new(&cfg, dev);
	if (!st) {
		fprintf(stderr, "udp_echo: cannot create the stack (%s)\n", strerror(errno));
		goto out_dev;
	}
	h = xs_udp_open(st);
	if (h < 0 || xs_udp_bind(st, h, (uint16_t)atoi(argv[4])) < 0) {
		fprintf(stderr, "udp_echo: cannot bind port %s\n", argv[4]);
		goto out_stack;
	}
	xs_udp_set_event_cb(st, h, on_event, &echoed);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("udp_echo: serving %s port %s on %s\n", argv[2], argv[4], argv[1]);
	fflush(stdout);
	while (!stop) {
		struct pollfd p = {.fd = xs_dev_fd(dev), .events = POLLIN};

		if (xs_stack_poll(st, now_ns()) < 0)
			break;
		poll(&p, 1, 10);
	}
	printf("udp_echo: echoed %lu datagrams, received %llu frames\n", echoed,
	       (unsigned long long)xs_stack_stats(st)->rx_frames);
	rc = 0;
out_stack:
	xs_stack_free(st);
out_dev:
	xs_dev_free(dev);
	return rc;
}
