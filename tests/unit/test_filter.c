/* Unit tests of the filter table (user/net/filter.c) and of its enforcement in
 * a whole stack on a virtual clock: order, policies, counters, rates, reject. */
#include "stack_fixture.h"

#include <errno.h>

#include <arpa/inet.h>

#include "bpf/steer.h"
#include "core/stack.h"
#include "net/filter.h"

static struct filter_rule rule(const char *s)
{
	struct filter_rule r;
	struct filter_err e;

	if (filter_rule_parse(s, strlen(s), &r, &e) != 1)
		fail_msg("rule did not parse: %s", s);
	return r;
}

static struct filter_pkt pkt_in(uint8_t proto, uint32_t src, uint16_t sport, uint16_t dport,
				uint8_t flags)
{
	struct filter_pkt p = {.dir = FILTER_DIR_IN,
			       .proto = proto,
			       .has_l4 = proto != 1,
			       .tcp_flags = flags,
			       .src = src,
			       .dst = OUR_IP,
			       .sport = sport,
			       .dport = dport,
			       .len = 100};
	return p;
}

static void test_table_edit(void **state)
{
	struct filter_table t;
	struct filter_rule r = rule("drop udp dport 1"), r2 = rule("accept tcp");
	unsigned i;

	(void)state;
	filter_table_init(&t);
	assert_int_equal(filter_table_insert(&t, 1, &r), -ERANGE);
	assert_int_equal(filter_table_insert(&t, 0, &r), 0);
	assert_int_equal(filter_table_insert(&t, 0, &r2), 0); /* before */
	assert_int_equal(t.n, 2);
	assert_int_equal(t.rule[0].proto, 6);
	assert_int_equal(t.rule[1].proto, 17);
	assert_int_equal(filter_table_del(&t, 2), -ERANGE);
	assert_int_equal(filter_table_del(&t, 0), 0);
	assert_int_equal(t.rule[0].proto, 17);
	for (i = 1; i < FILTER_MAX_RULES; i++)
		assert_int_equal(filter_table_insert(&t, t.n, &r2), 0);
	assert_int_equal(filter_table_insert(&t, t.n, &r2), -ENOSPC);
	assert_int_equal(t.n, FILTER_MAX_RULES);
	filter_table_flush(&t);
	assert_int_equal(t.n, 0);
	assert_int_equal(filter_table_set_policy(&t, FILTER_DIR_IN, FILTER_REJECT), -EINVAL);
	assert_int_equal(filter_table_set_policy(&t, 3, FILTER_DROP), -EINVAL);
	assert_int_equal(filter_table_set_policy(&t, FILTER_DIR_OUT, FILTER_DROP), 0);
	assert_int_equal(t.policy[1], FILTER_DROP);
	assert_int_equal(t.policy[0], FILTER_ACCEPT);
}

static void test_table_load_all_or_nothing(void **state)
{
	static const char good[] = "# web only\naccept in tcp dport 80\n\n"
				   "drop in udp  # the rest of UDP\nreject in tcp";
	static const char bad[] = "accept in icmp\ndrop in udp dport 99999\n";
	struct filter_table t;
	struct filter_err e;
	char msg[256], *big;
	size_t i;

	(void)state;
	filter_table_init(&t);
	assert_int_equal(filter_table_load(&t, good, strlen(good), &e), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.rule[2].action, FILTER_REJECT);
	t.cnt[0].pkts = 5;
	assert_int_equal(filter_table_load(&t, bad, strlen(bad), &e), -EINVAL);
	filter_err_format(&e, msg, sizeof(msg));
	assert_string_equal(msg, "line 2: dport: expected a port or range P[-P] (0-65535, "
				 "low <= high), got '99999'");
	/* The set in force did not change, counters included. */
	assert_int_equal(t.n, 3);
	assert_int_equal(t.rule[0].dport_lo, 80);
	assert_int_equal(t.cnt[0].pkts, 5);
	/* One rule past the limit: refused whole. */
	big = malloc((FILTER_MAX_RULES + 1) * 8);
	assert_non_null(big);
	for (i = 0; i <= FILTER_MAX_RULES; i++)
		memcpy(big + i * 8, "drop in\n", 8);
	assert_int_equal(filter_table_load(&t, big, (FILTER_MAX_RULES + 1) * 8, &e), -ENOSPC);
	assert_int_equal(e.line, FILTER_MAX_RULES + 1);
	assert_int_equal(t.n, 3);
	assert_int_equal(filter_table_load(&t, big, FILTER_MAX_RULES * 8, &e), 0);
	assert_int_equal(t.n, FILTER_MAX_RULES);
	free(big);
}

static void test_eval_order_and_counters(void **state)
{
	struct filter_table t;
	struct filter_pkt p;
	int idx;

	(void)state;
	filter_table_init(&t);
	t.rule[0] = rule("accept in tcp src 10.0.0.2 dport 22");
	t.rule[1] = rule("drop in tcp dport 1-1024");
	t.rule[2] = rule("reject in tcp tcp-flags syn,!ack");
	t.rule[3] = rule("drop out");
	t.n = 4;
	p = pkt_in(6, PEER_IP, 5000, 22, 0x02);
	assert_int_equal(filter_table_eval(&t, &p, 0, &idx), FILTER_ACCEPT);
	assert_int_equal(idx, 0);
	p.src = PEER2_IP; /* same port, another host: the second rule */
	assert_int_equal(filter_table_eval(&t, &p, 0, &idx), FILTER_DROP);
	assert_int_equal(idx, 1);
	p.dport = 1025; /* past the range: the flags decide */
	assert_int_equal(filter_table_eval(&t, &p, 0, &idx), FILTER_REJECT);
	assert_int_equal(idx, 2);
	p.tcp_flags = 0x12; /* SYN-ACK: no rule, the in policy */
	assert_int_equal(filter_table_eval(&t, &p, 0, &idx), FILTER_ACCEPT);
	assert_int_equal(idx, -1);
	p.dir = FILTER_DIR_OUT;
	assert_int_equal(filter_table_eval(&t, &p, 0, &idx), FILTER_DROP);
	assert_int_equal(idx, 3);
	/* Not the first fragment: a rule naming ports does not match. */
	p = pkt_in(6, PEER2_IP, 0, 0, 0);
	p.has_l4 = false;
	assert_int_equal(filter_table_eval(&t, &p, 0, &idx), FILTER_ACCEPT);
	assert_int_equal(idx, -1);
	assert_int_equal(t.cnt[0].pkts, 1);
	assert_int_equal(t.cnt[1].pkts, 1);
	assert_int_equal(t.cnt[1].bytes, 100);
	assert_int_equal(t.cnt[2].pkts, 1);
	assert_int_equal(t.cnt[3].pkts, 1);
	assert_int_equal(t.policy_cnt[0].pkts, 2);
	assert_int_equal(t.policy_cnt[0].bytes, 200);
}

/* A rate rule matches while its bucket has tokens; the excess falls through. */
static void test_eval_rate(void **state)
{
	struct filter_table t;
	struct filter_rule r = rule("accept in udp rate 10/s burst 3");
	struct filter_pkt p = pkt_in(17, PEER_IP, 1, 2, 0);
	xs_time_t now = XS_SEC(5);
	int idx, i, passed = 0;

	(void)state;
	filter_table_init(&t);
	filter_table_set_policy(&t, FILTER_DIR_IN, FILTER_DROP);
	assert_int_equal(filter_table_insert(&t, 0, &r), 0);
	for (i = 0; i < 5; i++)
		passed += filter_table_eval(&t, &p, now, &idx) == FILTER_ACCEPT;
	assert_int_equal(passed, 3); /* the burst */
	now += XS_MS(99);
	assert_int_equal(filter_table_eval(&t, &p, now, &idx), FILTER_DROP);
	now += XS_MS(1); /* 100 ms: one token */
	assert_int_equal(filter_table_eval(&t, &p, now, &idx), FILTER_ACCEPT);
	assert_int_equal(filter_table_eval(&t, &p, now, &idx), FILTER_DROP);
	/* Ten seconds at 1 kHz: about 10/s pass (100, plus the burst). */
	passed = 0;
	for (i = 0; i < 10000; i++) {
		now += XS_MS(1);
		passed += filter_table_eval(&t, &p, now, &idx) == FILTER_ACCEPT;
	}
	assert_true(passed >= 100 && passed <= 103);
	/* An hour idle refills to the burst, not beyond (no overflow). */
	now += XS_SEC(3600);
	passed = 0;
	for (i = 0; i < 10; i++)
		passed += filter_table_eval(&t, &p, now, &idx) == FILTER_ACCEPT;
	assert_int_equal(passed, 3);
}

static void stack_rules(struct fx *fx, const char *text)
{
	struct filter_err e;

	assert_int_equal(filter_table_load(&fx->st->filter, text, strlen(text), &e), 0);
}

static void test_stack_drop_ping(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], d[8] = {0};
	size_t n;

	learn_peer(fx, peer_mac, PEER_IP);
	stack_rules(fx, "drop in icmp src 10.0.0.2\n");
	inject(fx, f, mk_echo(f, PEER_IP, OUR_IP, 7, 1, d, sizeof(d)));
	fx_poll(fx, fx->now + XS_MS(1));
	expect_nothing_sent(fx, "dropped ping");
	expect_drops(fx, XS_DROP_FILTER_IN, 1, "dropped ping");
	assert_int_equal(fx->st->filter.cnt[0].pkts, 1);
	assert_int_equal(fx->st->filter.cnt[0].bytes, 20 + 8 + 8);
	/* Another source is not matched: answered. */
	learn_peer(fx, peer2_mac, PEER2_IP);
	inject(fx, f, mk_echo(f, PEER2_IP, OUR_IP, 7, 1, d, sizeof(d)));
	fx_poll(fx, fx->now + XS_MS(1));
	n = take(fx, f);
	assert_true(n > 0);
	assert_int_equal(get32(f + ETH_LEN + 16), PEER2_IP);
	expect_drops(fx, XS_DROP_NONE, 0, "allowed ping");
}

static void test_stack_reject_udp(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], out[FRAME_MAX];
	size_t n, m;

	learn_peer(fx, peer_mac, PEER_IP);
	stack_rules(fx, "reject in udp dport 5000-5010\n");
	n = mk_udp(f, PEER_IP, 40000, OUR_IP, 5005, "hi", 2);
	inject(fx, f, n);
	fx_poll(fx, fx->now + XS_MS(1));
	m = take(fx, out);
	check_icmp_error(out, m, peer_mac, PEER_IP, 3, 3, f + ETH_LEN, 20 + 8 + 2);
	expect_drops(fx, XS_DROP_FILTER_REJECT, 1, "rejected");
	assert_int_equal(fx->st->filter.cnt[0].pkts, 1);
}

/* reject's port unreachable goes through the ICMP error bucket (--icmp-rate). */
static void test_stack_reject_rate_limited(void **state)
{
	struct fx *fx = *state;
	struct xs_config cfg = {.ip = OUR_IP, .icmp_rate = 2, .icmp_burst = 3};
	uint8_t f[FRAME_MAX];
	unsigned i, sent = 0;
	const struct xs_stats *s;

	fx_restart(fx, &cfg, 1500, 64, true);
	learn_peer(fx, peer_mac, PEER_IP);
	stack_rules(fx, "reject in udp\n");
	for (i = 0; i < 10; i++)
		inject(fx, f, mk_udp(f, PEER_IP, 40000, OUR_IP, (uint16_t)(6000 + i), "x", 1));
	fx_poll(fx, fx->now + XS_MS(1));
	while (take(fx, f))
		sent++;
	s = xs_stack_stats(fx->st);
	assert_int_equal(sent, 3); /* the burst */
	assert_int_equal(s->drop[XS_DROP_FILTER_REJECT] - fx->drops[XS_DROP_FILTER_REJECT], 10);
	assert_int_equal(s->drop[XS_DROP_ICMP_RATE] - fx->drops[XS_DROP_ICMP_RATE], 10 - sent);
	assert_int_equal(fx->st->filter.cnt[0].pkts, 10);
}

/* The TCP checksum over the IPv4 header's pseudo header. */
static size_t mk_syn(uint8_t *b, uint32_t src, uint16_t sport, uint16_t dport, uint32_t seq)
{
	uint8_t *l4 = b + L4_OFF, ph[12];
	size_t len;

	memset(l4, 0, 20);
	put16(l4, sport);
	put16(l4 + 2, dport);
	put32(l4 + 4, seq);
	l4[12] = 5 << 4;
	l4[13] = 0x02;
	put16(l4 + 14, 65535);
	len = mk_ip(b, our_mac, src, OUR_IP, 6, 20);
	memcpy(ph, b + ETH_LEN + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, 20);
	put16(l4 + 16, sum_fold(sum_add(sum_add(0, ph, 12), l4, 20)));
	return len;
}

static void test_stack_reject_tcp(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], out[FRAME_MAX];
	const uint8_t *t;
	size_t m, l4len;

	learn_peer(fx, peer_mac, PEER_IP);
	assert_true(xs_tcp_listen(fx->st, 8080, 4).id >= 0);
	stack_rules(fx, "reject in tcp dport 8080 tcp-flags syn,!ack\n");
	inject(fx, f, mk_syn(f, PEER_IP, 41000, 8080, 1000));
	fx_poll(fx, fx->now + XS_MS(1));
	m = take(fx, out);
	t = check_ip_out(out, m, peer_mac, PEER_IP, 6, &l4len);
	/* RFC 9293 3.10.7.1: RST,ACK acking the SYN, from the port it was sent to. */
	assert_int_equal(get16(t), 8080);
	assert_int_equal(get16(t + 2), 41000);
	assert_int_equal(t[13], 0x14);
	assert_int_equal(get32(t + 8), 1001);
	expect_nothing_sent(fx, "one RST");
	expect_drops(fx, XS_DROP_FILTER_REJECT, 1, "rejected SYN");
	/* Without the rule the listener answers SYN-ACK. */
	filter_table_flush(&fx->st->filter);
	inject(fx, f, mk_syn(f, PEER_IP, 41001, 8080, 2000));
	fx_poll(fx, fx->now + XS_MS(1));
	m = take(fx, out);
	t = check_ip_out(out, m, peer_mac, PEER_IP, 6, &l4len);
	assert_int_equal(t[13], 0x12);
}

/* Only the reassembled datagram is judged: a fragmented datagram to a dropped
 * port is dropped whole (no port unreachable), ports known from the first. */
static void test_stack_fragments(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX], dg[64];
	size_t n;

	learn_peer(fx, peer_mac, PEER_IP);
	stack_rules(fx, "drop in udp dport 9999\n");
	memset(dg, 'x', sizeof(dg));
	put16(dg, 1234);
	put16(dg + 2, 9999);
	put16(dg + 4, sizeof(dg));
	put16(dg + 6, 0);
	/* The second fragment first: ports unknown until reassembly. */
	n = mk_frag(f, PEER_IP, 17, 77, 20, 32, false, dg + 32, 32);
	inject(fx, f, n);
	n = mk_frag(f, PEER_IP, 17, 77, 20, 0, true, dg, 32);
	inject(fx, f, n);
	fx_poll(fx, fx->now + XS_MS(1));
	expect_nothing_sent(fx, "fragments dropped");
	expect_drops(fx, XS_DROP_FILTER_IN, 1, "fragmented datagram");
	assert_int_equal(fx->st->filter.cnt[0].pkts, 1);
	assert_int_equal(fx->st->filter.cnt[0].bytes, 20 + sizeof(dg));
}

static void test_stack_out(void **state)
{
	struct fx *fx = *state;
	uint8_t f[FRAME_MAX];
	size_t n;
	struct xs_udp h;

	learn_peer(fx, peer_mac, PEER_IP);
	stack_rules(fx, "drop out udp dst 10.0.0.2 dport 53\n");
	h = xs_udp_open(fx->st);
	assert_true(h.id >= 0);
	assert_int_equal(xs_udp_sendto(fx->st, h, "q", 1, PEER_IP, 53), -EPERM);
	fx_poll(fx, fx->now + XS_MS(1));
	expect_nothing_sent(fx, "outbound drop");
	expect_drops(fx, XS_DROP_FILTER_OUT, 1, "outbound drop");
	assert_int_equal(xs_udp_sendto(fx->st, h, "q", 1, PEER_IP, 54), 1);
	fx_poll(fx, fx->now + XS_MS(1));
	n = take(fx, f);
	assert_true(n > 0);
	/* The datagram to port 54 was the out policy's (accept). */
	assert_int_equal(fx->st->filter.policy_cnt[1].pkts, 1);
	assert_int_equal(fx->st->filter.policy_cnt[1].bytes, 20 + 8 + 1);
	/* Out policy drop: the same datagram is refused, counted there. */
	filter_table_flush(&fx->st->filter);
	filter_table_set_policy(&fx->st->filter, FILTER_DIR_OUT, FILTER_DROP);
	assert_int_equal(xs_udp_sendto(fx->st, h, "q", 1, PEER_IP, 54), -EPERM);
	assert_int_equal(fx->st->filter.policy_cnt[1].pkts, 2);
	expect_drops(fx, XS_DROP_FILTER_OUT, 1, "out policy");
	assert_int_equal(xs_udp_close(fx->st, h), 0);
}

/* The compiler: inbound rules only, in order, with their stack position,
 * id (kept across edits), rate and the table's tag. */
static void test_compile_xdp(void **state)
{
	struct filter_table t;
	struct xs_steer_table x;
	struct filter_rule r = rule("accept in udp dport 7 rate 50/s burst 9");
	struct filter_err e;
	const char *text = "drop out udp\n"
			   "drop in tcp src 10.0.0.0/8 dport 20-21\n"
			   "reject in udp\n"
			   "drop in icmp rate 5/s\n";
	uint32_t id;

	(void)state;
	filter_table_init(&t);
	assert_int_equal(filter_table_load(&t, text, strlen(text), &e), 0);
	filter_table_set_policy(&t, FILTER_DIR_IN, FILTER_DROP);
	filter_table_compile_xdp(&t, &x);
	assert_int_equal(x.n, 3);
	assert_int_equal(x.policy_drop, 1);
	assert_int_equal(x.tag, t.gen);
	assert_int_equal(x.r[0].idx, 1);
	assert_int_equal(x.r[0].action, XS_STEER_ACT_DROP);
	assert_int_equal(x.r[0].need_l4, 1);
	assert_int_equal(x.r[0].src, htonl(0x0a000000));
	assert_int_equal(x.r[0].src_mask, htonl(0xff000000));
	assert_int_equal(x.r[0].dport_lo, 20);
	assert_int_equal(x.r[0].dport_hi, 21);
	assert_int_equal(x.r[1].idx, 2);
	assert_int_equal(x.r[1].action, XS_STEER_ACT_STACK);
	assert_int_equal(x.r[1].need_l4, 0);
	assert_int_equal(x.r[2].action, XS_STEER_ACT_DROP); /* a rate drop too */
	assert_int_equal(x.r[2].rate, 5);
	assert_int_equal(x.r[2].burst, 5);
	id = x.r[2].id;
	/* A rule in front: positions move, ids stay, the tag changes. */
	assert_int_equal(filter_table_insert(&t, 0, &r), 0);
	filter_table_compile_xdp(&t, &x);
	assert_int_equal(x.n, 4);
	assert_int_equal(x.tag, t.gen);
	assert_int_equal(x.r[0].rate, 50);
	assert_int_equal(x.r[0].burst, 9);
	assert_int_equal(x.r[3].idx, 4);
	assert_int_equal(x.r[3].id, id);
	assert_true(x.r[0].id != id);
}

/* A verdict the XDP program stamped on the frame (xs_frame.meta): carried
 * out without the stack's bucket while its tag is the table's; a stale one
 * (the table changed since) is ignored and the stack judges itself. */
static uint64_t verdict(uint32_t tag, uint8_t v, uint8_t rule_pos)
{
	struct xs_steer_meta m = {
	    .tag = tag, .magic = XS_STEER_META_MAGIC, .verdict = v, .rule = rule_pos};
	uint64_t u;

	memcpy(&u, &m, sizeof(u));
	return u;
}

static void test_stack_xdp_verdict(void **state)
{
	struct fx *fx = *state;
	struct filter_table *t = &fx->st->filter;
	uint8_t f[FRAME_MAX], out[FRAME_MAX];
	size_t n, m;
	int i;

	learn_peer(fx, peer_mac, PEER_IP);
	stack_rules(fx, "accept in udp dport 7 rate 1/s burst 1\nreject in udp dport 7\n");
	n = mk_udp(f, PEER_IP, 40000, OUR_IP, 7, "hi", 2);
	/* XDP took a token for rule 1 (position 0), three times: accepted
	 * each time (no socket on 7: the stack's port unreachable follows,
	 * not the filter's reject), the stack's own bucket untouched. */
	for (i = 0; i < 3; i++)
		assert_int_equal(mem_dev_inject_meta(fx->dev, f, n, verdict(t->gen, 1, 0)), 0);
	fx_poll(fx, fx->now + XS_MS(1));
	while (take(fx, out))
		;
	assert_int_equal(t->cnt[0].pkts, 3);
	assert_int_equal(t->cnt[1].pkts, 0);
	assert_int_equal(t->limited[0], 0);
	assert_int_equal(xs_stack_stats(fx->st)->drop[XS_DROP_FILTER_REJECT], 0);
	/* XDP decided rule 2 (reject): the stack answers. */
	assert_int_equal(mem_dev_inject_meta(fx->dev, f, n, verdict(t->gen, 1, 1)), 0);
	fx_poll(fx, fx->now + XS_MS(1));
	m = take(fx, out);
	check_icmp_error(out, m, peer_mac, PEER_IP, 3, 3, f + ETH_LEN, 20 + 8 + 2);
	assert_int_equal(t->cnt[1].pkts, 1);
	/* A stale tag: the stack judges with its own bucket (one token). */
	assert_int_equal(mem_dev_inject_meta(fx->dev, f, n, verdict(t->gen - 1, 1, 0)), 0);
	assert_int_equal(mem_dev_inject_meta(fx->dev, f, n, verdict(t->gen + 1, 1, 0)), 0);
	fx_poll(fx, fx->now + XS_MS(1));
	while (take(fx, out))
		;
	assert_int_equal(t->cnt[0].pkts, 4);
	assert_int_equal(t->limited[0], 1);
	assert_int_equal(t->cnt[1].pkts, 2);
	/* The policy's verdict; and a rule position past the table: ignored. */
	assert_int_equal(mem_dev_inject_meta(fx->dev, f, n, verdict(t->gen, 2, 0)), 0);
	assert_int_equal(mem_dev_inject_meta(fx->dev, f, n, verdict(t->gen, 1, 9)), 0);
	fx_poll(fx, fx->now + XS_MS(1));
	while (take(fx, out))
		;
	assert_int_equal(t->policy_cnt[0].pkts, 1);
	/* Judged here: rule 1's bucket is still empty, rule 2 rejects. */
	assert_int_equal(t->cnt[0].pkts, 4);
	assert_int_equal(t->limited[0], 2);
	assert_int_equal(t->cnt[1].pkts, 3);
}

/* A verdict on a fragment is never used: the whole datagram is judged. */
static void test_stack_verdict_not_for_fragments(void **state)
{
	struct fx *fx = *state;
	struct filter_table *t = &fx->st->filter;
	uint8_t f[FRAME_MAX], dg[64];
	size_t n;

	learn_peer(fx, peer_mac, PEER_IP);
	stack_rules(fx, "accept in udp dport 1-100\ndrop in udp\n");
	memset(dg, 'x', sizeof(dg));
	put16(dg, 1234);
	put16(dg + 2, 9999);
	put16(dg + 4, sizeof(dg));
	put16(dg + 6, 0);
	/* Even a verdict "rule 1 (accept)" on both fragments. */
	n = mk_frag(f, PEER_IP, 17, 78, 20, 0, true, dg, 32);
	assert_int_equal(mem_dev_inject_meta(fx->dev, f, n, verdict(t->gen, 1, 0)), 0);
	n = mk_frag(f, PEER_IP, 17, 78, 20, 32, false, dg + 32, 32);
	assert_int_equal(mem_dev_inject_meta(fx->dev, f, n, verdict(t->gen, 1, 0)), 0);
	fx_poll(fx, fx->now + XS_MS(1));
	expect_nothing_sent(fx, "fragments dropped");
	expect_drops(fx, XS_DROP_FILTER_IN, 1, "fragmented datagram");
	assert_int_equal(t->cnt[0].pkts, 0);
	assert_int_equal(t->cnt[1].pkts, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_edit),
	    cmocka_unit_test(test_table_load_all_or_nothing),
	    cmocka_unit_test(test_eval_order_and_counters),
	    cmocka_unit_test(test_eval_rate),
	    T(test_stack_drop_ping),
	    T(test_stack_reject_udp),
	    T(test_stack_reject_tcp),
	    T(test_stack_reject_rate_limited),
	    T(test_stack_fragments),
	    T(test_stack_out),
	    cmocka_unit_test(test_compile_xdp),
	    T(test_stack_xdp_verdict),
	    T(test_stack_verdict_not_for_fragments),
	};
#undef T
	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
