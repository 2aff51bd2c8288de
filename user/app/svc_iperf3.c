/* iperf3-compatible server on the public TCP/UDP handle API: the control
 * protocol (cookie, state bytes, length-prefixed JSON) and TCP/UDP data streams. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/svc_iperf3_int.h"
#include "app/svc_table.h"

static bool same_tcp(struct xs_tcp a, struct xs_tcp b)
{
	return a.id == b.id && a.gen == b.gen;
}

static const struct svc_iperf3_config ip3_defaults = {
    .port = XS_DEFAULT_IPERF3_PORT,
    .max_streams = 32,
    .max_param_bytes = 8192,
    .max_result_bytes = 65536,
    .max_pending = 16,
    .ctrl_timeout_ms = 10000,
    .max_duration_s = 3600,
    .grace_ms = 10000,
};

/* --- control output --------------------------------------------------- */

static void ip3_flush(struct svc_iperf3 *s)
{
	size_t off = 0;

	while (s->ctrl.id >= 0 && off < s->out_len) {
		ssize_t n = xs_tcp_send(s->st, s->ctrl, s->out + off, s->out_len - off);

		if (n <= 0)
			break; /* -EAGAIN: XS_EV_WRITABLE brings us back; errors: the
				* control connection's events end the test */
		off += (size_t)n;
	}
	memmove(s->out, s->out + off, s->out_len - off);
	s->out_len -= off;
}

static int ip3_write(struct svc_iperf3 *s, const void *p, size_t n)
{
	if (s->out_len + n > IP3_OUT_MAX)
		return -ENOBUFS;
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
	ip3_flush(s);
	return 0;
}

static int ip3_state(struct svc_iperf3 *s, int8_t state)
{
	uint8_t b = (uint8_t)state;

	return ip3_write(s, &b, 1);
}

/* SERVER_ERROR, then iperf3's error number and errno, both 32-bit big-endian. */
static void ip3_server_error(struct svc_iperf3 *s, int ierr, int err)
{
	uint8_t b[9];

	b[0] = (uint8_t)IP3_SERVER_ERROR;
	ip3_be32(b + 1, (uint32_t)ierr);
	ip3_be32(b + 5, (uint32_t)err);
	ip3_write(s, b, sizeof(b));
}

/* --- test lifetime ---------------------------------------------------- */

static uint32_t ip3_retransmits(struct xs_stack *st, struct xs_tcp h)
{
	struct xs_tcp_info ti;

	return xs_tcp_get_info(st, h, &ti) ? 0 : (uint32_t)ti.retransmits;
}

static void ip3_stream_close(struct svc_iperf3 *s, struct ip3_stream *sp)
{
	if (sp->udp || sp->h.id < 0)
		return;
	sp->retransmits = ip3_retransmits(s->st, sp->h);
	s->role[sp->h.id] = R_NONE;
	xs_tcp_close(s->st, sp->h);
	sp->h = (struct xs_tcp)XS_NO_HANDLE;
}

/* Ends the test: every stream and the control connection go; the service
 * takes the next client. A connection with an error queued keeps its bytes
 * (close is graceful unless data was left unread). */
static void ip3_test_end(struct svc_iperf3 *s)
{
	unsigned i;

	for (i = 0; i < s->t.nstreams; i++)
		ip3_stream_close(s, &s->t.streams[i]);
	free(s->t.streams);
	if (s->ctrl.id >= 0) {
		s->role[s->ctrl.id] = R_NONE;
		xs_tcp_close(s->st, s->ctrl);
	}
	free(s->body);
	s->body = NULL;
	s->ctrl = (struct xs_tcp)XS_NO_HANDLE;
	s->phase = P_IDLE;
	s->out_len = 0;
	s->hdr_got = 0;
	memset(&s->t, 0, sizeof(s->t));
}

/* After an error reply: stop reading, close once the bytes are queued. */
static void ip3_fail(struct svc_iperf3 *s)
{
	s->phase = P_CLOSING;
	s->deadline = s->now + XS_MS(s->cfg.ctrl_timeout_ms);
	ip3_flush(s);
	if (!s->out_len)
		ip3_test_end(s);
}

static void ip3_set_phase(struct svc_iperf3 *s, enum ip3_phase p)
{
	s->phase = p;
	s->hdr_got = 0;
	s->deadline = s->now + XS_MS(s->cfg.ctrl_timeout_ms);
}

/* Our results, length-prefixed; built in the scratch buffer. */
static int ip3_send_results(struct svc_iperf3 *s)
{
	struct jw w;
	uint8_t len[4];

	jw_init(&w, (char *)s->buf, sizeof(s->buf));
	ip3_results_json(s, &w);
	if (w.overflow)
		return -ENOBUFS;
	ip3_be32(len, (uint32_t)w.len);
	if (ip3_write(s, len, 4) || ip3_write(s, s->buf, w.len))
		return -ENOBUFS;
	return 0;
}

/* --- data streams ----------------------------------------------------- */

static void ip3_stream_recv(struct svc_iperf3 *s, struct ip3_stream *sp)
{
	ssize_t n;

	while ((n = xs_tcp_recv(s->st, sp->h, s->buf, sizeof(s->buf))) > 0) {
		sp->bytes += (uint64_t)n;
		s->stats.iperf3_bytes_rx += (uint64_t)n;
	}
	if (n < 0 && n != -EAGAIN) {
		s->stats.iperf3_stream_error++;
		ip3_stream_close(s, sp);
	}
}

/* Keeps the send buffer full; s->buf holds the payload (iperf3 sends
 * whatever its buffer holds, the receiver never looks). */
static void ip3_stream_send(struct svc_iperf3 *s, struct ip3_stream *sp)
{
	ssize_t n;

	while ((n = xs_tcp_send(s->st, sp->h, s->buf, sizeof(s->buf))) > 0) {
		sp->bytes += (uint64_t)n;
		s->stats.iperf3_bytes_tx += (uint64_t)n;
	}
	if (n != -EAGAIN) {
		s->stats.iperf3_stream_error++;
		ip3_stream_close(s, sp);
	}
}

static struct ip3_stream *ip3_stream_of(struct svc_iperf3 *s, struct xs_tcp h)
{
	unsigned i;

	for (i = 0; i < s->t.nstreams; i++)
		if (!s->t.streams[i].udp && same_tcp(s->t.streams[i].h, h))
			return &s->t.streams[i];
	return NULL;
}

static void ip3_stream_event(struct svc_iperf3 *s, struct xs_tcp h, unsigned events)
{
	struct ip3_stream *sp = ip3_stream_of(s, h);

	if (!sp)
		return;
	if (s->phase != P_RUNNING) {
		if (events & XS_EV_ERROR)
			ip3_stream_close(s, sp);
		return; /* data before TEST_START waits in the window */
	}
	if (sp->sender)
		ip3_stream_send(s, sp);
	else
		ip3_stream_recv(s, sp);
	if (sp->h.id >= 0 && (events & XS_EV_ERROR)) {
		s->stats.iperf3_stream_error++;
		ip3_stream_close(s, sp);
	}
}

/* iperf3 numbers streams 1, 3, 4, 5, ... in the order they were made; the
 * client does the same, so results match by id. Under --bidir the client
 * connects its senders first: our first half receives. */
static struct ip3_stream *ip3_stream_add(struct svc_iperf3 *s)
{
	struct ip3_stream *sp = &s->t.streams[s->t.nstreams];
	unsigned k = s->t.nstreams++;

	memset(sp, 0, sizeof(*sp));
	sp->id = k ? (int)k + 2 : 1;
	sp->sender = s->t.bidir ? k >= s->t.parallel : s->t.reverse;
	sp->udp = s->t.udp;
	sp->h = (struct xs_tcp)XS_NO_HANDLE;
	return sp;
}

static void ip3_start_if_ready(struct svc_iperf3 *s)
{
	unsigned i;

	if (s->phase != P_STREAMS || s->t.nstreams < s->t.want_streams)
		return;
	if (ip3_state(s, IP3_TEST_START) || ip3_state(s, IP3_TEST_RUNNING)) {
		ip3_test_end(s);
		return;
	}
	s->phase = P_RUNNING;
	s->t.start = s->now;
	s->deadline = s->now + XS_SEC(s->t.duration) + XS_MS(s->cfg.grace_ms);
	for (i = 0; i < s->t.nstreams; i++) {
		struct ip3_stream *sp = &s->t.streams[i];

		if (sp->h.id >= 0 && !sp->udp)
			ip3_stream_event(s, sp->h, 0);
		sp->next_send = s->now;
	}
}

/* --- UDP streams -------------------------------------------------------- */

static struct ip3_stream *ip3_udp_stream(struct svc_iperf3 *s, const struct xs_addr *a,
					 uint16_t port)
{
	unsigned i;

	for (i = 0; i < s->t.nstreams; i++) {
		struct ip3_stream *sp = &s->t.streams[i];

		if (sp->udp && sp->port == port && xs_addr_eq(&sp->addr, a))
			return sp;
	}
	return NULL;
}

/* The client's "connect" datagram is a 4-byte int in its own byte order;
 * the reply is the other magic in the same order, which is its bytes
 * reversed (0x36373839 <-> 0x39383736) or, for old clients, 987654321. */
static bool ip3_udp_connect_reply(const uint8_t *p, uint8_t reply[4])
{
	uint32_t be = ip3_ld32(p),
		 le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];

	if (be == IP3_UDP_CONNECT || le == IP3_UDP_CONNECT) {
		reply[0] = p[3];
		reply[1] = p[2];
		reply[2] = p[1];
		reply[3] = p[0];
		return true;
	}
	if (be == IP3_UDP_LEGACY || le == IP3_UDP_LEGACY) {
		ip3_be32(reply, 987654321u);
		if (le == IP3_UDP_LEGACY) {
			uint8_t t0 = reply[0], t1 = reply[1];

			reply[0] = reply[3];
			reply[1] = reply[2];
			reply[2] = t1;
			reply[3] = t0;
		}
		return true;
	}
	return false;
}

/* One datagram of a running test: sequence, loss and jitter as iperf3's
 * receiver counts them (a sequence number below the highest is late: it
 * takes back one loss). */
static void ip3_udp_data(struct svc_iperf3 *s, struct ip3_stream *sp, const uint8_t *p, size_t n)
{
	size_t need = s->t.udp64 ? 16 : 12;
	uint64_t pcount;
	double sent, transit, d;

	if (n < need) {
		s->stats.iperf3_udp_short++;
		return;
	}
	sent = ip3_ld32(p) + ip3_ld32(p + 4) / 1e6;
	pcount = s->t.udp64 ? (uint64_t)ip3_ld32(p + 8) << 32 | ip3_ld32(p + 12) : ip3_ld32(p + 8);
	/* Transit times differ from the true ones by the clocks' offset, which
	 * the differences below cancel (RFC 1889 A.8). */
	transit = (double)s->now / 1e9 - sent;
	if (!sp->bytes)
		sp->prev_transit = transit;
	sp->bytes += n;
	s->stats.iperf3_bytes_rx += n;
	s->stats.iperf3_udp_packets++;
	if (pcount > sp->packet_count) {
		if (pcount > sp->packet_count + 1) {
			sp->cnt_error += pcount - 1 - sp->packet_count;
			s->stats.iperf3_udp_lost += pcount - 1 - sp->packet_count;
		}
		sp->packet_count = pcount;
	} else {
		sp->outoforder++;
		if (sp->cnt_error) {
			sp->cnt_error--;
			s->stats.iperf3_udp_lost--;
		}
	}
	d = transit - sp->prev_transit;
	sp->prev_transit = transit;
	sp->jitter += ((d < 0 ? -d : d) - sp->jitter) / 16.0;
}

/* UDP from us (-u -R, -u --bidir): datagrams of the client's size at its
 * rate per stream, paced on the loop's clock, each with iperf3's header:
 * seconds, microseconds, sequence number from 1 (64-bit when asked). A
 * datagram the stack does not take is not counted and keeps its number, as
 * iperf3 counts only what its write took. */
static void ip3_udp_pump(struct svc_iperf3 *s)
{
	xs_time_t gap = (xs_time_t)(s->t.blksize * 8 * 1000000000ull / s->t.bandwidth);
	unsigned i, n;

	if (!gap)
		gap = 1;
	for (i = 0; i < s->t.nstreams; i++) {
		struct ip3_stream *sp = &s->t.streams[i];

		for (n = 0; sp->sender && sp->next_send <= s->now && n < IP3_UDP_BURST; n++) {
			uint64_t seq = sp->packet_count + 1;
			uint8_t *p = s->buf;

			ip3_be32(p, (uint32_t)(s->now / 1000000000ull));
			ip3_be32(p + 4, (uint32_t)(s->now % 1000000000ull / 1000));
			if (s->t.udp64) {
				ip3_be32(p + 8, (uint32_t)(seq >> 32));
				ip3_be32(p + 12, (uint32_t)seq);
			} else {
				ip3_be32(p + 8, (uint32_t)seq);
			}
			if (xs_udp_sendto_addr(s->st, s->udp, p, s->t.blksize, &sp->addr,
					       sp->port) < 0) {
				s->stats.iperf3_udp_tx_fail++;
				break;
			}
			sp->packet_count = seq;
			sp->bytes += s->t.blksize;
			s->stats.iperf3_bytes_tx += s->t.blksize;
			s->stats.iperf3_udp_sent++;
			sp->next_send += gap;
		}
	}
}

static void ip3_udp_ready(struct xs_stack *st, struct xs_udp h, unsigned events, void *ctx)
{
	struct svc_iperf3 *s = ctx;
	struct xs_addr a;
	uint16_t port;
	ssize_t n;

	while ((n = xs_udp_recvfrom_addr(st, h, s->buf, sizeof(s->buf), &a, &port)) >= 0) {
		struct ip3_stream *sp = s->t.udp ? ip3_udp_stream(s, &a, port) : NULL;
		uint8_t reply[4];

		if (sp) {
			if (s->phase == P_RUNNING && !sp->sender)
				ip3_udp_data(s, sp, s->buf, (size_t)n);
			continue;
		}
		if (s->phase == P_STREAMS && s->t.udp && n == 4 && xs_addr_eq(&a, &s->t.peer) &&
		    s->t.nstreams < s->t.want_streams && ip3_udp_connect_reply(s->buf, reply)) {
			sp = ip3_stream_add(s);
			sp->addr = a;
			sp->port = port;
			xs_udp_sendto_addr(st, h, reply, sizeof(reply), &a, port);
			ip3_start_if_ready(s);
			continue;
		}
		s->stats.iperf3_udp_stray++;
	}
}

/* --- control connection ------------------------------------------------ */

/* TEST_END: what has arrived counts, then the streams go (iperf3 closes
 * them too) and the results are exchanged. */
static void ip3_test_stop(struct svc_iperf3 *s)
{
	unsigned i;

	for (i = 0; i < s->t.nstreams; i++) {
		struct ip3_stream *sp = &s->t.streams[i];

		if (!sp->udp && sp->h.id >= 0 && !sp->sender)
			ip3_stream_recv(s, sp);
		ip3_stream_close(s, sp);
	}
	s->t.end = s->now;
	ip3_set_phase(s, P_RESULTS);
	if (ip3_state(s, IP3_EXCHANGE_RESULTS))
		ip3_test_end(s);
}

/* Reads the 4-byte length and then the JSON body, at most max bytes.
 * 1: complete in s->body; 0: more to come; -1: the test ended. */
static int ip3_read_json(struct svc_iperf3 *s, uint32_t max, uint64_t *too_big)
{
	ssize_t n;

	while (s->hdr_got < 4) {
		n = xs_tcp_recv(s->st, s->ctrl, s->hdr + s->hdr_got, 4 - s->hdr_got);
		if (n <= 0)
			return n == -EAGAIN ? 0 : -1;
		s->hdr_got += (unsigned)n;
		if (s->hdr_got < 4)
			continue;
		s->body_len = ip3_ld32(s->hdr);
		s->body_got = 0;
		if (!s->body_len || s->body_len > max) {
			(*too_big)++;
			return -2;
		}
		s->body = malloc(s->body_len);
		if (!s->body)
			return -2;
	}
	while (s->body_got < s->body_len) {
		n = xs_tcp_recv(s->st, s->ctrl, s->body + s->body_got, s->body_len - s->body_got);
		if (n <= 0)
			return n == -EAGAIN ? 0 : -1;
		s->body_got += (uint32_t)n;
	}
	return 1;
}

static int ip3_ignore_member(const struct ij_member *m, void *ctx)
{
	return 0;
}

static void ip3_ctrl_gone(struct svc_iperf3 *s)
{
	if (s->phase != P_DONE && s->phase != P_CLOSING)
		s->stats.iperf3_client_gone++;
	ip3_test_end(s);
}

static void ip3_ctrl_json(struct svc_iperf3 *s)
{
	bool params = s->phase == P_PARAMS;
	int r = ip3_read_json(s, params ? s->cfg.max_param_bytes : s->cfg.max_result_bytes,
			      params ? &s->stats.iperf3_param_too_big
				     : &s->stats.iperf3_result_too_big);
	int ierr;

	if (r == 0)
		return;
	if (r == -1) { /* EOF or a reset while reading */
		ip3_ctrl_gone(s);
		return;
	}
	if (r < 0) {
		if (params) {
			ip3_server_error(s, IP3_IERECVPARAMS, EMSGSIZE);
			ip3_fail(s);
		} else {
			ip3_test_end(s);
		}
		return;
	}
	if (params) {
		ierr = ip3_params_take(s, s->body, s->body_len);
		free(s->body);
		s->body = NULL;
		if (ierr) {
			ip3_server_error(s, ierr, ierr == IP3_IEUNIMP ? EOPNOTSUPP : EINVAL);
			ip3_fail(s);
			return;
		}
		s->stats.iperf3_tests++;
		ip3_set_phase(s, P_STREAMS);
		if (ip3_state(s, IP3_CREATE_STREAMS))
			ip3_test_end(s);
		return;
	}
	/* The client's results: checked, then ours, then the display step. */
	r = ij_parse_object(s->body, s->body_len, ip3_ignore_member, NULL);
	free(s->body);
	s->body = NULL;
	if (r) {
		s->stats.iperf3_bad_message++;
		ip3_test_end(s);
		return;
	}
	ip3_set_phase(s, P_DONE);
	if (ip3_send_results(s) || ip3_state(s, IP3_DISPLAY_RESULTS)) {
		ip3_test_end(s);
		return;
	}
	s->stats.iperf3_tests_done++;
}

static void ip3_ctrl_input(struct svc_iperf3 *s)
{
	while (s->ctrl.id >= 0) {
		uint8_t b;
		ssize_t n;

		if (s->phase == P_CLOSING)
			return; /* an error is on its way: nothing more is read */
		if (s->phase == P_PARAMS || s->phase == P_RESULTS) {
			enum ip3_phase before = s->phase;

			ip3_ctrl_json(s);
			if (s->phase == before)
				return; /* waiting for more */
			continue;
		}
		n = xs_tcp_recv(s->st, s->ctrl, &b, 1);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			ip3_ctrl_gone(s);
			return;
		}
		switch ((int8_t)b) {
		case IP3_TEST_END:
			if (s->phase != P_RUNNING)
				goto bad;
			ip3_test_stop(s);
			break;
		case IP3_IPERF_DONE:
			if (s->phase != P_DONE)
				goto bad;
			ip3_test_end(s);
			return;
		case IP3_CLIENT_TERMINATE:
			ip3_test_end(s);
			return;
		default:
		bad:
			s->stats.iperf3_bad_message++;
			ip3_test_end(s);
			return;
		}
	}
}

/* --- new connections: control or stream, told by the cookie -------------- */

static struct ip3_pending *ip3_pending_of(struct svc_iperf3 *s, struct xs_tcp h)
{
	unsigned i;

	for (i = 0; i < s->cfg.max_pending; i++)
		if (same_tcp(s->pending[i].h, h))
			return &s->pending[i];
	return NULL;
}

static void ip3_pending_drop(struct svc_iperf3 *s, struct ip3_pending *p, bool deny)
{
	if (deny) {
		uint8_t b = (uint8_t)IP3_ACCESS_DENIED;

		xs_tcp_send(s->st, p->h, &b, 1);
	}
	s->role[p->h.id] = R_NONE;
	xs_tcp_close(s->st, p->h);
	p->h = (struct xs_tcp)XS_NO_HANDLE;
}

/* iperf3 cookies are 36 characters of [a-z2-7] and a NUL; any printable
 * ASCII is let through, nothing else. */
static bool ip3_cookie_ok(const uint8_t *c)
{
	unsigned i;

	for (i = 0; i < IP3_COOKIE - 1; i++)
		if (c[i] < 0x21 || c[i] > 0x7e)
			return false;
	return c[IP3_COOKIE - 1] == 0;
}

static void ip3_pending_input(struct svc_iperf3 *s, struct ip3_pending *p)
{
	struct xs_addr a = p->addr;
	struct xs_tcp h = p->h;
	ssize_t n;

	while (p->got < IP3_COOKIE) {
		n = xs_tcp_recv(s->st, h, p->cookie + p->got, IP3_COOKIE - p->got);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			ip3_pending_drop(s, p, false);
			return;
		}
		p->got += (unsigned)n;
	}
	if (!ip3_cookie_ok(p->cookie)) {
		s->stats.iperf3_bad_cookie++;
		ip3_pending_drop(s, p, true);
		return;
	}
	if (s->phase == P_IDLE) {
		memset(&s->t, 0, sizeof(s->t));
		memcpy(s->t.cookie, p->cookie, IP3_COOKIE);
		s->t.peer = a;
		s->ctrl = h;
		s->role[h.id] = R_CTRL;
		p->h = (struct xs_tcp)XS_NO_HANDLE;
		xs_tcp_setopt(s->st, h, XS_TCP_NODELAY, 1);
		ip3_set_phase(s, P_PARAMS);
		if (ip3_state(s, IP3_PARAM_EXCHANGE))
			ip3_test_end(s);
		return;
	}
	if (s->phase == P_STREAMS && !s->t.udp && xs_addr_eq(&a, &s->t.peer) &&
	    !memcmp(p->cookie, s->t.cookie, IP3_COOKIE) && s->t.nstreams < s->t.want_streams) {
		struct ip3_stream *sp = ip3_stream_add(s);

		sp->h = h;
		s->role[h.id] = R_STREAM;
		p->h = (struct xs_tcp)XS_NO_HANDLE;
		ip3_start_if_ready(s);
		return;
	}
	/* Busy with another test (iperf3 -s answers the same). */
	s->stats.iperf3_denied++;
	ip3_pending_drop(s, p, true);
}

static void ip3_conn_event(struct xs_stack *st, struct xs_tcp h, unsigned events, void *ctx)
{
	struct svc_iperf3 *s = ctx;
	struct ip3_pending *p;

	if (h.id < 0 || (unsigned)h.id >= s->nslots)
		return;
	switch (s->role[h.id]) {
	case R_PENDING:
		p = ip3_pending_of(s, h);
		if (p)
			ip3_pending_input(s, p);
		break;
	case R_CTRL:
		if (events & XS_EV_WRITABLE) {
			ip3_flush(s);
			if (s->phase == P_CLOSING && !s->out_len) {
				ip3_test_end(s);
				return;
			}
		}
		ip3_ctrl_input(s);
		if (same_tcp(s->ctrl, h) && (events & XS_EV_ERROR))
			ip3_ctrl_gone(s);
		break;
	case R_STREAM:
		ip3_stream_event(s, h, events);
		break;
	default:
		break;
	}
}

static void ip3_accept_ready(struct xs_stack *st, struct xs_tcp lh, unsigned events,
			     void *ctx)
{
	struct svc_iperf3 *s = ctx;
	struct xs_addr a;
	struct xs_tcp h;

	while ((h = xs_tcp_accept_addr(st, lh, &a, NULL)).id >= 0) {
		struct ip3_pending *p = ip3_pending_of(s, (struct xs_tcp)XS_NO_HANDLE);
		uint8_t *t = p ? svc_table_fit(s->role, &s->nslots, sizeof(*t), h.id) : NULL;

		if (t)
			s->role = t;
		if (!t) {
			s->stats.iperf3_pending_full++;
			xs_tcp_abort(st, h);
			continue;
		}
		p->h = h;
		p->addr = a;
		p->got = 0;
		p->deadline = s->now + XS_MS(s->cfg.ctrl_timeout_ms);
		s->role[h.id] = R_PENDING;
		xs_tcp_set_event_cb(st, h, ip3_conn_event, s);
	}
}

/* --- service lifetime ---------------------------------------------------- */

void svc_iperf3_tick(struct svc_iperf3 *s, xs_time_t now)
{
	unsigned i;

	s->now = now;
	for (i = 0; i < s->cfg.max_pending; i++) {
		struct ip3_pending *p = &s->pending[i];

		if (p->h.id >= 0 && now >= p->deadline) {
			s->stats.iperf3_ctrl_timeout++;
			s->role[p->h.id] = R_NONE;
			xs_tcp_abort(s->st, p->h);
			p->h = (struct xs_tcp)XS_NO_HANDLE;
		}
	}
	if (s->phase == P_RUNNING && s->t.udp)
		ip3_udp_pump(s);
	if (s->phase != P_IDLE && now >= s->deadline) {
		s->stats.iperf3_ctrl_timeout++;
		if (s->ctrl.id >= 0) {
			s->role[s->ctrl.id] = R_NONE;
			xs_tcp_abort(s->st, s->ctrl); /* a stalled peer gets a RST */
			s->ctrl = (struct xs_tcp)XS_NO_HANDLE;
		}
		ip3_test_end(s);
	}
}

xs_time_t svc_iperf3_next_deadline(const struct svc_iperf3 *s)
{
	xs_time_t next = s->phase != P_IDLE ? s->deadline : UINT64_MAX;
	unsigned i;

	for (i = 0; s->phase == P_RUNNING && s->t.udp && i < s->t.nstreams; i++)
		if (s->t.streams[i].sender && s->t.streams[i].next_send < next)
			next = s->t.streams[i].next_send;

	for (i = 0; i < s->cfg.max_pending; i++)
		if (s->pending[i].h.id >= 0 && s->pending[i].deadline < next)
			next = s->pending[i].deadline;
	return next;
}

const struct svc_iperf3_stats *svc_iperf3_stats(const struct svc_iperf3 *s)
{
	return &s->stats;
}

static unsigned ip3_or(unsigned v, unsigned dflt)
{
	return v ? v : dflt;
}

struct svc_iperf3 *svc_iperf3_start(struct xs_stack *st, const struct svc_iperf3_config *cfg,
				    xs_time_t now, char *err, size_t errlen)
{
	struct svc_iperf3 *s = calloc(1, sizeof(*s));
	unsigned i;
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory starting the iperf3 service");
		return NULL;
	}
	s->st = st;
	s->cfg = *cfg;
	s->cfg.port = s->cfg.port ? s->cfg.port : ip3_defaults.port;
	s->cfg.max_streams = ip3_or(s->cfg.max_streams, ip3_defaults.max_streams);
	s->cfg.max_param_bytes = ip3_or(s->cfg.max_param_bytes, ip3_defaults.max_param_bytes);
	s->cfg.max_result_bytes = ip3_or(s->cfg.max_result_bytes, ip3_defaults.max_result_bytes);
	s->cfg.max_pending = ip3_or(s->cfg.max_pending, ip3_defaults.max_pending);
	s->cfg.ctrl_timeout_ms = ip3_or(s->cfg.ctrl_timeout_ms, ip3_defaults.ctrl_timeout_ms);
	s->cfg.max_duration_s = ip3_or(s->cfg.max_duration_s, ip3_defaults.max_duration_s);
	s->cfg.grace_ms = ip3_or(s->cfg.grace_ms, ip3_defaults.grace_ms);
	s->now = now;
	s->ctrl = (struct xs_tcp)XS_NO_HANDLE;
	s->listener = (struct xs_tcp)XS_NO_HANDLE;
	s->udp = (struct xs_udp)XS_NO_HANDLE;
	s->out = malloc(IP3_OUT_MAX);
	s->pending = calloc(s->cfg.max_pending, sizeof(*s->pending));
	if (!s->out || !s->pending) {
		snprintf(err, errlen, "out of memory starting the iperf3 service");
		goto fail;
	}
	for (i = 0; i < s->cfg.max_pending; i++)
		s->pending[i].h = (struct xs_tcp)XS_NO_HANDLE;
	s->listener = xs_tcp_listen(st, s->cfg.port, 64);
	if (s->listener.id < 0) {
		snprintf(err, errlen, "cannot start iperf3 on TCP port %u (%s)", s->cfg.port,
			 strerror(-s->listener.id));
		goto fail;
	}
	xs_tcp_set_event_cb(st, s->listener, ip3_accept_ready, s);
	s->udp = xs_udp_open(st);
	rc = s->udp.id < 0 ? s->udp.id : xs_udp_bind(st, s->udp, s->cfg.port);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start iperf3 on UDP port %u (%s)", s->cfg.port,
			 strerror(-rc));
		goto fail;
	}
	xs_udp_set_event_cb(st, s->udp, ip3_udp_ready, s);
	/* The payload of our streams: iperf3 sends a buffer of bytes it never checks. */
	for (i = 0; i < IP3_BUF; i++)
		s->buf[i] = (uint8_t)('0' + i % 10);
	return s;
fail:
	svc_iperf3_stop(s);
	return NULL;
}

void svc_iperf3_stop(struct svc_iperf3 *s)
{
	unsigned i;

	if (!s)
		return;
	if (s->phase != P_IDLE)
		ip3_test_end(s);
	for (i = 0; s->pending && i < s->cfg.max_pending; i++)
		if (s->pending[i].h.id >= 0)
			xs_tcp_abort(s->st, s->pending[i].h);
	if (s->listener.id >= 0)
		xs_tcp_close(s->st, s->listener);
	if (s->udp.id >= 0)
		xs_udp_close(s->st, s->udp);
	free(s->pending);
	free(s->out);
	free(s->role);
	free(s);
}
