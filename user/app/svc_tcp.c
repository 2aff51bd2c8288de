/* Built-in TCP services of the daemon: echo (RFC 862), discard (RFC 863) and
 * a source that streams bytes to whoever connects, on the public TCP API. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"

#define SVC_BUF 65536
#define SVC_MAX_CONNS 4096 /* the library's handle space */

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_SOURCE };

/* Only echo keeps bytes per connection: discard and source use the
 * daemon's shared buffers, so a connection a peer holds open (a zero window,
 * say) costs the service a few bytes beyond what TCP's budgets bound. */
struct svc_conn {
	enum svc_kind kind;
	uint32_t pending;   /* echo: bytes read but not yet sent back */
	uint32_t sent;
	bool eof;
	uint8_t buf[];      /* echo: SVC_BUF bytes */
};

/* Per daemon: connections by handle, so everything is freed at exit. */
struct svc_tcp {
	struct svc_conn *conn[SVC_MAX_CONNS];
	int listener[3];
	uint8_t sink[SVC_BUF];    /* what discard and source read, thrown away */
	uint8_t pattern[SVC_BUF]; /* what the source sends */
};

static void svc_conn_end(struct xs_stack *st, struct svc_tcp *s, int h)
{
	free(s->conn[h]);
	s->conn[h] = NULL;
	xs_tcp_close(st, h);
}

/* Echo: read while what was read can be written back; stop reading when the
 * send buffer is full (the peer then sees our window close). */
static void svc_echo(struct xs_stack *st, struct svc_tcp *s, int h, struct svc_conn *c)
{
	for (;;) {
		while (c->sent < c->pending) {
			ssize_t n = xs_tcp_send(st, h, c->buf + c->sent, c->pending - c->sent);

			if (n == -EAGAIN)
				return;
			if (n < 0) {
				svc_conn_end(st, s, h);
				return;
			}
			c->sent += (uint32_t)n;
		}
		c->pending = c->sent = 0;
		if (c->eof) {
			xs_tcp_shutdown(st, h);
			return;
		}
		ssize_t n = xs_tcp_recv(st, h, c->buf, SVC_BUF);

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
		c->pending = (uint32_t)n;
	}
}

static void svc_discard(struct xs_stack *st, struct svc_tcp *s, int h, struct svc_conn *c)
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
static void svc_source(struct xs_stack *st, struct svc_tcp *s, int h, struct svc_conn *c)
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

static void svc_conn_ready(struct xs_stack *st, int h, unsigned events, void *ctx)
{
	struct svc_tcp *s = ctx;
	struct svc_conn *c = s->conn[h];

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
	if (s->conn[h] && (events & XS_EV_HUP))
		svc_conn_end(st, s, h);
}

static void svc_accept_ready(struct xs_stack *st, int lh, unsigned events, void *ctx)
{
	struct svc_tcp *s = ctx;
	enum svc_kind kind = lh == s->listener[SVC_ECHO]      ? SVC_ECHO
			     : lh == s->listener[SVC_DISCARD] ? SVC_DISCARD
							      : SVC_SOURCE;
	int h;

	while ((h = xs_tcp_accept(st, lh, NULL, NULL)) >= 0) {
		struct svc_conn *c = malloc(sizeof(*c) + (kind == SVC_ECHO ? SVC_BUF : 0));

		if (!c || h >= SVC_MAX_CONNS) {
			free(c);
			xs_tcp_abort(st, h);
			continue;
		}
		c->kind = kind;
		c->pending = c->sent = 0;
		c->eof = false;
		s->conn[h] = c;
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
	for (i = 0; i < 3; i++) {
		s->listener[i] = -1;
		if (!ports[i])
			continue;
		s->listener[i] = xs_tcp_listen(st, ports[i], 1024);
		if (s->listener[i] < 0) {
			snprintf(err, errlen, "cannot start TCP %s on port %u (%s)", names[i],
				 ports[i], strerror(-s->listener[i]));
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
	for (i = 0; i < SVC_MAX_CONNS; i++)
		if (s->conn[i])
			svc_conn_end(st, s, i);
	for (i = 0; i < 3; i++)
		if (s->listener[i] >= 0)
			xs_tcp_close(st, s->listener[i]);
	free(s);
}
