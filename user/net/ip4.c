/* IPv4 host behaviour (RFC 791, RFC 1122 3.2.1): validate every received
 * header against the frame, reassemble, demux; route, resolve, fragment on output. */
#include <errno.h>
#include <string.h>

#include "core/mq.h"
#include "core/stack.h"
#include "net/arp.h"
#include "net/dhcp_stack.h"
#include "net/filter.h"
#include "net/frag.h"
#include "net/icmp.h"
#include "net/iface.h"
#include "net/ip4.h"
#include "net/udp.h"
#include "tcp/tcp.h"
#include "wire/eth.h"
#include "wire/icmp.h"

int ip4_is_broadcast(const struct xs_stack *st, uint32_t a)
{
	return a == 0xffffffffu || (st->netmask != 0xffffffffu && a == st->bcast);
}

void ip4_input(struct xs_stack *st, const struct eth_repr *eth, const uint8_t *b, size_t n)
{
	struct ip4_repr ip;
	enum xs_drop why;
	uint64_t meta;

	(void)eth;
	why = ip4_parse(b, n, &ip);
	if (why) {
		xs_drop(st, why);
		return;
	}
	st->stats.ip_rx++;
	/* The XDP program's filter verdict holds for a whole datagram only. */
	meta = ip4_is_fragment(&ip) ? 0 : st->rx_meta;
	/* Multi-queue: a packet of another queue's stack goes there (fragments
	 * once reassembled: only the first one has ports). */
	if (st->mq && !ip4_is_fragment(&ip) && mq_handoff(st, &ip, b, meta))
		return;
	ip4_receive(st, &ip, b, meta, false);
}

void ip4_receive(struct xs_stack *st, const struct ip4_repr *ip_in, const uint8_t *b,
		 uint64_t meta, bool filtered)
{
	struct ip4_repr ip = *ip_in;
	enum xs_drop why;

	/* DHCP replies, before the address checks: while unbound (ip 0) they
	 * may be sent to the address on offer (RFC 2131 4.1). The inbound
	 * filter judges them as any other packet (docs/DESIGN.md). */
	if (dhcp_stack_wants(st, &ip, b)) {
		if (filtered || !filter_input(st, &ip, b, meta))
			dhcp_stack_input(st, &ip, b);
		return;
	}
	/* RFC 1122 3.2.1.3: only our address or a broadcast. */
	if (ip.dst != st->ip && !ip4_is_broadcast(st, ip.dst)) {
		why = XS_DROP_IP_DST;
		goto drop;
	}
	/* RFC 1122 3.2.1.3: silently discard martian sources, and our own. */
	if (ip4_is_martian_src(ip.src) || ip4_is_broadcast(st, ip.src) || ip.src == st->ip) {
		why = XS_DROP_IP_SRC;
		goto drop;
	}
	if (ip4_is_fragment(&ip)) {
		st->stats.ip_frag_rx++;
		b = frag_input(st, &ip, b);
		if (!b)
			return;
		st->stats.ip_reassembled++;
		if (st->mq && mq_handoff(st, &ip, b, 0))
			return;
	}
	/* From here b holds ip.total_len bytes: Ethernet padding is left out.
	 * The filter sees whole datagrams, so ports are known for every one
	 * (once: a segment another queue's stack passed on was judged there). */
	if (!filtered && filter_input(st, &ip, b, meta))
		return;
	switch (ip.proto) {
	case IP4_PROTO_ICMP:
		icmp_input(st, &ip, b + ip.hdr_len, ip4_payload_len(&ip));
		return;
	case IP4_PROTO_UDP:
		udp_input(st, &ip, b);
		return;
	case IP4_PROTO_TCP:
		tcp_input(st, &ip, b);
		return;
	default:
		/* RFC 1122 3.2.2.1: protocol unreachable. */
		icmp_send_error(st, ICMP_DEST_UNREACH, 2, 0, b, ip.total_len);
		why = XS_DROP_IP_PROTO;
		break;
	}
drop:
	xs_drop(st, why);
}

uint8_t *ip4_tx_begin(struct xs_stack *st, struct xs_frame *f, size_t *cap)
{
	size_t room;

	if (iface_tx_alloc(st, f) != 0)
		return NULL;
	room = f->cap;
	if (room > (size_t)ETH_HDR_LEN + st->mtu)
		room = (size_t)ETH_HDR_LEN + st->mtu;
	*cap = room - ETH_HDR_LEN - IP4_HDR_LEN;
	return f->data + ETH_HDR_LEN + IP4_HDR_LEN;
}

/* Where a packet to dst goes: 1 with the MAC filled (send now), 0 with
 * *nh set (resolve first), or -EHOSTUNREACH (no route, counted). */
static int ip4_resolve(struct xs_stack *st, uint32_t dst, uint8_t mac[ETH_ADDR_LEN],
		       uint32_t *nh)
{
	if (ip4_is_broadcast(st, dst)) {
		memcpy(mac, eth_broadcast, ETH_ADDR_LEN);
		return 1;
	}
	if (xs_route_lookup(st, dst, nh) != 0) {
		xs_drop(st, XS_DROP_IP_NO_ROUTE);
		return -EHOSTUNREACH;
	}
	return arp_cache_lookup(st, *nh, mac);
}

/* Ethernet header and out, or park a copy for ARP and give the frame back. */
static void ip4_emit_frame(struct xs_stack *st, struct xs_frame *f, size_t len, int resolved,
			   const uint8_t *mac, uint32_t nh)
{
	if (resolved) {
		iface_eth_header(st, f->data, mac, ETH_TYPE_IP4);
		iface_tx_submit(st, f, len);
		return;
	}
	iface_eth_header(st, f->data, eth_broadcast, ETH_TYPE_IP4);
	arp_queue_frame(st, nh, f->data, len);
	xs_dev_tx_abort(st->dev, f);
}

static void ip4_header(struct xs_stack *st, struct ip4_repr *ip, uint32_t dst, uint8_t proto,
		       uint8_t tos)
{
	memset(ip, 0, sizeof(*ip));
	ip->tos = tos;
	ip->id = st->ip_id++;
	ip->ttl = st->cfg.ip_ttl;
	ip->proto = proto;
	ip->src = st->ip;
	ip->dst = dst;
}

int ip4_tx_finish(struct xs_stack *st, struct xs_frame *f, uint32_t dst, uint8_t proto,
		  uint8_t tos, size_t l4len)
{
	struct ip4_repr ip;
	uint8_t mac[ETH_ADDR_LEN];
	uint32_t nh = 0;
	int r;

	if (IP4_HDR_LEN + l4len > st->mtu) {
		xs_dev_tx_abort(st->dev, f);
		xs_drop(st, XS_DROP_TX_TOO_BIG);
		return -EMSGSIZE;
	}
	r = filter_output(st, dst, proto, f->data + ETH_HDR_LEN + IP4_HDR_LEN, l4len);
	if (r == 0)
		r = ip4_resolve(st, dst, mac, &nh);
	if (r < 0) {
		xs_dev_tx_abort(st->dev, f);
		return r;
	}
	ip4_header(st, &ip, dst, proto, tos);
	ip.total_len = (uint16_t)(IP4_HDR_LEN + l4len);
	ip4_emit(&ip, f->data + ETH_HDR_LEN, IP4_HDR_LEN);
	st->stats.ip_tx++;
	ip4_emit_frame(st, f, ETH_HDR_LEN + IP4_HDR_LEN + l4len, r, mac, nh);
	return 0;
}

int ip4_send(struct xs_stack *st, uint32_t dst, uint8_t proto, uint8_t tos, const uint8_t *buf,
	     size_t len)
{
	/* Every fragment but the last carries a multiple of 8 bytes. */
	size_t per = ((size_t)st->mtu - IP4_HDR_LEN) & ~(size_t)7, off;
	uint8_t mac[ETH_ADDR_LEN];
	struct ip4_repr ip;
	uint32_t nh = 0;
	int r;

	if (len > 0xffff - IP4_HDR_LEN) {
		xs_drop(st, XS_DROP_TX_TOO_BIG);
		return -EMSGSIZE;
	}
	r = filter_output(st, dst, proto, buf, len);
	if (r == 0)
		r = ip4_resolve(st, dst, mac, &nh);
	if (r < 0)
		return r;
	ip4_header(st, &ip, dst, proto, tos);
	st->stats.ip_tx++;
	for (off = 0; off < len || off == 0; off += per) {
		size_t chunk = len - off < per ? len - off : per;
		struct xs_frame f;

		if (iface_tx_alloc(st, &f) != 0)
			return -ENOBUFS;
		if (ETH_HDR_LEN + IP4_HDR_LEN + chunk > f.cap) {
			xs_dev_tx_abort(st->dev, &f);
			xs_drop(st, XS_DROP_TX_TOO_BIG);
			return -EMSGSIZE;
		}
		ip.frag = (uint16_t)(off / 8) | (off + chunk < len ? IP4_FLAG_MF : 0);
		ip.total_len = (uint16_t)(IP4_HDR_LEN + chunk);
		ip4_emit(&ip, f.data + ETH_HDR_LEN, IP4_HDR_LEN);
		memcpy(f.data + ETH_HDR_LEN + IP4_HDR_LEN, buf + off, chunk);
		if (ip.frag)
			st->stats.ip_frag_tx++;
		ip4_emit_frame(st, &f, ETH_HDR_LEN + IP4_HDR_LEN + chunk, r, mac, nh);
		if (len == 0)
			break;
	}
	return 0;
}
