/* Unit tests of the iperf3 service's JSON (user/app/iperf3_json.c) and of its
 * parameter intake and results message (user/app/svc_iperf3_json.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The daemon's modules are not in libxdpstack: compiled in here. */
#include "app/iperf3_json.c"
#include "app/svc_iperf3_json.c"

/* --- writer ------------------------------------------------------------- */

static void test_writer_shapes(void **state)
{
	char buf[256];
	struct jw w;

	jw_init(&w, buf, sizeof(buf));
	jw_obj_begin(&w, NULL);
	jw_int(&w, "a", -1);
	jw_double(&w, "b", 0.5);
	jw_bool(&w, "c", true);
	jw_str(&w, "d", "q\"\\\n\x01");
	jw_arr_begin(&w, "e");
	jw_int(&w, NULL, 1);
	jw_obj_begin(&w, NULL);
	jw_obj_end(&w);
	jw_arr_begin(&w, NULL);
	jw_arr_end(&w);
	jw_arr_end(&w);
	jw_double(&w, "f", 1.0 / 0.0);
	jw_obj_end(&w);
	assert_false(w.overflow);
	assert_string_equal(buf,
			    "{\"a\":-1,\"b\":0.500000,\"c\":true,"
			    "\"d\":\"q\\\"\\\\\\u000a\\u0001\",\"e\":[1,{},[]],\"f\":0.000000}");
	assert_int_equal(w.len, strlen(buf));
}

static void test_writer_overflow(void **state)
{
	char buf[8];
	struct jw w;

	jw_init(&w, buf, sizeof(buf));
	jw_obj_begin(&w, NULL);
	jw_str(&w, "key", "value");
	assert_true(w.overflow);
	assert_true(w.len < sizeof(buf));
	assert_int_equal(buf[w.len], 0);
	jw_obj_end(&w); /* stays overflowed, nothing written past the end */
	assert_true(w.overflow);
}

/* --- parser ------------------------------------------------------------- */

struct seen {
	int n;
	char keys[8][16];
	enum ij_type types[8];
	double nums[8];
};

static int record(const struct ij_member *m, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%.*s", (int)m->key_len, m->key);
		s->types[s->n] = m->type;
		s->nums[s->n] = m->num;
	}
	s->n++;
	return 0;
}

static int parse(const char *text, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return ij_parse_object(text, strlen(text), record, s);
}

static void test_parser_members(void **state)
{
	struct seen s;

	assert_int_equal(parse(" {\"tcp\":true,\"time\":2,\"x\":{\"y\":[1,\"a\\u00e9\",null]},"
			       "\"f\":-1.5e3,\"s\":\"\\\"\",\"n\":null}\r\n",
			       &s),
			 0);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.keys[0], "tcp");
	assert_int_equal(s.types[0], IJ_BOOL);
	assert_int_equal(s.types[1], IJ_NUM);
	assert_true(s.nums[1] == 2);
	assert_int_equal(s.types[2], IJ_OBJ);
	assert_true(s.nums[3] == -1500);
	assert_int_equal(s.types[4], IJ_STR);
	assert_int_equal(s.types[5], IJ_NULL);
	assert_int_equal(parse("{}", &s), 0);
	assert_int_equal(s.n, 0);
}

static void test_parser_rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "1",
	    "{",
	    "}",
	    "{\"a\"}",
	    "{\"a\":}",
	    "{\"a\":1,}",
	    "{,}",
	    "{\"a\":1} {}",
	    "{\"a\":01}",
	    "{\"a\":1.}",
	    "{\"a\":.5}",
	    "{\"a\":1e}",
	    "{\"a\":+1}",
	    "{\"a\":-}",
	    "{\"a\":tru}",
	    "{\"a\":nul}",
	    "{\"a\":\"x}",
	    "{\"a\":\"\\x\"}",
	    "{\"a\":\"\\u12g4\"}",
	    "{\"a\":\"\t\"}",
	    "{a:1}",
	    "{'a':1}",
	    "{\"a\":[1,]}",
	    "{\"a\":[1 2]}",
	    "{\"a\":{\"b\"}}",
	    "{\"a\":1e400}",
	    "{\"a\":NaN}",
	    "{\"a\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}", /* deeper than 16 */
	};
	struct seen s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &s) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	/* A NUL inside is not JSON either. */
	assert_int_equal(ij_parse_object("{\"a\":1}\0", 8, record, &s), -EINVAL);
	assert_int_equal(ij_parse_object("{\"a\0\":1}", 8, record, &s), -EINVAL);
	/* Depth 15 of arrays inside the object is still fine. */
	assert_int_equal(parse("{\"a\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}", &s), 0);
}

static int stop_at_second(const struct ij_member *m, void *ctx)
{
	return ++*(int *)ctx == 2 ? -E2BIG : 0;
}

static void test_parser_callback_stops(void **state)
{
	int n = 0;
	const char *t = "{\"a\":1,\"b\":2,\"c\":3}";

	assert_int_equal(ij_parse_object(t, strlen(t), stop_at_second, &n), -E2BIG);
	assert_int_equal(n, 2);
}

/* --- parameters --------------------------------------------------------- */

static struct svc_iperf3 *svc_new(void)
{
	struct svc_iperf3 *s = calloc(1, sizeof(*s));

	s->cfg.max_streams = 32;
	s->cfg.max_duration_s = 3600;
	return s;
}

static int take(struct svc_iperf3 *s, const char *json)
{
	free(s->t.streams);
	memset(&s->t, 0, sizeof(s->t));
	return ip3_params_take(s, json, strlen(json));
}

static void test_params_stock_client(void **state)
{
	struct svc_iperf3 *s = svc_new();

	/* What iperf3 3.12 sends for -c -P 2 -t 2 --bidir --get-server-output. */
	assert_int_equal(take(s, "{\"tcp\":true,\"omit\":0,\"time\":2,\"num\":0,\"blockcount\":0,"
				 "\"parallel\":2,\"bidirectional\":true,\"len\":131072,"
				 "\"pacing_timer\":1000,\"get_server_output\":1,"
				 "\"client_version\":\"3.12\"}"),
			 0);
	assert_false(s->t.udp);
	assert_true(s->t.bidir);
	assert_true(s->t.get_server_output);
	assert_int_equal(s->t.parallel, 2);
	assert_int_equal(s->t.duration, 2);
	assert_int_equal(s->t.want_streams, 4);
	assert_non_null(s->t.streams);
	/* -u -b 100M */
	assert_int_equal(take(s, "{\"udp\":true,\"omit\":0,\"time\":2,\"num\":0,\"blockcount\":0,"
				 "\"parallel\":1,\"len\":1448,\"bandwidth\":100000000,"
				 "\"pacing_timer\":1000,\"client_version\":\"3.12\"}"),
			 0);
	assert_true(s->t.udp);
	assert_int_equal(s->t.bandwidth, 100000000);
	/* -n 100M: time 0, the client's byte count ends the test */
	assert_int_equal(take(s, "{\"tcp\":true,\"time\":0,\"num\":104857600,\"parallel\":1}"), 0);
	assert_int_equal(s->t.duration, 3600);
	assert_int_equal(s->stats.iperf3_bad_param, 0);
	assert_int_equal(s->stats.iperf3_unsupported, 0);
	free(s->t.streams);
	free(s);
}

static void test_params_refused(void **state)
{
	struct svc_iperf3 *s = svc_new();

	assert_int_equal(take(s, "{\"tcp\":true,\"parallel\":17,\"bidirectional\":true}"),
			 IP3_IENUMSTREAMS); /* 34 streams > 32 */
	assert_int_equal(take(s, "{\"tcp\":true,\"parallel\":129}"), IP3_IENUMSTREAMS);
	assert_int_equal(take(s, "{\"tcp\":true,\"parallel\":0}"), IP3_IERECVPARAMS);
	assert_int_equal(take(s, "{\"tcp\":true,\"parallel\":\"2\"}"), IP3_IERECVPARAMS);
	assert_int_equal(take(s, "{\"tcp\":true,\"time\":3601}"), IP3_IEDURATION);
	assert_int_equal(take(s, "{\"tcp\":true,\"time\":0}"), IP3_IERECVPARAMS);
	assert_int_equal(take(s, "{\"tcp\":true,\"time\":-5}"), IP3_IERECVPARAMS);
	assert_int_equal(take(s, "{\"tcp\":true"), IP3_IERECVPARAMS);
	assert_int_equal(s->stats.iperf3_bad_param, 8);
	/* UDP from us: the defaults iperf3 would use fill what is missing. */
	assert_int_equal(take(s, "{\"udp\":true,\"reverse\":true}"), 0);
	assert_int_equal(s->t.blksize, 1460);
	assert_int_equal(s->t.bandwidth, 1 << 20);
	assert_int_equal(take(s, "{\"udp\":true,\"bidirectional\":true,\"len\":16}"), 0);
	assert_int_equal(take(s, "{\"udp\":true,\"len\":15}"), IP3_IEUDPBLOCKSIZE);
	assert_int_equal(take(s, "{\"udp\":true,\"len\":65508}"), IP3_IEUDPBLOCKSIZE);
	assert_int_equal(take(s, "{\"sctp\":true}"), IP3_IEUNIMP);
	assert_int_equal(take(s, "{\"tcp\":true,\"omit\":1}"), IP3_IEUNIMP);
	assert_int_equal(take(s, "{\"tcp\":true,\"reverse\":true,\"time\":0,\"num\":1000}"),
			 IP3_IEUNIMP);
	assert_int_equal(s->stats.iperf3_unsupported, 3);
	assert_int_equal(s->stats.iperf3_bad_param, 10);
	free(s->t.streams);
	free(s);
}

/* --- results ------------------------------------------------------------ */

struct results_seen {
	bool streams, server_output, retrans;
	double sender_has_retransmits;
};

static int results_member(const struct ij_member *m, void *ctx)
{
	struct results_seen *r = ctx;

	if (ij_key_is(m, "streams"))
		r->streams = m->type == IJ_ARR;
	if (ij_key_is(m, "server_output_json"))
		r->server_output = m->type == IJ_OBJ;
	if (ij_key_is(m, "sender_has_retransmits")) {
		r->retrans = true;
		r->sender_has_retransmits = m->num;
	}
	return 0;
}

static void test_results_message(void **state)
{
	struct svc_iperf3 *s = svc_new();
	struct results_seen r = {0};
	static char out[65536];
	struct jw w;
	unsigned i;

	assert_int_equal(take(s, "{\"tcp\":true,\"parallel\":3,\"bidirectional\":true,"
				 "\"get_server_output\":1,\"time\":2}"),
			 0);
	memcpy(s->t.cookie, "abcdefghijklmnopqrstuvwxyz2345672345", 37);
	s->t.start = XS_SEC(1);
	s->t.end = XS_SEC(3);
	for (i = 0; i < s->t.want_streams; i++) {
		struct ip3_stream *sp = &s->t.streams[s->t.nstreams++];

		sp->id = i ? (int)i + 2 : 1;
		sp->sender = i >= 3;
		sp->bytes = 1000000ull * (i + 1);
	}
	jw_init(&w, out, sizeof(out));
	ip3_results_json(s, &w);
	assert_false(w.overflow);
	assert_int_equal(ij_parse_object(out, w.len, results_member, &r), 0);
	assert_true(r.streams && r.server_output && r.retrans);
	assert_true(r.sender_has_retransmits == 1);
	assert_non_null(strstr(out, "\"id\":1,\"bytes\":1000000,\"retransmits\":-1"));
	assert_non_null(strstr(out, "\"id\":7,\"bytes\":6000000,\"retransmits\":0"));
	assert_non_null(strstr(out, "\"end_time\":2.000000"));
	/* Sums in server_output_json: received 1+2+3 MB, sent 4+5+6 MB. */
	assert_non_null(strstr(out, "\"sum_sent\":{\"start\":0.000000,\"end\":2.000000,"
				    "\"seconds\":2.000000,\"bytes\":15000000"));
	assert_non_null(strstr(out, "\"sum_received\":{\"start\":0.000000,\"end\":2.000000,"
				    "\"seconds\":2.000000,\"bytes\":6000000"));
	/* A buffer too small is reported, never overrun. */
	jw_init(&w, out, 100);
	ip3_results_json(s, &w);
	assert_true(w.overflow);
	free(s->t.streams);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writer_shapes),
	    cmocka_unit_test(test_writer_overflow),
	    cmocka_unit_test(test_parser_members),
	    cmocka_unit_test(test_parser_rejects),
	    cmocka_unit_test(test_parser_callback_stops),
	    cmocka_unit_test(test_params_stock_client),
	    cmocka_unit_test(test_params_refused),
	    cmocka_unit_test(test_results_message),
	};

	return cmocka_run_group_tests_name("iperf3_json", tests, NULL, NULL);
}
