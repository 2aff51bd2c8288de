/* A sockperf-compatible server (UDP and TCP on one port) on the public handle
 * API: answers the messages stock sockperf clients flag as pong requests. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/counters.h"
#include "app/svc_table.h"

/*
 * The wire format, as sockperf 3.x defines it (MsgHeader in src/message.h):
 * every message starts with a 14-byte header, all fields big-endian,
 *
 *	0   u64  sequence number
 *	8   u16  flags: 1 CLIENT (sent by a client), 2 PONG (answer this one),
 *		 4 WARMUP (not part of the measurement)
 *	10  u32  length of the whole message, header included (14 ... 65507)
 *
 * followed by length - 14 bytes of payload. Over UDP a datagram carries one
 * message; over TCP messages follow each other back to back in the stream.
 * A server ignores messages without CLIENT and warm-up messages; it answers
 * a PONG request with the same message (sequence number and payload intact)
 * with CLIENT cleared, which is the only way a client tells a reply from its
 * own request. ping-pong flags every message PONG, under-load one in
 * --reply-every (100), throughput none.
 */
#define SP_HDR_LEN 14
#define SP_OFF_FLAGS 8
#define SP_OFF_LEN 10
#define SP_F_CLIENT 1u
#define SP_F_PONG 2u
#define SP_F_WARMUP 4u

#define SP_CHUNK 16384			   /* TCP bytes read per recv */
#define SP_OUT_CAP (SP_CHUNK + SP_HDR_LEN) /* one chunk's replies at most */

/* X(name, description): the service's counters, printed with the stack's as
 * sockperf_NAME; the drop_ ones are messages or connections refused. */
#define SP_COUNTERS(X)                                                                             \
	X(udp_msgs, "measured messages received over UDP")                                         \
	X(udp_replies, "UDP replies sent")                                                         \
	X(tcp_msgs, "measured messages received over TCP")                                         \
	X(tcp_replies, "TCP replies sent")                                                         \
	X(warmup_msgs, "warm-up messages (never answered)")                                        \
	X(tcp_accepted, "TCP connections accepted")                                                \
	X(drop_udp_malformed, "datagram shorter than a header, or its length field is "            \
			      "not its size or beyond the maximum")                                \
	X(drop_not_client, "message without the CLIENT flag (never answered)")                     \
	X(drop_tcp_bad_len, "TCP message length below 14 or beyond the maximum: "                  \
			    "protocol error, connection reset")                                    \
	X(drop_conn_limit, "TCP connection refused: max_conns reached")                            \
	X(drop_idle, "TCP connection reset after idle_ms without a byte from the client")          \
	X(drop_udp_reply, "UDP reply the stack could not send")

enum sp_counter {
#define SP_ENUM(name, desc) SP_##name,
	SP_COUNTERS(SP_ENUM)
#undef SP_ENUM
	SP_NCOUNTERS
};

/* One TCP connection: the header being assembled across reads, the rest of
 * the current message, and the replies not yet taken by the send buffer. */
struct sp_conn {
	uint8_t hdr[SP_HDR_LEN];
	uint8_t hdr_have;
	bool reply; /* the current message is answered */
	bool eof;
	uint16_t flags;
	uint32_t remain;	/* payload bytes of the current message still to come */
	uint32_t pending, sent; /* out[sent..pending) waits for xs_tcp_send */
	xs_time_t last;		/* the service's clock when the client last sent */
	uint8_t out[SP_OUT_CAP];
	struct xs_tcp h;
};

struct svc_sockperf {
	struct svc_sockperf_config cfg;
	struct xs_stack *st;
	xs_time_t now, next_scan; /* the clock as of the last tick */
	struct xs_udp udp;
	struct xs_tcp listener;
	unsigned nconns;
	uint64_t ctr[SP_NCOUNTERS];
	struct sp_conn **conn; /* by handle id (svc_table.h) */
	unsigned nslots;
};

static uint16_t sp_ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sp_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void sp_st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---------------------------------------------------------------- UDP */

static void sp_udp_message(struct xs_stack *st, struct svc_sockperf *s, struct xs_udp h, uint8_t *m,
			   size_t n, const struct xs_addr *ip, uint16_t port)
{
	uint16_t flags;

	if (n < SP_HDR_LEN || sp_ld32(m + SP_OFF_LEN) != n || n > s->cfg.max_msg) {
		s->ctr[SP_drop_udp_malformed]++;
		return;
	}
	flags = sp_ld16(m + SP_OFF_FLAGS);
	if (!(flags & SP_F_CLIENT)) {
		s->ctr[SP_drop_not_client]++;
		return;
	}
	if (flags & SP_F_WARMUP) {
		s->ctr[SP_warmup_msgs]++;
		return;
	}
	s->ctr[SP_udp_msgs]++;
	if (!(flags & SP_F_PONG))
		return;
	sp_st16(m + SP_OFF_FLAGS, flags & ~SP_F_CLIENT);
	if (xs_udp_sendto_addr(st, h, m, n, ip, port) < 0)
		s->ctr[SP_drop_udp_reply]++;
	else
		s->ctr[SP_udp_replies]++;
}

static void sp_udp_ready(struct xs_stack *st, struct xs_udp h, unsigned events, void *ctx)
{
	uint8_t buf[65536];
	struct xs_addr ip; /* either family */
	uint16_t port;
	ssize_t n;

	while ((n = xs_udp_recvfrom_addr(st, h, buf, sizeof(buf), &ip, &port)) >= 0)
		sp_udp_message(st, ctx, h, buf, (size_t)n, &ip, port);
}

/* ---------------------------------------------------------------- TCP */

/* Takes n stream bytes: completes headers, checks each message's length,
 * and copies what is answered to c->out (header with CLIENT cleared, payload
 * as received). A reply goes out as its bytes arrive; the client reads
 * whole messages, so cutting through is indistinguishable from answering a
 * complete one, and no message needs buffering. Output is at most n + 13
 * bytes (only the first header of a chunk can have begun in an earlier one).
 * 0, or -EPROTO for a length sockperf itself rejects. */
static int sp_stream_feed(struct svc_sockperf *s, struct sp_conn *c, const uint8_t *in, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (c->hdr_have < SP_HDR_LEN) {
			size_t k = SP_HDR_LEN - c->hdr_have;
			uint32_t len;

			if (k > n - i)
				k = n - i;
			memcpy(c->hdr + c->hdr_have, in + i, k);
			c->hdr_have += (uint8_t)k;
			i += k;
			if (c->hdr_have < SP_HDR_LEN)
				break;
			len = sp_ld32(c->hdr + SP_OFF_LEN);
			if (len < SP_HDR_LEN || len > s->cfg.max_msg) {
				s->ctr[SP_drop_tcp_bad_len]++;
				return -EPROTO;
			}
			c->flags = sp_ld16(c->hdr + SP_OFF_FLAGS);
			c->remain = len - SP_HDR_LEN;
			c->reply = (c->flags & (SP_F_CLIENT | SP_F_PONG | SP_F_WARMUP)) ==
				   (SP_F_CLIENT | SP_F_PONG);
			if (c->reply) {
				sp_st16(c->hdr + SP_OFF_FLAGS, c->flags & ~SP_F_CLIENT);
				memcpy(c->out + c->pending, c->hdr, SP_HDR_LEN);
				c->pending += SP_HDR_LEN;
			}
		} else {
			size_t k = c->remain < n - i ? c->remain : n - i;

			if (c->reply) {
				memcpy(c->out + c->pending, in + i, k);
				c->pending += (uint32_t)k;
			}
			c->remain -= (uint32_t)k;
			i += k;
		}
		if (c->hdr_have == SP_HDR_LEN && !c->remain) {
			/* The message is complete. */
			if (!(c->flags & SP_F_CLIENT))
				s->ctr[SP_drop_not_client]++;
			else if (c->flags & SP_F_WARMUP)
				s->ctr[SP_warmup_msgs]++;
			else
				s->ctr[SP_tcp_msgs]++;
			if (c->reply)
				s->ctr[SP_tcp_replies]++;
			c->hdr_have = 0;
		}
	}
	return 0;
}

static void sp_conn_free(struct svc_sockperf *s, struct xs_tcp h)
{
	free(s->conn[h.id]);
	s->conn[h.id] = NULL;
	s->nconns--;
}

static void sp_conn_end(struct xs_stack *st, struct svc_sockperf *s, struct xs_tcp h)
{
	sp_conn_free(s, h);
	xs_tcp_close(st, h);
}

/* Replies first; read only once the last chunk's replies were all taken by
 * the send buffer, so a client that does not read its replies sees our
 * window close (and nothing here grows). */
static void sp_conn_pump(struct xs_stack *st, struct svc_sockperf *s, struct xs_tcp h,
			 struct sp_conn *c)
{
	uint8_t in[SP_CHUNK];

	for (;;) {
		while (c->sent < c->pending) {
			ssize_t n = xs_tcp_send(st, h, c->out + c->sent, c->pending - c->sent);

			if (n == -EAGAIN)
				return;
			if (n < 0) {
				sp_conn_end(st, s, h);
				return;
			}
			c->sent += (uint32_t)n;
		}
		c->pending = c->sent = 0;
		if (c->eof) {
			sp_conn_end(st, s, h); /* FIN after the replies */
			return;
		}
		ssize_t n = xs_tcp_recv(st, h, in, sizeof(in));

		if (n == -EAGAIN)
			return;
		if (n == 0) {
			c->eof = true;
			continue;
		}
		if (n < 0) {
			sp_conn_end(st, s, h);
			return;
		}
		c->last = s->now;
		if (sp_stream_feed(s, c, in, (size_t)n)) {
			sp_conn_free(s, h);
			xs_tcp_abort(st, h);
			return;
		}
	}
}

static void sp_conn_ready(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx)
{
	struct svc_sockperf *s = ctx;
	struct sp_conn *c = h.id >= 0 && (unsigned)h.id < s->nslots ? s->conn[h.id] : NULL;

	if (!c)
		return;
	if (events & XS_EV_ERROR) {
		sp_conn_end(st, s, h);
		return;
	}
	sp_conn_pump(st, s, h, c);
	if (s->conn[h.id] && (events & XS_EV_HUP))
		sp_conn_end(st, s, h);
}

static void sp_accept_ready(struct xs_stack *st, struct xs_tcp lh, unsigned events, void *ctx)
{
	struct svc_sockperf *s = ctx;
	struct xs_tcp h;

	while ((h = xs_tcp_accept(st, lh, NULL, NULL)).id >= 0) {
		struct sp_conn *c = NULL, **t = NULL;

		if (s->nconns < s->cfg.max_conns)
			t = svc_table_fit(s->conn, &s->nslots, sizeof(*t), h.id);
		if (t) {
			s->conn = t;
			c = calloc(1, sizeof(*c));
		}
		if (!c) {
			s->ctr[SP_drop_conn_limit]++;
			xs_tcp_abort(st, h);
			continue;
		}
		c->last = s->now;
		c->h = h;
		s->conn[h.id] = c;
		s->nconns++;
		s->ctr[SP_tcp_accepted]++;
		/* ping-pong waits for each reply: no Nagle delay on ours. */
		xs_tcp_setopt(st, h, XS_TCP_NODELAY, 1);
		xs_tcp_set_event_cb(st, h, sp_conn_ready, s);
	}
}

/* ---------------------------------------------------------------- service */

struct svc_sockperf *svc_sockperf_start(struct xs_stack *st, const struct svc_sockperf_config *cfg,
					char *err, size_t errlen)
{
	struct svc_sockperf *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory starting the sockperf service");
		return NULL;
	}
	s->cfg = *cfg;
	if (!s->cfg.max_msg || s->cfg.max_msg > SVC_SOCKPERF_MAX_MSG)
		s->cfg.max_msg = SVC_SOCKPERF_MAX_MSG;
	if (!s->cfg.max_conns)
		s->cfg.max_conns = SVC_SOCKPERF_MAX_CONNS;
	if (!s->cfg.idle_ms)
		s->cfg.idle_ms = SVC_SOCKPERF_IDLE_MS;
	s->st = st;
	s->now = xs_clock_now();
	s->listener = (struct xs_tcp)XS_NO_HANDLE;
	s->udp = xs_udp_open(st);
	rc = s->udp.id;
	if (rc >= 0)
		rc = xs_udp_bind(st, s->udp, cfg->port);
	if (rc >= 0)
		rc = xs_udp_set_event_cb(st, s->udp, sp_udp_ready, s);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start sockperf on UDP port %u (%s)", cfg->port,
			 strerror(-rc));
		goto fail;
	}
	s->listener = xs_tcp_listen(st, cfg->port, 1024);
	if (s->listener.id < 0) {
		snprintf(err, errlen, "cannot start sockperf on TCP port %u (%s)", cfg->port,
			 strerror(-s->listener.id));
		goto fail;
	}
	xs_tcp_set_event_cb(st, s->listener, sp_accept_ready, s);
	return s;
fail:
	svc_sockperf_stop(st, s);
	return NULL;
}

void svc_sockperf_stop(struct xs_stack *st, struct svc_sockperf *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; (unsigned)i < s->nslots; i++)
		if (s->conn[i])
			sp_conn_end(st, s, s->conn[i]->h);
	if (s->listener.id >= 0)
		xs_tcp_close(st, s->listener);
	if (s->udp.id >= 0)
		xs_udp_close(st, s->udp);
	free(s->conn);
	free(s);
}

void svc_sockperf_tick(struct svc_sockperf *s, xs_time_t now)
{
	xs_time_t idle;
	int i;

	if (!s)
		return;
	s->now = now;
	if (now < s->next_scan)
		return;
	s->next_scan = now + XS_MS(250);
	idle = XS_MS(s->cfg.idle_ms);
	for (i = 0; (unsigned)i < s->nslots; i++) {
		struct sp_conn *c = s->conn[i];

		if (c && now - c->last >= idle) {
			s->ctr[SP_drop_idle]++;
			struct xs_tcp h = c->h;

			sp_conn_free(s, h);
			xs_tcp_abort(s->st, h);
		}
	}
}

_Static_assert(SP_NCOUNTERS <= SVC_SOCKPERF_NCOUNTERS_MAX, "raise SVC_SOCKPERF_NCOUNTERS_MAX");

size_t svc_sockperf_counters(const struct svc_sockperf *s, struct cview_extra *out, size_t max)
{
	static const char *const names[] = {
#define SP_NAME(name, desc) "sockperf_" #name,
		SP_COUNTERS(SP_NAME)
#undef SP_NAME
	};
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < SP_NCOUNTERS && i < max; i++)
		out[i] = cview_count("services", names[i], s->ctr[i]);
	return i;
}
