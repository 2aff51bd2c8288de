/* The load generator's worker: one epoll loop over non-blocking sockets that
 * runs conn mode (connect, echo, close, again) or hold mode (open, verify, hold). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define LG_EVENTS 256
#define LG_IDLE_BACKOFF_NS 1000000ull /* before idle slots try again */
#define LG_MAX_WAIT_NS 1000000000ull  /* one epoll_wait at most */

enum lg_state { LG_FREE, LG_CONNECTING, LG_SENDING, LG_RECEIVING, LG_HELD };

struct lg_conn {
	int fd;
	enum lg_state state;
	uint32_t sent, rcvd;
	uint64_t t0;		     /* ns, connect() */
	struct lg_conn *prev, *next; /* attempts in flight, oldest first */
};

struct lg_worker {
	const struct lg_cfg *cfg;
	unsigned nslots; /* conn: clients; hold: connections */
	uint64_t quota;	 /* connections this worker may start (0 = no limit) */
	unsigned src_next;
	int ep, sfd;
	struct lg_conn *slot;
	struct lg_conn *head, *tail; /* in flight, for timeouts */
	struct lg_conn **idle;	     /* conn: slots whose start failed at once */
	unsigned nidle;
	unsigned inflight, held;
	uint8_t *req, *buf;
	bool stopping, signalled;
	uint64_t t_start, t_last;
	struct lg_result res;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static enum lg_err err_kind(int e, bool established)
{
	switch (e) {
	case ECONNREFUSED:
		return LG_ERR_refused;
	case EHOSTUNREACH:
	case ENETUNREACH:
		return LG_ERR_unreachable;
	case ETIMEDOUT:
		return LG_ERR_timeout;
	case ECONNRESET:
	case EPIPE:
		return established ? LG_ERR_reset : LG_ERR_refused;
	case EADDRNOTAVAIL:
	case EADDRINUSE:
		return LG_ERR_addr;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return LG_ERR_resource;
	default:
		return LG_ERR_other;
	}
}

/* --- in-flight list (all attempts share one timeout, so oldest first) --- */

static void fifo_push(struct lg_worker *w, struct lg_conn *c)
{
	c->next = NULL;
	c->prev = w->tail;
	if (w->tail)
		w->tail->next = c;
	else
		w->head = c;
	w->tail = c;
	w->inflight++;
}

static void fifo_del(struct lg_worker *w, struct lg_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		w->tail = c->prev;
	c->prev = c->next = NULL;
	w->inflight--;
}

static void conn_close(struct lg_worker *w, struct lg_conn *c)
{
	if (c->state != LG_HELD && c->state != LG_FREE)
		fifo_del(w, c);
	if (c->state == LG_HELD)
		w->held--;
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->state = LG_FREE;
}

static bool may_start(const struct lg_worker *w)
{
	return !w->stopping && (!w->quota || w->res.attempted < w->quota);
}

static void conn_fail(struct lg_worker *w, struct lg_conn *c, enum lg_err kind)
{
	w->res.err[kind]++;
	conn_close(w, c);
}

static int conn_start(struct lg_worker *w, struct lg_conn *c, uint64_t now);

/* conn mode: a free slot starts the next connection while the run lasts.
 * One whose socket() or connect() fails at once (no descriptors, no local
 * port) waits on the idle list for the next loop turn, so a run that keeps
 * failing still sees its deadline and signals. */
static void slot_refill(struct lg_worker *w, struct lg_conn *c, uint64_t now)
{
	if (w->cfg->mode != LG_CONN || c->state != LG_FREE || !may_start(w))
		return;
	if (conn_start(w, c, now) < 0)
		w->idle[w->nidle++] = c;
}

/* Each idle slot tries once more; those that fail again go back. */
static void idle_retry(struct lg_worker *w, uint64_t now)
{
	unsigned n = w->nidle;

	w->nidle = 0;
	for (unsigned i = 0; i < n; i++) /* refills write at index <= i */
		slot_refill(w, w->idle[i], now);
}

static int conn_start(struct lg_worker *w, struct lg_conn *c, uint64_t now)
{
	const struct lg_cfg *cfg = w->cfg;
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	int one = 1, fd;

	w->res.attempted++;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		w->res.err[err_kind(errno, false)]++;
		return -1;
	}
	c->fd = fd;
	c->sent = c->rcvd = 0;
	c->t0 = now;
	c->state = LG_CONNECTING;
	fifo_push(w, c);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (cfg->rst) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	if (cfg->nsrc) {
		/* The port is picked at connect() time, per source address and
		 * destination, so each source has its own ephemeral range. */
		const struct sockaddr_in *src = &cfg->src[w->src_next++ % cfg->nsrc];

		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) < 0)
			goto err;
	}
	if (connect(fd, (const struct sockaddr *)&cfg->dst, sizeof(cfg->dst)) < 0 &&
	    errno != EINPROGRESS)
		goto err;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto err;
	return 0;
err:
	conn_fail(w, c, err_kind(errno, false));
	return -1;
}

static void conn_done(struct lg_worker *w, struct lg_conn *c, uint64_t now)
{
	uint64_t us = (now - c->t0) / 1000;

	lg_hist_add(&w->res.lat, us);
	w->res.completed++;
	w->t_last = now;
	if (w->cfg->mode == LG_CONN) {
		conn_close(w, c);
		return;
	}
	/* hold: keep it, idle, watching for the peer closing it. */
	fifo_del(w, c);
	c->state = LG_HELD;
	w->held++;
}

static void conn_send(struct lg_worker *w, struct lg_conn *c)
{
	unsigned size = w->cfg->size;

	while (c->sent < size) {
		ssize_t n = send(c->fd, w->req + c->sent, size - c->sent, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return; /* EPOLLOUT is still armed */
			conn_fail(w, c, err_kind(errno, true));
			return;
		}
		c->sent += (uint32_t)n;
		w->res.bytes_tx += (uint64_t)n;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		conn_fail(w, c, err_kind(errno, true));
		return;
	}
	c->state = LG_RECEIVING;
}

static void conn_recv(struct lg_worker *w, struct lg_conn *c, uint64_t now)
{
	unsigned size = w->cfg->size;

	while (c->rcvd < size) {
		ssize_t n = recv(c->fd, w->buf, size - c->rcvd, 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_fail(w, c, err_kind(errno, true));
			return;
		}
		if (n == 0) {
			conn_fail(w, c, LG_ERR_eof);
			return;
		}
		if (memcmp(w->buf, w->req + c->rcvd, (size_t)n)) {
			conn_fail(w, c, LG_ERR_mismatch);
			return;
		}
		c->rcvd += (uint32_t)n;
		w->res.bytes_rx += (uint64_t)n;
	}
	conn_done(w, c, now);
}

/* A held connection became readable: the peer closed or reset it, or sent
 * bytes nobody asked for. Either way it is no longer an idle echo client. */
static void conn_held_event(struct lg_worker *w, struct lg_conn *c)
{
	w->res.lost++;
	conn_close(w, c);
}

static void conn_event(struct lg_worker *w, struct lg_conn *c, uint32_t events, uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	switch (c->state) {
	case LG_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (!err && (events & (EPOLLERR | EPOLLHUP)))
			err = ECONNRESET;
		if (err) {
			conn_fail(w, c, err_kind(err, false));
			break;
		}
		c->state = LG_SENDING;
		conn_send(w, c);
		break;
	case LG_SENDING:
		conn_send(w, c);
		break;
	case LG_RECEIVING:
		conn_recv(w, c, now);
		break;
	case LG_HELD:
		conn_held_event(w, c);
		break;
	case LG_FREE:
		break;
	}
	slot_refill(w, c, now);
}

static void expire(struct lg_worker *w, uint64_t now)
{
	uint64_t limit = (uint64_t)w->cfg->timeout * 1000000ull;

	while (w->head && now - w->head->t0 >= limit) {
		struct lg_conn *c = w->head;

		conn_fail(w, c, LG_ERR_timeout);
		slot_refill(w, c, now);
	}
}

/* Milliseconds until the first of: the oldest attempt's timeout, `until`. */
static int wait_ms(const struct lg_worker *w, uint64_t now, uint64_t until)
{
	uint64_t t = until;

	if (w->head) {
		uint64_t d = w->head->t0 + (uint64_t)w->cfg->timeout * 1000000ull;

		if (d < t)
			t = d;
	}
	if (w->nidle && may_start(w) && now + LG_IDLE_BACKOFF_NS < t)
		t = now + LG_IDLE_BACKOFF_NS;
	if (t <= now)
		return 0;
	if (t - now > LG_MAX_WAIT_NS)
		return (int)(LG_MAX_WAIT_NS / 1000000);
	return (int)((t - now + 999999) / 1000000);
}

/* Runs epoll once; returns false when a signal asked to stop. */
static bool worker_turn(struct lg_worker *w, uint64_t until)
{
	struct epoll_event ev[LG_EVENTS];
	uint64_t now = now_ns();
	int n = epoll_wait(w->ep, ev, LG_EVENTS, wait_ms(w, now, until));

	if (n < 0 && errno != EINTR) {
		perror("xs_loadgen: epoll_wait");
		w->signalled = true;
		return false;
	}
	now = now_ns();
	for (int i = 0; i < n; i++) {
		struct lg_conn *c = ev[i].data.ptr;

		if (!c) {
			struct signalfd_siginfo si;

			if (read(w->sfd, &si, sizeof(si)) > 0)
				w->signalled = true;
			continue;
		}
		conn_event(w, c, ev[i].events, now);
	}
	expire(w, now_ns());
	return !w->signalled;
}

static void worker_close_all(struct lg_worker *w, bool count_unfinished)
{
	for (unsigned i = 0; i < w->nslots; i++) {
		struct lg_conn *c = &w->slot[i];

		if (c->state == LG_FREE)
			continue;
		if (count_unfinished && c->state != LG_HELD)
			w->res.unfinished++;
		conn_close(w, c);
	}
}

static void run_conn(struct lg_worker *w)
{
	uint64_t end = w->t_start + (uint64_t)w->cfg->duration * 1000000000ull;

	w->t_last = w->t_start;
	for (unsigned i = 0; i < w->nslots; i++)
		slot_refill(w, &w->slot[i], w->t_start);
	while (w->inflight || (w->nidle && may_start(w))) {
		uint64_t now = now_ns();

		/* At the end of --duration no new connection starts; those in
		 * flight finish (bounded by --timeout). */
		if (!w->stopping && now >= end)
			w->stopping = true;
		if (w->nidle && may_start(w))
			idle_retry(w, now);
		if (!worker_turn(w, w->stopping ? UINT64_MAX : end))
			break;
	}
	worker_close_all(w, true);
	w->res.elapsed_s = (double)(w->t_last - w->t_start) / 1e9;
}

/* hold: open every connection (at most --ramp attempts in flight), verify
 * each with one echo, report through ready(), hold, close. */
static void run_hold(struct lg_worker *w, lg_ready_fn *ready, void *arg)
{
	unsigned next = 0;
	uint64_t t_held, end;

	while (!w->signalled) {
		uint64_t now = now_ns();

		while (next < w->nslots && w->inflight < w->cfg->ramp)
			conn_start(w, &w->slot[next++], now);
		if (next == w->nslots && !w->inflight)
			break;
		worker_turn(w, UINT64_MAX);
	}
	t_held = now_ns();
	w->res.elapsed_s = (double)(t_held - w->t_start) / 1e9;
	ready(&w->res, arg);
	end = t_held + (uint64_t)w->cfg->duration * 1000000000ull;
	while (!w->signalled && w->held && now_ns() < end) /* until all are lost */
		worker_turn(w, end);
	w->res.held_s = (double)(now_ns() - t_held) / 1e9;
	w->res.held_end = w->held;
	worker_close_all(w, true);
}

int lg_worker_run(const struct lg_cfg *cfg, unsigned nslots, uint64_t quota, unsigned src0,
		  lg_ready_fn *ready, void *arg, struct lg_result *out)
{
	struct lg_worker w = {.cfg = cfg, .nslots = nslots, .quota = quota, .src_next = src0};
	struct epoll_event sev = {.events = EPOLLIN, .data.ptr = NULL};
	sigset_t mask;
	int rc = -1;

	lg_hist_init(&w.res.lat);
	w.slot = calloc(nslots ? nslots : 1, sizeof(*w.slot));
	w.idle = calloc(nslots ? nslots : 1, sizeof(*w.idle));
	w.req = malloc(cfg->size);
	w.buf = malloc(cfg->size);
	w.ep = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	w.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (!w.slot || !w.idle || !w.req || !w.buf || w.ep < 0 || w.sfd < 0 ||
	    epoll_ctl(w.ep, EPOLL_CTL_ADD, w.sfd, &sev) < 0) {
		perror("xs_loadgen: worker setup");
		goto out;
	}
	for (unsigned i = 0; i < nslots; i++)
		w.slot[i].fd = -1;
	for (unsigned i = 0; i < cfg->size; i++)
		w.req[i] = (uint8_t)('a' + (i * 7 + src0) % 26);
	w.t_start = now_ns();
	if (cfg->mode == LG_CONN)
		run_conn(&w);
	else
		run_hold(&w, ready, arg);
	*out = w.res;
	rc = 0;
out:
	if (w.sfd >= 0)
		close(w.sfd);
	if (w.ep >= 0)
		close(w.ep);
	free(w.buf);
	free(w.req);
	free(w.idle);
	free(w.slot);
	return rc;
}
