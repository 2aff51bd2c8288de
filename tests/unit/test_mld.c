/* MLDv2 (RFC 3810): the wire layer against scapy's bytes, and the stack's
 * listener reports on a virtual clock: joins before DAD, robustness,
 * leaves, the refresh, unicast queries. */
#include "ip6_fixture.h"

#include "net6/mld.h"
#include "wire/icmp6.h"
#include "wire/mld.h"

/* scapy 2.5: IPv6 fe80::1 -> ff02::16 hop 1 / IPv6ExtHdrHopByHop(RouterAlert(0)) /
 * ICMPv6MLReport2(TO_EX ff02::1:ff00:fd, TO_IN ff02::1:ff12:3456), after the IPv6 header. */
static const uint8_t report_pkt[56] = {
    0x3a, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00, 0x8f, 0x00, 0x3a, 0x89, 0x00, 0x00,
    0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0xfd, 0x03, 0x00, 0x00, 0x00, 0xff, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x12, 0x34, 0x56,
};

/* scapy 2.5: ICMPv6MLQuery2(mrd=1000), fe80::2 -> fd00::1: a General Query. */
static const uint8_t query_general[28] = {
    0x82, 0x00, 0x7e, 0x3c, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* scapy 2.5: ICMPv6MLQuery2(mrd=0x9c40, mladdr ff02::1:ff00:1, sources fe80::9). */
static const uint8_t query_specific[44] = {
    0x82, 0x00, 0xe9, 0x42, 0x9c, 0x40, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xfe, 0x80,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
};

static const uint8_t mld_routers6[16] = {0xff, 0x02, [15] = 0x16};
static const uint8_t peer6_ll_q[16] = {0xfe, 0x80, [15] = 2};

static struct ip6_addr a6(const uint8_t *b)
{
	struct ip6_addr a;

	memcpy(a.b, b, 16);
	return a;
}

/* --- wire ------------------------------------------------------------------- */

static void test_report_emit_bytes(void **state)
{
	struct ip6_addr src = {.b = {0xfe, 0x80, [15] = 1}}, dst = a6(mld_routers6);
	struct mld_report r = {.nrec = 2};
	uint8_t b[128];
	size_t n;

	(void)state;
	ip6_solicited_node(&(struct ip6_addr){.b = {0xfd, [15] = 0xfd}}, &r.rec[0].group);
	r.rec[0].type = MLD_TO_EX;
	ip6_solicited_node(&(struct ip6_addr){.b = {0xfd, [13] = 0x12, 0x34, 0x56}},
			   &r.rec[1].group);
	r.rec[1].type = MLD_TO_IN;
	assert_int_equal(mld_hbh_emit(b, sizeof(b)), MLD_HBH_LEN);
	assert_int_equal(mld_report_emitted_len(&r), 48);
	n = mld_report_emit(&r, &src, &dst, b + MLD_HBH_LEN, sizeof(b) - MLD_HBH_LEN);
	assert_int_equal(n, 48);
	assert_memory_equal(b, report_pkt, sizeof(report_pkt));
	/* Too small, too many records, a record with sources: nothing. */
	assert_int_equal(mld_report_emit(&r, &src, &dst, b, 47), 0);
	assert_int_equal(mld_hbh_emit(b, 7), 0);
	r.rec[1].nsrc = 1;
	assert_int_equal(mld_report_emit(&r, &src, &dst, b, sizeof(b)), 0);
	r.rec[1].nsrc = 0;
	r.nrec = MLD_MAX_RECORDS + 1;
	assert_int_equal(mld_report_emit(&r, &src, &dst, b, sizeof(b)), 0);
}

static enum xs_drop parse_report(const uint8_t *b, size_t n, struct mld_report *out)
{
	struct ip6_addr src = {.b = {0xfe, 0x80, [15] = 1}}, dst = a6(mld_routers6);
	struct icmp6_repr m;
	enum xs_drop why = icmp6_parse(b, n, &src, &dst, &m);

	return why ? why : mld_report_parse(&m, out);
}

static void test_report_parse(void **state)
{
	uint8_t b[128];
	struct mld_report r;
	size_t n = sizeof(report_pkt) - MLD_HBH_LEN;
	struct ip6_addr src = {.b = {0xfe, 0x80, [15] = 1}}, dst = a6(mld_routers6);

	(void)state;
	memcpy(b, report_pkt + MLD_HBH_LEN, n);
	assert_int_equal(parse_report(b, n, &r), XS_DROP_NONE);
	assert_int_equal(r.nrec, 2);
	assert_int_equal(r.nrec_kept, 2);
	assert_int_equal(r.rec[0].type, MLD_TO_EX);
	assert_int_equal(r.rec[1].type, MLD_TO_IN);
	assert_int_equal(r.rec[1].group.b[13], 0x12);
	/* One record more than the message holds; one less; a bad type; a
	 * unicast group; sources past the end: each byte changed alone (and
	 * re-checksummed), then back; last, a current-state record. */
	{
		static const struct {
			uint8_t off, val;
		} bad[] = {{7, 3}, {7, 1}, {8, 7}, {12, 0xfd}, {11, 1}};
		unsigned i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t was = b[bad[i].off];

			b[bad[i].off] = bad[i].val;
			icmp6_set_csum(b, n, &src, &dst);
			assert_int_equal(parse_report(b, n, &r), XS_DROP_MLD_BAD);
			b[bad[i].off] = was;
		}
	}
	b[8] = MLD_IS_EX;
	icmp6_set_csum(b, n, &src, &dst);
	assert_int_equal(parse_report(b, n, &r), XS_DROP_NONE);
	assert_int_equal(r.rec[0].type, MLD_IS_EX);
}

static enum xs_drop parse_query(const uint8_t *b, size_t n, uint8_t hop, const uint8_t *srcb,
				struct mld_query *q)
{
	struct ip6_addr src = a6(srcb), dst = a6(our6);
	struct icmp6_repr m;
	enum xs_drop why = icmp6_parse(b, n, &src, &dst, &m);

	return why ? why : mld_query_parse(&m, hop, &src, q);
}

static void test_query_parse(void **state)
{
	struct mld_query q;
	uint8_t b[64];

	(void)state;
	assert_int_equal(parse_query(query_general, 28, 1, peer6_ll_q, &q), XS_DROP_NONE);
	assert_int_equal(q.version, 2);
	assert_int_equal(q.max_resp_ms, 1000);
	assert_true(ip6_is_unspecified(&q.group));
	assert_int_equal(parse_query(query_specific, 44, 1, peer6_ll_q, &q), XS_DROP_NONE);
	assert_int_equal(q.nsrc, 1);
	assert_int_equal(q.group.b[15], 1);
	/* 0x9c40: exponent 1, mantissa 0xc40: (0x1c40) << 4 (RFC 3810 5.1.3). */
	assert_int_equal(q.max_resp_ms, 0x1c400);
	/* Hop limit, source, a source past the end, a truncated one. */
	assert_int_equal(parse_query(query_general, 28, 255, peer6_ll_q, &q), XS_DROP_MLD_BAD);
	assert_int_equal(parse_query(query_general, 28, 1, peer6, &q), XS_DROP_ICMP6_CSUM);
	memcpy(b, query_specific, 44);
	b[27] = 2;
	{
		struct ip6_addr s = a6(peer6_ll_q), d = a6(our6);

		icmp6_set_csum(b, 44, &s, &d);
		assert_int_equal(parse_query(b, 44, 1, peer6_ll_q, &q), XS_DROP_MLD_BAD);
		memcpy(b, query_general, 26);
		icmp6_set_csum(b, 26, &s, &d);
		assert_int_equal(parse_query(b, 26, 1, peer6_ll_q, &q), XS_DROP_MLD_BAD);
		/* MLDv1's 24 bytes: its delay in plain ms. */
		icmp6_set_csum(b, 24, &s, &d);
		assert_int_equal(parse_query(b, 24, 1, peer6_ll_q, &q), XS_DROP_NONE);
		assert_int_equal(q.version, 1);
		assert_int_equal(q.max_resp_ms, 1000);
	}
}

/* --- the stack -------------------------------------------------------------- */

/* What one frame the stack sent was. */
struct seen {
	bool mld, dad;
	uint8_t src[16];
	unsigned nrec;
	uint8_t type[MLD_MAX_RECORDS];
	uint8_t group[MLD_MAX_RECORDS][16];
	uint8_t target[16]; /* dad */
};

/* Reads one frame: an MLD report checked byte by byte by this test's own
 * reading (ff02::16 and its Ethernet group, hop limit 1, the Hop-by-Hop
 * header with Router Alert 0, the ICMPv6 checksum, records without
 * sources), or a DAD solicitation, or anything else. */
static void read_frame(const uint8_t *f, size_t n, struct seen *s)
{
	static const uint8_t hbh[8] = {58, 0, 5, 2, 0, 0, 1, 0};
	static const uint8_t mac[6] = {0x33, 0x33, 0, 0, 0, 0x16};
	const uint8_t *ip = f + ETH_LEN, *m;
	size_t plen, mlen, i;

	memset(s, 0, sizeof(*s));
	if (get16(f + 12) != 0x86dd)
		return;
	if (ip[6] == 58 && f[L4_6] == 135) {
		s->dad = !memcmp(ip + 8, unspec6, 16);
		memcpy(s->target, f + L4_6 + 8, 16);
		return;
	}
	if (ip[6] != 0)
		return;
	m = check_ip6_out(f, n, mac, NULL, mld_routers6, 0, &plen);
	assert_int_equal(ip[7], 1);
	assert_memory_equal(m, hbh, 8);
	m += 8;
	mlen = plen - 8;
	assert_int_equal(csum6(ip + 8, ip + 24, 58, m, mlen), 0);
	assert_int_equal(m[0], 143);
	s->mld = true;
	memcpy(s->src, ip + 8, 16);
	s->nrec = get16(m + 6);
	assert_true(s->nrec >= 1 && s->nrec <= MLD_MAX_RECORDS);
	assert_int_equal(mlen, 8 + 20 * s->nrec);
	for (i = 0; i < s->nrec; i++) {
		const uint8_t *r = m + 8 + 20 * i;

		s->type[i] = r[0];
		assert_int_equal(r[1], 0);
		assert_int_equal(get16(r + 2), 0);
		memcpy(s->group[i], r + 4, 16);
	}
}

/* Counts, over polls every 100 ms until t, the records of type for group,
 * and checks each group's first record of the kind precedes the DAD
 * solicitation of target (when given). */
struct tally {
	unsigned rec[3]; /* for groups[0..ngroups) */
	unsigned other;	 /* records for groups not listed */
	unsigned reports;
	bool dad_seen[3];   /* DAD NS for targets[i] */
	bool dad_before[3]; /* ... came before any report for its group: wrong */
	uint8_t src_ll;	    /* reports from our link-local */
	uint8_t src_unspec; /* ... and from :: */
};

static void run(struct fx *fx, xs_time_t until, uint8_t type, const uint8_t (*groups)[16],
		const uint8_t (*targets)[16], unsigned ngroups, struct tally *t)
{
	uint8_t f[FRAME_MAX], ll[16];
	struct seen s;
	size_t n;
	unsigned i, j;

	our_ll(fx, ll);
	while (fx->now < until) {
		fx_poll(fx, fx->now + XS_MS(100));
		while ((n = take(fx, f))) {
			read_frame(f, n, &s);
			if (s.dad) {
				for (i = 0; i < ngroups; i++)
					if (targets && !memcmp(s.target, targets[i], 16)) {
						t->dad_seen[i] = true;
						t->dad_before[i] |= !t->rec[i];
					}
				continue;
			}
			if (!s.mld)
				continue;
			t->reports++;
			if (!memcmp(s.src, ll, 16))
				t->src_ll++;
			else if (!memcmp(s.src, unspec6, 16))
				t->src_unspec++;
			else
				fail_msg("an MLD report from neither :: nor our link-local");
			for (j = 0; j < s.nrec; j++) {
				bool found = false;

				for (i = 0; i < ngroups; i++)
					if (!memcmp(s.group[j], groups[i], 16) &&
					    s.type[j] == type) {
						t->rec[i]++;
						found = true;
					}
				t->other += !found;
			}
		}
	}
}

static void our_groups(struct fx *fx, uint8_t g[2][16], uint8_t a[2][16])
{
	our_ll(fx, a[0]);
	memcpy(a[1], our6, 16);
	sn6(a[0], g[0]);
	sn6(a[1], g[1]);
	/* The test's secret gives the link-local a group of its own. */
	assert_memory_not_equal(g[0], g[1], 16);
}

/* Each new address's group: TO_EX {} before the address's first DAD NS
 * (RFC 4862 5.4.2), twice in all (RFC 3810 6.1, robustness 2), from :: while
 * the link-local is tentative; nothing for all-nodes. */
static void test_join_before_dad(void **state)
{
	struct fx *fx = *state;
	uint8_t g[2][16], a[2][16];
	struct tally t = {0};
	const struct xs_stats *st;

	fx6_enable_mld(fx, 1, 0, 0);
	our_groups(fx, g, a);
	run(fx, fx->now + XS_SEC(4), MLD_TO_EX, (const uint8_t(*)[16])g, (const uint8_t(*)[16])a, 2,
	    &t);
	assert_int_equal(t.rec[0], MLD_ROBUSTNESS);
	assert_int_equal(t.rec[1], MLD_ROBUSTNESS);
	assert_int_equal(t.other, 0);
	assert_true(t.dad_seen[0] && t.dad_seen[1]);
	assert_false(t.dad_before[0]);
	assert_false(t.dad_before[1]);
	assert_true(t.src_unspec >= 1); /* the first: the link-local is tentative */
	st = xs_stack_stats(fx->st);
	assert_int_equal(st->mld_reports_tx, t.reports);
	assert_int_equal(st->mld_joins, 2);
	assert_int_equal(st->mld_leaves, 0);
	assert_string_equal(addr6_state(fx, our6), "preferred");
	/* Quiet until the refresh. */
	run(fx, fx->now + XS_SEC(50), MLD_TO_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.reports, st->mld_reports_tx);
	assert_int_equal(t.rec[0] + t.rec[1], 2 * MLD_ROBUSTNESS);
}

/* IPv6 on with robustness 3 and no DAD: each group's join sent three times
 * in the first 5 s, from the link-local (valid from the start). */
static void joined_thrice(struct fx *fx, uint8_t g[2][16], uint8_t a[2][16])
{
	struct tally t = {0};

	fx6_enable_mld(fx, XS_IP6_NO_DAD, 0, 3);
	our_groups(fx, g, a);
	run(fx, fx->now + XS_SEC(5), MLD_TO_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.rec[0], 3);
	assert_int_equal(t.rec[1], 3);
	assert_int_equal(t.src_unspec, 0);
}

/* Robustness 3: three each; XS_IP6_NO_MLD: none. */
static void test_robustness(void **state)
{
	struct fx *fx = *state;
	uint8_t g[2][16], a[2][16];
	struct tally t = {0};

	joined_thrice(fx, g, a);
	fx_restart(fx, NULL, 1500, 64, true);
	fx6_enable_mld(fx, XS_IP6_NO_DAD, 0, XS_IP6_NO_MLD);
	memset(&t, 0, sizeof(t));
	run(fx, fx->now + XS_SEC(200), MLD_IS_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.reports, 0);
	assert_int_equal(xs_stack_stats(fx->st)->mld_reports_tx, 0);
}

/* Unasked, every 60-65 s, a current-state report (IS_EX {}) of every group,
 * from the link-local. */
static void test_refresh(void **state)
{
	struct fx *fx = *state;
	uint8_t g[2][16], a[2][16];
	struct tally t = {0};
	xs_time_t t0;

	fx6_enable_mld(fx, XS_IP6_NO_DAD, 0, 0);
	t0 = fx->now;
	our_groups(fx, g, a);
	run(fx, t0 + XS_SEC(59), MLD_IS_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.rec[0] + t.rec[1], 0);
	assert_int_equal(t.other, 2 * MLD_ROBUSTNESS); /* the joins' TO_EX */
	run(fx, t0 + XS_SEC(66), MLD_IS_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.rec[0], 1);
	assert_int_equal(t.rec[1], 1);
	run(fx, t0 + XS_SEC(10 * 65 + 1), MLD_IS_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	/* One a 60-65 s: 10 or 11 by 651 s. */
	assert_in_range(t.rec[0], 10, 11);
	assert_int_equal(t.rec[0], t.rec[1]);
	assert_int_equal(t.src_unspec, 0);
}

/* A static address found duplicate: its group is left (TO_IN {}, twice) and
 * is in no refresh; the link-local's stays. */
static void test_leave_on_duplicate(void **state)
{
	struct fx *fx = *state;
	uint8_t g[2][16], a[2][16], f[FRAME_MAX], m[6];
	struct tally t = {0};
	size_t n;

	fx6_enable_mld(fx, 1, 0, 0);
	our_groups(fx, g, a);
	/* Someone answers fd00::1's DAD NS (which followed its join). */
	while (!t.dad_seen[1])
		run(fx, fx->now + XS_MS(100), MLD_TO_EX, (const uint8_t(*)[16])g,
		    (const uint8_t(*)[16])a, 2, &t);
	assert_false(t.dad_before[1]);
	assert_string_equal(addr6_state(fx, our6), "tentative");
	mcast_mac6(all_nodes6, m);
	n = mk_na6(f, m, peer6, all_nodes6, our6, 0x20, peer_mac);
	inject(fx, f, n);
	memset(&t, 0, sizeof(t));
	run(fx, fx->now + XS_SEC(4), MLD_TO_IN, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_string_equal(addr6_state(fx, our6), "duplicate");
	assert_int_equal(t.rec[0], 0);
	assert_int_equal(t.rec[1], MLD_ROBUSTNESS);
	assert_int_equal(xs_stack_stats(fx->st)->mld_leaves, 1);
	memset(&t, 0, sizeof(t));
	run(fx, fx->now + XS_SEC(70), MLD_IS_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.rec[0], 1);
	assert_int_equal(t.rec[1], 0);
}

/* At exit (xs_ip6_mld_leave): TO_IN {} for every announced group, sent
 * robustness times at once, and nothing reported after it. */
static void test_leave_at_exit(void **state)
{
	struct fx *fx = *state;
	uint8_t g[2][16], a[2][16];
	struct tally t = {0};

	joined_thrice(fx, g, a);
	assert_int_equal(xs_ip6_mld_leave(fx->st), 3);
	run(fx, fx->now + XS_MS(100), MLD_TO_IN, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.reports, 3);
	assert_int_equal(t.rec[0], 3);
	assert_int_equal(t.rec[1], 3);
	assert_int_equal(t.other, 0);
	assert_int_equal(t.src_ll, 3);
	assert_int_equal(xs_stack_stats(fx->st)->mld_leaves, 2);
	/* Left for good: no refresh, and a second call has nothing to leave. */
	assert_int_equal(xs_ip6_mld_leave(fx->st), 0);
	memset(&t, 0, sizeof(t));
	run(fx, fx->now + XS_SEC(70), MLD_IS_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.reports, 0);
}

/* Ethernet + IPv6 (hop limit 1) + Hop-by-Hop Router Alert + the query. */
static size_t mk_query(uint8_t *b, const uint8_t *q, size_t qlen, uint8_t hop)
{
	static const uint8_t hbh[8] = {58, 0, 5, 2, 0, 0, 1, 0};
	struct ip6_addr s = a6(peer6_ll_q), d = a6(our6);
	uint8_t *l4 = b + L4_6;

	memcpy(l4, hbh, 8);
	memcpy(l4 + 8, q, qlen);
	icmp6_set_csum(l4 + 8, qlen, &s, &d);
	return mk_ip6(b, our_mac, peer_mac, peer6_ll_q, our6, 0, hop, 8 + qlen);
}

/* A unicast query (the only kind the XDP program lets reach the stack):
 * answered within its delay with IS_EX {} of every group, or of the one it
 * names; a malformed one is counted. */
static void test_unicast_query(void **state)
{
	struct fx *fx = *state;
	uint8_t g[2][16], a[2][16], f[FRAME_MAX], q[44];
	struct tally t = {0};
	size_t n;

	fx6_enable_mld(fx, XS_IP6_NO_DAD, 0, 0);
	our_groups(fx, g, a);
	run(fx, fx->now + XS_SEC(3), MLD_IS_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	fx_snap(fx);
	n = mk_query(f, query_general, sizeof(query_general), 1);
	inject(fx, f, n);
	memset(&t, 0, sizeof(t));
	run(fx, fx->now + XS_MS(1100), MLD_IS_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.rec[0], 1);
	assert_int_equal(t.rec[1], 1);
	assert_int_equal(t.reports, 1);
	assert_int_equal(xs_stack_stats(fx->st)->mld_queries, 1);
	/* For fd00::1's group alone (its delay capped at 10 s). */
	memcpy(q, query_specific, sizeof(q));
	memcpy(q + 8, g[1], 16);
	n = mk_query(f, q, sizeof(q), 1);
	inject(fx, f, n);
	memset(&t, 0, sizeof(t));
	run(fx, fx->now + XS_MS(10100), MLD_IS_EX, (const uint8_t(*)[16])g, NULL, 2, &t);
	assert_int_equal(t.rec[0], 0);
	assert_int_equal(t.rec[1], 1);
	/* Hop limit 255: not a query (RFC 3810 5.1.14). */
	n = mk_query(f, query_general, sizeof(query_general), 255);
	inject(fx, f, n);
	fx_poll(fx, fx->now + XS_MS(100));
	expect_drops(fx, XS_DROP_MLD_BAD, 1, "query with hop limit 255");
	expect_nothing_sent(fx, "after a bad query");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_emit_bytes),
	    cmocka_unit_test(test_report_parse),
	    cmocka_unit_test(test_query_parse),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_join_before_dad),
	    T(test_robustness),
	    T(test_refresh),
	    T(test_leave_on_duplicate),
	    T(test_leave_at_exit),
	    T(test_unicast_query),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
