/* Ethernet demux and the transmit funnel. Received frames are read-only;
 * every frame sent by any layer passes through iface_tx_submit. */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "net/arp.h"
#include "net/iface.h"
#include "net/ip4.h"
#include "net6/ip6.h"
#include "wire/eth.h"

void iface_input(struct xs_stack *st, const uint8_t *b, size_t n)
{
	struct eth_repr eth;
	enum xs_drop why;

	st->stats.rx_frames++;
	st->stats.rx_bytes += n;
	why = eth_parse(b, n, &eth);
	if (why)
		goto drop;
	if (eth.ntags) {
		why = XS_DROP_ETH_VLAN;
		goto drop;
	}
	/* IPv6 multicast (33:33:..., RFC 2464 7) is judged by ip6_input. */
	if (memcmp(eth.dst, st->mac, ETH_ADDR_LEN) != 0 &&
	    memcmp(eth.dst, eth_broadcast, ETH_ADDR_LEN) != 0 &&
	    !(eth.type == ETH_TYPE_IP6 && eth.dst[0] == 0x33 && eth.dst[1] == 0x33)) {
		why = XS_DROP_ETH_DST;
		goto drop;
	}
	switch (eth.type) {
	case ETH_TYPE_ARP:
		arp_input(st, &eth, b + eth.hdr_len, n - eth.hdr_len);
		return;
	case ETH_TYPE_IP4:
		ip4_input(st, &eth, b + eth.hdr_len, n - eth.hdr_len);
		return;
	case ETH_TYPE_IP6:
		ip6_input(st, &eth, b + eth.hdr_len, n - eth.hdr_len);
		return;
	default:
		why = XS_DROP_ETH_TYPE;
		break;
	}
drop:
	xs_drop(st, why);
}

int iface_tx_alloc(struct xs_stack *st, struct xs_frame *f)
{
	if (xs_dev_tx_alloc(st->dev, f) != 0) {
		xs_drop(st, XS_DROP_TX_NO_FRAME);
		return -ENOBUFS;
	}
	return 0;
}

void iface_tx_submit(struct xs_stack *st, struct xs_frame *f, size_t len)
{
	if (len < ETH_MIN_FRAME) {
		memset(f->data + len, 0, ETH_MIN_FRAME - len);
		len = ETH_MIN_FRAME;
	}
	st->stats.tx_frames++;
	st->stats.tx_bytes += len;
	xs_dev_tx_submit(st->dev, f, (uint32_t)len);
	if (!st->in_poll) {
		st->tx_unflushed = true;
		xs_stack_kick(st);
	}
}

size_t iface_eth_header(struct xs_stack *st, uint8_t *b, const uint8_t *dst, uint16_t type)
{
	struct eth_repr eth = { .type = type };

	memcpy(eth.dst, dst, ETH_ADDR_LEN);
	memcpy(eth.src, st->mac, ETH_ADDR_LEN);
	return eth_emit(&eth, b, ETH_HDR_LEN);
}
