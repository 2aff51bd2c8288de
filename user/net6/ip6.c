/* IPv6 host input and output (RFC 8200): validate the header and the chain of
 * extension headers, demux; choose source, route, resolve, fragment on output. */
#include <errno.h>
#include <string.h>

#include "core/mq.h"
#include "core/stack.h"
#include "net/iface.h"
#include "net6/frag6.h"
#include "net6/ip6.h"
#include "net6/mq6.h"
#include "net6/nd.h"
#include "net6/up6.h"
#include "wire/bytes.h"
#include "wire/eth.h"

/* Multicast we listen to: all-nodes, and the solicited-node group of an
 * address we hold (tentative ones too: DAD listens there, RFC 4862 5.4.2). */
static bool ip6_mcast_ours(const struct xs_stack *st, const struct ip6_addr *a)
{
	struct ip6_addr sn;
	int i;

	if (ip6_eq(a, &ip6_all_nodes))
		return true;
	if (!ip6_is_solicited_node(a))
		return false;
	for (i = 0; i < IP6_MAX_ADDRS; i++) {
		const struct ip6_ifaddr *x = &st->ip6->addr[i];

		if (x->state == IP6A_FREE || x->state == IP6A_DUPLICATE)
			continue;
		ip6_solicited_node(&x->a, &sn);
		if (ip6_eq(&sn, a))
			return true;
	}
	return false;
}

/* ICMPv6 type at the upper-layer offset, or -1. */
static int ip6_icmp_type(const uint8_t *b, size_t len, const struct ip6_walk *w)
{
	if (w->proto != IP6_NH_ICMP6 || (size_t)w->l4_off + 1 > len)
		return -1;
	return b[w->l4_off];
}

void ip6_input(struct xs_stack *st, const struct eth_repr *eth, const uint8_t *b, size_t n)
{
	struct ip6_repr ip;
	struct ip6_walk w;
	enum xs_drop why;
	bool mcast, tentative = false, frag = false;
	size_t len;
	int i, t;

	(void)eth;
	if (!st->ip6) {
		why = XS_DROP_ETH_TYPE;
		goto drop;
	}
	why = ip6_parse(b, n, &ip);
	if (why)
		goto drop;
	st->stats.ip6_rx++;
	len = IP6_HDR_LEN + (size_t)ip.payload_len; /* Ethernet padding left out */
	mcast = ip6_is_multicast(&ip.dst);
	if (mcast) {
		if (!ip6_mcast_ours(st, &ip.dst)) {
			why = XS_DROP_IP6_DST;
			goto drop;
		}
	} else {
		i = ip6_addr_find(st, &ip.dst);
		if (i < 0 || st->ip6->addr[i].state == IP6A_DUPLICATE) {
			why = XS_DROP_IP6_DST;
			goto drop;
		}
		tentative = st->ip6->addr[i].state == IP6A_TENTATIVE;
	}
	/* RFC 4291 2.5.2, 2.7; RFC 4038 4.2: never a source; our own is a loop
	 * (a tentative one is not ours yet: its holder defends it from it). */
	if (ip6_is_multicast(&ip.src) || ip6_is_loopback(&ip.src) || ip6_is_v4mapped(&ip.src) ||
	    ip6_addr_usable(st, &ip.src)) {
		why = XS_DROP_IP6_SRC;
		goto drop;
	}
	why = ip6_walk(b, len, mcast, &w);
	if (why) {
		if (w.icmp_code != IP6_NO_ICMP && !tentative)
			icmp6_send_error(st, ICMP6_PARAM_PROB, w.icmp_code, w.icmp_ptr, b, len,
					 w.icmp_code == 2);
		goto drop;
	}
	t = ip6_icmp_type(b, len, &w);
	/* RFC 4862 5.4: a tentative address hears only neighbor discovery; the
	 * unspecified source is DAD's and belongs to NDP alone. */
	if ((tentative || ip6_is_unspecified(&ip.src)) && t != ICMP6_ND_NS && t != ICMP6_ND_NA &&
	    t != ICMP6_ND_RS) {
		why = tentative ? XS_DROP_IP6_DST : XS_DROP_IP6_SRC;
		goto drop;
	}
	if (w.atomic)
		st->stats.ip6_atomic_frag++;
	if (w.proto == IP6_NH_FRAGMENT) {
		frag = true;
		st->stats.ip6_frag_rx++;
		b = frag6_input(st, &ip, b, len, &w);
		if (!b)
			return;
		st->stats.ip6_reassembled++;
		len = IP6_HDR_LEN + (size_t)ip.payload_len;
		t = ip6_icmp_type(b, len, &w);
	}
	/* RFC 6980 5: neighbor discovery never travels in fragments (that is
	 * how an RA slips past a switch's RA Guard), atomic ones included. */
	if ((w.atomic || frag) && t >= ICMP6_ND_RS && t <= ICMP6_ND_REDIRECT) {
		why = XS_DROP_ND_FRAG;
		goto drop;
	}
	switch (w.proto) {
	case IP6_NH_ICMP6:
	case IP6_NH_UDP:
	case IP6_NH_TCP:
		break;
	case IP6_NH_NONE: /* RFC 8200 4.7: nothing follows, nothing to say */
		why = XS_DROP_IP_PROTO;
		goto drop;
	default:
		/* RFC 8200 4: an unrecognized Next Header, pointed at. */
		icmp6_send_error(st, ICMP6_PARAM_PROB, 1, w.nh_off, b, len, false);
		why = XS_DROP_IP6_NEXT_HDR;
		goto drop;
	}
	/* Multi-queue: a packet of another queue's stack goes there, whole
	 * (core/mq.c: by port or echo identifier, as IPv4's). */
	if (st->mq) {
		struct mq_pkt mp = {.ip6 = &ip,
				    .pkt = b,
				    .len = (uint32_t)len,
				    .l4_off = w.l4_off,
				    .proto = w.proto,
				    .mcast = mcast};

		if (mq_handoff6(st, &mp))
			return;
	}
	ip6_deliver(st, &ip, b, w.l4_off, len, w.proto, mcast);
	return;
drop:
	xs_drop(st, why);
}

void ip6_deliver(struct xs_stack *st, const struct ip6_repr *ip, const uint8_t *b, size_t l4_off,
		 size_t len, uint8_t proto, bool mcast)
{
	enum xs_drop why;

	if (!st->ip6) {
		why = XS_DROP_ETH_TYPE;
		goto drop;
	}
	switch (proto) {
	case IP6_NH_ICMP6:
		icmp6_input(st, ip, b, l4_off, len);
		return;
	case IP6_NH_UDP:
	case IP6_NH_TCP:
		up6_input(st, ip, b, l4_off, len, proto, mcast);
		return;
	default: /* ip6_input sent only these */
		why = XS_DROP_IP6_NEXT_HDR;
		break;
	}
drop:
	xs_drop(st, why);
}

size_t ip6_mtu_room(const struct xs_stack *st, const struct ip6_addr *dst)
{
	unsigned mtu = ip6_is_multicast(dst) ? st->ip6->link_mtu : pmtu_get(st, dst);

	return mtu - IP6_HDR_LEN;
}

uint8_t *ip6_tx_begin(struct xs_stack *st, const struct ip6_addr *dst, struct xs_frame *f,
		      size_t *cap)
{
	size_t room;

	if (iface_tx_alloc(st, f) != 0)
		return NULL;
	room = f->cap - ETH_HDR_LEN - IP6_HDR_LEN;
	if (room > ip6_mtu_room(st, dst))
		room = ip6_mtu_room(st, dst);
	*cap = room;
	return f->data + ETH_HDR_LEN + IP6_HDR_LEN;
}

int ip6_route(struct xs_stack *st, const struct ip6_addr *dst, struct ip6_addr *nh)
{
	const struct route6 *best = NULL;
	unsigned i;

	/* RFC 4861 5.2: link-local destinations are on-link. */
	if (ip6_is_linklocal(dst)) {
		*nh = *dst;
		return 0;
	}
	for (i = 0; i < st->ip6->nrt; i++) {
		const struct route6 *r = &st->ip6->rt[i];

		if (ip6_prefix_eq(&r->dst, dst, r->plen) && (!best || r->plen > best->plen))
			best = r;
	}
	/* RFC 5942: off-link unless a prefix or a route says otherwise. */
	if (!best) {
		xs_drop(st, XS_DROP_IP_NO_ROUTE);
		return -ENETUNREACH;
	}
	*nh = ip6_is_unspecified(&best->gw) ? *dst : best->gw;
	return 0;
}

/* The header, the Ethernet header, and out or to neighbor discovery. */
static int ip6_emit_frame(struct xs_stack *st, struct xs_frame *f, const struct ip6_repr *ip,
			  const struct ip6_addr *nh, size_t len)
{
	uint8_t mac[ETH_ADDR_LEN];

	ip6_emit(ip, f->data + ETH_HDR_LEN, IP6_HDR_LEN);
	if (ip6_is_multicast(&ip->dst)) {
		ip6_mcast_mac(&ip->dst, mac);
		iface_eth_header(st, f->data, mac, ETH_TYPE_IP6);
		iface_tx_submit(st, f, len);
		return 0;
	}
	iface_eth_header(st, f->data, eth_broadcast, ETH_TYPE_IP6);
	return nd_output(st, nh, f, len);
}

static void ip6_header(struct xs_stack *st, struct ip6_repr *ip, const struct ip6_addr *src,
		       const struct ip6_addr *dst, uint8_t proto, uint8_t tclass, uint8_t hop_limit)
{
	memset(ip, 0, sizeof(*ip));
	ip->tclass = tclass;
	ip->next_hdr = proto;
	ip->hop_limit = hop_limit ? hop_limit : st->ip6->hop_limit;
	ip->src = *src;
	ip->dst = *dst;
}

int ip6_tx_finish(struct xs_stack *st, struct xs_frame *f, const struct ip6_addr *src,
		  const struct ip6_addr *dst, const struct ip6_addr *nh, uint8_t proto,
		  uint8_t tclass, uint8_t hop_limit, size_t l4len)
{
	struct ip6_addr hop;
	struct ip6_repr ip;
	int err;

	if (IP6_HDR_LEN + l4len > st->mtu) {
		xs_dev_tx_abort(st->dev, f);
		xs_drop(st, XS_DROP_TX_TOO_BIG);
		return -EMSGSIZE;
	}
	if (!nh && !ip6_is_multicast(dst)) {
		err = ip6_route(st, dst, &hop);
		if (err) {
			xs_dev_tx_abort(st->dev, f);
			return err;
		}
		nh = &hop;
	}
	ip6_header(st, &ip, src, dst, proto, tclass, hop_limit);
	ip.payload_len = (uint16_t)l4len;
	st->stats.ip6_tx++;
	return ip6_emit_frame(st, f, &ip, nh, ETH_HDR_LEN + IP6_HDR_LEN + l4len);
}

int ip6_tx_finish_mac(struct xs_stack *st, struct xs_frame *f, const struct ip6_addr *src,
		      const struct ip6_addr *dst, const uint8_t mac[6], uint8_t proto,
		      uint8_t hop_limit, size_t l4len)
{
	struct ip6_repr ip;

	if (IP6_HDR_LEN + l4len > st->mtu) {
		xs_dev_tx_abort(st->dev, f);
		xs_drop(st, XS_DROP_TX_TOO_BIG);
		return -EMSGSIZE;
	}
	ip6_header(st, &ip, src, dst, proto, 0, hop_limit);
	ip.payload_len = (uint16_t)l4len;
	ip6_emit(&ip, f->data + ETH_HDR_LEN, IP6_HDR_LEN);
	iface_eth_header(st, f->data, mac, ETH_TYPE_IP6);
	st->stats.ip6_tx++;
	iface_tx_submit(st, f, ETH_HDR_LEN + IP6_HDR_LEN + l4len);
	return 0;
}

int ip6_send(struct xs_stack *st, const struct ip6_addr *src, const struct ip6_addr *dst,
	     uint8_t proto, uint8_t tclass, uint8_t hop_limit, const uint8_t *buf, size_t len)
{
	size_t room = ip6_mtu_room(st, dst), per, off;
	struct ip6_addr hop, *nh = NULL;
	struct ip6_frag fh = {.next_hdr = proto};
	struct ip6_repr ip;
	struct xs_frame f;
	int err;

	if (len > 0xffff - IP6_FRAG_HDR_LEN) {
		xs_drop(st, XS_DROP_TX_TOO_BIG);
		return -EMSGSIZE;
	}
	if (len <= room) {
		uint8_t *l4 = ip6_tx_begin(st, dst, &f, &room);

		if (!l4)
			return -ENOBUFS;
		memcpy(l4, buf, len);
		return ip6_tx_finish(st, &f, src, dst, NULL, proto, tclass, hop_limit, len);
	}
	if (!ip6_is_multicast(dst)) {
		err = ip6_route(st, dst, &hop);
		if (err)
			return err;
		nh = &hop;
	}
	/* RFC 8200 4.5: fragments of a multiple of 8 bytes but the last, one
	 * unpredictable identification (RFC 7739) for all of them. */
	per = (room - IP6_FRAG_HDR_LEN) & ~(size_t)7;
	fh.id = (uint32_t)xs_random(st);
	ip6_header(st, &ip, src, dst, IP6_NH_FRAGMENT, tclass, hop_limit);
	st->stats.ip6_tx++;
	for (off = 0; off < len; off += per) {
		size_t chunk = len - off < per ? len - off : per;
		uint8_t *p;

		if (iface_tx_alloc(st, &f) != 0)
			return -ENOBUFS;
		if (ETH_HDR_LEN + IP6_HDR_LEN + IP6_FRAG_HDR_LEN + chunk > f.cap) {
			xs_dev_tx_abort(st->dev, &f);
			xs_drop(st, XS_DROP_TX_TOO_BIG);
			return -EMSGSIZE;
		}
		p = f.data + ETH_HDR_LEN + IP6_HDR_LEN;
		fh.offset = (uint16_t)off;
		fh.more = off + chunk < len;
		ip6_frag_emit(&fh, p, IP6_FRAG_HDR_LEN);
		memcpy(p + IP6_FRAG_HDR_LEN, buf + off, chunk);
		ip.payload_len = (uint16_t)(IP6_FRAG_HDR_LEN + chunk);
		st->stats.ip6_frag_tx++;
		err = ip6_emit_frame(st, &f, &ip, nh,
				     ETH_HDR_LEN + IP6_HDR_LEN + IP6_FRAG_HDR_LEN + chunk);
		if (err)
			return err;
	}
	return 0;
}

int ip6_select_src(const struct xs_stack *st, const struct ip6_addr *dst, struct ip6_addr *src)
{
	/* Link-local scope: the link-local unicast prefix, and multicast of
	 * scope 2 or less (RFC 4291 2.7). */
	bool ll = ip6_is_linklocal(dst) || (ip6_is_multicast(dst) && (dst->b[1] & 0x0f) <= 2);
	int i, best = -1, best_rank = -1;

	if (!st->ip6)
		return -EADDRNOTAVAIL;
	for (i = 0; i < IP6_MAX_ADDRS; i++) {
		const struct ip6_ifaddr *x = &st->ip6->addr[i];
		int rank;

		if (x->state != IP6A_PREFERRED && x->state != IP6A_DEPRECATED)
			continue;
		if (ip6_eq(&x->a, dst)) { /* RFC 6724 5 rule 1 */
			best = i;
			break;
		}
		/* Rule 2, appropriate scope; rule 3, avoid deprecated; rule 8,
		 * longest matching prefix. */
		rank = (ip6_is_linklocal(&x->a) == ll ? 1 << 10 : 0) +
		       (x->state == IP6A_PREFERRED ? 1 << 9 : 0) +
		       (int)ip6_common_prefix(&x->a, dst);
		if (rank > best_rank) {
			best = i;
			best_rank = rank;
		}
	}
	if (best < 0)
		return -EADDRNOTAVAIL;
	*src = st->ip6->addr[best].a;
	return 0;
}
