/* MLD parse/emit (RFC 3810 5, RFC 2710 3): every record and source list is
 * bounded by the message; which groups to report is net6/mld.c's business. */
#include <string.h>

#include "wire/bytes.h"
#include "wire/mld.h"

const struct ip6_addr mld_all_routers = {.b = {0xff, 0x02, [15] = 0x16}};

#define MLD_QUERY_V1_LEN 24 /* RFC 2710 3 */
#define MLD_QUERY_V2_LEN 28 /* RFC 3810 5.1, without sources */

enum xs_drop mld_report_parse(const struct icmp6_repr *m, struct mld_report *out)
{
	const uint8_t *b = m->data - ICMP6_HDR_LEN; /* the whole message */
	size_t n = m->data_len + ICMP6_HDR_LEN, off = MLD_REPORT_HDR;
	unsigned i;

	memset(out, 0, sizeof(*out));
	if (m->type != MLD_REPORT_V2 || n < MLD_REPORT_HDR)
		return XS_DROP_MLD_BAD;
	out->nrec = ld_be16(b + 6);
	/* Bounded: each turn advances at least 20 bytes through n. */
	for (i = 0; i < out->nrec; i++) {
		struct mld_record r;
		size_t len;

		if (off + MLD_RECORD_HDR > n)
			return XS_DROP_MLD_BAD;
		r.type = b[off];
		r.nsrc = ld_be16(b + off + 2);
		memcpy(r.group.b, b + off + 4, IP6_ADDR_LEN);
		/* 5.2.6: Aux Data Len in 32-bit words; 5.2.9: the sources. */
		len = MLD_RECORD_HDR + (size_t)r.nsrc * IP6_ADDR_LEN + b[off + 1] * 4u;
		if (off + len > n || r.type < MLD_IS_IN || r.type > MLD_BLOCK ||
		    !ip6_is_multicast(&r.group))
			return XS_DROP_MLD_BAD;
		if (out->nrec_kept < MLD_MAX_RECORDS)
			out->rec[out->nrec_kept++] = r;
		off += len;
	}
	return off == n ? XS_DROP_NONE : XS_DROP_MLD_BAD;
}

size_t mld_report_emitted_len(const struct mld_report *r)
{
	return MLD_REPORT_HDR + (size_t)r->nrec * MLD_RECORD_HDR;
}

size_t mld_report_emit(const struct mld_report *r, const struct ip6_addr *src,
		       const struct ip6_addr *dst, uint8_t *b, size_t cap)
{
	size_t n = mld_report_emitted_len(r), off = MLD_REPORT_HDR;
	unsigned i;

	if (r->nrec > MLD_MAX_RECORDS || cap < n)
		return 0;
	for (i = 0; i < r->nrec; i++)
		if (r->rec[i].nsrc)
			return 0;
	memset(b, 0, n);
	b[0] = MLD_REPORT_V2;
	st_be16(b + 6, r->nrec);
	for (i = 0; i < r->nrec; i++, off += MLD_RECORD_HDR) {
		b[off] = r->rec[i].type;
		memcpy(b + off + 4, r->rec[i].group.b, IP6_ADDR_LEN);
	}
	icmp6_set_csum(b, n, src, dst);
	return n;
}

size_t mld_hbh_emit(uint8_t *b, size_t cap)
{
	/* Next header, length 0 (8 bytes); Router Alert (RFC 2711 2.1),
	 * value 0: MLD; PadN of 2 (RFC 8200 4.2). */
	static const uint8_t hbh[MLD_HBH_LEN] = {IP6_NH_ICMP6, 0, 5, 2, 0, 0, 1, 0};

	if (cap < sizeof(hbh))
		return 0;
	memcpy(b, hbh, sizeof(hbh));
	return sizeof(hbh);
}

/* RFC 3810 5.1.3: linear below 32768 ms, then a floating-point form. */
static uint32_t mld_max_resp(uint16_t code)
{
	if (code < 0x8000)
		return code;
	return ((uint32_t)(code & 0x0fff) | 0x1000) << (((code >> 12) & 7) + 3);
}

enum xs_drop mld_query_parse(const struct icmp6_repr *m, uint8_t hop_limit,
			     const struct ip6_addr *src, struct mld_query *out)
{
	const uint8_t *b = m->data - ICMP6_HDR_LEN;
	size_t n = m->data_len + ICMP6_HDR_LEN;

	memset(out, 0, sizeof(*out));
	if (m->type != MLD_QUERY || hop_limit != MLD_HOP_LIMIT || !ip6_is_linklocal(src))
		return XS_DROP_MLD_BAD;
	if (n < MLD_QUERY_V1_LEN)
		return XS_DROP_MLD_BAD;
	memcpy(out->group.b, b + 8, IP6_ADDR_LEN);
	if (!ip6_is_unspecified(&out->group) && !ip6_is_multicast(&out->group))
		return XS_DROP_MLD_BAD;
	if (n == MLD_QUERY_V1_LEN) {
		/* RFC 2710 3.4: the Maximum Response Delay in plain ms. */
		out->version = 1;
		out->max_resp_ms = ld_be16(b + 4);
		return XS_DROP_NONE;
	}
	/* RFC 3810 8.1: 25-27 bytes is no query; a longer one holds its sources. */
	if (n < MLD_QUERY_V2_LEN)
		return XS_DROP_MLD_BAD;
	out->version = 2;
	out->max_resp_ms = mld_max_resp(ld_be16(b + 4));
	out->nsrc = ld_be16(b + 26);
	if (MLD_QUERY_V2_LEN + (size_t)out->nsrc * IP6_ADDR_LEN > n)
		return XS_DROP_MLD_BAD;
	return XS_DROP_NONE;
}
