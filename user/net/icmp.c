/* ICMPv4 (RFC 792, RFC 1122 3.2.2): echo replies, rate-limited errors that
 * quote only bytes really received, received errors delivered to their socket. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/mq.h"
#include "core/stack.h"
#include "net/icmp.h"
#include "net/ip4.h"
#include "net/udp.h"
#include "tcp/tcp.h"
#include "wire/bytes.h"
#include "wire/icmp.h"

#define ICMP_PARAM_PROBLEM 12
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_TOS_CONTROL 0xc0 /* IPTOS_PREC_INTERNETCONTROL, as Linux sends */

void icmp_init(struct xs_stack *st)
{
	memset(&st->icmp, 0, sizeof(st->icmp));
	st->icmp.tokens = (uint64_t)st->cfg.icmp_burst * ICMP_TOKEN;
}

static int icmp_is_error_type(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAM_PROBLEM;
}

/* Token bucket: icmp_rate tokens a second, icmp_burst deep. Credit is kept
 * in units of 1/10^9 token, so elapsed ns times the rate is exact: polls
 * however close together lose no fraction of a token. */
bool icmp_bucket_take(const struct xs_stack *st, uint64_t *tokens, xs_time_t *refilled)
{
	uint64_t cap = (uint64_t)st->cfg.icmp_burst * ICMP_TOKEN, dt;

	if (st->now > *refilled) {
		dt = st->now - *refilled;
		/* Past the time to fill the bucket from empty it is full (and
		 * dt * rate cannot overflow below it). */
		if (dt >= cap / st->cfg.icmp_rate)
			*tokens = cap;
		else
			*tokens = *tokens + dt * st->cfg.icmp_rate > cap
					  ? cap
					  : *tokens + dt * st->cfg.icmp_rate;
		*refilled = st->now;
	}
	if (*tokens < ICMP_TOKEN)
		return false;
	*tokens -= ICMP_TOKEN;
	return true;
}

static int icmp_take_token(struct xs_stack *st)
{
	return icmp_bucket_take(st, &st->icmp.tokens, &st->icmp.refilled);
}

/* Builds an ICMP message (header + data) and sends it, fragmenting if needed. */
static int icmp_send(struct xs_stack *st, uint32_t dst, uint8_t tos, const struct icmp_repr *m)
{
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, len;

	if (ICMP_HDR_LEN + m->data_len + IP4_HDR_LEN <= st->mtu) {
		l4 = ip4_tx_begin(st, &f, &cap);
		if (!l4)
			return -ENOBUFS;
		len = icmp_emit(m, l4, cap);
		return ip4_tx_finish(st, &f, dst, IP4_PROTO_ICMP, tos, len);
	}
	len = icmp_emit(m, st->scratch, XS_SCRATCH_LEN - IP4_HDR_LEN);
	if (!len)
		return -EMSGSIZE;
	return ip4_send(st, dst, IP4_PROTO_ICMP, tos, st->scratch, len);
}

void icmp_send_error(struct xs_stack *st, uint8_t type, uint8_t code, uint32_t rest,
		     const uint8_t *pkt, size_t pkt_len)
{
	struct icmp_repr m = { .type = type, .code = code, .rest = rest };
	unsigned ihl;
	uint32_t src, dst;

	/* RFC 1122 3.2.2: never about a packet whose header we cannot read... */
	if (pkt_len < IP4_HDR_LEN || pkt[0] >> 4 != 4)
		return;
	ihl = (pkt[0] & 0x0f) * 4u;
	if (ihl < IP4_HDR_LEN || ihl > pkt_len)
		return;
	src = ld_be32(pkt + 12);
	dst = ld_be32(pkt + 16);
	/* ...a broadcast or multicast, a non-first fragment, an invalid source... */
	if (ip4_is_broadcast(st, dst) || dst >= 0xe0000000u)
		return;
	if (ld_be16(pkt + 6) & IP4_OFF_MASK)
		return;
	if (ip4_is_martian_src(src) || ip4_is_broadcast(st, src) || src == st->ip)
		return;
	/* ...or an ICMP error (an unreadable ICMP type counts as one). */
	if (pkt[9] == IP4_PROTO_ICMP && (pkt_len <= ihl || icmp_is_error_type(pkt[ihl])))
		return;
	if (!icmp_take_token(st)) {
		xs_drop(st, XS_DROP_ICMP_RATE);
		return;
	}
	m.data = pkt;
	m.data_len = pkt_len < ICMP_QUOTE_MAX ? pkt_len : ICMP_QUOTE_MAX;
	if (icmp_send(st, src, ICMP_TOS_CONTROL, &m) == 0) {
		st->stats.icmp_tx++;
		st->stats.icmp_err_tx++;
	}
}

static int icmp_errno(uint8_t type, uint8_t code)
{
	if (type == ICMP_TIME_EXCEEDED)
		return -ETIMEDOUT;
	if (type == ICMP_PARAM_PROBLEM)
		return -EPROTO;
	switch (code) { /* destination unreachable, RFC 1122 3.2.2.1 */
	case 0: case 6: case 9: case 11:
		return -ENETUNREACH;
	case 2:
		return -ENOPROTOOPT;
	case 3:
		return -ECONNREFUSED;
	case 4:
		return -EMSGSIZE;
	default:
		return -EHOSTUNREACH;
	}
}

struct ping_sock *icmp_ping_find(struct xs_stack *st, uint16_t id, int *h)
{
	int i;

	for (i = 0; i < ICMP_MAX_PINGS; i++) {
		if (st->icmp.ping[i].used && st->icmp.ping[i].id == id) {
			*h = i;
			return &st->icmp.ping[i];
		}
	}
	return NULL;
}

/* Queues a result for the handle's callback after the batch (a protocol
 * module never calls back from the middle of parsing or a timer). */
void icmp_ping_raise(struct xs_stack *st, int h, const struct xs_ping_result *r)
{
	struct icmp_state *s = &st->icmp;
	struct ping_event *e;

	if (s->pq_len == ICMP_PING_QUEUE) {
		xs_drop(st, XS_DROP_ICMP_PING_QUEUE);
		return;
	}
	e = &s->pq[(s->pq_head + s->pq_len++) % ICMP_PING_QUEUE];
	e->h = (uint8_t)h;
	e->gen = s->ping[h].gen;
	e->r = *r;
	if (!e->r.from_addr.family)
		xs_addr_from_ip4(&e->r.from_addr, r->from);
	xs_stack_kick(st);
}

void ping_deliver_begin(struct xs_stack *st)
{
	st->icmp.pq_deliver = st->icmp.pq_len;
}

int ping_deliver_next(struct xs_stack *st, struct ping_event *out)
{
	struct icmp_state *s = &st->icmp;

	while (s->pq_deliver) {
		struct ping_event *e = &s->pq[s->pq_head];
		struct ping_sock *p = &s->ping[e->h];

		s->pq_deliver--;
		s->pq_head = (s->pq_head + 1) % ICMP_PING_QUEUE;
		s->pq_len--;
		/* A handle closed (and maybe opened again) since: not its result. */
		if (p->used && p->gen == e->gen) {
			*out = *e;
			return 0;
		}
	}
	return -ENOENT;
}

/* An error quoting one of our packets (inner = quoted IP header + data). */
static void icmp_error_dispatch(struct xs_stack *st, uint32_t from, uint8_t type, uint8_t code,
				const uint8_t *inner, size_t n, bool local)
{
	int err = icmp_errno(type, code), h;
	struct icmp_quote q;
	struct ping_sock *p;

	/* RFC 1122 3.2.2: the quote must hold the header and 8 bytes of data,
	 * and be of a packet we sent. */
	if (icmp_quote_parse(inner, n, &q) || q.src != st->ip) {
		xs_drop(st, XS_DROP_ICMP_ERR_BAD);
		return;
	}
	switch (q.proto) {
	case IP4_PROTO_UDP:
		if (udp_icmp_error(st, q.dst, ld_be16(q.l4), ld_be16(q.l4 + 2), err) == 0)
			return;
		break;
	case IP4_PROTO_TCP:
		if (tcp_icmp_error(st, q.dst, ld_be16(q.l4), ld_be16(q.l4 + 2), ld_be32(q.l4 + 4),
				   err) == 0)
			return;
		break;
	case IP4_PROTO_ICMP:
		if (q.l4[0] == ICMP_ECHO_REQUEST) {
			p = icmp_ping_find(st, ld_be16(q.l4 + 4), &h);
			if (p) {
				struct xs_ping_result r = {
					.from = from, .seq = ld_be16(q.l4 + 6),
					.error = err, .icmp_type = type, .icmp_code = code,
				};
				icmp_ping_raise(st, h, &r);
				return;
			}
		}
		break;
	default:
		break;
	}
	/* A local error nobody hears was already counted by its cause. */
	if (!local)
		xs_drop(st, XS_DROP_ICMP_ERR_NOSOCK);
}

void icmp_local_error(struct xs_stack *st, uint8_t type, uint8_t code, const uint8_t *pkt,
		      size_t pkt_len)
{
	icmp_error_dispatch(st, st->ip, type, code, pkt, pkt_len, true);
}

static void icmp_echo_reply(struct xs_stack *st, const struct ip4_repr *ip,
			    const struct icmp_repr *req)
{
	struct icmp_repr rep = *req;

	rep.type = ICMP_ECHO_REPLY;
	rep.code = 0;
	/* RFC 1122 3.2.2.6: the reply goes back to the requester; keep its TOS. */
	if (icmp_send(st, ip->src, ip->tos, &rep) == 0) {
		st->stats.icmp_tx++;
		st->stats.icmp_echo_reply_tx++;
	}
}

void icmp_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *b, size_t n)
{
	struct icmp_repr m;
	struct ping_sock *p;
	enum xs_drop why;
	int h;

	why = icmp_parse(b, n, &m);
	if (why)
		goto drop;
	st->stats.icmp_rx++;
	switch (m.type) {
	case ICMP_ECHO_REQUEST:
		st->stats.icmp_echo_rx++;
		/* RFC 1122 3.2.2.6 allows silence for broadcast echo; we keep it. */
		if (ip->dst != st->ip) {
			why = XS_DROP_ICMP_BCAST;
			goto drop;
		}
		icmp_echo_reply(st, ip, &m);
		return;
	case ICMP_ECHO_REPLY:
		st->stats.icmp_echo_reply_rx++;
		p = icmp_ping_find(st, (uint16_t)(m.rest >> 16), &h);
		if (!p) {
			why = XS_DROP_ICMP_ERR_NOSOCK;
			goto drop;
		}
		{
			struct xs_ping_result r = {
				.from = ip->src, .seq = (uint16_t)m.rest, .bytes = (uint16_t)n,
				.ttl = ip->ttl,
			};
			icmp_ping_raise(st, h, &r);
		}
		return;
	case ICMP_DEST_UNREACH:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAM_PROBLEM:
		st->stats.icmp_err_rx++;
		icmp_error_dispatch(st, ip->src, m.type, m.code, m.data, m.data_len, false);
		return;
	default:
		/* Source quench (RFC 6633), redirects (a host may ignore), the rest. */
		why = XS_DROP_ICMP_TYPE;
		break;
	}
drop:
	xs_drop(st, why);
}

int ping_open(struct xs_stack *st, xs_ping_cb cb, void *ctx, uint32_t *gen)
{
	int i, tries;

	if (!cb)
		return -EINVAL;
	for (i = 0; i < ICMP_MAX_PINGS; i++) {
		struct ping_sock *p = &st->icmp.ping[i];
		int h;

		if (p->used)
			continue;
		/* An unpredictable identifier, unique among our ping handles. */
		for (tries = 0; tries < 64; tries++) {
			p->id = mq_ping_id(st, xs_random(st)); /* replies come to us */
			if (!icmp_ping_find(st, p->id, &h))
				break;
		}
		p->used = 1;
		if (!++p->gen)
			p->gen = 1;
		p->cb = cb;
		p->ctx = ctx;
		*gen = p->gen;
		return i;
	}
	return -EMFILE;
}

int ping_send(struct xs_stack *st, int h, uint32_t dst, uint16_t seq, size_t data_len)
{
	struct icmp_repr m = { .type = ICMP_ECHO_REQUEST };
	uint8_t *data;
	size_t i;
	int err;

	if (h < 0 || h >= ICMP_MAX_PINGS || !st->icmp.ping[h].used)
		return -EBADF;
	if (data_len > 65507 || !dst)
		return -EINVAL;
	/* The pattern sits past the header in the scratch area; icmp_emit
	 * moves it into place (memmove-safe) or into the frame. */
	data = st->scratch + XS_SCRATCH_LEN - data_len;
	for (i = 0; i < data_len; i++)
		data[i] = (uint8_t)i;
	m.rest = (uint32_t)st->icmp.ping[h].id << 16 | seq;
	m.data = data;
	m.data_len = data_len;
	err = icmp_send(st, dst, 0, &m);
	if (!err) {
		st->stats.icmp_tx++;
		st->stats.icmp_echo_tx++;
	}
	return err;
}

int ping_close(struct xs_stack *st, int h)
{
	if (h < 0 || h >= ICMP_MAX_PINGS || !st->icmp.ping[h].used)
		return -EBADF;
	st->icmp.ping[h].used = 0;
	return 0;
}

int ping_poll_events(const struct xs_stack *st, int h)
{
	const struct icmp_state *s = &st->icmp;
	unsigned i;

	if (h < 0 || h >= ICMP_MAX_PINGS || !s->ping[h].used)
		return -EBADF;
	/* Results wait in the queue for the next poll's callbacks. */
	for (i = 0; i < s->pq_len; i++) {
		const struct ping_event *e = &s->pq[(s->pq_head + i) % ICMP_PING_QUEUE];

		if (e->h == h && e->gen == s->ping[h].gen)
			return XS_EV_READABLE | XS_EV_WRITABLE;
	}
	return XS_EV_WRITABLE;
}
