/* The HTTP service (user/app/svc_http.c) on one stack of a pair, a client on
 * the other, on the virtual clock: exact timeouts, pipelining, large bodies. */
#include "pair_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

/* The daemon's modules are not in libxdpstack: compiled in here. */
#include "app/svc_http.c"
#include "svc_http_fixture.h"

#define HDR_MS 2000
#define BIG (3u << 20) /* several staging buffers and send buffers */

struct client {
	struct xs_tcp h;
	bool connected, eof, error;
	size_t len;
	uint8_t buf[BIG + 4096];
};

struct env {
	struct pair p;
	struct svc_http *s;
	char root[64];
	struct client *c;
};

static void client_cb(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	struct client *c = ctx;
	ssize_t n;

	if (ev & XS_EV_WRITABLE)
		c->connected = true;
	if (ev & XS_EV_ERROR)
		c->error = true;
	while ((n = xs_tcp_recv(st, h, c->buf + c->len, sizeof(c->buf) - c->len)) > 0)
		c->len += (size_t)n;
	if (n == 0)
		c->eof = true;
	else if (n != -EAGAIN)
		c->error = true;
}

static void turn_until(struct env *e, xs_time_t limit)
{
	svc_turn(&e->p, e->s, limit);
}

static void turn(struct env *e)
{
	turn_until(e, UINT64_MAX);
}

/* Runs the loop up to t, not past it: the clock stops at t at the latest. */
static void run_until(struct env *e, xs_time_t t)
{
	while (e->p.now < t)
		turn_until(e, t);
}

static int setup(void **state)
{
	static const struct xs_fault_config clean[2] = {{.ipv4_only = 1}, {.ipv4_only = 1}};
	struct svc_http_config cfg = {.port = 80, .header_timeout_ms = HDR_MS};
	struct env *e = calloc(1, sizeof(*e));
	char err[256];

	assert_non_null(e);
	e->c = calloc(1, sizeof(*e->c));
	strcpy(e->root, "/tmp/xs-http-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	write_file(e->root, "one.txt", 1);
	write_file(e->root, "big.bin", BIG);
	pair_start(&e->p, clean);
	cfg.root = e->root;
	e->s = svc_http_start(e->p.st[0], &cfg, e->p.now, err, sizeof(err));
	assert_non_null(e->s);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char path[128];

	if (e->c->connected)
		xs_tcp_abort(e->p.st[1], e->c->h);
	svc_http_stop(e->s);
	pair_stop(&e->p);
	snprintf(path, sizeof(path), "%s/one.txt", e->root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/big.bin", e->root);
	unlink(path);
	rmdir(e->root);
	free(e->c);
	free(e);
	return 0;
}

/* Connects; returns the time of the turn in which the service accepted. */
static xs_time_t client_connect(struct env *e)
{
	struct client *c = e->c;
	xs_time_t limit = e->p.now + XS_SEC(1), at = 0;

	c->h = xs_tcp_connect(e->p.st[1], ips[0], 80);
	assert_true(c->h.id >= 0);
	xs_tcp_set_event_cb(e->p.st[1], c->h, client_cb, c);
	while (!(c->connected && e->s->nconns == 1) && e->p.now < limit) {
		if (!e->s->nconns)
			at = e->p.now;
		turn(e);
	}
	assert_true(c->connected);
	assert_int_equal(e->s->nconns, 1);
	return at;
}

static void client_send(struct env *e, const char *text)
{
	assert_int_equal(xs_tcp_send(e->p.st[1], e->c->h, text, strlen(text)), strlen(text));
}

/* Slowloris: one byte every 100 ms does not extend the head's deadline,
 * which runs from the accept: nothing before it, 408 and a close at it. */
static void test_header_timeout_not_extended_by_trickle(void **state)
{
	static const char head[] = "GET /one.txt HTTP/1.1\r\nHost: x\r\n\r\n";
	struct env *e = *state;
	xs_time_t t0, next;
	size_t i = 0;

	t0 = client_connect(e);
	for (next = t0; e->p.now < t0 + XS_MS(HDR_MS) - XS_MS(5);) {
		if (e->p.now >= next && i < strlen(head) - 1) {
			assert_int_equal(xs_tcp_send(e->p.st[1], e->c->h, head + i++, 1), 1);
			next += XS_MS(100);
		}
		turn(e);
	}
	assert_int_equal(e->c->len, 0);
	assert_false(e->c->eof);
	assert_int_equal(e->s->stats.http_header_timeout, 0);
	run_until(e, t0 + XS_MS(HDR_MS) + XS_MS(50));
	assert_int_equal(e->s->stats.http_header_timeout, 1);
	assert_true(e->c->len > 0);
	e->c->buf[e->c->len] = 0;
	assert_non_null(strstr((char *)e->c->buf, "HTTP/1.1 408 Request Timeout\r\n"));
	assert_non_null(strstr((char *)e->c->buf, "Connection: close\r\n"));
	assert_true(e->c->eof);
}

/* A keep-alive connection idle after its answer closes quietly one header
 * timeout after the answer went out, not before. */
static void test_idle_keepalive_closes_quietly(void **state)
{
	struct env *e = *state;
	xs_time_t t1;
	size_t len;

	client_connect(e);
	client_send(e, "GET /one.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	/* The deadline runs from when the answer was queued: the time of the
	 * turn in which the server sent it (the clock may jump after it). */
	do {
		t1 = e->p.now;
		turn(e);
	} while (!e->s->stats.http_2xx);
	run_until(e, t1 + XS_MS(HDR_MS) - XS_MS(10));
	assert_true(e->c->len > 0);
	len = e->c->len;
	assert_false(e->c->eof);
	run_until(e, t1 + XS_MS(HDR_MS) + XS_MS(50));
	assert_true(e->c->eof);
	assert_int_equal(e->c->len, len); /* no 408 for a connection that sent nothing */
	assert_int_equal(e->s->stats.http_header_timeout, 1);
	assert_int_equal(e->s->stats.http_2xx, 1);
}

/* A big body then a small one, pipelined: both arrive whole and in order,
 * and the service never holds more than one staging buffer of the file. */
static void test_pipelined_big_then_small(void **state)
{
	static const char *const heads = "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
					 "GET /one.txt HTTP/1.1\r\nHost: x\r\n"
					 "Connection: close\r\n\r\n";
	struct env *e = *state;
	uint8_t *want = malloc(BIG);
	const uint8_t *b;
	char *p;

	client_connect(e);
	client_send(e, heads);
	while (!e->c->eof && !e->c->error && e->p.now < XS_SEC(120)) {
		turn(e);
		struct http_conn *hc = NULL;

		for (unsigned h = 0; h < e->s->nslots && !hc; h++)
			hc = e->s->conns[h];
		if (hc)
			assert_true(hc->stage_len <= e->s->cfg.stage_bytes);
	}
	assert_true(e->c->eof);
	assert_false(e->c->error);
	e->c->buf[e->c->len] = 0;
	b = e->c->buf;
	p = strstr((char *)b, "\r\n\r\n");
	assert_non_null(p);
	assert_non_null(strstr((char *)b, "Content-Length: 3145728\r\n"));
	pattern(7, 0, want, BIG);
	b = (const uint8_t *)p + 4;
	assert_memory_equal(b, want, BIG);
	b += BIG;
	assert_true(!memcmp(b, "HTTP/1.1 200 OK\r\n", 17));
	p = strstr((const char *)b, "\r\n\r\n");
	assert_non_null(p);
	assert_non_null(strstr((const char *)b, "Connection: close\r\n"));
	pattern(7, 0, want, 1);
	assert_int_equal((size_t)(p + 4 + 1 - (char *)e->c->buf), e->c->len);
	assert_int_equal((uint8_t)p[4], want[0]);
	assert_int_equal(e->s->stats.http_2xx, 2);
	assert_int_equal(e->s->stats.http_bytes_tx, e->c->len);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_header_timeout_not_extended_by_trickle, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_idle_keepalive_closes_quietly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_big_then_small, setup, teardown),
	};

	return cmocka_run_group_tests_name("svc_http", tests, NULL, NULL);
}
