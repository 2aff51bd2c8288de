/* IPv6 fragments (RFC 8200 4.5): the checks IPv6 adds (lengths of a multiple
 * of 8, the whole header chain in the first fragment, RFC 7112), then the
 * shared reassembly table of net/frag.c, then the assembled packet walked anew. */
#include "core/stack.h"
#include "net/frag.h"
#include "net6/frag6.h"
#include "net6/ip6.h"
#include "wire/bytes.h"

/* RFC 7112, RFC 8200 4.5: the first fragment holds every extension header
 * and the upper-layer header (its ports and flags) whole. */
static bool frag6_chain_whole(const uint8_t *pkt, size_t len, size_t off, uint8_t nh)
{
	unsigned i;

	for (i = 0; i <= IP6_EXT_MAX; i++) {
		size_t need;

		switch (nh) {
		case IP6_NH_HOPOPTS:
		case IP6_NH_DSTOPTS:
		case IP6_NH_ROUTING:
			if (off + 2 > len)
				return false;
			need = (pkt[off + 1] + 1u) * 8u;
			if (off + need > len)
				return false;
			nh = pkt[off];
			off += need;
			continue;
		case IP6_NH_TCP:
			need = 20;
			break;
		case IP6_NH_UDP:
		case IP6_NH_ICMP6:
			need = 8;
			break;
		default: /* No Next Header, or what the walk will refuse anyway */
			need = 0;
			break;
		}
		return off + need <= len;
	}
	return false;
}

const uint8_t *frag6_input(struct xs_stack *st, struct ip6_repr *ip, const uint8_t *pkt, size_t len,
			   struct ip6_walk *w)
{
	size_t fo = w->l4_off, out_len;
	uint32_t flen = (uint32_t)(len - fo - IP6_FRAG_HDR_LEN), off = w->frag.offset;
	const uint8_t *p;

	/* Every fragment but the last holds a multiple of 8 bytes: Parameter
	 * Problem at the Payload Length. An empty one says nothing. */
	if (flen == 0 || (w->frag.more && flen % 8)) {
		if (flen)
			icmp6_send_error(st, ICMP6_PARAM_PROB, 0, 4, pkt, len, false);
		xs_drop(st, XS_DROP_IP6_FRAG);
		return NULL;
	}
	/* The whole may not pass 65535 bytes of payload: at the Fragment Offset. */
	if (fo - IP6_HDR_LEN + off + flen > 0xffff) {
		icmp6_send_error(st, ICMP6_PARAM_PROB, 0, (uint32_t)(fo + 2), pkt, len, false);
		xs_drop(st, XS_DROP_FRAG_TOO_BIG);
		return NULL;
	}
	if (off == 0 && !frag6_chain_whole(pkt, len, fo + IP6_FRAG_HDR_LEN, w->frag.next_hdr)) {
		icmp6_send_error(st, ICMP6_PARAM_PROB, 3, 0, pkt, len, false);
		xs_drop(st, XS_DROP_FRAG_TINY);
		return NULL;
	}
	p = frag_input6(st, pkt, fo, w->nh_off, off, flen, w->frag.more, w->frag.id,
			w->frag.next_hdr, &out_len);
	if (!p)
		return NULL;
	/* The assembled packet goes through the same checks as any; a second
	 * Fragment header inside it is refused. */
	if (ip6_parse(p, out_len, ip) || ip6_walk(p, out_len, ip6_is_multicast(&ip->dst), w) ||
	    w->proto == IP6_NH_FRAGMENT) {
		xs_drop(st, XS_DROP_IP6_FRAG);
		return NULL;
	}
	return p;
}
