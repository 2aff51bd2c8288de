/* Unit tests of the DNS stub resolver (user/net/dns.c) on the in-memory device
 * and a virtual clock: matching, CNAMEs, retries, the cache and its budgets. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <xdpstack/dev.h>
#include <xdpstack/stack.h>

#include "stack_fixture.h"

struct got {
	int n;
	struct xs_dns_query q;
	struct xs_dns_result r;
};

static void on_result(struct xs_stack *st, struct xs_dns_query q, const struct xs_dns_result *r, void *ctx)
{
	struct got *g = ctx;

	g->n++;
	g->q = q;
	g->r = *r;
}

/* The query the stack sent to ip:53; returns its payload length, copies it. */
static size_t take_query(struct fx *fx, uint32_t ip, const uint8_t *mac, uint8_t *q,
			 uint16_t *sport)
{
	uint8_t f[FRAME_MAX];
	size_t n = take(fx, f), plen;
	const uint8_t *p = check_udp_out(f, n, mac, ip, 0, 53, &plen);

	*sport = get16(p - 8);
	assert_true(*sport >= 32768 && *sport <= 60999);
	assert_true(plen >= 12 + 1 + 4);
	assert_int_equal(get16(p + 2), 0x0100); /* query, RD */
	assert_int_equal(get16(p + 4), 1);
	memcpy(q, p, plen);
	return plen;
}

/* A reply to q: rcode, then the records given as raw bytes after the question. */
static size_t mk_reply(uint8_t *r, const uint8_t *q, size_t qlen, uint16_t rcode, uint16_t an,
		       uint16_t ns, const uint8_t *recs, size_t rlen)
{
	memcpy(r, q, qlen);
	put16(r + 2, (uint16_t)(0x8180 | rcode));
	put16(r + 6, an);
	put16(r + 8, ns);
	memcpy(r + qlen, recs, rlen);
	return qlen + rlen;
}

static void inject_reply(struct fx *fx, uint32_t src, uint16_t sport, uint16_t dport,
			 const uint8_t *msg, size_t n)
{
	uint8_t f[FRAME_MAX];

	inject(fx, f, mk_udp(f, src, sport, OUR_IP, dport, msg, n));
}

/* www.a.test CNAME c.a.test (TTL 60), c.a.test A 10.9.9.9 (TTL 30). */
static const uint8_t chain[] = {
    0xc0, 12,	0,  5, 0, 1, 0, 0, 0, 60, 0,  4, 1, 'c', 0xc0, 16, 1,
    'c',  0xc0, 16, 0, 1, 0, 1, 0, 0, 0,  30, 0, 4, 10,	 9,    9,  9,
};

static void test_resolve_match_cache(void **state)
{
	struct fx *fx = *state;
	uint8_t q[512], r[512];
	struct got g = {0};
	uint16_t port;
	size_t ql, rl;
	struct xs_dns_query h;

	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(xs_dns_add_server(fx->st, PEER_IP, 53), 0);
	h = xs_dns_resolve(fx->st, "WWW.a.test", on_result, &g);
	assert_true(h.id >= 0);
	fx_poll(fx, fx->now);
	ql = take_query(fx, PEER_IP, peer_mac, q, &port);
	assert_int_equal(ql, 12 + 12 + 4);
	assert_memory_equal(q + 12, "\3www\1a\4test\0\0\1\0\1", 16);
	rl = mk_reply(r, q, ql, 0, 2, 0, chain, sizeof(chain));
	fx_snap(fx);

	/* Spoofs: another source port, another address, another ID, another
	 * question, a query instead of a reply, a malformed message. */
	inject_reply(fx, PEER_IP, 54, port, r, rl);
	inject_reply(fx, PEER2_IP, 53, port, r, rl);
	put16(r, (uint16_t)(get16(q) + 1));
	inject_reply(fx, PEER_IP, 53, port, r, rl);
	put16(r, get16(q));
	r[13] = 'x';
	inject_reply(fx, PEER_IP, 53, port, r, rl);
	r[13] = 'w';
	r[2] &= 0x7f;
	inject_reply(fx, PEER_IP, 53, port, r, rl);
	r[2] |= 0x80;
	inject_reply(fx, PEER_IP, 53, port, r, rl - 1);
	fx_poll(fx, fx->now + XS_MS(1));
	assert_int_equal(g.n, 0);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_DNS_SRC], 2);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_DNS_ID], 1);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_DNS_QUESTION], 1);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_DNS_NOT_REPLY], 1);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_DNS_RDLEN], 1);

	/* The genuine reply: the chain is followed, TTL the smallest. */
	fx_snap(fx);
	inject_reply(fx, PEER_IP, 53, port, r, rl);
	fx_poll(fx, fx->now + XS_MS(1));
	expect_drops(fx, XS_DROP_NONE, 0, "genuine reply");
	assert_int_equal(g.n, 1);
	assert_int_equal(g.q.id, h.id);
	assert_int_equal(g.q.gen, h.gen);
	assert_int_equal(g.r.error, 0);
	assert_int_equal(g.r.naddrs, 1);
	assert_int_equal(g.r.addrs[0], 0x0a090909);
	assert_int_equal(g.r.cnames, 1);
	assert_string_equal(g.r.canon, "c.a.test");
	assert_int_equal(g.r.ttl, 30);
	assert_false(g.r.from_cache);
	/* Later replies (the port is closed) are not ours. */
	expect_nothing_sent(fx, "answered");

	/* Within the TTL: from the cache, nothing sent, delivered at the next poll. */
	fx_poll(fx, fx->now + XS_SEC(20));
	assert_true(xs_dns_resolve(fx->st, "www.a.test.", on_result, &g).id >= 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(xs_stack_next_timer(fx->st), 0);
	fx_poll(fx, fx->now);
	assert_int_equal(g.n, 2);
	assert_true(g.r.from_cache);
	assert_int_equal(g.r.addrs[0], 0x0a090909);
	assert_true(g.r.ttl <= 10 && g.r.ttl >= 9);
	expect_nothing_sent(fx, "cache hit");
	assert_int_equal(xs_stack_stats(fx->st)->dns_cache_hits, 1);

	/* Past the TTL: asked again, with another ID or port. */
	fx_poll(fx, fx->now + XS_SEC(11));
	assert_true(xs_dns_resolve(fx->st, "www.a.test", on_result, &g).id >= 0);
	fx_poll(fx, fx->now);
	{
		uint8_t q2[512];
		uint16_t port2;

		take_query(fx, PEER_IP, peer_mac, q2, &port2);
		assert_true(port2 != port || get16(q2) != get16(q));
	}
	assert_int_equal(xs_stack_stats(fx->st)->dns_inflight, 1);
}

static void test_retry_servers_timeout(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .dns_timeout_ms = 500, .dns_attempts = 1};
	uint8_t q[512];
	struct got g = {0};
	uint16_t port;

	fx_restart(fx, &cfg, 1500, 64, true);
	learn_peer(fx, peer_mac, PEER_IP);
	learn_peer(fx, peer2_mac, PEER2_IP);
	assert_int_equal(xs_dns_add_server(fx->st, PEER_IP, 53), 0);
	assert_int_equal(xs_dns_add_server(fx->st, PEER2_IP, 53), 0);
	assert_true(xs_dns_resolve(fx->st, "x.a.test", on_result, &g).id >= 0);
	fx_poll(fx, fx->now);
	take_query(fx, PEER_IP, peer_mac, q, &port);
	/* The next timer is at most the query's deadline (a tick may come first). */
	assert_true(xs_stack_next_timer(fx->st) <= fx->now + XS_MS(500));
	fx_poll(fx, fx->now + XS_MS(499));
	expect_nothing_sent(fx, "before the timeout");
	fx_poll(fx, fx->now + XS_MS(1));
	take_query(fx, PEER2_IP, peer2_mac, q, &port);
	fx_poll(fx, fx->now + XS_MS(500));
	assert_int_equal(g.n, 1);
	assert_int_equal(g.r.error, -ETIMEDOUT);
	assert_int_equal(xs_stack_stats(fx->st)->dns_timeouts, 2);
	assert_int_equal(xs_stack_stats(fx->st)->dns_inflight, 0);
	expect_nothing_sent(fx, "given up");

	/* The first server silent, the second answers: the name resolves. */
	{
		static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 7, 7, 7};
		uint8_t r[512];
		size_t ql;

		assert_true(xs_dns_resolve(fx->st, "y.a.test", on_result, &g).id >= 0);
		fx_poll(fx, fx->now);
		take_query(fx, PEER_IP, peer_mac, q, &port);
		fx_poll(fx, fx->now + XS_MS(500));
		ql = take_query(fx, PEER2_IP, peer2_mac, q, &port);
		inject_reply(fx, PEER2_IP, 53, port, r, mk_reply(r, q, ql, 0, 1, 0, a, sizeof(a)));
		fx_poll(fx, fx->now);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.r.error, 0);
		assert_int_equal(g.r.naddrs, 1);
		assert_int_equal(g.r.addrs[0], 0x0a070707);
		assert_int_equal(xs_stack_stats(fx->st)->dns_timeouts, 3);
	}
}

/* Queries started apart time out each at its own deadline, not before and
 * not after, and the next timer never lies beyond the earliest one: the
 * earliest deadline is kept as queries are armed, so polls before it walk
 * no slots. */
static void test_staggered_timeouts(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .dns_timeout_ms = 50, .dns_attempts = 1};
	struct got g[3] = {{0}};
	xs_time_t t0;
	uint8_t q[512];
	uint16_t port;

	fx_restart(fx, &cfg, 1500, 64, true);
	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(xs_dns_add_server(fx->st, PEER_IP, 53), 0);
	t0 = fx->now;
	for (int i = 0; i < 3; i++) {
		fx_poll(fx, t0 + XS_MS(10) * (xs_time_t)i);
		assert_true(xs_dns_resolve(fx->st, i == 0 ? "a.test" : i == 1 ? "b.test" : "c.test",
					   on_result, &g[i]).id >= 0);
		fx_poll(fx, fx->now);
		take_query(fx, PEER_IP, peer_mac, q, &port);
	}
	for (int i = 0; i < 3; i++) {
		xs_time_t due = t0 + XS_MS(10) * (xs_time_t)i + XS_MS(50);

		assert_true(xs_stack_next_timer(fx->st) <= due);
		fx_poll(fx, due - 1);
		assert_int_equal(xs_stack_stats(fx->st)->dns_timeouts, (uint64_t)i);
		fx_poll(fx, due);
		assert_int_equal(xs_stack_stats(fx->st)->dns_timeouts, (uint64_t)i + 1);
		fx_poll(fx, fx->now); /* the result is delivered at the next poll */
		assert_int_equal(g[i].n, 1);
		assert_int_equal(g[i].r.error, -ETIMEDOUT);
	}
	assert_int_equal(xs_stack_stats(fx->st)->dns_inflight, 0);
	expect_nothing_sent(fx, "given up");
}

static void test_nxdomain_negative_cache(void **state)
{
	struct fx *fx = *state;
	/* SOA a.test, TTL 100, MINIMUM 5: cached 5 s (RFC 2308 5). */
	static const uint8_t soa[] = {
	    0xc0, 15, 0, 6, 0, 1, 0, 0, 0, 100, 0, 26, 2, 'n', 's', 0xc0, 15, 0, 0,
	    0,	  0,  1, 0, 0, 0, 2, 0, 0, 0,	3, 0,  0, 0,   4,   0,	  0,  0, 5,
	};
	uint8_t q[512], r[512];
	struct got g = {0};
	uint16_t port;
	size_t ql, rl;

	learn_peer(fx, peer_mac, PEER_IP);
	xs_dns_add_server(fx->st, PEER_IP, 53);
	assert_true(xs_dns_resolve(fx->st, "no.a.test", on_result, &g).id >= 0);
	fx_poll(fx, fx->now);
	ql = take_query(fx, PEER_IP, peer_mac, q, &port);
	rl = mk_reply(r, q, ql, 3, 0, 1, soa, sizeof(soa));
	inject_reply(fx, PEER_IP, 53, port, r, rl);
	fx_poll(fx, fx->now);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.r.error, -ENOENT);
	assert_int_equal(g.r.ttl, 5);

	fx_poll(fx, fx->now + XS_SEC(4));
	assert_true(xs_dns_resolve(fx->st, "no.a.test", on_result, &g).id >= 0);
	fx_poll(fx, fx->now);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.r.error, -ENOENT);
	assert_true(g.r.from_cache);
	expect_nothing_sent(fx, "negative hit");
	assert_int_equal(xs_stack_stats(fx->st)->dns_cache_neg_hits, 1);

	fx_poll(fx, fx->now + XS_SEC(1));
	assert_true(xs_dns_resolve(fx->st, "no.a.test", on_result, &g).id >= 0);
	fx_poll(fx, fx->now);
	ql = take_query(fx, PEER_IP, peer_mac, q, &port);
	rl = mk_reply(r, q, ql, 3, 0, 1, soa, sizeof(soa));
	inject_reply(fx, PEER_IP, 53, port, r, rl); /* nothing left in flight */
	fx_poll(fx, fx->now);
	assert_int_equal(g.n, 3);
	assert_false(g.r.from_cache);

	/* NODATA (RFC 2308 2.2: NOERROR, no answer, the SOA) is negative too:
	 * -ENODATA, kept by the same rule. "on" has the length of "no", so the
	 * SOA's owner pointer (15) still lands on "a.test". */
	assert_true(xs_dns_resolve(fx->st, "on.a.test", on_result, &g).id >= 0);
	fx_poll(fx, fx->now);
	ql = take_query(fx, PEER_IP, peer_mac, q, &port);
	rl = mk_reply(r, q, ql, 0, 0, 1, soa, sizeof(soa));
	inject_reply(fx, PEER_IP, 53, port, r, rl);
	fx_poll(fx, fx->now);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.r.error, -ENODATA);
	assert_int_equal(g.r.ttl, 5);
	assert_false(g.r.from_cache);
	fx_poll(fx, fx->now + XS_SEC(4));
	assert_true(xs_dns_resolve(fx->st, "on.a.test", on_result, &g).id >= 0);
	fx_poll(fx, fx->now);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.r.error, -ENODATA);
	assert_true(g.r.from_cache);
	expect_nothing_sent(fx, "NODATA hit");
	assert_int_equal(xs_stack_stats(fx->st)->dns_cache_neg_hits, 2);
}

/* RFC 5452 9.2: each query's ID and source port are random, not a counter:
 * 16 queries, 16 IDs and 16 ports (a chance collision is allowed once), and
 * neither sequence steps by a constant. */
static void test_random_id_and_port(void **state)
{
	struct fx *fx = *state;
	uint16_t id[16], port[16];
	uint8_t q[512];
	struct got g = {0};
	unsigned ids = 0, ports = 0, id_steps = 0, port_steps = 0;

	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(xs_dns_add_server(fx->st, PEER_IP, 53), 0);
	for (int i = 0; i < 16; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%d.a.test", i);
		assert_true(xs_dns_resolve(fx->st, name, on_result, &g).id >= 0);
		fx_poll(fx, fx->now);
		take_query(fx, PEER_IP, peer_mac, q, &port[i]);
		id[i] = get16(q);
	}
	for (int i = 0; i < 16; i++) {
		int same_id = 0, same_port = 0;

		for (int k = 0; k < i; k++) {
			same_id |= id[k] == id[i];
			same_port |= port[k] == port[i];
		}
		ids += !same_id;
		ports += !same_port;
		if (i >= 2) {
			id_steps += (uint16_t)(id[i] - id[i - 1]) != (uint16_t)(id[1] - id[0]);
			port_steps +=
			    (uint16_t)(port[i] - port[i - 1]) != (uint16_t)(port[1] - port[0]);
		}
	}
	assert_true(ids >= 15);
	assert_true(ports >= 15);
	assert_true(id_steps > 0 && port_steps > 0);
}

/* A CNAME loop in the answer ends at the bound; a chain that stops at a
 * name with no address is asked again for that name. */
static void test_cname_loop_and_requery(void **state)
{
	struct fx *fx = *state;
	static const uint8_t loop[] = {
	    0xc0, 12,  0,    5,	 0, 1, 0, 0, 0, 60, 0, 4,  1, 'c', 0xc0, 16,
	    1,	  'c', 0xc0, 16, 0, 5, 0, 1, 0, 0,  0, 60, 0, 2,   0xc0, 12,
	};
	static const uint8_t dangling[] = {
	    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 1, 'z', 1, 'b', 0xc0, 14,
	};
	uint8_t q[512], r[512];
	struct got g = {0};
	uint16_t port;
	size_t ql, rl;

	learn_peer(fx, peer_mac, PEER_IP);
	xs_dns_add_server(fx->st, PEER_IP, 53);
	assert_true(xs_dns_resolve(fx->st, "www.a.test", on_result, &g).id >= 0);
	fx_poll(fx, fx->now);
	ql = take_query(fx, PEER_IP, peer_mac, q, &port);
	rl = mk_reply(r, q, ql, 0, 2, 0, loop, sizeof(loop));
	inject_reply(fx, PEER_IP, 53, port, r, rl);
	fx_poll(fx, fx->now);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.r.error, -ELOOP);

	assert_true(xs_dns_resolve(fx->st, "y.a.test", on_result, &g).id >= 0);
	fx_poll(fx, fx->now);
	ql = take_query(fx, PEER_IP, peer_mac, q, &port);
	rl = mk_reply(r, q, ql, 0, 1, 0, dangling, sizeof(dangling));
	inject_reply(fx, PEER_IP, 53, port, r, rl);
	fx_poll(fx, fx->now);
	assert_int_equal(g.n, 1);
	ql = take_query(fx, PEER_IP, peer_mac, q, &port);
	assert_memory_equal(q + 12, "\1z\1b\1a\4test\0", 12);
}

static void test_budgets(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .dns_max_queries = 2, .dns_cache_size = 1};
	static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4};
	uint8_t q[512], r[512];
	struct got g = {0};
	uint16_t port;
	size_t ql;
	struct xs_dns_query h1, h2, q0;

	fx_restart(fx, &cfg, 1500, 64, true);
	learn_peer(fx, peer_mac, PEER_IP);
	assert_int_equal(xs_dns_resolve(fx->st, "a.test", on_result, &g).id, -EDESTADDRREQ);
	xs_dns_add_server(fx->st, PEER_IP, 53);
	assert_int_equal(xs_dns_resolve(fx->st, "bad name", on_result, &g).id, -EINVAL);
	assert_int_equal(xs_dns_resolve(fx->st, "1.2.3", on_result, &g).id, -EINVAL);
	q0 = xs_dns_resolve(fx->st, "x.a-b.c", on_result, &g);
	assert_true(q0.id >= 0);
	assert_int_equal(xs_dns_cancel(fx->st, q0), 0);
	assert_int_equal(xs_dns_cancel(fx->st, q0), -EBADF);
	fx_poll(fx, fx->now);
	take_query(fx, PEER_IP, peer_mac, q, &port); /* sent before the cancel */
	h1 = xs_dns_resolve(fx->st, "one.test", on_result, &g);
	h2 = xs_dns_resolve(fx->st, "two.test", on_result, &g);
	assert_true(h1.id >= 0 && h2.id >= 0 && h1.id != h2.id);
	assert_int_equal(xs_dns_resolve(fx->st, "three.test", on_result, &g).id, -EBUSY);
	assert_int_equal(xs_stack_stats(fx->st)->dns_busy, 1);
	assert_int_equal(xs_stack_stats(fx->st)->dns_inflight, 2);
	fx_poll(fx, fx->now);
	for (int i = 0; i < 2; i++) {
		ql = take_query(fx, PEER_IP, peer_mac, q, &port);
		inject_reply(fx, PEER_IP, 53, port, r, mk_reply(r, q, ql, 0, 1, 0, a, sizeof(a)));
	}
	fx_poll(fx, fx->now);
	assert_int_equal(g.n, 2);
	/* One cache entry: the second answer pushed out the first. */
	assert_int_equal(xs_stack_stats(fx->st)->dns_cache_entries, 1);
	assert_int_equal(xs_stack_stats(fx->st)->dns_cache_evictions, 1);
	/* Cancel: no callback, the slot is free again. */
	h1 = xs_dns_resolve(fx->st, "four.test", on_result, &g);
	assert_int_equal(xs_dns_cancel(fx->st, h1), 0);
	assert_int_equal(xs_dns_cancel(fx->st, h1), -EBADF);
	fx_poll(fx, fx->now + XS_SEC(10));
	assert_int_equal(g.n, 2);
	assert_int_equal(xs_stack_stats(fx->st)->dns_inflight, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_resolve_match_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retry_servers_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_staggered_timeouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nxdomain_negative_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cname_loop_and_requery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_id_and_port, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_budgets, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
