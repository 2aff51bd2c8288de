/* MLDv2 Listener Reports (RFC 3810 5.2) and the Hop-by-Hop header with the
 * Router Alert option they travel behind (RFC 2711): parse, emit. No state. */
#ifndef XS_WIRE_MLD_H
#define XS_WIRE_MLD_H

#include <stddef.h>
#include <stdint.h>

#include <xdpstack/stats.h>

#include "wire/icmp6.h"
#include "wire/ip6.h"

#define MLD_QUERY 130	   /* RFC 3810 5.1 (and MLDv1's, RFC 2710) */
#define MLD_REPORT_V2 143  /* RFC 3810 5.2 */
#define MLD_HOP_LIMIT 1	   /* RFC 3810 5: link-local, never forwarded */
#define MLD_REPORT_HDR 8   /* type, reserved, checksum, reserved, Nr of records */
#define MLD_RECORD_HDR 20  /* type, aux len, number of sources, group */
#define MLD_HBH_LEN 8	   /* Hop-by-Hop: Router Alert + PadN */
#define MLD_MAX_RECORDS 16 /* records one repr holds (parse keeps the first) */

/* Multicast Address Record types (RFC 3810 5.2.12). */
#define MLD_IS_IN 1 /* current state: MODE_IS_INCLUDE */
#define MLD_IS_EX 2 /* current state: MODE_IS_EXCLUDE */
#define MLD_TO_IN 3 /* filter mode change: CHANGE_TO_INCLUDE_MODE */
#define MLD_TO_EX 4 /* filter mode change: CHANGE_TO_EXCLUDE_MODE */
#define MLD_ALLOW 5 /* source list change: ALLOW_NEW_SOURCES */
#define MLD_BLOCK 6 /* source list change: BLOCK_OLD_SOURCES */

extern const struct ip6_addr mld_all_routers; /* ff02::16, all MLDv2-capable routers */

/* One record. The stack listens to whole groups (EXCLUDE {} to join,
 * INCLUDE {} to leave, RFC 3810 6.1), so it emits no sources; parse
 * counts a record's sources and skips them. */
struct mld_record {
	uint8_t type;  /* MLD_IS_IN .. MLD_BLOCK */
	uint16_t nsrc; /* parse: sources listed (skipped); emit: must be 0 */
	struct ip6_addr group;
};

struct mld_report {
	uint16_t nrec;	    /* records in the message */
	uint16_t nrec_kept; /* parse: in rec[] (at most MLD_MAX_RECORDS) */
	struct mld_record rec[MLD_MAX_RECORDS];
};

/* m is a parsed ICMPv6 message (checksum checked) of type MLD_REPORT_V2.
 * Checks the length against the Nr of Records and each record's sources and
 * auxiliary data, the record types, and that each group is multicast.
 * XS_DROP_NONE, or XS_DROP_MLD_BAD. */
enum xs_drop mld_report_parse(const struct icmp6_repr *m, struct mld_report *out);
/* Bytes mld_report_emit writes for r (records without sources). */
size_t mld_report_emitted_len(const struct mld_report *r);
/* Writes the whole ICMPv6 message with its checksum over src/dst. Bytes
 * written, or 0 (cap too small, more than MLD_MAX_RECORDS, a record with
 * sources). */
size_t mld_report_emit(const struct mld_report *r, const struct ip6_addr *src,
		       const struct ip6_addr *dst, uint8_t *b, size_t cap);
/* The 8-byte Hop-by-Hop header MLD needs (RFC 3810 5: Router Alert, value 0
 * for MLD, RFC 2711), before an ICMPv6 header: Next Header 58, length 0,
 * Router Alert, PadN of 2. Returns 8, or 0 if cap is too small. */
size_t mld_hbh_emit(uint8_t *b, size_t cap);

/* A Multicast Listener Query, MLDv1 (24 bytes, RFC 2710 3) or MLDv2 (28 and
 * more, RFC 3810 5.1). */
struct mld_query {
	uint32_t max_resp_ms;  /* Maximum Response Delay, decoded (5.1.3) */
	struct ip6_addr group; /* unspecified: a General Query */
	uint16_t nsrc;	       /* sources of an MLDv2 query (skipped) */
	uint8_t version;       /* 1 or 2 */
};

/* m is a parsed ICMPv6 message of type MLD_QUERY that arrived with
 * hop_limit from src: hop limit 1 and a link-local source (RFC 3810 5.1.14,
 * 5.1), a length of 24 or one holding its sources, a multicast or
 * unspecified group. XS_DROP_NONE, or XS_DROP_MLD_BAD. */
enum xs_drop mld_query_parse(const struct icmp6_repr *m, uint8_t hop_limit,
			     const struct ip6_addr *src, struct mld_query *out);

#endif
