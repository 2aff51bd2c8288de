/* libFuzzer target: bytes as an IPv6 packet (from its 40-byte header) through
 * ip6_parse and the extension-header walk (ip6_walk, as to unicast and to
 * multicast), then an ICMPv6 message found there through icmp6_parse and the
 * packet an error quotes through icmp6_quote_parse.
 *
 * Each input goes as it is and with its ICMPv6 checksum fixed. Checks: only
 * the documented drop reasons; the header round-trips through ip6_emit; a
 * walk that succeeds stays within the packet and its bounds (IP6_EXT_MAX
 * headers, IP6_EXT_BYTES_MAX bytes), names the protocol at nh_off, and a
 * fragment's fields are its header's; a failed one points inside the packet
 * if it owes an ICMPv6 error; a quote's upper layer lies inside the data with
 * 8 bytes; an accepted message round-trips through icmp6_emit. */
#include <string.h>

#include "fuzz.h"
#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"

#define OUT_CAP 4200

static void quote_check(const uint8_t *b, size_t n)
{
	struct icmp6_quote q;
	enum xs_drop d = icmp6_quote_parse(b, n, &q);

	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_ICMP6_ERR_BAD);
	if (d)
		return;
	FUZZ_CHECK(q.l4 >= b + IP6_HDR_LEN && q.l4 + 8 <= b + n);
	FUZZ_CHECK(q.l4_len == (size_t)(b + n - q.l4));
	FUZZ_CHECK((size_t)(q.l4 - b) - IP6_HDR_LEN <= IP6_EXT_BYTES_MAX);
	FUZZ_CHECK(!memcmp(q.src.b, b + 8, 16) && !memcmp(q.dst.b, b + 24, 16));
}

static void icmp_check(const uint8_t *m, size_t n, const struct ip6_repr *ip)
{
	static uint8_t out[OUT_CAP];
	struct icmp6_repr r, r2;
	enum xs_drop d = icmp6_parse(m, n, &ip->src, &ip->dst, &r);
	size_t len;

	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_ICMP6_SHORT || d == XS_DROP_ICMP6_CSUM);
	if (d)
		return;
	FUZZ_CHECK(r.type == m[0] && r.code == m[1] && r.rest == ld_be32(m + 4));
	FUZZ_CHECK(r.data == m + ICMP6_HDR_LEN && r.data_len == n - ICMP6_HDR_LEN);
	len = icmp6_emit(&r, &ip->src, &ip->dst, out, sizeof(out));
	if (n > sizeof(out)) {
		FUZZ_CHECK(len == 0);
	} else {
		FUZZ_CHECK(len == n && !memcmp(out, m, 2) && !memcmp(out + 4, m + 4, n - 4));
		FUZZ_CHECK(icmp6_parse(out, len, &ip->src, &ip->dst, &r2) == XS_DROP_NONE);
	}
	if (icmp6_is_error(r.type))
		quote_check(r.data, r.data_len);
}

static void walk_check(const uint8_t *b, size_t len, bool mcast, const struct ip6_repr *ip)
{
	struct ip6_walk w;
	enum xs_drop d = ip6_walk(b, len, mcast, &w);

	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_IP6_EXT_ORDER || d == XS_DROP_IP6_EXT_LIMIT ||
		   d == XS_DROP_IP6_EXT_BAD || d == XS_DROP_IP6_OPT_UNKNOWN ||
		   d == XS_DROP_IP6_ROUTING);
	if (d) {
		FUZZ_CHECK(w.icmp_code == IP6_NO_ICMP || w.icmp_code <= 2);
		if (w.icmp_code != IP6_NO_ICMP)
			FUZZ_CHECK(w.icmp_ptr < len);
		/* An option of action 11 owes nothing when sent to multicast. */
		if (mcast && d == XS_DROP_IP6_OPT_UNKNOWN && w.icmp_code == 2)
			FUZZ_CHECK((b[w.icmp_ptr] >> 6) == 2);
		return;
	}
	FUZZ_CHECK(w.icmp_code == IP6_NO_ICMP);
	FUZZ_CHECK(w.l4_off >= IP6_HDR_LEN && w.l4_off <= len);
	FUZZ_CHECK(w.nexts <= IP6_EXT_MAX && w.l4_off - IP6_HDR_LEN <= IP6_EXT_BYTES_MAX);
	FUZZ_CHECK(w.nh_off < w.l4_off && b[w.nh_off] == w.proto);
	if (w.proto == IP6_NH_FRAGMENT) {
		struct ip6_frag f;

		FUZZ_CHECK((size_t)w.l4_off + IP6_FRAG_HDR_LEN <= len);
		ip6_frag_read(b + w.l4_off, &f);
		FUZZ_CHECK(f.offset == w.frag.offset && f.more == w.frag.more && f.id == w.frag.id);
		FUZZ_CHECK(f.offset || f.more);
		return;
	}
	FUZZ_CHECK(w.proto != IP6_NH_HOPOPTS && w.proto != IP6_NH_DSTOPTS &&
		   w.proto != IP6_NH_ROUTING);
	FUZZ_CHECK((w.nexts == 0) == (w.l4_off == IP6_HDR_LEN));
	if (w.proto == IP6_NH_ICMP6 && !mcast)
		icmp_check(b + w.l4_off, len - w.l4_off, ip);
}

static void parse_one(const uint8_t *b, size_t n)
{
	uint8_t out[IP6_HDR_LEN];
	struct ip6_repr ip;
	enum xs_drop d = ip6_parse(b, n, &ip);
	size_t len;

	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_IP6_SHORT || d == XS_DROP_IP6_VERSION ||
		   d == XS_DROP_IP6_LEN);
	if (d)
		return;
	FUZZ_CHECK(ip6_emit(&ip, out, sizeof(out)) == IP6_HDR_LEN && !memcmp(out, b, IP6_HDR_LEN));
	len = IP6_HDR_LEN + (size_t)ip.payload_len;
	FUZZ_CHECK(len <= n);
	walk_check(b, len, false, &ip);
	walk_check(b, len, true, &ip);
}

/* The checksum of an ICMPv6 message right after the header (or behind
 * the headers a walk passes), fixed so that mutations reach past it. */
static void fix_csum(uint8_t *b, size_t n)
{
	struct ip6_repr ip;
	struct ip6_walk w;
	size_t len;

	if (ip6_parse(b, n, &ip))
		return;
	len = IP6_HDR_LEN + (size_t)ip.payload_len;
	if (ip6_walk(b, len, false, &w) || w.proto != IP6_NH_ICMP6 || len - w.l4_off < 4)
		return;
	icmp6_set_csum(b + w.l4_off, len - w.l4_off, &ip.src, &ip.dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);

	if (!b)
		return 0;
	memcpy(b, data, size);
	parse_one(b, size);
	fix_csum(b, size);
	parse_one(b, size);
	free(b);
	return 0;
}
