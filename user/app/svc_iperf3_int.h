/* The iperf3 service's private parts: protocol constants, a test's state,
 * and what svc_iperf3.c and svc_iperf3_json.c share. */
#ifndef XS_SVC_IPERF3_INT_H
#define XS_SVC_IPERF3_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "app/iperf3_json.h"
#include "app/svc_iperf3.h"

/* Control protocol as iperf3 speaks it: one signed byte per state. */
enum {
	IP3_TEST_START = 1,
	IP3_TEST_RUNNING = 2,
	IP3_TEST_END = 4,
	IP3_PARAM_EXCHANGE = 9,
	IP3_CREATE_STREAMS = 10,
	IP3_SERVER_TERMINATE = 11,
	IP3_CLIENT_TERMINATE = 12,
	IP3_EXCHANGE_RESULTS = 13,
	IP3_DISPLAY_RESULTS = 14,
	IP3_IPERF_DONE = 16,
	IP3_ACCESS_DENIED = -1,
	IP3_SERVER_ERROR = -2,
};

/* iperf3's error numbers the client turns into its own messages. */
enum {
	IP3_IEDURATION = 5,
	IP3_IENUMSTREAMS = 6,
	IP3_IEUNIMP = 13,
	IP3_IEUDPBLOCKSIZE = 20,
	IP3_IERECVPARAMS = 114,
};

/* UDP from the server: default datagram size, and datagrams one stream may
 * send in one loop turn (catching up after a late turn, within reason). */
#define IP3_UDP_DEFAULT_LEN 1460
#define IP3_UDP_BURST 256
#define IP3_UDP_MAX_LEN 65507

#define IP3_COOKIE 37		    /* 36 characters and a NUL */
#define IP3_UDP_CONNECT 0x36373839u /* "6789" as the client's native int */
#define IP3_UDP_LEGACY 123456789u
#define IP3_BUF 65536
#define IP3_OUT_MAX 65536 /* control bytes waiting for the send buffer */

enum ip3_role { R_NONE, R_PENDING, R_CTRL, R_STREAM };

/* Where the control connection is in the protocol (server side). */
enum ip3_phase {
	P_IDLE,	   /* no test */
	P_PARAMS,  /* PARAM_EXCHANGE sent: reading the 4-byte length, then JSON */
	P_STREAMS, /* CREATE_STREAMS sent: data connections arrive */
	P_RUNNING, /* TEST_START, TEST_RUNNING sent */
	P_RESULTS, /* EXCHANGE_RESULTS sent: reading the client's results */
	P_DONE,	   /* DISPLAY_RESULTS sent: waiting for IPERF_DONE */
	P_CLOSING, /* an error was sent; the connection closes when flushed */
};

struct ip3_stream {
	int id;	     /* iperf3's numbering: 1, 3, 4, 5, ... */
	bool sender; /* the server sends on it */
	bool udp;
	struct xs_tcp h; /* TCP handle, id -1 when closed */
	struct xs_addr addr; /* UDP peer, either family */
	uint16_t port;
	uint64_t bytes;
	uint32_t retransmits; /* TCP, at the end */
	xs_time_t next_send;  /* UDP sender: when the next datagram is due */
	/* UDP receiver, as iperf3 computes them (RFC 1889 A.8 jitter) */
	uint64_t packet_count; /* highest sequence number seen */
	uint64_t cnt_error;    /* sequence gaps, less late arrivals */
	uint64_t outoforder;
	double jitter, prev_transit;
};

struct ip3_test {
	/* parameters */
	bool udp, reverse, bidir, get_server_output, udp64;
	unsigned parallel, duration;
	uint64_t blksize, bandwidth;
	/* state */
	uint8_t cookie[IP3_COOKIE];
	struct xs_addr peer; /* the client's address: streams come from it */
	unsigned nstreams, want_streams;
	struct ip3_stream *streams;
	xs_time_t start, end;
};

struct ip3_pending {
	struct xs_tcp h;
	struct xs_addr addr;
	uint8_t cookie[IP3_COOKIE];
	unsigned got;
	xs_time_t deadline;
};

struct svc_iperf3 {
	struct xs_stack *st;
	struct svc_iperf3_config cfg;
	struct svc_iperf3_stats stats;
	xs_time_t now;
	struct xs_tcp listener;
	struct xs_udp udp;
	/* TCP handles: what each is to us */
	uint8_t *role; /* by handle id (svc_table.h) */
	unsigned nslots;
	struct ip3_pending *pending; /* cfg.max_pending slots, h.id -1 when free */
	/* the one test */
	enum ip3_phase phase;
	struct xs_tcp ctrl;
	xs_time_t deadline;
	struct ip3_test t;
	uint8_t hdr[4];
	unsigned hdr_got;
	char *body;
	uint32_t body_len, body_got;
	uint8_t *out;
	size_t out_len;
	uint8_t buf[IP3_BUF]; /* scratch for reads, and the payload we send */
};

static inline void ip3_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t ip3_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* svc_iperf3_json.c: the client's parameters into s->t (0, or an iperf3
 * error number to send back), and our results message into w. */
int ip3_params_take(struct svc_iperf3 *s, const char *json, size_t n);
void ip3_results_json(struct svc_iperf3 *s, struct jw *w);

#endif
