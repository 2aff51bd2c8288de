/* The daemon's HTTP/1.1 static file server (--http PORT --root DIR): GET and
 * HEAD, keep-alive and pipelining, every resource a client can hold bounded. */
#ifndef XS_SVC_HTTP_H
#define XS_SVC_HTTP_H

#include <stdint.h>
#include <stdio.h>

#include <xdpstack/stack.h>
#include <xdpstack/tls.h>

#define SVC_HTTP_MAX_CONNS 4096 /* the largest max_conns (its default: 1024) */

/* Budgets a client can push against; 0 in a field: the default. */
struct svc_http_config {
	uint16_t port;
	const char *root;	    /* directory served; must exist */
	unsigned header_timeout_ms; /* a request head must be complete this long
				     * after the connection is ready for it (10000) */
	unsigned send_timeout_ms;   /* a response that makes no progress (60000) */
	unsigned max_conns;	    /* HTTP connections at once (1024, <= 4096) */
	unsigned max_head;	    /* request head bytes (8192; more: 431) */
	unsigned max_line;	    /* request line bytes (4096; more: 414) */
	unsigned stage_bytes;	    /* bytes staged per connection while a body is
				     * sent (65536; at least 1280) */
	struct xs_tls_ctx *tls;	    /* non-NULL: HTTPS, every connection a TLS
				     * server session of this context (the
				     * caller's: it outlives the service) */
};

/* X(name, description): printed with the daemon's counters (services group). */
/* clang-format off */
#define SVC_HTTP_COUNTERS(X)                                                        \
	X(http_conns, "connections accepted")                                     \
	X(http_conn_refused, "connections reset: max_conns were open (or, HTTPS, " \
	  "the TLS handshake budget was full)")                                     \
	X(http_requests, "request heads parsed or refused")                       \
	X(http_2xx, "responses 2xx")                                              \
	X(http_4xx, "responses 4xx")                                              \
	X(http_5xx, "responses 5xx")                                              \
	X(http_bytes_tx, "bytes taken by send buffers (heads and bodies)")        \
	X(http_bad_request, "400: malformed heads or targets")                    \
	X(http_forbidden, "403: '..', symlinks, non-regular files, no permission") \
	X(http_not_found, "404")                                                  \
	X(http_method_refused, "405: methods other than GET and HEAD")            \
	X(http_header_timeout, "408 or close: no complete head in time")          \
	X(http_body_refused, "413: a body on GET or HEAD")                        \
	X(http_line_too_long, "414: request line over max_line")                  \
	X(http_head_too_big, "431: request head over max_head")                   \
	X(http_version_refused, "505: HTTP versions other than 1.0 and 1.1")      \
	X(http_send_timeout, "connections reset: no send progress in time")       \
	X(http_io_error, "connections reset: reading the file failed")
/* clang-format on */

struct svc_http_stats {
#define SVC_HTTP_FIELD(name, desc) uint64_t name;
	SVC_HTTP_COUNTERS(SVC_HTTP_FIELD)
#undef SVC_HTTP_FIELD
};

struct svc_http;

/* Opens cfg->root and listens on cfg->port. NULL + one line in err. */
struct svc_http *svc_http_start(struct xs_stack *st, const struct svc_http_config *cfg,
				xs_time_t now, char *err, size_t errlen);
/* The event loop's time for this turn, before xs_stack_poll; runs timeouts. */
void svc_http_tick(struct svc_http *s, xs_time_t now);
/* The earliest deadline the service waits for (UINT64_MAX: none). */
xs_time_t svc_http_next_deadline(const struct svc_http *s);
const struct svc_http_stats *svc_http_stats(const struct svc_http *s);
void svc_http_stop(struct svc_http *s);

#endif
