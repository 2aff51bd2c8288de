/* TCP request/response latency: a client doing fixed-size ping-pong over one
 * connection, and a kernel echo server to compare against, in one run. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSG 65536

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* spin: the socket is non-blocking and recv is retried at once, so that
 * this side never sleeps (a user-space busy poll). */
static int read_full(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r <= 0) {
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void set_spin(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Kernel echo server: one connection at a time, TCP_NODELAY, until max_s. */
static int serve(const char *ip, int port, int max_s, int spin)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	static uint8_t buf[MAX_MSG];
	int l, one = 1;

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 8)) {
		fprintf(stderr, "tcp_rr: cannot listen on %s:%d (%s)\n", ip, port, strerror(errno));
		return 1;
	}
	alarm((unsigned)max_s);
	for (;;) {
		int c = accept(l, NULL, NULL);
		ssize_t n;

		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (spin)
			set_spin(c);
		while ((n = recv(c, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EAGAIN))
			if (n > 0 && send(c, buf, (size_t)n, 0) != n)
				break;
		close(c);
	}
}

/* rounds round trips of size bytes; prints mean, p50, p99 in us. */
static int client(const char *ip, int port, int rounds, int size, int spin)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	static uint8_t out[MAX_MSG], in[MAX_MSG];
	double *rtt, sum = 0, t0, start;
	int fd, one = 1, i;

	rtt = calloc((size_t)rounds, sizeof(*rtt));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!rtt || fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "tcp_rr: cannot connect to %s:%d (%s)\n", ip, port,
			strerror(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (spin)
		set_spin(fd);
	memset(out, 'x', (size_t)size);
	start = now_us();
	for (i = 0; i < rounds; i++) {
		t0 = now_us();
		if (send(fd, out, (size_t)size, 0) != size || read_full(fd, in, (size_t)size)) {
			fprintf(stderr, "tcp_rr: round %d failed (%s)\n", i, strerror(errno));
			return 1;
		}
		rtt[i] = now_us() - t0;
		sum += rtt[i];
	}
	qsort(rtt, (size_t)rounds, sizeof(*rtt), cmp_double);
	printf("rounds %d size %d mean_us %.1f p50_us %.1f p99_us %.1f total_ms %.0f\n", rounds,
	       size, sum / rounds, rtt[rounds / 2], rtt[(int)(rounds * 0.99)],
	       (now_us() - start) / 1e3);
	close(fd);
	free(rtt);
	return 0;
}

int main(int argc, char **argv)
{
	int spin = argc > 1 && !strcmp(argv[argc - 1], "spin");

	argc -= spin;
	if (argc == 5 && !strcmp(argv[1], "server"))
		return serve(argv[2], atoi(argv[3]), atoi(argv[4]), spin);
	if (argc == 6 && !strcmp(argv[1], "client")) {
		int rounds = atoi(argv[4]), size = atoi(argv[5]);

		if (rounds > 0 && size > 0 && size <= MAX_MSG)
			return client(argv[2], atoi(argv[3]), rounds, size, spin);
	}
	fprintf(stderr,
		"usage: tcp_rr server IP PORT MAX_SECONDS [spin]\n"
		"       tcp_rr client IP PORT ROUNDS SIZE (1-%d) [spin]\n"
		"spin: a non-blocking socket, polled without sleeping\n",
		MAX_MSG);
	return 2;
}
