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
	uint16_t port;		   /* TCP and UDP port (5201) */
	unsigned max_streams;	   /* data streams of one test, both directions (32;
				    * iperf3's own limit is 128 per direction) */
	unsigned max_param_bytes;  /* the client's parameter JSON (8192) */
	unsigned max_result_bytes; /* the client's results JSON (65536) */
	unsigned max_pending;	   /* connections not yet past their cookie (16) */
	unsigned ctrl_timeout_ms;  /* a step of the control protocol, or a cookie (10000) */
	unsigned max_duration_s;   /* longest test accepted, -t (3600) */
	unsigned grace_ms;	   /* a running test may last its -t plus this (10000) */
};

/* X(name, description): what the service counts, printed with the daemon's
 * counters; every refusal of a client has its own. */
/* clang-format off */
#define SVC_IPERF3_COUNTERS(X)                                                       \
	X(iperf3_tests, "tests whose parameters were accepted")                    \
	X(iperf3_tests_done, "tests that reached the results exchange")            \
	X(iperf3_denied, "connections told ACCESS_DENIED: another test runs")      \
	X(iperf3_bad_cookie, "connections whose 37-byte cookie was not one")       \
	X(iperf3_param_too_big, "parameter messages over max_param_bytes (or 0)")  \
	X(iperf3_bad_param, "parameter messages not strict JSON or out of range")  \
	X(iperf3_unsupported, "tests refused: SCTP, --omit, -n/-k with -R/--bidir") \
	X(iperf3_result_too_big, "result messages over max_result_bytes (or 0)")   \
	X(iperf3_bad_message, "control bytes out of turn, or results not JSON")    \
	X(iperf3_ctrl_timeout, "tests or cookies that did not come in time")       \
	X(iperf3_client_gone, "control connections closed before the end")         \
	X(iperf3_pending_full, "connections reset: max_pending awaiting cookies")  \
	X(iperf3_stream_error, "data streams that failed (reset, timed out)")      \
	X(iperf3_udp_stray, "datagrams to the port from no stream of the test")    \
	X(iperf3_udp_short, "test datagrams shorter than iperf3's header")         \
	X(iperf3_bytes_rx, "bytes of test data received")                          \
	X(iperf3_bytes_tx, "bytes of test data sent (taken by the send buffer)")   \
	X(iperf3_udp_packets, "UDP test datagrams received")                       \
	X(iperf3_udp_sent, "UDP test datagrams sent (-u -R, -u --bidir)")          \
	X(iperf3_udp_tx_fail, "UDP test datagrams the stack did not take (no frame)") \
	X(iperf3_udp_lost, "UDP datagrams missing from sequences (less late ones)")
/* clang-format on */

struct svc_iperf3_stats {
#define SVC_IPERF3_FIELD(name, desc) uint64_t name;
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
void svc_iperf3_stop(struct svc_iperf3 *s);

#endif
