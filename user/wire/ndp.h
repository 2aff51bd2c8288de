/* Neighbor Discovery messages (RFC 4861 4): Router Solicitation and
 * Advertisement, Neighbor Solicitation and Advertisement, with their options;
 * parse with RFC 4861's validity checks (6.1, 7.1), emit. No state. */
#ifndef XS_WIRE_NDP_H
#define XS_WIRE_NDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#include "wire/icmp6.h"
#include "wire/ip6.h"

#define NDP_HOP_LIMIT 255  /* every ND message: never forwarded (RFC 4861 6.1, 7.1) */
#define NDP_MAX_PREFIXES 4 /* Prefix Information options kept from one RA */

/* Option types (RFC 4861 4.6). */
#define NDP_OPT_SLL 1
#define NDP_OPT_TLL 2
#define NDP_OPT_PREFIX 3
#define NDP_OPT_REDIRECTED 4
#define NDP_OPT_MTU 5

/* Flags as they sit in the first byte after the checksum. */
#define NDP_NA_ROUTER 0x80
#define NDP_NA_SOLICITED 0x40
#define NDP_NA_OVERRIDE 0x20
#define NDP_RA_MANAGED 0x80
#define NDP_RA_OTHER 0x40
#define NDP_PFX_ONLINK 0x80 /* L */
#define NDP_PFX_AUTO 0x40   /* A */

#define NDP_INFINITE 0xffffffffu

struct ndp_prefix {
	struct ip6_addr prefix;
	uint8_t plen;
	uint8_t flags;	/* NDP_PFX_* */
	uint32_t valid; /* seconds, NDP_INFINITE for ever */
	uint32_t preferred;
};

struct ndp_repr {
	uint8_t type;		/* ICMP6_ND_RS, _RA, _NS, _NA */
	uint8_t flags;		/* NA: NDP_NA_*; RA: NDP_RA_* */
	struct ip6_addr target; /* NS, NA */
	/* RA (RFC 4861 4.2) */
	uint8_t cur_hop_limit;
	uint16_t router_lifetime; /* seconds */
	uint32_t reachable_ms;
	uint32_t retrans_ms;
	/* options: the first of each kind is kept */
	bool has_sll, has_tll, has_mtu;
	uint8_t sll[6], tll[6];
	uint32_t mtu;
	uint8_t nprefix;      /* kept, at most NDP_MAX_PREFIXES */
	uint8_t nprefix_seen; /* present (the rest were checked and skipped) */
	struct ndp_prefix prefix[NDP_MAX_PREFIXES];
};

/* m is a parsed ICMPv6 message of type RS, RA, NS or NA that arrived with
 * hop_limit, from src to dst. Checks RFC 4861's validity rules: hop limit
 * 255 (XS_DROP_ND_HOP_LIMIT), code 0 and the length (XS_DROP_ND_BAD), the
 * target not multicast, a solicited NA not to multicast, an unspecified
 * source only for an NS to a solicited-node group without SLL option and for
 * an RS without one, an RA only from a link-local source (XS_DROP_ND_SRC),
 * and every option: length 0, past the end, or a link-layer, MTU or prefix
 * option of the wrong length (XS_DROP_ND_OPT). */
enum xs_drop ndp_parse(const struct icmp6_repr *m, uint8_t hop_limit, const struct ip6_addr *src,
		       const struct ip6_addr *dst, struct ndp_repr *out);
/* Writes the whole ICMPv6 message (checksum over src/dst) with the options
 * r has (has_sll, has_tll, has_mtu, its prefixes). Bytes written, or 0. */
size_t ndp_emit(const struct ndp_repr *r, const struct ip6_addr *src, const struct ip6_addr *dst,
		uint8_t *b, size_t cap);

#endif
