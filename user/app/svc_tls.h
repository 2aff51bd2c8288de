/* The daemon's TLS services (--https, --tls-echo): one server context from
 * --cert and --key, the HTTP service over it, and a TLS echo for tests. */
#ifndef XS_SVC_TLS_H
#define XS_SVC_TLS_H

#include <stddef.h>

#include <xdpstack/stack.h>

#include "app/app.h"

#define SVC_TLS_ECHO_MAX_CONNS 1024 /* TLS echo sessions at once; more are reset */

struct svc_tls;
struct cview_extra;

/* Loads the certificate and key of o (before anything is in force): NULL and
 * one line in err when they cannot be used; NULL and err[0] == 0 when no TLS
 * service is asked for. */
struct svc_tls *svc_tls_prepare(const struct xs_opts *o, char *err, size_t errlen);
/* Listens on the ports. 0, or -1 with one line in err. */
int svc_tls_start(struct svc_tls *s, struct xs_stack *st, xs_time_t now, char *err, size_t errlen);
/* The loop's time for this turn, before xs_stack_poll (HTTPS timeouts). */
void svc_tls_tick(struct svc_tls *s, xs_time_t now);
xs_time_t svc_tls_next_deadline(const struct svc_tls *s);
/* Its counters for the counter view (https_*, tls_echo_*); how many. */
#define SVC_TLS_NCOUNTERS_MAX 32
size_t svc_tls_counters(const struct svc_tls *s, struct cview_extra *out, size_t max);
/* Resets every session and frees the context: before xs_stack_free. */
void svc_tls_stop(struct svc_tls *s);

#endif
