/* Neighbor Discovery parse/emit (RFC 4861 4, 6.1, 7.1). The option walk is
 * bounded by the message: every option has a length, none runs past the end. */
#include <string.h>

#include "wire/bytes.h"
#include "wire/ndp.h"

/* Bytes before the options, ICMPv6 header included (RFC 4861 4.1-4.4). */
static size_t ndp_fixed_len(uint8_t type)
{
	switch (type) {
	case ICMP6_ND_RS:
		return 8;
	case ICMP6_ND_RA:
		return 16;
	default: /* NS, NA */
		return 24;
	}
}

static enum xs_drop ndp_options(const uint8_t *b, size_t n, size_t off, struct ndp_repr *r)
{
	/* Bounded: each turn advances at least 8 bytes through n. */
	while (off < n) {
		size_t olen;
		uint8_t t;

		if (off + 2 > n)
			return XS_DROP_ND_OPT;
		t = b[off];
		olen = b[off + 1] * 8u;
		/* RFC 4861 4.6: a zero length is invalid, and so is the message. */
		if (olen == 0 || off + olen > n)
			return XS_DROP_ND_OPT;
		switch (t) {
		case NDP_OPT_SLL:
		case NDP_OPT_TLL:
			if (olen != 8) /* Ethernet (RFC 2464 8) */
				return XS_DROP_ND_OPT;
			if (t == NDP_OPT_SLL && r->type != ICMP6_ND_NA && !r->has_sll) {
				r->has_sll = true;
				memcpy(r->sll, b + off + 2, 6);
			} else if (t == NDP_OPT_TLL && r->type == ICMP6_ND_NA && !r->has_tll) {
				r->has_tll = true;
				memcpy(r->tll, b + off + 2, 6);
			}
			break;
		case NDP_OPT_MTU:
			if (olen != 8)
				return XS_DROP_ND_OPT;
			if (r->type == ICMP6_ND_RA && !r->has_mtu) {
				r->has_mtu = true;
				r->mtu = ld_be32(b + off + 4);
			}
			break;
		case NDP_OPT_PREFIX:
			if (olen != 32 || b[off + 2] > 128)
				return XS_DROP_ND_OPT;
			if (r->type != ICMP6_ND_RA)
				break;
			if (r->nprefix_seen < 255)
				r->nprefix_seen++;
			if (r->nprefix < NDP_MAX_PREFIXES) {
				struct ndp_prefix *p = &r->prefix[r->nprefix++];

				p->plen = b[off + 2];
				p->flags = b[off + 3] & (NDP_PFX_ONLINK | NDP_PFX_AUTO);
				p->valid = ld_be32(b + off + 4);
				p->preferred = ld_be32(b + off + 8);
				memcpy(p->prefix.b, b + off + 16, IP6_ADDR_LEN);
				ip6_prefix_mask(&p->prefix, p->plen);
			}
			break;
		default: /* checked for length, otherwise ignored (RFC 4861 4.6) */
			break;
		}
		off += olen;
	}
	return XS_DROP_NONE;
}

enum xs_drop ndp_parse(const struct icmp6_repr *m, uint8_t hop_limit, const struct ip6_addr *src,
		       const struct ip6_addr *dst, struct ndp_repr *out)
{
	const uint8_t *b = m->data - ICMP6_HDR_LEN; /* the whole message */
	size_t n = m->data_len + ICMP6_HDR_LEN, fixed = ndp_fixed_len(m->type);
	bool unspec = ip6_is_unspecified(src);
	enum xs_drop why;

	memset(out, 0, sizeof(*out));
	out->type = m->type;
	/* RFC 4861 6.1, 7.1: only from a neighbour on this link. */
	if (hop_limit != NDP_HOP_LIMIT)
		return XS_DROP_ND_HOP_LIMIT;
	if (m->code != 0 || n < fixed)
		return XS_DROP_ND_BAD;
	switch (m->type) {
	case ICMP6_ND_RS:
		break;
	case ICMP6_ND_RA:
		if (!ip6_is_linklocal(src))
			return XS_DROP_ND_SRC;
		out->cur_hop_limit = b[4];
		out->flags = b[5] & (NDP_RA_MANAGED | NDP_RA_OTHER);
		out->router_lifetime = ld_be16(b + 6);
		out->reachable_ms = ld_be32(b + 8);
		out->retrans_ms = ld_be32(b + 12);
		break;
	case ICMP6_ND_NS:
	case ICMP6_ND_NA:
		memcpy(out->target.b, b + 8, IP6_ADDR_LEN);
		if (ip6_is_multicast(&out->target))
			return XS_DROP_ND_BAD;
		if (m->type == ICMP6_ND_NA) {
			out->flags = b[4] & (NDP_NA_ROUTER | NDP_NA_SOLICITED | NDP_NA_OVERRIDE);
			if ((out->flags & NDP_NA_SOLICITED) && ip6_is_multicast(dst))
				return XS_DROP_ND_BAD;
		} else if (unspec && !ip6_is_solicited_node(dst)) {
			return XS_DROP_ND_SRC; /* DAD goes to the solicited-node group */
		}
		break;
	default:
		return XS_DROP_ND_BAD;
	}
	why = ndp_options(b, n, fixed, out);
	if (why)
		return why;
	/* RFC 4861 6.1.1, 7.1.1: no link-layer address from the unspecified one. */
	if (unspec && out->has_sll)
		return XS_DROP_ND_SRC;
	return XS_DROP_NONE;
}

static size_t opt_lladdr(uint8_t *b, uint8_t type, const uint8_t mac[6])
{
	b[0] = type;
	b[1] = 1;
	memcpy(b + 2, mac, 6);
	return 8;
}

size_t ndp_emit(const struct ndp_repr *r, const struct ip6_addr *src, const struct ip6_addr *dst,
		uint8_t *b, size_t cap)
{
	size_t n = ndp_fixed_len(r->type), need = n;
	unsigned i;

	if (r->type != ICMP6_ND_RS && r->type != ICMP6_ND_RA && r->type != ICMP6_ND_NS &&
	    r->type != ICMP6_ND_NA)
		return 0;
	if (r->type == ICMP6_ND_NA)
		need += r->has_tll ? 8 : 0;
	else
		need += r->has_sll ? 8 : 0;
	if (r->type == ICMP6_ND_RA)
		need += (r->has_mtu ? 8u : 0u) + 32u * r->nprefix;
	if (cap < need || r->nprefix > NDP_MAX_PREFIXES)
		return 0;
	memset(b, 0, n);
	b[0] = r->type;
	switch (r->type) {
	case ICMP6_ND_RA:
		b[4] = r->cur_hop_limit;
		b[5] = r->flags & (NDP_RA_MANAGED | NDP_RA_OTHER);
		st_be16(b + 6, r->router_lifetime);
		st_be32(b + 8, r->reachable_ms);
		st_be32(b + 12, r->retrans_ms);
		break;
	case ICMP6_ND_NA:
		b[4] = r->flags & (NDP_NA_ROUTER | NDP_NA_SOLICITED | NDP_NA_OVERRIDE);
		/* fall through */
	case ICMP6_ND_NS:
		memcpy(b + 8, r->target.b, IP6_ADDR_LEN);
		break;
	default:
		break;
	}
	if (r->type == ICMP6_ND_NA) {
		if (r->has_tll)
			n += opt_lladdr(b + n, NDP_OPT_TLL, r->tll);
	} else if (r->has_sll) {
		n += opt_lladdr(b + n, NDP_OPT_SLL, r->sll);
	}
	if (r->type == ICMP6_ND_RA) {
		if (r->has_mtu) {
			memset(b + n, 0, 8);
			b[n] = NDP_OPT_MTU;
			b[n + 1] = 1;
			st_be32(b + n + 4, r->mtu);
			n += 8;
		}
		for (i = 0; i < r->nprefix; i++) {
			const struct ndp_prefix *p = &r->prefix[i];
			struct ip6_addr pfx = p->prefix;

			memset(b + n, 0, 32);
			b[n] = NDP_OPT_PREFIX;
			b[n + 1] = 4;
			b[n + 2] = p->plen;
			b[n + 3] = p->flags & (NDP_PFX_ONLINK | NDP_PFX_AUTO);
			st_be32(b + n + 4, p->valid);
			st_be32(b + n + 8, p->preferred);
			ip6_prefix_mask(&pfx, p->plen);
			memcpy(b + n + 16, pfx.b, IP6_ADDR_LEN);
			n += 32;
		}
	}
	icmp6_set_csum(b, n, src, dst);
	return n;
}
