/* Built-in TCP services of the daemon: echo (RFC 862), discard (RFC 863) and
 * a source that streams bytes to whoever connects, on the public TCP API. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"

#define SVC_BUF 65536

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_SOURCE };

/* No service keeps a buffer per idle connection: they read into the
 * daemon's shared scratch; echo keeps only what TCP would not take back at
 * once (held is allocated while bytes wait, exactly their size), so a
 * connection a peer holds open costs the service a few bytes beyond what
 * TCP's budgets bound. */
struct svc_conn {
	enum svc_kind kind;
	uint32_t pending;   /* echo: bytes in held not yet sent back */
	uint32_t sent;
	bool eof;
	uint8_t *held;      /* echo: NULL unless bytes wait */
	struct xs_tcp h;
};

/* Per daemon: connections by handle id (conn[0 .. nconn), grown as handles
 * come), so everything is freed at exit. */
struct svc_tcp {
	struct svc_conn **conn;
	unsigned nconn;
	struct xs_tcp listener[3];
	uint8_t sink[SVC_BUF];    /* what all services read into */
	uint8_t pattern[SVC_BUF]; /* what the source sends */
};

static void svc_conn_end(struct xs_stack *st, struct svc_tcp *s, struct xs_tcp h)
{
	free(s->conn[h.id]->held);
	free(s->conn[h.id]);
	s->conn[h.id] = NULL;
	xs_tcp_close(st, h);
}

/* Sends what echo holds back; 1 when all went, 0 to wait, -1 ended. */
static int svc_echo_flush(struct xs_stack *st, struct svc_tcp *s, struct xs_tcp h,
			  struct svc_conn *c)
{
	while (c->sent < c->pending) {
		ssize_t n = xs_tcp_send(st, h, c->held + c->sent, c->pending - c->sent);

		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			svc_conn_end(st, s, h);
			return -1;
		}
		c->sent += (uint32_t)n;
	}
	free(c->held);
	c->held = NULL;
	c->pending = c->sent = 0;
	return 1;
}

/* Echo: read into the shared scratch and send it straight back; what the
 * send buffer does not take is kept (allocated now) and reading stops until
 * it has gone (the peer then sees our window close). */
static void svc_echo(struct xs_stack *st, struct svc_tcp *s, struct xs_tcp h, struct svc_conn *c)
{
	for (;;) {
		ssize_t n, m;

		if (c->held && svc_echo_flush(st, s, h, c) <= 0)
			return;
		if (c->eof) {
			xs_tcp_shutdown(st, h);
			return;
		}
		n = xs_tcp_recv(st, h, s->sink, SVC_BUF);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			c->eof = true;
			continue;
		}
		if (n < 0) {
			svc_conn_end(st, s, h);
			return;
		}
		m = xs_tcp_send(st, h, s->sink, (size_t)n);
		if (m == -EAGAIN)
			m = 0;
		if (m < 0) {
			svc_conn_end(st, s, h);
			return;
		}
		if (m < n) {
			c->held = malloc((size_t)(n - m));
			if (!c->held) {
				svc_conn_end(st, s, h);
				return;
			}
			memcpy(c->held, s->sink + m, (size_t)(n - m));
			c->pending = (uint32_t)(n - m);
			c->sent = 0;
		}
	}
}

static void svc_discard(struct xs_stack *st, struct svc_tcp *s, struct xs_tcp h,
			struct svc_conn *c)
{
	ssize_t n;

	while ((n = xs_tcp_recv(st, h, s->sink, sizeof(s->sink))) > 0)
		;
	if (n == 0 && !c->eof) {
		c->eof = true;
		xs_tcp_shutdown(st, h);
	} else if (n < 0 && n != -EAGAIN) {
		svc_conn_end(st, s, h);
	}
}

/* Source: keep the send buffer full until the peer closes its side. */
static void svc_source(struct xs_stack *st, struct svc_tcp *s, struct xs_tcp h,
		       struct svc_conn *c)
{
	ssize_t n;

	while ((n = xs_tcp_recv(st, h, s->sink, sizeof(s->sink))) > 0)
		;
	if (n == 0) {
		svc_conn_end(st, s, h); /* the reader is done: stop streaming */
		return;
	}
	if (n != -EAGAIN) {
		svc_conn_end(st, s, h);
		return;
	}
	while ((n = xs_tcp_send(st, h, s->pattern, sizeof(s->pattern))) > 0)
		;
	if (n != -EAGAIN)
		svc_conn_end(st, s, h);
}

static void svc_conn_ready(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx)
{
	struct svc_tcp *s = ctx;
	struct svc_conn *c = h.id >= 0 && (unsigned)h.id < s->nconn ? s->conn[h.id] : NULL;

	if (!c)
		return;
	if (events & XS_EV_ERROR) {
		svc_conn_end(st, s, h); /* reset or timed out: nothing to finish */
		return;
	}
	switch (c->kind) {
	case SVC_ECHO:
		svc_echo(st, s, h, c);
		break;
	case SVC_DISCARD:
		svc_discard(st, s, h, c);
		break;
	case SVC_SOURCE:
		svc_source(st, s, h, c);
		break;
	}
	if (s->conn[h.id] && (events & XS_EV_HUP))
		svc_conn_end(st, s, h);
}

static void svc_accept_ready(struct xs_stack *st, struct xs_tcp lh, unsigned events, void *ctx)
{
	struct svc_tcp *s = ctx;
	enum svc_kind kind = lh.id == s->listener[SVC_ECHO].id      ? SVC_ECHO
			     : lh.id == s->listener[SVC_DISCARD].id ? SVC_DISCARD
								    : SVC_SOURCE;
	struct xs_tcp h;

	while ((h = xs_tcp_accept(st, lh, NULL, NULL)).id >= 0) {
		struct svc_conn *c;

		if ((unsigned)h.id >= s->nconn) {
			unsigned n = s->nconn ? s->nconn : 64;
			struct svc_conn **nc;

			while (n <= (unsigned)h.id)
				n *= 2;
			nc = realloc(s->conn, n * sizeof(*nc));
			if (!nc) {
				xs_tcp_abort(st, h);
				continue;
			}
			memset(nc + s->nconn, 0, (n - s->nconn) * sizeof(*nc));
			s->conn = nc;
			s->nconn = n;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			xs_tcp_abort(st, h);
			continue;
		}
		c->kind = kind;
		c->h = h;
		s->conn[h.id] = c;
		xs_tcp_set_event_cb(st, h, svc_conn_ready, s);
	}
}

struct svc_tcp *svc_tcp_start(struct xs_stack *st, const uint16_t ports[3], char *err,
			      size_t errlen)
{
	static const char *const names[3] = { "echo", "discard", "source" };
	struct svc_tcp *s = calloc(1, sizeof(*s));
	int i;

	if (!s) {
		snprintf(err, errlen, "out of memory starting TCP services");
		return NULL;
	}
	for (i = 0; i < SVC_BUF; i++)
		s->pattern[i] = (uint8_t)('!' + i % 94);
	for (i = 0; i < 3; i++)
		s->listener[i] = (struct xs_tcp)XS_NO_HANDLE;
	for (i = 0; i < 3; i++) {
		if (!ports[i])
			continue;
		s->listener[i] = xs_tcp_listen(st, ports[i], 1024);
		if (s->listener[i].id < 0) {
			snprintf(err, errlen, "cannot start TCP %s on port %u (%s)", names[i],
				 ports[i], strerror(-s->listener[i].id));
			svc_tcp_stop(st, s);
			return NULL;
		}
		xs_tcp_set_event_cb(st, s->listener[i], svc_accept_ready, s);
	}
	return s;
}

void svc_tcp_stop(struct xs_stack *st, struct svc_tcp *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; (unsigned)i < s->nconn; i++)
		if (s->conn[i])
			svc_conn_end(st, s, s->conn[i]->h);
	for (i = 0; i < 3; i++)
		if (s->listener[i].id >= 0)
			xs_tcp_close(st, s->listener[i]);
	free(s->conn);
	free(s);
}
