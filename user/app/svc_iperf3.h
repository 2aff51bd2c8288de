/* The daemon's iperf3-compatible server: stock iperf3 clients (-c, -R, -P,
 * --bidir, -u) run tests against the stack, one test at a time, as iperf3 -s. */
#ifndef XS_SVC_IPERF3_H
#define XS_SVC_IPERF3_H

#include <stdint.h>
#include <stdio.h>

#include <xdpstack/stack.h>

#define XS_DEFAULT_IPERF3_PORT 5201

/* Budgets a client can push against; 0 in a field: the default. */
struct svc_iperf3_config {
	uint16_t port;             /* TCP and UDP port (5201) */
	unsigned max_streams;      /* data streams of one test, both directions (32;
				    * iperf3's own limit is 128 per direction) */
	unsigned max_param_bytes;  /* the client's parameter JSON (8192) */
	unsigned max_result_bytes; /* the client's results JSON (65536) */
	unsigned max_pending;      /* connections not yet past their cookie (16) */
	unsigned ctrl_timeout_ms;  /* a step of the control protocol, or a cookie (10000) */
	unsigned max_duration_s;   /* longest test accepted, -t (3600) */
	unsigned grace_ms;         /* a running test may last its -t plus this (10000) */
};

/* X(name): what the service counts, printed with the daemon's counters. */
#define SVC_IPERF3_COUNTERS(X)                                                  \
	X(iperf3_tests) X(iperf3_tests_done) X(iperf3_denied) X(iperf3_bad_cookie)  \
	X(iperf3_param_too_big) X(iperf3_bad_param) X(iperf3_unsupported)          \
	X(iperf3_result_too_big) X(iperf3_bad_message) X(iperf3_ctrl_timeout)      \
	X(iperf3_client_gone) X(iperf3_pending_full) X(iperf3_stream_error)        \
	X(iperf3_udp_stray) X(iperf3_udp_short) X(iperf3_bytes_rx) X(iperf3_bytes_tx) \
	X(iperf3_udp_packets) X(iperf3_udp_lost)

struct svc_iperf3_stats {
#define SVC_IPERF3_FIELD(name) uint64_t name;
	SVC_IPERF3_COUNTERS(SVC_IPERF3_FIELD)
#undef SVC_IPERF3_FIELD
};

struct svc_iperf3;

/* Listens on cfg->port (TCP and UDP). NULL + one line in err. */
struct svc_iperf3 *svc_iperf3_start(struct xs_stack *st, const struct svc_iperf3_config *cfg,
				    xs_time_t now, char *err, size_t errlen);
/* The event loop's time for this turn, before xs_stack_poll; runs timeouts. */
void svc_iperf3_tick(struct svc_iperf3 *s, xs_time_t now);
/* The earliest deadline the service waits for (UINT64_MAX: none). */
xs_time_t svc_iperf3_next_deadline(const struct svc_iperf3 *s);
const struct svc_iperf3_stats *svc_iperf3_stats(const struct svc_iperf3 *s);
/* "  name value" lines, the daemon's counter format. */
void svc_iperf3_print(FILE *f, const struct svc_iperf3 *s);
void svc_iperf3_stop(struct svc_iperf3 *s);

#endif
