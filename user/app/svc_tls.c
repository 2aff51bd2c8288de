/* The daemon's TLS services on the public API: HTTPS is the HTTP service with
 * a TLS context; the TLS echo sends back what each session receives. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xdpstack/tls.h>

#include "app/counters.h"
#include "app/svc_http.h"
#include "app/svc_tls.h"

#define ECHO_CHUNK 16384

/* One echo session: what the send could not take waits here (at most one
 * read's worth) and reading stops until it is sent. */
struct echo_conn {
	struct svc_tls *s;
	struct xs_tls t;
	struct echo_conn *prev, *next;
	uint8_t *pend;
	size_t len, off;
	int peer_done; /* the peer's close_notify came */
};

struct svc_tls {
	struct xs_opts o;
	struct xs_stack *st;
	struct xs_tls_ctx *ctx;
	struct svc_http *https;
	struct xs_tcp echo_listener;
	struct echo_conn *conns;
	unsigned nconns;
	uint64_t echo_conns, echo_refused, echo_bytes;
#define SVC_TLS_ONE(name, desc) +1
	char names[0 SVC_HTTP_COUNTERS(SVC_TLS_ONE)][40]; /* "https_..." */
#undef SVC_TLS_ONE
	uint8_t buf[ECHO_CHUNK];
};

struct svc_tls *svc_tls_prepare(const struct xs_opts *o, char *err, size_t errlen)
{
	struct xs_tls_ctx_opts to = {
	    .cert_file = o->tls_cert,
	    .key_file = o->tls_key,
	    /* ALPN for HTTPS; a client offering none is served all the same. */
	    .alpn = o->https_port ? "http/1.1" : NULL,
	    .handshake_timeout_ms = o->tls_handshake_timeout_ms,
	    .max_handshakes = o->tls_max_handshakes,
	};
	struct svc_tls *s;
	char why[400];

	err[0] = 0;
	if (!o->https_port && !o->tls_echo_port)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory starting the TLS services");
		return NULL;
	}
	s->o = *o;
	s->echo_listener = (struct xs_tcp)XS_NO_HANDLE;
	s->ctx = xs_tls_ctx_new(&to, why, sizeof(why));
	if (!s->ctx) {
		snprintf(err, errlen, "invalid --cert/--key: %s", why);
		free(s);
		return NULL;
	}
	return s;
}

static void echo_end(struct echo_conn *k)
{
	struct svc_tls *s = k->s;

	if (k->prev)
		k->prev->next = k->next;
	else
		s->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	s->nconns--;
	xs_tls_close(s->st, k->t); /* close_notify after what is queued, or as it failed */
	free(k->pend);
	free(k);
}

static void echo_cb(struct xs_stack *st, struct xs_tls t, unsigned events, void *ctx)
{
	struct echo_conn *k = ctx;
	struct svc_tls *s = k->s;
	ssize_t n, m;

	if (events & XS_EV_ERROR) {
		echo_end(k);
		return;
	}
	for (;;) {
		while (k->off < k->len) {
			m = xs_tls_send(st, t, k->pend + k->off, k->len - k->off);
			if (m == -EAGAIN)
				return; /* XS_EV_WRITABLE resumes */
			if (m < 0) {
				echo_end(k);
				return;
			}
			k->off += (size_t)m;
			s->echo_bytes += (uint64_t)m;
		}
		free(k->pend);
		k->pend = NULL;
		k->len = k->off = 0;
		if (k->peer_done) {
			echo_end(k); /* everything echoed: our close_notify */
			return;
		}
		n = xs_tls_recv(st, t, s->buf, sizeof(s->buf));
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			k->peer_done = 1;
			continue;
		}
		if (n < 0) {
			echo_end(k);
			return;
		}
		m = xs_tls_send(st, t, s->buf, (size_t)n);
		if (m == -EAGAIN)
			m = 0;
		if (m < 0) {
			echo_end(k);
			return;
		}
		s->echo_bytes += (uint64_t)m;
		if (m < n) {
			k->pend = malloc((size_t)(n - m));
			if (!k->pend) {
				echo_end(k);
				return;
			}
			memcpy(k->pend, s->buf + m, (size_t)(n - m));
			k->len = (size_t)(n - m);
		}
	}
}

static void echo_accept(struct xs_stack *st, struct xs_tcp lh, unsigned events, void *ctx)
{
	struct svc_tls *s = ctx;
	struct xs_tcp h;

	(void)events;
	while ((h = xs_tcp_accept(st, lh, NULL, NULL)).id >= 0) {
		struct echo_conn *k = NULL;

		if (s->nconns < SVC_TLS_ECHO_MAX_CONNS)
			k = calloc(1, sizeof(*k));
		if (k) {
			k->s = s;
			k->t = xs_tls_server(st, s->ctx, h, echo_cb, k);
		}
		if (!k || k->t.id < 0) {
			free(k);
			s->echo_refused++;
			xs_tcp_abort(st, h);
			continue;
		}
		k->next = s->conns;
		if (s->conns)
			s->conns->prev = k;
		s->conns = k;
		s->nconns++;
		s->echo_conns++;
	}
}

int svc_tls_start(struct svc_tls *s, struct xs_stack *st, xs_time_t now, char *err, size_t errlen)
{
	size_t i = 0;

	s->st = st;
#define SVC_TLS_NAME(name, desc)                                                                   \
	snprintf(s->names[i++], sizeof(s->names[0]), "https_%s", #name + 5);
	SVC_HTTP_COUNTERS(SVC_TLS_NAME)
#undef SVC_TLS_NAME
	if (s->o.https_port) {
		struct svc_http_config hc = {.port = (uint16_t)s->o.https_port,
					     .root = s->o.http_root,
					     .header_timeout_ms = s->o.http_header_timeout_ms,
					     .max_conns = s->o.http_max_conns,
					     .send_timeout_ms = s->o.http_send_timeout_ms,
					     .tls = s->ctx};

		s->https = svc_http_start(st, &hc, now, err, errlen);
		if (!s->https)
			return -1;
	}
	if (s->o.tls_echo_port) {
		s->echo_listener = xs_tcp_listen(st, (uint16_t)s->o.tls_echo_port, 1024);
		if (s->echo_listener.id < 0) {
			snprintf(err, errlen, "cannot start the TLS echo on TCP port %d (%s)",
				 s->o.tls_echo_port, strerror(-s->echo_listener.id));
			return -1;
		}
		xs_tcp_set_event_cb(st, s->echo_listener, echo_accept, s);
	}
	return 0;
}

void svc_tls_tick(struct svc_tls *s, xs_time_t now)
{
	if (s && s->https)
		svc_http_tick(s->https, now);
}

xs_time_t svc_tls_next_deadline(const struct svc_tls *s)
{
	return s && s->https ? svc_http_next_deadline(s->https) : UINT64_MAX;
}

size_t svc_tls_counters(const struct svc_tls *s, struct cview_extra *out, size_t max)
{
	size_t n = 0, i = 0;

	if (!s)
		return 0;
	if (s->https) {
		const struct svc_http_stats *hs = svc_http_stats(s->https);

#define SVC_TLS_EXTRA(name, desc)                                                                  \
	if (n < max)                                                                               \
		out[n++] = cview_count("services", s->names[i], hs->name);                         \
	i++;
		SVC_HTTP_COUNTERS(SVC_TLS_EXTRA)
#undef SVC_TLS_EXTRA
	}
	if (s->echo_listener.id >= 0 && n + 3 <= max) {
		out[n++] = cview_count("services", "tls_echo_conns", s->echo_conns);
		out[n++] = cview_count("services", "tls_echo_refused", s->echo_refused);
		out[n++] = cview_count("services", "tls_echo_bytes", s->echo_bytes);
	}
	return n;
}

void svc_tls_stop(struct svc_tls *s)
{
	if (!s)
		return;
	svc_http_stop(s->https);
	while (s->conns) {
		struct echo_conn *k = s->conns;

		s->conns = k->next;
		xs_tls_abort(s->st, k->t);
		free(k->pend);
		free(k);
	}
	if (s->echo_listener.id >= 0)
		xs_tcp_close(s->st, s->echo_listener);
	xs_tls_ctx_free(s->ctx);
	free(s);
}
