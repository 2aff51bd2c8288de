/* Shared by the load generator's files: its configuration, results, error
 * kinds and latency histogram (tools/bench/xs_loadgen.c, lg_worker.c, lg_hist.c). */
#ifndef XS_LOADGEN_H
#define XS_LOADGEN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define LG_MAX_SRC 64
#define LG_MAX_PROCS 64
#define LG_MAX_CLIENTS 100000
#define LG_MAX_CONNS 1000000
#define LG_MAX_SIZE 65536
#define LG_MAX_SECONDS 3600
#define LG_FD_SPARE 16 /* descriptors a worker needs besides its connections */

/* Latency histogram, log-linear: exact below 64 us, then 64 buckets per
 * power of two (under 1.6% error), bounded size, and histograms add up. */
#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_BITS 32 /* values clamp at 2^32-1 us, 71 minutes */
#define HIST_BUCKETS (HIST_SUB * (HIST_MAX_BITS - HIST_SUB_BITS + 1))

struct lg_hist {
	uint64_t n, sum, min, max;
	uint64_t b[HIST_BUCKETS];
};

/* X(name, description): why a connection attempt failed. */
#define LG_ERRORS(X)                                                                               \
	X(refused, "connection refused (RST to the SYN)")                                          \
	X(unreachable, "host or network unreachable")                                              \
	X(timeout, "no complete echo within --timeout")                                            \
	X(reset, "connection reset after it was established")                                      \
	X(eof, "peer closed before the whole echo came back")                                      \
	X(mismatch, "echo differs from the request")                                               \
	X(addr, "no free local port or address (EADDRNOTAVAIL, EADDRINUSE)")                       \
	X(resource, "out of descriptors or memory")                                                \
	X(other, "any other socket error")

enum lg_err {
#define LG_ERR_ENUM(name, desc) LG_ERR_##name,
	LG_ERRORS(LG_ERR_ENUM)
#undef LG_ERR_ENUM
	    LG_ERR_MAX
};

enum lg_mode { LG_CONN, LG_HOLD };

struct lg_cfg {
	enum lg_mode mode;
	struct sockaddr_in dst;
	struct sockaddr_in src[LG_MAX_SRC];
	unsigned nsrc;
	unsigned procs;
	unsigned clients;  /* conn: concurrent clients */
	uint64_t count;	   /* conn: total connections (0 = until --duration) */
	unsigned conns;	   /* hold: connections to open and hold */
	unsigned ramp;	   /* hold: connection attempts in flight at once */
	unsigned size;	   /* request bytes (echoed back) */
	unsigned duration; /* s: conn run time or hold time */
	unsigned timeout;  /* ms from connect to the complete echo */
	bool rst;	   /* close with RST (SO_LINGER 0) instead of FIN */
	bool json;
};

/* What one worker measured; workers' results add up. */
struct lg_result {
	uint64_t attempted;  /* connections started */
	uint64_t completed;  /* conn: echoes completed; hold: connections verified */
	uint64_t unfinished; /* in flight when a signal ended the run */
	uint64_t held_end;   /* hold: still established when the hold ended */
	uint64_t lost;	     /* hold: closed or reset by the peer while held */
	uint64_t err[LG_ERR_MAX];
	uint64_t bytes_tx, bytes_rx;
	double elapsed_s;   /* conn: start to last completion; hold: ramp */
	double held_s;	    /* hold: how long the connections were held */
	struct lg_hist lat; /* connect() to the last echo byte, us */
};

typedef void lg_ready_fn(const struct lg_result *r, void *arg);

void lg_hist_init(struct lg_hist *h);
void lg_hist_add(struct lg_hist *h, uint64_t v);
void lg_hist_merge(struct lg_hist *a, const struct lg_hist *b);
uint64_t lg_hist_pct(const struct lg_hist *h, unsigned permille);
const char *lg_err_name(enum lg_err e);

/* One worker: nslots concurrent clients (conn) or connections (hold); quota
 * caps conn mode's connections (0: none); src0 is the first --src used. hold
 * calls ready() once every connection is verified or failed. 0 / -1. */
int lg_worker_run(const struct lg_cfg *cfg, unsigned nslots, uint64_t quota, unsigned src0,
		  lg_ready_fn *ready, void *arg, struct lg_result *out);

#endif
