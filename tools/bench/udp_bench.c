/* UDP echo load generator and a kernel echo server for side-by-side benchmarks:
 * the same client measures xdpstack's echo service and the kernel's, in one run. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Kernel echo server with recvmmsg/sendmmsg, so the kernel side is not
 * penalised by one syscall per datagram. Runs until killed or max_s elapse. */
static int serve(const char *ip, int port, double max_s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static uint8_t bufs[BATCH][2048];
	struct sockaddr_in from[BATCH];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	double end = now_s() + max_s;
	int fd, i, n;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "udp_bench: cannot bind %s:%d (%s)\n", ip, port, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (now_s() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 200) <= 0)
			continue;
		for (i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			memset(&m[i], 0, sizeof(m[i]));
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_name = &from[i];
			m[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		for (i = 0; i < n; i++)
			iov[i].iov_len = m[i].msg_len;
		sendmmsg(fd, m, (unsigned)n, 0);
	}
	close(fd);
	return 0;
}

/* Keeps `window` requests in flight; each carries a sequence number. Reports
 * completed transactions per second, mean latency and losses (timeouts). */
static int client(const char *ip, int port, long count, int size, int window, double max_s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	uint8_t buf[2048];
	double start, *sent_at, lat_sum = 0, deadline;
	long next = 0, done = 0, lost = 0, inflight = 0;
	int fd;

	if (size < 8 || size > 1472 || window < 1 || count < 1) {
		fprintf(stderr, "udp_bench: size 8-1472, window >= 1, count >= 1\n");
		return 2;
	}
	sent_at = calloc((size_t)count, sizeof(*sent_at));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!sent_at || fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "udp_bench: cannot reach %s:%d (%s)\n", ip, port, strerror(errno));
		return 1;
	}
	memset(buf, 0xa5, sizeof(buf));
	start = now_s();
	deadline = start + max_s;
	while (done + lost < count && now_s() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		while (inflight < window && next < count) {
			memcpy(buf, &next, sizeof(next));
			sent_at[next] = now_s();
			if (send(fd, buf, (size_t)size, 0) < 0)
				break;
			next++;
			inflight++;
		}
		if (poll(&p, 1, 100) <= 0) {
			/* 100 ms of silence: count what is in flight as lost, refill. */
			lost += inflight;
			inflight = 0;
			continue;
		}
		while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			long seq;

			memcpy(&seq, buf, sizeof(seq));
			if (r != size || seq < 0 || seq >= next || sent_at[seq] == 0)
				continue;
			lat_sum += now_s() - sent_at[seq];
			sent_at[seq] = 0;
			done++;
			if (inflight)
				inflight--;
		}
	}
	{
		double el = now_s() - start;

		printf("transactions %ld lost %ld seconds %.3f rate %.0f latency_us %.1f\n", done, lost,
		       el, done / el, done ? lat_sum / done * 1e6 : 0.0);
	}
	free(sent_at);
	close(fd);
	return done ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "server"))
		return serve(argv[2], atoi(argv[3]), atof(argv[4]));
	if (argc == 8 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atol(argv[4]), atoi(argv[5]), atoi(argv[6]),
			      atof(argv[7]));
	fprintf(stderr, "usage: udp_bench server IP PORT MAX_SECONDS\n"
			"       udp_bench client IP PORT COUNT SIZE WINDOW MAX_SECONDS\n");
	return 2;
}
