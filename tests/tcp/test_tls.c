/* TLS sessions (user/tls/, user/api/tls.c) between the two stacks of a pair on
 * the virtual clock: handshakes, echo, verification, resumption, ALPN, SNI, limits. */
#include "pair_fixture.h"

#include <unistd.h>

#include <xdpstack/ip6.h>
#include <xdpstack/tls.h>

#include "tls_fixture.h"

#define PORT 443
#define MAXP 8
#define TO_MS 2000 /* the server contexts' handshake timeout */
#define cert tls_cert

/* One end of a TLS conversation: sends src, keeps what it receives in rx; an
 * echo end sends back what it received. */
struct peer {
	struct xs_stack *st; /* non-NULL once t was opened */
	struct xs_tls t;
	bool up, eof, error, hup, shut, echo, shut_when_sent, closed;
	int err;
	char errtext[256];
	uint8_t *rx;
	size_t rx_len, rx_cap;
	const uint8_t *src;
	size_t src_len, src_off;
};

struct env {
	struct pair p;
	struct xs_tls_ctx *sctx, *cctx;
	struct xs_tcp listener;
	struct peer srv[MAXP], cli[MAXP];
	int nsrv;
	int accept_errno; /* the last xs_tls_server failure */
	size_t echo_cap;
	bool shrink_sndbuf; /* the listener's children have 4 KiB send buffers */
	bool over_ip6;	    /* clients connect to srv6, not ips[0] */
};

static void shrink_sndbuf(struct env *e)
{
	e->shrink_sndbuf = true;
	assert_int_equal(xs_tcp_setopt(e->p.st[0], e->listener, XS_TCP_SNDBUF, 4096), 0);
}

static void peer_pump(struct peer *p)
{
	ssize_t n;

	for (;;) {
		if (p->echo) {
			p->src = p->rx;
			p->src_len = p->rx_len;
		}
		while (p->up && p->src_off < p->src_len) {
			n = xs_tls_send(p->st, p->t, p->src + p->src_off, p->src_len - p->src_off);
			if (n == -EAGAIN)
				break;
			if (n < 0) {
				p->error = true;
				p->err = (int)n;
				return;
			}
			p->src_off += (size_t)n;
		}
		if (p->eof || p->rx_len == p->rx_cap || !p->up)
			break;
		n = xs_tls_recv(p->st, p->t, p->rx + p->rx_len, p->rx_cap - p->rx_len);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			p->error = true;
			p->err = (int)n;
			snprintf(p->errtext, sizeof(p->errtext), "%s",
				 xs_tls_strerror(p->st, p->t));
			return;
		}
		if (n == 0)
			p->eof = true;
		p->rx_len += (size_t)n;
	}
	if (!p->shut && p->up && p->src_off == p->src_len &&
	    (p->echo ? p->eof : p->shut_when_sent)) {
		int rc = xs_tls_shutdown(p->st, p->t);

		if (rc)
			fail_msg("xs_tls_shutdown: %d %s", rc, xs_tls_strerror(p->st, p->t));
		p->shut = true;
	}
}

static void peer_cb(struct xs_stack *st, struct xs_tls t, unsigned ev, void *ctx)
{
	struct peer *p = ctx;

	assert_ptr_equal(p->st, st);
	assert_int_equal(p->t.id, t.id);
	assert_int_equal(p->t.gen, t.gen);
	if (ev & XS_EV_WRITABLE)
		p->up = true;
	if (ev & XS_EV_HUP)
		p->hup = true;
	if ((ev & XS_EV_ERROR) && !p->error) {
		p->error = true;
		p->err = xs_tls_error(st, t);
		snprintf(p->errtext, sizeof(p->errtext), "%s", xs_tls_strerror(st, t));
	}
	if (!p->error)
		peer_pump(p);
}

static void accept_cb(struct xs_stack *st, struct xs_tcp lh, unsigned ev, void *ctx)
{
	struct env *e = ctx;
	struct xs_tcp h;

	(void)ev;
	while ((h = xs_tcp_accept(st, lh, NULL, NULL)).id >= 0) {
		struct peer *p = &e->srv[e->nsrv];

		assert_true(e->nsrv < MAXP);
		if (e->shrink_sndbuf) {
			int v;

			assert_int_equal(xs_tcp_getopt(st, h, XS_TCP_SNDBUF, &v), 0);
			assert_int_equal(v, 4096);
		}
		p->t = xs_tls_server(st, e->sctx, h, peer_cb, p);
		if (p->t.id < 0) {
			e->accept_errno = -p->t.id;
			xs_tcp_abort(st, h);
			continue;
		}
		p->st = st;
		p->echo = true;
		p->rx_cap = e->echo_cap;
		p->rx = malloc(p->rx_cap);
		assert_non_null(p->rx);
		e->nsrv++;
	}
}

static void turn(struct env *e)
{
	pair_poll(&e->p);
	pair_advance(&e->p);
}

/* Turns until cond, or fails after limit of virtual time. */
#define RUN_UNTIL(e, cond, limit)                                                                  \
	do {                                                                                       \
		xs_time_t lim_ = (e)->p.now + (limit);                                             \
		while (!(cond)) {                                                                  \
			if ((e)->p.now > lim_)                                                     \
				fail_msg("not true after %.3f s: %s", (limit) / 1e9, #cond);       \
			turn(e);                                                                   \
		}                                                                                  \
	} while (0)

static struct xs_tls_ctx *ctx_or_die(const struct xs_tls_ctx_opts *o)
{
	char err[256];
	struct xs_tls_ctx *c = xs_tls_ctx_new(o, err, sizeof(err));

	if (!c)
		fail_msg("xs_tls_ctx_new: %s", err);
	return c;
}

static struct xs_tls_ctx *server_ctx(const char *name, unsigned maxv, const char *alpn)
{
	char crt[32], key[32];
	struct xs_tls_ctx_opts o = {
	    .handshake_timeout_ms = TO_MS, .max_version = maxv, .alpn = alpn};

	snprintf(crt, sizeof(crt), "%s.pem", name);
	snprintf(key, sizeof(key), "%s.key", name);
	o.cert_file = cert(crt);
	o.key_file = cert(key);
	return ctx_or_die(&o);
}

static struct xs_tls_ctx *client_ctx(unsigned maxv, const char *alpn)
{
	struct xs_tls_ctx_opts o = {.client = 1,
				    .ca_file = cert("ca.pem"),
				    .max_version = maxv,
				    .alpn = alpn,
				    .handshake_timeout_ms = TO_MS};

	return ctx_or_die(&o);
}

static int setup(void **state)
{
	static const struct xs_fault_config clean[2] = {{.ipv4_only = 1}, {.ipv4_only = 1}};
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	pair_start(&e->p, clean);
	e->listener = xs_tcp_listen(e->p.st[0], PORT, 64);
	assert_true(e->listener.id >= 0);
	assert_int_equal(xs_tcp_set_event_cb(e->p.st[0], e->listener, accept_cb, e), 0);
	e->echo_cap = 8u << 20;
	*state = e;
	return 0;
}

static void peer_free(struct peer *p)
{
	if (p->st && !p->closed)
		assert_int_equal(xs_tls_abort(p->st, p->t), 0);
	free(p->rx);
	memset(p, 0, sizeof(*p));
}

static int teardown(void **state)
{
	struct env *e = *state;
	int i;

	for (i = 0; i < MAXP; i++) {
		peer_free(&e->srv[i]);
		peer_free(&e->cli[i]);
	}
	xs_tls_ctx_free(e->sctx);
	xs_tls_ctx_free(e->cctx);
	xs_tcp_close(e->p.st[0], e->listener);
	pair_stop(&e->p);
	free(e);
	return 0;
}

/* The server stack's IPv6 address when e->over_ip6 (test_ipv6_*). */
static const uint8_t srv6[16] = {0xfd, [15] = 1}, cli6[16] = {0xfd, [15] = 2};

/* A client session to the server stack, sending len bytes of the pattern. */
static struct peer *client_open(struct env *e, int i, const char *name, size_t len)
{
	struct peer *p = &e->cli[i];
	static uint8_t *data;
	struct xs_addr dst;
	struct xs_tcp h;

	if (!data) {
		data = malloc(8u << 20);
		assert_non_null(data);
		pattern(42, 0, data, 8u << 20);
	}
	memset(p, 0, sizeof(*p));
	if (e->over_ip6) {
		xs_addr_from_ip6(&dst, srv6);
		h = xs_tcp_connect_addr(e->p.st[1], &dst, PORT, NULL);
	} else {
		h = xs_tcp_connect(e->p.st[1], ips[0], PORT);
	}
	assert_true(h.id >= 0);
	p->t = xs_tls_client(e->p.st[1], e->cctx, h, name, peer_cb, p);
	assert_true(p->t.id >= 0);
	p->st = e->p.st[1];
	p->src = data;
	p->src_len = len;
	p->rx_cap = len + 1;
	p->rx = malloc(p->rx_cap);
	assert_non_null(p->rx);
	p->shut_when_sent = true;
	return p;
}

static void close_peer(struct peer *p)
{
	assert_int_equal(xs_tls_close(p->st, p->t), 0);
	p->closed = true;
}

/* The whole conversation: handshake, len bytes each way byte-exact, the
 * client's close_notify, the server's, both closed. */
static void echo_round_info(struct env *e, const char *name, size_t len, const char *version,
			    struct xs_tls_info *out)
{
	struct peer *c = client_open(e, 0, name, len), *s = &e->srv[0];
	struct xs_tls_info ci, si;
	uint8_t *want = malloc(len ? len : 1);

	RUN_UNTIL(e, c->eof || c->error, XS_SEC(60));
	assert_false(c->error);
	assert_int_equal(e->nsrv, 1);
	assert_false(s->error);
	assert_int_equal(c->rx_len, len);
	pattern(42, 0, want, len);
	assert_memory_equal(c->rx, want, len);
	assert_int_equal(xs_tls_get_info(c->st, c->t, &ci), 0);
	assert_int_equal(xs_tls_get_info(s->st, s->t, &si), 0);
	assert_string_equal(ci.version, version);
	assert_string_equal(si.version, version);
	assert_true(ci.peer_verified);
	assert_string_equal(ci.peer, "/CN=server.test");
	assert_true(ci.close_notify_rcvd);
	assert_true(si.close_notify_rcvd);
	if (name && strcmp(name, "10.0.0.1") && strcmp(name, "fd00::1"))
		assert_string_equal(si.server_name, name);
	else
		assert_string_equal(si.server_name, ""); /* no SNI for an address */
	assert_int_equal(ci.resumed, si.resumed);
	if (out)
		*out = ci;
	close_peer(c);
	close_peer(s);
	free(want);
}

static void echo_round(struct env *e, const char *name, size_t len, const char *version)
{
	echo_round_info(e, name, len, version, NULL);
}

/* Forgets the last round's peers (closed) for the next one. */
static void forget_round(struct env *e)
{
	free(e->cli[0].rx);
	free(e->srv[0].rx);
	memset(&e->srv[0], 0, sizeof(e->srv[0]));
	memset(&e->cli[0], 0, sizeof(e->cli[0]));
	e->nsrv = 0;
}

static void test_tls13_echo(void **state)
{
	struct env *e = *state;
	const struct xs_stats *ss = xs_stack_stats(e->p.st[0]), *cs = xs_stack_stats(e->p.st[1]);

	e->sctx = server_ctx("server", 0, NULL);
	e->cctx = client_ctx(0, NULL);
	echo_round(e, "server.test", 3u << 20, "TLSv1.3");
	assert_int_equal(ss->tls_handshakes, 1);
	assert_int_equal(cs->tls_handshakes, 1);
	assert_int_equal(ss->tls_close_notify_tx, 1);
	assert_int_equal(ss->tls_close_notify_rx, 1);
	assert_int_equal(cs->tls_close_notify_tx, 1);
	assert_int_equal(ss->tls_sessions, 0);
	assert_int_equal(ss->tls_handshaking, 0);
	assert_int_equal(ss->tls_handshake_failed + cs->tls_handshake_failed, 0);
}

static void test_tls12_echo_by_address(void **state)
{
	struct env *e = *state;

	e->sctx = server_ctx("server", XS_TLS_1_2, NULL);
	e->cctx = client_ctx(0, NULL);
	/* No name: the certificate must name the peer's address. */
	echo_round(e, NULL, 100000, "TLSv1.2");
	forget_round(e);
	echo_round(e, "10.0.0.1", 1000, "TLSv1.2");
}

/* A server whose TCP send buffer is 4 KiB: records wait for room, the echo
 * keeps its order and nothing is lost. */
static void test_small_send_buffer(void **state)
{
	struct env *e = *state;

	shrink_sndbuf(e);
	e->sctx = server_ctx("server", 0, NULL);
	e->cctx = client_ctx(0, NULL);
	echo_round(e, "server.test", 2u << 20, "TLSv1.3");
}

/* The client refuses each bad certificate with the reason in OpenSSL's
 * words; the server hears the client's alert. */
static void refused(struct env *e, const char *server, const char *name, const char *why)
{
	const struct xs_stats *cs = xs_stack_stats(e->p.st[1]);
	uint64_t vf = cs->tls_verify_failed;
	struct peer *c;

	e->sctx = server_ctx(server, 0, NULL);
	c = client_open(e, 0, name, 10);
	RUN_UNTIL(e, c->error && e->nsrv == 1 && e->srv[0].error, XS_SEC(10));
	assert_int_equal(c->err, -EKEYREJECTED);
	if (!strstr(c->errtext, why))
		fail_msg("'%s' does not say '%s'", c->errtext, why);
	assert_non_null(strstr(c->errtext, "certificate verify failed"));
	assert_int_equal(e->srv[0].err, -ECONNABORTED);
	assert_non_null(strstr(e->srv[0].errtext, "alert"));
	assert_int_equal(cs->tls_verify_failed, vf + 1);
	assert_false(c->up);
	close_peer(c);
	close_peer(&e->srv[0]);
	forget_round(e);
	xs_tls_ctx_free(e->sctx);
	e->sctx = NULL;
}

static void test_verify_refusals(void **state)
{
	struct env *e = *state;

	e->cctx = client_ctx(0, NULL);
	refused(e, "expired", "server.test", "certificate has expired");
	refused(e, "wrong", "server.test", "hostname mismatch");
	refused(e, "self", "server.test", "self-signed certificate");
	refused(e, "server", "nobody.test", "hostname mismatch");
	refused(e, "wrong", NULL, "IP address mismatch");
}

/* The second connection to the same server resumes the first's session. */
static void resumption(struct env *e, unsigned maxv, const char *version)
{
	const struct xs_stats *ss = xs_stack_stats(e->p.st[0]), *cs = xs_stack_stats(e->p.st[1]);
	struct xs_tls_info ci;
	int i;

	e->sctx = server_ctx("server", maxv, NULL);
	e->cctx = client_ctx(0, NULL);
	for (i = 0; i < 3; i++) {
		echo_round_info(e, "server.test", 1000, version, &ci);
		assert_int_equal(ci.resumed, i > 0);
		forget_round(e);
	}
	assert_int_equal(cs->tls_handshakes, 3);
	assert_int_equal(cs->tls_resumed, 2);
	assert_int_equal(ss->tls_resumed, 2);
}

/* Over IPv6: with no name the certificate must name the server's IPv6
 * address (IP:fd00::1), and the session resumes under its own cache entry,
 * keyed by the IPv6 address (an IPv4 peer's key would not match). */
static void test_ipv6_by_address_and_resumption(void **state)
{
	struct env *e = *state;
	const struct xs_stats *cs = xs_stack_stats(e->p.st[1]);
	struct xs_ip6_config c[2] = {{.naddrs = 1, .dad_transmits = XS_IP6_NO_DAD},
				     {.naddrs = 1, .dad_transmits = XS_IP6_NO_DAD}};
	struct xs_tls_info ci;
	int i;

	memcpy(c[0].addrs[0].addr, srv6, 16);
	memcpy(c[1].addrs[0].addr, cli6, 16);
	c[0].addrs[0].plen = c[1].addrs[0].plen = 64;
	assert_int_equal(xs_ip6_enable(e->p.st[0], &c[0]), 0);
	assert_int_equal(xs_ip6_enable(e->p.st[1], &c[1]), 0);
	e->over_ip6 = true;
	e->sctx = server_ctx("server", 0, NULL);
	e->cctx = client_ctx(0, NULL);
	for (i = 0; i < 3; i++) {
		echo_round_info(e, NULL, 1000, "TLSv1.3", &ci);
		assert_int_equal(ci.resumed, i > 0);
		forget_round(e);
	}
	echo_round_info(e, "fd00::1", 1000, "TLSv1.3", &ci);
	assert_false(ci.resumed); /* a name of its own: another entry */
	forget_round(e);
	assert_int_equal(cs->tls_resumed, 2);
	assert_int_equal(cs->tls_verify_failed, 0);
}

static void test_resumption_tls13(void **state)
{
	resumption(*state, 0, "TLSv1.3");
}

static void test_resumption_tls12(void **state)
{
	resumption(*state, XS_TLS_1_2, "TLSv1.2");
}

/* ALPN: the server's first protocol the client offers; SNI picks a second
 * certificate; a client offering only protocols the server lacks is refused. */
static void test_alpn_and_sni(void **state)
{
	struct env *e = *state;
	struct xs_tls_info ci, si;
	struct peer *c;
	char err[256];

	e->sctx = server_ctx("server", 0, "h2,http/1.1");
	assert_int_equal(
	    xs_tls_ctx_add_cert(e->sctx, cert("other.pem"), cert("other.key"), err, sizeof(err)),
	    0);
	e->cctx = client_ctx(0, "foo,http/1.1");
	c = client_open(e, 0, "other.test", 100);
	RUN_UNTIL(e, c->eof || c->error, XS_SEC(10));
	assert_false(c->error);
	assert_int_equal(xs_tls_get_info(c->st, c->t, &ci), 0);
	assert_int_equal(xs_tls_get_info(e->srv[0].st, e->srv[0].t, &si), 0);
	assert_string_equal(ci.alpn, "http/1.1");
	assert_string_equal(si.alpn, "http/1.1");
	assert_string_equal(ci.peer, "/CN=other.test");
	assert_string_equal(si.server_name, "other.test");
	assert_true(ci.peer_verified);
	close_peer(c);
	close_peer(&e->srv[0]);
	forget_round(e);
	/* Without SNI for it: the context's own certificate. */
	c = client_open(e, 0, "server.test", 100);
	RUN_UNTIL(e, c->eof || c->error, XS_SEC(10));
	assert_false(c->error);
	assert_int_equal(xs_tls_get_info(c->st, c->t, &ci), 0);
	assert_string_equal(ci.peer, "/CN=server.test");
	close_peer(c);
	close_peer(&e->srv[0]);
	forget_round(e);
	/* RFC 7301 3.2: no protocol in common is a fatal alert. */
	xs_tls_ctx_free(e->cctx);
	e->cctx = client_ctx(0, "foo");
	c = client_open(e, 0, "server.test", 100);
	RUN_UNTIL(e, c->error && e->srv[0].error, XS_SEC(10));
	assert_int_equal(c->err, -ECONNABORTED);
	assert_non_null(strstr(c->errtext, "no application protocol"));
	close_peer(c);
	close_peer(&e->srv[0]);
	forget_round(e);
}

/* A client certificate asked for by the server (ca_file on its side). */
static void test_client_certificate(void **state)
{
	struct env *e = *state;
	struct xs_tls_ctx_opts so = {.cert_file = cert("server.pem"),
				     .key_file = cert("server.key"),
				     .ca_file = cert("ca.pem")};
	struct xs_tls_ctx_opts co = {.client = 1,
				     .ca_file = cert("ca.pem"),
				     .cert_file = cert("client.pem"),
				     .key_file = cert("client.key")};
	struct xs_tls_info si;
	struct peer *c;

	e->sctx = ctx_or_die(&so);
	e->cctx = ctx_or_die(&co);
	c = client_open(e, 0, "server.test", 100);
	RUN_UNTIL(e, c->eof || c->error, XS_SEC(10));
	assert_false(c->error);
	assert_int_equal(xs_tls_get_info(e->srv[0].st, e->srv[0].t, &si), 0);
	assert_string_equal(si.peer, "/CN=client.test");
	assert_true(si.peer_verified);
	close_peer(c);
	close_peer(&e->srv[0]);
	forget_round(e);
	/* Without one: refused by the server. */
	xs_tls_ctx_free(e->cctx);
	e->cctx = client_ctx(0, NULL);
	c = client_open(e, 0, "server.test", 100);
	RUN_UNTIL(e, c->error && e->srv[0].error, XS_SEC(10));
	assert_int_equal(e->srv[0].err, -EPROTO);
	assert_non_null(strstr(e->srv[0].errtext, "certificate"));
	close_peer(c);
	close_peer(&e->srv[0]);
	forget_round(e);
}

/* --- hostile and stalled clients: plain TCP on the client stack ----------- */

struct raw {
	struct xs_tcp h;
	bool up, eof, reset;
	size_t got;
};

static void raw_cb(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	struct raw *r = ctx;
	uint8_t buf[4096];
	ssize_t n;

	if (ev & XS_EV_WRITABLE)
		r->up = true;
	while ((n = xs_tcp_recv(st, h, buf, sizeof(buf))) > 0)
		r->got += (size_t)n;
	if (n == 0)
		r->eof = true;
	else if (n != -EAGAIN)
		r->reset = true;
}

static void raw_open(struct env *e, struct raw *r)
{
	memset(r, 0, sizeof(*r));
	r->h = xs_tcp_connect(e->p.st[1], ips[0], PORT);
	assert_true(r->h.id >= 0);
	xs_tcp_set_event_cb(e->p.st[1], r->h, raw_cb, r);
	RUN_UNTIL(e, r->up, XS_SEC(5));
}

/* A client that stalls mid-handshake is dropped at the handshake timeout,
 * to the millisecond of the virtual clock, while another completes. */
static void test_handshake_timeout(void **state)
{
	struct env *e = *state;
	const struct xs_stats *ss = xs_stack_stats(e->p.st[0]);
	static const uint8_t half_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01};
	struct raw r;
	xs_time_t t0;
	struct peer *c;

	e->sctx = server_ctx("server", 0, NULL);
	e->cctx = client_ctx(0, NULL);
	raw_open(e, &r);
	RUN_UNTIL(e, e->nsrv == 1, XS_SEC(1));
	t0 = e->p.now; /* the session began in this turn, or the one before */
	assert_int_equal(xs_tcp_send(e->p.st[1], r.h, half_hello, sizeof(half_hello)),
			 sizeof(half_hello));
	assert_int_equal(ss->tls_handshaking, 1);
	/* Meanwhile a good client is served. */
	c = client_open(e, 1, "server.test", 5000);
	RUN_UNTIL(e, c->eof || c->error, XS_SEC(1));
	assert_false(c->error);
	assert_int_equal(c->rx_len, 5000);
	while (e->p.now < t0 + XS_MS(TO_MS) - XS_MS(2)) {
		turn(e);
		assert_false(e->srv[0].error);
		e->p.app_next = t0 + XS_MS(TO_MS) - XS_MS(2);
	}
	e->p.app_next = UINT64_MAX;
	RUN_UNTIL(e, e->srv[0].error, XS_MS(10));
	assert_int_equal(e->srv[0].err, -ETIMEDOUT);
	assert_non_null(strstr(e->srv[0].errtext, "handshake not done within 2000 ms"));
	close_peer(&e->srv[0]);
	RUN_UNTIL(e, r.reset, XS_SEC(1));
	assert_int_equal(ss->tls_handshake_timeouts, 1);
	assert_int_equal(ss->tls_handshaking, 0);
	assert_int_equal(ss->tls_handshakes, 1);
	close_peer(c);
	close_peer(&e->srv[1]);
	xs_tcp_close(e->p.st[1], r.h);
}

static void hold_cb(struct xs_stack *st, struct xs_tcp lh, unsigned ev, void *ctx)
{
	struct xs_tcp h;

	(void)ev;
	/* Held open, never read: a server that never answers. */
	while ((h = xs_tcp_accept(st, lh, NULL, NULL)).id >= 0)
		*(struct xs_tcp *)ctx = h;
}

/* A session made between polls, when the stack's clock is the last poll's
 * (here an hour old), counts its deadline from the next poll's time. */
static void test_deadline_from_a_stale_clock(void **state)
{
	struct env *e = *state;
	struct xs_tcp held = XS_NO_HANDLE, lh = xs_tcp_listen(e->p.st[0], 444, 8);
	xs_time_t t0;
	struct peer *c = &e->cli[0];
	struct xs_tcp h;

	assert_true(lh.id >= 0);
	xs_tcp_set_event_cb(e->p.st[0], lh, hold_cb, &held);
	e->cctx = client_ctx(0, NULL);
	e->p.now += XS_SEC(3600);
	t0 = e->p.now;
	h = xs_tcp_connect(e->p.st[1], ips[0], 444);
	assert_true(h.id >= 0);
	c->t = xs_tls_client(e->p.st[1], e->cctx, h, "server.test", peer_cb, c);
	assert_true(c->t.id >= 0);
	c->st = e->p.st[1];
	while (e->p.now < t0 + XS_MS(TO_MS) - XS_MS(2)) {
		turn(e);
		assert_false(c->error);
		e->p.app_next = t0 + XS_MS(TO_MS) - XS_MS(2);
	}
	e->p.app_next = UINT64_MAX;
	assert_true(held.id >= 0);
	RUN_UNTIL(e, c->error, XS_MS(10));
	assert_int_equal(c->err, -ETIMEDOUT);
	close_peer(c);
	xs_tcp_abort(e->p.st[0], held);
	xs_tcp_close(e->p.st[0], lh);
}

/* max_handshakes in progress: the next session is refused (EBUSY), and
 * served again once a slot is free. */
static void test_handshake_cap(void **state)
{
	struct env *e = *state;
	const struct xs_stats *ss = xs_stack_stats(e->p.st[0]);
	struct xs_tls_ctx_opts so = {.cert_file = cert("server.pem"),
				     .key_file = cert("server.key"),
				     .max_handshakes = 2,
				     .handshake_timeout_ms = TO_MS};
	struct raw r[3];
	struct peer *c;
	int i;

	e->sctx = ctx_or_die(&so);
	e->cctx = client_ctx(0, NULL);
	for (i = 0; i < 3; i++)
		raw_open(e, &r[i]);
	RUN_UNTIL(e, r[2].reset, XS_SEC(1));
	assert_int_equal(e->nsrv, 2);
	assert_int_equal(e->accept_errno, EBUSY);
	assert_int_equal(ss->tls_handshake_refused, 1);
	assert_int_equal(ss->tls_handshaking, 2);
	/* A real client now: refused too. */
	c = client_open(e, 0, "server.test", 10);
	RUN_UNTIL(e, c->error, XS_SEC(1));
	assert_int_equal(ss->tls_handshake_refused, 2);
	close_peer(c);
	/* One stalled client leaves: a slot is free again. */
	xs_tcp_abort(e->p.st[1], r[0].h);
	RUN_UNTIL(e, e->srv[0].error, XS_SEC(1));
	close_peer(&e->srv[0]);
	c = client_open(e, 1, "server.test", 10);
	RUN_UNTIL(e, c->eof || c->error, XS_SEC(1));
	assert_false(c->error);
	assert_int_equal(ss->tls_handshakes, 1);
	close_peer(c);
	close_peer(&e->srv[2]);
	close_peer(&e->srv[1]);
	RUN_UNTIL(e, r[1].eof, XS_SEC(1)); /* a handshake given up: a plain close */
	xs_tcp_close(e->p.st[1], r[1].h);
	xs_tcp_close(e->p.st[1], r[2].h);
}

/* Bytes that are not a ClientHello end the handshake at once: an error
 * that names them, an alert, and the connection closed. */
static void test_garbage_instead_of_hello(void **state)
{
	struct env *e = *state;
	const struct xs_stats *ss = xs_stack_stats(e->p.st[0]);
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t junk[] = {0x99, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
	struct raw r;

	e->sctx = server_ctx("server", 0, NULL);
	raw_open(e, &r);
	assert_int_equal(xs_tcp_send(e->p.st[1], r.h, http, strlen(http)), strlen(http));
	RUN_UNTIL(e, e->nsrv == 1 && e->srv[0].error, XS_SEC(1));
	assert_int_equal(e->srv[0].err, -EPROTO);
	assert_string_equal(e->srv[0].errtext, "http request");
	close_peer(&e->srv[0]);
	RUN_UNTIL(e, r.eof || r.reset, XS_SEC(1));
	xs_tcp_close(e->p.st[1], r.h);
	free(e->srv[0].rx);
	memset(&e->srv[0], 0, sizeof(e->srv[0]));
	e->nsrv = 0;
	raw_open(e, &r);
	assert_int_equal(xs_tcp_send(e->p.st[1], r.h, junk, sizeof(junk)), sizeof(junk));
	RUN_UNTIL(e, e->nsrv == 1 && e->srv[0].error, XS_SEC(1));
	assert_int_equal(e->srv[0].err, -EPROTO);
	assert_true(strlen(e->srv[0].errtext) > 0);
	close_peer(&e->srv[0]);
	RUN_UNTIL(e, r.eof || r.reset, XS_SEC(1));
	xs_tcp_close(e->p.st[1], r.h);
	assert_int_equal(ss->tls_handshake_failed, 2);
	assert_int_equal(ss->tls_handshaking, 0);
	assert_int_equal(ss->tls_sessions, 0);
}

/* A session closed with records still waiting for send room sends them,
 * then its close_notify: the peer reads every byte, then 0. */
static void test_close_flushes_then_notifies(void **state)
{
	struct env *e = *state;
	const struct xs_stats *ss = xs_stack_stats(e->p.st[0]);
	struct peer *c, *s;
	size_t len = 3u << 20, sent = 0;
	uint8_t *data = malloc(len), *want = malloc(len);
	ssize_t n;

	shrink_sndbuf(e);
	e->sctx = server_ctx("server", 0, NULL);
	e->cctx = client_ctx(0, NULL);
	c = client_open(e, 0, "server.test", 0);
	c->shut_when_sent = false;
	c->rx_cap = len + 1;
	free(c->rx);
	c->rx = malloc(c->rx_cap);
	RUN_UNTIL(e, e->nsrv == 1 && e->srv[0].up && c->up, XS_SEC(1));
	s = &e->srv[0];
	s->echo = false;
	pattern(9, 0, data, len);
	/* Sends until the first -EAGAIN (one record then waits in the session),
	 * then closes: the rest of the conversation is the library's. */
	while ((n = xs_tls_send(s->st, s->t, data + sent, len - sent)) > 0)
		sent += (size_t)n;
	assert_int_equal(n, -EAGAIN);
	assert_true(sent > 0 && sent < len);
	close_peer(s);
	RUN_UNTIL(e, c->eof || c->error, XS_SEC(10));
	assert_false(c->error);
	assert_int_equal(c->rx_len, sent);
	pattern(9, 0, want, sent);
	assert_memory_equal(c->rx, want, sent);
	assert_int_equal(ss->tls_close_notify_tx, 1);
	assert_int_equal(ss->tls_close_aborts, 0);
	close_peer(c);
	free(data);
	free(want);
}

/* A closed session whose peer never opens its window is reset after the
 * context's timeout: tls_close_aborts. */
static void test_close_gives_up_on_closed_window(void **state)
{
	struct env *e = *state;
	const struct xs_stats *ss = xs_stack_stats(e->p.st[0]);
	static uint8_t data[1 << 20];
	struct raw r;
	struct peer *s;
	ssize_t n;
	struct xs_tcp h;

	(void)r;
	e->sctx = server_ctx("server", 0, NULL);
	e->cctx = client_ctx(0, NULL);
	/* A client with a small window that stops reading after the handshake. */
	h = xs_tcp_connect_ex(e->p.st[1], ips[0], PORT,
			      &(struct xs_tcp_connect_opts){.rcvbuf = 4096});
	assert_true(h.id >= 0);
	memset(&e->cli[0], 0, sizeof(e->cli[0]));
	e->cli[0].t = xs_tls_client(e->p.st[1], e->cctx, h, "server.test", peer_cb, &e->cli[0]);
	assert_true(e->cli[0].t.id >= 0);
	e->cli[0].st = e->p.st[1];
	e->cli[0].rx_cap = 1;
	e->cli[0].rx = malloc(1);
	RUN_UNTIL(e, e->nsrv == 1 && e->srv[0].up && e->cli[0].up, XS_SEC(1));
	s = &e->srv[0];
	s->echo = false;
	e->cli[0].rx_cap = 0; /* reads nothing more */
	while ((n = xs_tls_send(s->st, s->t, data, sizeof(data))) > 0)
		;
	close_peer(s);
	assert_int_equal(ss->tls_sessions, 1); /* closing, waiting for room */
	RUN_UNTIL(e, ss->tls_sessions == 0, XS_MS(TO_MS + 500));
	assert_int_equal(ss->tls_close_aborts, 1);
	RUN_UNTIL(e, e->cli[0].error || e->cli[0].hup, XS_SEC(5));
}

/* Typed handles: a closed session's handle gets -EBADF from every call, also
 * once a new session has its number (another generation); error returns are
 * handles with a negative id. */
static void test_stale_handle_after_reuse(void **state)
{
	struct env *e = *state;
	struct xs_stack *cst = e->p.st[1];
	struct xs_tls old, bad;
	struct xs_tls_info in;
	struct peer *c;
	uint8_t b[8];

	e->sctx = server_ctx("server", 0, NULL);
	e->cctx = client_ctx(0, NULL);
	echo_round(e, "server.test", 1000, "TLSv1.3");
	old = e->cli[0].t;
	forget_round(e);
	c = client_open(e, 0, "server.test", 1000);
	assert_int_equal(c->t.id, old.id); /* the number came back */
	assert_int_not_equal(c->t.gen, old.gen);
	assert_int_equal(xs_tls_send(cst, old, "x", 1), -EBADF);
	assert_int_equal(xs_tls_recv(cst, old, b, sizeof(b)), -EBADF);
	assert_int_equal(xs_tls_shutdown(cst, old), -EBADF);
	assert_int_equal(xs_tls_poll_events(cst, old), -EBADF);
	assert_int_equal(xs_tls_error(cst, old), -EBADF);
	assert_int_equal(xs_tls_get_info(cst, old, &in), -EBADF);
	assert_int_equal(xs_tls_tcp(cst, old).id, -EBADF);
	assert_string_equal(xs_tls_strerror(cst, old), "not an open TLS session");
	assert_int_equal(xs_tls_close(cst, old), -EBADF);
	assert_int_equal(xs_tls_abort(cst, old), -EBADF);
	/* The new session did not notice. */
	RUN_UNTIL(e, c->eof || c->error, XS_SEC(10));
	assert_false(c->error);
	assert_int_equal(c->rx_len, 1000);
	assert_true(xs_tls_tcp(cst, c->t).id >= 0);
	close_peer(c);
	close_peer(&e->srv[0]);
	/* A server context for a client session, a listener for a connection. */
	bad = xs_tls_client(cst, e->sctx, e->listener, NULL, peer_cb, NULL);
	assert_int_equal(bad.id, -EINVAL);
	assert_int_equal(bad.gen, 0);
	bad = xs_tls_server(e->p.st[0], e->sctx, e->listener, peer_cb, NULL);
	assert_int_equal(bad.id, -EBADF);
	assert_int_equal(xs_tls_send(cst, bad, "x", 1), -EBADF);
	bad = (struct xs_tls)XS_NO_HANDLE;
	assert_int_equal(xs_tls_close(cst, bad), -EBADF);
}

/* A callback that closes its own session on the first event gets no second
 * call; the session still sends its close_notify. */
static unsigned close_cb_calls;

static void close_on_first(struct xs_stack *st, struct xs_tls t, unsigned ev, void *ctx)
{
	(void)ev;
	(void)ctx;
	close_cb_calls++;
	assert_int_equal(xs_tls_close(st, t), 0);
	assert_int_equal(xs_tls_poll_events(st, t), -EBADF);
}

static void test_close_inside_callback(void **state)
{
	struct env *e = *state;
	const struct xs_stats *cs = xs_stack_stats(e->p.st[1]);
	struct xs_tcp h;
	struct xs_tls t;
	int i;

	e->sctx = server_ctx("server", 0, NULL);
	e->cctx = client_ctx(0, NULL);
	close_cb_calls = 0;
	h = xs_tcp_connect(e->p.st[1], ips[0], PORT);
	assert_true(h.id >= 0);
	t = xs_tls_client(e->p.st[1], e->cctx, h, "server.test", close_on_first, NULL);
	assert_true(t.id >= 0);
	RUN_UNTIL(e, close_cb_calls == 1, XS_SEC(1));
	assert_int_equal(xs_tls_poll_events(e->p.st[1], t), -EBADF);
	RUN_UNTIL(e, e->nsrv == 1 && e->srv[0].eof, XS_SEC(1));
	for (i = 0; i < 100; i++)
		turn(e);
	assert_int_equal(close_cb_calls, 1);
	assert_int_equal(cs->tls_close_notify_tx, 1);
	assert_int_equal(cs->tls_sessions, 0);
	close_peer(&e->srv[0]);
}

/* xs_stack_free with sessions still open on it aborts them, so a context
 * freed afterwards has nothing left to touch (ASan would say). */
static void test_stack_freed_before_context(void **state)
{
	struct env *e = *state;
	struct peer *c;
	int i;

	e->sctx = server_ctx("server", 0, NULL);
	e->cctx = client_ctx(0, NULL);
	c = client_open(e, 0, "server.test", 100000);
	c->shut_when_sent = false;
	RUN_UNTIL(e, e->nsrv == 1 && e->srv[0].up && c->up, XS_SEC(1));
	for (i = 0; i < 2; i++)
		xs_stack_free(e->p.st[i]);
	for (i = 0; i < 2; i++)
		xs_dev_free(e->p.dev[i]);
	xs_tls_ctx_free(e->sctx);
	xs_tls_ctx_free(e->cctx);
}

static int teardown_freed(void **state)
{
	struct env *e = *state;
	int i;

	for (i = 0; i < MAXP; i++) {
		free(e->srv[i].rx);
		free(e->cli[i].rx);
	}
	free(e);
	return 0;
}

static void test_ctx_errors(void **state)
{
	struct xs_tls_ctx_opts o = {0};
	char err[256];

	(void)state;
	o.cert_file = "/nonexistent/cert.pem";
	assert_null(xs_tls_ctx_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot load the certificate /nonexistent/cert.pem"));
	assert_non_null(strstr(err, "No such file"));
	o.cert_file = cert("server.pem");
	o.key_file = cert("other.key");
	assert_null(xs_tls_ctx_new(&o, err, sizeof(err)));
	if (!strstr(err, "key values mismatch"))
		fail_msg("%s", err);
	o.key_file = cert("server.key");
	o.alpn = "h2,,x";
	assert_null(xs_tls_ctx_new(&o, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "ALPN"));
	o.alpn = NULL;
	o.min_version = XS_TLS_1_3;
	o.max_version = XS_TLS_1_2;
	assert_null(xs_tls_ctx_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "versions"));
	memset(&o, 0, sizeof(o));
	assert_null(xs_tls_ctx_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "needs a certificate"));
	o.client = 1;
	o.ca_file = "/nonexistent/ca.pem";
	assert_null(xs_tls_ctx_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "CA file /nonexistent/ca.pem"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_tls13_echo),
	    T(test_tls12_echo_by_address),
	    T(test_small_send_buffer),
	    T(test_verify_refusals),
	    T(test_resumption_tls13),
	    T(test_resumption_tls12),
	    T(test_ipv6_by_address_and_resumption),
	    T(test_alpn_and_sni),
	    T(test_client_certificate),
	    T(test_handshake_timeout),
	    T(test_deadline_from_a_stale_clock),
	    T(test_handshake_cap),
	    T(test_garbage_instead_of_hello),
	    T(test_close_flushes_then_notifies),
	    T(test_close_gives_up_on_closed_window),
	    T(test_stale_handle_after_reuse),
	    T(test_close_inside_callback),
	    cmocka_unit_test_setup_teardown(test_stack_freed_before_context, setup, teardown_freed),
	    cmocka_unit_test(test_ctx_errors),
	};

	return cmocka_run_group_tests_name("tls", tests, tls_certs_make, tls_certs_remove);
}
