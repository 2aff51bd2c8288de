/* IPv4 host behaviour (RFC 791, RFC 1122 3.2.1): validate every received
 * header against the frame, demux by protocol; route and resolve on output. */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "net/arp.h"
#include "net/icmp.h"
#include "net/iface.h"
#include "net/ip4.h"
#include "net/udp.h"
#include "wire/eth.h"

int ip4_is_broadcast(const struct xs_stack *st, uint32_t a)
{
	return a == 0xffffffffu || (st->netmask != 0xffffffffu && a == st->bcast);
}

void ip4_input(struct xs_stack *st, const struct eth_repr *eth, const uint8_t *b, size_t n)
{
	struct ip4_repr ip;
	enum xs_drop why;
	const uint8_t *payload;
	size_t plen;

	why = ip4_parse(b, n, &ip);
	if (why)
		goto drop;
	st->stats.ip_rx++;
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
		why = XS_DROP_IP_FRAG;
		goto drop;
	}
	/* Ethernet padding past total_len is trimmed here. */
	payload = b + ip.hdr_len;
	plen = ip4_payload_len(&ip);
	switch (ip.proto) {
	case IP4_PROTO_ICMP:
		icmp_input(st, &ip, payload, plen);
		return;
	case IP4_PROTO_UDP:
		udp_input(st, &ip, payload, plen);
		return;
	default:
		why = XS_DROP_IP_PROTO;
		break;
	}
drop:
	(void)eth;
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

/* The next hop for dst: itself on the connected subnet, else the gateway. */
static int ip4_next_hop(const struct xs_stack *st, uint32_t dst, uint32_t *nh)
{
	if ((dst & st->netmask) == (st->ip & st->netmask)) {
		*nh = dst;
		return 0;
	}
	if (st->cfg.gateway) {
		*nh = st->cfg.gateway;
		return 0;
	}
	return -EHOSTUNREACH;
}

int ip4_tx_finish(struct xs_stack *st, struct xs_frame *f, uint32_t dst, uint8_t proto,
		  uint8_t tos, size_t l4len)
{
	struct ip4_repr ip = {
		.tos = tos,
		.id = st->ip_id++,
		.ttl = IP4_DEFAULT_TTL,
		.proto = proto,
		.src = st->ip,
		.dst = dst,
	};
	uint8_t mac[ETH_ADDR_LEN];
	size_t len = ETH_HDR_LEN + IP4_HDR_LEN + l4len;
	uint32_t nh;

	if (IP4_HDR_LEN + l4len > st->mtu) {
		xs_dev_tx_abort(st->dev, f);
		xs_drop(st, XS_DROP_TX_TOO_BIG);
		return -EMSGSIZE;
	}
	ip.total_len = (uint16_t)(IP4_HDR_LEN + l4len);
	ip4_emit(&ip, f->data + ETH_HDR_LEN, IP4_HDR_LEN);
	st->stats.ip_tx++;
	if (ip4_is_broadcast(st, dst)) {
		iface_eth_header(st, f->data, eth_broadcast, ETH_TYPE_IP4);
		iface_tx_submit(st, f, len);
		return 0;
	}
	if (ip4_next_hop(st, dst, &nh) != 0) {
		xs_dev_tx_abort(st->dev, f);
		xs_drop(st, XS_DROP_IP_NO_ROUTE);
		return -EHOSTUNREACH;
	}
	if (arp_cache_lookup(st, nh, mac)) {
		iface_eth_header(st, f->data, mac, ETH_TYPE_IP4);
		iface_tx_submit(st, f, len);
		return 0;
	}
	/* Park a copy until the next hop answers; the frame goes back now. */
	iface_eth_header(st, f->data, eth_broadcast, ETH_TYPE_IP4);
	arp_queue_frame(st, nh, f->data, len);
	xs_dev_tx_abort(st->dev, f);
	return 0;
}
