/* Shared by the whole-path fuzz targets: every frame the stack sends must be
 * one our own parsers accept, from our addresses, within the MTU. */
#ifndef XS_TESTS_FUZZ_TX_H
#define XS_TESTS_FUZZ_TX_H

#include <string.h>

#include "fuzz.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/icmp6.h"
#include "wire/ip4.h"
#include "wire/ip6.h"
#include "wire/mld.h"
#include "wire/ndp.h"
#include "wire/tcp.h"
#include "wire/udp.h"

#define FUZZ_TX_QUOTE_MAX 548 /* RFC 1812 4.3.2.3: an ICMP error fits 576 bytes */

/* An IPv6 frame the stack sent (f/n whole, Ethernet header checked): from
 * a unicast address (:: only for DAD's solicitations and MLD), to multicast
 * only for neighbor discovery and MLD, no extension header but a Fragment
 * header (a multiple of 8 bytes but the last) and an MLD report's Hop-by-Hop
 * header (to ff02::16, hop limit 1, from :: or a link-local, the report
 * parsing), checksums right, an NDP message valid, an error
 * quoting at most 1232 bytes of a packet sent to us. */
static inline void fuzz_check_tx6(const uint8_t *f, size_t n, uint16_t mtu)
{
	struct ip6_repr r;
	struct ip6_walk w;
	struct icmp6_repr m;
	size_t len;

	FUZZ_CHECK(ip6_parse(f + ETH_HDR_LEN, n - ETH_HDR_LEN, &r) == XS_DROP_NONE);
	len = IP6_HDR_LEN + (size_t)r.payload_len;
	FUZZ_CHECK(len <= mtu);
	FUZZ_CHECK(n == ETH_HDR_LEN + len || (n == 60 && ETH_HDR_LEN + len < 60));
	FUZZ_CHECK(!ip6_is_multicast(&r.src) && r.hop_limit > 0);
	if (ip6_is_multicast(&r.dst))
		FUZZ_CHECK(f[0] == 0x33 && f[1] == 0x33 && !memcmp(f + 2, r.dst.b + 12, 4));
	FUZZ_CHECK(ip6_walk(f + ETH_HDR_LEN, len, false, &w) == XS_DROP_NONE);
	if (r.next_hdr == IP6_NH_HOPOPTS) {
		struct mld_report rep;

		FUZZ_CHECK(w.nexts == 1 && w.proto == IP6_NH_ICMP6);
		FUZZ_CHECK(w.l4_off == IP6_HDR_LEN + MLD_HBH_LEN);
		FUZZ_CHECK(r.hop_limit == MLD_HOP_LIMIT && ip6_eq(&r.dst, &mld_all_routers));
		FUZZ_CHECK(ip6_is_unspecified(&r.src) || ip6_is_linklocal(&r.src));
		FUZZ_CHECK(icmp6_parse(f + ETH_HDR_LEN + w.l4_off, len - w.l4_off, &r.src, &r.dst,
				       &m) == XS_DROP_NONE);
		FUZZ_CHECK(m.type == MLD_REPORT_V2 && mld_report_parse(&m, &rep) == XS_DROP_NONE);
		FUZZ_CHECK(rep.nrec >= 1 && rep.nrec == rep.nrec_kept);
		return;
	}
	FUZZ_CHECK(w.nexts == (w.proto == IP6_NH_FRAGMENT) && !w.atomic);
	if (w.proto == IP6_NH_FRAGMENT) {
		FUZZ_CHECK(len > IP6_HDR_LEN + IP6_FRAG_HDR_LEN);
		if (w.frag.more)
			FUZZ_CHECK((len - IP6_HDR_LEN - IP6_FRAG_HDR_LEN) % 8 == 0);
		return;
	}
	if (w.proto != IP6_NH_ICMP6) {
		FUZZ_CHECK(w.proto == IP6_NH_UDP || w.proto == IP6_NH_TCP);
		FUZZ_CHECK(!ip6_is_multicast(&r.dst) && !ip6_is_unspecified(&r.src));
		return;
	}
	FUZZ_CHECK(icmp6_parse(f + ETH_HDR_LEN + IP6_HDR_LEN, len - IP6_HDR_LEN, &r.src, &r.dst,
			       &m) == XS_DROP_NONE);
	if (m.type >= ICMP6_ND_RS && m.type <= ICMP6_ND_NA) {
		struct ndp_repr nd;

		FUZZ_CHECK(r.hop_limit == NDP_HOP_LIMIT);
		FUZZ_CHECK(ndp_parse(&m, r.hop_limit, &r.src, &r.dst, &nd) == XS_DROP_NONE);
		return;
	}
	FUZZ_CHECK(!ip6_is_multicast(&r.dst) && !ip6_is_unspecified(&r.src));
	if (icmp6_is_error(m.type)) {
		FUZZ_CHECK(m.data_len >= IP6_HDR_LEN && m.data_len <= ICMP6_QUOTE_MAX);
		FUZZ_CHECK(m.data[0] >> 4 == 6 && !memcmp(m.data + 8, r.dst.b, 16));
	} else {
		FUZZ_CHECK(m.type == ICMP6_ECHO_REQUEST || m.type == ICMP6_ECHO_REPLY);
	}
}

/* f/n is one frame taken from the mem device; mac/ip are the stack's. A
 * non-first fragment's transport header cannot be checked alone; a first
 * fragment's is checked up to its ports. */
static inline void fuzz_check_tx(const uint8_t *f, size_t n, const uint8_t mac[6], uint32_t ip,
				 uint16_t mtu)
{
	struct eth_repr e;
	struct ip4_repr r;
	struct arp_repr a;
	const uint8_t *l4;
	size_t len;

	FUZZ_CHECK(n >= 60 && n <= (size_t)ETH_HDR_LEN + mtu);
	FUZZ_CHECK(eth_parse(f, n, &e) == XS_DROP_NONE && e.ntags == 0);
	FUZZ_CHECK(!memcmp(e.src, mac, ETH_ADDR_LEN) && !eth_is_multicast(e.src));
	if (e.type == ETH_TYPE_ARP) {
		FUZZ_CHECK(arp_parse(f + ETH_HDR_LEN, n - ETH_HDR_LEN, &a) == XS_DROP_NONE);
		FUZZ_CHECK(a.spa == ip && !memcmp(a.sha, mac, ETH_ADDR_LEN));
		return;
	}
	if (e.type == ETH_TYPE_IP6) {
		fuzz_check_tx6(f, n, mtu);
		return;
	}
	FUZZ_CHECK(e.type == ETH_TYPE_IP4);
	FUZZ_CHECK(ip4_parse(f + ETH_HDR_LEN, n - ETH_HDR_LEN, &r) == XS_DROP_NONE);
	FUZZ_CHECK(r.hdr_len == IP4_HDR_LEN && r.src == ip && r.dst != ip && r.ttl > 0);
	FUZZ_CHECK(!ip4_is_martian_src(r.dst) || r.dst == 0xffffffffu);
	/* Padding only up to the 60-byte minimum. */
	FUZZ_CHECK(n == ETH_HDR_LEN + (size_t)r.total_len ||
		   (n == 60 && ETH_HDR_LEN + (size_t)r.total_len < 60));
	l4 = f + ETH_HDR_LEN + r.hdr_len;
	len = ip4_payload_len(&r);
	if (r.frag & IP4_FLAG_MF)
		FUZZ_CHECK(len > 0 && len % 8 == 0 && !(r.frag & IP4_FLAG_DF));
	if (r.frag & IP4_OFF_MASK)
		return;
	if (r.frag & IP4_FLAG_MF) {
		FUZZ_CHECK(len >= 8);
		return;
	}
	if (r.proto == IP4_PROTO_ICMP) {
		struct icmp_repr m;

		FUZZ_CHECK(icmp_parse(l4, len, &m) == XS_DROP_NONE);
		if (m.type == ICMP_DEST_UNREACH || m.type == ICMP_TIME_EXCEEDED || m.type == 12) {
			const uint8_t *qh = m.data;
			size_t qihl, qtotal;
			struct icmp_quote q;

			/* The datagram as received (its header, all of it up to
			 * 548 bytes: a short one is quoted whole, RFC 792). */
			FUZZ_CHECK(m.data_len >= IP4_HDR_LEN && qh[0] >> 4 == 4);
			qihl = (qh[0] & 0x0fu) * 4u;
			qtotal = ld_be16(qh + 2);
			FUZZ_CHECK(qihl >= IP4_HDR_LEN && qihl <= m.data_len);
			FUZZ_CHECK(m.data_len ==
				   (qtotal < FUZZ_TX_QUOTE_MAX ? qtotal : FUZZ_TX_QUOTE_MAX));
			FUZZ_CHECK(ld_be32(qh + 16) == ip && ld_be32(qh + 12) == r.dst);
			FUZZ_CHECK((icmp_quote_parse(m.data, m.data_len, &q) == XS_DROP_NONE) ==
				   (m.data_len >= qihl + 8));
		}
	} else if (r.proto == IP4_PROTO_UDP) {
		struct udp_repr u;

		FUZZ_CHECK(udp_parse(l4, len, r.src, r.dst, &u) == XS_DROP_NONE);
		FUZZ_CHECK(u.payload_len + UDP_HDR_LEN == len && u.sport != 0 && u.dport != 0);
	} else {
		struct tcp_repr t;

		FUZZ_CHECK(r.proto == IP4_PROTO_TCP);
		FUZZ_CHECK(tcp_parse(l4, len, r.src, r.dst, &t) == XS_DROP_NONE);
		FUZZ_CHECK(t.sport != 0 && t.dport != 0);
	}
}

#endif
