/* ICMPv6 (RFC 4443): echo both ways, errors under 2.4's rules and a token
 * bucket, errors received routed to their socket, Packet Too Big to the PMTU
 * cache (RFC 8201), and the Neighbor Discovery messages handed to nd.c/slaac.c. */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "net/icmp.h"
#include "core/mq.h"
#include "net6/ip6.h"
#include "net6/mld.h"
#include "net6/nd.h"
#include "net6/up6.h"
#include "wire/bytes.h"
#include "wire/mld.h"
#include "wire/ndp.h"

/* The error bucket: the ICMPv4 budget (icmp_rate, icmp_burst), a bucket of
 * its own, credit in billionths of a token (net/icmp.c says why). */
static bool icmp6_take_token(struct xs_stack *st)
{
	return icmp_bucket_take(st, &st->ip6->tokens, &st->ip6->refilled);
}

/* Sends an ICMPv6 message from src to dst, fragmented past the path MTU. */
static int icmp6_xmit(struct xs_stack *st, const struct ip6_addr *src, const struct ip6_addr *dst,
		      const struct icmp6_repr *m)
{
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, len;

	if (ICMP6_HDR_LEN + m->data_len <= ip6_mtu_room(st, dst)) {
		l4 = ip6_tx_begin(st, dst, &f, &cap);
		if (!l4)
			return -ENOBUFS;
		len = icmp6_emit(m, src, dst, l4, cap);
		return ip6_tx_finish(st, &f, src, dst, NULL, IP6_NH_ICMP6, 0, 0, len);
	}
	len = icmp6_emit(m, src, dst, st->scratch, XS_SCRATCH_LEN);
	if (!len)
		return -EMSGSIZE;
	return ip6_send(st, src, dst, IP6_NH_ICMP6, 0, 0, st->scratch, len);
}

void icmp6_send_error(struct xs_stack *st, uint8_t type, uint8_t code, uint32_t param,
		      const uint8_t *pkt, size_t pkt_len, bool mcast_ok)
{
	struct icmp6_repr m = {.type = type, .code = code, .rest = param};
	struct ip6_addr osrc, odst, src;
	struct icmp6_quote q;

	if (pkt_len < IP6_HDR_LEN || pkt[0] >> 4 != 6)
		return;
	memcpy(osrc.b, pkt + 8, IP6_ADDR_LEN);
	memcpy(odst.b, pkt + 24, IP6_ADDR_LEN);
	/* RFC 4443 2.4 (e): never about an ICMPv6 error or a redirect... */
	if (icmp6_quote_parse(pkt, pkt_len, &q) == XS_DROP_NONE && q.proto == IP6_NH_ICMP6 &&
	    (icmp6_is_error(q.l4[0]) || q.l4[0] == ICMP6_ND_REDIRECT))
		return;
	/* ...about a packet to multicast, but for the two exceptions (e.3)... */
	if (ip6_is_multicast(&odst) && !mcast_ok)
		return;
	/* ...nor to a source that names no single node (e.6). */
	if (ip6_is_unspecified(&osrc) || ip6_is_multicast(&osrc))
		return;
	/* (f): rate limited. */
	if (!icmp6_take_token(st)) {
		xs_drop(st, XS_DROP_ICMP6_RATE);
		return;
	}
	/* From the address the packet was sent to, if it is ours. */
	if (ip6_addr_usable(st, &odst))
		src = odst;
	else if (ip6_select_src(st, &osrc, &src) != 0)
		return;
	/* (c): as much of the packet as fits the minimum MTU. */
	m.data = pkt;
	m.data_len = pkt_len < ICMP6_QUOTE_MAX ? pkt_len : ICMP6_QUOTE_MAX;
	if (icmp6_xmit(st, &src, &osrc, &m) == 0) {
		st->stats.icmp6_tx++;
		st->stats.icmp6_err_tx++;
	}
}

static int icmp6_errno(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP6_PKT_TOO_BIG:
		return -EMSGSIZE;
	case ICMP6_TIME_EXCEEDED:
		return -ETIMEDOUT;
	case ICMP6_PARAM_PROB:
		return -EPROTO;
	default: /* destination unreachable, RFC 4443 3.1 */
		switch (code) {
		case 0:
			return -ENETUNREACH;
		case 1:
		case 5:
		case 6:
			return -EACCES;
		case 4:
			return -ECONNREFUSED;
		default:
			return -EHOSTUNREACH;
		}
	}
}

/* An error quoting a packet of ours: its socket hears it; a Packet Too Big
 * lowers the path MTU first (RFC 8201 4). */
static void icmp6_error_dispatch(struct xs_stack *st, const struct ip6_addr *from, uint8_t type,
				 uint8_t code, uint32_t rest, const uint8_t *inner, size_t n,
				 bool local)
{
	int err = icmp6_errno(type, code), h;
	struct icmp6_quote q;
	struct ping_sock *p;

	if (icmp6_quote_parse(inner, n, &q) || !ip6_addr_usable(st, &q.src)) {
		xs_drop(st, XS_DROP_ICMP6_ERR_BAD);
		return;
	}
	if (type == ICMP6_PKT_TOO_BIG) {
		/* RFC 8201 4: never below the minimum MTU; RFC 8021 deprecates
		 * the atomic fragments that such a message once asked for. */
		if (rest < IP6_MIN_MTU) {
			xs_drop(st, XS_DROP_ICMP6_PTB_SMALL);
			return;
		}
		if (pmtu_update(st, &q.dst, rest))
			st->stats.ip6_pmtu_updates++;
	}
	switch (q.proto) {
	case IP6_NH_UDP:
	case IP6_NH_TCP:
		if (up6_icmp_error(st, &q, type, err) == 0)
			return;
		break;
	case IP6_NH_ICMP6:
		if (q.l4[0] == ICMP6_ECHO_REQUEST &&
		    (p = icmp_ping_find(st, ld_be16(q.l4 + 4), &h))) {
			struct xs_ping_result r = {
			    .seq = ld_be16(q.l4 + 6),
			    .error = err,
			    .icmp_type = type,
			    .icmp_code = code,
			};

			xs_addr_from_ip6(&r.from_addr, from->b);
			icmp_ping_raise(st, h, &r);
			return;
		}
		break;
	default:
		break;
	}
	/* A Packet Too Big did its work on the cache even with no socket. */
	if (!local && type != ICMP6_PKT_TOO_BIG)
		xs_drop(st, XS_DROP_ICMP_ERR_NOSOCK);
}

void icmp6_local_error(struct xs_stack *st, uint8_t type, uint8_t code, const uint8_t *pkt,
		       size_t pkt_len)
{
	struct ip6_addr self;

	if (pkt_len < IP6_HDR_LEN)
		return;
	memcpy(self.b, pkt + 8, IP6_ADDR_LEN);
	icmp6_error_dispatch(st, &self, type, code, 0, pkt, pkt_len, true);
}

static void icmp6_echo_reply(struct xs_stack *st, const struct ip6_repr *ip,
			     const struct icmp6_repr *req)
{
	struct icmp6_repr rep = *req;
	struct ip6_addr src;

	rep.type = ICMP6_ECHO_REPLY;
	rep.code = 0;
	/* RFC 4443 4.2: from the address the request was sent to. */
	if (ip6_addr_usable(st, &ip->dst))
		src = ip->dst;
	else if (ip6_select_src(st, &ip->src, &src) != 0)
		return;
	if (icmp6_xmit(st, &src, &ip->src, &rep) == 0) {
		st->stats.icmp6_tx++;
		st->stats.icmp6_echo_reply_tx++;
	}
}

/* Which stacks of a group a valid NDP message this one received is copied
 * to (core/mq.c), judged before it is taken: every stack when it teaches a
 * neighbour's link-layer address (an NS for one of our addresses or an RA
 * with a SLL; an NA, which may answer any stack's resolution), else stack 0
 * alone, which answers, runs DAD and SLAAC and whose addresses a follower's
 * copy may lag (a flood of solicitations for other targets costs the group
 * one copy each from a follower, none from stack 0). */
static enum mq_nd_to icmp6_nd_scope(const struct xs_stack *st, const struct ndp_repr *nd)
{
	switch (nd->type) {
	case ICMP6_ND_NS:
		return nd->has_sll && ip6_addr_usable(st, &nd->target) ? MQ_ND_ALL : MQ_ND_OWNER;
	case ICMP6_ND_NA:
		return ip6_addr_find(st, &nd->target) >= 0 ? MQ_ND_OWNER : MQ_ND_ALL;
	default:
		return nd->has_sll ? MQ_ND_ALL : MQ_ND_OWNER;
	}
}

/* replica: a copy another queue's stack took (mq6.c). Returns which stacks
 * of the group learn from it (MQ_ND_NONE: not valid neighbor discovery). */
static enum mq_nd_to icmp6_nd_input(struct xs_stack *st, const struct ip6_repr *ip,
				    const struct icmp6_repr *m, bool replica)
{
	struct ndp_repr nd;
	enum mq_nd_to to;
	enum xs_drop why;

	why = ndp_parse(m, ip->hop_limit, &ip->src, &ip->dst, &nd);
	if (why) {
		if (!replica)
			xs_drop(st, why);
		return MQ_ND_NONE;
	}
	to = icmp6_nd_scope(st, &nd);
	switch (m->type) {
	case ICMP6_ND_NS:
		nd_ns_input(st, ip, &nd, replica);
		return to;
	case ICMP6_ND_NA:
		nd_na_input(st, ip, &nd, replica);
		return to;
	case ICMP6_ND_RA:
		if (!replica)
			st->stats.nd_ra_rx++;
		slaac_ra_input(st, ip, &nd, replica);
		return to;
	default: /* RFC 4861 6.2.6: a host discards Router Solicitations */
		if (!replica)
			xs_drop(st, XS_DROP_ICMP6_TYPE);
		return MQ_ND_NONE;
	}
}

void icmp6_nd_replica(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt,
		      size_t l4_off, size_t len)
{
	struct icmp6_repr m;

	if (icmp6_parse(pkt + l4_off, len - l4_off, &ip->src, &ip->dst, &m) == XS_DROP_NONE &&
	    (m.type == ICMP6_ND_NS || m.type == ICMP6_ND_NA || m.type == ICMP6_ND_RA))
		icmp6_nd_input(st, ip, &m, true);
}

void icmp6_input(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *pkt, size_t l4_off,
		 size_t len)
{
	struct icmp6_repr m;
	struct ping_sock *p;
	enum mq_nd_to to;
	enum xs_drop why;
	int h;

	why = icmp6_parse(pkt + l4_off, len - l4_off, &ip->src, &ip->dst, &m);
	if (why)
		goto drop;
	st->stats.icmp6_rx++;
	switch (m.type) {
	case ICMP6_ECHO_REQUEST:
		st->stats.icmp6_echo_rx++;
		icmp6_echo_reply(st, ip, &m);
		return;
	case ICMP6_ECHO_REPLY:
		st->stats.icmp6_echo_reply_rx++;
		p = icmp_ping_find(st, (uint16_t)(m.rest >> 16), &h);
		if (!p) {
			why = XS_DROP_ICMP_ERR_NOSOCK;
			goto drop;
		}
		{
			struct xs_ping_result r = {
			    .seq = (uint16_t)m.rest,
			    .bytes = (uint16_t)(len - l4_off),
			    .ttl = ip->hop_limit,
			};

			xs_addr_from_ip6(&r.from_addr, ip->src.b);
			icmp_ping_raise(st, h, &r);
		}
		return;
	case ICMP6_DST_UNREACH:
	case ICMP6_PKT_TOO_BIG:
	case ICMP6_TIME_EXCEEDED:
	case ICMP6_PARAM_PROB:
		st->stats.icmp6_err_rx++;
		icmp6_error_dispatch(st, &ip->src, m.type, m.code, m.rest, m.data, m.data_len,
				     false);
		return;
	case ICMP6_ND_RS:
	case ICMP6_ND_RA:
	case ICMP6_ND_NS:
	case ICMP6_ND_NA:
		/* Multi-queue: the other stacks learn from what one hears (as
		 * ARP); stack 0 runs DAD and SLAAC on the copies too (mq6.c). */
		to = icmp6_nd_input(st, ip, &m, false);
		if (to != MQ_ND_NONE && st->mq)
			mq_replicate_nd(st, pkt, len, to);
		return;
	case MLD_QUERY:
		mld_query_input(st, ip, &m);
		return;
	default:
		/* Redirects (a host may ignore them, RFC 4861 8.3 leaves it to
		 * configuration), MLD reports (a listener ignores them, RFC
		 * 3810 6.3 is a router's), unknown informational
		 * messages (RFC 4443 2.4 (b): discarded). */
		why = XS_DROP_ICMP6_TYPE;
		break;
	}
drop:
	xs_drop(st, why);
}

int ping_send_addr(struct xs_stack *st, int h, const struct xs_addr *dst, uint16_t seq,
		   size_t data_len)
{
	struct icmp6_repr m = {.type = ICMP6_ECHO_REQUEST};
	struct ip6_addr d, src;
	uint8_t *data;
	size_t i;
	int err;

	if (!dst)
		return -EINVAL;
	if (dst->family == XS_AF_INET4)
		return ping_send(st, h, xs_addr_ip4(dst), seq, data_len);
	if (h < 0 || h >= ICMP_MAX_PINGS || !st->icmp.ping[h].used)
		return -EBADF;
	if (dst->family != XS_AF_INET6 || data_len > 0xffff - IP6_FRAG_HDR_LEN - ICMP6_HDR_LEN)
		return -EINVAL;
	memcpy(d.b, dst->a, IP6_ADDR_LEN);
	/* As tcp_connect_addr: the stack has no loopback, so its own
	 * addresses (and ::1) would only be solicited on the wire, for ever. */
	if (ip6_is_unspecified(&d) || ip6_is_v4mapped(&d) || ip6_is_loopback(&d) ||
	    ip6_addr_find(st, &d) >= 0)
		return -EINVAL;
	if (ip6_select_src(st, &d, &src) != 0)
		return -EADDRNOTAVAIL;
	data = st->scratch + XS_SCRATCH_LEN - data_len;
	for (i = 0; i < data_len; i++)
		data[i] = (uint8_t)i;
	m.rest = (uint32_t)st->icmp.ping[h].id << 16 | seq;
	m.data = data;
	m.data_len = data_len;
	err = icmp6_xmit(st, &src, &d, &m);
	if (!err) {
		st->stats.icmp6_tx++;
		st->stats.icmp6_echo_tx++;
	}
	return err;
}
