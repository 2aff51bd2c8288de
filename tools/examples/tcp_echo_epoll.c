/* Example: a TCP echo server on libxdpstack driven by the application's own
 * epoll loop (xs_stack_fd, xs_stack_next_timer), beside a signalfd of its own;
 * it echoes from the stack's receive ring in place (xs_tcp_recv_peek). */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "example.h"

#define MAX_CONNS 64 /* this example's budget; more are refused (closed) */

struct server;

struct conn {
	struct server *s;
	struct xs_tcp h; /* id -1: free slot; no buffer: the stack's rings are it */
};

struct server {
	struct xs_stack *st;
	struct xs_tcp lh;
	struct conn c[MAX_CONNS];
	unsigned long accepted, refused, bytes;
};

static void conn_end(struct server *s, struct conn *c)
{
	xs_tcp_close(s->st, c->h);
	c->h = (struct xs_tcp)XS_NO_HANDLE;
}

/* Echo what can be, without a buffer of our own: the received bytes are
 * sent from where the stack holds them (peek), and given back (consume) as
 * far as the send took them; the rest stays unread, so a slow reader closes
 * the sender's window (flow control). */
static void conn_pump(struct server *s, struct conn *c)
{
	for (;;) {
		const void *in;
		ssize_t n = xs_tcp_recv_peek(s->st, c->h, &in), m;

		if (n == -EAGAIN)
			return; /* XS_EV_READABLE brings us back */
		if (n <= 0)
			break; /* end of stream (all echoed), or an error */
		m = xs_tcp_send(s->st, c->h, in, (size_t)n);
		if (m == -EAGAIN)
			m = 0; /* XS_EV_WRITABLE brings us back */
		if (m < 0)
			break;
		xs_tcp_recv_consume(s->st, c->h, (size_t)m); /* 0: nothing used */
		s->bytes += (size_t)m;
		if (m < n)
			return;
	}
	/* The peer finished and everything went back: close (FIN after data). */
	conn_end(s, c);
}

static void on_conn_event(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx)
{
	struct conn *c = ctx;

	if (c->h.id == h.id && c->h.gen == h.gen)
		conn_pump(c->s, c);
}

static void on_listener(struct xs_stack *st, struct xs_tcp lh, unsigned events, void *ctx)
{
	struct server *s = ctx;
	struct xs_tcp h;
	int i;

	while ((h = xs_tcp_accept(st, lh, NULL, NULL)).id >= 0) {
		for (i = 0; i < MAX_CONNS && s->c[i].h.id >= 0; i++)
			;
		if (i == MAX_CONNS) {
			s->refused++;
			xs_tcp_abort(st, h);
			continue;
		}
		s->accepted++;
		s->c[i].h = h;
		xs_tcp_set_event_cb(st, h, on_conn_event, &s->c[i]);
	}
}

static xs_time_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (xs_time_t)ts.tv_sec * 1000000000ull + (xs_time_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static struct server srv;
	struct epoll_event ev = {.events = EPOLLIN}, got[8];
	struct example ex;
	int ep, sfd, xfd, i, n, running = 1;
	uint16_t port;
	sigset_t mask;

	ex_parse(&ex, argc, argv, "[--port N (7)]");
	port = ex.port ? ex.port : 7;
	ex_create(&ex, argv[0]);
	srv.st = ex.st;
	for (i = 0; i < MAX_CONNS; i++) {
		srv.c[i].h = (struct xs_tcp)XS_NO_HANDLE;
		srv.c[i].s = &srv;
	}
	srv.lh = xs_tcp_listen(ex.st, port, 64);
	if (srv.lh.id < 0) {
		fprintf(stderr, "%s: cannot listen on port %u: %s\n", argv[0], port,
			strerror(-srv.lh.id));
		return 1;
	}
	xs_tcp_set_event_cb(ex.st, srv.lh, on_listener, &srv);

	/* The application's own loop: its signalfd and the stack's fd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	xfd = xs_stack_fd(ex.st);
	if (sfd < 0 || ep < 0 || xfd < 0) {
		fprintf(stderr, "%s: cannot set up the loop: %s\n", argv[0],
			strerror(xfd < 0 ? -xfd : errno));
		return 1;
	}
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = xfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, xfd, &ev);
	printf("tcp_echo_epoll: ready on port %u\n", port);
	fflush(stdout);

	while (running) {
		xs_time_t next, now;
		int wait;

		n = xs_stack_poll(ex.st, now_ns());
		if (n < 0) {
			fprintf(stderr, "%s: device: %s\n", argv[0], strerror(-n));
			return 1;
		}
		next = xs_stack_next_timer(ex.st);
		now = now_ns();
		if (n == XS_POLL_BATCH || next <= now)
			wait = 0;
		else if (next - now > 1000000000ull)
			wait = 1000;
		else
			wait = (int)((next - now + 999999) / 1000000);
		n = epoll_wait(ep, got, 8, wait);
		for (i = 0; i < n; i++)
			if (got[i].data.fd == sfd)
				running = 0;
		/* xfd readable: the next xs_stack_poll, at the top, takes it. */
	}
	printf("tcp_echo_epoll: %lu connections, %lu refused, %lu bytes echoed\n", srv.accepted,
	       srv.refused, srv.bytes);
	for (i = 0; i < MAX_CONNS; i++)
		if (srv.c[i].h.id >= 0)
			xs_tcp_abort(ex.st, srv.c[i].h);
	xs_tcp_close(ex.st, srv.lh);
	xs_stack_free(ex.st);
	close(ep);
	close(sfd);
	return 0;
}
