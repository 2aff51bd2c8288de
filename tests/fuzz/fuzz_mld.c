/* libFuzzer target: MLD messages through mld_query_parse and
 * mld_report_parse, and what the report parser accepts through emit and back.
 *
 * Input: byte 0 picks the type (bit 0: a Version 2 Report, else a Query),
 * bit 1 a hop limit of 255 instead of 1, bit 2 a global source instead of a
 * link-local one; the rest is the message after its type, code 0 and
 * checksum (computed here over the pseudo header). Checks: only
 * XS_DROP_MLD_BAD; an accepted query has hop limit 1, a link-local source, a
 * multicast or unspecified group and its sources within the message; an
 * accepted report keeps at most MLD_MAX_RECORDS records, each of a known
 * type for a multicast group; a report whose records have no sources nor
 * auxiliary data emits back to the same bytes. */
#include <string.h>

#include "fuzz.h"
#include "wire/bytes.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"
#include "wire/mld.h"

#define MSG_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ip6_addr src = {.b = {0xfe, 0x80, [15] = 2}}, dst = mld_all_routers;
	uint8_t *m, out[MSG_MAX];
	struct icmp6_repr ic;
	struct mld_report r;
	struct mld_query q;
	enum xs_drop d;
	uint8_t hop;
	size_t n, len;
	unsigned i;

	if (size < 5 || size - 1 + 4 > MSG_MAX)
		return 0;
	n = size - 1 + 4;
	m = malloc(n);
	if (!m)
		return 0;
	m[0] = data[0] & 1 ? MLD_REPORT_V2 : MLD_QUERY;
	m[1] = 0;
	memcpy(m + 4, data + 1, size - 1);
	hop = data[0] & 2 ? 255 : MLD_HOP_LIMIT;
	if (data[0] & 4)
		src.b[0] = 0x20, src.b[1] = 0x01;
	icmp6_set_csum(m, n, &src, &dst);
	FUZZ_CHECK(icmp6_parse(m, n, &src, &dst, &ic) == XS_DROP_NONE);
	if (m[0] == MLD_QUERY) {
		d = mld_query_parse(&ic, hop, &src, &q);
		FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_MLD_BAD);
		if (d)
			goto out;
		FUZZ_CHECK(hop == MLD_HOP_LIMIT && ip6_is_linklocal(&src));
		FUZZ_CHECK(ip6_is_unspecified(&q.group) || ip6_is_multicast(&q.group));
		FUZZ_CHECK(q.version == 1 ? n == 24 : n >= 28 + (size_t)q.nsrc * 16);
		goto out;
	}
	d = mld_report_parse(&ic, &r);
	FUZZ_CHECK(d == XS_DROP_NONE || d == XS_DROP_MLD_BAD);
	if (d)
		goto out;
	FUZZ_CHECK(r.nrec_kept <= MLD_MAX_RECORDS && r.nrec_kept <= r.nrec);
	FUZZ_CHECK(n >= MLD_REPORT_HDR + (size_t)r.nrec * MLD_RECORD_HDR);
	for (i = 0; i < r.nrec_kept; i++) {
		FUZZ_CHECK(r.rec[i].type >= MLD_IS_IN && r.rec[i].type <= MLD_BLOCK);
		FUZZ_CHECK(ip6_is_multicast(&r.rec[i].group));
	}
	/* Without sources or auxiliary data, the message is what emit makes
	 * (the reserved bytes zeroed). */
	if (r.nrec == r.nrec_kept && n == mld_report_emitted_len(&r)) {
		for (i = 0; i < r.nrec; i++)
			FUZZ_CHECK(r.rec[i].nsrc == 0);
		len = mld_report_emit(&r, &src, &dst, out, sizeof(out));
		FUZZ_CHECK(len == n);
		m[1] = m[4] = m[5] = 0;
		for (i = 0; i < r.nrec; i++)
			m[MLD_REPORT_HDR + i * MLD_RECORD_HDR + 1] = 0;
		icmp6_set_csum(m, n, &src, &dst);
		FUZZ_CHECK(!memcmp(out, m, n));
	}
out:
	free(m);
	return 0;
}
