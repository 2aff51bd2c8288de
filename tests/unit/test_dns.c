/* Unit tests of the DNS message parser and emitter (user/wire/dns.c): a good
 * reply with a CNAME chain, negative answers, and a table of hostile ones. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "wire/bytes.h"
#include "wire/dns.h"

/* Parses from a heap copy of exactly n bytes, so ASan sees any over-read. */
static enum xs_drop parse(const uint8_t *msg, size_t n, struct dns_msg *m)
{
	uint8_t *b = malloc(n ? n : 1);
	enum xs_drop d;

	memcpy(b, msg, n);
	d = dns_parse(b, n, m);
	free(b);
	return d;
}

#define HDR(id, flags, qd, an, ns, ar) \
	(id) >> 8, (id) & 0xff, (flags) >> 8, (flags) & 0xff, 0, qd, 0, an, 0, ns, 0, ar
#define QWWW 3, 'w', 'w', 'w', 1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 /* www.a.test A IN */
#define A_CLASS_TTL(ttl) 0, 1, 0, 1, 0, 0, (ttl) >> 8, (ttl) & 0xff

/* www.a.test CNAME b.a.test (compressed), b.a.test A 10.0.0.7 */
static const uint8_t good[] = {
	HDR(0x1234, 0x8180, 1, 2, 0, 0), QWWW,
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'b', 0xc0, 16,
	0xc0, 40, A_CLASS_TTL(30), 0, 4, 10, 0, 0, 7,
};

static void test_good_reply(void **state)
{
	struct dns_msg m;
	struct dns_name n;
	char text[256];

	assert_int_equal(parse(good, sizeof(good), &m), XS_DROP_NONE);
	assert_int_equal(m.id, 0x1234);
	assert_true(m.qr);
	assert_false(m.tc);
	assert_int_equal(m.rcode, 0);
	assert_int_equal(dns_name_from_text("WWW.a.Test.", &n), 0);
	assert_true(dns_name_eq(&m.qname, &n));
	assert_int_equal(m.an_n, 2);
	assert_int_equal(m.an[0].type, DNS_TYPE_CNAME);
	assert_true(dns_name_eq(&m.an[0].owner, &n));
	assert_int_equal(dns_name_to_text(&m.an[0].target, text, sizeof(text)), 8);
	assert_string_equal(text, "b.a.test");
	assert_int_equal(m.an[1].type, DNS_TYPE_A);
	assert_true(dns_name_eq(&m.an[1].owner, &m.an[0].target));
	assert_int_equal(m.an[1].a, 0x0a000007);
	assert_int_equal(m.an[1].ttl, 30);
	/* Every prefix is refused: nothing reads past what is there. */
	for (size_t i = 0; i < sizeof(good); i++)
		assert_int_not_equal(parse(good, i, &m), XS_DROP_NONE);
}

static void test_nxdomain_soa(void **state)
{
	/* NXDOMAIN, SOA a.test: mname ns (compressed), rname root, minimum 5. */
	static const uint8_t nx[] = {
		HDR(7, 0x8183, 1, 0, 1, 0), QWWW,
		0xc0, 16, 0, 6, 0, 1, 0, 0, 1, 0, 0, 26, 2, 'n', 's', 0xc0, 16, 0,
		0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5,
	};
	struct dns_msg m;

	assert_int_equal(parse(nx, sizeof(nx), &m), XS_DROP_NONE);
	assert_int_equal(m.rcode, DNS_RCODE_NXDOMAIN);
	assert_true(m.has_soa);
	assert_int_equal(m.soa_ttl, 256);
	assert_int_equal(m.soa_minimum, 5);
	assert_int_equal(m.an_n, 0);
}

static void test_truncated_reply(void **state)
{
	/* TC set, two answers promised, none present: allowed (RFC 1035 4.1.2). */
	static const uint8_t tc[] = { HDR(9, 0x8380, 1, 2, 0, 0), QWWW };
	static const uint8_t notc[] = { HDR(9, 0x8180, 1, 2, 0, 0), QWWW };
	struct dns_msg m;

	assert_int_equal(parse(tc, sizeof(tc), &m), XS_DROP_NONE);
	assert_true(m.tc);
	assert_int_equal(parse(notc, sizeof(notc), &m), XS_DROP_DNS_COUNT);
}

struct bad_case {
	const char *what;
	uint8_t msg[300];
	size_t len;
	enum xs_drop why;
};

#define BAD(what_, why_, ...) \
	{ .what = what_, .msg = { __VA_ARGS__ }, .len = sizeof((uint8_t[]){ __VA_ARGS__ }), .why = why_ }

static const struct bad_case bad[] = {
	BAD("header short", XS_DROP_DNS_SHORT, 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0),
	BAD("no question", XS_DROP_DNS_QDCOUNT, HDR(1, 0x8180, 0, 0, 0, 0)),
	BAD("two questions", XS_DROP_DNS_QDCOUNT, HDR(1, 0x8180, 2, 0, 0, 0), QWWW, QWWW),
	BAD("pointer to itself", XS_DROP_DNS_PTR_FORWARD, HDR(1, 0x8180, 1, 0, 0, 0), 0xc0, 12,
	    0, 1, 0, 1),
	BAD("pointer forward", XS_DROP_DNS_PTR_FORWARD, HDR(1, 0x8180, 1, 0, 0, 0), 0xc0, 16, 0,
	    1, 0, 1, 1, 'x', 0),
	BAD("pointer past end", XS_DROP_DNS_PTR_PAST_END, HDR(1, 0x8180, 1, 0, 0, 0), 0xc1, 0,
	    0, 1, 0, 1),
	/* "b" at 28 whose pointer lands on itself. */
	BAD("compression loop", XS_DROP_DNS_PTR_LOOP, HDR(1, 0x8180, 1, 1, 0, 0), QWWW,
	    1, 'b', 0xc0, 28, A_CLASS_TTL(1), 0, 4, 1, 2, 3, 4),
	/* An A record's data at 40 is "z" + pointer to 40; the next owner
	 * points there: owner -> rdata -> rdata. */
	BAD("two-hop loop", XS_DROP_DNS_PTR_LOOP, HDR(1, 0x8180, 1, 2, 0, 0), QWWW,
	    0xc0, 12, A_CLASS_TTL(1), 0, 4, 1, 'z', 0xc0, 40,
	    0xc0, 40, A_CLASS_TTL(1), 0, 4, 1, 2, 3, 4),
	BAD("label over 63", XS_DROP_DNS_LABEL_LONG, HDR(1, 0x8180, 1, 0, 0, 0), 64, 'x'),
	BAD("reserved label type", XS_DROP_DNS_LABEL_LONG, HDR(1, 0x8180, 1, 0, 0, 0), 0x41, 0),
	BAD("label past end", XS_DROP_DNS_SHORT, HDR(1, 0x8180, 1, 0, 0, 0), 5, 'a', 'b'),
	BAD("question type cut", XS_DROP_DNS_SHORT, HDR(1, 0x8180, 1, 0, 0, 0), 0, 0, 1, 0),
	BAD("rdlength past end", XS_DROP_DNS_RDLEN, HDR(1, 0x8180, 1, 1, 0, 0), QWWW, 0xc0, 12,
	    A_CLASS_TTL(1), 0, 5, 1, 2, 3, 4),
	BAD("answer count too large", XS_DROP_DNS_COUNT, HDR(1, 0x8180, 1, 2, 0, 0), QWWW, 0xc0,
	    12, A_CLASS_TTL(1), 0, 4, 1, 2, 3, 4),
	BAD("authority count too large", XS_DROP_DNS_COUNT, HDR(1, 0x8180, 1, 0, 1, 0), QWWW),
	BAD("additional count too large", XS_DROP_DNS_COUNT, HDR(1, 0x8180, 1, 0, 0, 3), QWWW),
	BAD("record fixed part cut", XS_DROP_DNS_SHORT, HDR(1, 0x8180, 1, 1, 0, 0), QWWW, 0xc0,
	    12, 0, 1, 0, 1),
	BAD("A of 3 bytes", XS_DROP_DNS_RDATA, HDR(1, 0x8180, 1, 1, 0, 0), QWWW, 0xc0, 12,
	    A_CLASS_TTL(1), 0, 3, 1, 2, 3),
	BAD("CNAME shorter than rdlength", XS_DROP_DNS_RDATA, HDR(1, 0x8180, 1, 1, 0, 0), QWWW,
	    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 3, 0, 9, 9),
	BAD("CNAME running past rdlength", XS_DROP_DNS_RDATA, HDR(1, 0x8180, 1, 1, 0, 0), QWWW,
	    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, 1, 'x', 0),
	BAD("SOA short", XS_DROP_DNS_RDATA, HDR(1, 0x8183, 1, 0, 1, 0), QWWW, 0xc0, 12, 0, 6, 0,
	    1, 0, 0, 0, 1, 0, 3, 0, 0, 0),
};

/* Names over 255 octets: four 63-byte labels are 256 with the root. */
static void test_name_too_long(void **state)
{
	uint8_t b[DNS_HDR_LEN + 300] = { HDR(1, 0x8180, 1, 0, 0, 0) };
	struct dns_msg m;
	struct dns_name n;
	size_t p = DNS_HDR_LEN;
	char text[300];

	for (int i = 0; i < 4; i++) {
		b[p++] = 63;
		memset(b + p, 'x', 63);
		p += 63;
	}
	b[p++] = 0;
	p += 4;
	assert_int_equal(parse(b, p, &m), XS_DROP_DNS_NAME_LONG);
	/* The same through compression: a short name pointing at a long one
	 * still totals over 255. */
	memset(text, 0, sizeof(text));
	for (int i = 0; i < 4; i++)
		memset(text + i * 64, i == 3 ? 'y' : 'x', i == 3 ? 62 : 63), text[i * 64 + 63] = '.';
	text[4 * 64 - 2] = 0;
	assert_int_equal(dns_name_from_text(text, &n), -EINVAL); /* 255 + root */
	text[4 * 64 - 3] = 0;
	assert_int_equal(dns_name_from_text(text, &n), 0);
	assert_int_equal(n.len, 255);
}

static void test_bad_table(void **state)
{
	struct dns_msg m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum xs_drop d = parse(bad[i].msg, bad[i].len, &m);

		if (d != bad[i].why)
			fail_msg("%s: got %s, want %s", bad[i].what, xs_drop_name(d),
				 xs_drop_name(bad[i].why));
	}
}

static void test_query_emit(void **state)
{
	struct dns_name n;
	struct dns_msg m;
	uint8_t b[512];
	size_t len;

	assert_int_equal(dns_name_from_text("Www.A.test", &n), 0);
	len = dns_query_emit(0xbeef, &n, DNS_TYPE_A, b, sizeof(b));
	assert_int_equal(len, 12 + 12 + 4);
	assert_int_equal(ld_be16(b), 0xbeef);
	assert_int_equal(ld_be16(b + 2), 0x0100);
	assert_int_equal(parse(b, len, &m), XS_DROP_NONE);
	assert_false(m.qr);
	assert_true(m.rd);
	assert_true(dns_name_eq(&m.qname, &n));
	assert_int_equal(m.qtype, DNS_TYPE_A);
	assert_int_equal(dns_query_emit(1, &n, DNS_TYPE_A, b, len - 1), 0);
	/* Text forms refused. */
	assert_int_equal(dns_name_from_text("", &n), -EINVAL);
	assert_int_equal(dns_name_from_text("a..b", &n), -EINVAL);
	assert_int_equal(dns_name_from_text("a b", &n), -EINVAL);
	assert_int_equal(dns_name_from_text(".a", &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_reply),   cmocka_unit_test(test_nxdomain_soa),
		cmocka_unit_test(test_truncated_reply), cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_name_too_long), cmocka_unit_test(test_query_emit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
