/* ICMPv4 (RFC 792, RFC 1122 3.2.2): answer echo requests to our address with
 * the identifier, sequence and data unchanged; count what we do not handle. */
#include "core/stack.h"
#include "net/icmp.h"
#include "net/ip4.h"
#include "wire/icmp.h"

static void icmp_echo_reply(struct xs_stack *st, const struct ip4_repr *ip,
			    const struct icmp_repr *req)
{
	struct icmp_repr rep = *req;
	struct xs_frame f;
	uint8_t *l4;
	size_t cap, len;

	l4 = ip4_tx_begin(st, &f, &cap);
	if (!l4)
		return;
	rep.type = ICMP_ECHO_REPLY;
	rep.code = 0;
	len = icmp_emit(&rep, l4, cap);
	if (!len) {
		xs_dev_tx_abort(st->dev, &f);
		xs_drop(st, XS_DROP_TX_TOO_BIG);
		return;
	}
	/* RFC 1122 3.2.2.6: the reply goes back to the requester; keep its TOS. */
	if (ip4_tx_finish(st, &f, ip->src, IP4_PROTO_ICMP, ip->tos, len) == 0) {
		st->stats.icmp_tx++;
		st->stats.icmp_echo_reply_tx++;
	}
}

void icmp_input(struct xs_stack *st, const struct ip4_repr *ip, const uint8_t *b, size_t n)
{
	struct icmp_repr m;
	enum xs_drop why;

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
	default:
		why = XS_DROP_ICMP_TYPE;
		break;
	}
drop:
	xs_drop(st, why);
}
