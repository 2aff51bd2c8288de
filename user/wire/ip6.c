/* IPv6 header and extension-header walk (RFC 8200 3, 4). Every length is
 * checked against the bytes received; the walk is bounded in headers and bytes. */
#include "wire/bytes.h"
#include "wire/ip6.h"

const struct ip6_addr ip6_all_nodes = {.b = {0xff, 0x02, [15] = 1}};
const struct ip6_addr ip6_all_routers = {.b = {0xff, 0x02, [15] = 2}};

enum xs_drop ip6_parse(const uint8_t *b, size_t n, struct ip6_repr *out)
{
	uint32_t w;

	if (n < IP6_HDR_LEN)
		return XS_DROP_IP6_SHORT;
	w = ld_be32(b);
	if (w >> 28 != 6)
		return XS_DROP_IP6_VERSION;
	out->tclass = (uint8_t)(w >> 20);
	out->flow = w & 0xfffff;
	out->payload_len = ld_be16(b + 4);
	if ((size_t)IP6_HDR_LEN + out->payload_len > n)
		return XS_DROP_IP6_LEN;
	out->next_hdr = b[6];
	out->hop_limit = b[7];
	memcpy(out->src.b, b + 8, IP6_ADDR_LEN);
	memcpy(out->dst.b, b + 24, IP6_ADDR_LEN);
	return XS_DROP_NONE;
}

size_t ip6_emit(const struct ip6_repr *r, uint8_t *b, size_t cap)
{
	if (cap < IP6_HDR_LEN)
		return 0;
	st_be32(b, 6u << 28 | (uint32_t)r->tclass << 20 | (r->flow & 0xfffff));
	st_be16(b + 4, r->payload_len);
	b[6] = r->next_hdr;
	b[7] = r->hop_limit;
	memcpy(b + 8, r->src.b, IP6_ADDR_LEN);
	memcpy(b + 24, r->dst.b, IP6_ADDR_LEN);
	return IP6_HDR_LEN;
}

void ip6_frag_read(const uint8_t *p, struct ip6_frag *out)
{
	uint16_t w = ld_be16(p + 2);

	out->next_hdr = p[0];
	out->offset = w & 0xfff8;
	out->more = w & 1;
	out->id = ld_be32(p + 4);
}

size_t ip6_frag_emit(const struct ip6_frag *f, uint8_t *b, size_t cap)
{
	if (cap < IP6_FRAG_HDR_LEN)
		return 0;
	b[0] = f->next_hdr;
	b[1] = 0;
	st_be16(b + 2, (uint16_t)((f->offset & 0xfff8) | (f->more ? 1 : 0)));
	st_be32(b + 4, f->id);
	return IP6_FRAG_HDR_LEN;
}

static enum xs_drop walk_fail(struct ip6_walk *w, enum xs_drop why, uint8_t code, size_t ptr)
{
	w->icmp_code = code;
	w->icmp_ptr = (uint32_t)ptr;
	return why;
}

/* The options of a Hop-by-Hop or Destination Options header at off, hlen
 * bytes (RFC 8200 4.2): padding bounded, every option inside the header,
 * at most IP6_OPTS_MAX others, unknown ones per their two action bits. */
static enum xs_drop walk_options(const uint8_t *pkt, size_t off, size_t hlen, bool hbh,
				 bool dst_mcast, struct ip6_walk *w)
{
	size_t p = off + 2, end = off + hlen;
	unsigned nopts = 0, pad = 0;

	while (p < end) {
		uint8_t t = pkt[p], olen;

		if (t == 0) { /* Pad1 */
			if (++pad > IP6_PAD_MAX)
				return walk_fail(w, XS_DROP_IP6_EXT_BAD, IP6_NO_ICMP, 0);
			p++;
			continue;
		}
		if (p + 2 > end || p + 2 + pkt[p + 1] > end)
			return walk_fail(w, XS_DROP_IP6_EXT_BAD, IP6_NO_ICMP, 0);
		olen = pkt[p + 1];
		if (t == 1) { /* PadN */
			pad += 2u + olen;
			if (pad > IP6_PAD_MAX)
				return walk_fail(w, XS_DROP_IP6_EXT_BAD, IP6_NO_ICMP, 0);
			p += 2u + olen;
			continue;
		}
		pad = 0;
		if (++nopts > IP6_OPTS_MAX)
			return walk_fail(w, XS_DROP_IP6_EXT_LIMIT, IP6_NO_ICMP, 0);
		/* Router Alert (RFC 2711), hop-by-hop only: nothing for a host. */
		if (!(hbh && t == 5 && olen == 2)) {
			switch (t >> 6) {
			case 0: /* skip over it */
				break;
			case 1: /* discard */
				return walk_fail(w, XS_DROP_IP6_OPT_UNKNOWN, IP6_NO_ICMP, 0);
			case 2: /* discard, Parameter Problem code 2 even to multicast */
				return walk_fail(w, XS_DROP_IP6_OPT_UNKNOWN, 2, p);
			default: /* discard, Parameter Problem unless to multicast */
				return walk_fail(w, XS_DROP_IP6_OPT_UNKNOWN,
						 dst_mcast ? IP6_NO_ICMP : 2, p);
			}
		}
		p += 2u + olen;
	}
	return XS_DROP_NONE;
}

enum xs_drop ip6_walk(const uint8_t *pkt, size_t len, bool dst_mcast, struct ip6_walk *w)
{
	size_t off = IP6_HDR_LEN, nh_off = 6, hlen;
	unsigned ndst = 0, nrt = 0, nfrag = 0;
	uint8_t nh = pkt[6];
	enum xs_drop why;

	memset(w, 0, sizeof(*w));
	w->icmp_code = IP6_NO_ICMP;
	/* At most IP6_EXT_MAX + 1 turns: each passes one header or returns. */
	for (;;) {
		switch (nh) {
		case IP6_NH_HOPOPTS:
			/* RFC 8200 4.3: only right after the IPv6 header; elsewhere
			 * it is an unrecognized Next Header (code 1), as Linux says. */
			if (off != IP6_HDR_LEN)
				return walk_fail(w, XS_DROP_IP6_EXT_ORDER, 1, nh_off);
			break;
		case IP6_NH_DSTOPTS:
			/* RFC 8200 4.1: once before a Routing header, once before
			 * the upper layer; more is a chain made to be walked. */
			if (++ndst > 2)
				return walk_fail(w, XS_DROP_IP6_EXT_ORDER, IP6_NO_ICMP, 0);
			break;
		case IP6_NH_ROUTING:
			if (++nrt > 1)
				return walk_fail(w, XS_DROP_IP6_EXT_ORDER, IP6_NO_ICMP, 0);
			break;
		case IP6_NH_FRAGMENT:
			if (++nfrag > 1)
				return walk_fail(w, XS_DROP_IP6_EXT_ORDER, IP6_NO_ICMP, 0);
			break;
		default: /* an upper layer, No Next Header, or unknown: the caller's */
			w->proto = nh;
			w->l4_off = (uint16_t)off;
			w->nh_off = (uint16_t)nh_off;
			return XS_DROP_NONE;
		}
		if (w->nexts == IP6_EXT_MAX)
			return walk_fail(w, XS_DROP_IP6_EXT_LIMIT, IP6_NO_ICMP, 0);
		if (off + 2 > len)
			return walk_fail(w, XS_DROP_IP6_EXT_BAD, IP6_NO_ICMP, 0);
		hlen = nh == IP6_NH_FRAGMENT ? IP6_FRAG_HDR_LEN : (pkt[off + 1] + 1u) * 8u;
		if (off + hlen > len)
			return walk_fail(w, XS_DROP_IP6_EXT_BAD, IP6_NO_ICMP, 0);
		if (off + hlen - IP6_HDR_LEN > IP6_EXT_BYTES_MAX)
			return walk_fail(w, XS_DROP_IP6_EXT_LIMIT, IP6_NO_ICMP, 0);
		w->nexts++;
		switch (nh) {
		case IP6_NH_HOPOPTS:
		case IP6_NH_DSTOPTS:
			why = walk_options(pkt, off, hlen, nh == IP6_NH_HOPOPTS, dst_mcast, w);
			if (why)
				return why;
			break;
		case IP6_NH_ROUTING:
			/* RFC 8200 4.4: Segments Left 0 is ignored; otherwise a
			 * host that forwards nothing answers as for an unknown
			 * type, pointing at the Routing Type (RFC 5095 for type 0). */
			if (pkt[off + 3] != 0)
				return walk_fail(w, XS_DROP_IP6_ROUTING, 0, off + 2);
			break;
		default: /* IP6_NH_FRAGMENT */
			ip6_frag_read(pkt + off, &w->frag);
			/* RFC 6946: an atomic fragment is processed in isolation. */
			if (w->frag.offset == 0 && !w->frag.more) {
				w->atomic = true;
				break;
			}
			w->proto = IP6_NH_FRAGMENT;
			w->l4_off = (uint16_t)off;
			w->nh_off = (uint16_t)nh_off;
			return XS_DROP_NONE;
		}
		nh_off = off;
		nh = pkt[off];
		off += hlen;
	}
}

bool ip6_prefix_eq(const struct ip6_addr *a, const struct ip6_addr *b, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (plen > 128)
		return false;
	if (memcmp(a->b, b->b, bytes))
		return false;
	if (!bits)
		return true;
	return ((a->b[bytes] ^ b->b[bytes]) & (0xff00 >> bits)) == 0;
}

unsigned ip6_common_prefix(const struct ip6_addr *a, const struct ip6_addr *b)
{
	unsigned i, n = 0;

	for (i = 0; i < IP6_ADDR_LEN; i++) {
		uint8_t x = a->b[i] ^ b->b[i];

		if (!x) {
			n += 8;
			continue;
		}
		while (!(x & 0x80)) {
			x <<= 1;
			n++;
		}
		break;
	}
	return n;
}

void ip6_prefix_mask(struct ip6_addr *a, unsigned plen)
{
	unsigned i;

	for (i = 0; i < IP6_ADDR_LEN; i++) {
		if (plen >= 8) {
			plen -= 8;
			continue;
		}
		a->b[i] &= (uint8_t)(0xff00 >> plen);
		plen = 0;
	}
}

void ip6_solicited_node(const struct ip6_addr *a, struct ip6_addr *out)
{
	static const uint8_t pfx[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	memcpy(out->b, pfx, sizeof(pfx));
	memcpy(out->b + 13, a->b + 13, 3);
}

bool ip6_is_solicited_node(const struct ip6_addr *a)
{
	static const uint8_t pfx[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	return !memcmp(a->b, pfx, sizeof(pfx));
}

void ip6_mcast_mac(const struct ip6_addr *a, uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, a->b + 12, 4);
}
