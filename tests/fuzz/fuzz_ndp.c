/* libFuzzer target: Neighbor Discovery messages through ndp_parse, and what
 * it accepts through ndp_emit and back.
 *
 * Input: byte 0 picks the type (RS, RA, NS, NA by its low 2 bits) and, in
 * bit 7, a hop limit of 254 instead of 255; byte 1 picks the source (bit 0:
 * unspecified, bit 1: link-local, else global) and the destination (bit 2:
 * the solicited-node group of the target bytes, bit 3: all-nodes, else
 * unicast); the rest is the message after its type, code 0 and checksum
 * (computed here over the pseudo header). Checks: only the documented drop
 * reasons; a kept prefix is masked to its length and at most
 * NDP_MAX_PREFIXES are kept; the rules (RFC 4861 6.1, 7.1) hold on what is
 * accepted; emit -> parse gives the same repr (the prefixes seen become those
 * kept). */
#include <string.h>

#include "fuzz.h"
#include "wire/bytes.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"
#include "wire/ndp.h"

#define MSG_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t types[4] = { ICMP6_ND_RS, ICMP6_ND_RA, ICMP6_ND_NS, ICMP6_ND_NA };
	struct ip6_addr src = { .b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } }, dst;
	uint8_t *m, out[MSG_MAX];
	struct ndp_repr r, r2;
	struct icmp6_repr ic;
	enum xs_drop d;
	uint8_t hop;
	size_t n, len;
	unsigned i;

	if (size < 6 || size - 2 + 4 > MSG_MAX)
		return 0;
	n = size - 2 + 4;
	m = malloc(n);
	if (!m)
		return 0;
	m[0] = types[data[0] & 3];
	m[1] = 0;
	memcpy(m + 4, data + 2, size - 2);
	hop = data[0] & 0x80 ? 254 : 255;
	if (data[1] & 1)
		memset(src.b, 0, 16);
	else if (data[1] & 2)
		src.b[0] = 0xfe, src.b[1] = 0x80, src.b[2] = src.b[3] = 0;
	dst = (struct ip6_addr){ .b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	if (data[1] & 4) {
		struct ip6_addr t = { 0 };

		if (n >= 24)
			memcpy(t.b, m + 8, 16);
		ip6_solicited_node(&t, &dst);
	} else if (data[1] & 8) {
		dst = ip6_all_nodes;
	}
	icmp6_set_csum(m, n, &src, &dst);
	FUZZ_CHECK(icmp6_parse(m, n, &src, &dst, &ic) == XS_DROP_NONE);
	d = ndp_parse(&ic, hop, &src, &dst, &r);
	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_ND_HOP_LIMIT || d == XS_DROP_ND_BAD ||
		   d == XS_DROP_ND_SRC || d == XS_DROP_ND_OPT);
	if (d)
		goto out;
	FUZZ_CHECK(hop == 255 && r.type == m[0]);
	FUZZ_CHECK(r.nprefix <= NDP_MAX_PREFIXES && r.nprefix <= r.nprefix_seen);
	for (i = 0; i < r.nprefix; i++) {
		struct ip6_addr p = r.prefix[i].prefix;

		FUZZ_CHECK(r.prefix[i].plen <= 128);
		ip6_prefix_mask(&p, r.prefix[i].plen);
		FUZZ_CHECK(ip6_eq(&p, &r.prefix[i].prefix));
	}
	if (r.type == ICMP6_ND_RA)
		FUZZ_CHECK(ip6_is_linklocal(&src));
	if (r.type == ICMP6_ND_NS || r.type == ICMP6_ND_NA)
		FUZZ_CHECK(!ip6_is_multicast(&r.target));
	if (ip6_is_unspecified(&src))
		FUZZ_CHECK(!r.has_sll);
	if (r.type == ICMP6_ND_NA && ip6_is_multicast(&dst))
		FUZZ_CHECK(!(r.flags & NDP_NA_SOLICITED));
	FUZZ_CHECK(!r.has_tll || r.type == ICMP6_ND_NA);
	FUZZ_CHECK(!(r.has_mtu || r.nprefix) || r.type == ICMP6_ND_RA);
	len = ndp_emit(&r, &src, &dst, out, sizeof(out));
	FUZZ_CHECK(len >= 8 && len <= n);
	FUZZ_CHECK(icmp6_parse(out, len, &src, &dst, &ic) == XS_DROP_NONE);
	FUZZ_CHECK(ndp_parse(&ic, hop, &src, &dst, &r2) == XS_DROP_NONE);
	FUZZ_CHECK(r2.nprefix_seen == r.nprefix);
	r2.nprefix_seen = r.nprefix_seen;
	FUZZ_CHECK(!memcmp(&r, &r2, sizeof(r)));
out:
	free(m);
	return 0;
}
