/* Unit tests of the filter rule parser (user/wire/filter_rule.c): a table of good
 * lines with their reprs and canonical text, and a table of bad lines with the field named. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "wire/filter_rule.h"

static int parse(const char *s, struct filter_rule *r, struct filter_err *e)
{
	memset(e, 0, sizeof(*e));
	return filter_rule_parse(s, strlen(s), r, e);
}

static void test_good_lines(void **state)
{
	static const struct {
		const char *line;
		const char *canon;
	} t[] = {
	    {"accept", "accept"},
	    {"drop in", "drop in"},
	    {"  drop   out udp  ", "drop out udp"},
	    {"accept in icmp src 10.0.0.0/8", "accept in icmp src 10.0.0.0/8"},
	    {"drop in udp dport 5000-5010 # comment", "drop in udp dport 5000-5010"},
	    {"drop in tcp src 10.1.2.3 dst 10.0.0.1/32 sport 1024-65535 dport 80",
	     "drop in tcp src 10.1.2.3/32 dst 10.0.0.1/32 sport 1024-65535 dport 80"},
	    {"reject tcp dport 23", "reject in tcp dport 23"},
	    {"drop in tcp tcp-flags syn,!ack", "drop in tcp tcp-flags syn,!ack"},
	    {"drop in tcp tcp-flags ACK,SYN", "drop in tcp tcp-flags syn,ack"},
	    {"accept in udp dport 9 rate 100/s", "accept in udp dport 9 rate 100/s burst 100"},
	    {"accept udp rate 10/s burst 3", "accept udp rate 10/s burst 3"},
	    {"dport 80 tcp drop", NULL}, /* action first: error, see below */
	    {"accept dst 0.0.0.0/0", "accept"},
	    {"accept sport 0-65535 tcp", "accept tcp"},
	};
	char buf[FILTER_LINE_MAX];
	struct filter_rule r, r2;
	struct filter_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = parse(t[i].line, &r, &e);

		if (!t[i].canon) {
			assert_int_equal(rc, -EINVAL);
			continue;
		}
		assert_int_equal(rc, 1);
		filter_rule_format(&r, buf, sizeof(buf));
		assert_string_equal(buf, t[i].canon);
		assert_int_equal(parse(buf, &r2, &e), 1);
		assert_memory_equal(&r, &r2, sizeof(r));
	}
}

static void test_fields(void **state)
{
	struct filter_rule r;
	struct filter_err e;

	(void)state;
	assert_int_equal(parse("drop in tcp src 192.168.1.0/24 dport 22 tcp-flags syn,!ack "
			       "rate 5/s burst 2",
			       &r, &e),
			 1);
	assert_int_equal(r.action, FILTER_DROP);
	assert_int_equal(r.dirs, FILTER_DIR_IN);
	assert_int_equal(r.proto, 6);
	assert_int_equal(r.src, 0xc0a80100u);
	assert_int_equal(r.src_len, 24);
	assert_int_equal(r.dst_len, 0);
	assert_int_equal(r.sport_lo, 0);
	assert_int_equal(r.sport_hi, 65535);
	assert_int_equal(r.dport_lo, 22);
	assert_int_equal(r.dport_hi, 22);
	assert_int_equal(r.flags_mask, FILTER_TCP_SYN | FILTER_TCP_ACK);
	assert_int_equal(r.flags_set, FILTER_TCP_SYN);
	assert_int_equal(r.rate, 5);
	assert_int_equal(r.burst, 2);
	assert_int_equal(parse("accept", &r, &e), 1);
	assert_int_equal(r.dirs, FILTER_DIR_IN | FILTER_DIR_OUT);
}

static void test_blank_and_comments(void **state)
{
	struct filter_rule r;
	struct filter_err e;

	(void)state;
	assert_int_equal(parse("", &r, &e), 0);
	assert_int_equal(parse("   \t ", &r, &e), 0);
	assert_int_equal(parse("# drop everything", &r, &e), 0);
	assert_int_equal(parse("  #", &r, &e), 0);
	/* Length bounds the parse: "drop" is cut to "dro". */
	assert_int_equal(filter_rule_parse("drop", 3, &r, &e), -EINVAL);
}

static void test_bad_lines(void **state)
{
	static const struct {
		const char *line;
		const char *field;
		const char *got;
	} t[] = {
	    {"allow in", "action", "allow"},
	    {"dport 80 tcp drop", "action", "dport"},
	    {"drop sideways", "rule", "sideways"},
	    {"drop in out", "direction", "out"},
	    {"drop udp tcp", "protocol", "tcp"},
	    {"reject out tcp", "direction", "out"},
	    {"drop src", "src", ""},
	    {"drop src 10.0.0", "src", "10.0.0"},
	    {"drop src 10.0.0.256", "src", "10.0.0.256"},
	    {"drop src 10.0.0.1/33", "src", "10.0.0.1/33"},
	    {"drop src 10.0.0.1/24", "src", "10.0.0.1/24"},
	    {"drop dst 010.0.0.1", "dst", "010.0.0.1"},
	    {"drop dst 10.0.0.1/", "dst", "10.0.0.1/"},
	    {"drop src 1.2.3.4 src 1.2.3.4", "src", "src"},
	    {"drop udp dport 70000", "dport", "70000"},
	    {"drop udp dport 90-80", "dport", "90-80"},
	    {"drop udp dport 80-", "dport", "80-"},
	    {"drop udp dport -1", "dport", "-1"},
	    {"drop udp sport x", "sport", "x"},
	    {"drop dport 80", "dport", ""},
	    {"drop icmp sport 80", "sport", ""},
	    {"drop udp tcp-flags syn", "tcp-flags", ""},
	    {"drop tcp tcp-flags syn,", "tcp-flags", "syn,"},
	    {"drop tcp tcp-flags syn,syn", "tcp-flags", "syn,syn"},
	    {"drop tcp tcp-flags !", "tcp-flags", "!"},
	    {"drop tcp tcp-flags foo", "tcp-flags", "foo"},
	    {"accept rate 10", "rate", "10"},
	    {"accept rate 0/s", "rate", "0/s"},
	    {"accept rate 10000001/s", "rate", "10000001/s"},
	    {"accept rate 10/m", "rate", "10/m"},
	    {"accept burst 5", "burst", ""},
	    {"accept rate 5/s burst 0", "burst", "0"},
	    {"accept rate 5/s burst 99999999999", "burst", "99999999999"},
	};
	char buf[256];
	struct filter_rule r;
	struct filter_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&r, 0xa5, sizeof(r));
		if (parse(t[i].line, &r, &e) != -EINVAL)
			fail_msg("accepted: %s", t[i].line);
		assert_string_equal(e.field, t[i].field);
		assert_string_equal(e.got, t[i].got);
		assert_non_null(e.expected);
		e.line = 7;
		filter_err_format(&e, buf, sizeof(buf));
		assert_non_null(strstr(buf, "line 7: "));
		assert_non_null(strstr(buf, "expected "));
		/* The repr is untouched on error. */
		assert_int_equal(((uint8_t *)&r)[0], 0xa5);
	}
}

static void test_err_text(void **state)
{
	struct filter_rule r;
	struct filter_err e;
	char buf[256];

	(void)state;
	assert_int_equal(parse("drop udp dport 70000", &r, &e), -EINVAL);
	e.line = 3;
	filter_err_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "line 3: dport: expected a port or range P[-P] (0-65535, low <= "
				 "high), got '70000'");
	/* Long or binary junk is cut and made printable. */
	assert_int_equal(
	    parse("drop \x01\x02xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &r, &e), -EINVAL);
	assert_int_equal(strlen(e.got), sizeof(e.got) - 1);
	assert_int_equal(e.got[0], '?');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_lines),	       cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_blank_and_comments), cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_err_text),
	};

	return cmocka_run_group_tests_name("filter_rule", tests, NULL, NULL);
}
