/* The daemon's HTTP/1.1 static file server on the public TCP API, plain or
 * over TLS sessions: heads parsed by wire/http.c, files opened beneath the root
 * one component at a time. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/svc_http.h"
#include "app/svc_table.h"
#include "wire/http.h"

#define HTTP_OUT_MAX 640 /* a response head, or an error with its short body */
#define HTTP_PATH_MAX 4096

enum http_phase {
	C_READ,	  /* waiting for (the rest of) a request head */
	C_SEND,	  /* a response is going out */
	C_LINGER, /* the last response is out and our FIN sent: drain until theirs */
};

struct http_conn {
	struct xs_tcp h;
	struct xs_tls tls; /* HTTPS: the session over h, else id -1 */
	enum http_phase phase;
	bool peer_eof;	  /* the peer's FIN was read */
	bool close_after; /* close once this response is out */
	xs_time_t deadline;
	size_t in_len;
	char out[HTTP_OUT_MAX];
	size_t out_len, out_off;
	int fd; /* the file being sent, -1 when none */
	uint64_t file_off, file_end;
	uint8_t *stage; /* cfg.stage_bytes while a body is being sent */
	size_t stage_off, stage_len;
	uint8_t in[]; /* cfg.max_head + 1: one more byte than a head may have */
};

struct svc_http {
	struct xs_stack *st;
	struct svc_http_config cfg;
	struct svc_http_stats stats;
	struct http_limits lim;
	xs_time_t now, next_scan;
	struct xs_tcp listener;
	int rootfd;
	unsigned nconns;
	time_t date_at;
	char date[40];
	struct http_conn **conns; /* by handle id (svc_table.h) */
	unsigned nslots;
	char path[HTTP_PATH_MAX];
};

static void set_deadline(struct svc_http *s, struct http_conn *c, xs_time_t t)
{
	c->deadline = t;
	if (t < s->next_scan)
		s->next_scan = t;
}

/* The connection's byte stream: TCP itself, or the TLS session over it. */
static ssize_t stream_send(struct svc_http *s, struct http_conn *c, const void *b, size_t n)
{
	return c->tls.id >= 0 ? xs_tls_send(s->st, c->tls, b, n) : xs_tcp_send(s->st, c->h, b, n);
}

static ssize_t stream_recv(struct svc_http *s, struct http_conn *c, void *b, size_t n)
{
	return c->tls.id >= 0 ? xs_tls_recv(s->st, c->tls, b, n) : xs_tcp_recv(s->st, c->h, b, n);
}

static void stream_shutdown(struct svc_http *s, struct http_conn *c)
{
	if (c->tls.id >= 0)
		xs_tls_shutdown(s->st, c->tls); /* close_notify, then the FIN */
	else
		xs_tcp_shutdown(s->st, c->h);
}

static void body_done(struct http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->stage);
	c->stage = NULL;
	c->stage_off = c->stage_len = 0;
	c->file_off = c->file_end = 0;
}

/* Releases everything; abort sends RST (a response cut short must not look
 * complete), otherwise the close is graceful (TLS: close_notify first, or
 * for a session that failed, what xs_tls_close decides). */
static void conn_end(struct svc_http *s, struct http_conn *c, bool abort)
{
	struct xs_tls tls = c->tls;
	struct xs_tcp h = c->h;

	body_done(c);
	s->conns[h.id] = NULL;
	s->nconns--;
	free(c);
	if (tls.id >= 0 && abort)
		xs_tls_abort(s->st, tls);
	else if (tls.id >= 0)
		xs_tls_close(s->st, tls);
	else if (abort)
		xs_tcp_abort(s->st, h);
	else
		xs_tcp_close(s->st, h);
}

static void count_status(struct svc_http *s, int status)
{
	if (status < 300)
		s->stats.http_2xx++;
	else if (status < 500)
		s->stats.http_4xx++;
	else
		s->stats.http_5xx++;
	switch (status) {
	case 400:
		s->stats.http_bad_request++;
		break;
	case 403:
		s->stats.http_forbidden++;
		break;
	case 404:
		s->stats.http_not_found++;
		break;
	case 405:
		s->stats.http_method_refused++;
		break;
	case 408:
		s->stats.http_header_timeout++;
		break;
	case 413:
		s->stats.http_body_refused++;
		break;
	case 414:
		s->stats.http_line_too_long++;
		break;
	case 431:
		s->stats.http_head_too_big++;
		break;
	case 505:
		s->stats.http_version_refused++;
		break;
	default:
		break;
	}
}

/* RFC 9110 6.6.1: an origin server with a clock sends Date. Like the capture
 * device, this is I/O reading the wall clock, once per second at most. */
static void update_date(struct svc_http *s)
{
	time_t t = time(NULL);
	struct tm tm;

	if (t == s->date_at && s->date[0])
		return;
	s->date_at = t;
	gmtime_r(&t, &tm);
	strftime(s->date, sizeof(s->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Writes the status line and the common fields into c->out. */
static void put_head(struct svc_http *s, struct http_conn *c, int status, const char *type,
		     uint64_t length, const char *extra, bool keep10)
{
	const char *conn = c->close_after ? "Connection: close\r\n"
			   : keep10	  ? "Connection: keep-alive\r\n"
					  : "";
	int n;

	update_date(s);
	n = snprintf(c->out, sizeof(c->out),
		     "HTTP/1.1 %d %s\r\nServer: xdpstack\r\nDate: %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %llu\r\n%s%s\r\n",
		     status, http_reason(status), s->date, type, (unsigned long long)length,
		     extra ? extra : "", conn);
	c->out_len = n > 0 && (size_t)n < sizeof(c->out) ? (size_t)n : 0;
	c->out_off = 0;
	c->phase = C_SEND;
	set_deadline(s, c, s->now + XS_MS(s->cfg.send_timeout_ms));
	count_status(s, status);
}

/* An error response with a one-line text body (none for HEAD). */
static void put_error(struct svc_http *s, struct http_conn *c, int status, bool head, bool close,
		      bool keep10)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));
	size_t len;

	c->close_after = close || c->close_after;
	put_head(s, c, status, "text/plain; charset=utf-8", (uint64_t)n,
		 status == 405 ? "Allow: GET, HEAD\r\n" : NULL, keep10);
	len = c->out_len;
	if (!head && len && len + (size_t)n < sizeof(c->out)) {
		memcpy(c->out + len, body, (size_t)n);
		c->out_len = len + (size_t)n;
	}
}

static int open_status(int err)
{
	/* ELOOP: a symlink (O_NOFOLLOW); EACCES/EPERM: no permission. */
	return err == ELOOP || err == EACCES || err == EPERM ? 403 : 404;
}

/* Opens path (decoded, relative) beneath the root, one component at a time
 * with O_NOFOLLOW, so neither ".." (refused by the decoder and here) nor a
 * symlink anywhere on the way can lead out. A directory serves its
 * index.html (*index set). Returns an fd of a regular file, or -STATUS. */
static int open_beneath(struct svc_http *s, char *path, struct stat *sb, bool *index)
{
	const int dflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	const int fflags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	int dfd = s->rootfd, fd, e;
	char *seg = path, *slash;

	while ((slash = strchr(seg, '/'))) {
		*slash = 0;
		if (!strcmp(seg, "..") || !strcmp(seg, "."))
			fd = -1, errno = EPERM;
		else
			fd = openat(dfd, seg, dflags);
		e = errno;
		*slash = '/';
		if (dfd != s->rootfd)
			close(dfd);
		if (fd < 0)
			return -open_status(e);
		dfd = fd;
		seg = slash + 1;
	}
	fd = openat(dfd, *seg ? seg : ".", fflags);
	e = errno;
	if (dfd != s->rootfd)
		close(dfd);
	if (fd < 0)
		return -open_status(e);
	if (fstat(fd, sb))
		goto err_404;
	if (S_ISDIR(sb->st_mode)) {
		int ifd = openat(fd, "index.html", fflags);

		close(fd);
		if (ifd < 0)
			return -open_status(errno);
		fd = ifd;
		*index = true;
		if (fstat(fd, sb))
			goto err_404;
	}
	if (!S_ISREG(sb->st_mode)) {
		close(fd);
		return -403;
	}
	return fd;
err_404:
	close(fd);
	return -404;
}

/* One complete request head: prepare its response. */
static void serve(struct svc_http *s, struct http_conn *c, const struct http_req *r)
{
	bool head = r->method == HTTP_HEAD, keep10 = r->minor == 0 && r->keep_alive;
	bool index = false;
	struct stat sb;
	ssize_t n;
	int fd;

	c->close_after = c->close_after || !r->keep_alive;
	if (r->method == HTTP_OTHER) {
		/* RFC 9110 15.5.6: 405 lists the methods in Allow; a body we
		 * cannot skip safely ends the connection. */
		put_error(s, c, 405, false, r->has_body, keep10);
		return;
	}
	if (r->has_body) {
		/* GET and HEAD carry no body here; not reading it, we close. */
		put_error(s, c, 413, head, true, keep10);
		return;
	}
	n = http_path_decode(r->target, r->target_len, s->path, sizeof(s->path));
	if (n < 0) {
		put_error(s, c, (int)-n, head, n == -400, keep10);
		return;
	}
	fd = open_beneath(s, s->path, &sb, &index);
	if (fd < 0) {
		put_error(s, c, -fd, head, false, keep10);
		return;
	}
	put_head(s, c, 200, http_content_type(index ? "index.html" : s->path), (uint64_t)sb.st_size,
		 NULL, keep10);
	if (head || !sb.st_size || !c->out_len) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->file_off = 0;
	c->file_end = (uint64_t)sb.st_size;
}

/* Reads file bytes after what is staged, as many as fit: 0, or -1 when the
 * file cannot give them (the connection is then reset: the Content-Length
 * already promised cannot be kept). */
static int stage_fill(struct svc_http *s, struct http_conn *c)
{
	uint64_t want = c->file_end - c->file_off;
	ssize_t n;

	if (want > s->cfg.stage_bytes - c->stage_len)
		want = s->cfg.stage_bytes - c->stage_len;
	n = pread(c->fd, c->stage + c->stage_len, (size_t)want, (off_t)c->file_off);
	if (n <= 0) {
		s->stats.http_io_error++;
		conn_end(s, c, true);
		return -1;
	}
	c->file_off += (uint64_t)n;
	c->stage_len += (size_t)n;
	return 0;
}

/* Sends what it can: 1 when the response is out, 0 to wait for send space,
 * -1 when the connection is gone. File bytes are read into the staging
 * buffer only as the send buffer takes what was staged before. The head
 * goes out in the same send as the first file bytes, so that a small
 * response is one segment (no head waiting for an ACK, Nagle's way). */
static int send_some(struct svc_http *s, struct http_conn *c)
{
	ssize_t n;

	if (c->fd >= 0 && !c->stage) {
		c->stage = malloc(s->cfg.stage_bytes);
		if (!c->stage) {
			s->stats.http_io_error++;
			conn_end(s, c, true);
			return -1;
		}
		c->stage_off = 0;
		c->stage_len = c->out_len - c->out_off;
		memcpy(c->stage, c->out + c->out_off, c->stage_len);
		c->out_off = c->out_len;
		if (stage_fill(s, c))
			return -1;
	}
	while (c->out_off < c->out_len) {
		n = stream_send(s, c, c->out + c->out_off, c->out_len - c->out_off);
		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			conn_end(s, c, true);
			return -1;
		}
		c->out_off += (size_t)n;
		s->stats.http_bytes_tx += (uint64_t)n;
		set_deadline(s, c, s->now + XS_MS(s->cfg.send_timeout_ms));
	}
	while (c->fd >= 0 && (c->file_off < c->file_end || c->stage_off < c->stage_len)) {
		if (c->stage_off == c->stage_len) {
			c->stage_off = c->stage_len = 0;
			if (stage_fill(s, c))
				return -1;
		}
		n = stream_send(s, c, c->stage + c->stage_off, c->stage_len - c->stage_off);
		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			conn_end(s, c, true);
			return -1;
		}
		c->stage_off += (size_t)n;
		s->stats.http_bytes_tx += (uint64_t)n;
		set_deadline(s, c, s->now + XS_MS(s->cfg.send_timeout_ms));
	}
	body_done(c);
	return 1;
}

/* Reads and answers requests until it must wait for the peer or the send
 * buffer. Pipelined heads wait in c->in (or in the receive buffer, which
 * is not read while a response goes out) and are answered in order. */
static void conn_drive(struct svc_http *s, struct http_conn *c)
{
	size_t cap = s->cfg.max_head + 1;
	struct http_req req;
	ssize_t n;

	for (;;) {
		switch (c->phase) {
		case C_READ:
			n = http_req_parse(c->in, c->in_len, &s->lim, &req);
			if (n > 0) {
				s->stats.http_requests++;
				serve(s, c, &req);
				memmove(c->in, c->in + n, c->in_len - (size_t)n);
				c->in_len -= (size_t)n;
				continue;
			}
			if (n < 0) {
				s->stats.http_requests++;
				put_error(s, c, (int)-n, false, true, false);
				c->in_len = 0;
				continue;
			}
			if (c->peer_eof) {
				/* Nothing more will come: an incomplete head is dropped. */
				conn_end(s, c, false);
				return;
			}
			n = stream_recv(s, c, c->in + c->in_len, cap - c->in_len);
			if (n == -EAGAIN)
				return;
			if (n == -ECONNRESET && c->tls.id >= 0) {
				/* A client gone without close_notify: for a head
				 * not yet complete, the same as its FIN. */
				c->peer_eof = true;
				continue;
			}
			if (n < 0) {
				conn_end(s, c, true);
				return;
			}
			if (n == 0)
				c->peer_eof = true;
			c->in_len += (size_t)n;
			continue;
		case C_SEND:
			if (send_some(s, c) <= 0)
				return;
			if (c->close_after) {
				stream_shutdown(s, c);
				c->phase = C_LINGER;
				set_deadline(s, c, s->now + XS_MS(s->cfg.header_timeout_ms));
				continue;
			}
			/* The next head's clock starts now, whatever trickles in. */
			c->phase = C_READ;
			set_deadline(s, c, s->now + XS_MS(s->cfg.header_timeout_ms));
			continue;
		case C_LINGER:
			/* RFC 9112 9.6: after our close, read until theirs so
			 * that late bytes do not turn our FIN into a reset. */
			while ((n = stream_recv(s, c, c->in, cap)) > 0)
				;
			/* TLS: the client's close_notify (0), or its FIN without
			 * one, ends the linger the same way: gracefully. */
			if (n != -EAGAIN)
				conn_end(s, c, n < 0 && c->tls.id < 0);
			return;
		}
	}
}

static void conn_event(struct svc_http *s, struct xs_tcp h, unsigned events)
{
	struct http_conn *c = h.id >= 0 && (unsigned)h.id < s->nslots ? s->conns[h.id] : NULL;

	if (!c)
		return;
	if (events & XS_EV_ERROR) {
		/* TLS: a failed handshake's alert leaves with a close. */
		conn_end(s, c, c->tls.id < 0);
		return;
	}
	conn_drive(s, c);
	if (s->conns[h.id] == c && (events & XS_EV_HUP))
		conn_end(s, c, false);
}

static void conn_ready(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx)
{
	(void)st;
	conn_event(ctx, h, events);
}

static void tls_ready(struct xs_stack *st, struct xs_tls t, unsigned events, void *ctx)
{
	conn_event(ctx, xs_tls_tcp(st, t), events);
}

static void accept_ready(struct xs_stack *st, struct xs_tcp lh, unsigned events, void *ctx)
{
	struct svc_http *s = ctx;
	struct xs_tcp h;

	while ((h = xs_tcp_accept(st, lh, NULL, NULL)).id >= 0) {
		struct http_conn *c = NULL, **t = NULL;

		if (s->nconns < s->cfg.max_conns)
			t = svc_table_fit(s->conns, &s->nslots, sizeof(*t), h.id);
		if (t) {
			s->conns = t;
			c = malloc(sizeof(*c) + s->cfg.max_head + 1);
		}
		if (!c) {
			s->stats.http_conn_refused++;
			xs_tcp_abort(st, h);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->tls = (struct xs_tls)XS_NO_HANDLE;
		if (s->cfg.tls) {
			c->tls = xs_tls_server(st, s->cfg.tls, h, tls_ready, s);
			if (c->tls.id < 0) {
				/* The handshake budget is full: the library counts
				 * tls_handshake_refused. */
				free(c);
				s->stats.http_conn_refused++;
				xs_tcp_abort(st, h);
				continue;
			}
		}
		c->h = h;
		c->fd = -1;
		c->phase = C_READ;
		s->conns[h.id] = c;
		s->nconns++;
		s->stats.http_conns++;
		set_deadline(s, c, s->now + XS_MS(s->cfg.header_timeout_ms));
		/* Each response leaves in as few sends as it can; what is
		 * written should go now, as nginx's tcp_nodelay does. */
		xs_tcp_setopt(st, h, XS_TCP_NODELAY, 1);
		if (c->tls.id < 0)
			xs_tcp_set_event_cb(st, h, conn_ready, s);
	}
}

/* A deadline passed: a head that did not come in time gets 408 (nothing if
 * nothing came: an idle keep-alive connection just closes), a response that
 * made no progress is reset, a lingering close ends. */
static void conn_expire(struct svc_http *s, struct http_conn *c)
{
	switch (c->phase) {
	case C_READ:
		if (!c->in_len) {
			s->stats.http_header_timeout++;
			conn_end(s, c, false);
			return;
		}
		s->stats.http_requests++;
		put_error(s, c, 408, false, true, false);
		c->in_len = 0;
		conn_drive(s, c);
		return;
	case C_SEND:
		s->stats.http_send_timeout++;
		conn_end(s, c, true);
		return;
	case C_LINGER:
		conn_end(s, c, true);
		return;
	}
}

void svc_http_tick(struct svc_http *s, xs_time_t now)
{
	xs_time_t next = UINT64_MAX;
	int h;

	s->now = now;
	if (now < s->next_scan)
		return;
	for (h = 0; (unsigned)h < s->nslots; h++) {
		struct http_conn *c = s->conns[h];

		if (!c)
			continue;
		if (c->deadline <= now) {
			conn_expire(s, c);
			c = s->conns[h];
			/* A connection past its deadline once is not expired
			 * again in this scan: its new deadline is later. */
			if (!c)
				continue;
		}
		if (c->deadline < next)
			next = c->deadline;
	}
	s->next_scan = next;
}

xs_time_t svc_http_next_deadline(const struct svc_http *s)
{
	return s->next_scan;
}

const struct svc_http_stats *svc_http_stats(const struct svc_http *s)
{
	return &s->stats;
}

struct svc_http *svc_http_start(struct xs_stack *st, const struct svc_http_config *cfg,
				xs_time_t now, char *err, size_t errlen)
{
	struct svc_http *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory starting the HTTP service");
		return NULL;
	}
	s->st = st;
	s->cfg = *cfg;
	s->now = now;
	s->next_scan = UINT64_MAX;
	s->listener = (struct xs_tcp)XS_NO_HANDLE;
	if (!s->cfg.header_timeout_ms)
		s->cfg.header_timeout_ms = 10000;
	if (!s->cfg.send_timeout_ms)
		s->cfg.send_timeout_ms = 60000;
	if (!s->cfg.max_conns || s->cfg.max_conns > SVC_HTTP_MAX_CONNS)
		s->cfg.max_conns = s->cfg.max_conns ? SVC_HTTP_MAX_CONNS : 1024;
	if (!s->cfg.max_head)
		s->cfg.max_head = 8192;
	if (!s->cfg.max_line)
		s->cfg.max_line = 4096;
	if (s->cfg.stage_bytes < 2 * HTTP_OUT_MAX) /* a head and file bytes */
		s->cfg.stage_bytes = s->cfg.stage_bytes ? 2 * HTTP_OUT_MAX : 65536;
	s->lim.max_head = s->cfg.max_head;
	s->lim.max_line = s->cfg.max_line;
	s->rootfd = open(cfg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0) {
		snprintf(err, errlen, "cannot serve --root %s (%s): give an existing directory",
			 cfg->root, strerror(errno));
		free(s);
		return NULL;
	}
	s->listener = xs_tcp_listen(st, cfg->port, 1024);
	if (s->listener.id < 0) {
		snprintf(err, errlen, "cannot start HTTP%s on TCP port %u (%s)",
			 cfg->tls ? "S" : "", cfg->port, strerror(-s->listener.id));
		close(s->rootfd);
		free(s);
		return NULL;
	}
	xs_tcp_set_event_cb(st, s->listener, accept_ready, s);
	return s;
}

void svc_http_stop(struct svc_http *s)
{
	int h;

	if (!s)
		return;
	for (h = 0; (unsigned)h < s->nslots; h++)
		if (s->conns[h])
			conn_end(s, s->conns[h], true);
	free(s->conns);
	if (s->listener.id >= 0)
		xs_tcp_close(s->st, s->listener);
	close(s->rootfd);
	free(s);
}
