/* Fuzz harness helper: recomputes the IPv4, ICMP, UDP and TCP checksums (and
 * ICMPv6, UDP, TCP behind an IPv6 header chain) so mutations get past them. */
#ifndef XS_FUZZ_FIX_CSUM_H
#define XS_FUZZ_FIX_CSUM_H

#include <stddef.h>
#include <stdint.h>

#include "wire/bytes.h"
#include "wire/csum.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"

/* IPv6: the ICMPv6, UDP or TCP checksum behind the header chain, if it walks. */
static inline void fuzz_fix_checksums6(uint8_t *f, size_t n)
{
	struct ip6_repr ip;
	struct ip6_walk w;
	size_t len, l4len;
	uint8_t *l4;
	uint16_t c;

	if (ip6_parse(f + 14, n - 14, &ip))
		return;
	len = IP6_HDR_LEN + (size_t)ip.payload_len;
	if (ip6_walk(f + 14, len, ip6_is_multicast(&ip.dst), &w))
		return;
	l4 = f + 14 + w.l4_off;
	l4len = len - w.l4_off;
	if (w.proto == IP6_NH_ICMP6 && l4len >= 4) {
		icmp6_set_csum(l4, l4len, &ip.src, &ip.dst);
	} else if (w.proto == IP6_NH_UDP && l4len >= 8) {
		st_be16(l4 + 6, 0);
		c = csum_fold(csum_add(csum_pseudo6(ip.src.b, ip.dst.b, 17, (uint32_t)l4len), l4,
				       l4len));
		st_be16(l4 + 6, c ? c : 0xffff);
	} else if (w.proto == IP6_NH_TCP && l4len >= 20) {
		st_be16(l4 + 16, 0);
		c = csum_fold(
		    csum_add(csum_pseudo6(ip.src.b, ip.dst.b, 6, (uint32_t)l4len), l4, l4len));
		st_be16(l4 + 16, c);
	}
}

/* Checksums that the frame's own length fields make sense of (an IPv4
 * fragment's header only: its L4 checksum covers the whole datagram). */
static inline void fuzz_fix_checksums(uint8_t *f, size_t n)
{
	uint8_t *ip = f + 14, *l4;
	size_t ihl, total, l4len;
	uint16_t c;

	if (n >= 54 && ld_be16(f + 12) == 0x86dd) {
		fuzz_fix_checksums6(f, n);
		return;
	}
	if (n < 34 || ld_be16(f + 12) != 0x0800 || ip[0] >> 4 != 4)
		return;
	ihl = (ip[0] & 0x0fu) * 4u;
	if (ihl < 20 || 14 + ihl > n)
		return;
	st_be16(ip + 10, 0);
	st_be16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
	total = ld_be16(ip + 2);
	if (total < ihl || 14 + total > n || (ld_be16(ip + 6) & 0x3fff))
		return;
	l4 = ip + ihl;
	l4len = total - ihl;
	if (ip[9] == 1 && l4len >= 8) {
		st_be16(l4 + 2, 0);
		st_be16(l4 + 2, csum_fold(csum_add(0, l4, l4len)));
	} else if (ip[9] == 17 && l4len >= 8) {
		uint16_t ulen = ld_be16(l4 + 4);

		if (ulen < 8 || ulen > l4len || !ld_be16(l4 + 6))
			return;
		st_be16(l4 + 6, 0);
		c = csum_fold(
		    csum_add(csum_pseudo4(ld_be32(ip + 12), ld_be32(ip + 16), 17, ulen), l4, ulen));
		st_be16(l4 + 6, c ? c : 0xffff);
	} else if (ip[9] == 6 && l4len >= 20) {
		st_be16(l4 + 16, 0);
		c = csum_fold(
		    csum_add(csum_pseudo4(ld_be32(ip + 12), ld_be32(ip + 16), 6, (uint16_t)l4len),
			     l4, l4len));
		st_be16(l4 + 16, c);
	}
}

#endif
