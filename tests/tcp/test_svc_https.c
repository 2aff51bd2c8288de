/* The HTTP service over TLS (svc_http_config.tls) on one stack of a pair, a
 * TLS client of the library on the other, on the virtual clock. */
#include "pair_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <xdpstack/tls.h>

#include "tls_fixture.h"

/* The daemon's modules are not in libxdpstack: compiled in here. */
#include "app/svc_http.c"
#include "svc_http_fixture.h"

#define BIG (3u << 20)

struct client {
	struct xs_tls t; /* id -1: none open */
	bool up, eof, error;
	int err;
	const char *req;
	size_t req_off;
	size_t len;
	uint8_t buf[BIG + 8192];
};

struct env {
	struct pair p;
	struct svc_http *s;
	struct xs_tls_ctx *sctx, *cctx;
	char root[64];
	struct client *c;
};

static void client_cb(struct xs_stack *st, struct xs_tls t, unsigned ev, void *ctx)
{
	struct client *c = ctx;
	ssize_t n;

	if (ev & XS_EV_WRITABLE)
		c->up = true;
	if (ev & XS_EV_ERROR) {
		c->error = true;
		c->err = xs_tls_error(st, t);
		return;
	}
	while (c->up && c->req && c->req[c->req_off]) {
		n = xs_tls_send(st, t, c->req + c->req_off, strlen(c->req + c->req_off));
		if (n <= 0)
			break;
		c->req_off += (size_t)n;
	}
	while ((n = xs_tls_recv(st, t, c->buf + c->len, sizeof(c->buf) - c->len)) > 0)
		c->len += (size_t)n;
	if (n == 0)
		c->eof = true;
	else if (n != -EAGAIN)
		c->error = true;
}

static void turn(struct env *e)
{
	svc_turn(&e->p, e->s, UINT64_MAX);
}

static int setup_budget(void **state, unsigned max_handshakes)
{
	static const struct xs_fault_config clean[2] = {{.ipv4_only = 1}, {.ipv4_only = 1}};
	struct xs_tls_ctx_opts so = {.cert_file = tls_cert("server.pem"),
				     .key_file = tls_cert("server.key"),
				     .alpn = "http/1.1",
				     .max_handshakes = max_handshakes};
	struct xs_tls_ctx_opts co = {
	    .client = 1, .ca_file = tls_cert("ca.pem"), .alpn = "http/1.1"};
	struct svc_http_config cfg = {.port = 443};
	struct env *e = calloc(1, sizeof(*e));
	char err[256];

	assert_non_null(e);
	e->c = calloc(1, sizeof(*e->c));
	assert_non_null(e->c);
	e->c->t = (struct xs_tls)XS_NO_HANDLE;
	strcpy(e->root, "/tmp/xs-https-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	write_file(e->root, "one.txt", 1);
	write_file(e->root, "big.bin", BIG);
	e->sctx = xs_tls_ctx_new(&so, err, sizeof(err));
	e->cctx = xs_tls_ctx_new(&co, err, sizeof(err));
	assert_non_null(e->sctx);
	assert_non_null(e->cctx);
	pair_start(&e->p, clean);
	cfg.root = e->root;
	cfg.tls = e->sctx;
	e->s = svc_http_start(e->p.st[0], &cfg, e->p.now, err, sizeof(err));
	assert_non_null(e->s);
	*state = e;
	return 0;
}

static int setup(void **state)
{
	return setup_budget(state, 0);
}

static int teardown(void **state)
{
	struct env *e = *state;
	char path[128];

	if (e->c->t.id >= 0)
		assert_int_equal(xs_tls_abort(e->p.st[1], e->c->t), 0);
	svc_http_stop(e->s);
	xs_tls_ctx_free(e->sctx);
	xs_tls_ctx_free(e->cctx);
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

static void client_open(struct env *e, const char *req)
{
	struct xs_tcp h = xs_tcp_connect(e->p.st[1], ips[0], 443);

	assert_true(h.id >= 0);
	e->c->req = req;
	e->c->t = xs_tls_client(e->p.st[1], e->cctx, h, "server.test", client_cb, e->c);
	assert_true(e->c->t.id >= 0);
}

/* A big body then a small one, pipelined, over TLS: both whole and in
 * order; the server's close_notify after Connection: close, then ours. */
static void test_https_pipelined_big_then_small(void **state)
{
	static const char *const heads = "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
					 "GET /one.txt HTTP/1.1\r\nHost: x\r\n"
					 "Connection: close\r\n\r\n";
	struct env *e = *state;
	const struct xs_stats *ss = xs_stack_stats(e->p.st[0]);
	struct xs_tls_info in;
	uint8_t *want = malloc(BIG);
	const uint8_t *b;
	char *p;

	client_open(e, heads);
	while (!e->c->eof && !e->c->error && e->p.now < XS_SEC(120))
		turn(e);
	assert_true(e->c->eof);
	assert_false(e->c->error);
	assert_int_equal(xs_tls_get_info(e->p.st[1], e->c->t, &in), 0);
	assert_string_equal(in.alpn, "http/1.1");
	assert_true(in.close_notify_rcvd && in.peer_verified);
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
	assert_int_equal(e->s->stats.http_2xx, 2);
	assert_int_equal(e->s->stats.http_bytes_tx, e->c->len);
	/* Our close: the service lingers until our close_notify, then closes. */
	assert_int_equal(xs_tls_close(e->p.st[1], e->c->t), 0);
	e->c->t = (struct xs_tls)XS_NO_HANDLE;
	while (e->s->nconns && e->p.now < XS_SEC(240))
		turn(e);
	assert_int_equal(e->s->nconns, 0);
	assert_int_equal(ss->tls_close_notify_tx, 1);
	assert_int_equal(ss->tls_close_notify_rx, 1);
	assert_int_equal(ss->tls_sessions, 0);
	free(want);
}

/* The handshake budget full: the next connection is reset and counted. */
static void test_https_handshake_budget(void **state)
{
	struct env *e = *state;
	const struct xs_stats *ss = xs_stack_stats(e->p.st[0]);
	struct xs_tcp h;

	/* A stalled client holds the only slot (its TCP, no ClientHello). */
	h = xs_tcp_connect(e->p.st[1], ips[0], 443);
	assert_true(h.id >= 0);
	while (ss->tls_handshaking < 1 && e->p.now < XS_SEC(1))
		turn(e);
	client_open(e, "GET /one.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	while (!e->c->error && e->p.now < XS_SEC(2))
		turn(e);
	assert_true(e->c->error);
	assert_int_equal(e->s->stats.http_conn_refused, 1);
	assert_int_equal(ss->tls_handshake_refused, 1);
	assert_int_equal(xs_tls_abort(e->p.st[1], e->c->t), 0);
	e->c->t = (struct xs_tls)XS_NO_HANDLE;
	xs_tcp_abort(e->p.st[1], h);
}

static int setup_one(void **state)
{
	return setup_budget(state, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_https_pipelined_big_then_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_https_handshake_budget, setup_one, teardown),
	};

	return cmocka_run_group_tests_name("svc_https", tests, tls_certs_make, tls_certs_remove);
}
