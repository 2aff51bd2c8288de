/* The DNS resolver's TCP fallback on a stack pair and a virtual clock: stack B
 * runs a small server on UDP and TCP port 53 that truncates over UDP. */
#include "pair_fixture.h"

#include "wire/bytes.h"

#define BIG_N 40 /* A records over TCP: 12 + 14 + 40 * 16 bytes, past 512 */

enum srv_mode { SRV_GOOD, SRV_BAD_LEN, SRV_BAD_ID };

struct srv {
	enum srv_mode mode;
	struct xs_udp udp;
	struct xs_tcp lh;
	unsigned udp_queries, tcp_queries;
	uint8_t in[1024];
	size_t inlen;
};

struct got {
	int n;
	struct xs_dns_result r;
};

static void on_result(struct xs_stack *st, struct xs_dns_query q, const struct xs_dns_result *r, void *ctx)
{
	struct got *g = ctx;

	g->n++;
	g->r = *r;
}

/* The reply to the query q/qlen: TC and no answer, or BIG_N A records. */
static size_t srv_reply(const uint8_t *q, size_t qlen, bool tc, uint8_t *out)
{
	size_t n = qlen;

	memcpy(out, q, qlen);
	st_be16(out + 2, tc ? 0x8380 : 0x8180);
	st_be16(out + 6, tc ? 0 : BIG_N);
	if (tc)
		return n;
	for (int i = 0; i < BIG_N; i++) {
		static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 0 };

		memcpy(out + n, rr, sizeof(rr));
		out[n + sizeof(rr)] = (uint8_t)(i + 1);
		n += sizeof(rr) + 1;
	}
	return n;
}

static void srv_udp(struct xs_stack *st, struct xs_udp h, unsigned ev, void *ctx)
{
	struct srv *s = ctx;
	uint8_t q[512], r[512];
	uint32_t ip;
	uint16_t port;
	ssize_t n;

	while ((n = xs_udp_recvfrom(st, h, q, sizeof(q), &ip, &port)) > 0) {
		s->udp_queries++;
		xs_udp_sendto(st, h, r, srv_reply(q, (size_t)n, true, r), ip, port);
	}
}

static void srv_conn(struct xs_stack *st, struct xs_tcp h, unsigned ev, void *ctx)
{
	struct srv *s = ctx;
	uint8_t r[2 + 1024];
	ssize_t n;
	size_t len;

	while ((n = xs_tcp_recv(st, h, s->in + s->inlen, sizeof(s->in) - s->inlen)) > 0)
		s->inlen += (size_t)n;
	if (s->inlen < 2 || s->inlen < 2u + ld_be16(s->in))
		return;
	s->tcp_queries++;
	len = srv_reply(s->in + 2, ld_be16(s->in), false, r + 2);
	if (s->mode == SRV_BAD_ID)
		r[2] ^= 1;
	st_be16(r, s->mode == SRV_BAD_LEN ? 5 : (uint16_t)len);
	assert_int_equal(xs_tcp_send(st, h, r, len + 2), (ssize_t)(len + 2));
	s->inlen = 0;
	xs_tcp_close(st, h);
}

static void srv_listen(struct xs_stack *st, struct xs_tcp lh, unsigned ev, void *ctx)
{
	struct xs_tcp h;

	while ((h = xs_tcp_accept(st, lh, NULL, NULL)).id >= 0)
		xs_tcp_set_event_cb(st, h, srv_conn, ctx);
}

static void run(enum srv_mode mode, struct got *g, struct srv *s, struct pair *p)
{
	struct xs_fault_config fc[2] = { { .ipv4_only = 1 }, { .ipv4_only = 1 } };
	xs_time_t limit;

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	pair_start(p, fc);
	s->udp = xs_udp_open(p->st[1]);
	assert_int_equal(xs_udp_bind(p->st[1], s->udp, 53), 0);
	xs_udp_set_event_cb(p->st[1], s->udp, srv_udp, s);
	s->lh = xs_tcp_listen(p->st[1], 53, 8);
	assert_true(s->lh.id >= 0);
	xs_tcp_set_event_cb(p->st[1], s->lh, srv_listen, s);
	assert_int_equal(xs_dns_add_server(p->st[0], ips[1], 53), 0);
	assert_true(xs_dns_resolve(p->st[0], "big.test", on_result, g).id >= 0);
	limit = p->now + XS_SEC(30);
	while (!g->n && p->now < limit) {
		pair_poll(p);
		pair_advance(p);
	}
	assert_int_equal(g->n, 1);
	xs_tcp_close(p->st[1], s->lh);
	xs_udp_close(p->st[1], s->udp);
}

static void test_tcp_fallback(void **state)
{
	struct pair p;
	struct srv s;
	struct got g = { 0 };

	run(SRV_GOOD, &g, &s, &p);
	assert_int_equal(g.r.error, 0);
	assert_true(g.r.tcp);
	assert_int_equal(g.r.naddrs, XS_DNS_MAX_ADDRS);
	for (unsigned i = 0; i < g.r.naddrs; i++)
		assert_int_equal(g.r.addrs[i], 0x0a010000u + i + 1);
	assert_int_equal(g.r.ttl, 60);
	assert_int_equal(s.udp_queries, 1);
	assert_int_equal(s.tcp_queries, 1);
	assert_int_equal(xs_stack_stats(p.st[0])->dns_tcp_fallback, 1);
	assert_int_equal(xs_stack_stats(p.st[0])->dns_tx, 2);
	assert_int_equal(xs_stack_stats(p.st[0])->dns_rx, 2);
	/* Cached: no more queries. */
	assert_true(xs_dns_resolve(p.st[0], "big.test", on_result, &g).id >= 0);
	pair_poll(&p);
	assert_int_equal(g.n, 2);
	assert_true(g.r.from_cache);
	pair_stop(&p);
}

/* Over TCP a bad reply ends the try; after dns_attempts (2) the query fails. */
static void test_tcp_bad_replies(void **state)
{
	static const struct {
		enum srv_mode mode;
		enum xs_drop why;
	} cases[] = { { SRV_BAD_LEN, XS_DROP_DNS_TCP_LEN }, { SRV_BAD_ID, XS_DROP_DNS_ID } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pair p;
		struct srv s;
		struct got g = { 0 };

		run(cases[i].mode, &g, &s, &p);
		assert_int_equal(g.r.error, -EPROTO);
		assert_int_equal(s.udp_queries, 2);
		assert_int_equal(s.tcp_queries, 2);
		assert_int_equal(xs_stack_stats(p.st[0])->drop[cases[i].why], 2);
		assert_int_equal(xs_stack_stats(p.st[0])->dns_tcp_fallback, 2);
		assert_int_equal(xs_stack_stats(p.st[0])->dns_inflight, 0);
		pair_stop(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_fallback),
		cmocka_unit_test(test_tcp_bad_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
