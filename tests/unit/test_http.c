/* Unit tests of the HTTP/1.1 request-head parser and target decoder
 * (user/wire/http.c): good heads, every prefix, a table of malformed ones. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire/http.h"

static const struct http_limits LIM = {.max_line = 4096, .max_head = 8192};

/* Parses a C string from a heap copy of exactly its length (no NUL after
 * it), so ASan would see any read past the end. */
static ssize_t parse_lim(const char *text, size_t n, const struct http_limits *lim,
			 struct http_req *r)
{
	uint8_t *b = malloc(n ? n : 1);
	ssize_t rc;

	memcpy(b, text, n);
	rc = http_req_parse(b, n, lim, r);
	/* Pointers into b would dangle: keep only the offsets' validity. */
	if (rc > 0) {
		assert_true((const uint8_t *)r->target >= b);
		assert_true((const uint8_t *)r->target + r->target_len <= b + rc);
		r->target = text + ((const uint8_t *)r->target - b);
		r->method_str = text + ((const uint8_t *)r->method_str - b);
	}
	free(b);
	return rc;
}

static ssize_t parse(const char *text, struct http_req *r)
{
	return parse_lim(text, strlen(text), &LIM, r);
}

static void test_good_heads(void **state)
{
	static const char get[] = "GET /a/b.html?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n";
	struct http_req r;

	assert_int_equal(parse(get, &r), strlen(get));
	assert_int_equal(r.method, HTTP_GET);
	assert_int_equal(r.target_len, strlen("/a/b.html?x=1"));
	assert_memory_equal(r.target, "/a/b.html?x=1", r.target_len);
	assert_int_equal(r.minor, 1);
	assert_true(r.keep_alive);
	assert_false(r.has_body);
	assert_int_equal(r.nheaders, 2);

	assert_true(parse("HEAD / HTTP/1.1\r\nhost:h\r\n\r\n", &r) > 0);
	assert_int_equal(r.method, HTTP_HEAD);
	/* Methods are case-sensitive: "get" is some other method. */
	assert_true(parse("get / HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0);
	assert_int_equal(r.method, HTTP_OTHER);
	assert_true(parse("DELETE / HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0);
	assert_int_equal(r.method, HTTP_OTHER);
	assert_int_equal(r.method_len, 6);

	/* 1.0: no Host needed, closes unless keep-alive is asked for. */
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0);
	assert_int_equal(r.minor, 0);
	assert_false(r.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) > 0);
	assert_true(r.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, CLOSE\r\n\r\n", &r) >
		    0);
	assert_false(r.keep_alive);

	/* Bodies: Content-Length 0 is none; any Transfer-Encoding is one. */
	assert_true(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &r) > 0);
	assert_false(r.has_body);
	assert_true(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length:  12 \r\n\r\n", &r) > 0);
	assert_true(r.has_body);
	assert_int_equal(r.content_length, 12);
	assert_true(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
			  "Content-Length: 5\r\n\r\n",
			  &r) > 0);
	assert_true(parse("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &r) >
		    0);
	assert_true(r.has_body);

	/* RFC 9112 2.2: empty lines before the request line are skipped and
	 * counted; obs-text in a value is allowed. */
	assert_int_equal(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nX: \xe9t\xe9\r\n\r\n", &r),
			 strlen("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nX: \xe9t\xe9\r\n\r\n"));
}

static void test_pipelined_heads(void **state)
{
	static const char two[] = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
				  "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
	struct http_req r;
	ssize_t n = parse(two, &r);

	assert_int_equal(n, strlen(two) / 2);
	assert_memory_equal(r.target, "/1", 2);
	assert_int_equal(parse(two + n, &r), strlen(two) / 2);
	assert_memory_equal(r.target, "/2", 2);
}

static void test_every_prefix_needs_more(void **state)
{
	static const char get[] = "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	struct http_req r;
	size_t i;

	for (i = 0; i < strlen(get); i++)
		assert_int_equal(parse_lim(get, i, &LIM, &r), 0);
	assert_int_equal(parse_lim(get, strlen(get), &LIM, &r), strlen(get));
}

struct bad {
	const char *text;
	ssize_t want;
};

static void test_malformed_table(void **state)
{
	static const struct bad bad[] = {
	    {"GET / HTTP/1.1\nHost: h\n\n", -400},	   /* bare LF */
	    {"GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", -400}, /* bare CR */
	    {"\n", -400},
	    {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", -400}, /* two spaces */
	    {"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", -400}, /* trailing space */
	    {" GET / HTTP/1.1\r\nHost: h\r\n\r\n", -400},
	    {"GET /\r\n\r\n", -400}, /* HTTP/0.9 */
	    {"GET / HTTP/1.10\r\nHost: h\r\n\r\n", -400},
	    {"GET / http/1.1\r\nHost: h\r\n\r\n", -400},
	    {"GET / HTTP/1\r\nHost: h\r\n\r\n", -400},
	    {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", -505},
	    {"GET / HTTP/1.2\r\nHost: h\r\n\r\n", -505},
	    {"GET / HTTP/0.9\r\nHost: h\r\n\r\n", -505},
	    {"G@T / HTTP/1.1\r\nHost: h\r\n\r\n", -400},     /* not a token */
	    {"GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", -400}, /* CTL in target */
	    {"GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\n\r\n", -400}, /* no Host */
	    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400},
	    {"GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", -400},	       /* space before colon */
	    {"GET / HTTP/1.1\r\n Host: h\r\n\r\n", -400},	       /* space after start line */
	    {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", -400}, /* obs-fold */
	    {"GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456789\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	     -400}, /* smuggling */
	};
	struct http_req r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ssize_t got = parse(bad[i].text, &r);

		if (got != bad[i].want)
			fail_msg("case %zu %s: got %zd, want %zd", i, bad[i].text, got,
				 bad[i].want);
	}
	/* A NUL inside a field value (strlen would stop there). */
	assert_int_equal(parse_lim("GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n", 28, &LIM, &r), -400);
}

static void test_limits(void **state)
{
	static const struct http_limits small = {.max_line = 32, .max_head = 64};
	char buf[256];
	struct http_req r;

	/* A request line over max_line: 414, complete or not. */
	snprintf(buf, sizeof(buf), "GET /%040d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	assert_int_equal(parse_lim(buf, strlen(buf), &small, &r), -414);
	assert_int_equal(parse_lim(buf, 40, &small, &r), -414);
	/* A line of exactly max_line bytes is fine. */
	snprintf(buf, sizeof(buf), "GET /%018d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	assert_int_equal(strchr(buf, '\r') - buf, 32);
	assert_int_equal(parse_lim(buf, strlen(buf), &small, &r), strlen(buf));
	/* A head over max_head: 431, complete or not, and never 0 once more
	 * than max_head bytes are buffered without its end. */
	snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\nX: %040d\r\n\r\n", 0);
	assert_true(strlen(buf) > 64);
	assert_int_equal(parse_lim(buf, strlen(buf), &small, &r), -431);
	assert_int_equal(parse_lim(buf, 65, &small, &r), -431);
	assert_int_equal(parse_lim(buf, 64, &small, &r), 0);
	/* Exactly max_head bytes, the empty line included: accepted. */
	snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\nX: %032d\r\n\r\n", 0);
	assert_int_equal(strlen(buf), 64);
	assert_int_equal(parse_lim(buf, 64, &small, &r), 64);
	/* Empty lines before the request count against the head. */
	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < 40; i++)
		memcpy(buf + 2 * i, "\r\n", 2);
	assert_int_equal(parse_lim(buf, 80, &small, &r), -431);
}

struct path_case {
	const char *target;
	ssize_t want;
	const char *path;
};

static void test_path_decode(void **state)
{
	static const struct path_case cases[] = {
	    {"/", 0, ""},
	    {"/a/b.txt", 7, "a/b.txt"},
	    {"/a//b/./c/", 5, "a/b/c"},
	    {"/a%20b", 3, "a b"},
	    {"/x?y=/../..", 1, "x"},
	    {"/x#frag", 1, "x"},
	    {"/...", 3, "..."},
	    {"/.hidden", 7, ".hidden"},
	    {"/a..b", 4, "a..b"},
	    {"http://host:80/a/b", 3, "a/b"},
	    {"HTTP://host", 0, ""},
	    {"/..", -403, NULL},
	    {"/../etc/passwd", -403, NULL},
	    {"/a/../../b", -403, NULL},
	    {"/a/..", -403, NULL},
	    {"/%2e%2e/etc", -403, NULL},
	    {"/%2E%2e%2Fetc", -403, NULL},
	    {"/a%2f..%2fb", -403, NULL},
	    {"/.%2e/x", -403, NULL},
	    {"/%00", -400, NULL},
	    {"/a%00b", -400, NULL},
	    {"/%zz", -400, NULL},
	    {"/%4", -400, NULL},
	    {"/%", -400, NULL},
	    {"a/b", -400, NULL},
	    {"*", -400, NULL},
	    {"", -400, NULL},
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct path_case *c = &cases[i];
		ssize_t got = http_path_decode(c->target, strlen(c->target), out, sizeof(out));

		if (got != c->want)
			fail_msg("case %s: got %zd, want %zd", c->target, got, c->want);
		if (got >= 0)
			assert_string_equal(out, c->path);
	}
	/* Too long for the output: refused, never truncated into a shorter name. */
	assert_int_equal(http_path_decode("/abcdefgh", 9, out, 8), -400);
	assert_int_equal(http_path_decode("/abcdefg", 8, out, 8), 7);
}

static void test_types_and_reasons(void **state)
{
	assert_string_equal(http_content_type("a/index.html"), "text/html; charset=utf-8");
	assert_string_equal(http_content_type("x.TXT"), "text/plain; charset=utf-8");
	assert_string_equal(http_content_type("p.png"), "image/png");
	assert_string_equal(http_content_type("noext"), "application/octet-stream");
	assert_string_equal(http_content_type("dir.html/file"), "application/octet-stream");
	assert_string_equal(http_content_type("f.bin"), "application/octet-stream");
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(405), "Method Not Allowed");
	assert_string_equal(http_reason(299), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_heads),
	    cmocka_unit_test(test_pipelined_heads),
	    cmocka_unit_test(test_every_prefix_needs_more),
	    cmocka_unit_test(test_malformed_table),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_path_decode),
	    cmocka_unit_test(test_types_and_reasons),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
