/* Built-in TCP services of the daemon: echo (RFC 862), discard (RFC 863) and
 * a source that streams bytes to whoever connects, on the public TCP API. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/svc_table.h"

#define SVC_BUF 65536
#define SVC_ALPHABET 94 /* the source sends '!' + offset % 94 */

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_SOURCE };

/* No service keeps a buffer per connection: they work in TCP's own rings
 * through the zero-copy calls (xs_tcp_recv_peek, xs_tcp_send_reserve), so a
 * connection a peer holds open costs the service these few bytes beyond
 * what TCP's budgets bound, in a table by handle id: no allocation of its
 * own, which among the rings and RACK storage that come and go would pin
 * a heap page per connection it was placed in. */
struct svc_conn {
	enum svc_kind kind;
	uint8_t phase; /* source: offset % SVC_ALPHABET of the next byte */
	bool eof;
	bool open; /* a connection has this handle id */
	struct xs_tcp h;
};

/* Per daemon: connections by handle id (conn[0 .. nconn), grown as handles
 * come; open false: no connection), so everything is freed at exit. */
struct svc_tcp {
	struct svc_conn *conn;
	unsigned nconn;
	struct xs_tcp listener[3];
	uint8_t pattern[SVC_BUF + SVC_ALPHABET]; /* the source's bytes from any phase */
};

static void svc_conn_end(struct xs_stack *st, struct svc_tcp *s, struct xs_tcp h)
{
	s->conn[h.id].open = false;
	xs_tcp_close(st, h);
}

/* Reads everything there is in place and lets it go, copying nothing.
 * Returns the last peek's answer: 0 at end of stream, -EAGAIN, an error. */
static ssize_t svc_drain(struct xs_stack *st, struct xs_tcp h)
{
	const void *p;
	ssize_t n;

	while ((n = xs_tcp_recv_peek(st, h, &p)) > 0)
		xs_tcp_recv_consume(st, h, (size_t)n);
	return n;
}

/* Echo, ring to ring with one copy: bytes are read where TCP received them
 * and written where TCP sends them from. What the send ring has no room
 * for stays unread, so the peer sees our window close until the echo
 * drains (XS_EV_WRITABLE brings us back). */
static void svc_echo(struct xs_stack *st, struct svc_tcp *s, struct xs_tcp h, struct svc_conn *c)
{
	for (;;) {
		const void *in;
		void *out;
		ssize_t n, m;

		n = xs_tcp_recv_peek(st, h, &in);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			/* Everything echoed is queued: the FIN follows it. */
			if (!c->eof) {
				c->eof = true;
				xs_tcp_shutdown(st, h);
			}
			return;
		}
		if (n < 0) {
			svc_conn_end(st, s, h);
			return;
		}
		m = xs_tcp_send_reserve(st, h, &out);
		if (m == -EAGAIN) {
			xs_tcp_recv_consume(st, h, 0); /* nothing used */
			return;
		}
		if (m < 0) {
			svc_conn_end(st, s, h);
			return;
		}
		if (m > n)
			m = n;
		memcpy(out, in, (size_t)m);
		if (xs_tcp_send_commit(st, h, (size_t)m) != 0) {
			svc_conn_end(st, s, h);
			return;
		}
		xs_tcp_recv_consume(st, h, (size_t)m);
	}
}

static void svc_discard(struct xs_stack *st, struct svc_tcp *s, struct xs_tcp h,
			struct svc_conn *c)
{
	ssize_t n = svc_drain(st, h);

	if (n == 0 && !c->eof) {
		c->eof = true;
		xs_tcp_shutdown(st, h);
	} else if (n < 0 && n != -EAGAIN) {
		svc_conn_end(st, s, h);
	}
}

/* Source: keep the send ring full, written in place ('!' + offset % 94, one
 * unbroken sequence from the first byte), until the peer closes its side. */
static void svc_source(struct xs_stack *st, struct svc_tcp *s, struct xs_tcp h,
		       struct svc_conn *c)
{
	ssize_t n = svc_drain(st, h);
	void *out;

	if (n != -EAGAIN) {
		svc_conn_end(st, s, h); /* 0: the reader is done, stop streaming */
		return;
	}
	while ((n = xs_tcp_send_reserve(st, h, &out)) > 0) {
		size_t done = 0;

		while (done < (size_t)n) {
			size_t k = (size_t)n - done < SVC_BUF ? (size_t)n - done : SVC_BUF;

			memcpy((uint8_t *)out + done, s->pattern + c->phase, k);
			c->phase = (uint8_t)((c->phase + k) % SVC_ALPHABET);
			done += k;
		}
		if (xs_tcp_send_commit(st, h, (size_t)n) != 0) {
			svc_conn_end(st, s, h);
			return;
		}
	}
	if (n != -EAGAIN)
		svc_conn_end(st, s, h);
}

static void svc_conn_ready(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx)
{
	struct svc_tcp *s = ctx;
	struct svc_conn *c = h.id >= 0 && (unsigned)h.id < s->nconn ? &s->conn[h.id] : NULL;

	if (!c || !c->open)
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
	if (c->open && (events & XS_EV_HUP))
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
		struct svc_conn *nc = svc_table_fit(s->conn, &s->nconn, sizeof(*nc), h.id);

		if (!nc) {
			xs_tcp_abort(st, h);
			continue;
		}
		s->conn = nc;
		s->conn[h.id] = (struct svc_conn){ .kind = kind, .open = true, .h = h };
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
	for (i = 0; i < SVC_BUF + SVC_ALPHABET; i++)
		s->pattern[i] = (uint8_t)('!' + i % SVC_ALPHABET);
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
		if (s->conn[i].open)
			svc_conn_end(st, s, s->conn[i].h);
	for (i = 0; i < 3; i++)
		if (s->listener[i].id >= 0)
			xs_tcp_close(st, s->listener[i]);
	free(s->conn);
	free(s);
}
